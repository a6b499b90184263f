"""QKD provisioning by two-stage stochastic programming (twin/qkd): prices, the MILP against
independent truths (newsvendor, grid search), published trends, re-routing and diagnostics."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from physical.wavelengths import qkd_links_needed
from common.errors import InputError
from tests.conftest import ROOT
from twin.qkd.draws import DrawSpec, draw_instance
from twin.qkd.instance import QkdInstance, Scenario
from twin.qkd.metrics import expected_value_scenario, stochastic_metrics
from twin.qkd.diagnosis import plan_with_diagnosis
from twin.qkd.plan import PlanOptions
from twin.qkd.plan import FREE_INFEASIBLE
from twin.qkd.planner import solve_plan
from twin.qkd.pricing import component_counts, km_wavelength_price, qkd_wavelength_price

NSFNET = ROOT / "scenarios" / "qkd" / "nsfnet.toml"
EXACT = PlanOptions(mip_rel_gap=0.0)  #: solve to optimality where a test compares optima
COST_REL_TOL = 1e-9  #: relative tolerance on optimal costs compared between solves

FIBER = {"span_km": 160, "key_rate_bps": 10_000, "capacity_qkd": 150, "capacity_km": 30,
         "ondemand_capacity_qkd": 150, "ondemand_capacity_km": 30,
         "cost": {"tx": 1500, "rx": 2250, "lkm": 1200, "si": 150, "mux": 300, "channel_per_km": 1}}
UAV = {**FIBER, "span_km": 1, "key_rate_bps": 100_000,
       "cost": {"tx": 3000, "rx": 4500, "lkm": 2400, "si": 300, "mux": 600, "channel_per_km": 2}}
SATELLITE = {**FIBER, "span_km": 1000, "key_rate_bps": 10_000,
             "cost": {"tx": 12000, "rx": 22000, "lkm": 10000, "si": 2000, "mux": 1000, "channel_per_km": 20}}


def _instance(links, requests, scenarios, *, nodes=None, media=None, planning=None) -> QkdInstance:
    names = nodes or sorted({n for l in links for n in l[:2]})
    kinds = {"S": "satellite", "U": "uav"}
    data = {
        "media": media or {"fiber": FIBER, "uav": UAV, "satellite": SATELLITE},
        "planning": planning or {"ondemand_factor": 2.0, "utilisation_factor": 0.0},
        "nodes": [{"name": n, "kind": kinds.get(n[0], "ground")} for n in names],
        "links": [{"a": a, "b": b, "medium": m, "length_km": km} for a, b, m, km in links],
        "requests": [{"name": r, "src": s, "dst": d} for r, s, d in requests],
        "scenarios": [{"probability": p, "weather": w, "demand_bps": dem} for p, w, dem in scenarios],
    }
    return QkdInstance.from_mapping(data, "test.toml")


# --- pricing ---------------------------------------------------------------------------------


def test_prices_by_hand_for_a_long_fiber_link():
    inst = _instance([("A", "B", "fiber", 2100)], [("r", "A", "B")], [(1.0, "clear", {"r": 1})])
    link, medium = inst.links[0], inst.media["fiber"]
    counts = component_counts(2100, 160)  # n = ceil(2100/160) = 14
    assert (counts.segments, counts.tx, counts.rx, counts.lkm, counts.si, counts.mux) == (14, 28, 14, 15, 13, 27)
    assert qkd_wavelength_price(link, medium) == pytest.approx((28 * 1500 + 14 * 2250) / 3 + 2100)  # 26,600
    assert km_wavelength_price(link, medium) == pytest.approx(15 * 1200 + 13 * 150 + 27 * 300 + 2100)  # 30,150


def test_prices_for_single_span_links_have_no_negative_counts():
    counts = component_counts(1000, 1000)
    assert (counts.segments, counts.si, counts.mux) == (1, 0, 1)
    inst = _instance([("S1", "B", "satellite", 1000)], [("r", "S1", "B")], [(1.0, "clear", {"r": 1})])
    assert qkd_wavelength_price(inst.links[0], inst.media["satellite"]) == pytest.approx((2 * 12000 + 22000) / 3 + 20000)
    assert km_wavelength_price(inst.links[0], inst.media["satellite"]) == pytest.approx(2 * 10000 + 0 + 1000 + 20000)


def test_parallel_links_needed():
    assert qkd_links_needed(0, 10) == 0
    assert qkd_links_needed(10, 10) == 1
    assert qkd_links_needed(10.5, 10) == 2


# --- the MILP against independent truths -----------------------------------------------------


def test_newsvendor_reservation_is_the_demand_median():
    """One link, one request, on-demand 2× and free utilisation: reserve the median need."""
    probs = [0.1, 0.2, 0.3, 0.25, 0.15]  # P = 1..5 parallel QKD links; median P = 3
    scenarios = [(p, "clear", {"r": 10_000 * k}) for p, k in zip(probs, range(1, 6))]
    inst = _instance([("A", "B", "fiber", 100)], [("r", "A", "B")], scenarios)
    plan = solve_plan(inst, EXACT)
    assert plan.status == "optimal"
    assert plan.reserved == {"A-B": {"qkd": 3 * 3, "km": 1}}
    price = qkd_wavelength_price(inst.links[0], inst.media["fiber"])
    km_price = km_wavelength_price(inst.links[0], inst.media["fiber"])
    shortfall = sum(p * max(0, 3 * k - 9) for p, k in zip(probs, range(1, 6)))
    assert plan.objective == pytest.approx(9 * price + km_price + 2 * price * shortfall, rel=COST_REL_TOL)


def _two_hop_instance():
    probs = np.full(8, 1 / 8)
    scenarios = [(float(p), "clear", {"r": 10_000 * k}) for p, k in zip(probs, (1, 2, 2, 3, 4, 4, 5, 8))]
    return _instance([("A", "B", "fiber", 300), ("B", "C", "fiber", 200), ("A", "C", "fiber", 900)],
                     [("r", "A", "C")], scenarios)


def test_free_optimum_equals_grid_minimum_and_cost_is_u_shaped():
    inst = _two_hop_instance()
    free = solve_plan(inst, EXACT)
    route = free.routes["r"]
    assert route == ["A", "B", "C"]
    grid = []
    for q in range(0, 31, 3):
        fixed = {"A-B": {"qkd": q, "km": 1}, "B-C": {"qkd": q, "km": 1}, "A-C": {"qkd": 0, "km": 0}}
        plan = solve_plan(inst, EXACT, fix_routes={"r": route}, fix_reserved=fixed)
        grid.append(plan.objective)
    grid = np.array(grid)
    assert free.objective == pytest.approx(grid.min(), rel=COST_REL_TOL)
    k = int(np.argmin(grid))
    assert 0 < k < len(grid) - 1  # interior optimum
    assert np.all(np.diff(grid[: k + 1]) <= 1e-6) and np.all(np.diff(grid[k:]) >= -1e-6)  # U-shaped
    assert grid[0] > grid[k] and grid[-1] > grid[k]


def test_single_scenario_has_zero_vss_and_evpi():
    inst = _instance([("A", "B", "fiber", 300), ("B", "C", "fiber", 200), ("A", "C", "fiber", 900)],
                     [("r", "A", "C"), ("q", "B", "C")], [(1.0, "clear", {"r": 35_000, "q": 12_000})])
    m = stochastic_metrics(inst, EXACT)
    assert m.vss == pytest.approx(0.0, abs=COST_REL_TOL * m.rp)
    assert m.evpi == pytest.approx(0.0, abs=COST_REL_TOL * m.rp)


def test_expected_value_scenario():
    inst = _two_hop_instance()
    ev = expected_value_scenario(inst)
    assert ev.weather == "clear" and ev.demand("r") == pytest.approx(10_000 * 29 / 8)


# --- trends and behaviour on NSFNET ---------------------------------------------------------


@pytest.fixture(scope="module")
def nsfnet():
    return QkdInstance.from_toml(NSFNET)


@pytest.fixture(scope="module")
def nsfnet_plan(nsfnet):
    return solve_plan(nsfnet, PlanOptions())


def _check_route(inst, path, src, dst, down=frozenset(), unserved=False):
    """A simple path from src to dst on links not in ``down``; [] exactly when the request is ``unserved``."""
    links = {frozenset((l.a, l.b)): l for l in inst.links}
    if unserved:
        assert path == []
        return
    assert path[0] == src and path[-1] == dst
    assert len(set(path)) == len(path)  # no loops
    for u, v in zip(path[:-1], path[1:]):
        link = links[frozenset((u, v))]  # consecutive nodes are joined by a link
        assert link.medium not in down


def test_routes_are_simple_paths(nsfnet, nsfnet_plan):
    assert nsfnet_plan.status == "optimal" and nsfnet_plan.mip_gap <= 1e-2
    for req in nsfnet.requests:
        _check_route(nsfnet, nsfnet_plan.routes[req.name], req.src, req.dst)
        for s in nsfnet.scenarios:
            _check_route(nsfnet, nsfnet_plan.scenario_routes[s.name][req.name], req.src, req.dst, s.down_media(),
                         unserved=req.name in nsfnet_plan.unserved.get(s.name, ()))


def test_uav_requests_are_unserved_exactly_in_the_cloudy_scenarios(nsfnet, nsfnet_plan):
    """U1 and U2 reach the ground only by optical (UAV, satellite) links, which clouds take down."""
    cloudy = {s.name for s in nsfnet.scenarios if s.weather == "cloudy"}
    assert set(nsfnet_plan.unserved) == cloudy
    assert all(sorted(v) == ["uav-coast", "uav-south"] for v in nsfnet_plan.unserved.values())


def test_ondemand_only_once_reservations_saturate(nsfnet, nsfnet_plan):
    reserved = np.array([nsfnet_plan.reserved.get(n, {"qkd": 0})["qkd"] for n in nsfnet_plan.link_names])
    od, used = nsfnet_plan.ondemand_qkd, nsfnet_plan.utilised_qkd
    assert od.sum() > 0  # the high-demand scenarios do buy on demand
    saturated = np.isclose(used, reserved[None, :], atol=1e-6)
    assert np.all(saturated[od > 1e-6])
    assert np.all(used + od >= nsfnet_plan.need_qkd - 1e-6)


def test_costs_add_up(nsfnet_plan):
    p = nsfnet_plan
    assert p.objective == pytest.approx(p.first_stage_cost + p.expected_second_stage_cost, rel=1e-6)


def test_vss_and_evpi_non_negative_on_nsfnet(nsfnet):
    m = stochastic_metrics(nsfnet, EXACT)
    assert m.vss >= -1e-6 * m.rp and m.evpi >= -1e-6 * m.rp
    assert m.ws <= m.rp <= m.eev


@pytest.mark.parametrize("weather", ["clear", "cloudy"])
def test_reroute_modes_agree_without_weather_variation(nsfnet, weather):
    inst = nsfnet.with_scenarios(tuple(Scenario(s.name, s.probability, weather, s.demand_bps) for s in nsfnet.scenarios))
    a = solve_plan(inst, PlanOptions(reroute="weather", mip_rel_gap=0.0))
    b = solve_plan(inst, PlanOptions(reroute="scenario", mip_rel_gap=0.0))
    assert a.objective == pytest.approx(b.objective, rel=COST_REL_TOL)
    assert a.reserved == b.reserved and a.routes == b.routes


def test_scenario_rerouting_is_never_worse_than_weather(nsfnet):
    a = solve_plan(nsfnet, PlanOptions(reroute="weather", mip_rel_gap=0.0))
    b = solve_plan(nsfnet, PlanOptions(reroute="scenario", mip_rel_gap=0.0))
    assert b.objective <= a.objective * (1 + COST_REL_TOL)


# --- satellite: price shift and clouds ---------------------------------------------------------


def _sat_instance(fiber_scale: float, cloudy_p: float = 0.0):
    fiber = copy.deepcopy(FIBER)
    fiber["cost"] = {k: v * fiber_scale for k, v in fiber["cost"].items()}
    uav = copy.deepcopy(UAV)
    uav["cost"] = {k: v * fiber_scale for k, v in uav["cost"].items()}
    scenarios = [(0.5 - cloudy_p / 2, "clear", {"r": 20_000}), (0.5 - cloudy_p / 2, "clear", {"r": 40_000})]
    if cloudy_p:
        scenarios.append((cloudy_p, "cloudy", {"r": 30_000}))
    links = [("A", "B", "fiber", 1500), ("B", "C", "fiber", 1500), ("A", "U1", "uav", 50), ("U1", "C", "uav", 60),
             ("S1", "A", "satellite", 1000), ("S1", "C", "satellite", 1000)]
    return _instance(links, [("r", "A", "C")], scenarios, media={"fiber": fiber, "uav": uav, "satellite": SATELLITE})


def test_raising_fiber_and_uav_prices_shifts_requests_to_the_satellite():
    cheap = solve_plan(_sat_instance(1.0), EXACT)
    assert "S1" not in cheap.routes["r"]
    dear = solve_plan(_sat_instance(20.0), EXACT)
    assert dear.routes["r"] == ["A", "S1", "C"]


def test_cloudy_scenario_takes_satellite_links_down():
    inst = _sat_instance(20.0, cloudy_p=0.2)
    for mode in ("weather", "scenario"):
        plan = solve_plan(inst, PlanOptions(reroute=mode, mip_rel_gap=0.0))
        assert plan.routes["r"] == ["A", "S1", "C"]
        sat = [i for i, l in enumerate(inst.links) if l.medium == "satellite"]
        cloudy = [i for i, s in enumerate(inst.scenarios) if s.weather == "cloudy"]
        for arr in (plan.need_qkd, plan.need_km, plan.utilised_qkd, plan.ondemand_qkd, plan.utilised_km, plan.ondemand_km):
            assert np.all(arr[np.ix_(cloudy, sat)] == 0)
        uav = [i for i, l in enumerate(inst.links) if l.medium == "uav"]
        assert np.all(plan.need_qkd[np.ix_(cloudy, uav)] == 0)  # clouds block the UAV's optical links too
        assert "S1" not in plan.scenario_routes["s2"]["r"] and "U1" not in plan.scenario_routes["s2"]["r"]
        assert plan.need_qkd[cloudy[0]].sum() > 0  # the request is still served, on the ground


# --- infeasibility diagnostics and validation ----------------------------------------------------


def test_a_request_the_weather_cuts_off_is_unserved_there_and_served_elsewhere():
    inst = _instance([("A", "S1", "satellite", 900), ("S1", "B", "satellite", 900), ("B", "C", "fiber", 100)],
                     [("r", "A", "B"), ("q", "B", "C")], [(0.5, "clear", {"r": 1000, "q": 10}), (0.5, "cloudy", {"r": 1000, "q": 10})])
    for formulation in ("lazy", "explicit"):
        plan = solve_plan(inst, PlanOptions(mip_rel_gap=0.0, formulation=formulation))
        assert plan.status == "optimal" and plan.unserved == {"s1": ["r"]}
        assert plan.routes["r"] == ["A", "S1", "B"] and plan.scenario_routes["s1"]["r"] == []
        assert plan.scenario_routes["s1"]["q"] == ["B", "C"]
        sat = [i for i, l in enumerate(inst.links) if l.medium == "satellite"]
        assert np.all(plan.need_qkd[1, sat] == 0) and np.all(plan.need_km[1, sat] == 0)
        assert np.all(plan.need_qkd[0, sat] == 3) and np.all(plan.need_km[0, sat] == 1)
    assert solve_plan(inst).summary()["unserved"] == {"s1": ["r"]}


def test_a_request_cut_off_in_every_scenario_has_no_route():
    inst = _instance([("A", "S1", "satellite", 900), ("S1", "B", "satellite", 900), ("A", "B", "fiber", 100)],
                     [("r", "A", "S1")], [(1.0, "cloudy", {"r": 1000})])
    plan = solve_plan(inst, EXACT)
    assert plan.status == "optimal" and plan.routes["r"] == [] and plan.unserved == {"s0": ["r"]}
    assert plan.objective == 0.0


def test_a_request_no_link_joins_is_infeasible_and_named():
    inst = _instance([("A", "B", "fiber", 100), ("C", "D", "fiber", 100)], [("r", "A", "C")], [(1.0, "clear", {"r": 1000})])
    plan = plan_with_diagnosis(inst)
    assert plan.status == "infeasible"
    assert "'r'" in plan.diagnosis and "every link up" in plan.diagnosis


def test_capacity_cut_request_is_named_with_its_scenario():
    small = {**FIBER, "capacity_qkd": 3, "ondemand_capacity_qkd": 3}
    inst = _instance([("A", "B", "fiber", 100)], [("r", "A", "B")], [(0.5, "clear", {"r": 5000}), (0.5, "clear", {"r": 50_000})],
                     media={"fiber": small})
    plan = plan_with_diagnosis(inst)
    assert plan.status == "infeasible"
    assert "'r'" in plan.diagnosis and "'s1'" in plan.diagnosis and "needs 15 QKD wavelengths" in plan.diagnosis


# --- per-link key rates and the KM rule (Kaewpuang eq. 35) --------------------------------------


def test_a_link_key_rate_overrides_its_medium():
    """Two links in series, K = 10 kbit/s (medium) and 40 kbit/s (own): a 35 kbit/s demand needs 4 and
    1 parallel QKD links, i.e. 12 and 3 QKD wavelengths (deterministic demand: all reserved)."""
    data = {
        "media": {"fiber": FIBER},
        "nodes": [{"name": n, "kind": "ground"} for n in "ABC"],
        "links": [{"a": "A", "b": "B", "medium": "fiber", "length_km": 100},
                  {"a": "B", "b": "C", "medium": "fiber", "length_km": 20, "key_rate_bps": 40_000}],
        "requests": [{"name": "r", "src": "A", "dst": "C"}],
        "scenarios": [{"probability": 1.0, "weather": "clear", "demand_bps": {"r": 35_000}}],
    }
    inst = QkdInstance.from_mapping(data, "test.toml")
    assert [inst.key_rate_bps(l) for l in inst.links] == [10_000, 40_000]
    plan = solve_plan(inst, EXACT)
    assert plan.reserved == {"A-B": {"qkd": 12, "km": 1}, "B-C": {"qkd": 3, "km": 1}}
    assert plan.expected_second_stage_cost == 0.0


@pytest.mark.parametrize("formulation", ["lazy", "explicit"])
def test_km_per_qkd_link_reserves_one_km_wavelength_per_parallel_qkd_link(formulation):
    """Eq. 35: with deterministic demand every need is reserved; KM = P per route link, capped by the
    KM capacity (30), the rest on demand. 35 kbit/s at K = 10 kbit/s: P = 4; 450 kbit/s: P = 45."""
    for demand, p in ((35_000, 4), (450_000, 45)):
        inst = _instance([("A", "B", "fiber", 100)], [("r", "A", "B")], [(1.0, "clear", {"r": demand})],
                         planning={"ondemand_factor": 2.0, "utilisation_factor": 0.0, "km_per_qkd_link": True})
        plan = solve_plan(inst, PlanOptions(mip_rel_gap=0.0, formulation=formulation))
        assert plan.status == "optimal"
        assert plan.need_km[0, 0] == p and plan.need_qkd[0, 0] == 3 * p
        assert plan.reserved["A-B"] == {"qkd": min(3 * p, 150), "km": min(p, 30)}
        assert plan.ondemand_km[0, 0] == max(p - 30, 0)
        eq6 = solve_plan(replace(inst, planning=replace(inst.planning, km_per_qkd_link=False)), EXACT)
        assert eq6.reserved["A-B"]["km"] == 1 and eq6.need_km[0, 0] == 1


def test_joint_capacity_violation_names_request_scenario_and_link():
    small = {**FIBER, "capacity_qkd": 6, "ondemand_capacity_qkd": 3}
    inst = _instance([("A", "B", "fiber", 100)], [("r", "A", "B"), ("q", "A", "B")],
                     [(0.5, "clear", {"r": 10_000, "q": 10_000}), (0.5, "clear", {"r": 20_000, "q": 20_000})],
                     media={"fiber": small})
    plan = plan_with_diagnosis(inst)
    assert plan.status == "infeasible"
    assert "'s1'" in plan.diagnosis and "'q'" in plan.diagnosis and "A-B" in plan.diagnosis
    bare = solve_plan(inst)  # the solver only reports the status; naming the cause is the caller's choice
    assert bare.status == "infeasible" and bare.diagnosis == FREE_INFEASIBLE


def _raw():
    return {
        "media": {"fiber": copy.deepcopy(FIBER)},
        "nodes": [{"name": "A", "kind": "ground"}, {"name": "B", "kind": "ground"}],
        "links": [{"a": "A", "b": "B", "medium": "fiber", "length_km": 10}],
        "requests": [{"name": "r", "src": "A", "dst": "B"}],
        "scenarios": [{"probability": 1.0, "weather": "clear", "demand_bps": {"r": 5}}],
    }


@pytest.mark.parametrize("edit, field", [
    (lambda d: d["links"][0].update(b="Z"), "links[0].b"),
    (lambda d: d["links"][0].update(length_km=-5), "links[0].length_km"),
    (lambda d: d["links"][0].update(medium="copper"), "links[0].medium"),
    (lambda d: d["links"][0].update(medium="uav"), "links[0].medium"),
    (lambda d: d["scenarios"][0].update(probability=0.9), "scenarios.probability"),
    (lambda d: d["scenarios"][0].update(weather="foggy"), "scenarios[0].weather"),
    (lambda d: d["scenarios"][0]["demand_bps"].update(x=1), "scenarios[0].demand_bps.x"),
    (lambda d: d["requests"][0].update(dst="A"), "requests[0].dst"),
    (lambda d: d["media"]["fiber"].update(span_km=0), "media.fiber.span_km"),
    (lambda d: d["media"]["fiber"]["cost"].pop("mux"), "media.fiber.cost.mux"),
    (lambda d: d["media"]["fiber"].update(capacity_qkd=1.5), "media.fiber.capacity_qkd"),
    (lambda d: d["media"]["fiber"].update(key_rate_bps=1e-300), "media.fiber.key_rate_bps"),
    (lambda d: d["links"][0].update(key_rate_bps=-1), "links[0].key_rate_bps"),
    (lambda d: d["links"][0].update(length_km=1e308), "links[0].length_km"),
    (lambda d: d.update(planning={"ondemand_factor": 1e308}), "planning.ondemand_factor"),
    (lambda d: d.update(planning={"km_per_qkd_link": 1}), "planning.km_per_qkd_link"),
    (lambda d: d.update(planning={"rule": 1}), "planning.rule"),
    (lambda d: d["scenarios"][0]["demand_bps"].update(r=float("nan")), "scenarios[0].demand_bps.r"),
])
def test_bad_instances_name_the_field(edit, field):
    data = _raw()
    edit(data)
    with pytest.raises(InputError) as info:
        QkdInstance.from_mapping(data, "bad.toml")
    assert info.value.field == field and str(info.value).startswith(f"bad.toml: {field}")


@pytest.mark.parametrize("edit", [
    lambda d: d["links"][0].update(length_km=90_000),  # 9e4 km × 1e8 per km = 9e12 per wavelength
    lambda d: d.update(planning={"ondemand_factor": 1000.0}),  # 10 km × 1e8 × 1000 = 1e12 plus the components
])
def test_prices_beyond_the_limit_are_refused_up_front(edit):
    """In-range lengths, costs and factors can still combine into a wavelength price above
    MAX_WAVELENGTH_PRICE: refused when loading (HiGHS would otherwise stop with status Empty)."""
    data = _raw()
    data["media"]["fiber"]["cost"]["channel_per_km"] = 1e8
    QkdInstance.from_mapping(data, "ok.toml")  # 1e9 per wavelength × 2: fine
    edit(data)
    with pytest.raises(InputError) as info:
        QkdInstance.from_mapping(data, "bad.toml")
    assert info.value.field == "links[0]" and "wavelength on this link would cost" in str(info.value)


# --- formulations: the lazy cutting-plane recourse and the explicit one agree ------------------


def _random_instance(base: QkdInstance, n_requests: int, n_scenarios: int, seed: int) -> QkdInstance:
    return draw_instance(base, DrawSpec(n_requests, n_scenarios), np.random.default_rng(seed))


@pytest.mark.parametrize("seed, reroute", [(1, "weather"), (2, "scenario"), (3, "weather")])
def test_lazy_and_explicit_formulations_agree(nsfnet, seed, reroute):
    inst = _random_instance(nsfnet, 4, 12, seed)
    lazy = solve_plan(inst, PlanOptions(reroute=reroute, mip_rel_gap=0.0, formulation="lazy"))
    explicit = solve_plan(inst, PlanOptions(reroute=reroute, mip_rel_gap=0.0, formulation="explicit"))
    assert lazy.status == explicit.status == "optimal"
    assert lazy.objective == pytest.approx(explicit.objective, rel=1e-7)
    assert lazy.size["cut_rounds"] > 0


def test_ondemand_capacity_is_respected_by_the_lazy_loop():
    """Tight on-demand capacity: the lazy loop must add capacity rows, like the explicit bound."""
    small = {**FIBER, "capacity_qkd": 30, "ondemand_capacity_qkd": 3}
    scenarios = [(0.5, "clear", {"r": 10_000}), (0.5, "clear", {"r": 60_000})]  # needs 3 and 18 QKD wavelengths
    inst = _instance([("A", "B", "fiber", 100), ("B", "C", "fiber", 100), ("A", "C", "fiber", 150)],
                     [("r", "A", "C")], scenarios, media={"fiber": small})
    lazy = solve_plan(inst, EXACT)
    explicit = solve_plan(inst, PlanOptions(mip_rel_gap=0.0, formulation="explicit"))
    assert lazy.objective == pytest.approx(explicit.objective, rel=1e-9)
    assert lazy.reserved["A-C"]["qkd"] >= 15 and np.all(lazy.ondemand_qkd <= 3 + 1e-9)


@pytest.mark.parametrize("beta, gamma", [(0.5, 2.0), (2.0, 1.0)])
def test_utilisation_cost_in_both_formulations(beta, gamma):
    probs = [0.1, 0.2, 0.3, 0.25, 0.15]
    scenarios = [(p, "clear", {"r": 10_000 * k}) for p, k in zip(probs, range(1, 6))]
    inst = _instance([("A", "B", "fiber", 100)], [("r", "A", "B")], scenarios,
                     planning={"ondemand_factor": gamma, "utilisation_factor": beta})
    price = qkd_wavelength_price(inst.links[0], inst.media["fiber"])
    km_price = km_wavelength_price(inst.links[0], inst.media["fiber"])

    def cost(q: int, k: int) -> float:  # brute force over the reservation, route fixed (one link)
        total = q * price + k * km_price
        for p, n in zip(probs, range(1, 6)):
            need = 3 * n
            total += p * (price * (beta * min(need, q) + gamma * max(need - q, 0))
                          + km_price * (beta * min(1, k) + gamma * max(1 - k, 0)))
        return total

    best = min(cost(q, k) for q in range(0, 31) for k in range(0, 3))
    for formulation in ("lazy", "explicit"):
        plan = solve_plan(inst, PlanOptions(mip_rel_gap=0.0, formulation=formulation))
        assert plan.objective == pytest.approx(best, rel=1e-9)
    if gamma < beta:
        assert plan.reserved == {}  # on demand is cheaper than using a reservation


# --- property: lazy == explicit on random small instances; weather re-routing never beats scenario --


@st.composite
def _small_instances(draw):
    """A ground ring of 3–5 nodes with random chords, an optional satellite node with two or three
    down-links, 1–3 requests, 2–4 scenarios (clear/cloudy, random demands), random planning factors
    and sometimes tight on-demand QKD capacity."""
    n = draw(st.integers(3, 5))
    names = [f"N{i}" for i in range(n)]
    lengths = st.integers(50, 900)
    links = [(names[i], names[(i + 1) % n], "fiber", draw(lengths)) for i in range(n)]
    for i in range(n):
        for j in range(i + 2, n):
            if (i, j) != (0, n - 1) and draw(st.booleans()):
                links.append((names[i], names[j], "fiber", draw(lengths)))
    if draw(st.booleans()):
        for v in draw(st.lists(st.sampled_from(names), min_size=2, max_size=3, unique=True)):
            links.append(("S1", v, "satellite", 1000))
    ends = list(names)
    if draw(st.booleans()):  # a UAV reachable only over its optical link: cut off when cloudy
        links.append(("U1", draw(st.sampled_from(names)), "uav", 1))
        ends.append("U1")
    pairs = [(a, b) for a in ends for b in ends if a < b]
    chosen = draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=3, unique=True))
    requests = [(f"r{k}", a, b) for k, (a, b) in enumerate(chosen)]
    n_sc = draw(st.integers(2, 4))
    weights = draw(st.lists(st.integers(1, 5), min_size=n_sc, max_size=n_sc))
    scenarios = [(w / sum(weights), draw(st.sampled_from(["clear", "cloudy"])),
                  {r: float(draw(st.integers(1_000, 60_000))) for r, _, _ in requests}) for w in weights]
    beta = draw(st.sampled_from([0.0, 0.5]))
    gamma = draw(st.sampled_from([1.5, 2.0, 4.0]))
    od = draw(st.sampled_from([150, 12]))
    km_rule = draw(st.booleans())
    media = {"fiber": {**FIBER, "ondemand_capacity_qkd": od}, "satellite": SATELLITE, "uav": UAV}
    return _instance(links, requests, scenarios, media=media,
                     planning={"ondemand_factor": gamma, "utilisation_factor": beta, "km_per_qkd_link": km_rule})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_small_instances())
def test_property_lazy_equals_explicit_and_weather_bounds_scenario(inst):
    plans = {(mode, form): solve_plan(inst, PlanOptions(reroute=mode, formulation=form, mip_rel_gap=0.0))
             for mode in ("weather", "scenario") for form in ("lazy", "explicit")}
    statuses = {p.status for p in plans.values()}
    assert statuses <= {"optimal", "infeasible"}
    for mode in ("weather", "scenario"):
        lazy, explicit = plans[(mode, "lazy")], plans[(mode, "explicit")]
        assert lazy.status == explicit.status
        if lazy.status == "optimal":
            assert lazy.objective == pytest.approx(explicit.objective, rel=1e-7)
            assert lazy.objective == pytest.approx(lazy.first_stage_cost + lazy.expected_second_stage_cost, rel=1e-9)
    weather, scenario = plans[("weather", "lazy")], plans[("scenario", "lazy")]
    if weather.status == "optimal":
        assert scenario.status == "optimal"  # the weather plan is feasible for scenario re-routing
        assert weather.objective >= scenario.objective * (1 - 1e-9)


@pytest.mark.parametrize("seed", [11, 12])
def test_lazy_polished_loop_matches_explicit_on_nsfnet_subsets(nsfnet, seed):
    """The default (lazy, polished incumbents, callback stop) and the explicit model agree at gap 0."""
    inst = _random_instance(nsfnet, 3, 20, seed)
    lazy = solve_plan(inst, PlanOptions(mip_rel_gap=0.0))
    explicit = solve_plan(inst, PlanOptions(mip_rel_gap=0.0, formulation="explicit"))
    assert lazy.status == explicit.status == "optimal"
    assert lazy.objective == pytest.approx(explicit.objective, rel=1e-7)


def test_default_gap_plan_is_within_the_gap_of_the_exact_optimum(nsfnet):
    inst = _random_instance(nsfnet, 4, 30, 5)
    exact = solve_plan(inst, PlanOptions(mip_rel_gap=0.0, formulation="explicit"))
    default = solve_plan(inst, PlanOptions())
    assert default.status == "optimal" and default.mip_gap <= 1e-2
    assert exact.objective <= default.objective * (1 + 1e-9) <= exact.objective * (1 + 1e-2 + 1e-9)


# --- monolithic scenario mode out of time: the weather-mode plan it was warm-started from ----------


@pytest.mark.parametrize("keep_start", [False, True])
def test_scenario_mode_time_limit_returns_the_weather_plan(nsfnet, monkeypatch, keep_start):
    """A time limit too small for scenario re-routing returns the weather-mode warm start, feasible
    for scenario re-routing, with status time_limit: whether HiGHS got no incumbent at all
    (keep_start=False) or only the warm start (keep_start=True)."""
    import twin.qkd.planner as planner

    inst = _random_instance(nsfnet, 4, 30, 7)
    assert {s.weather for s in inst.scenarios} == {"clear", "cloudy"}  # re-routing blocks exist
    real_run = planner.run_solver
    calls = []

    def run(model, options, start=None):
        calls.append(start is not None)
        if start is not None:  # the scenario-mode model: a budget too small to find any plan
            return real_run(model, replace(options, time_limit_s=1e-9), start if keep_start else None)
        return real_run(model, options, start)

    monkeypatch.setattr(planner, "run_solver", run)
    plan = solve_plan(inst, PlanOptions(reroute="scenario", time_limit_s=5.0, scenario_method="monolithic"))
    assert calls == [False, True]  # the weather warm start, then the scenario model
    assert plan.status == "time_limit" and plan.has_plan
    assert plan.reroute == "scenario"
    assert "weather-mode plan" in plan.diagnosis
    weather = solve_plan(inst, PlanOptions(reroute="weather"))
    assert plan.objective == pytest.approx(weather.objective, rel=1e-2)
    for req in inst.requests:  # a feasible plan: simple paths on up links in every scenario
        _check_route(inst, plan.routes[req.name], req.src, req.dst)
        for s in inst.scenarios:
            _check_route(inst, plan.scenario_routes[s.name][req.name], req.src, req.dst, s.down_media(),
                         unserved=req.name in plan.unserved.get(s.name, ()))
    assert np.all(plan.utilised_qkd + plan.ondemand_qkd >= plan.need_qkd - 1e-6)


@pytest.mark.parametrize("method", ["decomposed", "monolithic"])
def test_scenario_mode_tiny_time_limit_still_returns_a_plan_or_says_why(nsfnet, method):
    """The real clock: with a tiny limit the result is a plan (time_limit) or a clean failure."""
    inst = _random_instance(nsfnet, 4, 30, 7)
    plan = solve_plan(inst, PlanOptions(reroute="scenario", time_limit_s=0.05, scenario_method=method))
    assert plan.status in ("time_limit", "optimal", "failed")
    if plan.status == "time_limit" and plan.diagnosis:
        assert "weather-mode plan" in plan.diagnosis
    if plan.status == "failed":
        assert "no feasible plan" in plan.diagnosis
