"""The physical QKD network and its demand: closed forms for pools, provisioning, blocking and costs."""

from __future__ import annotations


import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from physical.key_demand import DemandChange, DemandTrace, RandomDemand
from physical.qkd_network import CROSSING_DELAY_S, ConstantRate, PoolSettings, QkdLinkModel, QkdNetwork, RateSeries
from physical.reports import QkdPlanCommand, WeatherReport
from physical.weather import WeatherRecord, WeatherTrace
from tests.recording import ListLog, Sink


def command(routes, reserved_qkd, ondemand_qkd, *, key_rate=1000.0, reserved_km=None, ondemand_km=30, price_qkd=10.0,
            price_km=5.0, epoch_s=100.0, first_stage_cost=0.0, links=("A-B",), km_per_qkd_link=False) -> QkdPlanCommand:
    rates = key_rate if isinstance(key_rate, dict) else {l: key_rate for l in links}
    return QkdPlanCommand(
        plan_id=0, routes=routes, reserved_qkd=reserved_qkd, reserved_km=reserved_km if reserved_km is not None else {},
        key_rate_bps=rates, ondemand_capacity_qkd={l: ondemand_qkd for l in links},
        ondemand_capacity_km={l: ondemand_km for l in links}, price_qkd={l: price_qkd for l in links},
        price_km={l: price_km for l in links}, ondemand_factor=2.0, utilisation_factor=0.0, epoch_s=epoch_s,
        first_stage_cost=first_stage_cost, decided_at_s=0.0, oldest_input_s=0.0, km_per_qkd_link=km_per_qkd_link)


def replay(env, inbox, trace: WeatherTrace):
    """The world's role: a weather report at each record's time (here exactly; the world reports every tick)."""
    for record in trace.records:
        yield env.timeout(record.t_s - env.now)
        inbox.put(WeatherReport(env.now, record.state, record.rain_fade_db, record.cloud_cover))


def network(env, log, links, demand, *, cloud=0.0, initial_bits=0.0, warning_bits=1e4, step_s=1.0, trace=None,
            requests=None, cloud_block_fraction=0.5):
    inbox, weather = simpy.Store(env), simpy.Store(env)
    trace = trace or WeatherTrace((WeatherRecord(0.0, "cloudy" if cloud > 0 else "clear", 0.0, cloud),))
    env.process(replay(env, weather, trace))
    net = QkdNetwork(env, links=links, requests=requests or {"f": ("A", "B")}, demand_changes=iter(demand),
                     pools=PoolSettings(1e9, warning_bits, initial_bits), weather_inbox=weather, step_s=step_s,
                     report_period_s=10.0, log_period_s=50.0, outbox=Sink(), inbox=inbox, log=log,
                     cloud_block_fraction=cloud_block_fraction)
    return net, inbox


FIBER = QkdLinkModel("A-B", "A", "B", "fiber", ConstantRate(1000.0), False)
ROUTE = {"clear": {"f": ("A", "B")}, "cloudy": {"f": ("A", "B")}}


def test_pool_grows_at_production_minus_demand_and_crossings_are_logged():
    # demand 1500 bit/s with K = 1000 bit/s ⇒ ceil(1.5) = 2 QKD links, each delivering 1000 bit/s:
    # the pool gains 2000 − 1500 = 500 bit/s, crossing EMPTY→WARNING at once and WARNING→READY at 1e4 bit (t = 20 s)
    env, log = simpy.Environment(), ListLog()
    net, inbox = network(env, log, [FIBER], [DemandChange(0.0, {"f": 1500.0})])
    inbox.put(command(ROUTE, {"A-B": 3}, 150))
    env.run(until=100.0)
    net.advance_to(100.0)
    assert net.pools["A-B"].stock_bits == pytest.approx(500.0 * 100.0)
    crossings = [(r["from_state"], r["to_state"], r["t_s"]) for r in log.of("key_pool_crossing")]
    # stamped when they happen: EMPTY → WARNING as soon as the pool fills, WARNING → READY at 1e4 / 500 = 20 s
    assert [c[:2] for c in crossings] == [("EMPTY", "WARNING"), ("WARNING", "READY")]
    assert crossings[0][2] == pytest.approx(0.0, abs=2 * CROSSING_DELAY_S)
    assert crossings[1][2] == pytest.approx(20.0, abs=2 * CROSSING_DELAY_S)
    assert not log.of("key_demand_unmet")


def test_second_stage_cost_is_reserved_first_then_on_demand():
    # 6 QKD wavelengths needed, 3 reserved ⇒ 3 on demand at 2 × 10; 1 KM wavelength, none reserved ⇒ 2 × 5 on demand;
    # per epoch 60 + 10 = 70; the plan is in force for the whole 100 s epoch
    env, log = simpy.Environment(), ListLog()
    net, inbox = network(env, log, [FIBER], [DemandChange(0.0, {"f": 1500.0})])
    inbox.put(command(ROUTE, {"A-B": 3}, 150, first_stage_cost=40.0))
    env.run(until=100.0)
    net.advance_to(100.0)
    net.close_plan()
    (cost,) = log.of("qkd_plan_cost")
    assert cost["second_stage_cost"] == pytest.approx(70.0)
    assert cost["first_stage_cost"] == pytest.approx(40.0)
    assert cost["mean_ondemand_qkd"] == pytest.approx(3.0)
    assert cost["served_bits"] == pytest.approx(cost["requested_bits"]) == pytest.approx(1500.0 * 100.0)


def test_request_that_does_not_fit_is_not_served():
    env, log = simpy.Environment(), ListLog()
    net, inbox = network(env, log, [FIBER], [DemandChange(0.0, {"f": 1500.0})], initial_bits=1e6)
    inbox.put(command(ROUTE, {"A-B": 3}, 0))  # 6 wavelengths needed, 3 available in all
    env.run(until=10.0)
    net.advance_to(10.0)
    unmet = log.of("key_demand_unmet")
    assert {r["reason"] for r in unmet} == {"capacity"}
    assert sum(r["unmet_bits"] for r in unmet) == pytest.approx(1500.0 * 10.0)
    assert net.pools["A-B"].stock_bits == 1e6  # nothing produced, nothing consumed


def test_cloud_blocks_satellite_link_and_pool_drains_to_empty():
    sat = QkdLinkModel("A-B", "A", "B", "satellite", ConstantRate(5000.0), True)
    env, log = simpy.Environment(), ListLog()
    net, inbox = network(env, log, [sat], [DemandChange(0.0, {"f": 1000.0})], cloud=1.0, initial_bits=5000.0, warning_bits=2000.0)
    inbox.put(command(ROUTE, {"A-B": 3}, 150))
    env.run(until=10.0)
    net.advance_to(10.0)
    # no production under cloud: 5000 bit last 5 s at 1000 bit/s, then every step is unmet
    assert net.pools["A-B"].stock_bits == 0.0
    crossings = log.of("key_pool_crossing")
    assert [(r["from_state"], r["to_state"]) for r in crossings] == [("READY", "WARNING"), ("WARNING", "EMPTY")]
    # exact times: below 2000 bit after 3 s, empty after 5 s (not at the end of the 1 s steps)
    assert [r["t_s"] for r in crossings] == pytest.approx([3.0, 5.0], abs=2 * CROSSING_DELAY_S)
    unmet = log.of("key_demand_unmet")
    assert {r["reason"] for r in unmet} == {"pool_empty"}
    assert sum(r["unmet_bits"] for r in unmet) == pytest.approx(1000.0 * 10.0 - 5000.0)


def test_no_route_in_the_current_weather_is_unmet():
    env, log = simpy.Environment(), ListLog()
    net, inbox = network(env, log, [FIBER], [DemandChange(0.0, {"f": 100.0})], cloud=0.6)
    inbox.put(command({"clear": {"f": ("A", "B")}}, {"A-B": 3}, 150))
    env.run(until=5.0)
    assert {r["reason"] for r in log.of("key_demand_unmet")} == {"no_route"}


@pytest.mark.parametrize("cover, fraction, blocked", [(0.3, 0.5, False), (0.5, 0.5, False), (0.51, 0.5, True),
                                                       (0.3, 0.2, True), (1.0, 1.0, False), (0.01, 0.0, True)])
def test_cloud_cover_above_the_fraction_blocks_optical_links_only(cover, fraction, blocked):
    """One rule for every optical link (satellite and UAV) and the provisioning pattern; fiber never blocks."""
    links = [QkdLinkModel("A-U", "A", "U", "uav", ConstantRate(5000.0), True),
             QkdLinkModel("A-B", "A", "B", "fiber", ConstantRate(5000.0), False)]
    env, log = simpy.Environment(), ListLog()
    net, inbox = network(env, log, links, [DemandChange(0.0, {"f": 1000.0, "g": 1000.0})], cloud=cover,
                         requests={"f": ("U", "A"), "g": ("A", "B")}, cloud_block_fraction=fraction, initial_bits=1e6)
    routes = {"f": ("U", "A"), "g": ("A", "B")}
    inbox.put(command({"clear": routes, "cloudy": routes}, {"A-U": 3, "A-B": 3}, 150, links=("A-U", "A-B")))
    env.run(until=10.0)
    net.advance_to(10.0)
    assert net.weather_pattern() == ("cloudy" if blocked else "clear")
    uav = 1e6 + (0.0 if blocked else 5000.0 * 10) - 1000.0 * 10
    assert net.pools["A-U"].stock_bits == pytest.approx(uav)
    assert net.pools["A-B"].stock_bits == pytest.approx(1e6 + 4000.0 * 10)


def test_a_weather_change_mid_step_splits_the_interval_at_the_change():
    """Step 10 s; the sky clouds over at 4 s and clears at 7 s: the satellite link produces for 4 + 3 s
    (interval [t0, t1] provisioned for the weather at t0, never across a change), the cloudy pattern's
    route is used in between, and the change is seen at once, not at the step."""
    sat = QkdLinkModel("A-S", "A", "S", "satellite", ConstantRate(1000.0), True)
    fiber = QkdLinkModel("A-B", "A", "B", "fiber", ConstantRate(1000.0), False)
    trace = WeatherTrace((WeatherRecord(0.0, "clear", 0.0, 0.0), WeatherRecord(4.0, "cloudy", 0.0, 0.9),
                          WeatherRecord(7.0, "clear", 0.0, 0.1)))
    env, log = simpy.Environment(), ListLog()
    net, inbox = network(env, log, [sat, fiber], [DemandChange(0.0, {"f": 500.0})], step_s=10.0, trace=trace,
                         requests={"f": ("A", "S")}, initial_bits=1e5)
    inbox.put(command({"clear": {"f": ("A", "S")}, "cloudy": {}}, {"A-S": 3}, 150, links=("A-S", "A-B")))
    env.run(until=10.0)
    net.advance_to(10.0)
    assert net.pools["A-S"].stock_bits == pytest.approx(1e5 + (1000.0 - 500.0) * 7 - 0.0)  # 7 s clear: produce and serve
    unmet = log.of("key_demand_unmet")
    assert [(r["reason"], r["weather"], r["from_s"], r["t_s"]) for r in unmet] == [("no_route", "cloudy", 4.0, 7.0)]
    assert unmet[0]["unmet_bits"] == pytest.approx(500.0 * 3)


def test_per_link_key_rates_set_the_parallel_qkd_links_per_link():
    """Route A–B–C with K = 1000 and 4000 bit/s: a 3,500 bit/s demand runs 4 and 1 QKD links (12 and 3 wavelengths)."""
    links = [QkdLinkModel("A-B", "A", "B", "fiber", ConstantRate(1000.0), False),
             QkdLinkModel("B-C", "B", "C", "fiber", ConstantRate(4000.0), False)]
    env, log = simpy.Environment(), ListLog()
    net, inbox = network(env, log, links, [DemandChange(0.0, {"f": 3500.0})], requests={"f": ("A", "C")}, initial_bits=1e6)
    route = {"f": ("A", "B", "C")}
    inbox.put(command({"clear": route, "cloudy": route}, {"A-B": 12, "B-C": 3}, 0, links=("A-B", "B-C"),
                      key_rate={"A-B": 1000.0, "B-C": 4000.0}))
    env.run(until=10.0)
    net.advance_to(10.0)
    assert net._running == {"A-B": 4, "B-C": 1}
    assert net.pools["A-B"].stock_bits == pytest.approx(1e6 + (4000.0 - 3500.0) * 10)
    assert net.pools["B-C"].stock_bits == pytest.approx(1e6 + (4000.0 - 3500.0) * 10)
    assert not log.of("key_demand_unmet")


def test_km_per_qkd_link_needs_one_km_wavelength_per_parallel_qkd_link():
    """P = 4 parallel QKD links: eq. 35 needs 4 KM wavelengths, eq. 6 one; with 3 available only eq. 6 fits."""
    for rule, reason in ((True, {"capacity"}), (False, set())):
        env, log = simpy.Environment(), ListLog()
        net, inbox = network(env, log, [FIBER], [DemandChange(0.0, {"f": 3500.0})], initial_bits=1e6)
        inbox.put(command(ROUTE, {"A-B": 12}, 0, reserved_km={"A-B": 3}, ondemand_km=0, km_per_qkd_link=rule))
        env.run(until=5.0)
        assert {r["reason"] for r in log.of("key_demand_unmet")} == reason


def test_demand_trace_changes_apply_at_their_exact_times():
    env, log = simpy.Environment(), ListLog()
    trace = DemandTrace([(0.0, "f", 100.0), (2.5, "f", 300.0), (7.25, "f", 0.0)], ["f"])
    net, inbox = network(env, log, [FIBER], list(trace.changes()), step_s=10.0, initial_bits=1e6)
    inbox.put(command(ROUTE, {"A-B": 3}, 150))
    env.run(until=10.0)
    net.advance_to(10.0)
    changes = [(r["t_s"], r["to_bps"]) for r in log.of("key_demand_change")]
    assert changes == [(0.0, 100.0), (2.5, 300.0), (7.25, 0.0)]
    # 1 QKD link at 1000 bit/s runs while the demand is positive (0–7.25 s); consumed 100·2.5 + 300·4.75
    assert net.pools["A-B"].stock_bits == pytest.approx(1e6 + 1000.0 * 7.25 - (100.0 * 2.5 + 300.0 * 4.75))


def test_demand_trace_without_records_at_zero_starts_every_request_idle():
    changes = list(DemandTrace([(5.0, "f", 10.0)], ["f", "g"]).changes())
    assert changes == [DemandChange(0.0, {"f": 0.0, "g": 0.0}), DemandChange(5.0, {"f": 10.0})]


def test_random_demand_has_the_configured_mean_and_cv():
    source = RandomDemand({"f": 2000.0, "g": 0.0}, cv=0.5, hold_s=1.0, rng=np.random.default_rng(3))
    draws = [next(it) for it in [source.changes()] for _ in range(20000)]
    f = np.array([d.rates_bps["f"] for d in draws])
    assert [d.t_s for d in draws[:3]] == [0.0, 1.0, 2.0]
    assert f.mean() == pytest.approx(2000.0, rel=0.03)
    assert f.std() / f.mean() == pytest.approx(0.5, rel=0.05)
    assert all(d.rates_bps["g"] == 0.0 for d in draws)


@settings(max_examples=60, deadline=None)
@given(rates=st.lists(st.floats(0, 1e6), min_size=1, max_size=30), a=st.floats(0, 40), b=st.floats(0, 40), c=st.floats(0, 40))
def test_rate_series_integral_is_additive_and_matches_the_step_sum(rates, a, b, c):
    t0, t1, t2 = sorted((a, b, c))
    series = RateSeries(1.5, np.array(rates))
    assert series.bits(t0, t1) + series.bits(t1, t2) == pytest.approx(series.bits(t0, t2), rel=1e-9, abs=1e-6)
    grid = np.linspace(t0, t2, 4001)
    midpoints = (grid[:-1] + grid[1:]) / 2
    brute = sum(series.rate_bps(t) for t in midpoints) * (t2 - t0) / 4000
    assert series.bits(t0, t2) == pytest.approx(brute, rel=2e-2, abs=max(rates) * 1.5 * 2 + 1e-6)


def test_a_pool_that_empties_mid_step_is_stamped_when_it_empties_and_unmet_from_then():
    """Step 10 s, no production (cloud), 5000 bit at 1000 bit/s: WARNING (< 2000 bit) at 3 s, EMPTY at 5 s;
    the demand is met until 5 s and unmet from then, not from the step boundary."""
    sat = QkdLinkModel("A-B", "A", "B", "satellite", ConstantRate(5000.0), True)
    env, log = simpy.Environment(), ListLog()
    net, inbox = network(env, log, [sat], [DemandChange(0.0, {"f": 1000.0})], cloud=1.0, initial_bits=5000.0,
                         warning_bits=2000.0, step_s=10.0)
    inbox.put(command(ROUTE, {"A-B": 3}, 150))
    env.run(until=20.0)
    net.advance_to(20.0)
    crossings = log.of("key_pool_crossing")
    assert [r["to_state"] for r in crossings] == ["WARNING", "EMPTY"]
    assert [r["t_s"] for r in crossings] == pytest.approx([3.0, 5.0], abs=2 * CROSSING_DELAY_S)
    unmet = log.of("key_demand_unmet")
    assert min(r["from_s"] for r in unmet) == pytest.approx(5.0, abs=2 * CROSSING_DELAY_S)
    assert sum(r["unmet_bits"] for r in unmet) == pytest.approx(1000.0 * 15)
    times = [r["t_s"] for r in log.rows]
    assert times == sorted(times)  # the log stays in time order


@settings(max_examples=40, deadline=None)
@given(demands=st.lists(st.tuples(st.floats(0, 99), st.floats(0, 3000)), max_size=6),
       skies=st.lists(st.tuples(st.floats(0.5, 99), st.floats(0, 1)), max_size=5),
       initial=st.floats(0, 2e4), step=st.sampled_from([1.0, 7.0, 10.0]))
def test_property_log_order_crossing_states_and_key_balance(demands, skies, initial, step):
    """Random demand and sky changes: the log stays in time order, every crossing leaves the pool in the
    state it names, and what each plan was asked for is served or logged as unmet."""
    links = [QkdLinkModel("A-S", "A", "S", "satellite", ConstantRate(1200.0), True),
             QkdLinkModel("A-B", "A", "B", "fiber", ConstantRate(700.0), False)]
    changes = [DemandChange(0.0, {"f": 500.0, "g": 300.0})]
    for t, rate in sorted(demands):
        changes.append(DemandChange(t, {"f": rate}))
    records = [WeatherRecord(0.0, "clear", 0.0, 0.0)]
    for t, cover in sorted(skies):
        if t > records[-1].t_s:
            records.append(WeatherRecord(t, "cloudy" if cover > 0.5 else "clear", 0.0, cover))
    env, log = simpy.Environment(), ListLog()
    net, inbox = network(env, log, links, changes, step_s=step, trace=WeatherTrace(tuple(records)),
                         requests={"f": ("A", "S"), "g": ("A", "B")}, initial_bits=initial, warning_bits=5000.0)
    routes = {"f": ("A", "S"), "g": ("A", "B")}
    inbox.put(command({"clear": routes, "cloudy": {"g": ("A", "B")}}, {"A-S": 6, "A-B": 3}, 30, links=("A-S", "A-B")))
    env.run(until=100.0)
    net.advance_to(100.0)
    net.close_plan()
    times = [r["t_s"] for r in log.rows]
    assert times == sorted(times)
    for r in log.of("key_pool_crossing"):
        state = {"EMPTY": r["stock_bits"] <= 0.0, "WARNING": 0.0 < r["stock_bits"] < 5000.0,
                 "READY": r["stock_bits"] >= 5000.0}
        assert state[r["to_state"]], r
    (cost,) = log.of("qkd_plan_cost")
    unmet = sum(r["unmet_bits"] for r in log.of("key_demand_unmet") if r["reason"] != "no_plan")
    assert cost["requested_bits"] == pytest.approx(cost["served_bits"] + cost["unmet_bits"])
    assert cost["unmet_bits"] == pytest.approx(unmet, abs=1e-3 + 1e-9 * cost["requested_bits"])
