"""The physical world as SimPy processes: one tick process for the shared state, one actuator per transmitter.

The world has any topology (:class:`physical.channel_matrix.Topology`): the satellite, any number
of UAVs and base stations, users and Eves, each by name.

At each tick ``k·tick_s`` (absolute times, so float error does not accumulate) the world, in a
fixed order: advances the weather, indexes the precomputed satellite geometry, moves the UAV and
the users, draws the new channels, logs the secrecy rates achieved on the TRUE channels with the
precoders in force, and puts each entity's report into the outbox it was given. Transmitters apply
precoder commands as they arrive on the inboxes they were given. Nothing here knows about twins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Protocol

import numpy as np
import simpy

from common.event_logger import EventLogger
from common.periodic import periodic
from physical.channel_matrix import ChannelMatrix, Topology
from physical.channels import SATELLITE, ChannelModel, LinkGeometry, estimate_with_error, interference_to_noise, with_interference
from physical.mobility import LinearMotion, WaypointTrajectory
from physical.orbit import PassEvent, SiteGeometry
from physical.serving import ServingSatellites
from physical.reports import PrecoderCommand, TransmitterReport, WeatherReport
from physical.urgent import urgent_timeout
from physical.secrecy import secrecy_rates_of
from physical.weather import Weather, WeatherTrace

#: relative slack on a transmitter's power limit before a command is scaled down
POWER_TOLERANCE = 1e-6


class Outbox(Protocol):
    """Where an entity puts its reports (a twin link, in the wired simulation)."""

    def put(self, message: object) -> None: ...


@dataclass(frozen=True)
class Layout:
    """Who is where, in the site's ENU frame, and who serves whom.

    Args:
        topology: the transmitters (the satellite, then UAVs and base stations), users and Eves by
            name, who serves whom, and the antenna counts.
        geometry: the satellite geometry precomputed for every tick.
        beam_centre_m: ENU point the satellite's spot beam is aimed at (m).
        uavs: each UAV's trajectory, by transmitter name.
        base_stations: each base station's antenna position (m), by transmitter name.
        receivers: motion of every user and Eve, by name.
        passes: the satellite's rise/culmination/set events inside the run (logged when they happen).
        constellation: with many satellites, the serving satellite per tick and the others
            (``geometry`` is then the serving satellite's); None for one satellite.
    """

    topology: Topology
    geometry: SiteGeometry
    beam_centre_m: np.ndarray
    uavs: Mapping[str, WaypointTrajectory]
    base_stations: Mapping[str, np.ndarray]
    receivers: Mapping[str, LinearMotion]
    passes: tuple[PassEvent, ...] = ()
    constellation: ServingSatellites | None = None

    def transmitter_positions_m(self, t_s: float) -> dict[str, np.ndarray]:
        """ENU antenna position (m) of every UAV and base station at ``t_s`` (s)."""
        return {**{name: uav.position_m(t_s) for name, uav in self.uavs.items()},
                **{name: np.asarray(bs_m, dtype=float) for name, bs_m in self.base_stations.items()}}


class World:
    """The SimPy model of the physical network.

    Args:
        env: the SimPy environment.
        layout: positions and precomputed geometry.
        channels: the channel model (owns its fading generators).
        weather: the weather chain (owns its generator) or a recorded trace replayed at its exact times.
        power_limits_w: power limit per transmitter (W).
        eve_csi_error: Δ, relative norm of the transmitters' error on Eve's channel.
        rng_for: gives the seeded generator of a named component.
        tick_s: tick period (s); n_ticks: number of ticks.
        outboxes: every transmitter's report destination, by name, and ``weather`` (the site's weather station).
        inboxes: every transmitter's SimPy store delivering :class:`PrecoderCommand`, by name.
        log: the event logger.
        interference: with a constellation, every non-serving satellite above the horizon transmits
            at the satellite's power limit with its beam at its own nadir; each receiver's channels
            are divided by sqrt(1 + I_r/N0) (its noise raised by the interference).
    """

    def __init__(
        self,
        env: simpy.Environment,
        *,
        layout: Layout,
        channels: ChannelModel,
        weather: Weather | WeatherTrace,
        power_limits_w: Mapping[str, float],
        eve_csi_error: float,
        rng_for: Callable[[str], np.random.Generator],
        tick_s: float,
        n_ticks: int,
        outboxes: Mapping[str, Outbox],
        inboxes: Mapping[str, simpy.Store],
        log: EventLogger,
        interference: bool = False,
    ) -> None:
        self.env = env
        self.interference = interference
        if interference and layout.constellation is None:
            raise ValueError("interference needs a constellation in the layout")
        self._faded_satellite: str | None = None  # the satellite whose small-scale fading the channel model holds
        self.layout = layout
        self.channels = channels
        self.weather = weather
        self.power_limits_w = dict(power_limits_w)
        self.eve_csi_error = eve_csi_error
        self.topology = layout.topology
        self._estimation_rng = {tx: rng_for(f"estimation.{tx}") for tx in self.topology.transmitters}
        self.tick_s = tick_s
        self.n_ticks = n_ticks
        self.outboxes = outboxes
        self.log = log
        self.in_force: dict[str, PrecoderCommand | None] = {tx: None for tx in self.topology.transmitters}
        self.ticks_done = 0
        self.process = env.process(periodic(env, tick_s, self._tick, count=n_ticks))
        env.process(self._pass_events())
        if isinstance(weather, WeatherTrace):
            env.process(self._replay_weather(weather))
        for tx in self.topology.transmitters:
            env.process(self._actuator(tx, inboxes[tx]))

    # -- transmitters -------------------------------------------------------------------------
    def _actuator(self, transmitter: str, inbox: simpy.Store):
        """Apply each precoder command as it arrives, scaling it down if it exceeds the power limit."""
        limit_w = self.power_limits_w[transmitter]
        while True:
            command: PrecoderCommand = yield inbox.get()
            power_w = command.power_w
            scaled = power_w > limit_w * (1 + POWER_TOLERANCE)
            if scaled:
                command = command.scaled(math.sqrt(limit_w / power_w))
            self.in_force[transmitter] = command
            planned = list(command.planned_rates_bps_hz.values())
            self.log.log(
                self.env.now, transmitter, "decision_applied",
                solve_id=command.solve_id, method=command.method,
                power_w=min(power_w, limit_w), scaled_to_limit=scaled,
                decision_age_s=self.env.now - command.decided_at_s,
                input_age_s=self.env.now - command.oldest_input_s,
                planned_rate_bps_hz=planned[0] if len(planned) == 1 else _nan_min(planned),
                precoder_array_id=self.log.array(f"precoder.{transmitter}", command.stacked()),
            )

    def _precoders(self) -> dict[str, np.ndarray]:
        """User → the precoder of its message in force (zeros while its transmitter has no decision)."""
        top = self.topology
        out = {}
        for user in top.users:
            command = self.in_force[top.serving[user]]
            out[user] = np.zeros(top.antennas[top.serving[user]], dtype=complex) if command is None else command.precoders[user]
        return out

    def _pass_events(self):
        for event in self.layout.passes:
            yield self.env.timeout(max(0.0, event.t_s - self.env.now))
            self.log.log(self.env.now, "satellite", "pass_event", event=event.event, elevation_deg=math.degrees(event.elevation_rad))

    def _replay_weather(self, trace: WeatherTrace):
        """Announce each recorded weather change at its exact time, ahead of a tick at the same time."""
        previous = None
        for record in trace.records:
            yield urgent_timeout(self.env, record.t_s - self.env.now)
            if previous is not None and record.state != previous:
                self.log.log(self.env.now, "weather", "weather_change", from_state=previous, to_state=record.state,
                             rain_fade_db=record.rain_fade_db, cloud_cover=record.cloud_cover)
            previous = record.state

    # -- the tick ---------------------------------------------------------------------------------
    def _tick(self, k: int) -> None:
        t = self.env.now
        geo = self.layout.geometry
        sample = self.weather.step(t)
        if sample.changed_from is not None:
            self.log.log(t, "weather", "weather_change", from_state=sample.changed_from, to_state=sample.state,
                         rain_fade_db=sample.rain_fade_db, cloud_cover=sample.cloud_cover)
        sat_m = geo.satellite_enu_m(k)
        elevation = float(geo.elevation_rad[k])
        if k == 0:
            self._log_initial_state(t, sample, elevation)
        constellation = self.layout.constellation
        extra: dict[str, object] = {}
        serving_name = None
        if constellation is not None:
            serving_name = constellation.serving_name(k)
            self._serving_changes(t, k, constellation)
            extra["serving_satellite"] = serving_name
        top = self.topology
        receivers_m = {r: self.layout.receivers[r].position_m(t) for r in top.receivers}
        interference = None
        if self.interference:
            interference = interference_to_noise(self.channels.params, self.power_limits_w[SATELLITE], constellation.interferers_m(k),
                                                 constellation.geocentre_m, receivers_m, sample.rain_fade_db)
            worst = max(interference.values())
            extra["interference_to_noise_db"] = 10.0 * math.log10(worst) if worst > 0 else None
        self.log.log(
            t, SATELLITE, "satellite_state",
            elevation_deg=math.degrees(elevation), azimuth_deg=math.degrees(geo.azimuth_rad[k]),
            range_m=float(geo.range_m[k]), sunlit=bool(geo.sat_sunlit[k]),
            sun_elevation_deg=math.degrees(geo.sun_elevation_rad[k]),
            serving=elevation >= self.channels.params.sat_min_elevation_rad,
            weather=sample.state, rain_fade_db=sample.rain_fade_db, cloud_cover=sample.cloud_cover, **extra,
        )
        positions = {SATELLITE: sat_m, **self.layout.transmitter_positions_m(t)}
        for name in self.layout.uavs:
            uav_m = positions[name]
            self.log.log(t, name, "uav_state", x_m=uav_m[0], y_m=uav_m[1], z_m=uav_m[2])
        velocities = {r: np.asarray(self.layout.receivers[r].velocity_mps, dtype=float) for r in top.receivers}
        link_geo = LinkGeometry(sat_m, elevation, self.layout.beam_centre_m,
                                {name: positions[name] for name in positions if name != SATELLITE}, receivers_m, sample.rain_fade_db,
                                transmitters_velocity_mps={name: uav.velocity_mps(t) for name, uav in self.layout.uavs.items()},
                                receivers_velocity_mps=velocities)
        truth = self.channels.step(t, link_geo)
        if interference is not None:
            truth = with_interference(truth, interference)
        self._log_secrecy(t, truth)
        scalars = {"elevation_deg": math.degrees(elevation), "range_m": float(geo.range_m[k])}
        for tx in top.transmitters:
            self.outboxes[tx].put(
                TransmitterReport(
                    transmitter=tx,
                    measured_at_s=t,
                    channels={u: truth[tx, u] for u in top.users},
                    eve_estimates={e: estimate_with_error(truth[tx, e], self.eve_csi_error, self._estimation_rng[tx]) for e in top.eves},
                    power_limit_w=self.power_limits_w[tx],
                    position_m=np.asarray(positions[tx], dtype=float),
                    scalars=scalars if tx == SATELLITE else {},
                    receivers_m=receivers_m,
                    receivers_velocity_mps=velocities,
                    serving_satellite=serving_name if tx == SATELLITE else None,
                )
            )
        self.outboxes["weather"].put(WeatherReport(t, sample.state, sample.rain_fade_db, sample.cloud_cover))
        self.ticks_done = k + 1

    def _serving_changes(self, t: float, k: int, constellation: ServingSatellites) -> None:
        """Log the changes of serving satellite at tick ``k`` and restart the fading when another satellite serves.

        A satellite that serves again after a gap in service keeps its fading process (it is the same
        channel); any other satellite's channel is independent of the previous one's.
        """
        for change in constellation.changes_at(k):
            old_deg, new_deg = math.degrees(change.old_elevation_rad), math.degrees(change.new_elevation_rad)
            if change.kind == "handover":
                self.log.log(t, "satellite", "handover", old_satellite=change.old, new_satellite=change.new,
                             old_elevation_deg=old_deg, new_elevation_deg=new_deg, rule=constellation.rule)
            elif change.kind == "acquired":
                self.log.log(t, "satellite", "service_acquired", satellite=change.new, elevation_deg=new_deg, rule=constellation.rule)
            else:
                self.log.log(t, "satellite", "service_lost", satellite=change.old, elevation_deg=old_deg, rule=constellation.rule)
        name = constellation.serving_name(k)
        if name is not None and name != self._faded_satellite:
            if self._faded_satellite is not None:
                self.channels.restart_satellite_fading()
            self._faded_satellite = name

    def _log_initial_state(self, t: float, sample, elevation_rad: float) -> None:
        """At the first tick: the weather and the satellite's pass state, stated even if they never change.

        Later rows record only changes (``weather_change``, ``pass_event``), so without these a window
        of the log with no change would not say what the weather or the pass state was.
        """
        self.log.log(t, "weather", "weather_state", state=sample.state, rain_fade_db=sample.rain_fade_db,
                     cloud_cover=sample.cloud_cover)
        min_elevation_rad = self.channels.params.sat_min_elevation_rad
        upcoming = next((event for event in self.layout.passes if event.t_s >= t), None)
        self.log.log(t, "satellite", "pass_state", serving=elevation_rad >= min_elevation_rad,
                     elevation_deg=math.degrees(elevation_rad), min_elevation_deg=math.degrees(min_elevation_rad),
                     next_event=upcoming.event if upcoming else None,
                     next_event_t_s=upcoming.t_s if upcoming else None)

    def _log_secrecy(self, t: float, truth: ChannelMatrix) -> None:
        """Secrecy achieved on the true channels; a user its transmitter cannot reach is unserved (NaN rates).

        Columns per transmitter, in topology order: each of its users' achieved and planned rates,
        then the id of the solve whose decision it applies.
        """
        top = self.topology
        achieved = secrecy_rates_of(truth, self._precoders())
        fields: dict[str, object] = {}
        senders = [tx for tx in top.transmitters if top.users_of(tx)]
        for tx in senders:
            command = self.in_force[tx]
            for user in top.users_of(tx):
                served = user in achieved.served
                fields[f"achieved_{user}_bps_hz"] = achieved.rates[user] if served else math.nan
                fields[f"planned_{user}_bps_hz"] = math.nan if command is None or not served else command.planned_rates_bps_hz[user]
            fields[f"solve_id_{tx}"] = -1 if command is None else command.solve_id
        fields["achieved_min_bps_hz"] = achieved.min_rate
        fields["unserved"] = ",".join(u for u in top.users if u not in achieved.served)
        commands = [self.in_force[tx] for tx in senders]
        if any(c is None for c in commands):
            fields["planned_min_bps_hz"] = math.nan  # until every transmitter has a decision
        elif len({c.solve_id for c in commands}) == 1 and math.isfinite(commands[0].planned_min_rate_bps_hz):
            fields["planned_min_bps_hz"] = commands[0].planned_min_rate_bps_hz  # the decision's own E[min_k R_k]
        else:
            planned = [fields[f"planned_{u}_bps_hz"] for u in achieved.served]
            fields["planned_min_bps_hz"] = float(np.min(planned)) if planned else math.nan
        self.log.log(t, "world", "secrecy", **fields)


def _nan_min(values: list[float]) -> float:
    """The smallest of ``values`` that is not NaN (NaN if all are)."""
    finite = [v for v in values if not math.isnan(v)]
    return min(finite) if finite else math.nan
