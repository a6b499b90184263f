"""The core-cloud twin's QKD planner: re-plans reservations and routes, pushes plans to the network.

Triggers are checked at k·``check_period_s`` + ``check_offset_s`` once the QKD network has reported: ``initial``
(no plan yet), ``epoch`` (``planning_period_s`` since the last plan), ``weather`` (the observed
weather pattern differs from the one the last plan was made in, i.e. the forecast changed; the
weather is the site's report the QKD network forwards with its pools, and the pattern follows the
one cloud rule, ``physical.weather.sky_pattern``) and
``demand`` (an observed request rate left the planned scenarios' range widened by
``demand_replan_factor``); forecast and demand triggers wait ``min_replan_interval_s`` after a plan.

A plan solves the two-stage program (:mod:`twin.qkd.planner`) on the twin's forecast
(:mod:`twin.qkd.forecast`), with every link's key rate per QKD link for the epoch from the physics
(``QkdForecaster.link_rates_bps``); a request the forecast weather cuts off is left unserved there. A solver exception, an infeasible or failed plan never stops the run:
the twin keeps the previous plan, or, before any plan exists, sends shortest-path routes with no
reservation (everything on demand); the ``qkd_plan`` row says which. Wall times go to timings.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Mapping

import networkx as nx
import numpy as np
import simpy

from physical.reports import KeyPoolReport, QkdPlanCommand, WeatherReport
from physical.weather import DEFAULT_CLOUD_BLOCK_FRACTION, sky_pattern
from twin.messages import EdgeView
from twin.qkd.diagnosis import plan_with_diagnosis
from twin.qkd.forecast import planning_instance, planning_scenarios
from twin.qkd.instance import DOWN_MEDIA, WEATHERS, QkdInstance
from twin.qkd.plan import PlanOptions, PlanResult
from twin.qkd.pricing import km_wavelength_price, qkd_wavelength_price


@dataclass(frozen=True)
class QkdPlanningPolicy:
    """When and how the twin plans (fields of the scenario's ``[qkd]`` table, in s where timed)."""

    planning_period_s: float
    min_replan_interval_s: float
    replan_on_weather_change: bool
    demand_replan_factor: float
    check_period_s: float
    check_offset_s: float
    forecast_samples: int
    demand_cv: float
    options: PlanOptions
    cloud_block_fraction: float = DEFAULT_CLOUD_BLOCK_FRACTION


@dataclass(frozen=True)
class QkdForecaster:
    """The twin's models: clear-sky probability over an epoch from the observed weather (None before any
    report), the mean demand before any observation (bit/s), and every link's clear-sky key rate per
    QKD link over an epoch [t0, t1] (s) (link name → bit/s; satellite links: the epoch average from the orbit)."""

    clear_probability: Callable[[WeatherReport | None, float], float]
    mean_demand_bps: Mapping[str, float]
    link_rates_bps: Callable[[float, float], Mapping[str, float]]


def _freshness(report: KeyPoolReport) -> tuple[float, float]:
    """Order of reports: by measurement time, then by the time of the weather they carry (a change of
    sky is reported at once, at the same instant as a periodic report)."""
    return report.measured_at_s, report.weather.measured_at_s if report.weather is not None else -math.inf


class QkdCoreTwin:
    """The QKD planner of the core-cloud twin (module docstring).

    Args:
        env: the SimPy environment. inbox: store of :class:`EdgeView` carrying :class:`KeyPoolReport`.
        downlink: decision link to the QKD network (anything with ``put``).
        network: the QKD network (its scenarios are replaced by the forecast's).
        policy: triggers and solver options. forecaster: the twin's forecast models.
        rng: the forecast's seeded generator. log: the event logger.
    """

    def __init__(self, env: simpy.Environment, inbox: simpy.Store, downlink, network: QkdInstance,
                 policy: QkdPlanningPolicy, forecaster: QkdForecaster, rng: np.random.Generator, log) -> None:
        self.env = env
        self.inbox = inbox
        self.downlink = downlink
        self.network = network
        self.policy = policy
        self.forecaster = forecaster
        self.rng = rng
        self.log = log
        self.report: KeyPoolReport | None = None
        self.plans = 0
        self._has_plan = False
        self._last_plan_s: float | None = None
        self._planned_pattern: str | None = None
        self._planned_range: dict[str, tuple[float, float]] = {}
        self._observed_bps: dict[str, float] = {}
        self._medium_between = {frozenset((l.a, l.b)): l.medium for l in network.links}
        env.process(self._receive())
        env.process(self._check())

    # -- view ------------------------------------------------------------------------------------
    def _receive(self):
        while True:
            view: EdgeView = yield self.inbox.get()
            report = view.report
            if self.report is None or _freshness(report) > _freshness(self.report):
                self.report = report
                self._observed_bps.update(report.demand_bps)

    def weather(self) -> WeatherReport | None:
        """The latest weather the QKD network reported (None before any)."""
        return self.report.weather if self.report is not None else None

    def _pattern(self, weather: WeatherReport | None = None) -> str:
        weather = weather if weather is not None else self.weather()
        return sky_pattern(weather.cloud_cover, self.policy.cloud_block_fraction) if weather is not None else "clear"

    # -- triggers --------------------------------------------------------------------------------
    def trigger(self) -> str | None:
        """The reason to re-plan now, or None."""
        if self._last_plan_s is None:
            return "initial"
        since = self.env.now - self._last_plan_s
        if since >= self.policy.planning_period_s - 1e-9:
            return "epoch"
        if since < self.policy.min_replan_interval_s - 1e-9:
            return None
        if self.policy.replan_on_weather_change and self._pattern() != self._planned_pattern:
            return "weather"
        factor = self.policy.demand_replan_factor
        for name, rate in self._observed_bps.items():
            low, high = self._planned_range.get(name, (0.0, 0.0))
            if rate > high * factor + 1e-9 or rate < low / factor - 1e-9:
                return "demand"
        return None

    def _check(self):
        k = 0
        while True:
            yield self.env.timeout(k * self.policy.check_period_s + self.policy.check_offset_s - self.env.now)
            k += 1
            if self.report is None:
                continue
            trigger = self.trigger()
            if trigger is not None:
                self._plan(trigger)

    # -- planning --------------------------------------------------------------------------------
    def _forecast(self, weather: WeatherReport | None) -> tuple[QkdInstance, float]:
        now, epoch = self.env.now, self.policy.planning_period_s
        p_clear = self.forecaster.clear_probability(weather, epoch)
        means = {name: self._observed_bps.get(name, mean) for name, mean in self.forecaster.mean_demand_bps.items()}
        scenarios = planning_scenarios(p_clear, means, self.policy.demand_cv, self.policy.forecast_samples, self.rng)
        rates = self.forecaster.link_rates_bps(now, now + epoch)
        return planning_instance(self.network, scenarios, rates), p_clear

    def _plan(self, trigger: str) -> None:
        now = self.env.now
        plan_id = self.plans
        self.plans += 1
        weather = self.weather()
        oldest_s = min(self.report.measured_at_s, weather.measured_at_s if weather is not None else now)
        pattern = self._pattern(weather)
        instance, p_clear = self._forecast(weather)
        satellite_rates = [instance.key_rate_bps(l) for l in instance.links if l.medium == "satellite"]
        started = time.perf_counter()
        try:
            result = plan_with_diagnosis(instance, self.policy.options)
            error = result.diagnosis
        except Exception as exc:  # a solver crash must never lose the run; logged below
            result, error = None, f"{type(exc).__name__}: {exc}"
        wall_s = time.perf_counter() - started
        ok = result is not None and result.has_plan
        fallback = "none" if ok else ("keep_previous" if self._has_plan else "shortest_path")
        status = result.status if result is not None else "failed"
        fields = {
            "plan_id": plan_id, "trigger": trigger, "status": status, "fallback": fallback,
            "weather": pattern, "p_clear": p_clear, "scenarios": len(instance.scenarios),
            "satellite_key_rate_bps": min(satellite_rates, default=0.0), "satellite_offered": bool(satellite_rates),
            "satellite_links_offered": len(satellite_rates),
            "links_offered": len(instance.links), "unserved_scenarios": len(result.unserved) if ok else 0,
            "oldest_input_age_s": now - oldest_s,
            "objective": result.objective if ok else math.nan,
            "first_stage_cost": result.first_stage_cost if ok else math.nan,
            "expected_second_stage_cost": result.expected_second_stage_cost if ok else math.nan,
            "reserved_qkd": sum(r["qkd"] for r in result.reserved.values()) if ok else 0,
            "reserved_km": sum(r["km"] for r in result.reserved.values()) if ok else 0,
            "message": error,
        }
        seq = self.log.log(now, "core", "qkd_plan", **fields)
        self.log.timing(seq, wall_s=wall_s, solve_s=result.solve_s if result is not None else 0.0,
                        build_s=result.build_s if result is not None else 0.0)
        self._last_plan_s = now
        self._planned_pattern = pattern
        if ok:
            command = self._command(plan_id, instance, result, now, oldest_s)
        elif not self._has_plan:
            command = self._shortest_path_command(plan_id, instance, now, oldest_s)
        else:
            return
        self._has_plan = True  # a plan (possibly the fallback) is in force from now on
        self._planned_range = {
            name: (min(s.demand(name) for s in instance.scenarios), max(s.demand(name) for s in instance.scenarios))
            for name in self.forecaster.mean_demand_bps}
        for pattern, routes in command.routes.items():
            for name, route in routes.items():
                if not route:
                    continue  # left unserved in this weather
                self.log.log(now, "core", "qkd_route", plan_id=plan_id, request=name, weather=pattern,
                             route=">".join(route), hops=len(route) - 1,
                             via_satellite=any(n.kind == "satellite" for n in self.network.nodes if n.name in route))
        for link in self.network.links:
            q, k = command.reserved_qkd.get(link.name, 0), command.reserved_km.get(link.name, 0)
            if q or k:
                self.log.log(now, "core", "qkd_reserved", plan_id=plan_id, link=link.name, medium=link.medium, qkd=q, km=k,
                             key_rate_bps=command.key_rate_bps[link.name])
        self.downlink.put(command)

    def _routes_by_pattern(self, instance: QkdInstance, result: PlanResult) -> dict[str, dict[str, tuple[str, ...]]]:
        """Per weather pattern, the routes of the plan's first scenario of that pattern; for a
        pattern without scenarios, the first-stage routes that avoid its down links."""
        routes: dict[str, dict[str, tuple[str, ...]]] = {}
        for pattern in WEATHERS:
            scenario = next((s for s in instance.scenarios if s.weather == pattern), None)
            if scenario is not None:
                routes[pattern] = {name: tuple(r) for name, r in result.scenario_routes[scenario.name].items() if r}
            else:
                routes[pattern] = {name: tuple(r) for name, r in result.routes.items() if r and self._avoids_down(r, pattern)}
        return routes

    def _avoids_down(self, route, pattern: str) -> bool:
        return all(self._medium_between[frozenset(pair)] not in DOWN_MEDIA[pattern] for pair in zip(route[:-1], route[1:]))

    def _command(self, plan_id: int, instance: QkdInstance, result: PlanResult, now: float, oldest_s: float,
                 routes: dict | None = None) -> QkdPlanCommand:
        network = self.network
        return QkdPlanCommand(
            plan_id=plan_id,
            routes=routes if routes is not None else self._routes_by_pattern(instance, result),
            reserved_qkd={name: r["qkd"] for name, r in result.reserved.items()} if result is not None else {},
            reserved_km={name: r["km"] for name, r in result.reserved.items()} if result is not None else {},
            key_rate_bps={l.name: instance.key_rate_bps(l) for l in instance.links},
            ondemand_capacity_qkd={l.name: network.media[l.medium].ondemand_capacity_qkd for l in network.links},
            ondemand_capacity_km={l.name: network.media[l.medium].ondemand_capacity_km for l in network.links},
            price_qkd={l.name: qkd_wavelength_price(l, network.media[l.medium]) for l in network.links},
            price_km={l.name: km_wavelength_price(l, network.media[l.medium]) for l in network.links},
            ondemand_factor=network.planning.ondemand_factor,
            utilisation_factor=network.planning.utilisation_factor,
            epoch_s=self.policy.planning_period_s,
            first_stage_cost=result.first_stage_cost if result is not None else 0.0,
            decided_at_s=now,
            oldest_input_s=oldest_s,
            km_per_qkd_link=network.planning.km_per_qkd_link,
        )

    def _shortest_path_command(self, plan_id: int, instance: QkdInstance, now: float, oldest_s: float) -> QkdPlanCommand:
        """Fallback before any plan: shortest routes (by length) on the links up in each pattern, nothing reserved."""
        routes: dict[str, dict[str, tuple[str, ...]]] = {}
        for pattern in WEATHERS:
            graph = nx.Graph()
            graph.add_weighted_edges_from((l.a, l.b, l.length_km) for l in instance.links
                                          if l.medium not in DOWN_MEDIA[pattern])
            routes[pattern] = {}
            for request in instance.requests:
                try:
                    routes[pattern][request.name] = tuple(nx.shortest_path(graph, request.src, request.dst, weight="weight"))
                except (nx.NetworkXNoPath, nx.NodeNotFound):
                    continue
        return self._command(plan_id, instance, None, now, oldest_s, routes=routes)
