"""Benchmark of the QKD provisioning MILP (run on demand: ``python bench/qkd_planning.py``; not a test).

On the NSFNET example (scenarios/qkd/nsfnet.toml: 14 ground nodes, 2 UAVs, 1 satellite, 27 links)
it draws R requests (random ground/UAV node pairs) and S scenarios (cloudy with probability 0.3,
demand per request log-uniform in [5, 150] kbit/s, equal probabilities) from a seeded numpy
Generator, and prints the model size, build and HiGHS solve time, status, gap and objective for
R ∈ {1, 5, 10} × S ∈ {10, 50, 200} and both re-routing modes (scenario mode: the default
decomposed method; ``--monolithic`` adds the monolithic scenario-mode MILP as a third row set).
Targets (2-core machine), one line each at the end, met / not met:
- weather mode (the default): 10 requests × 200 scenarios to a 1 % gap in ≤ 10 s;
- scenario mode (exact re-routing): 10 × 200 to a proven 1 % gap in ≤ 30 s.
Sizes of scenario-mode rows are the (last) free-backup relaxation's (:mod:`twin.qkd.decomposed`); the
``runs``/``ex`` columns count its relaxation runs and the requests given exact re-routing.
Figures: README "Planning speed".
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Final

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from twin.qkd.draws import DrawSpec, draw_instance  # noqa: E402
from twin.qkd.instance import QkdInstance  # noqa: E402
from twin.qkd.plan import REROUTE_MODES, SCENARIO_METHODS, PlanOptions  # noqa: E402
from twin.qkd.planner import solve_plan  # noqa: E402

REQUESTS: Final = (1, 5, 10)  #: request counts
SCENARIOS: Final = (10, 50, 200)  #: scenario counts
SEED: Final = 2024  #: generator seed
#: (mode, requests, scenarios, gap, seconds) of the issue's targets
TARGETS: Final = (("weather", 10, 200, 1e-2, 10.0), ("scenario", 10, 200, 1e-2, 30.0))


def random_instance(base: QkdInstance, n_requests: int, n_scenarios: int, seed: int = SEED) -> QkdInstance:
    """NSFNET with ``n_requests`` random requests and ``n_scenarios`` random equiprobable scenarios."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(n_requests, n_scenarios)))
    return draw_instance(base, DrawSpec(n_requests, n_scenarios), rng)


def scaled_satellite(base: QkdInstance, scale: float) -> QkdInstance:
    """``base`` with the satellite medium's component costs multiplied by ``scale``."""
    if scale == 1.0:
        return base
    sat = base.media["satellite"]
    cost = replace(sat.cost, **{k: v * scale for k, v in vars(sat.cost).items()})
    return replace(base, media={**base.media, "satellite": replace(sat, cost=cost)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, nargs="*", default=list(REQUESTS))
    parser.add_argument("--scenarios", type=int, nargs="*", default=list(SCENARIOS))
    parser.add_argument("--modes", nargs="*", default=list(REROUTE_MODES), choices=REROUTE_MODES)
    parser.add_argument("--monolithic", action="store_true", help="also the monolithic scenario-mode MILP")
    parser.add_argument("--satellite-cost-scale", type=float, default=1.0,
                        help="multiply the satellite's component costs (e.g. 0.1: routes use it, clouds re-route them)")
    parser.add_argument("--gap", type=float, default=1e-2)
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    base = scaled_satellite(QkdInstance.from_toml(ROOT / "scenarios" / "qkd" / "nsfnet.toml"), args.satellite_cost_scale)
    runs = [(mode, SCENARIO_METHODS[0]) for mode in args.modes]
    if args.monolithic and "scenario" in args.modes:
        runs.append(("scenario", "monolithic"))
    print(f"{'mode':<11}{'R':>3}{'S':>5}{'classes':>8}{'cols':>8}{'rows':>8}{'ints':>7}{'runs':>5}{'ex':>3}"
          f"{'build s':>9}{'solve s':>9}  {'status':<11}{'gap':>7}{'objective':>14}")
    done = {}
    for mode, method in runs:
        label = "monolithic" if method == "monolithic" else mode
        for n_req in args.requests:
            for n_sc in args.scenarios:
                inst = random_instance(base, n_req, n_sc)
                plan = solve_plan(inst, PlanOptions(reroute=mode, mip_rel_gap=args.gap, time_limit_s=args.time_limit,
                                                    scenario_method=method))
                z = plan.size
                print(f"{label:<11}{n_req:>3}{n_sc:>5}{z.get('scenario_classes', 0):>8}{z.get('columns', 0):>8}"
                      f"{z.get('rows', 0):>8}{z.get('integer_columns', 0):>7}{z.get('relaxation_runs', 0):>5}"
                      f"{z.get('exact_requests', 0):>3}{plan.build_s:>9.3f}{plan.solve_s:>9.3f}  "
                      f"{plan.status:<11}{plan.mip_gap:>7.2%}{plan.objective:>14,.0f}", flush=True)
                done[(label, n_req, n_sc)] = plan
    for mode, n_req, n_sc, gap, limit_s in TARGETS:
        plan = done.get((mode, n_req, n_sc))
        head = f"target ({mode} mode, {n_req} x {n_sc} to {gap:.0%} in <= {limit_s:g} s):"
        if plan is None:
            print(f"{head} not run")
            continue
        total_s = plan.build_s + plan.solve_s
        met = plan.status == "optimal" and plan.mip_gap <= gap and args.gap <= gap and total_s <= limit_s
        print(f"{head} {'MET' if met else 'NOT MET'} - {total_s:.2f} s (build {plan.build_s:.3f} s + solve "
              f"{plan.solve_s:.2f} s), gap {plan.mip_gap:.2%}, status {plan.status}")


if __name__ == "__main__":
    main()
