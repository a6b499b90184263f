"""Deterministic-equivalent MILP of the two-stage QKD provisioning program, solved with HiGHS.

Model (Kaewpuang et al., "Resource Allocation in QKD for SAGIN"; Xu et al., "Quantum-Secured
SAGIN"; written cleanly here because the papers' notation is loose). Sets: nodes V, undirected
links L (each gives two arcs), requests F (s_f, d_f), scenarios Ω with probability p_ω, weather
w(ω) and key-rate demand k_f(ω) (bit/s); medium m(l); key rate per QKD link K_l of each link (the
link's own ``key_rate_bps``, else its medium's).

First stage (here-and-now):
- x[f,a] ∈ {0,1}: request f's route uses arc a. Flow conservation (out − in = 1 at s_f, −1 at d_f,
  0 elsewhere); no arc enters s_f or leaves d_f; Miller–Tucker–Zemlin potentials t[f,v] ∈ [0,|V|−1]
  with t[v] ≥ t[u] + 1 − |V|(1 − x[f,(u,v)]) forbid every cycle, so the route is a simple path.
- R_q[l], R_k[l] ∈ ℤ, 0 ≤ R ≤ capacity_qkd / capacity_km of m(l): reserved QKD and KM wavelengths.
- Links down in every scenario (e.g. satellite links when every scenario is cloudy) are not
  offered to the first stage.

Second stage (per scenario ω):
- A link whose medium is down under w(ω) (cloudy ⇒ satellite and UAV: every free-space optical
  link) carries nothing. A request that no path of up links joins in ω is left unserved in ω: its
  route block there is all zero (no flow, no wavelengths) and ``PlanResult.unserved`` lists it; a
  request no path joins with every link up is infeasible (``reachability_diagnosis``).
- Route used in ω: the first-stage route if none of its links is down in ω, else a recourse route
  z[f,k,·] on up links (flow conservation). Exactly: hit indicator h[f,k] ∈ [0,1] with
  h ≥ x[f,a] for each down arc a and h ≤ Σ_down x[f,a] (so h = 1 iff the route is hit, integral
  because x is), and z[f,k,a] ≥ x[f,a] − h on up arcs (not hit ⇒ z = x).
  Re-routing modes: ``scenario`` (exact; one recourse route per request and scenario, k = ω) and
  ``weather`` (one backup route per request and weather pattern, shared by all scenarios of that
  weather, k = w(ω); a restriction of ``scenario``, so its optimum is ≥ the exact one, equal when
  every weather pattern's scenarios prefer the same backup). Default: ``weather`` — a handful of
  route blocks instead of one per scenario, seconds instead of minutes on NSFNET × 200 scenarios.
- Need on link l: QKD wavelengths Σ_f 3·P_f,l(ω)·use[f,l,ω] with P_f,l(ω) = ceil(k_f(ω)/K_l)
  (P parallel QKD links, 3 wavelengths each) and KM wavelengths Σ_f use[f,l,ω] (one KM wavelength
  per request per used link, Kaewpuang eq. 6) or, with ``[planning] km_per_qkd_link = true``,
  Σ_f P_f,l(ω)·W_kml·use[f,l,ω] (W_kml = 1 per parallel QKD link, eq. 35), where
  use = z[f,a] + z[f,ā] for the route used in ω.
- utilised u ≤ R (reserved), on-demand o ≤ ondemand_capacity; u + o ≥ need. u and o are continuous:
  with integer R and integer needs the recourse polytope is integral, so nothing is lost.

Objective: Σ_l (π_q[l]·R_q[l] + π_k[l]·R_k[l]) + Σ_ω p_ω Σ_l Σ_{t∈{q,k}} π_t[l]·(β·u_t[ω,l] + γ·o_t[ω,l])
with β = utilisation_factor, γ = ondemand_factor and prices π from ``pricing``.

Exact reductions and formulations:
- scenarios with the same weather and the same P_f,l(ω) for every request and link rate have identical
  recourse problems, so they are merged (probabilities added) before building;
- with γ ≥ β the utilised wavelengths are eliminated (u = need − o; o ≥ need − R);
- with eq. 6 KM needs depend only on the routes, so classes sharing their route blocks share KM
  columns; with eq. 35 they vary with the demand and are handled like the QKD needs;
- ``formulation="lazy"`` (default) replaces the per-class QKD (and, with eq. 35, KM) on-demand
  columns by one θ per link and route group with Benders-style cuts θ ≥ Σ_{c∈S} p_c·(γ−β)·π·(need_c − R)
  generated in a cutting-plane loop (see ``_run``); it has the same optimum as ``explicit`` and a
  much smaller LP (200 scenarios × 27 links: ≈2.5k instead of ≈6.5k rows).
The matrix is assembled as a sparse COO → CSC array and passed to HiGHS directly (no modelling
layer). The reported objective is re-evaluated exactly from the plan (first stage + expected
recourse), and ``solve_s`` covers every HiGHS run of the loop.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Final, Mapping, Sequence

import highspy
import numpy as np
import scipy.sparse as sp

from twin.qkd.instance import QkdInstance, Scenario
from physical.wavelengths import DEMAND_TOLERANCE, KM_WAVELENGTHS_PER_LINK, QKD_WAVELENGTHS_PER_LINK, qkd_links_needed
from twin.qkd.pricing import link_prices

FORMULATIONS: Final = ("lazy", "explicit")  #: QKD recourse formulations (see PlanOptions)
REROUTE_MODES: Final = ("weather", "scenario")  #: re-routing modes; the first is the default
DEFAULT_REROUTE: Final = "weather"  #: default re-routing mode (one backup route per weather pattern)
DEFAULT_MIP_REL_GAP: Final = 1e-2  #: default relative MIP gap at which HiGHS stops (–)
DEFAULT_TIME_LIMIT_S: Final = 60.0  #: default solver time limit (s)
INTEGRALITY_TOLERANCE: Final = 1e-6  #: a binary/integer value is rounded if this close to an integer

STATUS_OPTIMAL: Final = "optimal"  #: solved to the requested gap
STATUS_TIME_LIMIT: Final = "time_limit"  #: stopped by the time limit with a feasible plan
STATUS_INFEASIBLE: Final = "infeasible"  #: no plan serves every request in every scenario
STATUS_FAILED: Final = "failed"  #: the solver stopped without a feasible plan for another reason


@dataclass(frozen=True)
class PlanOptions:
    """Solver options.

    Args:
        reroute: ``weather`` (default) or ``scenario`` (see module docstring).
        mip_rel_gap: relative MIP gap at which HiGHS stops (–).
        time_limit_s: HiGHS time limit (s).
        threads: HiGHS threads (0 = HiGHS default).
        formulation: ``lazy`` (default: QKD recourse per link as Benders-style cuts added in a
            cutting-plane loop, a much smaller LP) or ``explicit`` (one on-demand column and row per
            scenario class and link). Both give the same optimum; ``explicit`` is always used when
            ondemand_factor < utilisation_factor.
    """

    reroute: str = DEFAULT_REROUTE
    mip_rel_gap: float = DEFAULT_MIP_REL_GAP
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    threads: int = 0
    formulation: str = "lazy"

    def __post_init__(self) -> None:
        if self.formulation not in FORMULATIONS:
            raise ValueError(f"formulation must be one of {FORMULATIONS}, got {self.formulation!r}")
        if self.reroute not in REROUTE_MODES:
            raise ValueError(f"reroute must be one of {REROUTE_MODES}, got {self.reroute!r}")
        if not 0.0 <= self.mip_rel_gap < 1.0:
            raise ValueError(f"mip_rel_gap must be in [0, 1), got {self.mip_rel_gap}")
        if not self.time_limit_s > 0:
            raise ValueError(f"time_limit_s must be > 0, got {self.time_limit_s}")


@dataclass(frozen=True)
class PlanResult:
    """A QKD plan and its solve record.

    Args:
        status: ``optimal``, ``time_limit``, ``infeasible`` or ``failed``.
        objective: reservation cost + expected recourse cost (cost units; nan without a plan).
        first_stage_cost, expected_second_stage_cost: the two parts of the objective (cost units).
        routes: request → node list of its first-stage route.
        reserved: link ``a-b`` → {"qkd": reserved QKD wavelengths, "km": reserved KM wavelengths}.
        solve_s: HiGHS wall time (s). build_s: model assembly wall time (s).
        mip_gap: relative gap HiGHS reports (–).
        reroute: the re-routing mode used.
        diagnosis: for an infeasible instance, which request, link and scenario cannot be served.
        scenario_routes: scenario → request → route used in that scenario (differs from ``routes``
            only when the first-stage route is hit by a down link).
        link_names: link names, the column order of the per-scenario arrays.
        utilised_qkd, ondemand_qkd, utilised_km, ondemand_km: wavelengths per (scenario, link).
        need_qkd, need_km: wavelengths needed per (scenario, link).
        size: model size (columns, rows, integer columns, non-zeros, merged scenario classes).
        unserved: scenario → requests left unserved there because its weather takes down every path
            (no route and no wavelengths; their key demand is not met). Empty when all are served.
    """

    status: str
    objective: float
    first_stage_cost: float
    expected_second_stage_cost: float
    routes: dict[str, list[str]]
    reserved: dict[str, dict[str, int]]
    solve_s: float
    build_s: float = 0.0
    mip_gap: float = math.nan
    reroute: str = DEFAULT_REROUTE
    diagnosis: str = ""
    scenario_routes: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    link_names: tuple[str, ...] = ()
    utilised_qkd: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    ondemand_qkd: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    utilised_km: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    ondemand_km: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    need_qkd: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    need_km: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    size: dict[str, int] = field(default_factory=dict)
    unserved: dict[str, list[str]] = field(default_factory=dict)

    @property
    def has_plan(self) -> bool:
        """True if the result carries a feasible plan."""
        return self.status in (STATUS_OPTIMAL, STATUS_TIME_LIMIT)

    def summary(self) -> dict:
        """The JSON-ready summary: status, objective, costs, routes, reserved, solve_s (and diagnosis if any)."""
        out = {
            "status": self.status, "objective": _finite_or_none(self.objective),
            "first_stage_cost": _finite_or_none(self.first_stage_cost),
            "expected_second_stage_cost": _finite_or_none(self.expected_second_stage_cost),
            "routes": self.routes, "reserved": self.reserved, "solve_s": self.solve_s,
            "build_s": self.build_s, "mip_gap": _finite_or_none(self.mip_gap), "reroute": self.reroute,
        }
        if self.diagnosis:
            out["diagnosis"] = self.diagnosis
        if self.unserved:
            out["unserved"] = self.unserved
        return out


def _finite_or_none(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


class _Topology:
    """Index tables of an instance: nodes, links, arcs (2l: a→b, 2l+1: b→a), media per link."""

    def __init__(self, instance: QkdInstance) -> None:
        self.node_names = [n.name for n in instance.nodes]
        self.node_index = {name: i for i, name in enumerate(self.node_names)}
        self.link_names = [l.name for l in instance.links]
        self.n_nodes = len(self.node_names)
        self.n_links = len(instance.links)
        self.n_arcs = 2 * self.n_links
        tails, heads = [], []
        for link in instance.links:
            a, b = self.node_index[link.a], self.node_index[link.b]
            tails += [a, b]
            heads += [b, a]
        self.tail = np.array(tails, dtype=np.int64)
        self.head = np.array(heads, dtype=np.int64)
        self.media = sorted(instance.media)
        self.link_medium_name = [l.medium for l in instance.links]
        # key rate per QKD link of every link (bit/s) and its index among the distinct rates
        self.link_rate = np.array([instance.key_rate_bps(l) for l in instance.links], dtype=float)
        self.rates, self.link_rate_index = np.unique(self.link_rate, return_inverse=True)
        # node-arc incidence: +1 at the tail, −1 at the head
        arcs = np.arange(self.n_arcs)
        self.inc_rows = np.concatenate([self.tail, self.head])
        self.inc_cols = np.concatenate([arcs, arcs])
        self.inc_vals = np.concatenate([np.ones(self.n_arcs), -np.ones(self.n_arcs)])

    def down_links(self, scenario: Scenario) -> frozenset[int]:
        down = scenario.down_media()
        return frozenset(l for l, m in enumerate(self.link_medium_name) if m in down)

    def reachable(self, src: int, dst: int, down: frozenset[int]) -> bool:
        """True if a path of links not in ``down`` joins nodes ``src`` and ``dst``."""
        seen, queue = {src}, deque([src])
        while queue:
            v = queue.popleft()
            if v == dst:
                return True
            for l in np.flatnonzero((self.tail[0::2] == v) | (self.head[0::2] == v)):
                if int(l) in down:
                    continue
                w = int(self.head[2 * l]) if int(self.tail[2 * l]) == v else int(self.tail[2 * l])
                if w not in seen:
                    seen.add(w)
                    queue.append(w)
        return False


class _Builder:
    """Columns and COO triplets of a MILP, converted to a HighsLp at the end."""

    def __init__(self) -> None:
        self.cost: list[np.ndarray] = []
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.integer: list[np.ndarray] = []
        self.n_cols = 0
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.row_lower: list[np.ndarray] = []
        self.row_upper: list[np.ndarray] = []
        self.n_rows = 0

    def add_cols(self, n: int, cost=0.0, lower=0.0, upper=np.inf, integer=False) -> np.ndarray:
        start = self.n_cols
        self.cost.append(np.broadcast_to(np.asarray(cost, dtype=float), (n,)).copy())
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (n,)).copy())
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (n,)).copy())
        self.integer.append(np.full(n, bool(integer)))
        self.n_cols += n
        return np.arange(start, start + n)

    def add_rows(self, n: int, lower, upper) -> int:
        start = self.n_rows
        self.row_lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (n,)).copy())
        self.row_upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (n,)).copy())
        self.n_rows += n
        return start

    def add_entries(self, rows, cols, vals) -> None:
        rows = np.asarray(rows, dtype=np.int64).ravel()
        cols = np.asarray(cols, dtype=np.int64).ravel()
        vals = np.broadcast_to(np.asarray(vals, dtype=float), rows.shape).ravel()
        self.rows.append(rows)
        self.cols.append(cols)
        self.vals.append(vals.copy())

    def finish(self) -> tuple[highspy.HighsLp, np.ndarray, np.ndarray, np.ndarray]:
        cost = np.concatenate(self.cost)
        lower = np.concatenate(self.lower)
        upper = np.concatenate(self.upper)
        integer = np.concatenate(self.integer)
        rows = np.concatenate(self.rows) if self.rows else np.zeros(0, dtype=np.int64)
        cols = np.concatenate(self.cols) if self.cols else np.zeros(0, dtype=np.int64)
        vals = np.concatenate(self.vals) if self.vals else np.zeros(0)
        matrix = sp.csc_matrix((vals, (rows, cols)), shape=(self.n_rows, self.n_cols))
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        lp = highspy.HighsLp()
        lp.num_col_ = self.n_cols
        lp.num_row_ = self.n_rows
        lp.col_cost_ = cost
        lp.col_lower_ = lower
        lp.col_upper_ = upper
        lp.row_lower_ = np.concatenate(self.row_lower) if self.row_lower else np.zeros(0)
        lp.row_upper_ = np.concatenate(self.row_upper) if self.row_upper else np.zeros(0)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in integer]
        return lp, upper, integer, matrix


@dataclass
class _Classes:
    """Scenario classes after merging identical recourse problems."""

    representative: list[int]  # scenario index per class
    probability: np.ndarray  # per class
    of_scenario: np.ndarray  # class index per scenario
    P: np.ndarray  # (class, request, distinct link rate) parallel QKD links needed


def _scenario_classes(instance: QkdInstance, topo: _Topology) -> _Classes:
    reps: list[int] = []
    probs: list[float] = []
    keys: dict[tuple, int] = {}
    of = np.zeros(len(instance.scenarios), dtype=np.int64)
    rows = []
    for w, s in enumerate(instance.scenarios):
        need = tuple(tuple(qkd_links_needed(s.demand(r.name), float(k)) for k in topo.rates)
                     for r in instance.requests)
        key = (s.weather, need)
        if key not in keys:
            keys[key] = len(reps)
            reps.append(w)
            probs.append(0.0)
            rows.append(need)
        c = keys[key]
        probs[c] += s.probability
        of[w] = c
    P = np.array(rows, dtype=float).reshape(len(reps), len(instance.requests), len(topo.rates))
    return _Classes(reps, np.array(probs), of, P)


@dataclass
class _Model:
    lp: highspy.HighsLp
    upper: np.ndarray
    integer: np.ndarray
    topo: _Topology
    classes: _Classes
    x: np.ndarray  # (F, A) columns
    r_q: np.ndarray  # (L,)
    r_k: np.ndarray
    u_q: np.ndarray  # (C, L) columns, −1 where absent (reduced form or no need)
    o_q: np.ndarray  # (C, L)
    u_k: np.ndarray  # (G, L) per route group, or (C, L) per class with the eq. 35 KM rule
    o_k: np.ndarray  # (G, L) or (C, L)
    group_of_class: np.ndarray  # (C,)
    reduced: bool  # utilised columns eliminated (γ ≥ β)
    route_block: dict[tuple[int, int], np.ndarray]  # (request, class) → (A,) columns of the route used
    prices_q: np.ndarray
    prices_k: np.ndarray
    build_s: float
    n_nonzeros: int
    lazy_groups: list["_LazyGroup"]
    km_rule: bool  # one KM wavelength per parallel QKD link (Kaewpuang eq. 35), needs per class
    km_coef: np.ndarray  # (C, F, L) KM wavelengths per unit of link use
    served: np.ndarray  # (F, C) bool: request f is routed in class c (False: left unserved, no path up)


#: a cut: (columns, coefficients, row lower bound, row upper bound)
_Cut = tuple[np.ndarray, np.ndarray, float, float]
CUT_REL_TOLERANCE: Final = 1e-7  #: a recourse cut is added when θ underestimates the recourse by more than this (relative)
MAX_CUT_ROUNDS: Final = 200
LP_PHASE_SHARE: Final = 0.5  #: at most this share of the time limit goes to the LP cutting-plane rounds
LOOSE_ROUND_GAP: Final = 0.05  #: MIP gap of the first cutting-plane rounds, before the requested gap (–)
MIP_CUT_WINDOW: Final = 2  #: at a MIP master point, the breakpoint cuts within this many need levels of R are added


@dataclass
class _LazyGroup:
    """QKD recourse of one route group (classes sharing their route blocks), generated lazily.

    θ[l] ≥ Σ_c p_c·κ·π_l·max(0, need_c[l] − R[l]) with need_c[l] = Σ_f a[c,f,l]·w[f,l] is imposed by
    the cuts θ[l] ≥ Σ_{c∈S} p_c·κ·π_l·(need_c[l] − R[l]) for the sets S of classes whose need exceeds
    the reservation at the current point (Benders-style, the convex piecewise-linear recourse of
    each link is exact once no cut is violated); on-demand capacity need_c[l] − R[l] ≤ od[l] is
    added when violated.
    """

    theta: np.ndarray  # (L,) columns, −1 where the group never needs wavelengths of its resource
    classes: np.ndarray  # (n_c,) scenario classes of the group
    use: np.ndarray  # (F, L) link-use columns
    coef: np.ndarray  # (n_c, F, L) QKD wavelengths per unit of use
    prob: np.ndarray  # (n_c,)
    price: np.ndarray  # (L,) κ·π_q: on-demand minus utilisation price factor times price
    od: np.ndarray  # (L,) on-demand capacity
    reserve: np.ndarray  # (L,) R_q columns (R_k for the KM resource)
    resource: str = "qkd"  # "qkd", or "km" with the eq. 35 rule (KM needs then vary by scenario too)
    seen: set = field(default_factory=set)  # (link, class-set bytes) of cuts already made

    def _cut(self, l: int, weights: np.ndarray) -> _Cut:
        """θ_l − Σ_f κπ Σ_c w_c p_c a[c,f,l]·use[f,l] + κπ Σ_c w_c p_c·R_l ≥ 0 for class weights w (0/1)."""
        pw = self.prob * weights
        coef_use = -self.price[l] * (pw @ self.coef[:, :, l])
        cols = np.concatenate([[self.theta[l]], self.use[:, l], [self.reserve[l]]])
        vals = np.concatenate([[1.0], coef_use, [self.price[l] * pw.sum()]])
        return cols, vals, 0.0, np.inf

    def expected_value_cuts(self) -> list[_Cut]:
        """The cut with every class (θ ≥ expected excess, valid everywhere) for each link."""
        return [self._cut(int(l), np.ones(self.classes.size)) for l in np.flatnonzero(self.theta >= 0)]

    def exact_theta(self, values: np.ndarray) -> tuple[np.ndarray, bool]:
        """(exact recourse per link at ``values`` (0 where no θ), whether on-demand capacities hold)."""
        out = np.zeros(self.theta.size)
        links = np.flatnonzero(self.theta >= 0)
        if links.size == 0:
            return out, True
        use = values[self.use[:, links]]
        need = np.einsum("cfl,fl->cl", self.coef[:, :, links], use)
        excess = need - values[self.reserve[links]][None, :]
        out[links] = self.price[links] * (self.prob @ np.maximum(excess, 0.0))
        return out, bool(np.all(excess <= self.od[links][None, :] + INTEGRALITY_TOLERANCE))

    def breakpoint_cuts(self, l: int, use: np.ndarray, reserve: float | None = None, window: int | None = None) -> list[_Cut]:
        """Every cut of the 1-D piecewise-linear recourse R ↦ Σ_c p_c·κπ·max(0, need_c − R) of link ``l``
        for the link-use vector ``use`` (F,): one per distinct positive need level v, with S = {c: need_c ≥ v}.
        Together they represent that function exactly; each is valid for every use and R.
        With ``window``, only the levels within ``window`` of the one at ``reserve``."""
        need = self.coef[:, :, l] @ use
        levels = np.unique(need[need > DEMAND_TOLERANCE])
        if window is not None and reserve is not None and levels.size:
            k = int(np.searchsorted(levels, reserve + INTEGRALITY_TOLERANCE))
            levels = levels[max(0, k - window): k + window + 1]
        cuts = []
        for v in levels:
            weights = (need >= v - 1e-9).astype(float)
            key = (l, np.packbits(weights.astype(bool)).tobytes())
            if key in self.seen:
                continue
            self.seen.add(key)
            cuts.append(self._cut(l, weights))
        return cuts

    def separate(self, values: np.ndarray, window: int | None = 0) -> list[_Cut]:
        """Cuts violated at ``values`` (recourse underestimated or on-demand capacity exceeded).

        For a violated link, ``window`` = 0 gives the one cut at the current reservation, k > 0 the
        breakpoint cuts within k levels of it, None every breakpoint cut of the link's use vector."""
        links = np.flatnonzero(self.theta >= 0)
        if links.size == 0:
            return []
        use = values[self.use[:, links]]  # (F, n)
        need = np.einsum("cfl,fl->cl", self.coef[:, :, links], use)  # (n_c, n)
        excess = need - values[self.reserve[links]][None, :]
        recourse = self.price[links] * (self.prob @ np.maximum(excess, 0.0))
        theta = values[self.theta[links]]
        cuts = []
        for j in np.flatnonzero(recourse > theta + CUT_REL_TOLERANCE * np.maximum(1.0, recourse)):
            l = int(links[j])
            if window == 0:
                cuts.append(self._cut(l, (excess[:, j] > 0).astype(float)))
            else:
                cuts += self.breakpoint_cuts(l, use[:, j], float(values[self.reserve[l]]), window)
        for c, j in zip(*np.nonzero(excess > self.od[links][None, :] + INTEGRALITY_TOLERANCE)):
            l = int(links[j])
            cols = np.concatenate([self.use[:, l], [self.reserve[l]]])
            vals = np.concatenate([self.coef[c, :, l], [-1.0]])
            cuts.append((cols, vals, -np.inf, float(self.od[l])))
        return cuts


def _add_rows_to_builder(b: "_Builder", cuts: list[_Cut]) -> None:
    for cols, vals, lo, hi in cuts:
        r = b.add_rows(1, lo, hi)
        b.add_entries(np.full(cols.size, r), cols, vals)


def _add_rows_to_highs(h: highspy.Highs, cuts: list[_Cut]) -> None:
    starts = np.cumsum([0] + [c[0].size for c in cuts[:-1]]).astype(np.int32)
    index = np.concatenate([c[0] for c in cuts]).astype(np.int32)
    value = np.concatenate([c[1] for c in cuts])
    lower = np.array([c[2] for c in cuts])
    upper = np.array([c[3] for c in cuts])
    h.addRows(len(cuts), lower, upper, index.size, starts, index, value)


def _build(instance: QkdInstance, options: PlanOptions,
           fix_routes: Mapping[str, Sequence[str]] | None,
           fix_reserved: Mapping[str, Mapping[str, int]] | None) -> _Model:
    t0 = time.perf_counter()
    topo = _Topology(instance)
    classes = _scenario_classes(instance, topo)
    F, A, L, N = len(instance.requests), topo.n_arcs, topo.n_links, topo.n_nodes
    C = len(classes.representative)
    pq, pk = (np.array(p) for p in link_prices(instance))
    beta, gamma = instance.planning.utilisation_factor, instance.planning.ondemand_factor
    b = _Builder()

    down_of_class = [topo.down_links(instance.scenarios[w]) for w in classes.representative]
    always_down = frozenset.intersection(*down_of_class) if down_of_class else frozenset()
    always_down_arcs = np.array(sorted({2 * l for l in always_down} | {2 * l + 1 for l in always_down}), dtype=np.int64)

    src = np.array([topo.node_index[r.src] for r in instance.requests], dtype=np.int64)
    dst = np.array([topo.node_index[r.dst] for r in instance.requests], dtype=np.int64)
    # served[f, c]: a path of links up in class c joins request f's ends; otherwise the request is
    # left unserved in that class (weather cut it off; reachability_diagnosis refuses structural cuts)
    reach: dict[tuple[int, frozenset[int]], bool] = {}  # per request and down set (a handful of weathers)
    served = np.zeros((F, C), dtype=bool)
    for f in range(F):
        for c in range(C):
            key = (f, down_of_class[c])
            if key not in reach:
                reach[key] = topo.reachable(int(src[f]), int(dst[f]), down_of_class[c])
            served[f, c] = reach[key]
    routed = served.any(axis=1)  # routed in some class: needs a first-stage route

    def arc_upper(f: int, blocked: np.ndarray) -> np.ndarray:
        ub = np.ones(A)
        ub[topo.head == src[f]] = 0.0  # nothing enters the source
        ub[topo.tail == dst[f]] = 0.0  # nothing leaves the destination
        ub[blocked] = 0.0
        return ub

    def flow_rows(f: int, cols: np.ndarray) -> None:
        rhs = np.zeros(N)
        rhs[src[f]] = 1.0
        rhs[dst[f]] = -1.0
        r0 = b.add_rows(N, rhs, rhs)
        b.add_entries(topo.inc_rows + r0, cols[topo.inc_cols], topo.inc_vals)

    # first stage: routes x[f, a] with MTZ potentials
    x = np.zeros((F, A), dtype=np.int64)
    for f in range(F):
        x[f] = b.add_cols(A, 0.0, 0.0, arc_upper(f, always_down_arcs) if routed[f] else 0.0, integer=True)
        if routed[f]:
            flow_rows(f, x[f])
        t = b.add_cols(N, 0.0, 0.0, N - 1)
        arcs = np.flatnonzero(topo.head != src[f])
        r0 = b.add_rows(arcs.size, 1.0 - N, np.inf)
        rows = r0 + np.arange(arcs.size)
        b.add_entries(np.concatenate([rows, rows, rows]),
                      np.concatenate([t[topo.head[arcs]], t[topo.tail[arcs]], x[f, arcs]]),
                      np.concatenate([np.ones(arcs.size), -np.ones(arcs.size), -N * np.ones(arcs.size)]))
    cap_q = np.array([instance.media[l.medium].capacity_qkd for l in instance.links], dtype=float)
    cap_k = np.array([instance.media[l.medium].capacity_km for l in instance.links], dtype=float)
    od_q = np.array([instance.media[l.medium].ondemand_capacity_qkd for l in instance.links], dtype=float)
    od_k = np.array([instance.media[l.medium].ondemand_capacity_km for l in instance.links], dtype=float)
    r_q = b.add_cols(L, pq, 0.0, cap_q, integer=True)
    r_k = b.add_cols(L, pk, 0.0, cap_k, integer=True)

    # recourse route blocks: key → (down links beyond the always-down ones)
    block_key = []
    for c, w in enumerate(classes.representative):
        extra = down_of_class[c] - always_down
        if not extra:
            block_key.append(None)
        elif options.reroute == "scenario":
            block_key.append(("class", c))
        else:
            block_key.append(("weather", instance.scenarios[w].weather))
    route_block: dict[tuple[int, int], np.ndarray] = {}
    made: dict[tuple, np.ndarray] = {}
    for c, key in enumerate(block_key):
        for f in range(F):
            if key is None:
                route_block[(f, c)] = x[f]
                continue
            if not served[f, c]:  # no route in this class: an all-zero block (no flow, no wavelengths)
                if ("unserved", key, f) not in made:
                    made[("unserved", key, f)] = b.add_cols(A, 0.0, 0.0, 0.0, integer=True)
                route_block[(f, c)] = made[("unserved", key, f)]
                continue
            if (key, f) not in made:
                down_links = sorted(down_of_class[c] - always_down)
                down_arcs = np.array([a for l in down_links for a in (2 * l, 2 * l + 1)], dtype=np.int64)
                blocked = np.concatenate([always_down_arcs, down_arcs])
                z = b.add_cols(A, 0.0, 0.0, arc_upper(f, blocked), integer=True)
                flow_rows(f, z)
                h = b.add_cols(1, 0.0, 0.0, 1.0)[0]
                # h ≥ x[a] for each down arc; h ≤ Σ_down x
                r0 = b.add_rows(down_arcs.size, 0.0, np.inf)
                rows = r0 + np.arange(down_arcs.size)
                b.add_entries(np.concatenate([rows, rows]), np.concatenate([np.full(down_arcs.size, h), x[f, down_arcs]]),
                              np.concatenate([np.ones(down_arcs.size), -np.ones(down_arcs.size)]))
                r1 = b.add_rows(1, -np.inf, 0.0)
                b.add_entries(np.full(down_arcs.size + 1, r1), np.concatenate([[h], x[f, down_arcs]]),
                              np.concatenate([[1.0], -np.ones(down_arcs.size)]))
                # z[a] − x[a] + h ≥ 0 on arcs that are up
                up = np.setdiff1d(np.arange(A), blocked)
                r2 = b.add_rows(up.size, 0.0, np.inf)
                rows = r2 + np.arange(up.size)
                b.add_entries(np.concatenate([rows, rows, rows]), np.concatenate([z[up], x[f, up], np.full(up.size, h)]),
                              np.concatenate([np.ones(up.size), -np.ones(up.size), np.ones(up.size)]))
                made[(key, f)] = z
            route_block[(f, c)] = made[(key, f)]

    # second stage. With γ ≥ β the utilised wavelengths are eliminated: u = need − o, so the cost
    # β·π·need moves onto the route columns and only o ≥ need − R remains (one column and one row
    # per link instead of two); otherwise u and o are both kept. KM needs depend only on the routes,
    # so classes sharing their route blocks (same weather in ``weather`` mode) share KM columns.
    reduced = gamma >= beta
    lazy = reduced and options.formulation == "lazy"
    # link-use columns w[l] = z[2l] + z[2l+1] per route block: recourse rows get F entries, not 2F
    link_use: dict[int, np.ndarray] = {}
    for cols in route_block.values():
        if int(cols[0]) not in link_use:
            w = b.add_cols(L, 0.0, 0.0, 1.0)
            r0 = b.add_rows(L, 0.0, 0.0)
            rows = r0 + np.arange(L)
            b.add_entries(np.concatenate([rows, rows, rows]), np.concatenate([w, cols[0::2], cols[1::2]]),
                          np.concatenate([np.ones(L), -np.ones(L), -np.ones(L)]))
            link_use[int(cols[0])] = w
    route_cost = np.zeros(b.n_cols)  # extra cost on the route columns, all created above (β·π·need)
    groups: dict[object, int] = {}
    group_of_class = np.array([groups.setdefault(key, len(groups)) for key in block_key], dtype=np.int64)
    G = len(groups)
    group_prob = np.bincount(group_of_class, weights=classes.probability, minlength=G)
    o_q = np.full((C, L), -1, dtype=np.int64)
    u_q = np.full((C, L), -1, dtype=np.int64)
    km_rule = bool(instance.planning.km_per_qkd_link)
    P_link = classes.P[:, :, topo.link_rate_index]  # (C, F, L) parallel QKD links per request and link
    qkd_coef = QKD_WAVELENGTHS_PER_LINK * P_link
    km_coef = KM_WAVELENGTHS_PER_LINK * (P_link if km_rule else np.ones_like(P_link))
    o_k = np.full((C if km_rule else G, L), -1, dtype=np.int64)
    u_k = np.full((C if km_rule else G, L), -1, dtype=np.int64)

    def recourse(prob, links_up, coef, blocks, price, cap, od, reserve, o_out, u_out):
        """Columns and rows of one (class or group) × link set: Σ coef·use − [u] − o (− R) ≤ 0."""
        n = links_up.size
        if n == 0:
            return
        if reduced:
            o = b.add_cols(n, prob * (gamma - beta) * price[links_up], 0.0, od[links_up])
            r0 = b.add_rows(n, -np.inf, 0.0)
            rows = r0 + np.arange(n)
            b.add_entries(np.concatenate([rows, rows]), np.concatenate([o, reserve[links_up]]), -1.0)
        else:
            u = b.add_cols(n, prob * beta * price[links_up], 0.0, cap[links_up])
            o = b.add_cols(n, prob * gamma * price[links_up], 0.0, od[links_up])
            r0 = b.add_rows(n, -np.inf, 0.0)
            rows = r0 + np.arange(n)
            b.add_entries(np.concatenate([rows, rows]), np.concatenate([u, o]), -1.0)
            ru = b.add_rows(n, -np.inf, 0.0)
            b.add_entries(np.concatenate([ru + np.arange(n)] * 2), np.concatenate([u, reserve[links_up]]),
                          np.concatenate([np.ones(n), -np.ones(n)]))
            u_out[links_up] = u
        o_out[links_up] = o
        cols = blocks[:, links_up]  # (F, n) link-use columns
        c = coef[:, links_up]
        keep = c > 0
        b.add_entries(np.broadcast_to(rows, cols.shape)[keep], cols[keep], c[keep])
        if reduced and beta > 0:
            np.add.at(route_cost, cols[keep], (prob * beta * price[links_up] * np.ones_like(c))[keep] * c[keep])

    lazy_groups: list[_LazyGroup] = []
    # lazily generated recourse per resource: QKD always (in the lazy formulation), KM too with eq. 35
    lazy_resources = [("qkd", qkd_coef, pq, od_q, r_q)] + ([("km", km_coef, pk, od_k, r_k)] if km_rule else [])
    if lazy:
        kappa = gamma - beta
        for resource, coef_all, price, od, reserve in lazy_resources:
            for g in range(G):
                members = np.flatnonzero(group_of_class == g)
                c0 = int(members[0])
                up = np.setdiff1d(np.arange(L), sorted(down_of_class[c0]))
                coef = coef_all[members]  # (n_c, F, L)
                needed = up[(coef[:, :, up] > 0).any(axis=(0, 1))]
                use = np.stack([link_use[int(route_block[(f, c0)][0])] for f in range(F)])  # (F, L)
                theta = np.full(L, -1, dtype=np.int64)
                theta[needed] = b.add_cols(needed.size, 1.0, 0.0, np.inf)
                group = _LazyGroup(theta, members, use, coef, classes.probability[members], kappa * price, od, reserve,
                                   resource)
                if beta > 0:
                    for c in members:
                        np.add.at(route_cost, use.ravel(), (classes.probability[c] * beta * price[None, :]
                                                            * coef_all[c]).ravel())
                _add_rows_to_builder(b, group.expected_value_cuts())
                lazy_groups.append(group)
    else:
        for c in range(C):
            up = np.setdiff1d(np.arange(L), sorted(down_of_class[c]))
            needed = up[(qkd_coef[c][:, up] > 0).any(axis=0)]
            blocks = np.stack([link_use[int(route_block[(f, c)][0])] for f in range(F)])  # (F, L)
            recourse(classes.probability[c], needed, qkd_coef[c], blocks, pq, cap_q, od_q, r_q, o_q[c], u_q[c])
    if km_rule and not lazy:  # KM needs vary with the scenario's demand: one recourse block per class
        for c in range(C):
            up = np.setdiff1d(np.arange(L), sorted(down_of_class[c]))
            needed = up[(km_coef[c][:, up] > 0).any(axis=0)]
            blocks = np.stack([link_use[int(route_block[(f, c)][0])] for f in range(F)])
            recourse(classes.probability[c], needed, km_coef[c], blocks, pk, cap_k, od_k, r_k, o_k[c], u_k[c])
    elif not km_rule:  # one KM wavelength per request and used link: the need depends only on the routes
        for g in range(G):
            c = int(np.flatnonzero(group_of_class == g)[0])
            up = np.setdiff1d(np.arange(L), sorted(down_of_class[c]))
            blocks = np.stack([link_use[int(route_block[(f, c)][0])] for f in range(F)])
            recourse(group_prob[g], up, km_coef[c], blocks, pk, cap_k, od_k, r_k, o_k[g], u_k[g])

    lp, upper, integer, matrix = b.finish()
    if reduced and beta > 0:
        lp.col_cost_ = np.asarray(lp.col_cost_) + np.concatenate([route_cost, np.zeros(b.n_cols - route_cost.size)])
    lower = np.asarray(lp.col_lower_)
    if fix_routes:
        lower = lower.copy()
        for name, path in fix_routes.items():
            f = next(i for i, r in enumerate(instance.requests) if r.name == name)
            chosen = np.zeros(A)
            for u, v in zip(path[:-1], path[1:]):
                iu, iv = topo.node_index[u], topo.node_index[v]
                arc = np.flatnonzero((topo.tail == iu) & (topo.head == iv))
                if arc.size != 1:
                    raise ValueError(f"fixed route of {name!r} uses {u}-{v}, which is not a link")
                chosen[arc[0]] = 1.0
            upper[x[f]] = np.minimum(upper[x[f]], chosen)
            lower[x[f]] = chosen
        lp.col_lower_ = lower
        lp.col_upper_ = upper
    if fix_reserved:
        lower = np.asarray(lp.col_lower_).copy()
        for name, amounts in fix_reserved.items():
            l = topo.link_names.index(instance.link_named(name).name)
            for kind, cols in (("qkd", r_q), ("km", r_k)):
                if kind in amounts:
                    value = float(amounts[kind])
                    lower[cols[l]] = value
                    upper[cols[l]] = value
        lp.col_lower_ = lower
        lp.col_upper_ = upper
    return _Model(lp, upper, integer, topo, classes, x, r_q, r_k, u_q, o_q, u_k, o_k, group_of_class, reduced,
                  route_block, pq, pk, time.perf_counter() - t0, int(matrix.nnz), lazy_groups, km_rule, km_coef, served)


def _best_reservation(price: float, weights: np.ndarray, needs: np.ndarray, lo: float, hi: float,
                      od: float) -> float | None:
    """argmin over integer R ∈ [lo, hi] of price·R + Σ_i weights_i·max(0, needs_i − R) subject to
    needs_i − R ≤ od (the 1-D convex piecewise-linear reservation cost of one link; its minimum is at
    a need level or a bound), or None if no R is feasible."""
    lo = max(lo, float(needs.max(initial=0.0)) - od)
    lo, hi = math.ceil(lo - INTEGRALITY_TOLERANCE), math.floor(hi + INTEGRALITY_TOLERANCE)
    if lo > hi:
        return None
    candidates = np.unique(np.clip(np.concatenate([needs, [lo, hi]]), lo, hi))
    costs = price * candidates + np.maximum(needs[None, :] - candidates[:, None], 0.0) @ weights
    return float(candidates[int(np.argmin(costs))])


def _polish(model: _Model, raw: np.ndarray) -> np.ndarray | None:
    """The lazy master's point ``raw`` with its routes kept, every reservation re-optimised for those
    routes (per-link newsvendor over the need levels), θ set to the exact recourse and the KM
    on-demand columns to their exact values: a master-feasible point whose cost is the plan's true
    cost. None if some link's on-demand capacity cannot be met (the routes are infeasible)."""
    values = raw.copy()
    rounded = np.round(values)
    values = np.where(model.integer & (np.abs(rounded - values) <= INTEGRALITY_TOLERANCE), rounded, values)
    cost = np.asarray(model.lp.col_cost_)
    lower = np.asarray(model.lp.col_lower_)
    upper = model.upper
    for resource in ("qkd", "km"):
        groups = [g for g in model.lazy_groups if g.resource == resource]
        if not groups:
            continue
        # needs of every class of every group on every link (n_classes, L), with weights κπ·p_c
        needs = np.concatenate([np.einsum("cfl,fl->cl", g.coef, values[g.use]) for g in groups])
        weights = np.concatenate([g.prob for g in groups])
        kappa_price, od, reserve = groups[0].price, groups[0].od, groups[0].reserve
        for l in range(model.topo.n_links):
            col = int(reserve[l])
            r = _best_reservation(cost[col], kappa_price[l] * weights, needs[:, l], lower[col], upper[col], od[l])
            if r is None:
                return None
            values[col] = r
        for g in groups:
            theta, ok = g.exact_theta(values)
            if not ok:
                return None
            links = g.theta >= 0
            values[g.theta[links]] = theta[links]
    if model.km_rule:
        return values
    # KM (eq. 6): need per route group and link; on-demand columns o_k[g, l] carry the group's probability
    qkd_groups = [g for g in model.lazy_groups if g.resource == "qkd"]
    need_k = np.stack([KM_WAVELENGTHS_PER_LINK * values[g.use].sum(axis=0) for g in qkd_groups])  # (G, L)
    for l in range(model.topo.n_links):
        col = int(model.r_k[l])
        o_cols = model.o_k[:, l]
        has = o_cols >= 0
        if np.any(need_k[~has, l] > INTEGRALITY_TOLERANCE):
            return None
        od = float(np.min(upper[o_cols[has]], initial=np.inf))
        r = _best_reservation(cost[col], cost[o_cols[has]], need_k[has, l], lower[col], upper[col], od)
        if r is None:
            return None
        values[col] = r
        values[o_cols[has]] = np.maximum(need_k[has, l] - r, 0.0)
    return values


def _path(arc_values: np.ndarray, topo: _Topology, src: int, dst: int) -> list[str]:
    """Node list from src following arcs with value 1 (cycles off the path are ignored)."""
    chosen = np.flatnonzero(arc_values > 0.5)
    nxt = {int(topo.tail[a]): int(topo.head[a]) for a in chosen}
    path = [src]
    while path[-1] != dst and path[-1] in nxt and len(path) <= topo.n_nodes:
        path.append(nxt[path[-1]])
    if path[-1] != dst:
        return []  # no route (a request left unserved)
    return [topo.node_names[v] for v in path]


def _highs(options: PlanOptions, time_limit_s: float) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", float(options.mip_rel_gap))
    h.setOptionValue("time_limit", max(float(time_limit_s), 1e-3))
    if options.threads:
        h.setOptionValue("threads", int(options.threads))
    return h


@dataclass
class _Outcome:
    """What a (cutting-plane) solve produced: HiGHS's last status, the best plan's column values, gap."""

    status: highspy.HighsModelStatus
    values: np.ndarray | None
    mip_gap: float
    converged: bool
    rounds: int
    solve_s: float
    rows: int


def _run(model: _Model, options: PlanOptions, start: dict[int, float] | None = None) -> _Outcome:
    """Solve the MILP; with lazy recourse, a cutting-plane loop (module docstring of ``_LazyGroup``).

    Lazy loop: Kelley rounds on the LP relaxation first (cheap; they seed the MILP with cuts), then
    MILP rounds. Every improving master solution HiGHS finds (callback) is polished (``_polish``:
    routes kept, reservations re-optimised per link, θ exact), so its true cost is an upper bound;
    HiGHS's dual bound on the relaxed master is a lower bound. A master run is interrupted as soon as
    its dual bound proves the best polished plan within ``mip_rel_gap`` (callback), and the loop
    stops then or when no cut is violated. Cuts at master points are the breakpoint cuts within
    ``MIP_CUT_WINDOW`` levels of the point's reservation. The best polished plan is handed to the
    next round as a start. ``start`` (column → value, every integer column) is a
    partial solution HiGHS completes and uses as its first incumbent.
    """
    t0 = time.perf_counter()
    h = _highs(options, options.time_limit_s)
    h.passModel(model.lp)

    def set_start() -> None:
        if start:
            index = np.fromiter(start.keys(), dtype=np.int32)
            h.setSolution(int(index.size), index, np.fromiter(start.values(), dtype=float))

    if not model.lazy_groups:
        set_start()
        h.run()
        info = h.getInfo()
        values = np.asarray(h.getSolution().col_value) if info.primal_solution_status == 2 else None
        return _Outcome(h.getModelStatus(), values, float(info.mip_gap), True, 0, time.perf_counter() - t0,
                        int(h.getNumRow()))

    def remaining() -> float:
        return max(options.time_limit_s - (time.perf_counter() - t0), 1e-3)

    def separate(values: np.ndarray, window: int | None = 0) -> list[_Cut]:
        return [cut for group in model.lazy_groups for cut in group.separate(values, window)]

    rounds = 0
    relaxed = model.lp
    relaxed.integrality_ = [highspy.HighsVarType.kContinuous] * relaxed.num_col_
    lp = _highs(options, options.time_limit_s)
    lp.passModel(relaxed)
    relaxed.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                            for i in model.integer]
    lp_deadline_s = LP_PHASE_SHARE * options.time_limit_s
    for _ in range(MAX_CUT_ROUNDS):
        if time.perf_counter() - t0 >= lp_deadline_s:
            break
        lp.setOptionValue("time_limit", max(lp_deadline_s - (time.perf_counter() - t0), 1e-3))
        lp.run()
        if lp.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        cuts = separate(np.asarray(lp.getSolution().col_value))
        if not cuts:
            break
        rounds += 1
        _add_rows_to_highs(lp, cuts)
        _add_rows_to_highs(h, cuts)
    # the master's incumbents are polished by ``_polish``; RINS only adds time to every round here
    h.setOptionValue("mip_heuristic_run_rins", False)
    cost = np.asarray(model.lp.col_cost_)
    best_cost, best_values = math.inf, None
    lower = -math.inf
    found: list[np.ndarray] = []
    interrupted = False

    def close_enough() -> bool:
        return best_values is not None and best_cost - lower <= options.mip_rel_gap * max(abs(best_cost), 1e-9)

    def offer(raw: np.ndarray) -> None:
        """A master solution: keep it for separation; its polished plan may be the best so far."""
        nonlocal best_cost, best_values
        found.append(raw)
        values = _polish(model, raw)
        if values is not None:
            true_cost = float(cost @ values)
            if true_cost < best_cost:
                best_cost, best_values = true_cost, values

    def on_solution(e) -> None:
        offer(np.array(e.data_out.mip_solution, dtype=float))

    def on_interrupt(e) -> None:
        nonlocal lower, interrupted
        bound = float(e.data_out.mip_dual_bound)
        if math.isfinite(bound) and bound > lower:
            lower = bound
        if close_enough():  # the master's bound already proves the best polished plan
            interrupted = True
            e.interrupt()

    h.cbMipImprovingSolution.subscribe(on_solution)
    h.cbMipInterrupt.subscribe(on_interrupt)
    set_start()
    converged = False
    loose = LOOSE_ROUND_GAP > options.mip_rel_gap and not start  # first rounds only harvest cuts: a looser gap is enough
    for _ in range(MAX_CUT_ROUNDS):
        h.setOptionValue("time_limit", remaining())
        h.setOptionValue("mip_rel_gap", LOOSE_ROUND_GAP if loose else float(options.mip_rel_gap))
        found.clear()
        interrupted = False
        h.run()
        rounds += 1
        info = h.getInfo()
        if interrupted:
            converged = True
            break
        if info.primal_solution_status != 2:
            break
        lower = max(lower, float(info.mip_dual_bound))
        if not found:
            offer(np.asarray(h.getSolution().col_value))
        cuts = []
        for raw in found:
            cuts += separate(raw, MIP_CUT_WINDOW)
        if close_enough():
            converged = True
            break
        if not cuts:
            if not loose:
                converged = True
                break
            loose = False  # the loose master is exact at its incumbent: tighten the gap and go on
        if time.perf_counter() - t0 >= options.time_limit_s:
            break
        if cuts:
            _add_rows_to_highs(h, cuts)
        if best_values is not None and not loose:  # a start would end a loose round at once
            start = highspy.HighsSolution()
            start.col_value = best_values.tolist()
            start.value_valid = True
            h.setSolution(start)
    gap = (best_cost - lower) / max(abs(best_cost), 1e-9) if best_values is not None else math.nan
    status = highspy.HighsModelStatus.kOptimal if converged else h.getModelStatus()
    if best_values is None and status == highspy.HighsModelStatus.kOptimal:
        status = highspy.HighsModelStatus.kTimeLimit  # cut loop ended without a capacity-feasible plan
    return _Outcome(status, best_values, max(gap, 0.0), converged, rounds, time.perf_counter() - t0,
                    int(h.getNumRow()))


def _arcs_of(path: Sequence[str], topo: _Topology) -> np.ndarray:
    """0/1 arc vector of a node list."""
    chosen = np.zeros(topo.n_arcs)
    for u, v in zip(path[:-1], path[1:]):
        iu, iv = topo.node_index[u], topo.node_index[v]
        chosen[np.flatnonzero((topo.tail == iu) & (topo.head == iv))] = 1.0
    return chosen


def _start_from_plan(model: _Model, instance: QkdInstance, plan: PlanResult) -> dict[int, float]:
    """Values of every integer column of ``model`` from another mode's plan (routes per scenario, reservations)."""
    start: dict[int, float] = {}
    for f, req in enumerate(instance.requests):
        start.update(zip(model.x[f].tolist(), _arcs_of(plan.routes[req.name], model.topo).tolist()))
    for c, w in enumerate(model.classes.representative):
        routes = plan.scenario_routes[instance.scenarios[w].name]
        for f, req in enumerate(instance.requests):
            start.update(zip(model.route_block[(f, c)].tolist(), _arcs_of(routes[req.name], model.topo).tolist()))
    for l, name in enumerate(model.topo.link_names):
        amounts = plan.reserved.get(name, {"qkd": 0, "km": 0})
        start[int(model.r_q[l])] = float(amounts["qkd"])
        start[int(model.r_k[l])] = float(amounts["km"])
    return start


def solve_plan(instance: QkdInstance, options: PlanOptions | None = None, *,
               fix_routes: Mapping[str, Sequence[str]] | None = None,
               fix_reserved: Mapping[str, Mapping[str, int]] | None = None,
               diagnose: bool = True) -> PlanResult:
    """Solve the two-stage QKD provisioning program (module docstring) with HiGHS.

    Args:
        instance: the validated instance.
        options: re-routing mode, MIP gap, time limit.
        fix_routes: request → node list; fixes those first-stage routes (used for EEV).
        fix_reserved: link name → {"qkd": n, "km": n}; fixes those reservations (for EEV and sweeps).
        diagnose: on infeasibility, find the request/link/scenario to blame (extra solves).
    """
    options = options or PlanOptions()
    if diagnose and not fix_routes and not fix_reserved:
        reason = reachability_diagnosis(instance)
        if reason:
            return PlanResult(STATUS_INFEASIBLE, math.nan, math.nan, math.nan, {}, {}, 0.0,
                              reroute=options.reroute, diagnosis=reason)
    t_start = time.perf_counter()
    model = _build(instance, options, fix_routes, fix_reserved)
    start = None
    has_recourse_blocks = any(model.route_block[key] is not model.x[key[0]] for key in model.route_block)
    if options.reroute == "scenario" and has_recourse_blocks:
        # warm start: the weather-mode plan is feasible here (one backup route per weather)
        warm = solve_plan(instance, replace(options, reroute="weather", time_limit_s=options.time_limit_s / 3),
                          fix_routes=fix_routes, fix_reserved=fix_reserved, diagnose=False)
        if warm.has_plan:
            start = _start_from_plan(model, instance, warm)
        options = replace(options, time_limit_s=max(options.time_limit_s - (time.perf_counter() - t_start), 1e-3))
    out = _run(model, options, start)
    solve_s = time.perf_counter() - t_start - model.build_s  # HiGHS runs, incl. a warm-start solve
    status = out.status
    size = {"columns": int(model.lp.num_col_), "rows": int(model.lp.num_row_),
            "integer_columns": int(model.integer.sum()), "nonzeros": model.n_nonzeros,
            "scenario_classes": len(model.classes.representative), "cut_rounds": out.rounds,
            "rows_with_cuts": out.rows}
    has_solution = out.values is not None
    if status == highspy.HighsModelStatus.kOptimal and has_solution and out.converged:
        label = STATUS_OPTIMAL
    elif has_solution and status in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit):
        label = STATUS_TIME_LIMIT
    elif status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        label = STATUS_INFEASIBLE
    else:
        label = STATUS_FAILED
    warm_diagnosis = ("time limit reached in scenario mode: this is the weather-mode plan (one backup route per "
                      "weather), feasible for scenario re-routing; its objective is an upper bound")
    if label == STATUS_FAILED and start is not None:
        # out of time before any scenario-mode plan: the weather-mode plan is feasible here too
        return replace(warm, status=STATUS_TIME_LIMIT, reroute=options.reroute, mip_gap=math.nan, size=size,
                       solve_s=time.perf_counter() - t_start - model.build_s, build_s=model.build_s,
                       diagnosis=warm_diagnosis)
    if label in (STATUS_INFEASIBLE, STATUS_FAILED):
        if label == STATUS_INFEASIBLE:
            reason = (capacity_diagnosis(instance, options) if diagnose and not fix_routes and not fix_reserved
                      else "the fixed first stage cannot serve every scenario")
        else:
            reason = f"HiGHS stopped with status {highspy.Highs().modelStatusToString(status)} and no feasible plan"
        return PlanResult(label, math.nan, math.nan, math.nan, {}, {}, solve_s, build_s=model.build_s,
                          reroute=options.reroute, diagnosis=reason, size=size)
    values = out.values
    rounded = np.where(model.integer, np.round(values), values)
    values = np.where(np.abs(rounded - values) <= INTEGRALITY_TOLERANCE, rounded, values)
    topo = model.topo
    routes = {}
    for f, req in enumerate(instance.requests):
        routes[req.name] = _path(values[model.x[f]], topo, topo.node_index[req.src], topo.node_index[req.dst])
    reserved = {}
    for l, name in enumerate(topo.link_names):
        q, k = int(round(values[model.r_q[l]])), int(round(values[model.r_k[l]]))
        if q or k:
            reserved[name] = {"qkd": q, "km": k}
    first = float(model.prices_q @ values[model.r_q] + model.prices_k @ values[model.r_k])
    of = model.classes.of_scenario
    C = len(model.classes.representative)
    need_q = np.zeros((C, topo.n_links))
    need_k = np.zeros_like(need_q)
    scenario_routes_by_class = []
    for c in range(C):
        per_request = {}
        for f, req in enumerate(instance.requests):
            arcs = values[model.route_block[(f, c)]]
            use = arcs[0::2] + arcs[1::2]
            need_q[c] += QKD_WAVELENGTHS_PER_LINK * model.classes.P[c, f, topo.link_rate_index] * use
            need_k[c] += model.km_coef[c, f] * use
            per_request[req.name] = _path(arcs, topo, topo.node_index[req.src], topo.node_index[req.dst])
        scenario_routes_by_class.append(per_request)

    def column_values(cols: np.ndarray) -> np.ndarray:
        return np.where(cols >= 0, values[np.maximum(cols, 0)], 0.0)

    if model.reduced:  # the optimal recourse of the plan: on demand only beyond the reservation
        o_q = np.maximum(need_q - values[model.r_q][None, :], 0.0)
        o_k = np.maximum(need_k - values[model.r_k][None, :], 0.0)
        u_q, u_k = need_q - o_q, need_k - o_k
    else:
        o_q = column_values(model.o_q)
        per_class = slice(None) if model.km_rule else model.group_of_class
        o_k = column_values(model.o_k)[per_class]
        u_q = column_values(model.u_q)
        u_k = column_values(model.u_k)[per_class]
    arrays = {"u_q": u_q[of], "o_q": o_q[of], "u_k": u_k[of], "o_k": o_k[of]}
    beta, gamma = instance.planning.utilisation_factor, instance.planning.ondemand_factor
    probs = np.array([s.probability for s in instance.scenarios])
    second = float(probs @ ((beta * arrays["u_q"] + gamma * arrays["o_q"]) @ model.prices_q
                            + (beta * arrays["u_k"] + gamma * arrays["o_k"]) @ model.prices_k))
    scenario_routes = {s.name: scenario_routes_by_class[of[w]] for w, s in enumerate(instance.scenarios)}
    unserved = {s.name: [r.name for f, r in enumerate(instance.requests) if not model.served[f, of[w]]]
                for w, s in enumerate(instance.scenarios)}
    unserved = {name: requests for name, requests in unserved.items() if requests}
    diagnosis = ""
    if label == STATUS_TIME_LIMIT and start is not None and first + second >= warm.objective * (1 - 1e-9):
        diagnosis = warm_diagnosis  # the scenario-mode run found nothing better than its weather-mode start
    return PlanResult(
        status=label, objective=first + second, first_stage_cost=first,
        expected_second_stage_cost=second, routes=routes, reserved=reserved, solve_s=solve_s,
        build_s=model.build_s, mip_gap=out.mip_gap, reroute=options.reroute,
        scenario_routes=scenario_routes, link_names=tuple(topo.link_names), diagnosis=diagnosis,
        utilised_qkd=arrays["u_q"], ondemand_qkd=arrays["o_q"], utilised_km=arrays["u_k"], ondemand_km=arrays["o_k"],
        need_qkd=need_q[of], need_km=need_k[of], size=size, unserved=unserved,
    )


def _reachable(adjacency: dict[str, list[str]], src: str, dst: str) -> bool:
    seen = {src}
    queue = deque([src])
    while queue:
        v = queue.popleft()
        if v == dst:
            return True
        for w in adjacency.get(v, ()):
            if w not in seen:
                seen.add(w)
                queue.append(w)
    return False


def reachability_diagnosis(instance: QkdInstance) -> str:
    """Why some request cannot be served in some scenario even alone, or "" if every one can.

    A request that no path joins even with every link up cannot be planned at all. A request that the
    scenario's weather cuts off (every path has a down link) is left unserved there (``PlanResult.unserved``),
    not diagnosed. Otherwise a request alone can use link l in scenario ω only if l is up under ω's
    weather and l's medium offers at least 3·P QKD wavelengths (reserved + on-demand capacity, P from
    l's key rate) and the KM wavelengths it needs (1, or P with ``km_per_qkd_link``).
    """
    every_link: dict[str, list[str]] = {}
    for link in instance.links:
        every_link.setdefault(link.a, []).append(link.b)
        every_link.setdefault(link.b, []).append(link.a)
    for req in instance.requests:
        if not _reachable(every_link, req.src, req.dst):
            return f"request {req.name!r} ({req.src} -> {req.dst}): no path joins its nodes even with every link up"
    km_rule = instance.planning.km_per_qkd_link
    for s in instance.scenarios:
        down = s.down_media()
        for req in instance.requests:
            up: dict[str, list[str]] = {}
            adjacency: dict[str, list[str]] = {}
            excluded = []
            for link in instance.links:
                medium = instance.media[link.medium]
                if link.medium in down:
                    excluded.append(f"{link.name} (down: {s.weather})")
                    continue
                up.setdefault(link.a, []).append(link.b)
                up.setdefault(link.b, []).append(link.a)
                p = qkd_links_needed(s.demand(req.name), instance.key_rate_bps(link))
                need_q = QKD_WAVELENGTHS_PER_LINK * p
                need_k = KM_WAVELENGTHS_PER_LINK * (p if km_rule else 1)
                if need_q > medium.capacity_qkd + medium.ondemand_capacity_qkd:
                    excluded.append(f"{link.name} (needs {need_q} QKD wavelengths, {link.medium} offers "
                                    f"{medium.capacity_qkd}+{medium.ondemand_capacity_qkd})")
                    continue
                if need_k > medium.capacity_km + medium.ondemand_capacity_km:
                    excluded.append(f"{link.name} (needs {need_k} KM wavelengths, {link.medium} offers "
                                    f"{medium.capacity_km}+{medium.ondemand_capacity_km})")
                    continue
                adjacency.setdefault(link.a, []).append(link.b)
                adjacency.setdefault(link.b, []).append(link.a)
            if not _reachable(up, req.src, req.dst):
                continue  # cut off by the weather: left unserved in this scenario
            if not _reachable(adjacency, req.src, req.dst):
                shown = ", ".join(excluded[:6]) + (f" and {len(excluded) - 6} more" if len(excluded) > 6 else "")
                return (f"request {req.name!r} ({req.src} -> {req.dst}) cannot be served in scenario {s.name!r} "
                        f"(weather {s.weather}, demand {s.demand(req.name):g} bit/s): no path over usable links"
                        + (f"; unusable: {shown}" if shown else ""))
    return ""


def capacity_diagnosis(instance: QkdInstance, options: PlanOptions) -> str:
    """Name the scenario, request and overloaded links that make an instance infeasible (extra solves)."""
    quick = PlanOptions(reroute=options.reroute, mip_rel_gap=1.0 - 1e-9, time_limit_s=options.time_limit_s,
                        threads=options.threads)
    for s in instance.scenarios:
        single = instance.with_scenarios((Scenario(s.name, 1.0, s.weather, s.demand_bps),))
        if solve_plan(single, quick, diagnose=False).has_plan:
            continue
        served: list = []
        for req in instance.requests:
            subset = QkdInstance(instance.media, instance.planning, instance.nodes, instance.links,
                                 tuple(served) + (req,), single.scenarios, instance.source)
            if solve_plan(subset, quick, diagnose=False).has_plan:
                served.append(req)
                continue
            media = {name: _unbounded(m) for name, m in instance.media.items()}
            relaxed = QkdInstance(media, instance.planning, instance.nodes, instance.links, subset.requests,
                                  single.scenarios, instance.source)
            plan = solve_plan(relaxed, quick, diagnose=False)
            over = []
            if plan.has_plan:
                for l, link in enumerate(instance.links):
                    m = instance.media[link.medium]
                    nq, nk = plan.need_qkd[0, l], plan.need_km[0, l]
                    if nq > m.capacity_qkd + m.ondemand_capacity_qkd or nk > m.capacity_km + m.ondemand_capacity_km:
                        over.append(f"{link.name} (needs {nq:g} QKD / {nk:g} KM wavelengths, capacity "
                                    f"{m.capacity_qkd + m.ondemand_capacity_qkd} / {m.capacity_km + m.ondemand_capacity_km})")
            links = "; overloaded links on the cheapest routing: " + ", ".join(over) if over else ""
            others = ", ".join(repr(r.name) for r in served) or "none"
            return (f"scenario {s.name!r} (weather {s.weather}): request {req.name!r} ({req.src} -> {req.dst}, "
                    f"{s.demand(req.name):g} bit/s) cannot be served together with requests {others}: "
                    f"link capacities exceeded{links}")
    return ("every scenario can be served on its own, but no single first-stage route per request and "
            "reservation serves all scenarios together (capacity shared across scenarios)")


def _unbounded(medium):
    """The medium with practically unlimited on-demand capacity (for naming overloaded links)."""
    big = 10 ** 9
    return replace(medium, ondemand_capacity_qkd=big, ondemand_capacity_km=big)
