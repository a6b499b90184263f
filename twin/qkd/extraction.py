"""Reading a QKD plan back from the solved MILP's column values: routes, reservations, recourse, costs.

The objective is re-evaluated exactly from the plan (first stage + expected recourse, Kaewpuang's
two-stage objective as written in :mod:`twin.qkd.formulation`) rather than taken from HiGHS, and
the per-scenario wavelengths are the plan's optimal recourse.
"""

from __future__ import annotations

import numpy as np

from physical.wavelengths import QKD_WAVELENGTHS_PER_LINK
from twin.qkd.formulation import MilpModel
from twin.qkd.instance import QkdInstance
from twin.qkd.lp_builder import INTEGRALITY_TOLERANCE
from twin.qkd.plan import PlanResult
from twin.qkd.topology import Topology


def _route_path(arc_values: np.ndarray, topo: Topology, src: int, dst: int) -> list[str]:
    """Node list from src following arcs with value 1 (cycles off the path are ignored)."""
    chosen = np.flatnonzero(arc_values > 0.5)
    nxt = {int(topo.tail[a]): int(topo.head[a]) for a in chosen}
    path = [src]
    while path[-1] != dst and path[-1] in nxt and len(path) <= topo.n_nodes:
        path.append(nxt[path[-1]])
    if path[-1] != dst:
        return []  # no route (a request left unserved)
    return [topo.node_names[v] for v in path]


def extract_plan(model: MilpModel, instance: QkdInstance, values: np.ndarray, *, status: str, mip_gap: float,
                 reroute: str, solve_s: float, build_s: float, size: dict[str, int]) -> PlanResult:
    """The plan of the column ``values`` of ``model`` (built from ``instance``) with its solve record.

    Args:
        values: a feasible point of the model (integer columns within ``INTEGRALITY_TOLERANCE``).
        status, mip_gap, reroute, solve_s, build_s, size: the solve record (see :class:`PlanResult`).
    """
    rounded = np.where(model.integer, np.round(values), values)
    values = np.where(np.abs(rounded - values) <= INTEGRALITY_TOLERANCE, rounded, values)
    topo = model.topo
    routes = {}
    for f, req in enumerate(instance.requests):
        routes[req.name] = _route_path(values[model.x[f]], topo, topo.node_index[req.src], topo.node_index[req.dst])
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
            per_request[req.name] = _route_path(arcs, topo, topo.node_index[req.src], topo.node_index[req.dst])
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
    return PlanResult(
        status=status, objective=first + second, first_stage_cost=first,
        expected_second_stage_cost=second, routes=routes, reserved=reserved, solve_s=solve_s,
        build_s=build_s, mip_gap=mip_gap, reroute=reroute,
        scenario_routes=scenario_routes, link_names=tuple(topo.link_names),
        utilised_qkd=arrays["u_q"], ondemand_qkd=arrays["o_q"], utilised_km=arrays["u_k"], ondemand_km=arrays["o_k"],
        need_qkd=need_q[of], need_km=need_k[of], size=size, unserved=unserved,
    )
