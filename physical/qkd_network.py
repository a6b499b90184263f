"""The QKD network as a SimPy process: key pools filled at physical rates, drained by routed demand.

Every link has a :class:`~physical.key_pool.KeyPool`. Between two instants t0 < t1 (every
``step_s``, and at every demand change, plan arrival, change of the sky pattern and predicted pool
threshold crossing, so nothing is integrated across a change) the network, in a fixed order:

1. provisions the plan in force for the weather at t0 — the weather arrives as the site's
   :class:`~physical.reports.WeatherReport` on the network's inbox (the world's per-tick report),
   and an interval never spans a change of pattern; the pattern is cloudy when the cloud cover
   blocks optical links (``physical.weather.optical_link_blocked``, the planner's rule too): each
   request with demand k on a route of its weather needs P = ceil(k/K_l) QKD links (3 wavelengths
   each, K_l the plan's key rate of link l) and 1 KM wavelength (or P with the plan's
   ``km_per_qkd_link``, Kaewpuang eq. 35) on every link l of the route; requests are provisioned
   in the network file's order, reserved wavelengths first, then on-demand ones, and a request that
   does not fit on every link of its route is not served;
2. produces on each link (running QKD links) × (key one QKD link delivers over [t0, t1]) — the
   physical rate of ``physical.qkd_link`` (fiber: decoy BB84 over one trusted-relay segment;
   satellite: from the run's skyfield geometry, zero in daylight or below the minimum elevation);
   a cloudy sky blocks every optical (satellite and UAV) link;
3. serves each request with min(k·Δt, smallest stock + production on its route) from every pool
   of the route (trusted relays: each hop spends the same key), logging what is unmet and why;
   production and consumption are concurrent, so each pool takes its net change once (no
   spurious threshold flapping inside an interval; a full pool discards only the net surplus);
4. accrues the second-stage cost: utilised-reserved wavelengths at utilisation_factor × price and
   on-demand ones at ondemand_factor × price, pro rata to Δt / epoch.

Every pool threshold crossing and every unmet demand is logged; each pool's state (with its
thresholds) is logged at t = 0 and every ``log_period_s``; a :class:`KeyPoolReport` goes to the
twin every ``report_period_s``. Crossings are logged when they happen: after every change the
network predicts, from the current rates, when a pool will next cross a threshold and advances to
that instant (an emptying pool exactly then, the other crossings ``CROSSING_DELAY_S`` after, so the
strict threshold has been passed); the time is exact while
the rates stay constant until the crossing (they change only at ticks, demand changes, plan and
weather changes, each of which re-predicts), else the crossing is logged at the next advance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Final, Iterable, Mapping, Protocol, Sequence

import numpy as np
import simpy

from common.event_logger import EventLogger
from common.periodic import periodic
from physical.key_demand import DemandChange
from physical.key_pool import EMPTY, READY, KeyPool, PoolChange
from physical.reports import KeyPoolReport, QkdPlanCommand, WeatherReport
from physical.urgent import urgent_timeout
from physical.wavelengths import QKD_WAVELENGTHS_PER_LINK, km_wavelengths_needed, qkd_links_needed
from physical.weather import DEFAULT_CLOUD_BLOCK_FRACTION, sky_pattern

UNMET_TOLERANCE_BITS: Final = 1e-6  #: unmet key below this is rounding, not a shortfall (bit)
CROSSING_DELAY_S: Final = 1e-6  #: a predicted crossing is advanced to this long after it, so it has happened (s)
MAX_CROSSING_WAKES_PER_STEP: Final = 16  #: at most this many crossing predictions between two regular steps


class KeyRateSource(Protocol):
    """Key one QKD link of a network link delivers (clear sky)."""

    def rate_bps(self, t_s: float) -> float: ...

    def bits(self, t0_s: float, t1_s: float) -> float: ...

    def next_change_s(self, t_s: float) -> float: ...


@dataclass(frozen=True)
class ConstantRate:
    """A constant key rate (bit/s): fiber and UAV links with fixed geometry."""

    value_bps: float

    def rate_bps(self, t_s: float) -> float:
        return self.value_bps

    def bits(self, t0_s: float, t1_s: float) -> float:
        return self.value_bps * (t1_s - t0_s)

    def next_change_s(self, t_s: float) -> float:
        return math.inf


class RateSeries:
    """A key rate sampled at ticks k·tick_s and held until the next tick (bit/s); exact integrals.

    Args:
        tick_s: sample period (s). rates_bps: one rate per tick; the last one holds beyond the end.
    """

    def __init__(self, tick_s: float, rates_bps: np.ndarray) -> None:
        self.tick_s = float(tick_s)
        self.rates_bps = np.asarray(rates_bps, dtype=float)
        self._cumulative = np.concatenate(([0.0], np.cumsum(self.rates_bps) * self.tick_s))

    def _index(self, t_s: float) -> int:
        return min(max(int(math.floor(t_s / self.tick_s + 1e-9)), 0), len(self.rates_bps) - 1)

    def rate_bps(self, t_s: float) -> float:
        return float(self.rates_bps[self._index(t_s)])

    def _integral(self, t_s: float) -> float:
        k = self._index(t_s)
        return float(self._cumulative[k] + self.rates_bps[k] * (t_s - k * self.tick_s))

    def bits(self, t0_s: float, t1_s: float) -> float:
        return self._integral(t1_s) - self._integral(t0_s)

    def next_change_s(self, t_s: float) -> float:
        """The next tick after ``t_s`` (s) at which the rate may change (inf after the last sample)."""
        k = self._index(t_s) + 1
        return k * self.tick_s if k < len(self.rates_bps) else math.inf

    def mean_bps(self, t0_s: float, t1_s: float) -> float:
        """Average rate over [t0, t1] (bit/s)."""
        return self.bits(t0_s, t1_s) / (t1_s - t0_s) if t1_s > t0_s else self.rate_bps(t0_s)


@dataclass(frozen=True)
class QkdLinkModel:
    """One network link: ``name`` (``a-b``), its end nodes, medium, key rate of one QKD link, and
    whether a cloudy sky blocks it (free-space optical links: satellite and UAV)."""

    name: str
    a: str
    b: str
    medium: str
    rate: KeyRateSource
    blocked_by_cloud: bool


@dataclass(frozen=True)
class PoolSettings:
    """Capacity, warning threshold and initial stock of every pool (bit)."""

    capacity_bits: float
    warning_bits: float
    initial_bits: float


@dataclass(frozen=True)
class QkdTotals:
    """What the network has cost and served from t = 0 to now, whatever plans were in force.

    Args:
        first_stage_cost: reservation cost, pro rata to the time each plan was in force (cost units).
        second_stage_cost: utilised-reserved and on-demand wavelengths, pro rata to their use (cost units).
        requested_bits, served_bits: key asked for and delivered, before the first plan included (bit).
    """

    first_stage_cost: float
    second_stage_cost: float
    requested_bits: float
    served_bits: float

    @property
    def total_cost(self) -> float:
        """First plus second stage (cost units)."""
        return self.first_stage_cost + self.second_stage_cost

    @property
    def unmet_bits(self) -> float:
        """Key asked for and not delivered (bit)."""
        return self.requested_bits - self.served_bits


@dataclass
class _PlanLedger:
    """What happened while one plan was in force."""

    plan_id: int
    since_s: float
    first_stage_cost: float
    epoch_s: float
    second_stage_cost: float = 0.0
    requested_bits: float = 0.0
    served_bits: float = 0.0
    ondemand_qkd_wavelength_s: float = 0.0


@dataclass
class _Provision:
    """The outcome of provisioning the plan for one interval."""

    status: dict[str, str] = field(default_factory=dict)  # request → ok / idle / no_plan / no_route / capacity
    route_links: dict[str, list[str]] = field(default_factory=dict)
    used_qkd: dict[str, int] = field(default_factory=dict)
    used_km: dict[str, int] = field(default_factory=dict)


class QkdNetwork:
    """The physical QKD network (module docstring).

    Args:
        env: the SimPy environment.
        links: the network's links. requests: request name → (src, dst), in provisioning order.
        demand_changes: time-ordered demand changes (random model or trace).
        pools: pool settings.
        weather_inbox: SimPy store delivering the site's :class:`WeatherReport` (clear sky until the first).
        cloud_block_fraction: cloud cover (0–1) above which optical links are blocked.
        step_s, report_period_s, log_period_s: periods (s).
        outbox: where :class:`KeyPoolReport` go. inbox: SimPy store delivering :class:`QkdPlanCommand`.
        log: the event logger.
    """

    def __init__(self, env: simpy.Environment, *, links: Sequence[QkdLinkModel], requests: Mapping[str, tuple[str, str]],
                 demand_changes: Iterable[DemandChange], pools: PoolSettings, weather_inbox: simpy.Store,
                 step_s: float, report_period_s: float, log_period_s: float, outbox, inbox: simpy.Store,
                 log: EventLogger, cloud_block_fraction: float = DEFAULT_CLOUD_BLOCK_FRACTION) -> None:
        self.env = env
        self.links = {link.name: link for link in links}
        self._link_between = {frozenset((link.a, link.b)): link.name for link in links}
        self.requests = dict(requests)
        self.pools = {name: KeyPool(pools.capacity_bits, pools.warning_bits, 0.0, pools.initial_bits) for name in self.links}
        self.cloud_block_fraction = cloud_block_fraction
        self.weather: WeatherReport | None = None
        self.outbox = outbox
        self.log = log
        self.step_s = step_s
        self.demand_bps: dict[str, float] = {name: 0.0 for name in self.requests}
        self.plan: QkdPlanCommand | None = None
        self._ledger: _PlanLedger | None = None
        self._t_s = 0.0
        self._running: dict[str, int] = {name: 0 for name in self.links}
        self._unmet_since_report: dict[str, float] = {name: 0.0 for name in self.requests}
        self._closed = [0.0, 0.0]  # first- and second-stage cost of the plans that left service
        self._requested_bits = 0.0
        self._served_bits = 0.0
        self._wake_generation = 0
        self._wakes_since_step = 0
        env.process(self._demand(demand_changes))
        env.process(self._every(step_s, self._step))
        env.process(self._commands(inbox))
        env.process(self._weather(weather_inbox))
        env.process(self._every(report_period_s, self._report))
        env.process(self._every(log_period_s, self._log_pools))

    # -- processes --------------------------------------------------------------------------------
    def _demand(self, changes: Iterable[DemandChange]):
        for change in changes:
            yield urgent_timeout(self.env, change.t_s - self.env.now)
            self.advance_to(self.env.now)
            for name, rate in change.rates_bps.items():
                if rate != self.demand_bps[name]:
                    self.log.log(self.env.now, "qkd", "key_demand_change", request=name,
                                 from_bps=self.demand_bps[name], to_bps=rate)
                self.demand_bps[name] = rate
            self._predict_crossing()

    def _every(self, period_s: float, action: Callable[[], None]):
        """At 0, period_s, 2·period_s, …: bring the pools up to now, then ``action()``."""

        def at(k: int) -> None:
            self.advance_to(self.env.now)
            action()

        return periodic(self.env, period_s, at)

    def _step(self) -> None:
        self._wakes_since_step = 0
        self._predict_crossing()

    def _commands(self, inbox: simpy.Store):
        while True:
            command: QkdPlanCommand = yield inbox.get()
            self.advance_to(self.env.now)
            self.close_plan()
            self.plan = command
            self._ledger = _PlanLedger(command.plan_id, self.env.now, command.first_stage_cost, command.epoch_s)
            self.log.log(self.env.now, "qkd", "qkd_plan_applied", plan_id=command.plan_id,
                         decision_age_s=self.env.now - command.decided_at_s,
                         input_age_s=self.env.now - command.oldest_input_s)
            self._predict_crossing()

    def _weather(self, inbox: simpy.Store):
        """Take each weather report; a change of pattern first closes the interval under the old sky."""
        while True:
            report: WeatherReport = yield inbox.get()
            if self.weather is not None and report.measured_at_s < self.weather.measured_at_s:
                continue  # reordered on the way: keep the newer one
            changed = self._pattern_of(report) != self.weather_pattern()
            if changed:
                self.advance_to(self.env.now)
            self.weather = report
            if changed:
                self._predict_crossing()

    # -- accounting -------------------------------------------------------------------------------
    def close_plan(self) -> None:
        """Log the cost and service of the plan in force up to now (at a plan change and at the end of the run)."""
        ledger = self._ledger
        if ledger is None:
            return
        duration = self.env.now - ledger.since_s
        first = ledger.first_stage_cost * duration / ledger.epoch_s
        self._closed[0] += first
        self._closed[1] += ledger.second_stage_cost
        self.log.log(
            self.env.now, "qkd", "qkd_plan_cost", plan_id=ledger.plan_id, duration_s=duration,
            first_stage_cost=first, second_stage_cost=ledger.second_stage_cost,
            total_cost=first + ledger.second_stage_cost, requested_bits=ledger.requested_bits,
            served_bits=ledger.served_bits, unmet_bits=ledger.requested_bits - ledger.served_bits,
            mean_ondemand_qkd=ledger.ondemand_qkd_wavelength_s / duration if duration > 0 else 0.0,
        )
        self._ledger = None

    def totals(self) -> QkdTotals:
        """Cost and key from t = 0 up to the last advance, the plan in force counted pro rata (:class:`QkdTotals`)."""
        first, second = self._closed
        ledger = self._ledger
        if ledger is not None:
            first += ledger.first_stage_cost * (self._t_s - ledger.since_s) / ledger.epoch_s
            second += ledger.second_stage_cost
        return QkdTotals(first, second, self._requested_bits, self._served_bits)

    # -- one interval -----------------------------------------------------------------------------
    def _pattern_of(self, report: WeatherReport | None) -> str:
        return sky_pattern(report.cloud_cover, self.cloud_block_fraction) if report is not None else "clear"

    def weather_pattern(self) -> str:
        """``clear`` or ``cloudy`` (cloud cover above the blocking fraction), the weather patterns the planner knows."""
        return self._pattern_of(self.weather)

    def _blocked(self, link: QkdLinkModel, weather: str) -> bool:
        return link.blocked_by_cloud and weather == "cloudy"

    def _provision(self, weather: str) -> _Provision:
        out = _Provision(used_qkd={name: 0 for name in self.links}, used_km={name: 0 for name in self.links})
        plan = self.plan
        for name in self.requests:
            demand = self.demand_bps[name]
            if demand <= 0.0:
                out.status[name] = "idle"
                continue
            route = plan.routes.get(weather, {}).get(name) if plan is not None else None
            if plan is None or not route:
                out.status[name] = "no_plan" if plan is None else "no_route"
                continue
            hops = [self._link_between[frozenset(pair)] for pair in zip(route[:-1], route[1:])]
            parallel = {link: qkd_links_needed(demand, plan.key_rate_bps[link]) for link in hops}
            needs = {link: QKD_WAVELENGTHS_PER_LINK * p for link, p in parallel.items()}
            km = {link: km_wavelengths_needed(p, plan.km_per_qkd_link) for link, p in parallel.items()}
            fits = all(
                out.used_qkd[link] + needs[link] <= plan.reserved_qkd.get(link, 0) + plan.ondemand_capacity_qkd[link]
                and out.used_km[link] + km[link] <= plan.reserved_km.get(link, 0) + plan.ondemand_capacity_km[link]
                for link in hops)
            if not fits:
                out.status[name] = "capacity"
                continue
            for link in hops:
                out.used_qkd[link] += needs[link]
                out.used_km[link] += km[link]
            out.status[name] = "ok"
            out.route_links[name] = hops
        return out

    def advance_to(self, t_s: float) -> None:
        """Fill, serve and account from the last instant to ``t_s`` (s) (module docstring, steps 1–4)."""
        t0 = self._t_s
        dt = t_s - t0
        if dt <= 0.0:
            return
        weather = self.weather_pattern()
        provision = self._provision(weather)
        available = {}  # key each pool can hand out over the interval: stock + production
        for name, link in self.links.items():
            running = provision.used_qkd[name] // QKD_WAVELENGTHS_PER_LINK
            self._running[name] = running
            added = 0.0 if self._blocked(link, weather) or running == 0 else running * link.rate.bits(t0, t_s)
            available[name] = self.pools[name].stock_bits + added
        served_by_request = {}
        for name, status in provision.status.items():
            if status == "ok":
                hops = provision.route_links[name]
                served = min(self.demand_bps[name] * dt, min(available[link] for link in hops))
                for link in hops:
                    available[link] -= served
                served_by_request[name] = served
        for name, pool in self.pools.items():  # production and consumption are concurrent: apply the net change once
            if available[name] < UNMET_TOLERANCE_BITS:
                available[name] = 0.0  # what is left of an emptied pool is rounding
            net = available[name] - pool.stock_bits
            change = pool.advance(dt, net / dt) if net >= 0.0 else pool.consume(min(-net, pool.stock_bits))
            self._log_crossings(t_s, name, change)
        ledger = self._ledger
        for name, status in provision.status.items():
            requested = self.demand_bps[name] * dt
            if status == "idle":
                continue
            served = served_by_request.get(name, 0.0)
            unmet = requested - served
            self._requested_bits += requested
            self._served_bits += served
            if ledger is not None:
                ledger.requested_bits += requested
                ledger.served_bits += served
            if unmet > UNMET_TOLERANCE_BITS:
                self._unmet_since_report[name] += unmet
                reason = "pool_empty" if status == "ok" else status
                self.log.log(t_s, "qkd", "key_demand_unmet", request=name, reason=reason, weather=weather,
                             from_s=t0, requested_bits=requested, served_bits=served, unmet_bits=unmet)
        if ledger is not None and self.plan is not None:
            ledger.second_stage_cost += self._second_stage_cost(provision) * dt / self.plan.epoch_s
            ledger.ondemand_qkd_wavelength_s += sum(
                max(used - self.plan.reserved_qkd.get(name, 0), 0) for name, used in provision.used_qkd.items()) * dt
        self._t_s = t_s

    # -- exact crossing times -----------------------------------------------------------------------
    def _net_rates_bps(self) -> dict[str, float]:
        """Each pool's rate of change now (bit/s): production minus what its served requests draw.

        A request draws its demand, or less when a pool of its route is empty and produces less (it
        then gets that pool's production); requests sharing such a pool are not apportioned, so the
        estimate can be high there, and a prediction from it is checked when its time comes."""
        now = self.env.now
        weather = self.weather_pattern()
        provision = self._provision(weather)
        production = {}
        for name, link in self.links.items():
            running = provision.used_qkd[name] // QKD_WAVELENGTHS_PER_LINK
            production[name] = 0.0 if self._blocked(link, weather) or running == 0 else running * link.rate.rate_bps(now)
        net = dict(production)
        for request, status in provision.status.items():
            if status != "ok":
                continue
            hops = provision.route_links[request]
            draw = self.demand_bps[request]
            for link in hops:
                if self.pools[link].stock_bits <= 0.0:
                    draw = min(draw, production[link])
            for link in hops:
                net[link] -= draw
        return net

    def _next_rate_change_s(self) -> float:
        return min((link.rate.next_change_s(self.env.now) for link in self.links.values()), default=math.inf)

    def _predict_crossing(self) -> None:
        """Schedule an advance just after the earliest predicted pool threshold crossing before the next step."""
        now = self.env.now
        self._wake_generation += 1
        if self._wakes_since_step >= MAX_CROSSING_WAKES_PER_STEP:
            return
        next_step = (math.floor(now / self.step_s + 1e-9) + 1) * self.step_s
        earliest = math.inf
        for name, rate in self._net_rates_bps().items():
            pool = self.pools[name]
            stock, state = pool.stock_bits, pool.state
            if rate < 0.0 and state != EMPTY:  # draining: READY → WARNING below warning_bits, then EMPTY at empty_bits
                threshold = pool.warning_bits if state == READY else pool.empty_bits
                delay = max(stock - threshold, 0.0) / -rate
                # reaching empty_bits is EMPTY (and advance_to rounds a near-empty pool down): wake exactly then
                margin = CROSSING_DELAY_S if state == READY else 0.0
            elif rate > 0.0 and state != READY:  # filling: EMPTY → WARNING at once, WARNING → READY at warning_bits
                threshold = pool.empty_bits if state == EMPTY else pool.warning_bits
                delay = max(threshold - stock, 0.0) / rate
                margin = CROSSING_DELAY_S
            else:
                continue
            if margin and abs(rate) * margin <= 4.0 * math.ulp(max(abs(threshold), 1.0)):
                continue  # too slow to resolve a crossing this close: the next step will see it
            if now + delay + margin > now:
                earliest = min(earliest, now + delay + margin)
        if earliest < next_step:
            wake = min(earliest, max(self._next_rate_change_s(), now + CROSSING_DELAY_S))  # re-predict when a rate changes
            self._wakes_since_step += 1
            self.env.process(self._wake(wake, self._wake_generation))

    def _wake(self, t_s: float, generation: int):
        yield self.env.timeout(t_s - self.env.now)
        if generation == self._wake_generation:  # no other change since the prediction
            self.advance_to(self.env.now)
            self._predict_crossing()

    def _second_stage_cost(self, provision: _Provision) -> float:
        """Cost of one epoch of the wavelengths in use: reserved first, then on demand (cost units)."""
        plan = self.plan
        beta, gamma = plan.utilisation_factor, plan.ondemand_factor
        cost = 0.0
        for name in self.links:
            for used, reserved, price in ((provision.used_qkd[name], plan.reserved_qkd.get(name, 0), plan.price_qkd[name]),
                                          (provision.used_km[name], plan.reserved_km.get(name, 0), plan.price_km[name])):
                utilised = min(used, reserved)
                cost += price * (beta * utilised + gamma * (used - utilised))
        return cost

    def _log_crossings(self, t_s: float, link: str, change: PoolChange) -> None:
        for crossing in change.crossings:
            self.log.log(t_s, "qkd", "key_pool_crossing", link=link, from_state=crossing.before, to_state=crossing.after,
                         threshold_bits=crossing.threshold_bits, stock_bits=change.stock_bits)

    # -- outputs ----------------------------------------------------------------------------------
    def _report(self) -> None:
        self.outbox.put(KeyPoolReport(
            measured_at_s=self.env.now,
            stock_bits={name: pool.stock_bits for name, pool in self.pools.items()},
            states={name: pool.state for name, pool in self.pools.items()},
            demand_bps=dict(self.demand_bps),
            unmet_bits=dict(self._unmet_since_report),
        ))
        self._unmet_since_report = {name: 0.0 for name in self.requests}

    def _log_pools(self) -> None:
        weather = self.weather_pattern()
        for name, pool in self.pools.items():
            link = self.links[name]
            self.log.log(self.env.now, "qkd", "key_pool_state", link=name, medium=link.medium, stock_bits=pool.stock_bits,
                         state=pool.state, qkd_link_rate_bps=0.0 if self._blocked(link, weather) else link.rate.rate_bps(self.env.now),
                         running_qkd_links=self._running[name], warning_bits=pool.warning_bits,
                         empty_bits=pool.empty_bits, capacity_bits=pool.capacity_bits)
