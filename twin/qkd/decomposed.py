"""Scenario-mode (exact) re-routing by decomposition: the free-backup relaxation bounds, its plans are evaluated exactly.

Lower bound: the free-backup relaxation (:mod:`twin.qkd.formulation`, ``free_backups``) — the
weather-mode model whose recourse route blocks are continuous flows of value 1 − h with z ≥ x − h,
so a hit request is carried nowhere in the scenarios that hit it (with two path inequalities that
tighten its LP, see there). A scenario-mode plan (x, R, z_ω) maps onto it at no higher
cost: max(0, x − h) ≤ z_ω arc by arc and the recourse cost Σ_ω p_ω Σ_l π_l(β·u + γ·o) is
nondecreasing in the needs. So its dual bound LB ≤ the scenario-mode optimum; it has one block per
weather pattern instead of one per scenario class (10 × 200 on NSFNET: ≈700 instead of ≈38k
integer columns).

Upper bound: the relaxation's best plan, cleaned to z = max(0, x − h). If no first-stage route
with a free block crosses a link that is down in a scenario where its request is served, every
such request keeps its route there and the plan's scenario-mode cost is its relaxation cost (UB,
exact); the relaxation's gap is then the proven gap against the scenario-mode optimum.
If some are hit, those requests get exact per-class recourse routes (``exact_requests``; still a
relaxation, a tighter one) and the relaxation is solved again; at worst every request that can be
hit is exact, which is the scenario-mode model (with the path inequalities).
Out of time with hit routes (``COMPLETION_SHARE`` of the limit is kept for this), the weather-mode
model (one backup per weather: its plans are scenario-mode plans) with the routes of the last
plan's requests not hit fixed gives the plan, an upper bound; the gap is then usually above target.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Final, Mapping, Sequence

import highspy
import numpy as np

from twin.qkd.extraction import extract_plan
from twin.qkd.fixings import apply_fixings
from twin.qkd.formulation import MilpModel, build_model
from twin.qkd.instance import QkdInstance
from twin.qkd.plan import (STATUS_FAILED, STATUS_INFEASIBLE, STATUS_OPTIMAL, STATUS_TIME_LIMIT, PlanOptions,
                           PlanResult, no_plan)
from twin.qkd.polish import clean_free_backups
from twin.qkd.solve import run_solver

ABS_GAP: Final = 1e-6  #: bounds this close (cost units) are equal (HiGHS's default mip_abs_gap)
COMPLETION_SHARE: Final = 0.25  #: share of the time limit kept for completing a plan whose routes are hit
INFEASIBLE: Final = (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible)


def solve_decomposed(instance: QkdInstance, options: PlanOptions,
                     fix_routes: Mapping[str, Sequence[str]] | None = None,
                     fix_reserved: Mapping[str, Mapping[str, int]] | None = None) -> PlanResult:
    """The scenario-mode plan of ``instance`` within ``options.mip_rel_gap`` of the scenario-mode
    optimum, proven by the relaxation's bound (module docstring); arguments as
    :func:`twin.qkd.planner.solve_plan`. ``size`` is the last relaxation's, plus ``relaxation_runs``,
    ``exact_requests`` (requests with exact recourse routes at the end) and ``exact_completions``
    (0, or 1 if the time ran out on a plan with hit routes and it was completed)."""
    t0 = time.perf_counter()
    fixed = bool(fix_routes or fix_reserved)

    def remaining() -> float:
        return max(options.time_limit_s - (time.perf_counter() - t0), 1e-3)

    def plan_of(m: MilpModel, values: np.ndarray) -> PlanResult:
        return extract_plan(m, instance, values, status=STATUS_TIME_LIMIT, mip_gap=math.nan, reroute="scenario",
                            solve_s=0.0, build_s=0.0, size={})

    exact: frozenset[int] = frozenset()
    lower, build_s, runs, last = -math.inf, 0.0, 0, None
    while True:
        t_build = time.perf_counter()
        master = build_model(instance, replace(options, reroute="weather"), free_backups=True, exact_requests=exact)
        apply_fixings(master, instance, fix_routes, fix_reserved)
        build_s += time.perf_counter() - t_build
        budget = max(remaining() - COMPLETION_SHARE * options.time_limit_s, 1e-3)
        out = run_solver(master, replace(options, time_limit_s=budget))
        runs += 1
        lower = max(lower, out.bound)
        size = {"columns": int(master.lp.num_col_), "rows": int(master.lp.num_row_),
                "integer_columns": int(master.integer.sum()), "nonzeros": master.n_nonzeros,
                "scenario_classes": len(master.classes.representative), "cut_rounds": out.rounds,
                "rows_with_cuts": out.rows, "relaxation_runs": runs, "exact_requests": len(exact),
                "exact_completions": 0}
        if out.values is None:
            if last is None:
                return no_plan(STATUS_INFEASIBLE if out.status in INFEASIBLE else STATUS_FAILED, fixed, "scenario",
                               time.perf_counter() - t0 - build_s, build_s, size)
            break  # out of time: complete the last plan
        values = clean_free_backups(master, out.values)
        hit = frozenset(f for f, _, h, _ in master.backups if values[h] > 0.5)
        last = plan_of(master, values)
        if not hit:
            break
        if time.perf_counter() - t0 >= options.time_limit_s - COMPLETION_SHARE * options.time_limit_s:
            break
        # no start from this plan: HiGHS completes a partial start by a sub-MIP whose dual bound its
        # callback reports, which is no bound on the full model
        exact |= hit
    best = last
    if out.values is None or hit:  # out of time on a plan that re-routes: the weather-mode model (a
        # restriction: its plans are scenario-mode plans) with the routes of the requests not hit fixed
        size["exact_completions"] = 1
        routes = {r.name: last.routes[r.name] for f, r in enumerate(instance.requests)
                  if last.routes[r.name] and f not in hit}
        complete = build_model(instance, replace(options, reroute="weather"))
        apply_fixings(complete, instance, {**routes, **(fix_routes or {})}, fix_reserved)
        done = run_solver(complete, replace(options, time_limit_s=remaining()))
        if done.values is None:
            return no_plan(STATUS_FAILED, fixed, "scenario", time.perf_counter() - t0 - build_s, build_s, size)
        best = plan_of(complete, done.values)
    closed = best.objective - lower <= max(options.mip_rel_gap * abs(best.objective), ABS_GAP)
    gap = max(best.objective - lower, 0.0) / max(abs(best.objective), 1e-9)
    return replace(best, status=STATUS_OPTIMAL if closed else STATUS_TIME_LIMIT, mip_gap=gap, size=size,
                   solve_s=time.perf_counter() - t0 - build_s, build_s=build_s)
