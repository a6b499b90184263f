"""SCA synergy precoding of Yin et al. Algorithm 1 (eq. 21–45), nominal and robust to Eve-CSI error.

Lifting w, f, v to Hermitian PSD W, F, V (trace ≤ power), each secrecy rate in nats splits as

    R_k·ln2 = ln T_k − ln I_k − ln T_e + ln J_k,

with T_k the total received power plus noise at user k, I_k its interference plus noise, T_e the
total at Eve and J_k Eve's interference plus noise for message k — all affine in (W, F, V). The
concave parts get hypographs e^{x_k} ≤ T_k, e^{z_k} ≤ J_k (exponential cones); the convex parts
get epigraphs e^{y_k} ≥ I_k, e^t ≥ T_e whose left sides are replaced by their tangents at the
current point (ỹ, t̃) — a restriction, so the convex subproblem's φ never exceeds the true relaxed
objective (eq. 29–45). Each subproblem is: maximise φ s.t. φ·ln2 ≤ x_k − y_k − t + z_k.

Numerics (shared/DESIGN.md section 7): the auxiliaries are shifted around the current point
(x_k = ln T̃_k + dx_k …) and each cone row is divided by its current value; each lifted matrix is
preconditioned as W = T·Y·T with T = M^{-1/2}, M = I/P + Σ_r h_r h_r^H / s̃_r, where s̃_r is the
current total at the intended user and the current interference plus noise at every unintended
receiver, so no row has a coefficient above one in Y. The convex program is compiled once per antenna configuration with
cvxpy Parameters (DPP) and only ``.value`` changes between iterations. An iterate is accepted only
if φ did not fall and the projected iterate's exact relaxed objective is at least φ; the best
iterate wins; rank-one precoders come from principal eigenvectors.

Robust variant: Eve's true channel from transmitter t is ĥ + δ with ‖δ‖ ≤ ε_t = Δ·‖ĥ‖. With
a = ‖W^½ĥ‖ and ‖W^½δ‖² ≤ ε²·tr W, the inequality (a ± b)² ⋚ (1 ± θ)a² + (1 ± 1/θ)b² gives bounds
on Eve's received power that are *linear* in W for a fixed θ > 0:
U_t = (1+θ)·ĥ^H W ĥ + (1+1/θ)·ε²·tr W ≥ max_δ, L_t = (1−θ)·ĥ^H W ĥ − (1/θ−1)·ε²·tr W ≤ min_δ.
T_e uses the upper and J_k the lower bounds, so every R_k is bounded from below over the whole
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

from physical.secrecy import RECEIVERS, USERS, ChannelSet
from twin.precoding.base import (
    STATUS_FAILED,
    STATUS_INACCURATE,
    STATUS_OK,
    PrecodingProblem,
    PrecodingResult,
    evaluate,
)
from twin.precoding.baselines import BASELINE_KINDS, ZF_ALL_MIN_ANTENNAS, PowerOptimisedBaseline
from twin.precoding.slnr import StatisticalSlnr

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
_PREFIXES: Final = ("h", "a", "g")  #: channel prefixes of satellite, UAV and BS


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


@dataclass
class _Program:
    """A compiled SCA subproblem and the handles whose ``.value`` each iteration updates."""

    problem: cp.Problem
    ys: tuple[cp.Variable, ...]
    phi: cp.Variable
    coeff: cp.Parameter
    offset: cp.Parameter
    kappa: cp.Parameter


# rows of the coefficient matrix: x_k, z_k (exponential cones), y_k, t (tangent bounds), power
_ROW_X, _ROW_Z, _ROW_Y, _ROW_T, _ROW_P = 0, 3, 6, 9, 10
_ROWS: Final = 13  #: coefficient rows


def _build(sizes: Sequence[int]) -> _Program:
    """Compile the DPP program for antenna counts ``sizes`` = (N_S, N_U, N_B) (eq. 29–45)."""
    ys = tuple(cp.Variable((n, n), hermitian=True) for n in sizes)
    vec = cp.hstack([part for y in ys for part in (cp.vec(cp.real(y), order="F"), cp.vec(cp.imag(y), order="F"))])
    coeff = cp.Parameter((_ROWS, 2 * sum(n * n for n in sizes)))
    offset = cp.Parameter(_ROWS)
    kappa = cp.Parameter(3)
    phi = cp.Variable()
    dx, dy, dz, dt = cp.Variable(3), cp.Variable(3), cp.Variable(3), cp.Variable()
    value = coeff @ vec + offset
    cons: list[cp.Constraint] = [y >> 0 for y in ys]
    cons += [
        phi * LN2 <= kappa + dx - dy - dt + dz,
        cp.constraints.ExpCone(dx, np.ones(3), value[_ROW_X:_ROW_X + 3]),  # e^{dx_k} ≤ T_k / T̃_k
        cp.constraints.ExpCone(dz, np.ones(3), value[_ROW_Z:_ROW_Z + 3]),  # e^{dz_k} ≤ J_k / J̃_k
        value[_ROW_Y:_ROW_Y + 3] <= 1 + dy,  # I_k / Ĩ_k ≤ 1 + dy_k, tangent of e^{dy_k}
        value[_ROW_T] <= 1 + dt,  # T_e / T̃_e ≤ 1 + dt
        value[_ROW_P:_ROW_P + 3] <= 1,  # tr W ≤ P
    ]
    return _Program(cp.Problem(cp.Maximize(phi), cons), ys, phi, coeff, offset, kappa)


def _block_matrix(c: np.ndarray) -> np.ndarray:
    """Row entries of Re tr(C Y) for a Hermitian matrix C."""
    return np.concatenate([c.real.ravel(order="F"), c.imag.ravel(order="F")])


@dataclass
class _Point:
    """A lifted point and the quantities of the SCA split evaluated at it (noise units)."""

    lifted: list[np.ndarray]
    received: np.ndarray  # (3 tx, 3 users) received powers at the users
    eve_hi: np.ndarray  # (3,) Eve's power from each transmitter, worst case from above
    eve_lo: np.ndarray  # (3,) … worst case from below (both nominal when not robust)

    def rates_bits(self) -> np.ndarray:
        """Lifted secrecy rates (bit/s/Hz, unclipped): nominal, or the robust lower bound."""
        total = self.received.sum(axis=0) + 1.0
        interf = total - np.diag(self.received)
        eve_total = self.eve_hi.sum() + 1.0
        eve_interf = np.array([self.eve_lo.sum() - self.eve_lo[k] + 1.0 for k in range(3)])
        return (np.log(total) - np.log(interf) - np.log(eve_total) + np.log(eve_interf)) / LN2


def _channels(ch: ChannelSet) -> list[list[np.ndarray]]:
    """chans[t][r]: transmitter t (sat, UAV, BS) to receiver r (SU, AU, GU, Eve)."""
    return [[getattr(ch, f"{p}_{r}") for r in RECEIVERS] for p in _PREFIXES]


def _moments(problem: PrecodingProblem) -> list[list[np.ndarray]]:
    """moments[t][r] = E[h·hᴴ] of transmitter t to receiver r (h·hᴴ for an exact channel)."""
    return [[problem.moment(f"{p}_{r}") for r in RECEIVERS] for p in _PREFIXES]


def _power(moment: np.ndarray, lifted: np.ndarray) -> float:
    """Mean received power tr(R·W) (noise units)."""
    return float(np.real(np.sum(moment.T * lifted)))


@dataclass(frozen=True)
class _Design:
    """What one SCA run works on: second moments, Eve's estimates (robust bound), radii and limits."""

    moments: list[list[np.ndarray]]
    chans: list[list[np.ndarray]]
    radii: np.ndarray
    limits: np.ndarray
    served: np.ndarray  # (3,) bool: user k counts in the max-min
    robust: bool

    def point(self, lifted: list[np.ndarray]) -> _Point:
        received = np.array([[_power(self.moments[t][k], lifted[t]) for k in range(3)] for t in range(3)])
        if self.robust:
            lo, hi = zip(*(worst_case_power(lifted[t], self.chans[t][3], self.radii[t]) for t in range(3)))
            return _Point(lifted, received, np.array(hi), np.array(lo))
        eve = np.array([_power(self.moments[t][3], lifted[t]) for t in range(3)])
        return _Point(lifted, received, eve, eve.copy())

    def objective(self, lifted: list[np.ndarray]) -> tuple[float, _Point]:
        """Min over the served users of the lifted rates (bit/s/Hz) and the evaluated point."""
        pt = self.point(lifted)
        return float(pt.rates_bits()[self.served].min()), pt


def _warm_start(problem: PrecodingProblem, design: _Design) -> PrecodingResult:
    """The problem's warm start as a feasible starting point: within the limits, off for unserved users."""
    precoders = []
    for x, limit in zip(problem.warm_start, design.limits):
        x = np.asarray(x, dtype=complex)
        power = float(np.vdot(x, x).real)
        precoders.append(x * np.sqrt(limit / power) if power > limit and power > 0 else x * (limit > 0))
    w, f, v = precoders
    return PrecodingResult(method="warm-start", status=STATUS_OK, w=w, f=f, v=v, planned=evaluate(problem, w, f, v))


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
        reuse_compiled: keep one compiled DPP program per antenna configuration (False rebuilds
            the program every iteration; only the benchmark wants that).
        starts: the baselines to start from, by policy name (default: MRT, ZF and ZF-all; for the
            statistical design ZF-all and the statistical SLNR beams, which win almost every time).
    """

    def __init__(self, robust: bool = False, epsilon: float = DEFAULT_EPSILON,
                 max_iterations: int = DEFAULT_MAX_ITERATIONS, multi_start: bool = False,
                 reuse_compiled: bool = True, statistical: bool = False, starts: tuple[str, ...] | None = None) -> None:
        if not epsilon > 0:
            raise ValueError(f"epsilon must be > 0 bit/s/Hz, got {epsilon}")
        if max_iterations < 1:
            raise ValueError(f"max_iterations must be >= 1, got {max_iterations}")
        if robust and statistical:
            raise ValueError("the statistical design carries Eve's error as a covariance; robust=True does not apply")
        self.robust = robust
        self.statistical = statistical
        self.starts = starts
        self.name = "synergy-robust" if robust else ("synergy-stat" if statistical else "synergy")
        self.epsilon = epsilon
        self.max_iterations = max_iterations
        self.multi_start = multi_start
        self.reuse_compiled = reuse_compiled
        self._programs: dict[tuple[int, ...], _Program] = {}

    def _program(self, sizes: tuple[int, int, int]) -> _Program:
        if not self.reuse_compiled:
            return _build(sizes)
        if sizes not in self._programs:
            self._programs[sizes] = _build(sizes)
        return self._programs[sizes]

    def _set_parameters(self, prog: _Program, pt: _Point, design: _Design) -> list[np.ndarray]:
        """Linearise at ``pt``: preconditioners T_t, normalised rows, κ; returns the T_t."""
        moments, limits, radii = design.moments, design.limits, design.radii
        total = pt.received.sum(axis=0) + 1.0  # T̃_k at the users
        interf = total - np.diag(pt.received)  # Ĩ_k
        # Eve's power from each transmitter: nominal (θ = 0, no radius) or the robust bounds
        #   U_t = (1+θ)·ĥ^H W ĥ + (1+1/θ)·ε²·tr W,  L_t = (1−θ)·ĥ^H W ĥ − (1/θ−1)·ε²·tr W,
        # with θ = b/a, a² = ĥ^H W̃ ĥ, b² = ε²·tr W̃ — equal to (a ± b)², the exact extremes, at a
        # rank-one W̃; L_t is dropped (0) when b ≥ a, where the ball reaches Eve's null.
        nominal = np.array([_power(moments[t][3], pt.lifted[t]) for t in range(3)])
        if self.robust:
            a = np.sqrt(np.maximum(nominal, 0.0))
            b = radii * np.sqrt(np.maximum([np.trace(m).real for m in pt.lifted], 0.0))
            theta_hi = np.clip(np.divide(b, a, out=np.full(3, THETA_MAX), where=a > 0), THETA_MIN, THETA_MAX)
            lower_on = b < a
            theta_lo = np.where(lower_on, np.clip(np.divide(b, a, out=np.ones(3), where=a > 0), THETA_MIN, 1.0), 1.0)
            hi_q, hi_tr = 1 + theta_hi, (1 + 1 / theta_hi) * radii**2
            lo_q = np.where(lower_on, 1 - theta_lo, 0.0)
            lo_tr = np.where(lower_on, -(1 / theta_lo - 1) * radii**2, 0.0)
        else:
            hi_q, hi_tr, lo_q, lo_tr = np.ones(3), np.zeros(3), np.ones(3), np.zeros(3)
        traces = np.array([np.trace(m).real for m in pt.lifted])
        eve_hi = hi_q * nominal + hi_tr * traces
        eve_lo = lo_q * nominal + lo_tr * traces
        eve_total = eve_hi.sum() + 1.0  # T̃_e
        eve_interf = np.array([eve_lo.sum() - eve_lo[k] + 1.0 for k in range(3)])  # J̃_k
        precond = []
        for t in range(3):
            n = moments[t][0].shape[0]
            # each receiver weighted by the current value of the smallest row it enters for transmitter t
            scales = [total[r] if r == t else interf[r] for r in range(3)]
            scales.append(min(eve_interf[k] for k in range(3) if k != t))
            metric = sum(moments[t][r] / scales[r] for r in range(4))
            metric = metric + (np.eye(n) / limits[t] if limits[t] > 0 else np.eye(n))
            vals, vecs = np.linalg.eigh((metric + metric.conj().T) / 2.0)
            precond.append((vecs / np.sqrt(vals)) @ vecs.conj().T if limits[t] > 0 else np.zeros((n, n)))
        sizes = [2 * m[0].shape[0] ** 2 for m in moments]
        starts = np.concatenate([[0], np.cumsum(sizes)])
        coeff = np.zeros(prog.coeff.shape)
        offset = np.zeros(prog.offset.shape)

        def add(row: int, t: int, entries: np.ndarray) -> None:
            coeff[row, starts[t]:starts[t + 1]] += entries

        tc = [[_block_matrix(precond[t] @ moments[t][r] @ precond[t]) for r in range(4)] for t in range(3)]  # tr(R W) = tr(T R T Y)
        gram = [_block_matrix(precond[t] @ precond[t]) for t in range(3)]  # tr W = tr(T² Y)
        eve_hi_row = [hi_q[t] * tc[t][3] + hi_tr[t] * gram[t] for t in range(3)]
        eve_lo_row = [lo_q[t] * tc[t][3] + lo_tr[t] * gram[t] for t in range(3)]
        for k in range(3):
            for t in range(3):
                add(_ROW_X + k, t, tc[t][k] / total[k])
                if t != k:
                    add(_ROW_Y + k, t, tc[t][k] / interf[k])
                    add(_ROW_Z + k, t, eve_lo_row[t] / eve_interf[k])
            offset[_ROW_X + k], offset[_ROW_Y + k], offset[_ROW_Z + k] = 1 / total[k], 1 / interf[k], 1 / eve_interf[k]
        for t in range(3):
            add(_ROW_T, t, eve_hi_row[t] / eve_total)
            add(_ROW_P + t, t, gram[t] / limits[t] if limits[t] > 0 else _block_matrix(np.eye(moments[t][0].shape[0])))
        offset[_ROW_T] = 1.0 / eve_total
        prog.coeff.value, prog.offset.value = coeff, offset
        kappa = np.log(total) - np.log(interf) - np.log(eve_total) + np.log(eve_interf)
        prog.kappa.value = np.where(design.served, kappa, kappa + UNSERVED_SLACK_NATS)  # an unserved user's row never binds
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

        The power-optimised baselines on the design channels, plus (statistical design) the
        statistical SLNR beams.
        """
        kinds = self.starts or (STATISTICAL_STARTS if self.statistical else BASELINE_KINDS)
        if min(problem.channels.antenna_counts()) < ZF_ALL_MIN_ANTENNAS:
            kinds = tuple(k for k in kinds if k != "zf-all")
        results = [StatisticalSlnr().solve(problem) if k == StatisticalSlnr.name else PowerOptimisedBaseline(k).solve(problem)
                   for k in kinds]
        if problem.warm_start is not None:
            results.append(_warm_start(problem, design))
        usable = [r for r in results if r.status == STATUS_OK]
        usable.sort(key=lambda r: -design.objective([np.outer(x, x.conj()) for x in (r.w, r.f, r.v)])[0])
        return usable, sum(r.solve_s for r in results)

    def _sca(self, base: PrecodingResult, design: _Design) -> _Run:
        """Algorithm 1 from the baseline ``base``: iterate, accept only verified iterates, keep the best."""
        sizes = tuple(m[0].shape[0] for m in design.moments)
        limits = design.limits
        run = _Run(base=base, best_lifted=[np.outer(x, x.conj()) for x in (base.w, base.f, base.v)])
        run.best_value, pt = design.objective(run.best_lifted)
        run.start_value = phi_prev = run.best_value
        for iteration in range(1, self.max_iterations + 1):
            prog = self._program(sizes)
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
            cand = [project_psd(precond[t] @ prog.ys[t].value @ precond[t], limits[t]) for t in range(3)]
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

    def _design(self, problem: PrecodingProblem) -> _Design:
        chans = _channels(problem.channels)
        radii = np.array([problem.eve_error_bound * np.linalg.norm(c[3]) for c in chans]) if self.robust else np.zeros(3)
        moments = _moments(problem) if self.statistical else [[np.outer(h, h.conj()) for h in row] for row in chans]
        served = np.array([u in problem.served for u in USERS])
        limits = np.where(served, problem.limits_w, 0.0)  # the transmitter of an unserved user stays off
        return _Design(moments, chans, radii, limits, served, self.robust)

    def solve(self, problem: PrecodingProblem) -> PrecodingResult:
        """Run Algorithm 1 on ``problem``; never raises on solver trouble (see the status)."""
        start = time.perf_counter()
        design = self._design(problem)
        if not design.served.any():
            zeros = [np.zeros(n, complex) for n in problem.channels.antenna_counts()]
            return PrecodingResult(method=self.name, status=STATUS_OK, w=zeros[0], f=zeros[1], v=zeros[2],
                                   planned=evaluate(problem, *zeros), wall_s=time.perf_counter() - start,
                                   message="no user can be served: every transmitter is off")
        starts, base_solve_s = self._starts(problem, design)
        runs = [self._sca(base, design) for base in (starts if self.multi_start else starts[:1])]
        for run in runs:
            extracted = [principal_precoder(m) for m in run.best_lifted]
            run.precoders = [x for x, _ in extracted]
            run.ratios = tuple(r for _, r in extracted)
            run.achieved = design.objective([np.outer(x, x.conj()) for x in run.precoders])[0]
        run = max(runs, key=lambda r: (bool(r.history), r.achieved))
        w, f, v = run.precoders
        status, message, base = STATUS_OK, run.message, run.base
        if not run.history:
            status = STATUS_FAILED
            w, f, v = base.w, base.f, base.v
            message = f"no SCA iterate accepted ({message or 'no iteration ran'}); no decision"
        elif run.achieved < run.start_value or run.best_value - run.achieved > RANK_ONE_LOSS_TOL:
            status = STATUS_INACCURATE
            message = (message + "; " if message else "") + (
                f"rank-one extraction reaches {run.achieved:.4g} of relaxed {run.best_value:.4g} bit/s/Hz")
            if run.achieved < run.start_value:
                w, f, v = base.w, base.f, base.v
                message += f"; using the {base.method} start ({run.start_value:.4g}) instead"
        design_value = design.objective([np.outer(x, x.conj()) for x in (w, f, v)])[0]
        conic_s = sum(r.conic_s for r in runs)
        return PrecodingResult(
            method=self.name, status=status, w=w, f=f, v=v, planned=evaluate(problem, w, f, v),
            iterations=len(run.history), objective_history=tuple(run.history), eigen_ratios=run.ratios,
            solve_s=conic_s + base_solve_s, wall_s=time.perf_counter() - start, message=message,
            extra={"start_method": base.method, "start_min_rate": run.start_value, "relaxed_min_rate": run.best_value,
                   "conic_solve_s": conic_s, "baseline_solve_s": base_solve_s, "solver": run.solver,
                   "inaccurate_solves": run.inaccurate_solves, "total_iterations": sum(len(r.history) for r in runs),
                   "worst_case_min_rate" if self.robust else ("moment_min_rate" if self.statistical else "lifted_min_rate"): design_value},
        )
