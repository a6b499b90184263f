"""Key demand of the QKD requests: a random log-normal model or a recorded trace.

Both produce the same thing: a time-ordered sequence of ``DemandChange`` (from ``t_s`` on, these
requests ask for these rates), which the QKD network applies at exactly those times.

Random model: request f's rate is piecewise constant, re-drawn every ``hold_s`` from a log-normal
distribution with mean m_f and coefficient of variation cv, i.e. ln k ~ N(μ, σ²) with
σ² = ln(1 + cv²) and μ = ln m_f − σ²/2 (so E[k] = m_f and sd[k] = cv·m_f).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, Mapping, Sequence

import numpy as np


@dataclass(frozen=True)
class DemandChange:
    """From ``t_s`` (s) on, each request in ``rates_bps`` asks for that key rate (bit/s)."""

    t_s: float
    rates_bps: dict[str, float]


def lognormal_parameters(mean: float, cv: float) -> tuple[float, float]:
    """(μ, σ) of ln k for a log-normal k with mean ``mean`` > 0 and coefficient of variation ``cv`` ≥ 0."""
    sigma2 = math.log1p(cv * cv)
    return math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2)


def sample_lognormal(mean: float, cv: float, rng: np.random.Generator, size: int | None = None):
    """Log-normal draw(s) with the given mean and coefficient of variation; exactly ``mean`` if cv or mean is 0."""
    if mean <= 0.0 or cv <= 0.0:
        return float(mean) if size is None else np.full(size, float(mean))
    mu, sigma = lognormal_parameters(mean, cv)
    return rng.lognormal(mu, sigma, size)


class RandomDemand:
    """Each request's rate re-drawn every ``hold_s`` (s) from the log-normal model (module docstring).

    Args:
        mean_bps: request → mean rate (bit/s). cv: coefficient of variation (–).
        hold_s: re-draw period (s). rng: the component's seeded generator.
    """

    def __init__(self, mean_bps: Mapping[str, float], cv: float, hold_s: float, rng: np.random.Generator) -> None:
        self.mean_bps = dict(mean_bps)
        self.cv = cv
        self.hold_s = hold_s
        self._rng = rng

    def changes(self) -> Iterator[DemandChange]:
        k = 0
        while True:
            yield DemandChange(k * self.hold_s, {name: float(sample_lognormal(mean, self.cv, self._rng))
                                                 for name, mean in self.mean_bps.items()})
            k += 1


class DemandTrace:
    """Replays a recorded key-demand trace; a request has rate 0 until its first record.

    Args:
        records: (t_s, request name, rate_bps) in non-decreasing time order.
        requests: every request name (all start at 0 bit/s).
    """

    def __init__(self, records: Sequence[tuple[float, str, float]], requests: Sequence[str]) -> None:
        self.records = tuple(records)
        self.requests = tuple(requests)

    def changes(self) -> Iterator[DemandChange]:
        groups: dict[float, dict[str, float]] = {0.0: {name: 0.0 for name in self.requests}}
        for t_s, name, rate in self.records:
            groups.setdefault(t_s, {})[name] = rate
        for t_s in sorted(groups):
            yield DemandChange(t_s, groups[t_s])
