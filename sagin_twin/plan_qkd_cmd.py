"""``sagin-twin plan-qkd INSTANCE.toml``: QKD routing and wavelength reservation by two-stage stochastic programming.

The instance lists the media with Table I costs, the nodes, links, requests and weather/demand
scenarios; its format is documented field by field in docs/qkd-instances.md (examples:
scenarios/qkd/nsfnet.toml, scenarios/qkd/kaewpuang-small.toml). The plan minimises reservation cost
+ expected recourse cost (utilised reserved and on-demand wavelengths) with HiGHS; a cloudy scenario
takes satellite and UAV (optical) links down and re-routes the requests they carried; a request no
link still up can serve is left unserved in that scenario (listed). Exit status 0 with a plan, 1 if
the instance is infeasible (the diagnosis names the request, link and scenario) or the solver
failed, 2 for a bad file.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from common.errors import InputError
from sagin_twin.stdio import print_json
from twin.qkd.instance import QkdInstance
from twin.qkd.metrics import stochastic_metrics
from twin.qkd.diagnosis import plan_with_diagnosis
from twin.qkd.plan import DEFAULT_MIP_REL_GAP, DEFAULT_REROUTE, DEFAULT_TIME_LIMIT_S, REROUTE_MODES, PlanOptions


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("plan-qkd", help="plan QKD routes and wavelength reservations (two-stage SP)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("instance", type=Path, metavar="INSTANCE.toml", help="QKD planning instance")
    p.add_argument("--reroute", choices=REROUTE_MODES, default=DEFAULT_REROUTE,
                   help="recourse routes: one backup per weather pattern (weather, default, fast) or per "
                        "scenario (scenario, exact)")
    p.add_argument("--metrics", action="store_true", help="also compute VSS and EVPI (extra solves)")
    p.add_argument("--gap", type=float, default=DEFAULT_MIP_REL_GAP, metavar="G",
                   help=f"relative MIP gap (default {DEFAULT_MIP_REL_GAP:g})")
    p.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT_S, metavar="S",
                   help=f"solver time limit per solve (s, default {DEFAULT_TIME_LIMIT_S:g})")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.set_defaults(func=plan_qkd)


def _json_number(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def plan_qkd(args: argparse.Namespace) -> int:
    if not 0.0 <= args.gap < 1.0:
        raise InputError(f"must be in [0, 1), got {args.gap}", field="--gap")
    if not args.time_limit > 0:
        raise InputError(f"must be > 0 s, got {args.time_limit}", field="--time-limit")
    instance = QkdInstance.from_toml(args.instance)
    options = PlanOptions(reroute=args.reroute, mip_rel_gap=args.gap, time_limit_s=args.time_limit)
    result = plan_with_diagnosis(instance, options)
    metrics = stochastic_metrics(instance, options, rp=result) if args.metrics and result.has_plan else None
    if args.json:
        out = result.summary()
        if args.metrics:
            out["vss"] = _json_number(metrics.vss) if metrics else None
            out["evpi"] = _json_number(metrics.evpi) if metrics else None
        print_json(out)
        return 0 if result.has_plan else 1
    if not result.has_plan:
        print(f"status {result.status}: {result.diagnosis}")
        return 1
    print(f"status {result.status}  reroute {result.reroute}  gap {result.mip_gap:.2%}  "
          f"solve {result.solve_s * 1e3:.0f} ms  build {result.build_s * 1e3:.0f} ms")
    if result.diagnosis:
        print(f"note: {result.diagnosis}")
    print(f"objective {result.objective:,.0f} = reservation {result.first_stage_cost:,.0f} "
          f"+ expected recourse {result.expected_second_stage_cost:,.0f}")
    if metrics:
        print(f"VSS {metrics.vss:,.0f}  EVPI {metrics.evpi:,.0f}  (EEV {metrics.eev:,.0f}, WS {metrics.ws:,.0f})")
    print()
    print(f"{'request':<16}route")
    for name, path in result.routes.items():
        print(f"{name:<16}{' -> '.join(path) if path else '(none: unserved in every scenario)'}")
    print()
    print(f"{'link':<12}{'medium':<10}{'QKD':>5}{'KM':>5}")
    for link in instance.links:
        r = result.reserved.get(link.name)
        if r:
            print(f"{link.name:<12}{link.medium:<10}{r['qkd']:>5}{r['km']:>5}")
    rerouted = [(s, req, path) for s, routes in result.scenario_routes.items() for req, path in routes.items()
                if path and path != result.routes[req]]
    if rerouted:
        print()
        print("re-routed in scenarios:")
        for s, req, path in rerouted:
            print(f"  {s}: {req} via {' -> '.join(path)}")
    if result.unserved:
        print()
        print("unserved (the scenario's weather takes down every path; no key for them there):")
        for s, requests in result.unserved.items():
            print(f"  {s}: {', '.join(requests)}")
    return 0
