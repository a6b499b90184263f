"""The QKD planning pipeline for one instance: formulation → fixings → solve → extraction.

:func:`solve_plan` builds the two-stage stochastic MILP (:mod:`twin.qkd.formulation`), fixes what
the caller fixed (:mod:`twin.qkd.fixings`), runs HiGHS (:mod:`twin.qkd.solve`; the monolithic
scenario re-routing model warm-started from the weather-mode plan) and reads the plan back
(:mod:`twin.qkd.extraction`); scenario mode's default method is :mod:`twin.qkd.decomposed`. It does
not explain a missing plan beyond the solver's status: naming the request, link and scenario to
blame is the caller's choice (:mod:`twin.qkd.diagnosis`).
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Final, Mapping, Sequence

import highspy

from twin.qkd.extraction import extract_plan
from twin.qkd.fixings import apply_fixings, start_from_plan
from twin.qkd.formulation import build_model
from twin.qkd.instance import QkdInstance
from twin.qkd.decomposed import solve_decomposed
from twin.qkd.plan import (STATUS_FAILED, STATUS_INFEASIBLE, STATUS_OPTIMAL, STATUS_TIME_LIMIT, PlanOptions,
                           PlanResult, no_plan)
from twin.qkd.solve import run_solver, silent_highs

#: the note on a scenario-mode plan that is its weather-mode warm start
WARM_START_NOTE: Final = ("time limit reached in scenario mode: this is the weather-mode plan (one backup route per "
                          "weather), feasible for scenario re-routing; its objective is an upper bound")


def solve_plan(instance: QkdInstance, options: PlanOptions | None = None, *,
               fix_routes: Mapping[str, Sequence[str]] | None = None,
               fix_reserved: Mapping[str, Mapping[str, int]] | None = None) -> PlanResult:
    """Solve the two-stage QKD provisioning program (:mod:`twin.qkd.formulation`) with HiGHS.

    Args:
        instance: the validated instance.
        options: re-routing mode, MIP gap, time limit.
        fix_routes: request → node list; fixes those first-stage routes (used for EEV).
        fix_reserved: link name → {"qkd": n, "km": n}; fixes those reservations (for EEV and sweeps).

    A request no path joins even with every link up is not refused here (it is left unserved in
    every scenario): :func:`twin.qkd.diagnosis.plan_with_diagnosis` refuses it before solving.
    """
    options = options or PlanOptions()
    if options.reroute == "scenario" and options.scenario_method == "decomposed":
        return solve_decomposed(instance, options, fix_routes, fix_reserved)
    t_start = time.perf_counter()
    model = build_model(instance, options)
    apply_fixings(model, instance, fix_routes, fix_reserved)
    build_s = time.perf_counter() - t_start
    start = None
    has_recourse_blocks = any(model.route_block[key] is not model.x[key[0]] for key in model.route_block)
    if options.reroute == "scenario" and has_recourse_blocks:
        # warm start: the weather-mode plan is feasible here (one backup route per weather)
        warm = solve_plan(instance, replace(options, reroute="weather", time_limit_s=options.time_limit_s / 3),
                          fix_routes=fix_routes, fix_reserved=fix_reserved)
        if warm.has_plan:
            start = start_from_plan(model, instance, warm)
        options = replace(options, time_limit_s=max(options.time_limit_s - (time.perf_counter() - t_start), 1e-3))
    out = run_solver(model, options, start)
    solve_s = time.perf_counter() - t_start - build_s  # HiGHS runs, incl. a warm-start solve
    status = out.status
    size = {"columns": int(model.lp.num_col_), "rows": int(model.lp.num_row_),
            "integer_columns": int(model.integer.sum()), "nonzeros": model.n_nonzeros,
            "scenario_classes": len(model.classes.representative), "cut_rounds": out.rounds,
            "rows_with_cuts": out.rows}
    has_solution = out.values is not None
    if status == highspy.HighsModelStatus.kOptimal and has_solution and out.converged:
        label = STATUS_OPTIMAL
    elif has_solution and status in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit):
        label = STATUS_TIME_LIMIT
    elif status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        label = STATUS_INFEASIBLE
    else:
        label = STATUS_FAILED
    if label == STATUS_FAILED and start is not None:
        # out of time before any scenario-mode plan: the weather-mode plan is feasible here too
        return replace(warm, status=STATUS_TIME_LIMIT, reroute=options.reroute, mip_gap=math.nan, size=size,
                       solve_s=time.perf_counter() - t_start - build_s, build_s=build_s,
                       diagnosis=WARM_START_NOTE)
    if label in (STATUS_INFEASIBLE, STATUS_FAILED):
        reason = f"HiGHS stopped with status {silent_highs().modelStatusToString(status)} and no feasible plan"
        return no_plan(label, bool(fix_routes or fix_reserved), options.reroute, solve_s, build_s, size, reason)
    plan = extract_plan(model, instance, out.values, status=label, mip_gap=out.mip_gap, reroute=options.reroute,
                        solve_s=solve_s, build_s=build_s, size=size)
    if label == STATUS_TIME_LIMIT and start is not None and plan.objective >= warm.objective * (1 - 1e-9):
        plan = replace(plan, diagnosis=WARM_START_NOTE)  # the scenario-mode run found nothing better than its start
    return plan
