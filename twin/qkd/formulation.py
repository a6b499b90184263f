"""Deterministic-equivalent MILP of the two-stage QKD provisioning program: its formulation.

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
  request no path joins with every link up is infeasible (:func:`twin.qkd.diagnosis.reachability_diagnosis`,
  which the callers run before solving).
- Route used in ω: the first-stage route if none of its links is down in ω, else a recourse route
  z[f,k,·] on up links (flow conservation). Exactly: hit indicator h[f,k] ∈ [0,1] with
  h ≥ x[f,a] for each down arc a and h ≤ Σ_down x[f,a] (so h = 1 iff the route is hit, integral
  because x is), and z[f,k,a] ≥ x[f,a] − h on up arcs (not hit ⇒ z = x).
  Re-routing modes: ``scenario`` (exact; one recourse route per request and scenario, k = ω) and
  ``weather`` (one backup route per request and weather pattern, shared by all scenarios of that
  weather, k = w(ω); a restriction of ``scenario``, so its optimum is ≥ the exact one, equal when
  every weather pattern's scenarios prefer the same backup). Default: ``weather`` — a handful of
  route blocks instead of one per scenario. ``scenario`` mode is solved by default through its
  free-backup relaxation (below; :mod:`twin.qkd.decomposed`); this full model is the reference.
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
  generated in a cutting-plane loop (:func:`twin.qkd.solve.run_solver`); it has the same optimum as ``explicit`` and a
  much smaller LP (200 scenarios × 27 links: ≈2.5k instead of ≈6.5k rows).
- ``free_backups=True`` builds the *free-backup relaxation* instead (used by :mod:`twin.qkd.decomposed`):
  the recourse route blocks are continuous flows of value 1 − h with z ≥ x − h, so at an integer first
  stage z = max(0, x − h): a request not hit keeps its route, a hit one is carried nowhere. Every
  scenario-mode plan maps onto it at no higher cost, so its optimum bounds the scenario-mode one from below.
  Two inequalities valid for every simple path tighten its LP (weak otherwise: a cheap fractional
  detour to a UAV raised h and freed the cloudy flow): h ≤ Σ x over the down arcs whose tail the
  source reaches on up links (every hit path has such a first down arc), and no return,
  x[u→v] ≤ Σ_{w≠u} x[v→w] at every node but the request's ends.
The matrix is assembled as a sparse COO → CSC array (:mod:`twin.qkd.lp_builder`) and passed to HiGHS
directly (no modelling layer).

This module builds the model (:func:`build_model`); :mod:`twin.qkd.fixings` fixes parts of the first
stage, :mod:`twin.qkd.solve` runs HiGHS (and the cutting-plane loop), :mod:`twin.qkd.extraction` reads
the plan back and :mod:`twin.qkd.planner` chains them.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np

from physical.wavelengths import KM_WAVELENGTHS_PER_LINK, QKD_WAVELENGTHS_PER_LINK, qkd_links_needed
from twin.qkd.instance import QkdInstance
from twin.qkd.lp_builder import LpBuilder
from twin.qkd.plan import PlanOptions
from twin.qkd.pricing import link_prices
from twin.qkd.recourse_cuts import LazyGroup, add_cuts_to_builder
from twin.qkd.topology import Topology


@dataclass
class ScenarioClasses:
    """Scenario classes after merging identical recourse problems."""

    representative: list[int]  # scenario index per class
    probability: np.ndarray  # per class
    of_scenario: np.ndarray  # class index per scenario
    P: np.ndarray  # (class, request, distinct link rate) parallel QKD links needed


def scenario_classes(instance: QkdInstance, topo: Topology) -> ScenarioClasses:
    """Merge the scenarios with the same weather and the same parallel QKD links P = ceil(k/K) needed by
    every request at every distinct link rate K (identical recourse problems); probabilities add."""
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
    return ScenarioClasses(reps, np.array(probs), of, P)


@dataclass
class MilpModel:
    """The assembled MILP and the column indices the fixings, the solver and the extraction need."""

    lp: highspy.HighsLp
    upper: np.ndarray
    integer: np.ndarray
    topo: Topology
    classes: ScenarioClasses
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
    n_nonzeros: int
    lazy_groups: list[LazyGroup]
    km_rule: bool  # one KM wavelength per parallel QKD link (Kaewpuang eq. 35), needs per class
    km_coef: np.ndarray  # (C, F, L) KM wavelengths per unit of link use
    served: np.ndarray  # (F, C) bool: request f is routed in class c (False: left unserved, no path up)
    backups: list[tuple[int, np.ndarray, int, np.ndarray]]  # (request, z, h, link-use w) per free recourse block
    free_backups: bool  # the free-backup relaxation (module docstring)



def build_model(instance: QkdInstance, options: PlanOptions, free_backups: bool = False,
                exact_requests: frozenset[int] = frozenset()) -> MilpModel:
    """The deterministic-equivalent MILP of ``instance`` (module docstring) for ``options.reroute`` and
    ``options.formulation``, or with ``free_backups`` its free-backup relaxation, in which the requests
    ``exact_requests`` (indices) keep exact per-class recourse routes; every first-stage decision free
    (see :mod:`twin.qkd.fixings`)."""
    topo = Topology(instance)
    classes = scenario_classes(instance, topo)
    F, A, L, N = len(instance.requests), topo.n_arcs, topo.n_links, topo.n_nodes
    C = len(classes.representative)
    pq, pk = (np.array(p) for p in link_prices(instance))
    beta, gamma = instance.planning.utilisation_factor, instance.planning.ondemand_factor
    b = LpBuilder()

    down_of_class = [topo.down_links(instance.scenarios[w]) for w in classes.representative]
    always_down = frozenset.intersection(*down_of_class) if down_of_class else frozenset()
    always_down_arcs = np.array(sorted({2 * l for l in always_down} | {2 * l + 1 for l in always_down}), dtype=np.int64)

    src = np.array([topo.node_index[r.src] for r in instance.requests], dtype=np.int64)
    dst = np.array([topo.node_index[r.dst] for r in instance.requests], dtype=np.int64)
    # served[f, c]: a path of links up in class c joins request f's ends; otherwise the request is
    # left unserved in that class (weather cut it off; the callers' reachability_diagnosis refuses structural cuts)
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

    def flow_rows(f: int, cols: np.ndarray) -> int:
        rhs = np.zeros(N)
        rhs[src[f]] = 1.0
        rhs[dst[f]] = -1.0
        r0 = b.add_rows(N, rhs, rhs)
        b.add_entries(topo.inc_rows + r0, cols[topo.inc_cols], topo.inc_vals)
        return r0

    def no_return_rows(f: int) -> None:
        """x[u→v] ≤ Σ_{w≠u} x[v→w] for v ∉ {s_f, d_f}: a simple path leaves each node it passes on another
        link. Valid for every route; it cuts the relaxation's fractional u→v→u detours (e.g. to a UAV,
        cheap ones whose hit indicator would free the whole cloudy flow)."""
        arcs = np.flatnonzero((topo.head != src[f]) & (topo.head != dst[f]))
        onward = [np.flatnonzero((topo.tail == topo.head[a]) & (topo.head != topo.tail[a])) for a in arcs]
        r0 = b.add_rows(arcs.size, -np.inf, 0.0)
        rows = np.concatenate([np.full(1 + o.size, r0 + i) for i, o in enumerate(onward)])
        cols = np.concatenate([np.concatenate([[a], o]) for a, o in zip(arcs, onward)])
        vals = np.concatenate([np.concatenate([[1.0], -np.ones(o.size)]) for o in onward])
        b.add_entries(rows, x[f, cols], vals)

    # first stage: routes x[f, a] with MTZ potentials
    x = np.zeros((F, A), dtype=np.int64)
    for f in range(F):
        x[f] = b.add_cols(A, 0.0, 0.0, arc_upper(f, always_down_arcs) if routed[f] else 0.0, integer=True)
        if routed[f]:
            flow_rows(f, x[f])
        if free_backups and routed[f]:
            no_return_rows(f)
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
    hit_of: dict[int, tuple[int, int]] = {}  # first z column → (request, h column)
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
            free = free_backups and f not in exact_requests
            own = ("class", c) if free_backups and not free else key  # exact requests: one block per class
            if (own, f) not in made:
                down_links = sorted(down_of_class[c] - always_down)
                down_arcs = np.array([a for l in down_links for a in (2 * l, 2 * l + 1)], dtype=np.int64)
                blocked = np.concatenate([always_down_arcs, down_arcs])
                z = b.add_cols(A, 0.0, 0.0, arc_upper(f, blocked), integer=not free)
                h = b.add_cols(1, 0.0, 0.0, 1.0)[0]
                r0 = flow_rows(f, z)
                if free:  # a flow of value 1 − h: the route if not hit, nothing (a circulation) if hit
                    b.add_entries([r0 + src[f], r0 + dst[f]], [h, h], [1.0, -1.0])
                    hit_of[int(z[0])] = (f, int(h))
                # h ≥ x[a] for each down arc; h ≤ Σ_down x
                r0 = b.add_rows(down_arcs.size, 0.0, np.inf)
                rows = r0 + np.arange(down_arcs.size)
                b.add_entries(np.concatenate([rows, rows]), np.concatenate([np.full(down_arcs.size, h), x[f, down_arcs]]),
                              np.concatenate([np.ones(down_arcs.size), -np.ones(down_arcs.size)]))
                # h ≤ Σ x over the down arcs; in the relaxation only over those a path can enter first (tail
                # joined to the source by up links), which holds for every simple path and is much tighter
                first = down_arcs
                if free_backups:
                    near = topo.component(int(src[f]), down_of_class[c])
                    first = down_arcs[np.isin(topo.tail[down_arcs], sorted(near))]
                r1 = b.add_rows(1, -np.inf, 0.0)
                b.add_entries(np.full(first.size + 1, r1), np.concatenate([[h], x[f, first]]),
                              np.concatenate([[1.0], -np.ones(first.size)]))
                # z[a] − x[a] + h ≥ 0 on arcs that are up
                up = np.setdiff1d(np.arange(A), blocked)
                r2 = b.add_rows(up.size, 0.0, np.inf)
                rows = r2 + np.arange(up.size)
                b.add_entries(np.concatenate([rows, rows, rows]), np.concatenate([z[up], x[f, up], np.full(up.size, h)]),
                              np.concatenate([np.ones(up.size), -np.ones(up.size), np.ones(up.size)]))
                made[(own, f)] = z
            route_block[(f, c)] = made[(own, f)]
    if free_backups and exact_requests:  # classes no longer share all their route blocks
        block_key = [None if key is None else ("class", c) for c, key in enumerate(block_key)]

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

    lazy_groups: list[LazyGroup] = []
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
                group = LazyGroup(theta, members, use, coef, classes.probability[members], kappa * price, od, reserve,
                                   resource)
                if beta > 0:
                    for c in members:
                        np.add.at(route_cost, use.ravel(), (classes.probability[c] * beta * price[None, :]
                                                            * coef_all[c]).ravel())
                add_cuts_to_builder(b, group.expected_value_cuts())
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
    backups = [(hit_of[int(z[0])][0], z, hit_of[int(z[0])][1], link_use[int(z[0])])
               for z in made.values() if int(z[0]) in hit_of]
    return MilpModel(lp, upper, integer, topo, classes, x, r_q, r_k, u_q, o_q, u_k, o_k, group_of_class, reduced,
                     route_block, pq, pk, int(matrix.nnz), lazy_groups, km_rule, km_coef, served, backups, free_backups)
