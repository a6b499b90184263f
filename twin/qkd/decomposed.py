"""Scenario-mode (exact) re-routing by decomposition: the free-backup relaxation bounds, its plans are evaluated exactly.

Lower bound: the free-backup relaxation (:mod:`twin.qkd.formulation`, ``free_backups``) — the
weather-mode model whose recourse route blocks are continuous flows of value 1 − h with z ≥ x − h,
so a hit request is carried nowhere in the scenarios that hit it (with two path inequalities that
tighten its LP, see there). A scenario-mode plan (x, R, z_ω) maps onto it at no higher
cost: max(0, x − h) ≤ z_ω arc by arc and the recourse cost Σ_ω p_ω Σ_l π_l(β·u + γ·o) is
nondecreasing in the needs. So its dual bound LB ≤ the scenario-mode optimum; it has one block per
weather pattern instead of one per scenario class (10 × 200 on NSFNET: ≈1k instead of ≈38k binaries).

Upper bound: the relaxation's best plan, cleaned to z = max(0, x − h). If no first-stage route
crosses a link that is down in a scenario where its request is served, every scenario keeps the
first-stage routes and the plan's scenario-mode cost is its relaxation cost (UB, exact). Otherwise
its routes are fixed and the scenario-mode MILP completes the plan (re-routes per scenario and
re-optimises the reservations): a feasible plan, UB = its cost.

Gap (UB − LB)/UB ≤ ``mip_rel_gap`` (or UB − LB ≤ ``ABS_GAP``) ⇒ optimal. If not (the relaxation's
optimum re-routes, and free re-routing made it look cheaper), the monolithic scenario-mode MILP runs
from the best plan for the remaining time; its dual bound and the relaxation's are both valid, the
larger counts. The reported ``mip_gap`` is that proven gap against the scenario-mode optimum.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Final, Mapping, Sequence

import highspy

from twin.qkd.extraction import extract_plan
from twin.qkd.fixings import apply_fixings, start_from_plan
from twin.qkd.formulation import MilpModel, build_model
from twin.qkd.instance import QkdInstance
from twin.qkd.plan import (STATUS_FAILED, STATUS_INFEASIBLE, STATUS_OPTIMAL, STATUS_TIME_LIMIT, PlanOptions,
                           PlanResult, no_plan)
from twin.qkd.polish import clean_free_backups
from twin.qkd.solve import Outcome, run_solver

ABS_GAP: Final = 1e-6  #: bounds this close (cost units) are equal (HiGHS's default mip_abs_gap)
INFEASIBLE: Final = (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible)


def solve_decomposed(instance: QkdInstance, options: PlanOptions,
                     fix_routes: Mapping[str, Sequence[str]] | None = None,
                     fix_reserved: Mapping[str, Mapping[str, int]] | None = None) -> PlanResult:
    """The scenario-mode plan of ``instance`` within ``options.mip_rel_gap`` of the scenario-mode
    optimum, proven by the free-backup relaxation's bound (module docstring); arguments as
    :func:`twin.qkd.planner.solve_plan`. ``size`` is the relaxation's, plus ``exact_completions``
    (scenario-mode MILPs with fixed routes) and ``monolithic_fallback`` (0 or 1)."""
    t0 = time.perf_counter()
    fixed = bool(fix_routes or fix_reserved)

    def remaining() -> float:
        return max(options.time_limit_s - (time.perf_counter() - t0), 1e-3)

    def model(free: bool) -> MilpModel:
        m = build_model(instance, replace(options, reroute="weather") if free else options, free_backups=free)
        apply_fixings(m, instance, fix_routes, fix_reserved)
        return m

    def plan_of(m: MilpModel, out: Outcome) -> PlanResult:
        return extract_plan(m, instance, out.values, status=STATUS_TIME_LIMIT, mip_gap=math.nan, reroute="scenario",
                            solve_s=0.0, build_s=0.0, size={})

    master = model(free=True)
    build_s = time.perf_counter() - t0
    out = run_solver(master, replace(options, time_limit_s=remaining()))
    lower = out.bound
    size = {"columns": int(master.lp.num_col_), "rows": int(master.lp.num_row_),
            "integer_columns": int(master.integer.sum()), "nonzeros": master.n_nonzeros,
            "scenario_classes": len(master.classes.representative), "cut_rounds": out.rounds,
            "rows_with_cuts": out.rows, "exact_completions": 0, "monolithic_fallback": 0}
    if out.values is None:
        return no_plan(STATUS_INFEASIBLE if out.status in INFEASIBLE else STATUS_FAILED, fixed, "scenario",
                       time.perf_counter() - t0 - build_s, build_s, size)
    values = clean_free_backups(master, out.values)
    best = plan_of(master, replace(out, values=values))
    if any(values[h] > 0.5 for _, _, h, _ in master.backups):  # some route is hit: re-route it exactly
        size["exact_completions"] += 1
        routes = {name: path for name, path in best.routes.items() if path}
        exact = build_model(instance, options)
        apply_fixings(exact, instance, {**routes, **(fix_routes or {})}, fix_reserved)
        done = run_solver(exact, replace(options, time_limit_s=remaining()))
        best = plan_of(exact, done) if done.values is not None else None

    def closed() -> bool:
        return best is not None and best.objective - lower <= max(options.mip_rel_gap * abs(best.objective), ABS_GAP)

    if not closed() and time.perf_counter() - t0 < options.time_limit_s:
        size["monolithic_fallback"] = 1
        mono = model(free=False)
        start = start_from_plan(mono, instance, best) if best is not None else None
        done = run_solver(mono, replace(options, time_limit_s=remaining()), start)
        lower = max(lower, done.bound)
        if done.values is not None:
            candidate = plan_of(mono, done)
            if best is None or candidate.objective < best.objective:
                best = candidate
        elif best is None:
            return no_plan(STATUS_INFEASIBLE if done.status in INFEASIBLE else STATUS_FAILED, fixed, "scenario",
                           time.perf_counter() - t0 - build_s, build_s, size)
    if best is None:
        return no_plan(STATUS_FAILED, fixed, "scenario", time.perf_counter() - t0 - build_s, build_s, size)
    gap = max(best.objective - lower, 0.0) / max(abs(best.objective), 1e-9)
    return replace(best, status=STATUS_OPTIMAL if closed() else STATUS_TIME_LIMIT, mip_gap=gap, size=size,
                   solve_s=time.perf_counter() - t0 - build_s, build_s=build_s)
