"""The seam every precoding policy plugs into: a problem in, a decision plus a solve record out.

Solvers here are pure (no SimPy): inputs are arrays and dataclasses, outputs are precoders and the
record the core-cloud twin logs (method, status, objective, iterations, timings). Problems and
results are general (T transmitters, K users, E Eves; issue 13); the paper's named forms
(a :class:`ChannelSet`, limits ``p_s_w, p_u_w, p_b_w``, precoders ``w, f, v``) are thin adapters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Protocol

import numpy as np

from physical.channel_matrix import CHANNEL_PAIRS, PAPER_TRANSMITTERS, USERS, ChannelMatrix, ChannelSet, Topology
from physical.secrecy import SecrecyRates, secrecy_rates_of

#: solve finished and its decision can be used
STATUS_OK = "ok"
#: the solver returned, but the decision failed a safeguard; a fallback should be used
STATUS_INACCURATE = "inaccurate"
#: the solver raised or returned nothing usable
STATUS_FAILED = "failed"


@dataclass(frozen=True)
class PrecodingProblem:
    """Inputs of one precoding decision (Yin et al. problem P1, eq. 20, for any topology).

    The paper's form (a :class:`ChannelSet`, ``p_s_w, p_u_w, p_b_w``, second moments keyed by channel
    name ``h_su`` … ``g_e`` and a warm start ``(w, f, v)``) is :meth:`paper`.

    Args:
        matrix: noise-normalised channels the decision is designed on; Eve's entries are the
            transmitters' estimates (with a predicting twin: the predicted means).
        power_limits_w: transmitter → power limit P_t (W); its users share it.
        eve_error_bound: Δ, the relative norm bound ‖Δh_e‖ ≤ Δ·‖ĥ_e‖ robust designs may use (–),
            per (transmitter, Eve).
        second_moments: (transmitter, receiver) → E[h·hᴴ] = m·mᴴ + C over the time the decision
            will be in force (noise units); statistical designs use these, the others ignore them.
            None: the channels are taken as exact (R = h·hᴴ).
        warm_start: user → precoder to consider as a starting point (e.g. the decision in force);
            iterative designs add it to their starts, the closed forms ignore it.
    """

    matrix: ChannelMatrix
    power_limits_w: Mapping[str, float]
    eve_error_bound: float = 0.0
    second_moments: Mapping[tuple[str, str], np.ndarray] | None = None
    warm_start: Mapping[str, np.ndarray] | None = None

    def __post_init__(self) -> None:
        limits = dict(self.power_limits_w)
        object.__setattr__(self, "power_limits_w", limits)
        if self.warm_start is not None:
            object.__setattr__(self, "warm_start", dict(self.warm_start))
        top = self.matrix.topology
        if set(limits) != set(top.transmitters):
            raise ValueError(f"power limits must be given for exactly {top.transmitters}, got {sorted(limits)}")
        for tx, value in limits.items():
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"power limit of {tx} must be a finite power >= 0 W, got {value}")
        if not 0.0 <= self.eve_error_bound < 1.0:
            raise ValueError(f"eve_error_bound must be in [0, 1), got {self.eve_error_bound}")
        if self.second_moments is not None:
            missing = [(tx, rx) for tx in top.transmitters for rx in top.receivers if (tx, rx) not in self.second_moments]
            if missing:
                raise ValueError(f"second_moments lacks {missing}")

    @classmethod
    def paper(cls, channels: ChannelSet, p_s_w: float, p_u_w: float, p_b_w: float, *, eve_error_bound: float = 0.0,
              second_moments: Mapping[str, np.ndarray] | None = None,
              warm_start: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> "PrecodingProblem":
        """The problem in the paper's named form: satellite, UAV and base-station limits (W), second
        moments by channel name (``h_su`` … ``g_e``), a warm start (w, f, v)."""
        if second_moments is not None:
            missing = [n for n in CHANNEL_PAIRS if n not in second_moments]
            if missing:
                raise ValueError(f"second_moments lacks {', '.join(missing)}")
            second_moments = {pair: second_moments[name] for name, pair in CHANNEL_PAIRS.items()}
        return cls(ChannelMatrix.from_channel_set(channels), dict(zip(PAPER_TRANSMITTERS, (p_s_w, p_u_w, p_b_w))),
                   eve_error_bound, second_moments, None if warm_start is None else dict(zip(USERS, warm_start)))

    @property
    def topology(self) -> Topology:
        """Who transmits to whom."""
        return self.matrix.topology

    @property
    def limits_w(self) -> np.ndarray:
        """Power limits P_t in transmitter order (W)."""
        return np.array([self.power_limits_w[tx] for tx in self.topology.transmitters])

    def moment(self, transmitter: str, receiver: str) -> np.ndarray:
        """E[h·hᴴ] of one channel (the outer product of the design channel without second moments)."""
        if self.second_moments is not None:
            return np.asarray(self.second_moments[(transmitter, receiver)], dtype=complex)
        h = self.matrix[transmitter, receiver]
        return np.outer(h, h.conj())

    @property
    def served(self) -> tuple[str, ...]:
        """Users that can be served: their transmitter has power and reaches them (mean or spread)."""
        out = []
        for user in self.topology.users:
            tx = self.topology.serving[user]
            reach = np.any(self.matrix[tx, user] != 0)
            if self.second_moments is not None:
                reach = reach or float(np.trace(self.second_moments[(tx, user)]).real) > 0
            if self.power_limits_w[tx] > 0 and reach:
                out.append(user)
        return tuple(out)

    # -- the paper's named form (adapters) ------------------------------------------------------

    @property
    def channels(self) -> ChannelSet:
        """The design channels as the paper's 12 named vectors (paper topology only)."""
        return self.matrix.to_channel_set()

    @property
    def p_s_w(self) -> float:
        """Satellite power limit P_S (W; paper topology)."""
        return self.power_limits_w["satellite"]

    @property
    def p_u_w(self) -> float:
        """UAV power limit P_U (W; paper topology)."""
        return self.power_limits_w["uav"]

    @property
    def p_b_w(self) -> float:
        """Base-station power limit P_B (W; paper topology)."""
        return self.power_limits_w["bs"]


@dataclass(frozen=True)
class PrecodingResult:
    """A precoding decision and its solve record.

    Args:
        method: policy name (``mrt``, ``zf``, ``synergy`` …).
        status: ``ok``, ``inaccurate`` or ``failed`` (module constants).
        precoders: user → precoder x_k of its serving transmitter (sqrt(W); Σ_{k∈t} ‖x_k‖² ≤ P_t).
        planned: secrecy rates the decision achieves on the design channels (bit/s/Hz).
        iterations: solver iterations (SCA outer iterations; 0 for closed forms).
        objective_history: φ per iteration (bit/s/Hz).
        eigen_ratios: λ1/λ2 of each user's lifted matrix, in user order (rank-one check; inf for
            closed forms, filled in when not given).
        solve_s: time spent inside numerical solvers (s, wall clock).
        wall_s: total wall time of the decision (s).
        message: free text explaining a non-ok status.
    """

    method: str
    status: str
    precoders: Mapping[str, np.ndarray]
    planned: SecrecyRates
    iterations: int = 0
    objective_history: tuple[float, ...] = ()
    eigen_ratios: tuple[float, ...] = ()
    solve_s: float = 0.0
    wall_s: float = 0.0
    message: str = ""
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.eigen_ratios:
            object.__setattr__(self, "eigen_ratios", (math.inf,) * len(self.precoders))

    @property
    def objective(self) -> float:
        """Planned minimum secrecy rate (bit/s/Hz) on the design channels."""
        return self.planned.min_rate

    # -- the paper's named precoders (adapters) -------------------------------------------------

    @property
    def w(self) -> np.ndarray:
        """Satellite precoder (to SU; paper topology)."""
        return self.precoders["su"]

    @property
    def f(self) -> np.ndarray:
        """UAV precoder (to AU; paper topology)."""
        return self.precoders["au"]

    @property
    def v(self) -> np.ndarray:
        """Base-station precoder (to GU; paper topology)."""
        return self.precoders["gu"]


class Precoder(Protocol):
    """Anything with a name and ``solve(problem) -> PrecodingResult``."""

    name: str

    def solve(self, problem: PrecodingProblem) -> PrecodingResult: ...


def evaluate(problem: PrecodingProblem, precoders: Mapping[str, np.ndarray]) -> SecrecyRates:
    """Secrecy rates of ``precoders`` (user → vector) on the problem's design channels (bit/s/Hz), min over served users."""
    return secrecy_rates_of(problem.matrix, precoders, served=problem.served)


def zero_precoders(topology: Topology) -> dict[str, np.ndarray]:
    """Every transmitter off: a zero vector of N_{t(k)} entries per user."""
    return {u: np.zeros(topology.antennas[topology.serving[u]], complex) for u in topology.users}
