"""Why a QKD instance has no plan: the request, link and scenario to blame, for callers that want it.

The solver (:func:`twin.qkd.planner.solve_plan`) reports only its status; :func:`plan_with_diagnosis`
is what a caller uses to refuse a request no path joins before solving
(:func:`reachability_diagnosis`, Kaewpuang et al.'s per-request capacity and weather rules applied
to one request at a time) and to name the cause of an infeasible program (:func:`capacity_diagnosis`,
extra solves of single scenarios and growing request subsets).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import replace

from physical.wavelengths import KM_WAVELENGTHS_PER_LINK, QKD_WAVELENGTHS_PER_LINK, qkd_links_needed
from twin.qkd.instance import QkdInstance, Scenario
from twin.qkd.plan import STATUS_INFEASIBLE, PlanOptions, PlanResult
from twin.qkd.planner import solve_plan


def plan_with_diagnosis(instance: QkdInstance, options: PlanOptions | None = None) -> PlanResult:
    """:func:`solve_plan` of ``instance`` (every decision free) with the cause named when it has no plan.

    A request that cannot be served in some scenario even alone is refused before solving (status
    ``infeasible``, solve and build time 0); an infeasible program gets :func:`capacity_diagnosis`.
    """
    options = options or PlanOptions()
    reason = reachability_diagnosis(instance)
    if reason:
        return PlanResult(STATUS_INFEASIBLE, math.nan, math.nan, math.nan, {}, {}, 0.0,
                          reroute=options.reroute, diagnosis=reason)
    result = solve_plan(instance, options)
    if result.status == STATUS_INFEASIBLE:
        return replace(result, diagnosis=capacity_diagnosis(instance, options))
    return result


def _reachable(adjacency: dict[str, list[str]], src: str, dst: str) -> bool:
    """True if ``adjacency`` (node → neighbours) has a path from ``src`` to ``dst`` (breadth first)."""
    seen = {src}
    queue = deque([src])
    while queue:
        v = queue.popleft()
        if v == dst:
            return True
        for w in adjacency.get(v, ()):
            if w not in seen:
                seen.add(w)
                queue.append(w)
    return False


def reachability_diagnosis(instance: QkdInstance) -> str:
    """Why some request cannot be served in some scenario even alone, or "" if every one can.

    A request that no path joins even with every link up cannot be planned at all. A request that the
    scenario's weather cuts off (every path has a down link) is left unserved there (``PlanResult.unserved``),
    not diagnosed. Otherwise a request alone can use link l in scenario ω only if l is up under ω's
    weather and l's medium offers at least 3·P QKD wavelengths (reserved + on-demand capacity, P from
    l's key rate) and the KM wavelengths it needs (1, or P with ``km_per_qkd_link``).
    """
    every_link: dict[str, list[str]] = {}
    for link in instance.links:
        every_link.setdefault(link.a, []).append(link.b)
        every_link.setdefault(link.b, []).append(link.a)
    for req in instance.requests:
        if not _reachable(every_link, req.src, req.dst):
            return f"request {req.name!r} ({req.src} -> {req.dst}): no path joins its nodes even with every link up"
    km_rule = instance.planning.km_per_qkd_link
    for s in instance.scenarios:
        down = s.down_media()
        for req in instance.requests:
            up: dict[str, list[str]] = {}
            adjacency: dict[str, list[str]] = {}
            excluded = []
            for link in instance.links:
                medium = instance.media[link.medium]
                if link.medium in down:
                    excluded.append(f"{link.name} (down: {s.weather})")
                    continue
                up.setdefault(link.a, []).append(link.b)
                up.setdefault(link.b, []).append(link.a)
                p = qkd_links_needed(s.demand(req.name), instance.key_rate_bps(link))
                need_q = QKD_WAVELENGTHS_PER_LINK * p
                need_k = KM_WAVELENGTHS_PER_LINK * (p if km_rule else 1)
                if need_q > medium.capacity_qkd + medium.ondemand_capacity_qkd:
                    excluded.append(f"{link.name} (needs {need_q} QKD wavelengths, {link.medium} offers "
                                    f"{medium.capacity_qkd}+{medium.ondemand_capacity_qkd})")
                    continue
                if need_k > medium.capacity_km + medium.ondemand_capacity_km:
                    excluded.append(f"{link.name} (needs {need_k} KM wavelengths, {link.medium} offers "
                                    f"{medium.capacity_km}+{medium.ondemand_capacity_km})")
                    continue
                adjacency.setdefault(link.a, []).append(link.b)
                adjacency.setdefault(link.b, []).append(link.a)
            if not _reachable(up, req.src, req.dst):
                continue  # cut off by the weather: left unserved in this scenario
            if not _reachable(adjacency, req.src, req.dst):
                shown = ", ".join(excluded[:6]) + (f" and {len(excluded) - 6} more" if len(excluded) > 6 else "")
                return (f"request {req.name!r} ({req.src} -> {req.dst}) cannot be served in scenario {s.name!r} "
                        f"(weather {s.weather}, demand {s.demand(req.name):g} bit/s): no path over usable links"
                        + (f"; unusable: {shown}" if shown else ""))
    return ""


def capacity_diagnosis(instance: QkdInstance, options: PlanOptions) -> str:
    """Name the scenario, request and overloaded links that make an instance infeasible (extra solves)."""
    quick = PlanOptions(reroute=options.reroute, mip_rel_gap=1.0 - 1e-9, time_limit_s=options.time_limit_s,
                        threads=options.threads)
    for s in instance.scenarios:
        single = instance.with_scenarios((Scenario(s.name, 1.0, s.weather, s.demand_bps),))
        if solve_plan(single, quick).has_plan:
            continue
        served: list = []
        for req in instance.requests:
            subset = QkdInstance(instance.media, instance.planning, instance.nodes, instance.links,
                                 tuple(served) + (req,), single.scenarios, instance.source)
            if solve_plan(subset, quick).has_plan:
                served.append(req)
                continue
            media = {name: _unbounded(m) for name, m in instance.media.items()}
            relaxed = QkdInstance(media, instance.planning, instance.nodes, instance.links, subset.requests,
                                  single.scenarios, instance.source)
            plan = solve_plan(relaxed, quick)
            over = []
            if plan.has_plan:
                for l, link in enumerate(instance.links):
                    m = instance.media[link.medium]
                    nq, nk = plan.need_qkd[0, l], plan.need_km[0, l]
                    if nq > m.capacity_qkd + m.ondemand_capacity_qkd or nk > m.capacity_km + m.ondemand_capacity_km:
                        over.append(f"{link.name} (needs {nq:g} QKD / {nk:g} KM wavelengths, capacity "
                                    f"{m.capacity_qkd + m.ondemand_capacity_qkd} / {m.capacity_km + m.ondemand_capacity_km})")
            links = "; overloaded links on the cheapest routing: " + ", ".join(over) if over else ""
            others = ", ".join(repr(r.name) for r in served) or "none"
            return (f"scenario {s.name!r} (weather {s.weather}): request {req.name!r} ({req.src} -> {req.dst}, "
                    f"{s.demand(req.name):g} bit/s) cannot be served together with requests {others}: "
                    f"link capacities exceeded{links}")
    return ("every scenario can be served on its own, but no single first-stage route per request and "
            "reservation serves all scenarios together (capacity shared across scenarios)")


def _unbounded(medium):
    """The medium with practically unlimited on-demand capacity (for naming overloaded links)."""
    big = 10 ** 9
    return replace(medium, ondemand_capacity_qkd=big, ondemand_capacity_km=big)
