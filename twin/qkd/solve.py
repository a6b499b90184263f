"""HiGHS runs of a built QKD MILP: one MIP solve, or the cutting-plane loop of the lazy recourse.

The loop (:func:`run_solver`) follows Kelley rounds on the LP relaxation with MILP master rounds whose
improving solutions are polished (:mod:`twin.qkd.polish`) into upper bounds, and stops as soon as
HiGHS's dual bound proves the best polished plan within the requested gap. The outcome is column
values and solver facts; reading the plan from them is :mod:`twin.qkd.extraction`'s job.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Final

import highspy
import numpy as np

from common.native_output import native_stdout_to_stderr
from twin.qkd.formulation import MilpModel
from twin.qkd.plan import PlanOptions
from twin.qkd.polish import polish
from twin.qkd.recourse_cuts import Cut, add_cuts_to_highs

MAX_CUT_ROUNDS: Final = 200  #: at most this many cutting-plane rounds on the LP relaxation, and as many MILP rounds
LP_PHASE_SHARE: Final = 0.5  #: at most this share of the time limit goes to the LP cutting-plane rounds
LOOSE_ROUND_GAP: Final = 0.05  #: MIP gap of the first cutting-plane rounds, before the requested gap (–)
MIP_CUT_WINDOW: Final = 2  #: at a MIP master point, the breakpoint cuts within this many need levels of R are added


def silent_highs() -> highspy.Highs:
    """A HiGHS instance that prints nothing; the licence banner HiGHS prints at its first instance in a
    process goes to standard error, so standard output carries only what the command prints."""
    with native_stdout_to_stderr():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


def new_highs(options: PlanOptions, time_limit_s: float) -> highspy.Highs:
    """A silent HiGHS instance with the options' gap and threads and a time limit (s, at least 1 ms)."""
    h = silent_highs()
    h.setOptionValue("mip_rel_gap", float(options.mip_rel_gap))
    h.setOptionValue("time_limit", max(float(time_limit_s), 1e-3))
    if options.threads:
        h.setOptionValue("threads", int(options.threads))
    return h


@dataclass
class Outcome:
    """What a (cutting-plane) solve produced: HiGHS's last status, the best plan's column values, gap."""

    status: highspy.HighsModelStatus
    values: np.ndarray | None
    mip_gap: float
    converged: bool
    rounds: int
    solve_s: float
    rows: int
    bound: float = -math.inf  # a lower bound on the model's optimum (HiGHS's dual bound; −inf if none)


def run_solver(model: MilpModel, options: PlanOptions, start: dict[int, float] | None = None) -> Outcome:
    """Solve the MILP; with lazy recourse, a cutting-plane loop (docstring of
    :class:`twin.qkd.recourse_cuts.LazyGroup`).

    Lazy loop: Kelley rounds on the LP relaxation first (cheap; they seed the MILP with cuts), then
    MILP rounds. Every improving master solution HiGHS finds (callback) is polished (``polish``:
    routes kept, reservations re-optimised per link, θ exact), so its true cost is an upper bound;
    HiGHS's dual bound on the relaxed master is a lower bound. A master run is interrupted as soon as
    its dual bound proves the best polished plan within ``mip_rel_gap`` (callback), and the loop
    stops then or when no cut is violated. Cuts at master points are the breakpoint cuts within
    ``MIP_CUT_WINDOW`` levels of the point's reservation. The best polished plan is handed to the
    next round as a start. ``start`` (column → value, every integer column) is a
    partial solution HiGHS completes and uses as its first incumbent.
    """
    t0 = time.perf_counter()
    h = new_highs(options, options.time_limit_s)
    h.passModel(model.lp)

    def set_start() -> None:
        if start:
            index = np.fromiter(start.keys(), dtype=np.int32)
            h.setSolution(int(index.size), index, np.fromiter(start.values(), dtype=float))

    if not model.lazy_groups:
        set_start()
        h.run()
        info = h.getInfo()
        values = np.asarray(h.getSolution().col_value) if info.primal_solution_status == 2 else None
        return Outcome(h.getModelStatus(), values, float(info.mip_gap), True, 0, time.perf_counter() - t0,
                       int(h.getNumRow()), _finite_bound(info.mip_dual_bound))

    def remaining() -> float:
        return max(options.time_limit_s - (time.perf_counter() - t0), 1e-3)

    def separate(values: np.ndarray, window: int | None = 0) -> list[Cut]:
        return [cut for group in model.lazy_groups for cut in group.separate(values, window)]

    rounds = 0
    relaxed = model.lp
    relaxed.integrality_ = [highspy.HighsVarType.kContinuous] * relaxed.num_col_
    lp = new_highs(options, options.time_limit_s)
    lp.passModel(relaxed)
    relaxed.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                            for i in model.integer]
    lp_deadline_s = LP_PHASE_SHARE * options.time_limit_s
    for _ in range(MAX_CUT_ROUNDS):
        if time.perf_counter() - t0 >= lp_deadline_s:
            break
        lp.setOptionValue("time_limit", max(lp_deadline_s - (time.perf_counter() - t0), 1e-3))
        lp.run()
        if lp.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        cuts = separate(np.asarray(lp.getSolution().col_value))
        if not cuts:
            break
        rounds += 1
        add_cuts_to_highs(lp, cuts)
        add_cuts_to_highs(h, cuts)
    # the master's incumbents are polished by ``polish``; RINS only adds time to every round here
    h.setOptionValue("mip_heuristic_run_rins", False)
    cost = np.asarray(model.lp.col_cost_)
    best_cost, best_values = math.inf, None
    lower = -math.inf
    found: list[np.ndarray] = []
    interrupted = False

    def close_enough() -> bool:
        return best_values is not None and best_cost - lower <= options.mip_rel_gap * max(abs(best_cost), 1e-9)

    def offer(raw: np.ndarray) -> None:
        """A master solution: keep it for separation; its polished plan may be the best so far."""
        nonlocal best_cost, best_values
        found.append(raw)
        values = polish(model, raw)
        if values is not None:
            true_cost = float(cost @ values)
            if true_cost < best_cost:
                best_cost, best_values = true_cost, values

    def on_solution(e) -> None:
        offer(np.array(e.data_out.mip_solution, dtype=float))

    def on_interrupt(e) -> None:
        nonlocal lower, interrupted
        bound = float(e.data_out.mip_dual_bound)
        if math.isfinite(bound) and bound > lower:
            lower = bound
        if close_enough():  # the master's bound already proves the best polished plan
            interrupted = True
            e.interrupt()

    h.cbMipImprovingSolution.subscribe(on_solution)
    h.cbMipInterrupt.subscribe(on_interrupt)
    set_start()
    converged = False
    loose = LOOSE_ROUND_GAP > options.mip_rel_gap and not start  # first rounds only harvest cuts: a looser gap is enough
    for _ in range(MAX_CUT_ROUNDS):
        h.setOptionValue("time_limit", remaining())
        h.setOptionValue("mip_rel_gap", LOOSE_ROUND_GAP if loose else float(options.mip_rel_gap))
        found.clear()
        interrupted = False
        h.run()
        rounds += 1
        info = h.getInfo()
        if interrupted:
            converged = True
            break
        if info.primal_solution_status != 2:
            break
        lower = max(lower, float(info.mip_dual_bound))
        if not found:
            offer(np.asarray(h.getSolution().col_value))
        cuts = []
        for raw in found:
            cuts += separate(raw, MIP_CUT_WINDOW)
        if close_enough():
            converged = True
            break
        if not cuts:
            if not loose:
                converged = True
                break
            loose = False  # the loose master is exact at its incumbent: tighten the gap and go on
        if time.perf_counter() - t0 >= options.time_limit_s:
            break
        if cuts:
            add_cuts_to_highs(h, cuts)
        if best_values is not None and not loose:  # a start would end a loose round at once
            start = highspy.HighsSolution()
            start.col_value = best_values.tolist()
            start.value_valid = True
            h.setSolution(start)
    gap = (best_cost - lower) / max(abs(best_cost), 1e-9) if best_values is not None else math.nan
    status = highspy.HighsModelStatus.kOptimal if converged else h.getModelStatus()
    if best_values is None and status == highspy.HighsModelStatus.kOptimal:
        status = highspy.HighsModelStatus.kTimeLimit  # cut loop ended without a capacity-feasible plan
    return Outcome(status, best_values, max(gap, 0.0), converged, rounds, time.perf_counter() - t0,
                   int(h.getNumRow()), lower)


def _finite_bound(bound: float) -> float:
    """HiGHS's dual bound, −inf when it has none (it reports ±inf or nan then)."""
    return float(bound) if math.isfinite(bound) else -math.inf
