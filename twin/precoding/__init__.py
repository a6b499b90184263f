"""Precoding policies of the core-cloud twin (pure solvers, no SimPy).

``PRECODERS`` maps a scenario's ``[twin] precoding`` name to a factory. New policies (synergy SCA,
ZF, power-optimised baselines) register here.
"""

from __future__ import annotations

from typing import Callable

from twin.precoding.base import (
    STATUS_FAILED,
    STATUS_INACCURATE,
    STATUS_OK,
    Precoder,
    PrecodingProblem,
    PrecodingResult,
)
from twin.precoding.mrt import MrtFullPower

PRECODERS: dict[str, Callable[[], Precoder]] = {
    "mrt-full": MrtFullPower,
}

__all__ = [
    "PRECODERS", "Precoder", "PrecodingProblem", "PrecodingResult",
    "STATUS_OK", "STATUS_INACCURATE", "STATUS_FAILED", "MrtFullPower",
]
