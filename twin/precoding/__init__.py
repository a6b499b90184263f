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
from twin.precoding.baselines import PowerOptimisedBaseline
from twin.precoding.mrt import MrtFullPower
from twin.precoding.slnr import StatisticalSlnr
from twin.precoding.synergy import SynergyPrecoder

PRECODERS: dict[str, Callable[[], Precoder]] = {
    "mrt-full": MrtFullPower,
    "mrt": lambda: PowerOptimisedBaseline("mrt"),
    "zf": lambda: PowerOptimisedBaseline("zf"),
    "zf-all": lambda: PowerOptimisedBaseline("zf-all"),
    # problem P1 solved over the precoding vectors (SQP; issue 15): the lifted SDP's rate or better, 7-60x faster at N >= 8
    "synergy": lambda: SynergyPrecoder(solver="vector"),
    "synergy-sdp": SynergyPrecoder,  # Algorithm 1 over the lifted matrices: the paper's method, the reference
    # single-start robust SCA stalls at its start on most draws (measured: below nominal on truth)
    "synergy-robust": lambda: SynergyPrecoder(robust=True, multi_start=True),
    # designs on the twin's forecast statistics R = m·mᴴ + C (shared/DESIGN.md section 8.1)
    "synergy-stat": lambda: SynergyPrecoder(statistical=True, solver="vector"),
    # ε = 0.01 bit/s/Hz: half the SCA iterations of 1e-3 for ≈ 1 % of the rate (measured in the loop)
    "synergy-stat-sdp": lambda: SynergyPrecoder(statistical=True, epsilon=0.01),
    "slnr-stat": StatisticalSlnr,
}

__all__ = [
    "PRECODERS", "Precoder", "PrecodingProblem", "PrecodingResult",
    "STATUS_OK", "STATUS_INACCURATE", "STATUS_FAILED", "MrtFullPower",
    "PowerOptimisedBaseline", "StatisticalSlnr", "SynergyPrecoder",
]
