"""MRT and ZF baselines with the users' transmit powers optimised for max-min secrecy (Yin et al.).

The beam directions are closed forms: MRT beams each user along its own channel from its serving
transmitter; ZF projects that channel onto the orthogonal complement of every Eve's *estimated*
channel from the same transmitter; ZF-all also nulls every other user. Each needs one antenna per
non-zero nulled channel plus one (ZF-all: N_t ≥ R for R receivers) and fails clearly otherwise.
With the directions fixed, every received power is p_k·|h^H u_k|², so problem P1 (eq. 20)
reduces to a max-min over the user powers p_k ≥ 0 with Σ_{k∈t} p_k ≤ P_t per transmitter t.

Two solvers of that power problem (both deterministic):

* at most three users counting in the max-min, each on its own transmitter (the paper's case): a
  log-spaced grid over the box [0, P_t] per user, then an SLSQP refinement of the epigraph form in
  log-power from the best grid point;
* otherwise: SLSQP on the epigraph form (maximise s subject to R_k ≥ s and Σ_{k∈t} p_k ≤ P_t) in
  log-power from :data:`MULTI_START_FRACTIONS` starts — each transmitter's power split equally over
  its users, scaled by each fraction — keeping the best (a grid is exponential in K).
"""

from __future__ import annotations

import time
from typing import Final, Sequence

import numpy as np
from scipy import optimize

from physical.channel_matrix import ChannelMatrix, Topology
from twin.precoding.base import (
    STATUS_FAILED,
    STATUS_OK,
    PrecodingProblem,
    PrecodingResult,
    evaluate,
    zero_precoders,
)
from twin.precoding.mrt import mrt_direction

GRID_DECADES: Final = 6.0  #: the power grid spans [limit·10^-6, limit] log-spaced, plus zero
GRID_POINTS: Final = 13  #: log-spaced grid points per user (half-decade spacing)
GRID_MAX_USERS: Final = 3  #: the grid runs for at most this many served users (13³ points)
REFINE_DECADES: Final = 9.0  #: SLSQP may lower a power this many decades below its limit
REFINE_MAX_ITER: Final = 100  #: SLSQP iteration cap
REFINE_FTOL: Final = 1e-9  #: SLSQP objective tolerance (bit/s/Hz)
#: starts of the general power solver: equal split of each transmitter's power, times each fraction
MULTI_START_FRACTIONS: Final = (1.0, 1e-1, 1e-2, 1e-3)
LN2: Final = float(np.log(2.0))  #: nats per bit
LN10: Final = float(np.log(10.0))  #: d(10^x)/dx = 10^x·ln 10
RANK_TOL: Final = 1e-10  #: singular values below this fraction of the largest count as zero in ZF

BASELINE_KINDS: Final = ("mrt", "zf", "zf-all")  #: the power-optimised baselines


def zf_direction(channel: np.ndarray, nulled: Sequence[np.ndarray]) -> np.ndarray:
    """Unit-norm projection of ``channel`` onto the orthogonal complement of span(``nulled``).

    Returns the zero vector when the channel lies in that span (nothing is left to beam with).
    Zero vectors in ``nulled`` are skipped: they need no null (and leave the result bit-for-bit
    unchanged, e.g. a receiver out of a transmitter's reach).
    """
    x = np.asarray(channel, complex)
    kept = [np.asarray(c, complex) for c in nulled if np.any(c)]
    q = np.zeros((x.size, 0), complex)
    if kept:
        left, sing, _ = np.linalg.svd(np.column_stack(kept), full_matrices=False)
        q = left[:, :int(np.sum(sing > RANK_TOL * sing.max()))]
    for _ in range(2):  # a second pass removes the rounding left by the first (≈1e-16 relative)
        x = x - q @ (q.conj().T @ x)
    if np.linalg.norm(x) <= RANK_TOL * max(np.linalg.norm(channel), 1e-300):
        return np.zeros_like(x)
    return mrt_direction(x)


def nulled_receivers(kind: str, topology: Topology, user: str) -> tuple[str, ...]:
    """Receivers whose channel from ``user``'s transmitter the beam of baseline ``kind`` nulls."""
    if kind == "mrt":
        return ()
    if kind == "zf":
        return topology.eves
    if kind == "zf-all":
        return tuple(r for r in topology.receivers if r != user)
    raise ValueError(f"unknown baseline {kind!r}; expected one of {BASELINE_KINDS}")


def baseline_directions(kind: str, channels: ChannelMatrix) -> list[np.ndarray]:
    """Unit beam directions u_k of baseline ``kind`` on ``channels`` (Eve = estimate), in user order."""
    top = channels.topology
    out = []
    for user in top.users:
        tx = top.serving[user]
        nulled = nulled_receivers(kind, top, user)
        own = channels[tx, user]
        out.append(zf_direction(own, [channels[tx, r] for r in nulled]) if nulled else mrt_direction(own))
    return out


def beam_gains(channels: ChannelMatrix, directions: Sequence[np.ndarray]) -> np.ndarray:
    """Gains G[k, r] = |h_{t(k),r}^H u_k|² of user k's unit beam at receiver r (shape (K, R); users, then Eves)."""
    top = channels.topology
    return np.array([[abs(np.vdot(channels[top.serving[u], rx], d)) ** 2 for rx in top.receivers]
                     for u, d in zip(top.users, directions)])


def secrecy_rates_from_powers(gains: np.ndarray, powers_w: np.ndarray) -> np.ndarray:
    """Unclipped secrecy rates log2(1+γ_k) − max_e log2(1+γ_ke) (eq. 8–16) for fixed beams (bit/s/Hz).

    Args:
        gains: (K, R) beam gains from :func:`beam_gains` (noise-normalised, 1/W); receivers are
            the K users, then the Eves.
        powers_w: (..., K) transmit powers per user (W).
    Returns:
        (..., K) rates per user; negative where the strongest Eve's SINR beats the user's.
    """
    k_users = gains.shape[0]
    p = np.asarray(powers_w, float)
    received = p[..., :, None] * gains  # (..., message, receiver)
    total = received.sum(axis=-2) + 1.0  # (..., receiver): all signals plus unit noise
    own = np.stack([received[..., k, k] for k in range(k_users)], axis=-1)
    leak = received[..., :, k_users:]  # (..., message, Eve): each message's power at each Eve
    user_rate = np.log2(total[..., :k_users]) - np.log2(total[..., :k_users] - own)
    eve_total = total[..., None, k_users:]
    eve_rate = np.log2(eve_total) - np.log2(eve_total - leak)
    return user_rate - eve_rate.max(axis=-1)


def secrecy_rate_jacobian(gains: np.ndarray, powers_w: np.ndarray) -> np.ndarray:
    """J[k, j] = ∂R_k/∂p_j of :func:`secrecy_rates_from_powers` at one power vector (bit/s/Hz per W).

    R_k·ln2 = ln T_k − ln I_k − ln T_e + ln J_ke with e the strongest Eve for message k (where two
    Eves tie this is the gradient of one of them, a subgradient of the max), T the totals plus
    noise, I_k = T_k − p_k·G[k, k] and J_ke = T_e − p_k·G[k, e]; each total's derivative in p_j is
    G[j, r], and I_k, J_ke do not depend on p_k.
    """
    k_users = gains.shape[0]
    users = np.arange(k_users)
    others = 1.0 - np.eye(k_users)  # [j, k]: message j interferes with k
    received = np.asarray(powers_w, float)[:, None] * gains
    total = received.sum(axis=0) + 1.0
    interf = total[:k_users] - received[users, users]
    eve_total = total[k_users:]
    eve_interf = eve_total[None, :] - received[:, k_users:]  # [k, e]
    worst = np.argmax(np.log2(eve_total) - np.log2(eve_interf), axis=1)
    at_user = gains[:, :k_users]  # [j, k]
    at_eve = gains[:, k_users + worst]  # [j, k]: message j at user k's strongest Eve
    d_user = at_user / total[:k_users] - at_user * others / interf
    d_eve = at_eve / eve_total[worst] - at_eve * others / eve_interf[users, worst]
    return ((d_user - d_eve) / LN2).T


def optimise_powers(gains: np.ndarray, limits_w: Sequence[float], served: Sequence[bool] | None = None,
                    serving: Sequence[int] | None = None) -> tuple[np.ndarray, float, int]:
    """Max-min secrecy powers for fixed beams with Σ_{k∈t} p_k ≤ P_t per transmitter (eq. 20).

    The min runs over the ``served`` users only; unserved users stay off. With at most
    :data:`GRID_MAX_USERS` served users, each on its own transmitter, the grid + SLSQP solver runs,
    otherwise the multi-start SLSQP one (module docstring).

    Args:
        gains: (K, R) beam gains (users, then Eves).
        limits_w: (T,) power limit per transmitter (W).
        served: (K,) does user k count in the max-min (default: all).
        serving: (K,) index of each user's transmitter in ``limits_w`` (default: user k on transmitter k).
    Returns:
        (powers per user (W), min rate (bit/s/Hz, unclipped; NaN when no user is served), SLSQP iterations).
    """
    k_users = gains.shape[0]
    mask = np.ones(k_users, bool) if served is None else np.asarray(served, dtype=bool)
    owner = np.arange(k_users) if serving is None else np.asarray(serving, dtype=int)
    limits = np.asarray(limits_w, float)
    if not mask.any():
        return np.zeros(k_users), float("nan"), 0
    if mask.sum() <= GRID_MAX_USERS and np.bincount(owner[mask]).max() == 1:
        return _grid_and_refine(gains, np.where(mask, limits[owner], 0.0), mask)
    return _multi_start(gains, limits, owner, mask)


def _grid_and_refine(gains: np.ndarray, limits: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, float, int]:
    """One served user per transmitter: log-spaced grid (plus zero) over the served users' boxes, then SLSQP.

    SLSQP on the epigraph form (maximise s subject to R_k ≥ s) in log10-power refines the best grid
    point, following the ridges where two or three rates are equal; a user the grid switched off
    stays off. ``limits``: (K,) per-user limits (W, zero for unserved users).
    """
    served_idx = np.flatnonzero(mask)
    rel = np.concatenate([[0.0], np.logspace(-GRID_DECADES, 0.0, GRID_POINTS)])
    axes = np.stack(np.meshgrid(*([rel] * served_idx.size), indexing="ij"), axis=-1).reshape(-1, served_idx.size)
    grid = np.zeros((axes.shape[0], limits.size))
    grid[:, served_idx] = axes * limits[served_idx]
    values = secrecy_rates_from_powers(gains, grid)[:, mask].min(axis=-1)
    best = int(np.argmax(values))
    powers, value = grid[best].copy(), float(values[best])
    active = (powers > 0) & (limits > 0)
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


def _multi_start(gains: np.ndarray, limits: np.ndarray, owner: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, float, int]:
    """General case: SLSQP on the epigraph form with Σ_{k∈t} p_k ≤ P_t, from each of :data:`MULTI_START_FRACTIONS`.

    Variables are log10 p_k of the served users on powered transmitters, and s; the constraint
    Jacobians are analytic (:func:`secrecy_rate_jacobian`). Returns the best feasible point (ties:
    the first start), its min rate and the SLSQP iterations of all starts.
    """
    active = mask & (limits[owner] > 0)
    powers = np.zeros(owner.size)
    if not active.any():
        return powers, float(secrecy_rates_from_powers(gains, powers)[mask].min()), 0
    idx = np.flatnonzero(active)
    counts = np.bincount(owner[idx], minlength=limits.size)
    share = limits[owner[idx]] / counts[owner[idx]]  # equal split of each transmitter's power (W)
    log_max = np.log10(limits[owner[idx]])
    groups = [np.flatnonzero(owner[idx] == t) for t in np.unique(owner[idx])]

    def powers_of(x: np.ndarray) -> np.ndarray:
        out = np.zeros(owner.size)
        out[idx] = 10.0 ** np.minimum(x[:-1], log_max)
        return out

    def rates(x: np.ndarray) -> np.ndarray:
        return secrecy_rates_from_powers(gains, powers_of(x))[mask]

    def feasible(p: np.ndarray) -> np.ndarray:
        """Scale each transmitter's users down so that their sum meets its limit exactly or below."""
        for g in groups:
            total, limit = p[idx[g]].sum(), limits[owner[idx[g[0]]]]
            if total > limit:
                p[idx[g]] *= limit / total
        return p

    def rates_jacobian(x: np.ndarray) -> np.ndarray:
        p = powers_of(x)
        d_log = secrecy_rate_jacobian(gains, p)[mask][:, idx] * (p[idx] * LN10)  # ∂R_k/∂log10 p_j
        return np.hstack([d_log, -np.ones((d_log.shape[0], 1))])

    def budgets_jacobian(x: np.ndarray) -> np.ndarray:
        out = np.zeros((len(groups), x.size))
        for row, g in enumerate(groups):
            out[row, g] = -(10.0 ** (x[g] - log_max[g])) * LN10
        return out

    constraints = [
        {"type": "ineq", "fun": lambda x: rates(x) - x[-1], "jac": rates_jacobian},
        {"type": "ineq", "fun": lambda x: np.array([1.0 - np.sum(10.0 ** (x[g] - log_max[g])) for g in groups]),
         "jac": budgets_jacobian},
    ]
    best, best_value, steps = None, -np.inf, 0
    for fraction in MULTI_START_FRACTIONS:
        x0 = np.log10(share * fraction)
        start_value = float(rates(np.append(x0, 0.0)).min())
        res = optimize.minimize(
            lambda x: -x[-1], np.append(x0, start_value), method="SLSQP", constraints=constraints,
            bounds=[(m - REFINE_DECADES, m) for m in log_max] + [(None, None)],
            options={"maxiter": REFINE_MAX_ITER, "ftol": REFINE_FTOL},
        )
        steps += int(res.nit)
        for candidate in (feasible(powers_of(res.x)), powers_of(np.append(x0, 0.0))):
            value = float(secrecy_rates_from_powers(gains, candidate)[mask].min())
            if value > best_value:
                best, best_value = candidate, value
    return best, best_value, steps


def served_mask(problem: PrecodingProblem) -> tuple[bool, ...]:
    """Per user (topology order): does it count in the max-min (can it be served)?"""
    served = problem.served
    return tuple(u in served for u in problem.topology.users)


def required_antennas(kind: str, problem: PrecodingProblem) -> dict[str, int]:
    """Antennas each transmitter with a served user needs for baseline ``kind``.

    One per non-zero channel its beams null (a zero channel needs no null), plus one left to beam with.
    """
    top = problem.topology
    need: dict[str, int] = {}
    for user in problem.served:
        tx = top.serving[user]
        nulls = sum(bool(np.any(problem.matrix[tx, r])) for r in nulled_receivers(kind, top, user))
        need[tx] = max(need.get(tx, 1), 1 + nulls)
    return need


class PowerOptimisedBaseline:
    """MRT, ZF or ZF-all beams with max-min-optimised transmit powers (Yin et al. baselines)."""

    def __init__(self, kind: str) -> None:
        if kind not in BASELINE_KINDS:
            raise ValueError(f"unknown baseline {kind!r}; expected one of {BASELINE_KINDS}")
        self.name = kind

    def solve(self, problem: PrecodingProblem) -> PrecodingResult:
        """Closed-form beams on the design channels, then powers by :func:`optimise_powers`."""
        start = time.perf_counter()
        top = problem.topology
        need = required_antennas(self.name, problem)
        if any(top.antennas[tx] < n for tx, n in need.items()):
            zeros = zero_precoders(top)
            return PrecodingResult(
                method=self.name, status=STATUS_FAILED, precoders=zeros, planned=evaluate(problem, zeros),
                wall_s=time.perf_counter() - start,
                message=f"{self.name} needs >= {max(need.values())} antennas per transmitter, got {top.antenna_counts()}",
            )
        directions = baseline_directions(self.name, problem.matrix)
        return with_optimised_powers(self.name, problem, directions, beam_gains(problem.matrix, directions), start)


def with_optimised_powers(method: str, problem: PrecodingProblem, directions: Sequence[np.ndarray], gains: np.ndarray,
                          start: float) -> PrecodingResult:
    """The result of unit beams ``directions`` scaled by max-min-optimised powers (W).

    Args:
        method: the method name the result carries. problem: the design problem (limits, served users).
        directions: one unit beam per user (topology order). gains: (user, receiver) beam gains
            |h^H u|² (or u^H R u on second moments). start: ``time.perf_counter()`` when the solve began.
    """
    top = problem.topology
    t0 = time.perf_counter()
    powers, _, steps = optimise_powers(gains, problem.limits_w, served_mask(problem), top.serving_index())
    solve_s = time.perf_counter() - t0
    precoders = {u: np.sqrt(p) * d for u, p, d in zip(top.users, powers, directions)}
    return PrecodingResult(
        method=method, status=STATUS_OK, precoders=precoders, planned=evaluate(problem, precoders),
        iterations=steps, solve_s=solve_s, wall_s=time.perf_counter() - start,
        extra={"powers_w": tuple(float(p) for p in powers)},
    )


def best_baseline(problem: PrecodingProblem, kinds: Sequence[str] = BASELINE_KINDS) -> PrecodingResult:
    """The usable baseline with the highest planned min secrecy rate on the design channels."""
    results = [PowerOptimisedBaseline(k).solve(problem) for k in kinds]
    usable = [r for r in results if r.status == STATUS_OK]
    return max(usable, key=lambda r: r.objective)
