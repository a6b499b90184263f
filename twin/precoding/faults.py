"""A test hook that makes every k-th solve fail, to prove the loop survives solver faults.

Scenario keys ``twin.fault_every_k_solves`` (0 = off) and ``twin.fault_mode`` wrap the chosen
policy in :class:`FaultInjector`: ``raise`` makes the k-th, 2k-th … solve raise; ``timeout`` makes it
report an infinite wall time, which the core-cloud twin treats as exceeding any time budget.
"""

from __future__ import annotations

import dataclasses
import math

from twin.precoding.base import Precoder, PrecodingProblem, PrecodingResult

FAULT_MODES = ("raise", "timeout")


class InjectedFault(RuntimeError):
    """The exception an injected ``raise`` fault throws."""


class FaultInjector:
    """Wraps a policy; every ``every_k``-th call fails in the given ``mode`` (deterministic)."""

    def __init__(self, inner: Precoder, every_k: int, mode: str) -> None:
        if every_k < 1:
            raise ValueError(f"every_k must be >= 1, got {every_k}")
        if mode not in FAULT_MODES:
            raise ValueError(f"mode must be one of {FAULT_MODES}, got {mode!r}")
        self.inner = inner
        self.name = inner.name
        self.every_k = every_k
        self.mode = mode
        self.calls = 0

    def solve(self, problem: PrecodingProblem) -> PrecodingResult:
        self.calls += 1
        if self.calls % self.every_k:
            return self.inner.solve(problem)
        if self.mode == "raise":
            raise InjectedFault(f"injected fault on solve {self.calls}")
        return dataclasses.replace(self.inner.solve(problem), wall_s=math.inf, message=f"injected timeout on solve {self.calls}")
