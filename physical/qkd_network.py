"""The QKD network as a SimPy process: key pools filled at physical rates, drained by routed demand.

Every link has a :class:`~physical.key_pool.KeyPool`. Between two instants t0 < t1 (every
``step_s``, and at every demand change or plan arrival, so nothing is integrated across a change)
the network, in a fixed order:

1. provisions the plan in force for the weather at t0 (clear, or cloudy when the cloud cover is
   > 0): each request with demand k on a route of its weather needs P = ceil(k/K_m) QKD links
   (3 wavelengths each) and 1 KM wavelength on every link of the route (Kaewpuang et al.);
   requests are provisioned in the network file's order, reserved wavelengths first, then
   on-demand ones, and a request that does not fit on every link of its route is not served;
2. produces on each link (running QKD links) × (key one QKD link delivers over [t0, t1]) — the
   physical rate of ``physical.qkd_link`` (fiber: decoy BB84 over one trusted-relay segment;
   satellite: from the run's skyfield geometry, zero in daylight, below the minimum elevation or
   under cloud);
3. serves each request with min(k·Δt, smallest stock + production on its route) from every pool
   of the route (trusted relays: each hop spends the same key), logging what is unmet and why;
   production and consumption are concurrent, so each pool takes its net change once (no
   spurious threshold flapping inside an interval; a full pool discards only the net surplus);
4. accrues the second-stage cost: utilised-reserved wavelengths at utilisation_factor × price and
   on-demand ones at ondemand_factor × price, pro rata to Δt / epoch.

Every pool threshold crossing and every unmet demand is logged; each pool's state (with its
thresholds) is logged at t = 0 and every ``log_period_s``; a :class:`KeyPoolReport` goes to the twin every ``report_period_s``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Protocol, Sequence

import numpy as np
import simpy

from physical.key_demand import DemandChange
from physical.key_pool import KeyPool, PoolChange
from physical.reports import KeyPoolReport, QkdPlanCommand
from physical.urgent import urgent_timeout
from physical.wavelengths import KM_WAVELENGTHS_PER_LINK, QKD_WAVELENGTHS_PER_LINK, qkd_links_needed
from physical.weather import sky_pattern

UNMET_TOLERANCE_BITS = 1e-6  #: unmet key below this is rounding, not a shortfall (bit)


class KeyRateSource(Protocol):
    """Key one QKD link of a network link delivers (clear sky)."""

    def rate_bps(self, t_s: float) -> float: ...

    def bits(self, t0_s: float, t1_s: float) -> float: ...


@dataclass(frozen=True)
class ConstantRate:
    """A constant key rate (bit/s): fiber and UAV links with fixed geometry."""

    value_bps: float

    def rate_bps(self, t_s: float) -> float:
        return self.value_bps

    def bits(self, t0_s: float, t1_s: float) -> float:
        return self.value_bps * (t1_s - t0_s)


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

    def mean_bps(self, t0_s: float, t1_s: float) -> float:
        """Average rate over [t0, t1] (bit/s)."""
        return self.bits(t0_s, t1_s) / (t1_s - t0_s) if t1_s > t0_s else self.rate_bps(t0_s)


@dataclass(frozen=True)
class QkdLinkModel:
    """One network link: ``name`` (``a-b``), its end nodes, medium, key rate of one QKD link, and
    whether a cloudy sky blocks it (optical free-space links to the satellite)."""

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


class Logger(Protocol):
    def log(self, t_s: float, source: str, kind: str, **fields: object) -> int: ...


class QkdNetwork:
    """The physical QKD network (module docstring).

    Args:
        env: the SimPy environment.
        links: the network's links. requests: request name → (src, dst), in provisioning order.
        demand_changes: time-ordered demand changes (random model or trace).
        pools: pool settings. cloud_cover: current cloud cover at the site (0–1).
        step_s, report_period_s, log_period_s: periods (s).
        outbox: where :class:`KeyPoolReport` go. inbox: SimPy store delivering :class:`QkdPlanCommand`.
        log: the event logger.
    """

    def __init__(self, env: simpy.Environment, *, links: Sequence[QkdLinkModel], requests: Mapping[str, tuple[str, str]],
                 demand_changes: Iterable[DemandChange], pools: PoolSettings, cloud_cover: Callable[[], float],
                 step_s: float, report_period_s: float, log_period_s: float, outbox, inbox: simpy.Store,
                 log: Logger) -> None:
        self.env = env
        self.links = {link.name: link for link in links}
        self._link_between = {frozenset((link.a, link.b)): link.name for link in links}
        self.requests = dict(requests)
        self.pools = {name: KeyPool(pools.capacity_bits, pools.warning_bits, 0.0, pools.initial_bits) for name in self.links}
        self.cloud_cover = cloud_cover
        self.outbox = outbox
        self.log = log
        self.demand_bps: dict[str, float] = {name: 0.0 for name in self.requests}
        self.plan: QkdPlanCommand | None = None
        self._ledger: _PlanLedger | None = None
        self._t_s = 0.0
        self._running: dict[str, int] = {name: 0 for name in self.links}
        self._unmet_since_report: dict[str, float] = {name: 0.0 for name in self.requests}
        env.process(self._demand(demand_changes))
        env.process(self._every(step_s, lambda: None))
        env.process(self._commands(inbox))
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

    def _every(self, period_s: float, action: Callable[[], None]):
        """At 0, period_s, 2·period_s, …: bring the pools up to now, then ``action()``."""
        k = 0
        while True:
            yield self.env.timeout(k * period_s - self.env.now)
            self.advance_to(self.env.now)
            action()
            k += 1

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

    # -- accounting -------------------------------------------------------------------------------
    def close_plan(self) -> None:
        """Log the cost and service of the plan in force up to now (at a plan change and at the end of the run)."""
        ledger = self._ledger
        if ledger is None:
            return
        duration = self.env.now - ledger.since_s
        first = ledger.first_stage_cost * duration / ledger.epoch_s
        self.log.log(
            self.env.now, "qkd", "qkd_plan_cost", plan_id=ledger.plan_id, duration_s=duration,
            first_stage_cost=first, second_stage_cost=ledger.second_stage_cost,
            total_cost=first + ledger.second_stage_cost, requested_bits=ledger.requested_bits,
            served_bits=ledger.served_bits, unmet_bits=ledger.requested_bits - ledger.served_bits,
            mean_ondemand_qkd=ledger.ondemand_qkd_wavelength_s / duration if duration > 0 else 0.0,
        )
        self._ledger = None

    # -- one interval -----------------------------------------------------------------------------
    def weather_pattern(self) -> str:
        """``clear`` or ``cloudy`` (any cloud cover), the weather patterns the planner knows."""
        return sky_pattern(self.cloud_cover())

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
            needs = {link: QKD_WAVELENGTHS_PER_LINK * qkd_links_needed(demand, plan.key_rate_bps[self.links[link].medium])
                     for link in hops}
            fits = all(
                out.used_qkd[link] + needs[link] <= plan.reserved_qkd.get(link, 0) + plan.ondemand_capacity_qkd[link]
                and out.used_km[link] + KM_WAVELENGTHS_PER_LINK <= plan.reserved_km.get(link, 0) + plan.ondemand_capacity_km[link]
                for link in hops)
            if not fits:
                out.status[name] = "capacity"
                continue
            for link in hops:
                out.used_qkd[link] += needs[link]
                out.used_km[link] += KM_WAVELENGTHS_PER_LINK
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
            blocked = link.blocked_by_cloud and weather == "cloudy"
            added = 0.0 if blocked or running == 0 else running * link.rate.bits(t0, t_s)
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
            blocked = link.blocked_by_cloud and weather == "cloudy"
            self.log.log(self.env.now, "qkd", "key_pool_state", link=name, medium=link.medium, stock_bits=pool.stock_bits,
                         state=pool.state, qkd_link_rate_bps=0.0 if blocked else link.rate.rate_bps(self.env.now),
                         running_qkd_links=self._running[name], warning_bits=pool.warning_bits,
                         empty_bits=pool.empty_bits, capacity_bits=pool.capacity_bits)
