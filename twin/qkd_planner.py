"""The core-cloud twin's QKD planner: re-plans reservations and routes, pushes plans to the network.

Triggers are checked at k·``check_period_s`` + ``check_offset_s`` once the QKD network has reported: ``initial``
(no plan yet), ``epoch`` (``planning_period_s`` since the last plan), ``weather`` (the observed
weather pattern differs from the one the last plan was made in, i.e. the forecast changed; the
weather is the core-cloud twin's one weather view — the site's weather station, reported through the
ground twin — and the pattern follows the one cloud rule, ``physical.weather.sky_pattern``) and
``demand`` (an observed request rate left the planned scenarios' range widened by
``demand_replan_factor``); forecast and demand triggers wait ``min_replan_interval_s`` after a plan.

A plan solves the two-stage program (:mod:`twin.qkd.planner`, with :mod:`twin.qkd.diagnosis`) on the twin's forecast
(:mod:`twin.qkd.forecast`), with every link's key rate per QKD link for the epoch from the physics
(``QkdForecaster.link_rates_bps``); a request the forecast weather cuts off is left unserved there. A solver exception, an infeasible or failed plan never stops the run:
the twin keeps the previous plan, or, before any plan exists, sends shortest-path routes with no
reservation (everything on demand); the ``qkd_plan`` row says which. Wall times go to timings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping

import networkx as nx
import numpy as np
from physical.reports import KeyPoolReport, QkdPlanCommand, WeatherReport
from physical.weather import DEFAULT_CLOUD_BLOCK_FRACTION, sky_pattern
from twin.messages import EdgeView
from twin.core import Attempt, Outgoing, WeatherView
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


#: the fallback decision before any plan exists: shortest routes, nothing reserved
SHORTEST_PATH = "shortest_path"


class QkdPlanner:
    """The QKD planner of the core-cloud twin (module docstring; hosted by :class:`twin.core.CoreCloudTwin`).

    Args:
        network: the QKD network (its scenarios are replaced by the forecast's).
        policy: triggers and solver options. forecaster: the twin's forecast models.
        weather: the core-cloud twin's weather view (:attr:`twin.core.CoreCloudTwin.weather`).
        rng: the forecast's seeded generator. log: the event logger.
    """

    name = "qkd"
    row_kind = "qkd_plan"
    compute_delay_s = 0.0  #: the plan leaves at once
    budget_s = 0.0  #: the MILP's own time limit (``PlanOptions.time_limit_s``) bounds a plan

    def __init__(self, network: QkdInstance, policy: QkdPlanningPolicy, forecaster: QkdForecaster,
                 weather: WeatherView, rng: np.random.Generator, log) -> None:
        self.network = network
        self.policy = policy
        self.check_period_s = policy.check_period_s
        self.check_offset_s = policy.check_offset_s
        self.forecaster = forecaster
        self.weather_view = weather
        self.rng = rng
        self.log = log
        self.report: KeyPoolReport | None = None
        self.plans = 0
        self._now_s = 0.0
        self._has_plan = False
        self._last_plan_s: float | None = None
        self._planned_pattern: str | None = None
        self._planned_range: dict[str, tuple[float, float]] = {}
        self._observed_bps: dict[str, float] = {}
        self._medium_between = {frozenset((l.a, l.b)): l.medium for l in network.links}

    # -- view ------------------------------------------------------------------------------------
    def observe(self, view: EdgeView, now_s: float) -> None:
        """Take in the QKD network's pool report (the newer measurement wins); the host keeps the weather."""
        report = view.report
        if not isinstance(report, KeyPoolReport):
            return
        if self.report is None or report.measured_at_s > self.report.measured_at_s:
            self.report = report
            self._observed_bps.update(report.demand_bps)

    def weather(self) -> WeatherReport | None:
        """The latest weather report in the core-cloud twin's view (None before any)."""
        return self.weather_view.latest

    def _pattern(self, weather: WeatherReport | None = None) -> str:
        weather = weather if weather is not None else self.weather()
        return sky_pattern(weather.cloud_cover, self.policy.cloud_block_fraction) if weather is not None else "clear"

    # -- triggers --------------------------------------------------------------------------------
    def due(self, now_s: float) -> str | None:
        """The reason to re-plan now, or None (also before the network's first report)."""
        self._now_s = now_s
        if self.report is None:
            return None
        return self.trigger()

    def trigger(self) -> str | None:
        """The reason to re-plan now, or None."""
        if self._last_plan_s is None:
            return "initial"
        since = self._now_s - self._last_plan_s
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

    def forecast_means_bps(self) -> dict[str, float]:
        """The forecast's mean demand per request (bit/s): the last observed rate, else the configured mean."""
        return {name: self._observed_bps.get(name, mean) for name, mean in self.forecaster.mean_demand_bps.items()}

    # -- deciding --------------------------------------------------------------------------------
    def inputs(self, now_s: float, trigger: str) -> dict[str, object]:
        """The planning instance: the forecast of the next epoch from the reported weather and demand."""
        self._now_s = now_s
        plan_id = self.plans
        self.plans += 1
        weather = self.weather()
        oldest_s = min(self.report.measured_at_s, weather.measured_at_s if weather is not None else now_s)
        epoch = self.policy.planning_period_s
        p_clear = self.forecaster.clear_probability(weather, epoch)
        means = self.forecast_means_bps()
        scenarios = planning_scenarios(p_clear, means, self.policy.demand_cv, self.policy.forecast_samples, self.rng)
        rates = self.forecaster.link_rates_bps(now_s, now_s + epoch)
        return {"plan_id": plan_id, "oldest_s": oldest_s, "pattern": self._pattern(weather), "p_clear": p_clear,
                "instance": planning_instance(self.network, scenarios, rates)}

    def decide(self, inputs: dict[str, object]) -> Attempt:
        """Solve the two-stage program on the instance (diagnosing an infeasible one)."""
        result = plan_with_diagnosis(inputs["instance"], self.policy.options)
        return Attempt(result.status, result.diagnosis, result)

    def usable(self, attempt: Attempt, status: str) -> bool:
        return attempt.result is not None and attempt.result.has_plan

    def has_decision_to_keep(self) -> bool:
        """Any plan is in force (the shortest-path fallback included)."""
        return self._has_plan

    def fallback(self, attempt: Attempt) -> tuple[object, str]:
        """Shortest routes with nothing reserved (:meth:`_shortest_path_command`)."""
        return SHORTEST_PATH, "shortest_path"

    def forecast_fields(self, trigger: str, status: str, fallback: str, inputs: dict[str, object]) -> dict[str, object]:
        """The ``qkd_plan`` row's fields that describe the decision's trigger and its forecast (whoever decides);
        the row goes on with ``unserved_scenarios`` and ``oldest_input_age_s``."""
        instance = inputs["instance"]
        satellite_rates = [instance.key_rate_bps(l) for l in instance.links if l.medium == "satellite"]
        return {
            "plan_id": inputs["plan_id"], "trigger": trigger, "status": status, "fallback": fallback,
            "weather": inputs["pattern"], "p_clear": inputs["p_clear"], "scenarios": len(instance.scenarios),
            "satellite_key_rate_bps": min(satellite_rates, default=0.0), "satellite_offered": bool(satellite_rates),
            "satellite_links_offered": len(satellite_rates), "links_offered": len(instance.links),
        }

    def record(self, now_s: float, trigger: str, attempt: Attempt, status: str, fallback: str,
               decision: object | None) -> tuple[dict[str, object], dict[str, float]]:
        """The ``qkd_plan`` row: the forecast, the solve, its costs and reservations."""
        inputs, result = attempt.inputs, attempt.result
        ok = self.usable(attempt, status)
        fields = {
            **self.forecast_fields(trigger, status, fallback, inputs),
            "unserved_scenarios": len(result.unserved) if ok else 0,
            "oldest_input_age_s": now_s - inputs["oldest_s"],
            "objective": result.objective if ok else math.nan,
            "first_stage_cost": result.first_stage_cost if ok else math.nan,
            "expected_second_stage_cost": result.expected_second_stage_cost if ok else math.nan,
            "reserved_qkd": sum(r["qkd"] for r in result.reserved.values()) if ok else 0,
            "reserved_km": sum(r["km"] for r in result.reserved.values()) if ok else 0,
            "message": attempt.message,
        }
        return fields, {"solve_s": result.solve_s if result is not None else 0.0,
                        "build_s": result.build_s if result is not None else 0.0}

    def adopt(self, now_s: float, attempt: Attempt, decision: object | None) -> list[Outgoing]:
        """Put the plan (or the shortest-path fallback) in force; log its routes and reservations."""
        inputs = attempt.inputs
        instance, plan_id = inputs["instance"], inputs["plan_id"]
        self._last_plan_s = now_s
        self._planned_pattern = inputs["pattern"]
        if decision is None:
            return []
        command = self.command_for(decision, inputs, now_s)
        self._has_plan = True  # a plan (possibly the fallback) is in force from now on
        self._planned_range = {
            name: (min(s.demand(name) for s in instance.scenarios), max(s.demand(name) for s in instance.scenarios))
            for name in self.forecaster.mean_demand_bps}
        for pattern, routes in command.routes.items():
            for name, route in routes.items():
                if not route:
                    continue  # left unserved in this weather
                self.log.log(now_s, "core", "qkd_route", plan_id=plan_id, request=name, weather=pattern,
                             route=">".join(route), hops=len(route) - 1,
                             via_satellite=any(n.kind == "satellite" for n in self.network.nodes if n.name in route))
        for link in self.network.links:
            q, k = command.reserved_qkd.get(link.name, 0), command.reserved_km.get(link.name, 0)
            if q or k:
                self.log.log(now_s, "core", "qkd_reserved", plan_id=plan_id, link=link.name, medium=link.medium, qkd=q, km=k,
                             key_rate_bps=command.key_rate_bps[link.name])
        return [Outgoing("qkd", command)]

    def command_for(self, decision: object, inputs: dict[str, object], now_s: float) -> QkdPlanCommand:
        """The plan command of a decision: the program's :class:`PlanResult`, or the shortest-path fallback."""
        instance, plan_id, oldest_s = inputs["instance"], inputs["plan_id"], inputs["oldest_s"]
        if decision is SHORTEST_PATH:
            return self._shortest_path_command(plan_id, instance, now_s, oldest_s)
        return self._command(plan_id, instance, decision, now_s, oldest_s)

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
