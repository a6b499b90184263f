"""SCA synergy precoding of Yin et al. Algorithm 1 (eq. 21–45), nominal and robust to Eve-CSI error.

General topology (issue 13): T transmitters, K users (user k served by transmitter t(k)), E Eves;
the paper's case is T = K = 3, E = 1. Lifting each user's precoder x_k to a Hermitian PSD
W_k = x_k x_kᴴ (N_{t(k)} × N_{t(k)}; Σ_{k∈t} tr W_k ≤ P_t), each secrecy rate against Eve e
splits in nats as

    R_ke·ln2 = ln T_k − ln I_k − ln T_e + ln J_ke,

with T_k the total received power plus noise at user k, I_k its interference plus noise, T_e the
total at Eve e and J_ke Eve e's interference plus noise for message k — all affine in the W_k.
The concave parts get hypographs e^{x_k} ≤ T_k, e^{z_ke} ≤ J_ke (exponential cones); the convex
parts get epigraphs e^{y_k} ≥ I_k, e^{t_e} ≥ T_e whose left sides are replaced by their tangents
at the current point (ỹ, t̃) — a restriction, so the convex subproblem's φ never exceeds the true
relaxed objective (eq. 29–45). Each subproblem is: maximise φ s.t. φ·ln2 ≤ x_k − y_k − t_e + z_ke
for every user k and Eve e (R_k is the rate against the strongest Eve).

Numerics (shared/DESIGN.md section 7): the auxiliaries are shifted around the current point
(x_k = ln T̃_k + dx_k …) and each cone row is divided by its current value; each lifted matrix is
preconditioned as W = T·Y·T with T = M^{-1/2}, M = I/P + Σ_r h_r h_r^H / s̃_r, where s̃_r is the
current total at the intended user and the current interference plus noise at every unintended
receiver, so no row has a coefficient above one in Y. The convex program is compiled once per
problem shape (lifted-matrix sizes, E, T) with cvxpy Parameters (DPP) and only ``.value`` changes
between iterations. An iterate is accepted only if φ did not fall and the projected iterate's
exact relaxed objective is at least φ; the best iterate wins; rank-one precoders come from
principal eigenvectors.

Robust variant: Eve e's true channel from transmitter t is ĥ + δ with ‖δ‖ ≤ ε_te = Δ·‖ĥ‖ (one
error ball per (transmitter, Eve)). With a = ‖W^½ĥ‖ and ‖W^½δ‖² ≤ ε²·tr W, the inequality
(a ± b)² ⋚ (1 ± θ)a² + (1 ± 1/θ)b² gives bounds on Eve's received power that are *linear* in W
for a fixed θ > 0:
U_t = (1+θ)·ĥ^H W ĥ + (1+1/θ)·ε²·tr W ≥ max_δ, L_t = (1−θ)·ĥ^H W ĥ − (1/θ−1)·ε²·tr W ≤ min_δ.
T_e uses the upper and J_ke the lower bounds, so every R_k is bounded from below over the whole
error ball. θ = b/a at the current point makes both bounds exact ((a ± b)²) for a rank-one W̃, so
the robust subproblem is the nominal one with different coefficients (no extra cones). This replaces
an S-procedure LMI formulation, which was numerically unusable on these channels (Clarabel
NumericalError: the error ball is an ellipsoid with a ~1e6 axis ratio in preconditioned coordinates).
Acceptance uses the exact worst case (:func:`worst_case_power`).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Final, Sequence

import cvxpy as cp
import numpy as np
from scipy import optimize

from twin.precoding.base import (
    STATUS_FAILED,
    STATUS_INACCURATE,
    STATUS_OK,
    PrecodingProblem,
    PrecodingResult,
    evaluate,
    zero_precoders,
)
from twin.precoding.baselines import BASELINE_KINDS, PowerOptimisedBaseline
from twin.precoding.slnr import StatisticalSlnr
from twin.precoding.vector_nlp import SLSQP_MAX_ITER as VECTOR_ITERATION_CAP, maximise_min_rate

LN2: Final = float(np.log(2.0))  #: nats per bit
DEFAULT_EPSILON: Final = 1e-3  #: stop when |φ_i − φ_{i−1}| < ε (bit/s/Hz), Algorithm 1
DEFAULT_MAX_ITERATIONS: Final = 30  #: SCA outer-iteration cap
STATISTICAL_STARTS: Final = ("zf-all", "slnr-stat")  #: starts of the statistical design
UNSERVED_SLACK_NATS: Final = 50.0  #: added to κ_k of an unserved user so its rate row never binds
ACCEPT_TOL: Final = 1e-4  #: slack (bit/s/Hz, relative to max(1, |φ|)) of the acceptance checks
RANK_ONE_LOSS_TOL: Final = 1e-2  #: rank-one extraction may lose this much (bit/s/Hz) before "inaccurate"
#: Clarabel on one thread (faster on a shared 2-core machine); a 1e-7 duality gap is far below ε
CLARABEL_OPTIONS: Final = {"max_threads": 1, "tol_gap_abs": 1e-7, "tol_gap_rel": 1e-7}
SCS_OPTIONS: Final = {"eps": 1e-7, "max_iters": 20000}  #: SCS fallback, tighter than its default
EIGEN_FLOOR: Final = 1e-12  #: eigenvalues below this fraction of the largest count as zero
THETA_MIN: Final = 1e-3  #: smallest θ in the robust bounds (b ≈ 0: transmitter nearly off)
THETA_MAX: Final = 1e3  #: largest θ in the robust bounds (a ≈ 0: beam nulls Eve's estimate)
SOLVE_OK: Final = (cp.OPTIMAL, cp.OPTIMAL_INACCURATE)  #: cvxpy statuses that return a point
SOLVERS: Final = ("sdp", "vector")  #: the lifted SCA of Algorithm 1, or SQP over the vectors


def project_psd(matrix: np.ndarray, power_w: float) -> np.ndarray:
    """Nearest-in-spectrum feasible lifted matrix: Hermitian part, eigenvalues ≥ 0, trace ≤ power (W)."""
    herm = (matrix + matrix.conj().T) / 2.0
    vals, vecs = np.linalg.eigh(herm)
    vals = np.clip(vals, 0.0, None)
    total = vals.sum()
    if total > power_w:
        vals *= power_w / total
    return (vecs * vals) @ vecs.conj().T


def principal_precoder(matrix: np.ndarray) -> tuple[np.ndarray, float]:
    """Rank-one precoder sqrt(λ1)·u1 of a lifted PSD matrix and the ratio λ1/λ2 (inf if λ2 ≤ 0)."""
    vals, vecs = np.linalg.eigh((matrix + matrix.conj().T) / 2.0)
    top = max(vals[-1], 0.0)
    second = vals[-2] if vals.size > 1 else 0.0
    ratio = top / second if second > 0 else float("inf")
    return np.sqrt(top) * vecs[:, -1], float(ratio)


def worst_case_power(matrix: np.ndarray, estimate: np.ndarray, radius: float) -> tuple[float, float]:
    """Min and max of (ĥ+δ)^H W (ĥ+δ) over ‖δ‖ ≤ ε for PSD W (trust-region secular equations).

    Args:
        matrix: W, Hermitian PSD.
        estimate: ĥ, Eve's estimated channel.
        radius: ε ≥ 0, the error-norm bound.
    Returns:
        (lowest, highest) received power over the error ball (noise units).
    """
    vals, vecs = np.linalg.eigh((matrix + matrix.conj().T) / 2.0)
    vals = np.where(vals > EIGEN_FLOOR * max(vals[-1], 0.0), vals, 0.0)
    g2 = np.abs(vecs.conj().T @ estimate) ** 2
    nominal = float(vals @ g2)
    if radius <= 0 or vals[-1] <= 0:
        return nominal, nominal
    r2 = radius**2
    # maximum: δ_i = λ_i g_i / (μ − λ_i) with μ > λ_max and ‖δ‖ = ε
    top = vals[-1]
    coupled = vals * np.sqrt(g2)

    def excess_hi(mu: float) -> float:
        return float(np.sum((coupled / (mu - vals)) ** 2) - r2)

    lo_mu = top * (1 + 1e-12) + 1e-300
    if excess_hi(lo_mu) <= 0:  # "hard case": put the remaining radius on the top eigenvector
        highest = float(vals @ (g2 * (lo_mu / (lo_mu - vals)) ** 2)) + top * max(-excess_hi(lo_mu), 0.0)
    else:
        hi_mu = top + float(np.sqrt(np.sum(coupled**2)) / radius) + top + 1.0
        mu = optimize.brentq(excess_hi, lo_mu, hi_mu, xtol=1e-14 * hi_mu, rtol=1e-14)
        highest = float(vals @ (g2 * (mu / (mu - vals)) ** 2))
    # minimum: δ_i = −λ_i g_i / (λ_i + ν) with ν ≥ 0; ν = 0 reaches zero when the ball allows it
    if float(np.sum(g2[vals > 0])) <= r2:
        return 0.0, highest

    def excess_lo(nu: float) -> float:
        ratio = np.divide(coupled, vals + nu, out=np.zeros_like(coupled), where=vals + nu > 0)
        return float(np.sum(ratio**2) - r2)

    hi_nu = float(np.sqrt(np.sum(coupled**2)) / radius) + 1.0
    nu = optimize.brentq(excess_lo, 0.0, hi_nu, xtol=1e-14 * hi_nu, rtol=1e-14)
    shrink = np.divide(nu, vals + nu, out=np.zeros_like(vals), where=vals + nu > 0)  # zero eigenvalues add nothing
    lowest = float(vals @ (g2 * shrink**2))
    return lowest, highest


@dataclass(frozen=True)
class _Layout:
    """Rows of the coefficient matrix for K users, E Eves and T transmitters.

    x_k (K rows) and z_{k,e} (K·E, Eve-major) enter exponential cones, y_k (K) and t_e (E) tangent
    bounds, and the power rows (T) trace bounds; for the paper's K = 3, E = 1, T = 3 the rows are
    0–2, 3–5, 6–8, 9 and 10–12.
    """

    users: int
    eves: int
    transmitters: int

    @property
    def x(self) -> int:
        return 0

    @property
    def z(self) -> int:
        return self.users

    @property
    def y(self) -> int:
        return self.users * (1 + self.eves)

    @property
    def t(self) -> int:
        return self.y + self.users

    @property
    def p(self) -> int:
        return self.t + self.eves

    @property
    def rows(self) -> int:
        return self.p + self.transmitters


@dataclass
class _Program:
    """A compiled SCA subproblem and the handles whose ``.value`` each iteration updates."""

    problem: cp.Problem
    ys: tuple[cp.Variable, ...]
    phi: cp.Variable
    coeff: cp.Parameter
    offset: cp.Parameter
    kappas: tuple[cp.Parameter, ...]  # one (K,) vector per Eve
    layout: _Layout


def _build(sizes: Sequence[int], eves: int, transmitters: int) -> _Program:
    """Compile the DPP program for lifted-matrix sizes N_{t(k)} per user, E Eves and T transmitters (eq. 29–45).

    Variables and constraints are created in one fixed order (for the paper's shape: the order of
    the original three-transmitter program, so its solves are bit-for-bit the same).
    """
    users = len(sizes)
    lay = _Layout(users, eves, transmitters)
    ys = tuple(cp.Variable((n, n), hermitian=True) for n in sizes)
    vec = cp.hstack([part for y in ys for part in (cp.vec(cp.real(y), order="F"), cp.vec(cp.imag(y), order="F"))])
    coeff = cp.Parameter((lay.rows, 2 * sum(n * n for n in sizes)))
    offset = cp.Parameter(lay.rows)
    kappas = tuple(cp.Parameter(users) for _ in range(eves))
    phi = cp.Variable()
    dx, dy = cp.Variable(users), cp.Variable(users)
    dzs = tuple(cp.Variable(users) for _ in range(eves))
    dts = tuple(cp.Variable() for _ in range(eves))
    value = coeff @ vec + offset
    ones = np.ones(users)
    cons: list[cp.Constraint] = [y >> 0 for y in ys]
    cons += [phi * LN2 <= kappas[e] + dx - dy - dts[e] + dzs[e] for e in range(eves)]
    cons.append(cp.constraints.ExpCone(dx, ones, value[lay.x:lay.x + users]))  # e^{dx_k} ≤ T_k / T̃_k
    cons += [cp.constraints.ExpCone(dzs[e], ones, value[lay.z + e * users:lay.z + (e + 1) * users])  # e^{dz_ke} ≤ J_ke / J̃_ke
             for e in range(eves)]
    cons.append(value[lay.y:lay.y + users] <= 1 + dy)  # I_k / Ĩ_k ≤ 1 + dy_k, tangent of e^{dy_k}
    cons += [value[lay.t + e] <= 1 + dts[e] for e in range(eves)]  # T_e / T̃_e ≤ 1 + dt_e
    cons.append(value[lay.p:lay.p + transmitters] <= 1)  # Σ_{k∈t} tr W_k ≤ P_t
    return _Program(cp.Problem(cp.Maximize(phi), cons), ys, phi, coeff, offset, kappas, lay)


def _block_matrix(c: np.ndarray) -> np.ndarray:
    """Row entries of Re tr(C Y) for a Hermitian matrix C."""
    return np.concatenate([c.real.ravel(order="F"), c.imag.ravel(order="F")])


@dataclass
class _Point:
    """A lifted point and the quantities of the SCA split evaluated at it (noise units)."""

    lifted: list[np.ndarray]  # W_k per user
    received: np.ndarray  # (K messages, K users) received powers at the users
    eve_hi: np.ndarray  # (E, K) each Eve's power of each message, worst case from above
    eve_lo: np.ndarray  # (E, K) … worst case from below (both nominal when not robust)

    def rates_bits(self) -> np.ndarray:
        """Lifted secrecy rates against the worst Eve (bit/s/Hz, unclipped): nominal, or the robust lower bound."""
        total = self.received.sum(axis=0) + 1.0
        interf = total - np.diag(self.received)
        per_eve = [np.log(total) - np.log(interf) - np.log(hi.sum() + 1.0)
                   + np.log(np.array([lo.sum() - lo[k] + 1.0 for k in range(lo.size)]))
                   for hi, lo in zip(self.eve_hi, self.eve_lo)]
        return np.min(per_eve, axis=0) / LN2


def _power(moment: np.ndarray, lifted: np.ndarray) -> float:
    """Mean received power tr(R·W) (noise units)."""
    return float(np.real(np.sum(moment.T * lifted)))


@dataclass(frozen=True)
class _Design:
    """What one SCA run works on, per message k (user k's, from its transmitter t(k)).

    moments[k][r] and chans[k][r]: E[h·hᴴ] and the channel (Eve: estimate) from t(k) to receiver r
    (users, then Eves); radii[e, k]: Eve e's error radius ε from t(k); user_limits[k]: P_{t(k)},
    or 0 for an unserved user; tx_limits[t]: P_t, or 0 for a transmitter without served users;
    groups[t]: the indices of transmitter t's users.
    """

    moments: list[list[np.ndarray]]
    chans: list[list[np.ndarray]]
    radii: np.ndarray
    user_limits: np.ndarray
    tx_limits: np.ndarray
    groups: tuple[tuple[int, ...], ...]
    served: np.ndarray  # (K,) bool: user k counts in the max-min
    robust: bool

    @property
    def eves(self) -> int:
        return self.radii.shape[0]

    def point(self, lifted: list[np.ndarray]) -> _Point:
        users = len(lifted)
        received = np.array([[_power(self.moments[j][k], lifted[j]) for k in range(users)] for j in range(users)])
        if self.robust:
            bounds = [list(zip(*(worst_case_power(lifted[j], self.chans[j][users + e], self.radii[e, j])
                                 for j in range(users)))) for e in range(self.eves)]
            return _Point(lifted, received, np.array([hi for _, hi in bounds]), np.array([lo for lo, _ in bounds]))
        eve = np.array([[_power(self.moments[j][users + e], lifted[j]) for j in range(users)] for e in range(self.eves)])
        return _Point(lifted, received, eve, eve.copy())

    def objective(self, lifted: list[np.ndarray]) -> tuple[float, _Point]:
        """Min over the served users of the lifted rates (bit/s/Hz) and the evaluated point."""
        pt = self.point(lifted)
        return float(pt.rates_bits()[self.served].min()), pt

    def project_vectors(self, vectors: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Precoders within the limits: each transmitter's users scaled down together to ≤ P_t, unserved users off."""
        out = [np.asarray(x, complex) * (limit > 0) for x, limit in zip(vectors, self.user_limits)]
        for group, limit in zip(self.groups, self.tx_limits):
            total = sum(float(np.vdot(out[j], out[j]).real) for j in group)
            if total > limit:
                for j in group:
                    out[j] = out[j] * np.sqrt(limit / total) if limit > 0 else out[j] * 0
        return out

    def project(self, matrices: list[np.ndarray]) -> list[np.ndarray]:
        """Feasible lifted matrices: each PSD with trace ≤ P_{t(k)}, then each transmitter's sum scaled to ≤ P_t."""
        out = [project_psd(m, limit) for m, limit in zip(matrices, self.user_limits)]
        for group, limit in zip(self.groups, self.tx_limits):
            total = sum(np.trace(out[j]).real for j in group)
            if len(group) > 1 and total > limit:
                for j in group:
                    out[j] = out[j] * (limit / total)
        return out


def _warm_start(problem: PrecodingProblem, design: _Design) -> PrecodingResult:
    """The problem's warm start as a feasible starting point: within the limits, off for unserved users."""
    users = problem.topology.users
    precoders = {}
    for group, limit in zip(design.groups, design.tx_limits):
        xs = [np.asarray(problem.warm_start[users[j]], dtype=complex) * (design.user_limits[j] > 0) for j in group]
        power = sum(float(np.vdot(x, x).real) for x in xs)
        for j, x in zip(group, xs):
            precoders[users[j]] = x * np.sqrt(limit / power) if power > limit and power > 0 else x * (limit > 0)
    precoders = {u: precoders[u] for u in users}
    return PrecodingResult(method="warm-start", status=STATUS_OK, precoders=precoders, planned=evaluate(problem, precoders))


def _outer_products(result: PrecodingResult, users: Sequence[str]) -> list[np.ndarray]:
    """x_k·x_kᴴ per user: the lifted point of a rank-one decision."""
    return [np.outer(result.precoders[u], result.precoders[u].conj()) for u in users]


@dataclass
class _Run:
    """One SCA run from one baseline start."""

    base: PrecodingResult
    best_lifted: list[np.ndarray]
    best_value: float = -np.inf  # best exact relaxed objective (bit/s/Hz)
    start_value: float = -np.inf
    history: list[float] = field(default_factory=list)
    conic_s: float = 0.0
    solver: str = ""
    inaccurate_solves: int = 0
    message: str = ""
    precoders: list[np.ndarray] = field(default_factory=list)
    ratios: tuple[float, ...] = ()
    achieved: float = -np.inf  # design objective of the rank-one precoders


class SynergyPrecoder:
    """Yin et al. Algorithm 1: SCA over lifted precoders from the best power-optimised baseline.

    Args:
        robust: design for the worst case over Eve's norm-bounded CSI error (Δ from the problem).
        statistical: design on the problem's second moments R = m·mᴴ + C (each |hᴴw|² becomes
            tr(R·W), the same DPP program with other parameters); with C = 0 this is exactly the
            nominal design.
        epsilon: stop when |φ_i − φ_{i−1}| < epsilon (bit/s/Hz).
        max_iterations: SCA outer-iteration cap.
        multi_start: run the SCA from every usable baseline (MRT, ZF, ZF-all) and keep the best,
            instead of from the best baseline only (about three times the work).
        reuse_compiled: keep one compiled DPP program per problem shape (False rebuilds the
            program every iteration; only the benchmark wants that).
        starts: the baselines to start from, by policy name (default: MRT, ZF and ZF-all; for the
            statistical design ZF-all and the statistical SLNR beams, which win almost every time).
        solver: ``"sdp"``, Algorithm 1 over the lifted matrices (the paper's method, the reference),
            or ``"vector"``, the same problem solved over the precoding vectors by SQP
            (``twin.precoding.vector_nlp``; nominal and statistical designs, not robust), from the
            same starts, with the same verification and statuses.
    """

    def __init__(self, robust: bool = False, epsilon: float = DEFAULT_EPSILON,
                 max_iterations: int = DEFAULT_MAX_ITERATIONS, multi_start: bool = False,
                 reuse_compiled: bool = True, statistical: bool = False, starts: tuple[str, ...] | None = None,
                 solver: str = "sdp") -> None:
        if not epsilon > 0:
            raise ValueError(f"epsilon must be > 0 bit/s/Hz, got {epsilon}")
        if max_iterations < 1:
            raise ValueError(f"max_iterations must be >= 1, got {max_iterations}")
        if robust and statistical:
            raise ValueError("the statistical design carries Eve's error as a covariance; robust=True does not apply")
        if solver not in SOLVERS:
            raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
        if robust and solver == "vector":
            raise ValueError("the robust design needs the lifted program (solver='sdp'): its error-ball bounds are linear in W")
        self.solver = solver
        self.robust = robust
        self.statistical = statistical
        self.starts = starts
        self.name = "synergy-robust" if robust else ("synergy-stat" if statistical else "synergy") + ("-sdp" if solver == "sdp" else "")
        self.epsilon = epsilon
        self.max_iterations = max_iterations
        self.multi_start = multi_start
        self.reuse_compiled = reuse_compiled
        self._programs: dict[tuple, _Program] = {}

    def _program(self, sizes: tuple[int, ...], eves: int, transmitters: int) -> _Program:
        key = (sizes, eves, transmitters)
        if not self.reuse_compiled:
            return _build(*key)
        if key not in self._programs:
            self._programs[key] = _build(*key)
        return self._programs[key]

    def _set_parameters(self, prog: _Program, pt: _Point, design: _Design) -> list[np.ndarray]:
        """Linearise at ``pt``: preconditioners T_k, normalised rows, κ; returns the T_k."""
        moments, radii, lay = design.moments, design.radii, prog.layout
        users, eves = lay.users, lay.eves
        total = pt.received.sum(axis=0) + 1.0  # T̃_k at the users
        interf = total - np.diag(pt.received)  # Ĩ_k
        # Eve e's power of message k: nominal (θ = 0, no radius) or the robust bounds
        #   U = (1+θ)·ĥ^H W ĥ + (1+1/θ)·ε²·tr W,  L = (1−θ)·ĥ^H W ĥ − (1/θ−1)·ε²·tr W,
        # with θ = b/a, a² = ĥ^H W̃ ĥ, b² = ε²·tr W̃ — equal to (a ± b)², the exact extremes, at a
        # rank-one W̃; L is dropped (0) when b ≥ a, where the ball reaches Eve's null.
        nominal = np.array([[_power(moments[j][users + e], pt.lifted[j]) for j in range(users)] for e in range(eves)])
        if self.robust:
            a = np.sqrt(np.maximum(nominal, 0.0))
            b = radii * np.sqrt(np.maximum([np.trace(m).real for m in pt.lifted], 0.0))
            theta_hi = np.clip(np.divide(b, a, out=np.full(a.shape, THETA_MAX), where=a > 0), THETA_MIN, THETA_MAX)
            lower_on = b < a
            theta_lo = np.where(lower_on, np.clip(np.divide(b, a, out=np.ones(a.shape), where=a > 0), THETA_MIN, 1.0), 1.0)
            hi_q, hi_tr = 1 + theta_hi, (1 + 1 / theta_hi) * radii**2
            lo_q = np.where(lower_on, 1 - theta_lo, 0.0)
            lo_tr = np.where(lower_on, -(1 / theta_lo - 1) * radii**2, 0.0)
        else:
            hi_q, hi_tr, lo_q, lo_tr = np.ones(radii.shape), np.zeros(radii.shape), np.ones(radii.shape), np.zeros(radii.shape)
        traces = np.array([np.trace(m).real for m in pt.lifted])
        eve_hi = hi_q * nominal + hi_tr * traces
        eve_lo = lo_q * nominal + lo_tr * traces
        eve_total = np.array([row.sum() + 1.0 for row in eve_hi])  # T̃_e
        eve_interf = np.array([[row.sum() - row[k] + 1.0 for k in range(users)] for row in eve_lo])  # J̃_ke
        precond = []
        for j in range(users):
            n, limit = moments[j][0].shape[0], design.user_limits[j]
            # each receiver weighted by the current value of the smallest row message j enters
            scales = [total[r] if r == j else interf[r] for r in range(users)]
            scales += [min((eve_interf[e][k] for k in range(users) if k != j), default=eve_total[e]) for e in range(eves)]
            metric = sum(moments[j][r] / scales[r] for r in range(users + eves))
            metric = metric + (np.eye(n) / limit if limit > 0 else np.eye(n))
            vals, vecs = np.linalg.eigh((metric + metric.conj().T) / 2.0)
            precond.append((vecs / np.sqrt(vals)) @ vecs.conj().T if limit > 0 else np.zeros((n, n)))
        sizes = [2 * m[0].shape[0] ** 2 for m in moments]
        starts = np.concatenate([[0], np.cumsum(sizes)])
        coeff = np.zeros(prog.coeff.shape)
        offset = np.zeros(prog.offset.shape)

        def add(row: int, j: int, entries: np.ndarray) -> None:
            coeff[row, starts[j]:starts[j + 1]] += entries

        # tr(R W) = tr(T R T Y), tr W = tr(T² Y)
        tc = [[_block_matrix(precond[j] @ moments[j][r] @ precond[j]) for r in range(users + eves)] for j in range(users)]
        gram = [_block_matrix(precond[j] @ precond[j]) for j in range(users)]
        eve_hi_row = [[hi_q[e, j] * tc[j][users + e] + hi_tr[e, j] * gram[j] for j in range(users)] for e in range(eves)]
        eve_lo_row = [[lo_q[e, j] * tc[j][users + e] + lo_tr[e, j] * gram[j] for j in range(users)] for e in range(eves)]
        for k in range(users):
            for j in range(users):
                add(lay.x + k, j, tc[j][k] / total[k])
                if j != k:
                    add(lay.y + k, j, tc[j][k] / interf[k])
                    for e in range(eves):
                        add(lay.z + e * users + k, j, eve_lo_row[e][j] / eve_interf[e][k])
            offset[lay.x + k], offset[lay.y + k] = 1 / total[k], 1 / interf[k]
            for e in range(eves):
                offset[lay.z + e * users + k] = 1 / eve_interf[e][k]
        for e in range(eves):
            for j in range(users):
                add(lay.t + e, j, eve_hi_row[e][j] / eve_total[e])
            offset[lay.t + e] = 1.0 / eve_total[e]
        for t, (group, limit) in enumerate(zip(design.groups, design.tx_limits)):
            for j in group:
                add(lay.p + t, j, gram[j] / limit if limit > 0 else _block_matrix(np.eye(moments[j][0].shape[0])))
        prog.coeff.value, prog.offset.value = coeff, offset
        for e, kappa_e in enumerate(prog.kappas):
            kappa = np.log(total) - np.log(interf) - np.log(eve_total[e]) + np.log(eve_interf[e])
            kappa_e.value = np.where(design.served, kappa, kappa + UNSERVED_SLACK_NATS)  # an unserved user's row never binds
        return precond

    @staticmethod
    def _run(prog: _Program) -> tuple[str, float, str]:
        """Solve with Clarabel (one thread), SCS if Clarabel errs; (status, solver seconds, solver)."""
        errors = []
        for solver, opts in ((cp.CLARABEL, CLARABEL_OPTIONS), (cp.SCS, SCS_OPTIONS)):
            try:
                with warnings.catch_warnings():  # "may be inaccurate": the acceptance check decides
                    warnings.simplefilter("ignore", UserWarning)
                    prog.problem.solve(solver=solver, **opts)
            except (cp.SolverError, ValueError, ArithmeticError) as exc:
                errors.append(f"{solver}: {exc}")
                continue
            stats = prog.problem.solver_stats
            seconds = float(stats.solve_time or 0.0) if stats is not None else 0.0
            if prog.problem.status in SOLVE_OK and prog.phi.value is not None:
                return prog.problem.status, seconds, solver
            errors.append(f"{solver}: status {prog.problem.status}")
        return "; ".join(errors), 0.0, ""

    def _starts(self, problem: PrecodingProblem, design: _Design) -> tuple[list[PrecodingResult], float]:
        """Usable starting points, best first by the design objective; their solver time.

        The power-optimised baselines on the design channels (those the antenna counts allow), plus
        (statistical design) the statistical SLNR beams and the problem's warm start.
        """
        kinds = self.starts or (STATISTICAL_STARTS if self.statistical else BASELINE_KINDS)
        results = [StatisticalSlnr().solve(problem) if k == StatisticalSlnr.name else PowerOptimisedBaseline(k).solve(problem)
                   for k in kinds]
        if problem.warm_start is not None:
            results.append(_warm_start(problem, design))
        usable = [r for r in results if r.status == STATUS_OK]
        users = problem.topology.users
        usable.sort(key=lambda r: -design.objective(_outer_products(r, users))[0])
        return usable, sum(r.solve_s for r in results)

    def _sca(self, base: PrecodingResult, design: _Design, users: Sequence[str]) -> _Run:
        """Algorithm 1 from the baseline ``base``: iterate, accept only verified iterates, keep the best."""
        sizes = tuple(m[0].shape[0] for m in design.moments)
        run = _Run(base=base, best_lifted=_outer_products(base, users))
        run.best_value, pt = design.objective(run.best_lifted)
        run.start_value = phi_prev = run.best_value
        for iteration in range(1, self.max_iterations + 1):
            prog = self._program(sizes, design.eves, len(design.groups))
            precond = self._set_parameters(prog, pt, design)
            status, seconds, run.solver = self._run(prog)
            run.conic_s += seconds
            if status not in SOLVE_OK:
                run.message = f"iteration {iteration}: solver failed ({status})"
                return run
            phi = float(prog.phi.value)
            if not (np.isfinite(phi) and all(np.all(np.isfinite(y.value)) for y in prog.ys)):
                run.message = f"iteration {iteration}: solver returned non-finite values"
                return run
            cand = design.project([p @ y.value @ p for p, y in zip(precond, prog.ys)])
            value, cand_pt = design.objective(cand)
            tol = ACCEPT_TOL * max(1.0, abs(phi))
            if not (phi >= phi_prev - tol and value >= phi - tol):
                run.message = f"iteration {iteration}: rejected (phi {phi:.6g}, previous {phi_prev:.6g}, exact {value:.6g})"
                return run
            run.history.append(phi)
            run.inaccurate_solves += status == cp.OPTIMAL_INACCURATE or run.solver != cp.CLARABEL
            if value > run.best_value:
                run.best_value, run.best_lifted = value, cand
            pt = cand_pt
            if abs(phi - phi_prev) < self.epsilon:
                return run
            phi_prev = phi
        run.message = f"no convergence within {self.max_iterations} iterations"
        return run

    def _vector(self, base: PrecodingResult, design: _Design, users: Sequence[str]) -> _Run:
        """Problem P1 over the vectors from the baseline ``base`` (``vector_nlp``); accepted only if the exact objective did not fall."""
        run = _Run(base=base, best_lifted=_outer_products(base, users))
        run.best_value, _ = design.objective(run.best_lifted)
        run.start_value = run.best_value
        started = time.perf_counter()
        solved = maximise_min_rate([[np.asarray(m) for m in row] for row in design.moments], design.user_limits, design.groups,
                                   design.served, design.eves, [base.precoders[u] for u in users])
        run.conic_s = time.perf_counter() - started
        run.solver = "slsqp"
        lifted = [np.outer(x, x.conj()) for x in design.project_vectors(solved.precoders)]
        value, _ = design.objective(lifted)
        if not solved.converged and solved.iterations < VECTOR_ITERATION_CAP:  # the cap itself is the stopping rule
            run.message = f"SLSQP: {solved.message} after {solved.iterations} iterations"
        if value >= run.best_value:
            run.best_value, run.best_lifted = value, lifted
            run.precoders = design.project_vectors(solved.precoders)
        else:  # projection or rounding lost the gain: the run stays at its start
            run.precoders = [np.asarray(base.precoders[u], complex) for u in users]
        # the best objective after each SLSQP iteration, its last entry the exact value of what is returned
        run.history = list(solved.history[:-1]) + [run.best_value]
        run.ratios = (np.inf,) * len(users)
        return run

    def _design(self, problem: PrecodingProblem) -> _Design:
        top = problem.topology
        users, eves = len(top.users), len(top.eves)
        chans = [[problem.matrix[top.serving[u], r] for r in top.receivers] for u in top.users]
        radii = (np.array([[problem.eve_error_bound * np.linalg.norm(chans[j][users + e]) for j in range(users)]
                           for e in range(eves)]) if self.robust else np.zeros((eves, users)))
        moments = ([[problem.moment(top.serving[u], r) for r in top.receivers] for u in top.users] if self.statistical
                   else [[np.outer(h, h.conj()) for h in row] for row in chans])
        served = np.array([u in problem.served for u in top.users])
        owner = top.serving_index()
        groups = tuple(tuple(int(j) for j in np.flatnonzero(owner == t)) for t in range(len(top.transmitters)))
        # the transmitter of an unserved user gives it nothing; one without served users stays off
        user_limits = np.where(served, problem.limits_w[owner], 0.0)
        tx_limits = np.array([limit if served[list(g)].any() else 0.0 for g, limit in zip(groups, problem.limits_w)])
        return _Design(moments, chans, radii, user_limits, tx_limits, groups, served, self.robust)

    def solve(self, problem: PrecodingProblem) -> PrecodingResult:
        """Run Algorithm 1 on ``problem``; never raises on solver trouble (see the status)."""
        start = time.perf_counter()
        users = problem.topology.users
        design = self._design(problem)
        if not design.served.any():
            zeros = zero_precoders(problem.topology)
            return PrecodingResult(method=self.name, status=STATUS_OK, precoders=zeros,
                                   planned=evaluate(problem, zeros), wall_s=time.perf_counter() - start,
                                   message="no user can be served: every transmitter is off")
        starts, base_solve_s = self._starts(problem, design)
        method = self._sca if self.solver == "sdp" else self._vector
        runs = [method(base, design, users) for base in (starts if self.multi_start else starts[:1])]
        for run in runs:
            if not run.precoders:  # the lifted runs: rank-one precoders from the principal eigenvectors
                extracted = [principal_precoder(m) for m in run.best_lifted]
                run.precoders = [x for x, _ in extracted]
                run.ratios = tuple(r for _, r in extracted)
            run.achieved = design.objective([np.outer(x, x.conj()) for x in run.precoders])[0]
        run = max(runs, key=lambda r: (bool(r.history), r.achieved))
        precoders = dict(zip(users, run.precoders))
        status, message, base = STATUS_OK, run.message, run.base
        if not run.history:
            status = STATUS_FAILED
            precoders = dict(base.precoders)
            message = f"no SCA iterate accepted ({message or 'no iteration ran'}); no decision"
        elif run.achieved < run.start_value or run.best_value - run.achieved > RANK_ONE_LOSS_TOL:
            status = STATUS_INACCURATE
            message = (message + "; " if message else "") + (
                f"rank-one extraction reaches {run.achieved:.4g} of relaxed {run.best_value:.4g} bit/s/Hz")
            if run.achieved < run.start_value:
                precoders = dict(base.precoders)
                message += f"; using the {base.method} start ({run.start_value:.4g}) instead"
        design_value = design.objective([np.outer(precoders[u], precoders[u].conj()) for u in users])[0]
        conic_s = sum(r.conic_s for r in runs)
        return PrecodingResult(
            method=self.name, status=status, precoders=precoders, planned=evaluate(problem, precoders),
            iterations=len(run.history), objective_history=tuple(run.history), eigen_ratios=run.ratios,
            solve_s=conic_s + base_solve_s, wall_s=time.perf_counter() - start, message=message,
            extra={"start_method": base.method, "start_min_rate": run.start_value, "relaxed_min_rate": run.best_value,
                   "conic_solve_s": conic_s, "baseline_solve_s": base_solve_s, "solver": run.solver,
                   "inaccurate_solves": run.inaccurate_solves, "total_iterations": sum(len(r.history) for r in runs),
                   "worst_case_min_rate" if self.robust else ("moment_min_rate" if self.statistical else "lifted_min_rate"): design_value},
        )
