"""Plan-level decisions written onto the columns of a built QKD MILP: fixed first-stage bounds, start values.

Fixing routes and reservations serves the expected result of the expected-value solution (EEV,
:mod:`twin.qkd.metrics`) and the reservation sweeps of :mod:`studies.kaewpuang`; a start from another
re-routing mode's plan warm-starts the scenario mode (:mod:`twin.qkd.planner`).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from twin.qkd.formulation import MilpModel
from twin.qkd.instance import QkdInstance
from twin.qkd.plan import PlanResult
from twin.qkd.topology import Topology


def apply_fixings(model: MilpModel, instance: QkdInstance,
                  fix_routes: Mapping[str, Sequence[str]] | None,
                  fix_reserved: Mapping[str, Mapping[str, int]] | None) -> None:
    """Fix first-stage columns of ``model`` in place by their bounds.

    Args:
        model: the model :func:`twin.qkd.formulation.build_model` made of ``instance``.
        fix_routes: request → node list; that request's route columns x[f,·] are fixed to the path.
        fix_reserved: link name → {"qkd": n, "km": n}; those reserved wavelength counts are fixed.

    Raises:
        ValueError: a fixed route steps between two nodes no link joins.
    """
    lp, upper, topo = model.lp, model.upper, model.topo
    lower = np.asarray(lp.col_lower_)
    if fix_routes:
        lower = lower.copy()
        for name, path in fix_routes.items():
            f = next(i for i, r in enumerate(instance.requests) if r.name == name)
            chosen = np.zeros(topo.n_arcs)
            for u, v in zip(path[:-1], path[1:]):
                iu, iv = topo.node_index[u], topo.node_index[v]
                arc = np.flatnonzero((topo.tail == iu) & (topo.head == iv))
                if arc.size != 1:
                    raise ValueError(f"fixed route of {name!r} uses {u}-{v}, which is not a link")
                chosen[arc[0]] = 1.0
            upper[model.x[f]] = np.minimum(upper[model.x[f]], chosen)
            lower[model.x[f]] = chosen
        lp.col_lower_ = lower
        lp.col_upper_ = upper
    if fix_reserved:
        lower = np.asarray(lp.col_lower_).copy()
        for name, amounts in fix_reserved.items():
            l = topo.link_names.index(instance.link_named(name).name)
            for kind, cols in (("qkd", model.r_q), ("km", model.r_k)):
                if kind in amounts:
                    value = float(amounts[kind])
                    lower[cols[l]] = value
                    upper[cols[l]] = value
        lp.col_lower_ = lower
        lp.col_upper_ = upper


def _arcs_of(path: Sequence[str], topo: Topology) -> np.ndarray:
    """0/1 arc vector of a node list."""
    chosen = np.zeros(topo.n_arcs)
    for u, v in zip(path[:-1], path[1:]):
        iu, iv = topo.node_index[u], topo.node_index[v]
        chosen[np.flatnonzero((topo.tail == iu) & (topo.head == iv))] = 1.0
    return chosen


def start_from_plan(model: MilpModel, instance: QkdInstance, plan: PlanResult) -> dict[int, float]:
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
