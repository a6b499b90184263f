"""Scenario files: TOML validated into typed, frozen objects (units in every field name).

``load_scenario(path, overrides)`` reads the file with the one guarded TOML reader
(:func:`common.input_files.read_toml`: regular files only, size cap, nesting limit; data only,
no eval, no pickle), applies command-line overrides (``run --set KEY=VALUE``, ``--seed``,
``--duration``) to the parsed table, validates every field (:mod:`scenarios.schema`), resolves the
files it names (next to the scenario, else in the shipped library) and checks what spans fields:
the run inside the shipped ephemeris, the job size (:mod:`scenarios.workload`), receivers never at
a transmitter. Errors name the file (or the override), the dotted field and the allowed range.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path

import numpy as np

from physical.mobility import LinearMotion, WaypointTrajectory
from physical.constellation import parse_tle_catalogue
from physical.handover import RULES as SERVING_RULES
from physical.orbit import MAX_LEO_APOGEE_ALTITUDE_M, MIN_PERIGEE_ALTITUDE_M, ephemeris_span_utc
from physical.walker import MAX_SHELL_SATELLITES
from physical.weather import WEATHER_STATES, WeatherRecord
from common.errors import InputError
from common.input_files import TomlNestingError, parse_toml, read_text, read_toml
from scenarios.schema import Vec3, field_path_error, load_table, spec
from scenarios.traces import DemandRecord, load_demand_trace, load_weather_trace
from twin.precoding import PRECODERS
from twin.qkd.instance import QkdInstance
from twin.precoding.faults import FAULT_MODES
from twin.precoding_planner import PREDICTION_MODES
from physical.channels import COHERENCE_MODELS
from scenarios.workload import check_workload
from scenarios.entities import Entities, entities_of

MAX_DURATION_S = 7 * 86_400.0  #: longest run accepted (s)
SCENE_HALF_WIDTH_M = 100e3  #: every ENU coordinate (positions, waypoints, beam centre) lies within ± this of the site (m)
MAX_NODE_SPEED_MPS = 100.0  #: largest velocity component of a user or Eve (m/s)
MIN_TX_DISTANCE_M = 1.0  #: a receiver closer than this to any UAV or base station is refused (the path-loss models diverge at 0 m)
PRECODING_METHODS = tuple(sorted(PRECODERS))
NON_SERVING_MODES = ("silent", "interference")  #: what the constellation's other satellites do on the band



def parse_utc(text: str, label: str) -> datetime:
    """An ISO 8601 time with a time zone (``Z`` for UTC) as a UTC datetime; ``label`` starts the error message."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{label} {text!r} is not an ISO 8601 time such as 2026-11-16T12:00:00Z") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{label} {text!r} needs a time zone; append Z for UTC")
    return parsed.astimezone(timezone.utc)

@dataclass(frozen=True, kw_only=True)
class RunConfig:
    seed: int = spec(1, min=0, max=2**63 - 1, doc="root of every random stream (numpy SeedSequence)")
    duration_s: float = spec(600.0, min=0, min_exclusive=True, max=MAX_DURATION_S, unit="s", doc="simulated time")
    tick_s: float = spec(1.0, min=0.001, max=3600.0, unit="s", doc="period of the physical world's tick")
    start_utc: str = spec(doc="ISO 8601 UTC time, e.g. 2026-11-16T12:00:00Z: run start, or start of the pass search")
    align: str = spec("start", choices=("start", "culmination"), doc="'culmination' centres the run on the first pass peaking above min_peak_elevation_deg after start_utc")
    min_peak_elevation_deg: float = spec(30.0, min=0.0, max=90.0, unit="deg", doc="pass search: minimum peak elevation")
    search_window_s: float = spec(86_400.0, min=60.0, max=14 * 86_400.0, unit="s", doc="pass search: how far after start_utc to look")

    def __post_init__(self) -> None:
        parse_utc(self.start_utc, "start_utc")
        if self.tick_s > self.duration_s:
            raise ValueError(f"tick_s ({self.tick_s:g} s) must not exceed duration_s ({self.duration_s:g} s)")

    @property
    def start_datetime(self) -> datetime:
        return parse_utc(self.start_utc, "start_utc")

    @property
    def n_ticks(self) -> int:
        """Ticks at 0, tick_s, … strictly before duration_s."""
        return max(1, math.ceil(self.duration_s / self.tick_s - 1e-9))


@dataclass(frozen=True, kw_only=True)
class SiteConfig:
    name: str = spec("site", doc="label of the ground site")
    latitude_deg: float = spec(min=-90.0, max=90.0, unit="deg", doc="WGS84 latitude")
    longitude_deg: float = spec(min=-180.0, max=180.0, unit="deg", doc="WGS84 longitude")
    altitude_m: float = spec(0.0, min=-500.0, max=9000.0, unit="m", doc="height above the WGS84 ellipsoid")


@dataclass(frozen=True, kw_only=True)
class SatelliteConfig:
    tle: str = spec("", doc="TLE file: a path relative to the scenario's folder, else a name in the shipped library (tle/micius-like.tle, tle/leo-53deg.tle); required unless [constellation] is given (then leave it out: the other [satellite] fields describe every satellite of the constellation)")
    antennas: int = spec(4, min=1, max=64, doc="N_S")
    power_dbw: float = spec(10.0, min=-30.0, max=40.0, unit="dBW", doc="P_S")
    max_gain_db: float = spec(46.0, min=0.0, max=70.0, unit="dB", doc="spot-beam peak gain G_max")
    beam_3db_deg: float = spec(0.4, min=0.01, max=10.0, unit="deg", doc="spot-beam 3-dB angle α_3dB")
    beam_centre_enu_m: Vec3 = spec((0.0, 0.0, 0.0), min=-SCENE_HALF_WIDTH_M, max=SCENE_HALF_WIDTH_M, unit="m", doc="ENU point the beam is aimed at (each coordinate)")
    min_elevation_deg: float = spec(10.0, min=0.0, max=90.0, unit="deg", doc="the satellite serves only above this elevation")
    coherence_time_s: float = spec(10.0, min=0, min_exclusive=True, max=1e6, unit="s", doc="small-scale (phase) coherence time")


@dataclass(frozen=True, kw_only=True)
class UavConfig:
    antennas: int = spec(4, min=1, max=64, doc="N_U")
    power_dbw: float = spec(5.0, min=-30.0, max=30.0, unit="dBW", doc="P_U")
    speed_mps: float = spec(10.0, min=0.0, max=100.0, unit="m/s", doc="speed along the waypoint path")
    waypoints_enu_m: tuple[Vec3, ...] = spec(((0.0, 0.0, 100.0),), min=-SCENE_HALF_WIDTH_M, max=SCENE_HALF_WIDTH_M, unit="m", doc="ENU waypoints (each coordinate); z is the altitude above the site, 10–1000 m")
    loop: bool = spec(True, doc="return to the first waypoint and repeat")
    ref_gain_db: float = spec(-40.0, min=-100.0, max=0.0, unit="dB", doc="g0, path gain at 1 m")
    rician_k_db: float = spec(10.0, min=-30.0, max=40.0, unit="dB", doc="Rician K factor")
    coherence_time_s: float = spec(5.0, min=0, min_exclusive=True, max=1e6, unit="s", doc="scattered-component coherence time")

    def __post_init__(self) -> None:
        for i, point in enumerate(self.waypoints_enu_m):
            if not 10.0 <= point[2] <= 1000.0:
                raise ValueError(f"waypoints_enu_m[{i}] altitude {point[2]:g} m is out of range; allowed [10, 1000] m")
        if len(self.waypoints_enu_m) > 1 and self.speed_mps <= 0:
            raise ValueError("speed_mps must be > 0 when there is more than one waypoint")


@dataclass(frozen=True, kw_only=True)
class BaseStationConfig:
    antennas: int = spec(4, min=1, max=64, doc="N_B")
    power_dbw: float = spec(15.0, min=-30.0, max=50.0, unit="dBW", doc="P_B")
    position_enu_m: Vec3 = spec((0.0, 0.0, 25.0), min=-SCENE_HALF_WIDTH_M, max=SCENE_HALF_WIDTH_M, unit="m", doc="antenna position (ENU, each coordinate)")
    path_loss_ref_db: float = spec(-38.46, min=-100.0, max=0.0, unit="dB", doc="C0 of C0·r⁻⁴")
    nakagami_m: float = spec(2.0, min=0.5, max=50.0, doc="Nakagami shape m")
    nakagami_omega: float = spec(1.0, min=0, min_exclusive=True, max=100.0, doc="Nakagami spread Ω = E|g|²")
    coherence_time_s: float = spec(2.0, min=0, min_exclusive=True, max=1e6, unit="s", doc="small-scale coherence time")


@dataclass(frozen=True, kw_only=True)
class RadioConfig:
    carrier_freq_hz: float = spec(2.4e9, min=1e8, max=1e11, unit="Hz", doc="shared carrier frequency")
    bandwidth_hz: float = spec(1e6, min=1e3, max=1e10, unit="Hz", doc="noise bandwidth B")
    noise_figure_db: float = spec(5.0, min=0.0, max=30.0, unit="dB", doc="receiver noise figure NF")
    eve_csi_error: float = spec(0.1, min=0.0, max=0.99, doc="Δ: ‖ĥ_e − h_e‖ = Δ‖h_e‖ for the transmitters' estimates of Eve's channels")
    coherence_model: str = spec("configured", choices=COHERENCE_MODELS, doc="small-scale coherence times: 'configured' (each transmitter's coherence_time_s) or 'jakes' (Clarke/Jakes T_c = 0.423·λ/v per link from the relative speed of its ends, Doppler of the satellite's own motion taken as compensated)")
    jakes_min_speed_mps: float = spec(0.5, min=0, min_exclusive=True, max=1000.0, unit="m/s", doc="coherence_model = 'jakes': the speed floor of a link (moving scatterers keep a static link fading)")


@dataclass(frozen=True, kw_only=True)
class NodeMotionConfig:
    position_enu_m: Vec3 = spec(min=-SCENE_HALF_WIDTH_M, max=SCENE_HALF_WIDTH_M, unit="m", doc="ENU position at t = 0 (each coordinate); it must stay at least 1 m from every UAV and base station at every tick")
    velocity_mps: Vec3 = spec((0.0, 0.0, 0.0), min=-MAX_NODE_SPEED_MPS, max=MAX_NODE_SPEED_MPS, unit="m/s", doc="constant ENU velocity (each component)")


@dataclass(frozen=True, kw_only=True)
class UserConfig(NodeMotionConfig):
    served_by: str = spec("", doc="the transmitter that serves this user: 'satellite', or the name of a UAV or base station; su, au and gu default to satellite, uav and bs (the paper's topology); users.eve is the paper's eavesdropper and is served by nobody")


@dataclass(frozen=True, kw_only=True)
class WeatherConfig:
    model: str = spec("markov", choices=("markov", "trace"), doc="a Markov chain, or replay of a recorded trace")
    trace: str = spec("", doc="weather trace CSV (model = 'trace'): relative to the scenario's folder, else in the shipped library (traces/storm-afternoon-weather.csv)")
    initial: str = spec("clear", choices=WEATHER_STATES, doc="state at t = 0 (model = 'markov')")
    mean_duration_s: dict[str, float] | None = spec(None, min=1.0, max=1e9, keys=WEATHER_STATES, unit="s", doc="mean sojourn time per state (model = 'markov')")
    jump_probabilities: dict[str, dict[str, float]] | None = spec(None, min=0.0, max=1.0, keys=WEATHER_STATES, doc="per state: probabilities of the next state, summing to 1, no self-jump (model = 'markov')")
    rain_fade_mu: float = spec(-3.152, min=-20.0, max=5.0, doc="μ of ln(β_dB) in rain (Yin et al.)")
    rain_fade_variance: float = spec(1.6, min=0.0, max=10.0, doc="σ² of ln(β_dB) in rain (Yin et al.)")
    rain_fade_correlation_s: float = spec(60.0, min=0, min_exclusive=True, max=1e6, unit="s", doc="memory of the fade process")

    def __post_init__(self) -> None:
        markov_fields = ("mean_duration_s", "jump_probabilities")
        if self.model == "trace":
            if not self.trace:
                raise ValueError("trace: required when model = 'trace'")
            given = [f for f in markov_fields if getattr(self, f) is not None]
            if given:
                raise ValueError(f"{given[0]}: only allowed with model = 'markov'")
            return
        if self.trace:
            raise ValueError("trace: only allowed with model = 'trace'")
        missing = [f for f in markov_fields if getattr(self, f) is None]
        if missing:
            raise ValueError(f"{missing[0]}: required when model = 'markov'")
        for state, jumps in self.jump_probabilities.items():
            unknown = sorted(set(jumps) - set(WEATHER_STATES))
            if unknown:
                raise ValueError(f"jump_probabilities.{state}: unknown state {unknown[0]!r}; states are {', '.join(WEATHER_STATES)}")
            if jumps.get(state, 0.0) > 0:
                raise ValueError(f"jump_probabilities.{state}: a state cannot jump to itself")
            total = sum(jumps.values())
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"jump_probabilities.{state}: probabilities sum to {total:g}, must sum to 1")


@dataclass(frozen=True, kw_only=True)
class LinkConfig:
    latency_s: float = spec(0.0, min=0.0, max=60.0, unit="s", doc="fixed one-way delay")
    jitter_s: float = spec(0.0, min=0.0, max=60.0, unit="s", doc="mean extra exponential delay")
    loss_probability: float = spec(0.0, min=0.0, max=0.99, doc="probability a message is dropped")


@dataclass(frozen=True, kw_only=True)
class LinksConfig:
    intra: LinkConfig = spec(LinkConfig(), doc="entity → its edge twin")
    inter: LinkConfig = spec(LinkConfig(), doc="edge twin → core-cloud twin")
    decision: LinkConfig = spec(LinkConfig(), doc="core-cloud twin → transmitters")


@dataclass(frozen=True, kw_only=True)
class TwinConfig:
    precoding: str = spec("synergy-stat", choices=PRECODING_METHODS, doc="precoding policy of the core-cloud twin")
    fallback: str = spec("zf-all", choices=PRECODING_METHODS, doc="policy used if the main one fails before any good decision")
    period_s: float = spec(10.0, min=0, min_exclusive=True, max=86_400.0, unit="s", doc="re-solve at least this often")
    csi_drift_threshold: float = spec(0.5, min=0, min_exclusive=True, max=100.0, doc="without prediction: re-solve when a user channel changed by this relative norm")
    replan_on_weather_change: bool = spec(True, doc="re-solve when the weather state changes")
    check_period_s: float = spec(1.0, min=0, min_exclusive=True, max=3600.0, unit="s", doc="how often triggers are checked")
    check_offset_s: float = spec(0.5, min=0.0, max=3600.0, unit="s", doc="offset of the trigger checks within a check period")
    solve_delay_s: float = spec(0.1, min=0.0, max=3600.0, unit="s", doc="simulated compute time of a re-solve")
    solve_timeout_s: float = spec(0.0, min=0.0, max=3600.0, unit="s", doc="wall-time budget of a solve; a slower solve is discarded (0 = no budget)")
    prediction: str = spec("mmse", choices=PREDICTION_MODES, doc="'mmse': forecast each channel at the ticks a decision will be judged (orbit, flight plan, tracks, learned fading statistics) and design on the forecast; 'none': design on the latest reports as if exact")
    horizon_s: float = spec(1.0, min=0, min_exclusive=True, max=3600.0, unit="s", doc="with prediction: a decision is designed for the ticks within this time after it first applies, and re-solved when they are used up")
    forecast_drift_threshold: float = spec(0.2, min=0, min_exclusive=True, max=1.0, doc="with prediction: re-solve early when the decision in force is expected to lose this fraction of its planned min rate")
    fault_every_k_solves: int = spec(0, min=0, max=1_000_000, doc="test hook: make every k-th solve fail (0 = off)")
    fault_mode: str = spec("raise", choices=FAULT_MODES, doc="test hook: how an injected fault fails")


@dataclass(frozen=True, kw_only=True)
class QkdDemandConfig:
    model: str = spec("random", choices=("random", "trace"), doc="random log-normal rates re-drawn every hold_s, or replay of a recorded trace")
    trace: str = spec("", doc="key-demand trace CSV (time_s, src, dst, rate_bps; model = 'trace'): relative to the scenario's folder, else in the shipped library (traces/storm-afternoon-demand.csv)")
    mean_bps: dict[str, float] = spec(min=0.0, max=1e10, unit="bit/s", doc="per request of the network file: mean key-rate demand (the random model's mean and the twin's forecast before it observes a rate)")
    cv: float = spec(0.3, min=0.0, max=5.0, doc="coefficient of variation of the log-normal demand (random model and the twin's forecast)")
    hold_s: float = spec(600.0, min=0, min_exclusive=True, max=86_400.0, unit="s", doc="random model: a request's rate is re-drawn this often")

    def __post_init__(self) -> None:
        if self.model == "trace" and not self.trace:
            raise ValueError("trace: required when model = 'trace'")
        if self.model != "trace" and self.trace:
            raise ValueError("trace: only allowed with model = 'trace'")


@dataclass(frozen=True, kw_only=True)
class QkdConfig:
    network: str = spec(doc="QKD network: a plan-qkd instance TOML relative to the scenario's folder, else in the shipped library (qkd/xinglong.toml, qkd/nsfnet.toml); its [[scenarios]] are replaced by the twin's forecast")
    demand: QkdDemandConfig = spec(doc="key demand per request")
    stations: dict[str, Vec3] | None = spec(None, doc="optional [latitude_deg, longitude_deg, altitude_m] of ground nodes with satellite links; others use [site]")
    step_s: float = spec(10.0, min=0, min_exclusive=True, max=3600.0, unit="s", doc="key pools are filled and drained at this period")
    report_period_s: float = spec(10.0, min=0, min_exclusive=True, max=3600.0, unit="s", doc="the QKD network reports its pools and demand to its twin this often")
    log_period_s: float = spec(300.0, min=0, min_exclusive=True, max=86_400.0, unit="s", doc="every pool's stock and state is logged this often (crossings are always logged)")
    planning_period_s: float = spec(3600.0, min=0, min_exclusive=True, max=7 * 86_400.0, unit="s", doc="the planning epoch: the core-cloud twin re-plans at least this often")
    min_replan_interval_s: float = spec(60.0, min=0.0, max=86_400.0, unit="s", doc="no forecast- or demand-triggered re-plan sooner than this after the last one")
    replan_on_weather_change: bool = spec(True, doc="re-plan when the observed weather (hence the forecast) changes")
    demand_replan_factor: float = spec(1.25, min=1.0, max=100.0, doc="re-plan when an observed rate leaves the planned scenarios' [min/f, max·f]")
    forecast_persistence: float = spec(0.8, min=0.0, max=1.0, doc="with a weather trace: forecast probability that the observed pattern (clear / cloudy) persists over the epoch")
    cloud_block_fraction: float = spec(0.5, min=0.0, max=1.0, doc="optical (satellite and UAV) QKD links are blocked while the cloud cover is above this fraction of the sky; the planner's clear / cloudy patterns follow the same rule (the Markov chain's cloudy and rain states have cover 1)")
    forecast_samples: int = spec(8, min=1, max=500, doc="demand samples per weather pattern in the planning scenarios")
    reroute: str = spec("weather", choices=("weather", "scenario"), doc="re-routing mode of the planner (see plan-qkd)")
    mip_rel_gap: float = spec(0.01, min=0.0, max=0.5, doc="relative MIP gap of a plan")
    time_limit_s: float = spec(30.0, min=0, min_exclusive=True, max=3600.0, unit="s", doc="wall-time limit of one plan")
    pool_capacity_bits: float = spec(1e9, min=0, min_exclusive=True, max=1e15, unit="bit", doc="key pool capacity of every link")
    pool_warning_bits: float = spec(1e6, min=0, min_exclusive=True, max=1e15, unit="bit", doc="below this stock a pool is WARNING")
    pool_initial_bits: float = spec(1e6, min=0.0, max=1e15, unit="bit", doc="stock of every pool at t = 0")

    def __post_init__(self) -> None:
        if not self.pool_warning_bits <= self.pool_capacity_bits:
            raise ValueError("pool_warning_bits: must not exceed pool_capacity_bits")
        if not self.pool_initial_bits <= self.pool_capacity_bits:
            raise ValueError("pool_initial_bits: must not exceed pool_capacity_bits")


@dataclass(frozen=True, kw_only=True)
class WalkerConfig:
    total: int = spec(min=1, max=MAX_SHELL_SATELLITES, doc="T, the number of satellites of the Walker-delta shell i:T/P/F (a multiple of planes)")
    planes: int = spec(min=1, max=MAX_SHELL_SATELLITES, doc="P, equally spaced orbital planes (must divide total)")
    phasing: int = spec(min=0, max=MAX_SHELL_SATELLITES - 1, doc="F, relative phasing between adjacent planes: plane p+1 leads plane p by F·360°/T (0 ≤ F < P)")
    altitude_m: float = spec(min=MIN_PERIGEE_ALTITUDE_M, max=MAX_LEO_APOGEE_ALTITUDE_M, unit="m", doc="circular orbit altitude above the WGS72 equatorial radius")
    inclination_deg: float = spec(min=0.0, max=180.0, unit="deg", doc="orbital inclination i")
    epoch_utc: str = spec("", doc="ISO 8601 UTC epoch of the synthetic elements (e.g. 2026-11-16T12:00:00Z); empty: the run's start")
    raan_offset_deg: float = spec(0.0, min=0.0, max=360.0, unit="deg", doc="right ascension of the first plane's ascending node")
    mean_anomaly_offset_deg: float = spec(0.0, min=0.0, max=360.0, unit="deg", doc="mean anomaly of the first satellite of the first plane")
    name: str = spec("WALKER", doc="prefix of the satellite names <name>-<plane>-<slot>")

    def __post_init__(self) -> None:
        if self.planes > self.total or self.total % self.planes:
            raise ValueError(f"planes: {self.planes} planes must divide the {self.total} satellites (T/P satellites per plane)")
        if self.phasing >= self.planes:
            raise ValueError(f"phasing: {self.phasing} is out of range; allowed [0, {self.planes - 1}] (0 ≤ F < planes)")
        if self.epoch_utc:
            parse_utc(self.epoch_utc, "epoch_utc:")
        if not self.name or not self.name.isprintable() or len(self.name) > 20:
            raise ValueError(f"name: {self.name!r} must be 1-20 printable characters")

    @property
    def epoch_datetime(self) -> datetime | None:
        """The epoch as a UTC datetime (None: the run's start)."""
        return parse_utc(self.epoch_utc, "epoch_utc:") if self.epoch_utc else None


@dataclass(frozen=True, kw_only=True)
class ConstellationConfig:
    tle: str = spec("", doc="TLE catalogue with many satellites (CelesTrak 2-/3-line or Space-Track 3LE, at most 16 MiB): relative to the scenario's folder, else in the shipped library; give this or [constellation.walker]")
    walker: WalkerConfig | None = spec(None, doc="a synthetic Walker-delta shell instead of a catalogue")
    rule: str = spec("highest_elevation", choices=SERVING_RULES, doc="serving satellite per tick among those above satellite.min_elevation_deg: 'highest_elevation' or 'longest_visibility' (latest set time)")
    hysteresis_deg: float = spec(0.0, min=0.0, max=90.0, unit="deg", doc="rule = 'highest_elevation': keep the serving satellite unless another is higher by more than this")
    hysteresis_s: float = spec(0.0, min=0.0, max=86_400.0, unit="s", doc="rule = 'longest_visibility': keep the serving satellite unless another sets later by more than this")
    visibility_lookahead_s: float = spec(900.0, min=0.0, max=86_400.0, unit="s", doc="rule = 'longest_visibility': the geometry is propagated this far beyond the run's end so set times near the end are not cut off (about one pass)")
    non_serving: str = spec("silent", choices=NON_SERVING_MODES, doc="the other satellites: 'silent' (do not transmit on this band) or 'interference' (every other satellite above the horizon transmits at satellite.power_dbw with its spot beam at its own nadir; its power at each receiver adds to that receiver's noise)")

    def __post_init__(self) -> None:
        if bool(self.tle) == (self.walker is not None):
            raise ValueError("give exactly one of tle (a catalogue file) and [constellation.walker] (a synthetic shell)")
        if self.rule == "highest_elevation" and self.hysteresis_s:
            raise ValueError("hysteresis_s: applies to rule = 'longest_visibility' only (use hysteresis_deg)")
        if self.rule == "longest_visibility" and self.hysteresis_deg:
            raise ValueError("hysteresis_deg: applies to rule = 'highest_elevation' only (use hysteresis_s)")

    @property
    def lookahead_s(self) -> float:
        """How far (s) beyond the run the geometry is propagated for the serving rule."""
        return self.visibility_lookahead_s if self.rule == "longest_visibility" else 0.0


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A whole scenario. ``path`` is the file it came from (not a TOML key)."""

    run: RunConfig
    site: SiteConfig
    satellite: SatelliteConfig
    users: dict[str, UserConfig] = spec(doc="the users by name (lowercase letters and digits, starting with a letter), each served by one transmitter; users.eve is the paper's eavesdropper")
    eavesdroppers: dict[str, NodeMotionConfig] | None = spec(None, doc="eavesdroppers by name, besides users.eve (every user's secrecy rate is taken against the strongest)")
    weather: WeatherConfig = spec(doc="weather chain")
    uav: UavConfig = spec(UavConfig(), doc="the one UAV, named uav (leave out when [uavs.<name>] is given)")
    uavs: dict[str, UavConfig] | None = spec(None, doc="several UAVs by name, instead of [uav]")
    base_station: BaseStationConfig = spec(BaseStationConfig(), doc="the one base station, named bs (leave out when [base_stations.<name>] is given)")
    base_stations: dict[str, BaseStationConfig] | None = spec(None, doc="several base stations by name, instead of [base_station]")
    radio: RadioConfig = spec(RadioConfig())
    links: LinksConfig = spec(LinksConfig())
    twin: TwinConfig = spec(TwinConfig())
    qkd: QkdConfig | None = spec(None, doc="QKD layer (absent: no QKD)")
    constellation: ConstellationConfig | None = spec(None, doc="many satellites instead of the one of satellite.tle (absent: one satellite)")
    path: Path = dataclasses.field(default=Path("<memory>"), init=False, compare=False)
    #: every file the scenario names: field → {"name": as written, "origin": "scenario folder" | "library", "path": resolved}
    input_files: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict, init=False, compare=False)
    #: the command-line overrides applied to the file, in order: {"option", "key", "value"}
    overrides: tuple[dict[str, object], ...] = dataclasses.field(default=(), init=False, compare=False)
    weather_records: tuple[WeatherRecord, ...] = dataclasses.field(default=(), init=False, compare=False)
    qkd_network: QkdInstance | None = dataclasses.field(default=None, init=False, compare=False)
    demand_records: tuple[DemandRecord, ...] = dataclasses.field(default=(), init=False, compare=False)
    #: with [constellation]: how many satellites it has (0 without)
    constellation_satellites: int = dataclasses.field(default=0, init=False, compare=False)
    #: the named transmitters, users and Eves and who serves whom (:mod:`scenarios.entities`)
    entities: Entities | None = dataclasses.field(default=None, init=False, compare=False)

    @property
    def constellation_tle_path(self) -> Path | None:
        """The constellation's TLE catalogue in use (None for a Walker shell or no constellation)."""
        entry = self.input_files.get("constellation.tle")
        return Path(entry["path"]) if entry else None

    @property
    def tle_path(self) -> Path:
        """The TLE file in use: next to the scenario, or the shipped library's (see :func:`resolve_input`)."""
        entry = self.input_files.get("satellite.tle")
        return Path(entry["path"]) if entry else self.path.parent / self.satellite.tle

    def with_overrides(self, *, seed: int | None = None, duration_s: float | None = None) -> "Scenario":
        """A copy with the run's seed and/or duration replaced, validated like the file's ``[run]``."""
        changes = {k: v for k, v in (("seed", seed), ("duration_s", duration_s)) if v is not None}
        if not changes:
            return self
        label = " ".join(f"--{k.removesuffix('_s')} {v}" for k, v in changes.items())
        run_table = {f.name: getattr(self.run, f.name) for f in dataclasses.fields(RunConfig)} | changes
        run = load_table(RunConfig, run_table, label, "run")
        out = dataclasses.replace(self, run=run)
        for f in dataclasses.fields(self):
            if not f.init:  # loaded files travel with the copy
                object.__setattr__(out, f.name, getattr(self, f.name))
        return out


# -- command-line overrides (run --set KEY=VALUE, --seed, --duration) ------------------------------

MAX_SET_VALUE_CHARS = 65_536  #: longest VALUE of --set KEY=VALUE (characters)


@dataclass(frozen=True)
class Override:
    """One command-line override: the ``option`` as typed (``--set``, ``--seed``, ``--duration``), the dotted ``key``, the parsed ``value``."""

    option: str
    key: str
    value: object

    @property
    def label(self) -> str:
        """How error messages name it: ``--set twin.precoding``, ``--seed``."""
        return f"{self.option} {self.key}" if self.option == "--set" else self.option

    def record(self) -> dict[str, object]:
        """The row recorded in run.json."""
        return {"option": self.option, "key": self.key, "value": self.value}


def parse_set(text: str) -> Override:
    """``KEY=VALUE`` of ``--set``: VALUE is a TOML value (``true``, ``1.5``, ``"x"``, ``[1, 2, 3]``, ``{a = 1}``);
    anything that is not (a bare word such as ``zf-all``, or a date-time) is taken as the string itself."""
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key:
        raise InputError(f"expected KEY=VALUE (e.g. twin.precoding=zf-all), got {text!r}", field="--set")
    label = f"--set {key}"
    if len(raw) > MAX_SET_VALUE_CHARS:
        raise InputError(f"VALUE has {len(raw)} characters; the limit is {MAX_SET_VALUE_CHARS}", field=label)
    if "\n" in raw or "\r" in raw or "\x00" in raw:
        raise InputError("VALUE must be one line of text without NUL characters", field=label)
    try:
        value = parse_toml(f"v = {raw}", label)["v"]
    except TomlNestingError:
        raise
    except InputError:
        return Override("--set", key, raw)  # a bare word: the string as typed
    if isinstance(value, (datetime, date, time)):  # no scenario field is a TOML date: keep the text (e.g. run.start_utc)
        return Override("--set", key, raw)
    return Override("--set", key, value)


def apply_overrides(table: dict, overrides: tuple[Override, ...] | list[Override]) -> dict:
    """A copy of the parsed scenario ``table`` with each override's dotted key set to its value, in order."""
    table = copy.deepcopy(table)
    for override in overrides:
        problem = field_path_error(Scenario, override.key)
        if problem is not None:
            where, message = problem
            raise InputError(message, source=override.label, field=None if where == override.key else where)
        parts = override.key.split(".")
        parent = table
        for depth, part in enumerate(parts[:-1]):
            child = parent.setdefault(part, {})
            if not isinstance(child, dict):
                raise InputError(f"{'.'.join(parts[:depth + 1])} is not a table in the scenario file", source=override.label)
            parent = child
        parent[parts[-1]] = override.value
    return table


def _created_tables(table: dict, overrides: tuple[Override, ...]) -> list[tuple[Override, str]]:
    """The overrides whose key's parent table the file does not have, with that table's dotted name (``users.bob``)."""
    out = []
    for override in overrides:
        parts = override.key.split(".")
        parent = table
        for depth, part in enumerate(parts[:-1]):
            if not isinstance(parent, dict) or part not in parent:
                out.append((override, ".".join(parts[:depth + 1])))
                break
            parent = parent[part]
    return out


def blame(exc: InputError, scenario_or_overrides, source: str) -> InputError:
    """Re-attribute an error about ``source`` to the override that set the field it names (the last one wins).

    ``scenario_or_overrides``: a loaded :class:`Scenario` (its recorded overrides) or a sequence of :class:`Override`.
    """
    records = getattr(scenario_or_overrides, "overrides", scenario_or_overrides)
    if exc.source != source or not exc.field:
        return exc
    for record in reversed(tuple(records)):
        option, key = (record["option"], record["key"]) if isinstance(record, dict) else (record.option, record.key)
        label, where = (f"--set {key}" if option == "--set" else option), exc.field
        if where == key:
            return InputError(exc.message, source=label if option == "--set" else f"{label}: {key}")
        if where.startswith((key + ".", key + "[")) or key.startswith(where + ".") or where == "<top>":
            return InputError(exc.message, source=label, field=where)
    return exc


# -- files a scenario names: next to it, else in the shipped library ------------------------------

LIBRARY = Path(__file__).resolve().parent  #: the shipped library: the scenarios/ package (tle/, traces/, qkd/, *.toml)


def resolve_input(folder: Path, relative: str, source: str, field: str, what: str) -> tuple[Path, str]:
    """(path, origin) of a file a scenario names: ``folder/relative`` if it exists, else the shipped library's.

    ``origin`` is ``"scenario folder"`` or ``"library"``. Absolute paths, NUL characters and paths
    that leave either folder (``..``, symbolic links) are refused.
    """
    if not relative.strip():
        raise InputError(f"must name a {what}", source=source, field=field)
    if "\x00" in relative:
        raise InputError(f"{relative!r} contains a NUL character", source=source, field=field)
    candidate = Path(relative)
    if candidate.is_absolute():
        raise InputError(f"{relative!r} must be a relative path inside the scenario's folder (or a name in the shipped library)", source=source, field=field)
    try:
        for origin, root in (("scenario folder", folder.resolve()), ("library", LIBRARY)):
            resolved = (root / candidate).resolve()
            if not resolved.is_relative_to(root):
                raise InputError(f"{relative!r} must be a relative path inside the scenario's folder (or a name in the shipped library)",
                                 source=source, field=field)
            if resolved.exists():
                return resolved, origin
    except OSError as exc:
        raise InputError(f"cannot use the path {relative!r}: {exc.strerror or exc}", source=source, field=field) from None
    shelf = LIBRARY / candidate.parent
    shipped = sorted(p.relative_to(LIBRARY).as_posix() for p in shelf.glob(f"*{candidate.suffix}") if p.is_file()) if shelf.is_dir() else []
    offer = f" (it has {', '.join(shipped)})" if shipped else ""
    raise InputError(f"{what} {relative!r} not found next to the scenario nor in the shipped library{offer}", source=source, field=field)


# -- loading ----------------------------------------------------------------------------------------

def load_scenario(path: Path | str, overrides: tuple[Override, ...] | list[Override] = (), *, allow_large: bool = False) -> Scenario:
    """Read and validate a scenario TOML file, with command-line ``overrides`` applied first.

    ``allow_large`` lifts the job-size limit (:mod:`scenarios.workload`).
    """
    path = Path(path)
    try:
        table = read_toml(path, "scenario")
    except InputError as exc:
        raise InputError(str(exc).replace(": file not found", ": scenario file not found", 1)) from None
    overrides = tuple(overrides)
    created = _created_tables(table, overrides)
    table = apply_overrides(table, overrides)
    try:
        scenario = scenario_from_table(table, path, allow_large=allow_large)
    except InputError as exc:
        maker = next((o for o, prefix in created if exc.source == str(path) and exc.field and
                      (exc.field == prefix or exc.field.startswith(prefix + "."))), None)
        if maker is not None:  # a table the file does not have (e.g. a new user) is the override's doing
            raise InputError(exc.message, source=maker.label, field=exc.field) from None
        raise blame(exc, overrides, str(path)) from None
    object.__setattr__(scenario, "overrides", tuple(o.record() for o in overrides))
    return scenario


def scenario_from_table(table: dict, path: Path, source: str | None = None, *, allow_large: bool = False) -> Scenario:
    """Validate a parsed scenario table; ``path`` locates the files it names (TLE, traces, QKD network).

    Beyond each field's own range: the run's time span must lie inside the shipped ephemeris, the
    job must be within the size limit (unless ``allow_large``), and no receiver may come closer than
    ``MIN_TX_DISTANCE_M`` to any UAV or base station at any tick.
    """
    source = source or str(path)
    scenario = load_table(Scenario, table, source)
    object.__setattr__(scenario, "path", path)
    object.__setattr__(scenario, "entities", entities_of(scenario, table, source))
    _check_time_span(scenario.run, source)
    files: dict[str, dict[str, str]] = {}

    def named(field: str, relative: str, what: str) -> Path:
        resolved, origin = resolve_input(path.parent, relative, source, field, what)
        files[field] = {"name": relative, "origin": origin, "path": str(resolved)}
        return resolved

    if scenario.constellation is None:
        named("satellite.tle", scenario.satellite.tle, "TLE file")
    else:
        _check_constellation(scenario, named, source)
    if scenario.weather.model == "trace":
        object.__setattr__(scenario, "weather_records", load_weather_trace(named("weather.trace", scenario.weather.trace, "weather trace")))
    if scenario.qkd is not None:
        _load_qkd(scenario, named, source)
    object.__setattr__(scenario, "input_files", files)
    check_workload(scenario, source, allow_large)
    _check_distances(scenario, source)
    return scenario


def _check_constellation(scenario: Scenario, named, source: str) -> None:
    """What a ``[constellation]`` excludes (one satellite's TLE, culmination alignment) and its catalogue's validity."""
    constellation = scenario.constellation
    if scenario.satellite.tle:
        raise InputError("not used with [constellation]: name the catalogue in constellation.tle (or give [constellation.walker]) "
                         "and leave satellite.tle out", source=source, field="satellite.tle")
    if scenario.run.align != "start":
        raise InputError("'culmination' centres the run on one satellite's pass; with [constellation] use align = 'start'",
                         source=source, field="run.align")
    if constellation.tle:
        path = named("constellation.tle", constellation.tle, "TLE catalogue")
        count = len(parse_tle_catalogue(read_text(path, "TLE catalogue"), str(path)))
    else:
        count = constellation.walker.total
    object.__setattr__(scenario, "constellation_satellites", count)


def _check_time_span(run: RunConfig, source: str) -> None:
    """The run (and its pass search) must lie inside the shipped ephemeris and timescale."""
    start = run.start_datetime.timestamp()
    if run.align == "culmination":
        first, last = start - run.duration_s / 2, start + run.search_window_s + run.duration_s / 2
    else:
        first, last = start, start + run.duration_s
    low, high = ephemeris_span_utc()
    if first < low.timestamp() or last > high.timestamp():
        what = "the run and its pass search span" if run.align == "culmination" else "the run spans"
        span = f"{_date(first)} to {_date(last)}"
        raise InputError(f"{what} {span}, outside {low:%Y-%m-%d} to {high:%Y-%m-%d} covered by the shipped ephemeris (JPL DE421)",
                         source=source, field="run.start_utc")


def _date(timestamp: float) -> str:
    try:
        return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")
    except (OverflowError, ValueError, OSError):
        return "beyond year 9999" if timestamp > 0 else "before year 1"


def _check_distances(scenario: Scenario, source: str) -> None:
    """Refuse a receiver that comes within ``MIN_TX_DISTANCE_M`` of a UAV or a base station at any tick."""
    run = scenario.run
    entities = scenario.entities
    uavs = {f"UAV {name}": WaypointTrajectory(np.asarray(u.waypoints_enu_m, dtype=float), u.speed_mps, u.loop)
            for name, u in entities.uavs.items()}
    stations = {f"base station {name}": np.asarray(b.position_enu_m, dtype=float)[None, :] for name, b in entities.base_stations.items()}
    chunk = 100_000
    for first in range(0, run.n_ticks, chunk):
        t_s = np.arange(first, min(run.n_ticks, first + chunk)) * run.tick_s
        transmitters = {**{name: uav.positions_m(t_s) for name, uav in uavs.items()}, **stations}
        for name, node in entities.receivers.items():
            receiver_m = LinearMotion(node.position_enu_m, node.velocity_mps).positions_m(t_s)
            for tx, tx_m in transmitters.items():
                distance_m = np.linalg.norm(receiver_m - tx_m, axis=1)
                k = int(np.argmin(distance_m))
                if distance_m[k] < MIN_TX_DISTANCE_M:
                    raise InputError(
                        f"comes within {distance_m[k]:.3g} m of the {tx} at t = {t_s[k]:g} s; a receiver must stay at least "
                        f"{MIN_TX_DISTANCE_M:g} m from every UAV and base station at every tick (the path-loss models diverge at 0 m)",
                        source=source, field=f"{entities.fields[name]}.position_enu_m")


def _load_qkd(scenario: Scenario, named, source: str) -> None:
    """Load the QKD network and demand trace a scenario names and check they agree with it."""
    qkd = scenario.qkd
    network = QkdInstance.from_toml(named("qkd.network", qkd.network, "QKD network file"))
    requests = {r.name: r for r in network.requests}
    for name in qkd.demand.mean_bps:
        if name not in requests:
            raise InputError(f"{name!r} is not a request of {qkd.network}; requests: {', '.join(requests)}",
                             source=source, field=f"qkd.demand.mean_bps.{name}")
    missing = [name for name in requests if name not in qkd.demand.mean_bps]
    if missing:
        raise InputError(f"missing mean demand of request {missing[0]!r}", source=source, field=f"qkd.demand.mean_bps.{missing[0]}")
    satellite_grounds = {end for link in network.links if link.medium == "satellite" for end in (link.a, link.b)}
    for name in qkd.stations or {}:
        if name not in satellite_grounds:
            raise InputError(f"{name!r} is not a node with a satellite link in {qkd.network}", source=source, field=f"qkd.stations.{name}")
        latitude, longitude, altitude = qkd.stations[name]
        if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0 and -500.0 <= altitude <= 9000.0):
            raise InputError(f"{list(qkd.stations[name])} is out of range; allowed latitude [-90, 90] deg, longitude [-180, 180] deg, "
                             "altitude [-500, 9000] m", source=source, field=f"qkd.stations.{name}")
    object.__setattr__(scenario, "qkd_network", network)
    if qkd.demand.model == "trace":
        trace = named("qkd.demand.trace", qkd.demand.trace, "demand trace")
        records = load_demand_trace(trace)
        pairs = {(r.src, r.dst): r.name for r in network.requests}
        for record in records:
            if (record.src, record.dst) not in pairs:
                raise InputError(f"no request from {record.src!r} to {record.dst!r} in {qkd.network}", source=str(trace),
                                 field=f"line {record.line}")
        object.__setattr__(scenario, "demand_records", records)
