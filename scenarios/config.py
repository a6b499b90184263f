"""Scenario files: TOML validated into typed, frozen objects (units in every field name).

``load_scenario(path)`` reads the file with stdlib ``tomllib`` (data only: no eval, no pickle),
validates every field (:mod:`scenarios.schema`) and resolves the TLE path inside the scenario's
folder. Errors name the file, the dotted field and the allowed range.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from physical.weather import WEATHER_STATES, WeatherRecord
from sagin_twin.errors import InputError
from scenarios.schema import Vec3, load_table, spec
from scenarios.traces import DemandRecord, load_demand_trace, load_weather_trace
from twin.precoding import PRECODERS
from twin.qkd.instance import QkdInstance
from twin.precoding.faults import FAULT_MODES

MAX_DURATION_S = 7 * 86_400.0  #: longest run accepted (s)
PRECODING_METHODS = tuple(sorted(PRECODERS))
USER_NAMES = ("su", "au", "gu", "eve")


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
        try:
            parsed = datetime.fromisoformat(self.start_utc.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"start_utc {self.start_utc!r} is not an ISO 8601 time such as 2026-11-16T12:00:00Z") from None
        if parsed.tzinfo is None:
            raise ValueError(f"start_utc {self.start_utc!r} needs a time zone; append Z for UTC")
        if self.tick_s > self.duration_s:
            raise ValueError(f"tick_s ({self.tick_s:g} s) must not exceed duration_s ({self.duration_s:g} s)")

    @property
    def start_datetime(self) -> datetime:
        return datetime.fromisoformat(self.start_utc.replace("Z", "+00:00")).astimezone(timezone.utc)

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
    tle: str = spec(doc="TLE file, relative to the scenario's folder")
    antennas: int = spec(4, min=1, max=64, doc="N_S")
    power_dbw: float = spec(10.0, min=-30.0, max=40.0, unit="dBW", doc="P_S")
    max_gain_db: float = spec(46.0, min=0.0, max=70.0, unit="dB", doc="spot-beam peak gain G_max")
    beam_3db_deg: float = spec(0.4, min=0.01, max=10.0, unit="deg", doc="spot-beam 3-dB angle α_3dB")
    beam_centre_enu_m: Vec3 = spec((0.0, 0.0, 0.0), unit="m", doc="ENU point the beam is aimed at")
    min_elevation_deg: float = spec(10.0, min=0.0, max=90.0, unit="deg", doc="the satellite serves only above this elevation")
    coherence_time_s: float = spec(10.0, min=0, min_exclusive=True, max=1e6, unit="s", doc="small-scale (phase) coherence time")


@dataclass(frozen=True, kw_only=True)
class UavConfig:
    antennas: int = spec(4, min=1, max=64, doc="N_U")
    power_dbw: float = spec(5.0, min=-30.0, max=30.0, unit="dBW", doc="P_U")
    speed_mps: float = spec(10.0, min=0.0, max=100.0, unit="m/s", doc="speed along the waypoint path")
    waypoints_enu_m: tuple[Vec3, ...] = spec(((0.0, 0.0, 100.0),), unit="m", doc="ENU waypoints; z is the altitude above the site, 10–1000 m")
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
    position_enu_m: Vec3 = spec((0.0, 0.0, 25.0), unit="m", doc="antenna position (ENU)")
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


@dataclass(frozen=True, kw_only=True)
class NodeMotionConfig:
    position_enu_m: Vec3 = spec(unit="m", doc="ENU position at t = 0")
    velocity_mps: Vec3 = spec((0.0, 0.0, 0.0), unit="m/s", doc="constant ENU velocity")


@dataclass(frozen=True, kw_only=True)
class WeatherConfig:
    model: str = spec("markov", choices=("markov", "trace"), doc="a Markov chain, or replay of a recorded trace")
    trace: str = spec("", doc="weather trace CSV inside the scenario's folder (model = 'trace')")
    initial: str = spec("clear", choices=WEATHER_STATES, doc="state at t = 0 (model = 'markov')")
    mean_duration_s: dict[str, float] | None = spec(None, min=0, min_exclusive=True, keys=WEATHER_STATES, unit="s", doc="mean sojourn time per state (model = 'markov')")
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
    precoding: str = spec("synergy", choices=PRECODING_METHODS, doc="precoding policy of the core-cloud twin")
    fallback: str = spec("zf-all", choices=PRECODING_METHODS, doc="policy used if the main one fails before any good decision")
    period_s: float = spec(10.0, min=0, min_exclusive=True, max=86_400.0, unit="s", doc="re-solve at least this often")
    csi_drift_threshold: float = spec(0.5, min=0, min_exclusive=True, max=100.0, doc="re-solve when a user channel changed by this relative norm")
    replan_on_weather_change: bool = spec(True, doc="re-solve when the weather state changes")
    check_period_s: float = spec(1.0, min=0, min_exclusive=True, max=3600.0, unit="s", doc="how often triggers are checked")
    check_offset_s: float = spec(0.5, min=0.0, max=3600.0, unit="s", doc="offset of the trigger checks within a check period")
    solve_delay_s: float = spec(0.1, min=0.0, max=3600.0, unit="s", doc="simulated compute time of a re-solve")
    solve_timeout_s: float = spec(0.0, min=0.0, max=3600.0, unit="s", doc="wall-time budget of a solve; a slower solve is discarded (0 = no budget)")
    fault_every_k_solves: int = spec(0, min=0, max=1_000_000, doc="test hook: make every k-th solve fail (0 = off)")
    fault_mode: str = spec("raise", choices=FAULT_MODES, doc="test hook: how an injected fault fails")


@dataclass(frozen=True, kw_only=True)
class QkdDemandConfig:
    model: str = spec("random", choices=("random", "trace"), doc="random log-normal rates re-drawn every hold_s, or replay of a recorded trace")
    trace: str = spec("", doc="key-demand trace CSV (time_s, src, dst, rate_bps) inside the scenario's folder (model = 'trace')")
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
    network: str = spec(doc="QKD network: a plan-qkd instance TOML inside the scenario's folder (its [[scenarios]] are replaced by the twin's forecast)")
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
class Scenario:
    """A whole scenario. ``path`` is the file it came from (not a TOML key)."""

    run: RunConfig
    site: SiteConfig
    satellite: SatelliteConfig
    users: dict[str, NodeMotionConfig] = spec(keys=USER_NAMES, doc="su, au, gu and eve")
    weather: WeatherConfig = spec(doc="weather chain")
    uav: UavConfig = spec(UavConfig())
    base_station: BaseStationConfig = spec(BaseStationConfig())
    radio: RadioConfig = spec(RadioConfig())
    links: LinksConfig = spec(LinksConfig())
    twin: TwinConfig = spec(TwinConfig())
    qkd: QkdConfig | None = spec(None, doc="QKD layer (absent: no QKD)")
    path: Path = dataclasses.field(default=Path("<memory>"), init=False, compare=False)
    weather_records: tuple[WeatherRecord, ...] = dataclasses.field(default=(), init=False, compare=False)
    qkd_network: QkdInstance | None = dataclasses.field(default=None, init=False, compare=False)
    demand_records: tuple[DemandRecord, ...] = dataclasses.field(default=(), init=False, compare=False)

    @property
    def tle_path(self) -> Path:
        return self.path.parent / self.satellite.tle

    def with_overrides(self, *, seed: int | None = None, duration_s: float | None = None) -> "Scenario":
        """A copy with the run's seed and/or duration replaced (validated like the file)."""
        run = self.run
        if seed is not None:
            if seed < 0:
                raise InputError(f"--seed must be >= 0, got {seed}")
            run = dataclasses.replace(run, seed=seed)
        if duration_s is not None:
            if not (0 < duration_s <= MAX_DURATION_S) or not math.isfinite(duration_s):
                raise InputError(f"--duration must be in (0, {MAX_DURATION_S:g}] s, got {duration_s:g}")
            try:
                run = dataclasses.replace(run, duration_s=float(duration_s))
            except ValueError as exc:
                raise InputError(str(exc)) from None
        out = dataclasses.replace(self, run=run)
        for f in dataclasses.fields(self):
            if not f.init:  # loaded files travel with the copy
                object.__setattr__(out, f.name, getattr(self, f.name))
        return out


def _inside(folder: Path, relative: str, source: str, field: str) -> Path:
    """``folder/relative``, refusing absolute paths and paths that escape ``folder``."""
    candidate = Path(relative)
    resolved = (folder / candidate).resolve()
    if candidate.is_absolute() or not resolved.is_relative_to(folder.resolve()):
        raise InputError(f"{relative!r} must be a relative path inside the scenario's folder", source=source, field=field)
    return resolved


def read_toml(path: Path) -> dict:
    """Parse a TOML file as data, turning every failure into an InputError naming the file."""
    source = str(path)
    try:
        with open(path, "rb") as stream:
            return tomllib.load(stream)
    except FileNotFoundError:
        raise InputError("file not found", source=source) from None
    except IsADirectoryError:
        raise InputError("is a folder, expected a .toml file", source=source) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"TOML syntax error: {exc}", source=source) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text: {exc}", source=source) from None


def load_scenario(path: Path | str) -> Scenario:
    """Read and validate a scenario TOML file."""
    path = Path(path)
    try:
        table = read_toml(path)
    except InputError as exc:
        raise InputError(str(exc).replace(": file not found", ": scenario file not found", 1)) from None
    return scenario_from_table(table, path)


def scenario_from_table(table: dict, path: Path, source: str | None = None) -> Scenario:
    """Validate a parsed scenario table; ``path`` locates the files it names (TLE, traces)."""
    source = source or str(path)
    scenario = load_table(Scenario, table, source)
    object.__setattr__(scenario, "path", path)
    tle = _inside(path.parent, scenario.satellite.tle, source, "satellite.tle")
    if not tle.is_file():
        raise InputError(f"TLE file {scenario.satellite.tle!r} not found next to the scenario", source=source, field="satellite.tle")
    if scenario.weather.model == "trace":
        trace = _inside(path.parent, scenario.weather.trace, source, "weather.trace")
        if not trace.is_file():
            raise InputError(f"weather trace {scenario.weather.trace!r} not found", source=source, field="weather.trace")
        object.__setattr__(scenario, "weather_records", load_weather_trace(trace))
    if scenario.qkd is not None:
        _load_qkd(scenario, path.parent, source)
    return scenario


def _load_qkd(scenario: Scenario, folder: Path, source: str) -> None:
    """Load the QKD network and demand trace a scenario names and check they agree with it."""
    qkd = scenario.qkd
    network_path = _inside(folder, qkd.network, source, "qkd.network")
    if not network_path.is_file():
        raise InputError(f"QKD network file {qkd.network!r} not found", source=source, field="qkd.network")
    network = QkdInstance.from_toml(network_path)
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
        trace = _inside(folder, qkd.demand.trace, source, "qkd.demand.trace")
        if not trace.is_file():
            raise InputError(f"demand trace {qkd.demand.trace!r} not found", source=source, field="qkd.demand.trace")
        records = load_demand_trace(trace)
        pairs = {(r.src, r.dst): r.name for r in network.requests}
        for record in records:
            if (record.src, record.dst) not in pairs:
                raise InputError(f"no request from {record.src!r} to {record.dst!r} in {qkd.network}", source=str(trace),
                                 field=f"line {record.line}")
        object.__setattr__(scenario, "demand_records", records)
