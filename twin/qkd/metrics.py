"""Value of the stochastic solution (VSS) and expected value of perfect information (EVPI).

Birge & Louveaux, "Introduction to Stochastic Programming", ch. 4:
- RP  = optimum of the recourse (stochastic) problem;
- EV problem: one scenario with the expected demand of every request and the most probable
  weather (ties → clear); its first stage (routes and reservations) is then fixed and the recourse
  problem solved over all scenarios: EEV; VSS = EEV − RP ≥ 0 (inf if the EV plan cannot serve some
  scenario);
- WS  = Σ_ω p_ω · optimum of scenario ω alone (wait-and-see); EVPI = RP − WS ≥ 0.
All solves use the same options (re-routing mode, MIP gap), so with a gap > 0 the metrics are
accurate to about that gap and may come out slightly negative.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from twin.qkd.instance import WEATHERS, QkdInstance, Scenario
from twin.qkd.diagnosis import plan_with_diagnosis
from twin.qkd.plan import PlanOptions, PlanResult
from twin.qkd.planner import solve_plan


@dataclass(frozen=True)
class StochasticMetrics:
    """RP, EEV, WS (cost units), VSS = EEV − RP and EVPI = RP − WS (cost units), and the wall time (s)."""

    rp: float
    eev: float
    ws: float
    vss: float
    evpi: float
    wall_s: float


def expected_value_scenario(instance: QkdInstance) -> Scenario:
    """The EV scenario: expected demand per request (bit/s) and the most probable weather (ties → clear)."""
    demand = {r.name: math.fsum(s.probability * s.demand(r.name) for s in instance.scenarios) for r in instance.requests}
    weight = {w: math.fsum(s.probability for s in instance.scenarios if s.weather == w) for w in WEATHERS}
    weather = max(WEATHERS, key=lambda w: (weight[w], -WEATHERS.index(w)))
    return Scenario("expected-value", 1.0, weather, demand)


def stochastic_metrics(instance: QkdInstance, options: PlanOptions | None = None,
                       rp: PlanResult | None = None) -> StochasticMetrics:
    """VSS and EVPI of ``instance`` (module docstring); ``rp`` re-uses an existing solve of the recourse problem."""
    options = options or PlanOptions()
    start = time.perf_counter()
    rp = rp if rp is not None else plan_with_diagnosis(instance, options)
    if not rp.has_plan:
        raise ValueError(f"the recourse problem has no plan ({rp.status}): {rp.diagnosis}")
    ev = plan_with_diagnosis(instance.with_scenarios((expected_value_scenario(instance),)), options)
    if ev.has_plan:
        reserved = {link.name: ev.reserved.get(link.name, {"qkd": 0, "km": 0}) for link in instance.links}
        eev_plan = solve_plan(instance, options, fix_routes=ev.routes, fix_reserved=reserved)
        eev = eev_plan.objective if eev_plan.has_plan else math.inf
    else:
        eev = math.inf
    ws = 0.0
    for s in instance.scenarios:
        alone = plan_with_diagnosis(instance.with_scenarios((Scenario(s.name, 1.0, s.weather, s.demand_bps),)), options)
        if not alone.has_plan:
            raise ValueError(f"scenario {s.name!r} alone has no plan: {alone.diagnosis}")
        ws += s.probability * alone.objective
    return StochasticMetrics(rp=rp.objective, eev=eev, ws=ws, vss=eev - rp.objective, evpi=rp.objective - ws,
                             wall_s=time.perf_counter() - start)
