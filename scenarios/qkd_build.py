"""Wire a scenario's ``[qkd]`` layer: the physical QKD network, its edge twin and the core's QKD planner.

Physical key rates per QKD link (``physical.qkd_link``): a fiber link of length e with spans of at
most Θ runs over n = ceil(e/Θ) trusted-relay segments of e/n each (decoy BB84 at e/n); a UAV link
over its length; a satellite link from the skyfield geometry of its ground station (the
scenario's site unless ``qkd.stations`` gives one) at each tick: elevation ≥ the satellite's
minimum elevation and a dark site (sun below −12°), zero otherwise. With a ``[constellation]`` the
satellite node stands for the whole constellation: at each tick a station's satellite link runs
on the usable satellite (above the minimum elevation, station dark) with the highest key rate —
which satellite that is, is the station's own choice, independent of which one serves the radio
users at the site (``constellation_rate_series``). At run time a cloud cover above
``qkd.cloud_block_fraction`` blocks every optical (satellite and UAV) link; the network learns the
sky from the site's weather report on a zero-latency link (the world's per-tick report).

The planner counts on the same physics per link (``link_rates_bps``): the constant fiber and UAV
rates, and for each satellite link its epoch-average rate over the planning epoch; the instance
file's own key rates are used only by ``plan-qkd``.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import simpy

from physical.constellation import ConstellationGeometry
from physical.key_demand import DemandTrace, RandomDemand
from physical.orbit import GroundSite, SiteGeometry
from physical.qkd_link import fiber_key_rate_bps, satellite_key_rate_bps, satellite_qkd_available, uav_key_rate_bps
from physical.qkd_network import ConstantRate, PoolSettings, QkdLinkModel, QkdNetwork, RateSeries
from physical.weather import OPTICAL_MEDIA, WEATHER_STATES, sky_pattern
from twin.edge import EdgeTwin
from twin.qkd.forecast import clear_probability_markov, clear_probability_persistence, markov_generator
from twin.qkd.plan import PlanOptions
from twin.qkd.pricing import segments
from twin.core import CoreCloudTwin
from twin.qkd_planner import QkdForecaster, QkdPlanner, QkdPlanningPolicy


def satellite_rate_series(geometry: SiteGeometry, tick_s: float, min_elevation_rad: float) -> RateSeries:
    """Clear-sky key rate of one satellite QKD link at every tick (bit/s), from the station's geometry."""
    usable = satellite_qkd_available(geometry.elevation_rad, geometry.sun_elevation_rad, 0.0, min_elevation_rad=min_elevation_rad)
    rates = np.zeros(len(geometry.elevation_rad))
    for k in np.flatnonzero(usable):
        rates[k] = satellite_key_rate_bps(float(geometry.range_m[k]), float(geometry.elevation_rad[k]))
    return RateSeries(tick_s, rates)


def constellation_rate_series(geometry: ConstellationGeometry, tick_s: float, min_elevation_rad: float) -> RateSeries:
    """Clear-sky key rate (bit/s) per tick of a station that uses, at every tick, the best usable satellite of a constellation.

    ``geometry`` is every satellite's geometry from the station (``Constellation.geometry``); a
    satellite is usable where :func:`physical.qkd_link.satellite_qkd_available` holds (elevation ≥
    ``min_elevation_rad``, the station dark). The rate is the maximum over usable satellites of
    :func:`physical.qkd_link.satellite_key_rate_bps` at their range and elevation, 0 when none is."""
    usable = satellite_qkd_available(geometry.elevation_rad, geometry.sun_elevation_rad[np.newaxis, :], 0.0,
                                     min_elevation_rad=min_elevation_rad)
    rates = np.zeros(len(geometry.t_s))
    for row, k in np.argwhere(usable):
        rate = satellite_key_rate_bps(float(geometry.range_m[row, k]), float(geometry.elevation_rad[row, k]))
        rates[k] = max(rates[k], rate)
    return RateSeries(tick_s, rates)


def qkd_links(prepared, tick_s: float) -> list[QkdLinkModel]:
    """The network's links with their physical key-rate sources (module docstring)."""
    scenario = prepared.scenario
    network = scenario.qkd_network
    kinds = {node.name: node.kind for node in network.nodes}
    stations = scenario.qkd.stations or {}
    times = np.arange(scenario.run.n_ticks) * tick_s
    min_elevation = math.radians(scenario.satellite.min_elevation_deg)
    series: dict[str, RateSeries] = {}
    constellation = prepared.elements

    def series_for(ground: str) -> RateSeries:
        key = ground if ground in stations else "<site>"
        if key not in series:
            site = GroundSite(key, *stations[key]) if key in stations else prepared.site
            if constellation is not None:
                series[key] = constellation_rate_series(constellation.geometry(site, prepared.start, times), tick_s, min_elevation)
                return series[key]
            if key in stations:
                geometry = prepared.orbit.geometry(site, prepared.start, times)
            else:
                geometry = prepared.geometry
            series[key] = satellite_rate_series(geometry, tick_s, min_elevation)
        return series[key]

    links = []
    for link in network.links:
        medium = network.media[link.medium]
        if link.medium == "fiber":
            n = segments(link.length_km, medium.span_km)
            rate = ConstantRate(fiber_key_rate_bps(link.length_km * 1e3 / n))
        elif link.medium == "uav":
            rate = ConstantRate(uav_key_rate_bps(link.length_km * 1e3))
        else:
            ground = link.b if kinds[link.a] == "satellite" else link.a
            rate = series_for(ground)
        links.append(QkdLinkModel(link.name, link.a, link.b, link.medium, rate, link.medium in OPTICAL_MEDIA))
    return links


def build_qkd(prepared, env: simpy.Environment, core: CoreCloudTwin, *, weather_inbox: simpy.Store, make_link: Callable, rng_for: Callable,
              log, planner: Callable[..., QkdPlanner] = QkdPlanner) -> QkdNetwork:
    """Create the QKD network (physical), its edge twin and the QKD planner hosted by ``core``, linked with latency.

    ``weather_inbox`` delivers the site's weather reports to the network (the builder's fan-out of the
    world's weather outbox); ``planner`` makes the planner (:class:`QkdPlanner`'s arguments)."""
    scenario = prepared.scenario
    qkd = scenario.qkd
    network = scenario.qkd_network
    links_config = scenario.links
    tick_s = scenario.run.tick_s
    links = qkd_links(prepared, tick_s)
    requests = {r.name: (r.src, r.dst) for r in network.requests}
    demand = qkd.demand
    if demand.model == "trace":
        by_pair = {pair: name for name, pair in requests.items()}
        source = DemandTrace([(r.t_s, by_pair[(r.src, r.dst)], r.rate_bps) for r in scenario.demand_records], list(requests))
    else:
        source = RandomDemand(demand.mean_bps, demand.cv, demand.hold_s, rng_for("qkd.demand"))

    edge_inbox, planner_inbox, network_inbox = simpy.Store(env), simpy.Store(env), simpy.Store(env)
    qkd_network = QkdNetwork(
        env, links=links, requests=requests, demand_changes=source.changes(),
        pools=PoolSettings(qkd.pool_capacity_bits, qkd.pool_warning_bits, qkd.pool_initial_bits),
        weather_inbox=weather_inbox, cloud_block_fraction=qkd.cloud_block_fraction,
        step_s=qkd.step_s, report_period_s=qkd.report_period_s, log_period_s=qkd.log_period_s,
        outbox=make_link("intra.qkd", edge_inbox, links_config.intra), inbox=network_inbox, log=log,
    )
    EdgeTwin(env, "qkd", edge_inbox, make_link("inter.qkd", planner_inbox, links_config.inter), log)

    weather = scenario.weather
    if weather.model == "markov":
        q = markov_generator(WEATHER_STATES, weather.mean_duration_s, weather.jump_probabilities)

        def clear_probability(report, horizon_s: float) -> float:
            state = report.state if report is not None else weather.initial
            return clear_probability_markov(q, WEATHER_STATES, state, horizon_s)
    else:
        def clear_probability(report, horizon_s: float) -> float:
            pattern = sky_pattern(report.cloud_cover, qkd.cloud_block_fraction) if report is not None else "clear"
            return clear_probability_persistence(pattern, qkd.forecast_persistence)
    duration = scenario.run.duration_s

    def link_rates_bps(t0_s: float, t1_s: float) -> dict[str, float]:
        t1_s = min(t1_s, duration)
        return {link.name: link.rate.mean_bps(t0_s, t1_s) if isinstance(link.rate, RateSeries) else link.rate.rate_bps(t0_s)
                for link in links}

    qkd_planner = planner(
        network,
        policy=QkdPlanningPolicy(
            planning_period_s=qkd.planning_period_s, min_replan_interval_s=qkd.min_replan_interval_s,
            replan_on_weather_change=qkd.replan_on_weather_change, demand_replan_factor=qkd.demand_replan_factor,
            check_period_s=qkd.report_period_s,
            check_offset_s=min(scenario.twin.check_offset_s, qkd.report_period_s / 2), forecast_samples=qkd.forecast_samples, demand_cv=demand.cv,
            options=PlanOptions(reroute=qkd.reroute, mip_rel_gap=qkd.mip_rel_gap, time_limit_s=qkd.time_limit_s),
            cloud_block_fraction=qkd.cloud_block_fraction,
        ),
        forecaster=QkdForecaster(clear_probability, dict(demand.mean_bps), link_rates_bps),
        weather=core.weather, rng=rng_for("qkd.forecast"), log=log,
    )
    core.host(qkd_planner, planner_inbox, {"qkd": make_link("decision.qkd", network_inbox, links_config.decision)})
    return qkd_network
