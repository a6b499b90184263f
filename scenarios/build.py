"""Wire a validated scenario into one runnable :class:`Simulation`: world, links, twins and log.

Reports flow entity → intra-twin link → edge twin → inter-twin link → core-cloud twin; decisions
flow core → decision link → transmitter. The builder is the only place that knows both
``physical`` and ``twin``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Callable

import numpy as np
import simpy

from eventlog import EventLog
from physical.channels import SATELLITE, ChannelModel, RadioParameters, TransmitterRadio
from physical.mobility import LinearMotion, WaypointTrajectory
from physical.orbit import GroundSite, LeoOrbit, PassEvent, SiteGeometry
from physical.randomness import component_rng
from physical.units import db_to_linear, dbw_to_watts
from physical.weather import Weather, WeatherModel, WeatherTrace
from physical.constellation import Constellation
from physical.handover import ServingRule
from physical.qkd_network import QkdNetwork
from physical.serving import ServingSatellites, serving_satellites
from physical.walker import WalkerShell
from physical.world import Layout, World
from common.errors import InputError
from scenarios.config import LinkConfig, Scenario, blame
from scenarios.qkd_build import build_qkd
from twin.precoding_planner import PrecodingPlanner, TriggerPolicy
from twin.edge import EdgeTwin
from twin.link import FanOut, Link, LinkModel
from twin.core import CoreCloudTwin
from twin.precoding import PRECODERS
from twin.precoding.faults import FaultInjector
from twin.prediction import ChannelPredictor, SatelliteTrack, TwinKnowledge
from twin.qkd_planner import QkdPlanner

def radio_parameters(s: Scenario) -> RadioParameters:
    """Convert the scenario's radio fields (dB, degrees) into the channel model's SI/linear units, one model per transmitter."""
    entities = s.entities
    transmitters = {SATELLITE: TransmitterRadio("satellite", s.satellite.antennas, s.satellite.coherence_time_s)}
    for name, uav in entities.uavs.items():
        transmitters[name] = TransmitterRadio("uav", uav.antennas, uav.coherence_time_s, ref_gain=float(db_to_linear(uav.ref_gain_db)),
                                              rician_k=float(db_to_linear(uav.rician_k_db)))
    for name, bs in entities.base_stations.items():
        transmitters[name] = TransmitterRadio("bs", bs.antennas, bs.coherence_time_s, ref_gain=float(db_to_linear(bs.path_loss_ref_db)),
                                              nakagami_m=bs.nakagami_m, nakagami_omega=bs.nakagami_omega)
    return RadioParameters(
        carrier_freq_hz=s.radio.carrier_freq_hz,
        bandwidth_hz=s.radio.bandwidth_hz,
        noise_figure_db=s.radio.noise_figure_db,
        sat_max_gain=float(db_to_linear(s.satellite.max_gain_db)),
        sat_beam_3db_rad=math.radians(s.satellite.beam_3db_deg),
        sat_min_elevation_rad=math.radians(s.satellite.min_elevation_deg),
        transmitters=transmitters,
        coherence_model=s.radio.coherence_model,
        jakes_min_speed_mps=s.radio.jakes_min_speed_mps,
    )


def power_limits_w(s: Scenario) -> dict[str, float]:
    """Every transmitter's power limit (W), by name."""
    entities = s.entities
    return {SATELLITE: float(dbw_to_watts(s.satellite.power_dbw)),
            **{name: float(dbw_to_watts(uav.power_dbw)) for name, uav in entities.uavs.items()},
            **{name: float(dbw_to_watts(bs.power_dbw)) for name, bs in entities.base_stations.items()}}


def flight_plans(s: Scenario) -> dict[str, WaypointTrajectory]:
    """Every UAV's trajectory, by name."""
    return {name: WaypointTrajectory(np.asarray(uav.waypoints_enu_m), uav.speed_mps, uav.loop) for name, uav in s.entities.uavs.items()}


def base_station_positions_m(s: Scenario) -> dict[str, np.ndarray]:
    """Every base station's antenna position (ENU, m), by name."""
    return {name: np.asarray(bs.position_enu_m, dtype=float) for name, bs in s.entities.base_stations.items()}


def receiver_motions(s: Scenario) -> dict[str, LinearMotion]:
    """Every user's and Eve's motion, by topology name (users, then Eves)."""
    return {name: LinearMotion(node.position_enu_m, node.velocity_mps) for name, node in s.entities.receivers.items()}


def _link_model(config: LinkConfig) -> LinkModel:
    return LinkModel(config.latency_s, config.jitter_s, config.loss_probability)


@dataclass
class Simulation:
    """A built scenario, ready to run. ``run()`` advances SimPy to the end and returns the world."""

    scenario: Scenario
    env: simpy.Environment
    world: World
    core: CoreCloudTwin
    log: EventLog
    start_utc: object
    qkd: QkdNetwork | None = None

    def run(self, progress: Callable[[float], None] | None = None, should_stop: Callable[[], bool] | None = None) -> World:
        """Run to ``duration_s`` in short steps of simulated time.

        ``progress(fraction)`` is called after each step; ``should_stop()`` is checked after each
        step and a True answer raises KeyboardInterrupt there (solvers may swallow a raw SIGINT).
        """
        duration = self.scenario.run.duration_s
        step = self.scenario.run.tick_s * max(1, math.ceil(self.scenario.run.n_ticks / 1000))
        t = 0.0
        while t < duration:
            t = min(duration, t + step)
            self.env.run(until=t)
            if progress is not None:
                progress(t / duration)
            if should_stop is not None and should_stop():
                raise KeyboardInterrupt
        return self.world

    def finish(self) -> None:
        """Settle what accrues over time up to now (the QKD network's pools and the cost of its plan in force)."""
        if self.qkd is not None:
            self.qkd.advance_to(self.env.now)
            self.qkd.close_plan()


def run_start(scenario: Scenario, orbit: LeoOrbit, site: GroundSite):
    """The run's UTC start: ``start_utc``, or centred on the first qualifying pass culmination."""
    run = scenario.run
    if run.align == "start":
        return run.start_datetime
    culmination = orbit.first_culmination(site, run.start_datetime, run.search_window_s, run.min_peak_elevation_deg)
    if culmination is None:
        raise InputError(
            f"no pass peaking above {run.min_peak_elevation_deg:g} deg over {site.name} within "
            f"{run.search_window_s / 3600:g} h of {run.start_utc} (satellite {orbit.name}); lower it or widen run.search_window_s",
            source=str(scenario.path), field="run.min_peak_elevation_deg",
        )
    return culmination - timedelta(seconds=run.duration_s / 2.0)


@dataclass(frozen=True)
class Prepared:
    """Everything derived from the scenario that can fail on bad input, computed before any output exists."""

    scenario: Scenario
    orbit: LeoOrbit | None
    site: GroundSite
    start: datetime
    geometry: SiteGeometry
    passes: tuple[PassEvent, ...]
    constellation: ServingSatellites | None = None
    constellation_source: str = ""
    elements: Constellation | None = None   # the constellation's element sets (with [constellation]), for the QKD stations' geometry


def prepare(scenario: Scenario) -> Prepared:
    """Load the TLE, find the run window and precompute the satellite geometry for every tick.

    With ``[constellation]``: load the catalogue or generate the Walker shell, propagate every
    satellite once over the run (plus the serving rule's look-ahead), choose the serving satellite
    per tick and build its geometry (``physical.serving``); the World and the twin use it as one
    satellite's. The elements must be within ``MAX_TLE_AGE_DAYS`` of every instant they are
    propagated to: the pass search's window, then the run's. An error about a field set on the command line names
    the override (``--set KEY``).
    """
    try:
        return _prepare(scenario)
    except InputError as exc:
        raise blame(exc, scenario, str(scenario.path)) from None


def load_constellation(scenario: Scenario, start: datetime) -> Constellation:
    """The scenario's constellation: its TLE catalogue, or its Walker shell with the epoch given (else ``start``)."""
    config = scenario.constellation
    if config.tle:
        return Constellation.from_tle(scenario.constellation_tle_path)
    walker = config.walker
    try:
        shell = WalkerShell(inclination_deg=walker.inclination_deg, total=walker.total, planes=walker.planes, phasing=walker.phasing,
                            altitude_m=walker.altitude_m, epoch_utc=walker.epoch_datetime or start,
                            raan_offset_deg=walker.raan_offset_deg, mean_anomaly_offset_deg=walker.mean_anomaly_offset_deg,
                            name=walker.name)
    except InputError as exc:
        raise InputError(exc.message, source=str(scenario.path), field=f"constellation.walker.{exc.field}" if exc.field else "constellation.walker") from None
    return Constellation.from_walker(shell)


def _prepare_constellation(scenario: Scenario, site: GroundSite) -> Prepared:
    """Propagate the whole constellation once, choose the serving satellite per tick and build its geometry."""
    run = scenario.run
    config = scenario.constellation
    source = str(scenario.path)
    start = run.start_datetime
    constellation = load_constellation(scenario, start)
    end = start + timedelta(seconds=run.duration_s + config.lookahead_s)
    constellation.check_epochs_near(start, end, source, "constellation.walker.epoch_utc" if config.walker else "constellation.tle")
    rule = ServingRule(config.rule, math.radians(scenario.satellite.min_elevation_deg), math.radians(config.hysteresis_deg), config.hysteresis_s)
    t_s = np.arange(run.n_ticks) * run.tick_s
    serving = serving_satellites(constellation, site, start, t_s, rule, lookahead_s=config.lookahead_s,
                                 keep_others=config.non_serving == "interference")
    return Prepared(scenario, None, site, start, serving.geometry, (), serving, constellation.source, constellation)


def _prepare(scenario: Scenario) -> Prepared:
    site = GroundSite(scenario.site.name, scenario.site.latitude_deg, scenario.site.longitude_deg, scenario.site.altitude_m)
    if scenario.constellation is not None:
        return _prepare_constellation(scenario, site)
    orbit = LeoOrbit.from_tle(scenario.tle_path)
    run = scenario.run
    source = str(scenario.path)
    if run.align == "culmination":
        orbit.check_epoch_near(run.start_datetime, run.start_datetime + timedelta(seconds=run.search_window_s), source, "run.start_utc")
    start = run_start(scenario, orbit, site)
    orbit.check_epoch_near(start, start + timedelta(seconds=run.duration_s), source, "run.start_utc")
    geometry = orbit.geometry(site, start, np.arange(scenario.run.n_ticks) * scenario.run.tick_s)
    passes = tuple(orbit.passes(site, start, scenario.run.duration_s, scenario.satellite.min_elevation_deg))
    return Prepared(scenario, orbit, site, start, geometry, passes)


def build(prepared: Prepared | Scenario, log: EventLog, *, qkd_planner: Callable[..., QkdPlanner] = QkdPlanner) -> Simulation:
    """Construct every component of a prepared scenario and log the run's static facts.

    ``qkd_planner`` makes the QKD planner the core-cloud twin hosts (called with :class:`QkdPlanner`'s
    arguments): the two-stage program by default, an agent's decisions in :mod:`environment`.
    """
    if isinstance(prepared, Scenario):
        prepared = prepare(prepared)
    scenario, orbit, start, geometry = prepared.scenario, prepared.orbit, prepared.start, prepared.geometry
    seed = scenario.run.seed
    rng_for = partial(component_rng, seed)
    env = simpy.Environment()
    n_ticks = scenario.run.n_ticks
    tick_s = scenario.run.tick_s

    log.log(
        0.0, "run", "run_started", scenario=str(scenario.path), seed=seed, start_utc=start.isoformat(),
        duration_s=scenario.run.duration_s, tick_s=tick_s, n_ticks=n_ticks, precoding=scenario.twin.precoding,
    )
    serving = prepared.constellation
    if serving is None:
        perigee_m, apogee_m = orbit.perigee_apogee_altitude_m()
        log.log(
            0.0, "satellite", "tle_loaded", name=orbit.name, tle=str(scenario.satellite.tle), epoch_utc=orbit.epoch_utc.isoformat(),
            epoch_age_days=(start - orbit.epoch_utc).total_seconds() / 86_400.0,
            perigee_altitude_m=perigee_m, apogee_altitude_m=apogee_m,
        )
    else:
        config = scenario.constellation
        log.log(
            0.0, "satellite", "constellation_loaded", elements=prepared.constellation_source, satellites=len(serving.names),
            rule=serving.rule, hysteresis_deg=config.hysteresis_deg, hysteresis_s=config.hysteresis_s,
            non_serving=config.non_serving, handovers=sum(c.kind == "handover" for c in serving.changes),
        )

    entities = scenario.entities
    topology = entities.topology
    transmitters = topology.transmitters
    # the wiring table (DESIGN §4): every link by name, what it carries, from where to where, with which latency model
    edge_inbox = {tx: simpy.Store(env) for tx in transmitters}
    core_inbox = simpy.Store(env)
    command_inbox = {tx: simpy.Store(env) for tx in transmitters}
    links = scenario.links
    wiring = [
        *((f"intra.{tx}", edge_inbox[tx], links.intra) for tx in transmitters),          # entity → its edge twin
        ("intra.weather", edge_inbox[entities.ground_twin], links.intra),                 # the site's weather station → the ground twin
        *((f"inter.{tx}", core_inbox, links.inter) for tx in transmitters),               # edge twin → core-cloud twin
        *((f"decision.{tx}", command_inbox[tx], links.decision) for tx in transmitters),  # core-cloud twin → transmitter
    ]
    qkd_weather = simpy.Store(env) if scenario.qkd else None
    if qkd_weather is not None:  # ... and to the QKD network, whose optical links see that sky at once
        wiring.append(("weather.qkd", qkd_weather, LinkConfig()))

    def link(name: str, destination: simpy.Store, config: LinkConfig) -> Link:
        return Link(env, name, destination, _link_model(config), rng_for(f"link.{name}"), log)

    wired = {name: link(name, destination, config) for name, destination, config in wiring}
    outboxes = {tx: wired[f"intra.{tx}"] for tx in transmitters}
    outboxes["weather"] = wired["intra.weather"] if qkd_weather is None else FanOut(wired["intra.weather"], wired["weather.qkd"])
    for tx in transmitters:
        EdgeTwin(env, tx, edge_inbox[tx], wired[f"inter.{tx}"], log)
    downlinks = {tx: wired[f"decision.{tx}"] for tx in transmitters}

    twin = scenario.twin
    precoder = PRECODERS[twin.precoding]()
    if twin.fault_every_k_solves:
        precoder = FaultInjector(precoder, twin.fault_every_k_solves, twin.fault_mode)
    beam_centre_m = np.asarray(scenario.satellite.beam_centre_enu_m, dtype=float)
    radio = radio_parameters(scenario)
    # the twin's own models: the ephemeris it propagates from the same public TLE, the UAVs' flight plans
    # with a constellation, the serving satellite the twin predicts from the public elements and the declared rule
    knowledge = TwinKnowledge(
        radio=radio,
        topology=topology,
        satellite=SatelliteTrack.from_geometry(geometry, serving.serving_names() if serving is not None else None),
        beam_centre_m=beam_centre_m,
        uav_plans=flight_plans(scenario),
        bs_m=base_station_positions_m(scenario),
        eve_error_bound=scenario.radio.eve_csi_error,
    )
    core = CoreCloudTwin(env, log)
    core.host(
        PrecodingPlanner(
            topology=topology,
            precoder=precoder,
            fallback=PRECODERS[twin.fallback](),
            policy=TriggerPolicy(twin.period_s, twin.csi_drift_threshold, twin.replan_on_weather_change,
                                 twin.check_period_s, twin.check_offset_s, twin.solve_delay_s, twin.solve_timeout_s,
                                 prediction=twin.prediction, horizon_s=twin.horizon_s,
                                 forecast_drift_threshold=twin.forecast_drift_threshold,
                                 tick_s=tick_s, decision_latency_s=links.decision.latency_s),
            eve_error_bound=scenario.radio.eve_csi_error,
            weather=core.weather,
            log=log,
            predictor=ChannelPredictor(knowledge),
        ),
        core_inbox, downlinks,
    )

    layout = Layout(
        topology=topology,
        geometry=geometry,
        beam_centre_m=beam_centre_m,
        uavs=flight_plans(scenario),
        base_stations=base_station_positions_m(scenario),
        receivers=receiver_motions(scenario),
        passes=prepared.passes,
        constellation=serving,
    )
    w = scenario.weather
    if w.model == "trace":
        weather = WeatherTrace(scenario.weather_records)
    else:
        model = WeatherModel(w.initial, w.mean_duration_s, w.jump_probabilities, w.rain_fade_mu, w.rain_fade_variance, w.rain_fade_correlation_s)
        weather = Weather(model, rng_for("weather"))
    world = World(
        env,
        layout=layout,
        channels=ChannelModel(radio, topology, rng_for),
        weather=weather,
        interference=serving is not None and scenario.constellation.non_serving == "interference",
        power_limits_w=power_limits_w(scenario),
        eve_csi_error=scenario.radio.eve_csi_error,
        rng_for=rng_for,
        tick_s=tick_s,
        n_ticks=n_ticks,
        outboxes=outboxes,
        inboxes=command_inbox,
        log=log,
    )
    qkd = build_qkd(prepared, env, core, weather_inbox=qkd_weather, make_link=link, rng_for=rng_for, log=log,
                    planner=qkd_planner) if scenario.qkd else None
    return Simulation(scenario, env, world, core, log, start, qkd)
