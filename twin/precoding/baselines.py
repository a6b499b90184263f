"""MRT and ZF baselines with the three transmit powers optimised for max-min secrecy (Yin et al.).

The beam directions are closed forms: MRT beams each transmitter along its own user's channel; ZF
projects that channel onto the orthogonal complement of Eve's *estimated* channel from the same
transmitter; ZF-all also nulls the other two users (needs N ≥ 4 antennas per transmitter). With the
directions fixed, every received power is p_t·|h^H u_t|², so problem P1 (eq. 20) reduces to a
three-variable max-min over the box [0, P_S]×[0, P_U]×[0, P_B], solved by a log-spaced grid followed
by an SLSQP refinement of the epigraph form in log-power.
"""

from __future__ import annotations

import time
from typing import Final, Sequence

import numpy as np
from scipy import optimize

from physical.secrecy import RECEIVERS, USERS, ChannelSet
from twin.precoding.base import (
    STATUS_FAILED,
    STATUS_OK,
    PrecodingProblem,
    PrecodingResult,
    evaluate,
)
from twin.precoding.mrt import mrt_direction

GRID_DECADES: Final = 6.0  #: the power grid spans [limit·10^-6, limit] log-spaced, plus zero
GRID_POINTS: Final = 13  #: log-spaced grid points per transmitter (half-decade spacing)
REFINE_DECADES: Final = 9.0  #: SLSQP may lower a power this many decades below its limit
REFINE_MAX_ITER: Final = 100  #: SLSQP iteration cap
REFINE_FTOL: Final = 1e-9  #: SLSQP objective tolerance (bit/s/Hz)
RANK_TOL: Final = 1e-10  #: singular values below this fraction of the largest count as zero in ZF
ZF_ALL_MIN_ANTENNAS: Final = 4  #: ZF-all nulls three receivers and keeps one degree of freedom
#: transmitters in the order (satellite, UAV, base station) and their channel-name prefixes
_PREFIXES: Final = ("h", "a", "g")

BASELINE_KINDS: Final = ("mrt", "zf", "zf-all")  #: the power-optimised baselines


def zf_direction(channel: np.ndarray, nulled: Sequence[np.ndarray]) -> np.ndarray:
    """Unit-norm projection of ``channel`` onto the orthogonal complement of span(``nulled``).

    Returns the zero vector when the channel lies in that span (nothing is left to beam with).
    """
    basis = np.column_stack([np.asarray(c, complex) for c in nulled])
    left, sing, _ = np.linalg.svd(basis, full_matrices=False)
    rank = int(np.sum(sing > RANK_TOL * sing.max())) if sing.size and sing.max() > 0 else 0
    q = left[:, :rank]
    x = np.asarray(channel, complex)
    for _ in range(2):  # a second pass removes the rounding left by the first (≈1e-16 relative)
        x = x - q @ (q.conj().T @ x)
    if np.linalg.norm(x) <= RANK_TOL * max(np.linalg.norm(channel), 1e-300):
        return np.zeros_like(x)
    return mrt_direction(x)


def baseline_directions(kind: str, ch: ChannelSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit beam directions (u_s, u_u, u_b) of baseline ``kind`` on channels ``ch`` (Eve = estimate)."""
    out = []
    for prefix, user in zip(_PREFIXES, USERS):
        own = getattr(ch, f"{prefix}_{user}")
        if kind == "mrt":
            out.append(mrt_direction(own))
        elif kind == "zf":
            out.append(zf_direction(own, [getattr(ch, f"{prefix}_e")]))
        elif kind == "zf-all":
            others = [getattr(ch, f"{prefix}_{r}") for r in RECEIVERS if r != user]
            out.append(zf_direction(own, others))
        else:
            raise ValueError(f"unknown baseline {kind!r}; expected one of {BASELINE_KINDS}")
    return out[0], out[1], out[2]


def beam_gains(ch: ChannelSet, directions: Sequence[np.ndarray]) -> np.ndarray:
    """Gains G[t, r] = |h_{t,r}^H u_t|² of transmitter t's unit beam at receiver r (shape (3, 4))."""
    gains = np.empty((3, len(RECEIVERS)))
    for t, (prefix, u) in enumerate(zip(_PREFIXES, directions)):
        for r, rx in enumerate(RECEIVERS):
            gains[t, r] = abs(np.vdot(getattr(ch, f"{prefix}_{rx}"), u)) ** 2
    return gains


def secrecy_rates_from_powers(gains: np.ndarray, powers_w: np.ndarray) -> np.ndarray:
    """Unclipped secrecy rates log2(1+γ_k) − log2(1+γ_ke) (eq. 8–16) for fixed beams (bit/s/Hz).

    Args:
        gains: (3, 4) beam gains from :func:`beam_gains` (noise-normalised, 1/W).
        powers_w: (..., 3) transmit powers (W).
    Returns:
        (..., 3) rates of SU, AU, GU; negative where Eve's SINR beats the user's.
    """
    p = np.asarray(powers_w, float)
    received = p[..., :, None] * gains  # (..., tx, rx)
    total = received.sum(axis=-2) + 1.0  # (..., rx): all signals plus unit noise
    own = np.stack([received[..., k, k] for k in range(3)], axis=-1)
    leak = received[..., :, 3]  # each message's power at Eve
    user_rate = np.log2(total[..., :3]) - np.log2(total[..., :3] - own)
    eve_rate = np.log2(total[..., 3:4]) - np.log2(total[..., 3:4] - leak)
    return user_rate - eve_rate


def optimise_powers(gains: np.ndarray, limits_w: Sequence[float],
                    served: Sequence[bool] = (True, True, True)) -> tuple[np.ndarray, float, int]:
    """Max-min secrecy powers for fixed beams over the box [0, limit] per transmitter (eq. 20).

    A log-spaced grid (plus zero) locates the basin; SLSQP on the epigraph form (maximise s subject
    to R_k ≥ s) in log10-power then refines the best grid point, which follows the ridges where
    two or three rates are equal. The min runs over the ``served`` users only; the transmitter of
    an unserved user stays off. Returns (powers (W), min rate (bit/s/Hz, unclipped; NaN when no
    user is served), SLSQP iterations).
    """
    mask = np.asarray(served, dtype=bool)
    limits = np.where(mask, np.asarray(limits_w, float), 0.0)
    if not mask.any():
        return np.zeros(3), float("nan"), 0
    rel = np.concatenate([[0.0], np.logspace(-GRID_DECADES, 0.0, GRID_POINTS)])
    grid = np.stack(np.meshgrid(rel, rel, rel, indexing="ij"), axis=-1).reshape(-1, 3) * limits
    values = secrecy_rates_from_powers(gains, grid)[:, mask].min(axis=-1)
    best = int(np.argmax(values))
    powers, value = grid[best].copy(), float(values[best])
    active = (powers > 0) & (limits > 0)  # transmitters the grid switched off stay off
    if not active.any():
        return powers, value, 0
    log_max = np.log10(limits[active])

    def powers_of(x: np.ndarray) -> np.ndarray:
        out = powers.copy()
        out[active] = 10.0 ** x[:-1]
        return out

    res = optimize.minimize(
        lambda x: -x[-1], np.append(np.log10(powers[active]), value), method="SLSQP",
        constraints=[{"type": "ineq", "fun": lambda x: secrecy_rates_from_powers(gains, powers_of(x))[mask] - x[-1]}],
        bounds=[(m - REFINE_DECADES, m) for m in log_max] + [(None, None)],
        options={"maxiter": REFINE_MAX_ITER, "ftol": REFINE_FTOL},
    )
    refined = powers_of(np.clip(res.x, -np.inf, np.append(log_max, np.inf)))
    refined_value = float(secrecy_rates_from_powers(gains, refined)[mask].min())
    if refined_value > value:
        powers, value = refined, refined_value
    return powers, value, int(res.nit)


def served_mask(problem: PrecodingProblem) -> tuple[bool, bool, bool]:
    """Per transmitter (satellite, UAV, BS): does its user count in the max-min (can it be served)?"""
    served = problem.served
    return tuple(u in served for u in USERS)  # type: ignore[return-value]


class PowerOptimisedBaseline:
    """MRT, ZF or ZF-all beams with max-min-optimised transmit powers (Yin et al. baselines)."""

    def __init__(self, kind: str) -> None:
        if kind not in BASELINE_KINDS:
            raise ValueError(f"unknown baseline {kind!r}; expected one of {BASELINE_KINDS}")
        self.name = kind

    def solve(self, problem: PrecodingProblem) -> PrecodingResult:
        """Closed-form beams on the design channels, then powers by grid + SLSQP refinement."""
        start = time.perf_counter()
        ch = problem.channels
        if self.name == "zf-all" and min(ch.antenna_counts()) < ZF_ALL_MIN_ANTENNAS:
            zeros = [np.zeros(n, complex) for n in ch.antenna_counts()]
            return PrecodingResult(
                method=self.name, status=STATUS_FAILED, w=zeros[0], f=zeros[1], v=zeros[2],
                planned=evaluate(problem, *zeros), wall_s=time.perf_counter() - start,
                message=f"zf-all needs >= {ZF_ALL_MIN_ANTENNAS} antennas per transmitter, got {ch.antenna_counts()}",
            )
        directions = baseline_directions(self.name, ch)
        return with_optimised_powers(self.name, problem, directions, beam_gains(ch, directions), start)


def with_optimised_powers(method: str, problem: PrecodingProblem, directions: Sequence[np.ndarray], gains: np.ndarray,
                          start: float) -> PrecodingResult:
    """The result of unit beams ``directions`` scaled by max-min-optimised powers (W).

    Args:
        method: the method name the result carries. problem: the design problem (limits, served users).
        directions: one unit beam per transmitter. gains: (transmitter, receiver) beam gains |h^H u|²
            (or u^H R u on second moments). start: ``time.perf_counter()`` when the solve began.
    """
    t0 = time.perf_counter()
    powers, _, steps = optimise_powers(gains, problem.limits_w, served_mask(problem))
    solve_s = time.perf_counter() - t0
    w, f, v = (np.sqrt(p) * u for p, u in zip(powers, directions))
    return PrecodingResult(
        method=method, status=STATUS_OK, w=w, f=f, v=v, planned=evaluate(problem, w, f, v),
        iterations=steps, solve_s=solve_s, wall_s=time.perf_counter() - start,
        extra={"powers_w": tuple(float(p) for p in powers)},
    )


def best_baseline(problem: PrecodingProblem, kinds: Sequence[str] = BASELINE_KINDS) -> PrecodingResult:
    """The usable baseline with the highest planned min secrecy rate on the design channels."""
    results = [PowerOptimisedBaseline(k).solve(problem) for k in kinds]
    usable = [r for r in results if r.status == STATUS_OK]
    return max(usable, key=lambda r: r.objective)
