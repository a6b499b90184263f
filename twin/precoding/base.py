"""The seam every precoding policy plugs into: a problem in, a decision plus a solve record out.

Solvers here are pure (no SimPy): inputs are arrays and dataclasses, outputs are precoders and the
record the core-cloud twin logs (method, status, objective, iterations, timings).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Protocol

import numpy as np

from physical.secrecy import CHANNEL_NAMES, SERVED_USER, TRANSMITTER_PREFIX, ChannelSet, SecrecyRates, secrecy_rates

#: solve finished and its decision can be used
STATUS_OK = "ok"
#: the solver returned, but the decision failed a safeguard; a fallback should be used
STATUS_INACCURATE = "inaccurate"
#: the solver raised or returned nothing usable
STATUS_FAILED = "failed"


@dataclass(frozen=True)
class PrecodingProblem:
    """Inputs of one precoding decision (Yin et al. problem P1, eq. 20).

    Args:
        channels: noise-normalised channels on which the decision is designed; Eve's entries are
            the transmitters' estimates ĥ_e, â_e, ĝ_e (with a predicting twin: the predicted means).
        p_s_w, p_u_w, p_b_w: satellite, UAV and base-station power limits (W).
        eve_error_bound: Δ, the relative norm bound ‖Δh_e‖ ≤ Δ·‖ĥ_e‖ robust designs may use (–).
        second_moments: channel name (``h_su`` … ``g_e``) → E[h·hᴴ] = m·mᴴ + C over the time the
            decision will be in force (noise units); statistical designs use these, the others
            ignore them. None: the channels are taken as exact (R = h·hᴴ).
        warm_start: precoders (w, f, v) to consider as a starting point (e.g. the decision in force);
            iterative designs add it to their starts, the closed forms ignore it.
    """

    channels: ChannelSet
    p_s_w: float
    p_u_w: float
    p_b_w: float
    eve_error_bound: float = 0.0
    second_moments: Mapping[str, np.ndarray] | None = None
    warm_start: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def __post_init__(self) -> None:
        for name in ("p_s_w", "p_u_w", "p_b_w"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite power >= 0 W, got {value}")
        if not 0.0 <= self.eve_error_bound < 1.0:
            raise ValueError(f"eve_error_bound must be in [0, 1), got {self.eve_error_bound}")
        if self.second_moments is not None:
            missing = [n for n in CHANNEL_NAMES if n not in self.second_moments]
            if missing:
                raise ValueError(f"second_moments lacks {', '.join(missing)}")

    @property
    def limits_w(self) -> np.ndarray:
        """Power limits (P_S, P_U, P_B) (W)."""
        return np.array([self.p_s_w, self.p_u_w, self.p_b_w])

    def moment(self, name: str) -> np.ndarray:
        """E[h·hᴴ] of channel ``name`` (the outer product of the design channel without second moments)."""
        if self.second_moments is not None:
            return np.asarray(self.second_moments[name], dtype=complex)
        h = getattr(self.channels, name)
        return np.outer(h, h.conj())

    @property
    def served(self) -> tuple[str, ...]:
        """Users that can be served: their transmitter has power and reaches them (mean or spread)."""
        out = []
        for (tx, user), limit in zip(SERVED_USER.items(), self.limits_w):
            name = f"{TRANSMITTER_PREFIX[tx]}_{user}"
            reach = np.any(getattr(self.channels, name) != 0)
            if self.second_moments is not None:
                reach = reach or float(np.trace(self.second_moments[name]).real) > 0
            if limit > 0 and reach:
                out.append(user)
        return tuple(out)


@dataclass(frozen=True)
class PrecodingResult:
    """A precoding decision and its solve record.

    Args:
        method: policy name (``mrt``, ``zf``, ``synergy`` …).
        status: ``ok``, ``inaccurate`` or ``failed`` (module constants).
        w, f, v: satellite, UAV and base-station precoders (sqrt(W); ‖w‖² ≤ P_S etc.).
        planned: secrecy rates the decision achieves on the design channels (bit/s/Hz).
        iterations: solver iterations (SCA outer iterations; 0 for closed forms).
        objective_history: φ per iteration (bit/s/Hz).
        eigen_ratios: λ1/λ2 of the lifted matrices (rank-one check; inf for closed forms).
        solve_s: time spent inside numerical solvers (s, wall clock).
        wall_s: total wall time of the decision (s).
        message: free text explaining a non-ok status.
    """

    method: str
    status: str
    w: np.ndarray
    f: np.ndarray
    v: np.ndarray
    planned: SecrecyRates
    iterations: int = 0
    objective_history: tuple[float, ...] = ()
    eigen_ratios: tuple[float, float, float] = (float("inf"),) * 3
    solve_s: float = 0.0
    wall_s: float = 0.0
    message: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def objective(self) -> float:
        """Planned minimum secrecy rate (bit/s/Hz) on the design channels."""
        return self.planned.min_rate


class Precoder(Protocol):
    """Anything with a name and ``solve(problem) -> PrecodingResult``."""

    name: str

    def solve(self, problem: PrecodingProblem) -> PrecodingResult: ...


def evaluate(problem: PrecodingProblem, w: np.ndarray, f: np.ndarray, v: np.ndarray) -> SecrecyRates:
    """Secrecy rates of precoders (w, f, v) on the problem's design channels (bit/s/Hz), min over served users."""
    return secrecy_rates(problem.channels, w, f, v, served=problem.served)
