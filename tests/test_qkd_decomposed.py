"""Scenario-mode re-routing by decomposition (twin/qkd/decomposed.py) against the monolithic
scenario-mode MILP at gap 0, on small cuts of the shipped instances and random ones: same optimum,
and the free-backup relaxation's bound never above it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from tests.test_qkd_planning import _check_route, _random_instance, _sat_instance
from twin.qkd.formulation import build_model
from twin.qkd.instance import QkdInstance, Scenario
from twin.qkd.plan import PlanOptions
from twin.qkd.planner import solve_plan
from twin.qkd.solve import run_solver

REL_TOL = 1e-6  #: relative agreement of the two methods' optima
DECOMPOSED = PlanOptions(reroute="scenario", mip_rel_gap=0.0)
MONOLITHIC = PlanOptions(reroute="scenario", mip_rel_gap=0.0, scenario_method="monolithic")
WEATHER = PlanOptions(reroute="weather", mip_rel_gap=0.0)


def _cut(name: str, n_requests: int, scenario_idx: tuple[int, ...]) -> QkdInstance:
    """The shipped instance ``name`` with its first ``n_requests`` requests and the chosen scenarios
    (probabilities renormalised)."""
    base = QkdInstance.from_toml(ROOT / "scenarios" / "qkd" / f"{name}.toml")
    chosen = [base.scenarios[i] for i in scenario_idx]
    total = sum(s.probability for s in chosen)
    requests = base.requests[:n_requests]
    scenarios = tuple(Scenario(s.name, s.probability / total, s.weather,
                               {r.name: s.demand(r.name) for r in requests}) for s in chosen)
    return QkdInstance(base.media, base.planning, base.nodes, base.links, requests, scenarios, name)


def _relaxation_bound(inst: QkdInstance) -> float:
    """Optimum of the free-backup relaxation at gap 0 (HiGHS's dual bound)."""
    model = build_model(inst, PlanOptions(reroute="weather", mip_rel_gap=0.0), free_backups=True)
    return run_solver(model, PlanOptions(mip_rel_gap=0.0)).bound


def _agree(inst: QkdInstance):
    dec, mono = solve_plan(inst, DECOMPOSED), solve_plan(inst, MONOLITHIC)
    assert dec.status == mono.status == "optimal"
    assert dec.objective == pytest.approx(mono.objective, rel=REL_TOL)
    assert dec.mip_gap <= REL_TOL
    for req in inst.requests:  # a feasible scenario-mode plan: simple paths on up links everywhere
        _check_route(inst, dec.routes[req.name], req.src, req.dst)
        for s in inst.scenarios:
            _check_route(inst, dec.scenario_routes[s.name][req.name], req.src, req.dst, s.down_media(),
                         unserved=req.name in dec.unserved.get(s.name, ()))
    assert np.all(dec.utilised_qkd + dec.ondemand_qkd >= dec.need_qkd - 1e-6)
    assert np.all(dec.utilised_km + dec.ondemand_km >= dec.need_km - 1e-6)
    return dec, mono


@pytest.mark.parametrize("name, n_requests, scenario_idx", [
    ("nsfnet", 2, (0, 2, 3, 7)), ("nsfnet", 3, (0, 1, 2, 3, 4, 7, 8, 9)), ("nsfnet", 3, (1, 3, 6, 9)),
    ("kaewpuang-small", 3, tuple(range(8))), ("kaewpuang-small", 2, (0, 1, 4, 5)), ("xinglong", 3, None),
])
def test_decomposed_matches_the_monolithic_optimum_on_shipped_instances(name, n_requests, scenario_idx):
    base = QkdInstance.from_toml(ROOT / "scenarios" / "qkd" / f"{name}.toml")
    inst = _cut(name, n_requests, scenario_idx or tuple(range(min(8, len(base.scenarios)))))
    dec, mono = _agree(inst)
    bound = _relaxation_bound(inst)
    weather = solve_plan(inst, WEATHER)
    assert bound <= mono.objective * (1 + 1e-9)  # a lower bound on the scenario-mode optimum
    assert mono.objective <= weather.objective * (1 + 1e-9)  # weather mode is a restriction


@pytest.mark.parametrize("fiber_scale, cloudy_p", [(20.0, 0.2), (5.0, 0.5)])
def test_hit_routes_are_completed_exactly(fiber_scale, cloudy_p):
    """The relaxation's plan crosses the satellite, which clouds take down (its bound ignores the
    re-routing cost): the request gets exact per-scenario re-routing and the relaxation is solved
    again; the optimum is the monolithic one (satellite route kept at 20×, fiber at 5× fiber prices)."""
    inst = _sat_instance(fiber_scale, cloudy_p)
    dec, mono = _agree(inst)
    assert dec.size["exact_requests"] == 1  # the relaxation's plan was hit: the request got exact re-routing
    assert dec.size["relaxation_runs"] == 2
    assert _relaxation_bound(inst) <= mono.objective * (1 + 1e-9)
    assert dec.routes == mono.routes


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n_requests=st.integers(2, 3), n_scenarios=st.integers(4, 8))
def test_decomposed_matches_monolithic_on_random_instances(seed, n_requests, n_scenarios):
    base = QkdInstance.from_toml(ROOT / "scenarios" / "qkd" / "nsfnet.toml")
    inst = _random_instance(base, n_requests, n_scenarios, seed)
    dec, mono = _agree(inst)
    assert _relaxation_bound(inst) <= mono.objective * (1 + 1e-9)
    loose = solve_plan(inst, PlanOptions(reroute="scenario", mip_rel_gap=0.05))  # the proven gap is a true bound
    assert loose.objective * (1 - loose.mip_gap) <= mono.objective * (1 + 1e-9) <= loose.objective * (1 + 2e-9)


def test_decomposed_keeps_fixings():
    """Fixed routes and reservations (the EEV and the sweeps) hold in the decomposed method too."""
    inst = _cut("nsfnet", 3, (0, 2, 3, 7))
    free = solve_plan(inst, DECOMPOSED)
    name = next(iter(free.reserved))
    fix_res = {name: {"qkd": free.reserved[name]["qkd"] + 3, "km": free.reserved[name]["km"]}}
    fix_routes = {r.name: free.routes[r.name] for r in inst.requests[:1]}
    dec = solve_plan(inst, DECOMPOSED, fix_routes=fix_routes, fix_reserved=fix_res)
    mono = solve_plan(inst, MONOLITHIC, fix_routes=fix_routes, fix_reserved=fix_res)
    assert dec.reserved[name] == fix_res[name] and dec.routes[inst.requests[0].name] == fix_routes[inst.requests[0].name]
    assert dec.objective == pytest.approx(mono.objective, rel=REL_TOL)
    assert dec.objective >= free.objective * (1 - 1e-9)


def test_out_of_time_on_a_hit_plan_still_returns_a_feasible_plan_with_a_valid_gap(monkeypatch):
    """The second relaxation (exact re-routing for the hit request) gets no plan in time: the result is
    the weather-mode completion, a feasible scenario-mode plan, and its gap still bounds the optimum."""
    import twin.qkd.decomposed as decomposed
    from twin.qkd.solve import Outcome

    inst = _sat_instance(20.0, 0.2)
    real_run = decomposed.run_solver
    calls = []

    def run(model, options, start=None):
        calls.append(model.free_backups)
        out = real_run(model, options, start)
        if model.free_backups and len(calls) == 2:  # the tighter relaxation: out of time without a plan
            return Outcome(out.status, None, out.mip_gap, False, out.rounds, out.solve_s, out.rows, -np.inf)
        return out

    monkeypatch.setattr(decomposed, "run_solver", run)
    plan = solve_plan(inst, DECOMPOSED)
    assert calls == [True, True, False]  # relaxation, tighter relaxation, completion
    assert plan.has_plan and plan.size["exact_completions"] == 1
    exact = solve_plan(inst, MONOLITHIC).objective
    assert plan.objective >= exact * (1 - 1e-9)
    assert plan.objective * (1 - plan.mip_gap) <= exact * (1 + 1e-9)
    for s in inst.scenarios:
        _check_route(inst, plan.scenario_routes[s.name]["r"], "A", "C", s.down_media())
