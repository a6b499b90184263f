"""Deterministic sweeps reproducing the trends of Kaewpuang et al.'s QKD provisioning figures.

Kaewpuang et al., "Resource Allocation in QKD for SAGIN" (shared/DESIGN.md section 2), solved by the
two-stage stochastic MILP of :mod:`twin.qkd.formulation` (public ``solve_plan`` and
``plan_with_diagnosis`` API only). Every solve is exact (``mip_rel_gap = 0``) unless the caller passes other options, so the curves are the optima
and not solver noise. The figure names follow the paper (Fig. 2a/2b: cost and wavelengths against
the reservation; Fig. 2b: wavelengths against the key-rate demand; Fig. 3d: price sensitivity); the
paper's exact axes and instance differ (its optimum is near 80 reserved wavelengths on NSFNET, ours
on ``kaewpuang-small.toml`` is 9).

Reservation sweep (``kaewpuang-fig2a``; ``kaewpuang-fig2a-deterministic`` runs it on
``kaewpuang-deterministic.toml``, one clear scenario with the expected demands, where the paper's V
appears: optimum at the need with zero second stage — with stochastic demand and on-demand at 2×
the price the optimum is the median need, the newsvendor rule):

1. Solve the free MILP (routes and reservations optimised) — the *free optimum*.
2. The *chosen route* is the free optimum's first-stage route of the instance's first request.
3. For each grid value q: fix every request's first-stage route to the free optimum's and fix the
   reserved QKD wavelengths on every link of the chosen route to q; everything else stays free
   (reserved KM wavelengths everywhere, reserved QKD wavelengths on the other links, second-stage
   recourse routes and wavelengths). Fixing all routes isolates the reservation decision (with
   free routes a large q could attract other requests onto the route and mix two effects);
   leaving the rest free makes each point the best plan with that reservation, so the grid
   minimum equals the free optimum when the free plan reserves the same number on every route
   link (true when, as in the shipped instance, the route carries one request over one medium).
4. The grid is 0, 3, 6, … (a QKD link takes 3 wavelengths, so every need and hence every
   breakpoint of the piecewise-linear cost is a multiple of 3) up to 1.25 × the largest need on
   the route, with the free optimum's values added, clipped at the media's QKD capacity.

Demand sweep (``kaewpuang-fig2b``, the paper's KM-saturation figure): the instance reduced to one
clear scenario (deterministic demand: the other requests at their expected demand), every route
fixed to the free optimum's, and the first request's demand swept from 0 to ``DEMAND_SWEEP_LINKS``
parallel QKD links' worth (K of its route); each point is solved with the paper's eq. 35 rule
(``km_per_qkd_link``: one KM wavelength per parallel QKD link) and with eq. 6 (one per request).
With deterministic demand every need up to the capacity is reserved, so on each route link the
reserved QKD wavelengths saturate at ``capacity_qkd`` (150: 50 QKD links, 50·K) and, with eq. 35,
the KM wavelengths at ``capacity_km`` (30: 30·K) — KM saturates first, as in the paper's Fig. 2b
(3 vs 5 kbit/s there, K = 100 bit/s); with eq. 6 one KM wavelength serves any demand. Beyond
saturation the rest is bought on demand (capacity 150 / 30 more); eq. 35 runs out of KM
wavelengths at 60·K.

Price sweep (``kaewpuang-fig3d``): every component cost of the fiber and UAV tables (Tx, Rx, LKM,
SI, MUX, channel per km) is multiplied by m; the satellite table is unchanged; each point is a free
solve. A request is "via the satellite" when its first-stage route uses a satellite link (in a
cloudy scenario it is re-routed on the ground).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Sequence

import numpy as np
import pandas as pd

import scenarios
from twin.qkd.instance import QkdInstance, Scenario
from twin.qkd.diagnosis import plan_with_diagnosis
from twin.qkd.plan import PlanOptions, PlanResult
from twin.qkd.planner import solve_plan
from twin.qkd.pricing import QKD_WAVELENGTHS_PER_LINK

DEFAULT_INSTANCE: Final = Path(scenarios.__file__).resolve().parent / "qkd" / "kaewpuang-small.toml"
#: the same network with deterministic demand (one clear scenario, the expected demands): the paper's V
DETERMINISTIC_INSTANCE: Final = Path(scenarios.__file__).resolve().parent / "qkd" / "kaewpuang-deterministic.toml"
DEMAND_SWEEP_LINKS: Final = 60  #: fig2b sweeps the demand up to this many parallel QKD links' worth (eq. 35 KM limit: 30 + 30)
DEMAND_SWEEP_STEP_LINKS: Final = 2  #: fig2b's demand step, in parallel QKD links' worth
OPTIONS: Final = PlanOptions(mip_rel_gap=0.0)  #: exact solves: the figures compare optima
PRICE_MULTIPLIERS: Final = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0)  #: fiber/UAV price multipliers (–)
SCALED_MEDIA: Final = ("fiber", "uav")  #: media whose Table I costs the price sweep multiplies
GRID_HEADROOM: Final = 1.5  #: the reservation grid reaches this × the largest need on the route
GRID_POINTS: Final = 16  #: at most about this many regular grid points (step grows in multiples of 3)
SATELLITE: Final = "satellite"
MILLION: Final = 1e6  #: costs are plotted in millions of cost units


@dataclass(frozen=True)
class FigureSpec:
    """One figure: ``study`` is ``reservation`` (Fig. 2a), ``demand`` (Fig. 2b) or ``price`` (Fig. 3d);
    ``plot`` picks the panel; ``instance`` is its default instance file."""

    name: str
    title: str
    study: str
    plot: str
    instance: Path = DEFAULT_INSTANCE


FIGURES: dict[str, FigureSpec] = {spec.name: spec for spec in (
    FigureSpec("kaewpuang-fig2a", "Cost vs reserved QKD wavelengths (stochastic demand)", "reservation", "cost"),
    FigureSpec("kaewpuang-fig2a-deterministic", "Cost vs reserved QKD wavelengths (deterministic demand)",
               "reservation", "cost", DETERMINISTIC_INSTANCE),
    FigureSpec("kaewpuang-fig2b", "Reserved wavelengths vs demand: with eq. 35 KM saturates first",
               "demand", "saturation"),
    FigureSpec("kaewpuang-fig3d", "Raising fiber and UAV prices moves requests onto the satellite", "price", "price"),
)}


@dataclass(frozen=True)
class Task:
    """One solve: ``kind`` is ``free`` (the free optimum), ``grid`` (reservation fixed to ``value``
    wavelengths on every ``route_links``), ``price`` (fiber/UAV costs × ``value``), or ``eq35`` /
    ``eq6`` (the first request's deterministic demand set to ``value`` bit/s, KM rule eq. 35 / eq. 6)."""

    figure: str
    kind: str
    value: float
    instance: QkdInstance
    options: PlanOptions
    request: str = ""
    route: tuple[str, ...] = ()
    route_links: tuple[str, ...] = ()
    fix_routes: tuple[tuple[str, tuple[str, ...]], ...] = ()


def load_instance(path: str | Path | None, spec: FigureSpec | None = None) -> QkdInstance:
    """The instance at ``path`` (default: the figure's, else the shipped small instance); bad files raise InputError."""
    return QkdInstance.from_toml(path if path is not None else (spec.instance if spec is not None else DEFAULT_INSTANCE))


def scale_prices(instance: QkdInstance, multiplier: float, media: Sequence[str] = SCALED_MEDIA) -> QkdInstance:
    """A copy of ``instance`` with every Table I cost of ``media`` multiplied by ``multiplier`` (–)."""
    scaled = {}
    for name, medium in instance.media.items():
        if name in media:
            cost = medium.cost
            factors = {f.name: getattr(cost, f.name) * multiplier for f in dataclasses.fields(cost)}
            medium = dataclasses.replace(medium, cost=dataclasses.replace(cost, **factors))
        scaled[name] = medium
    return dataclasses.replace(instance, media=scaled)


def route_link_names(instance: QkdInstance, route: Sequence[str]) -> tuple[str, ...]:
    """Link names (as in the instance) along a node list."""
    return tuple(instance.link_named(f"{u}-{v}").name for u, v in zip(route[:-1], route[1:]))


def reservation_grid(max_need: float, free_values: Sequence[int], capacity: int) -> list[int]:
    """0, s, 2s, … up to GRID_HEADROOM × ``max_need`` (s a multiple of 3) or the ``capacity``, plus ``free_values``."""
    step_unit = QKD_WAVELENGTHS_PER_LINK
    top = step_unit * math.ceil(max(GRID_HEADROOM * max_need, step_unit) / step_unit)
    step = step_unit * max(1, math.ceil(top / step_unit / GRID_POINTS))
    values = set(range(0, top + 1, step)) | {min(top, capacity)} | {int(v) for v in free_values}
    return sorted(v for v in values if 0 <= v <= capacity)


def free_solve(instance: QkdInstance, options: PlanOptions = OPTIONS) -> PlanResult:
    """The free MILP (every decision optimised), with the cause named if it has no plan."""
    return plan_with_diagnosis(instance, options)


def _first_request_route(instance: QkdInstance, free: PlanResult, label: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The first request, its route in the ``label`` plan ``free`` and the route's link names; the plan must exist."""
    if not free.has_plan:
        raise ValueError(f"the {label} plan has no solution ({free.status}): {free.diagnosis}")
    request = instance.requests[0].name
    route = tuple(free.routes[request])
    return request, route, route_link_names(instance, route)


def tasks(spec: FigureSpec, instance: QkdInstance, options: PlanOptions = OPTIONS,
          free: PlanResult | None = None) -> list[Task]:
    """Every solve of ``spec``. The reservation study needs the free optimum (``free``; solved here if
    not given) to choose the route and the grid; its own row comes from the ``free`` task."""
    if spec.study == "price":
        return [Task(spec.name, "price", float(m), instance, options) for m in PRICE_MULTIPLIERS]
    if spec.study == "demand":
        return demand_tasks(spec, instance, options, free)
    free = free if free is not None else free_solve(instance, options)
    request, route, links = _first_request_route(instance, free, "free")
    column = [free.link_names.index(name) for name in links]
    max_need = float(free.need_qkd[:, column].max())
    capacity = min(instance.media[instance.link_named(n).medium].capacity_qkd for n in links)
    free_values = [free.reserved.get(n, {}).get("qkd", 0) for n in links]
    fix_routes = tuple((name, tuple(path)) for name, path in free.routes.items())
    common = dict(instance=instance, options=options, request=request, route=route, route_links=links,
                  fix_routes=fix_routes)
    out = [Task(spec.name, "free", float(np.mean(free_values)), **common)]
    out += [Task(spec.name, "grid", float(q), **common) for q in reservation_grid(max_need, free_values, capacity)]
    return out


def deterministic_instance(instance: QkdInstance, demand_bps: dict[str, float] | None = None,
                           km_per_qkd_link: bool | None = None) -> QkdInstance:
    """``instance`` with one clear scenario: every request at its expected demand, or at ``demand_bps`` where given."""
    expected = {r.name: math.fsum(s.probability * s.demand(r.name) for s in instance.scenarios) for r in instance.requests}
    expected.update(demand_bps or {})
    planning = instance.planning if km_per_qkd_link is None else dataclasses.replace(instance.planning, km_per_qkd_link=km_per_qkd_link)
    return dataclasses.replace(instance, planning=planning, scenarios=(Scenario("deterministic", 1.0, "clear", expected),))


def demand_tasks(spec: FigureSpec, instance: QkdInstance, options: PlanOptions = OPTIONS,
                 free: PlanResult | None = None) -> list[Task]:
    """Fig. 2b: the first request's deterministic demand swept (module docstring), both KM rules, routes fixed."""
    base = deterministic_instance(instance)
    free = free if free is not None else free_solve(base, options)
    request, route, links = _first_request_route(instance, free, "deterministic")
    k = min(instance.key_rate_bps(instance.link_named(n)) for n in links)
    fix_routes = tuple((name, tuple(path)) for name, path in free.routes.items() if path)
    common = dict(instance=instance, options=options, request=request, route=route, route_links=links, fix_routes=fix_routes)
    values = [k * n for n in range(0, DEMAND_SWEEP_LINKS + 1, DEMAND_SWEEP_STEP_LINKS)]
    return [Task(spec.name, rule, float(v), **common) for rule in ("eq35", "eq6") for v in values]


def solve_task(task: Task) -> tuple[QkdInstance, PlanResult]:
    """The instance a task solves (prices scaled for ``price`` tasks) and its plan."""
    if task.kind in ("eq35", "eq6"):
        instance = deterministic_instance(task.instance, {task.request: task.value}, km_per_qkd_link=task.kind == "eq35")
        return instance, solve_plan(instance, task.options, fix_routes={r: list(p) for r, p in task.fix_routes})
    if task.kind == "price":
        instance = scale_prices(task.instance, task.value)
        return instance, plan_with_diagnosis(instance, task.options)
    if task.kind == "free":
        return task.instance, plan_with_diagnosis(task.instance, task.options)
    q = int(round(task.value))
    return task.instance, solve_plan(task.instance, task.options, fix_routes={r: list(p) for r, p in task.fix_routes},
                                     fix_reserved={name: {"qkd": q} for name in task.route_links})


def run_task(task: Task) -> dict:
    """Solve one task and return a flat row (costs in Table I cost units, wavelengths per link)."""
    instance, plan = solve_task(task)
    if task.kind == "price":
        metrics = _satellite_metrics(instance, plan)
    elif task.kind in ("eq35", "eq6"):
        metrics = _saturation_metrics(task, instance, plan)
    else:
        metrics = _route_metrics(task, plan)
    return {**_base_row(task, plan), **metrics}


def _base_row(task: Task, plan: PlanResult) -> dict:
    return {
        "figure": task.figure, "kind": task.kind, "value": task.value, "status": plan.status,
        "total_cost": plan.objective, "first_stage_cost": plan.first_stage_cost,
        "expected_second_stage_cost": plan.expected_second_stage_cost, "mip_gap": plan.mip_gap,
        "solve_s": plan.solve_s, "build_s": plan.build_s,
        "routes": "; ".join(f"{r}: {'-'.join(p)}" for r, p in plan.routes.items()),
    }


def _probabilities(instance: QkdInstance) -> np.ndarray:
    return np.array([s.probability for s in instance.scenarios])


def _route_metrics(task: Task, plan: PlanResult) -> dict:
    """Expected QKD wavelengths per route link (mean over the route's links): utilised reserved,
    on demand and needed; the largest need on any route link; the probability of buying on demand."""
    nan = math.nan
    row = {"request": task.request, "route": "-".join(task.route), "reserved_qkd_per_link": task.value}
    if not plan.has_plan:
        return {**row, "expected_utilised_qkd": nan, "expected_ondemand_qkd": nan, "expected_need_qkd": nan,
                "max_need_qkd": nan, "min_reserved_qkd": nan, "probability_ondemand": nan}
    column = [plan.link_names.index(name) for name in task.route_links]
    p = _probabilities(task.instance)
    used, ondemand, need = (a[:, column] for a in (plan.utilised_qkd, plan.ondemand_qkd, plan.need_qkd))
    reserved = [plan.reserved.get(n, {}).get("qkd", 0) for n in task.route_links]
    return {
        **row,
        "expected_utilised_qkd": float(p @ used.mean(axis=1)),
        "expected_ondemand_qkd": float(p @ ondemand.mean(axis=1)),
        "expected_need_qkd": float(p @ need.mean(axis=1)),
        "max_need_qkd": float(need.max()),
        "min_reserved_qkd": float(min(reserved)),
        "probability_ondemand": float(p @ (ondemand.max(axis=1) > 1e-9)),
    }


def _saturation_metrics(task: Task, instance: QkdInstance, plan: PlanResult) -> dict:
    """Fig. 2b: reserved and on-demand QKD and KM wavelengths per route link (mean over the route's links),
    and the key rate the reserved wavelengths carry: K·R_q/3 (QKD), K·R_k (KM, eq. 35) (bit/s)."""
    nan = math.nan
    k = min(instance.key_rate_bps(instance.link_named(n)) for n in task.route_links)
    row = {"request": task.request, "route": "-".join(task.route), "km_rule": task.kind, "demand_bps": task.value,
           "key_rate_per_qkd_link_bps": k}
    keys = ("reserved_qkd", "reserved_km", "ondemand_qkd", "ondemand_km", "need_qkd", "need_km",
            "reserved_qkd_key_bps", "reserved_km_key_bps")
    if not plan.has_plan:
        return {**row, **{key: nan for key in keys}}
    column = [plan.link_names.index(name) for name in task.route_links]
    reserved_q = float(np.mean([plan.reserved.get(n, {}).get("qkd", 0) for n in task.route_links]))
    reserved_k = float(np.mean([plan.reserved.get(n, {}).get("km", 0) for n in task.route_links]))
    return {
        **row, "reserved_qkd": reserved_q, "reserved_km": reserved_k,
        "ondemand_qkd": float(plan.ondemand_qkd[0, column].mean()), "ondemand_km": float(plan.ondemand_km[0, column].mean()),
        "need_qkd": float(plan.need_qkd[0, column].mean()), "need_km": float(plan.need_km[0, column].mean()),
        "reserved_qkd_key_bps": k * reserved_q / QKD_WAVELENGTHS_PER_LINK, "reserved_km_key_bps": k * reserved_k,
    }


def _uses_satellite(instance: QkdInstance, path: Sequence[str]) -> bool:
    return any(instance.link_named(f"{u}-{v}").medium == SATELLITE for u, v in zip(path[:-1], path[1:]))


def _satellite_metrics(instance: QkdInstance, plan: PlanResult) -> dict:
    """Requests whose first-stage route uses a satellite link; expected shares carried by satellite links."""
    nan = math.nan
    n = len(instance.requests)
    if not plan.has_plan:
        return {"requests": n, "requests_via_satellite": nan, "satellite_request_share": nan,
                "satellite_wavelength_share": nan, "satellite_demand_share": nan}
    via = sum(_uses_satellite(instance, plan.routes[r.name]) for r in instance.requests)
    p = _probabilities(instance)
    sat = np.array([instance.link_named(name).medium == SATELLITE for name in plan.link_names])
    need = p @ plan.need_qkd  # expected QKD wavelengths per link
    demand = sum(s.probability * s.demand(r.name) for s in instance.scenarios for r in instance.requests)
    carried = sum(s.probability * s.demand(r.name) for s in instance.scenarios for r in instance.requests
                  if _uses_satellite(instance, plan.scenario_routes[s.name][r.name]))
    return {
        "requests": n, "requests_via_satellite": via, "satellite_request_share": via / n,
        "satellite_wavelength_share": float(need[sat].sum() / need.sum()) if need.sum() > 0 else 0.0,
        "satellite_demand_share": carried / demand if demand > 0 else 0.0,
    }


COST_COLUMNS: Final = ("total_cost", "first_stage_cost", "expected_second_stage_cost")
TABLE_COLUMNS: Final = {
    "cost": ("kind", "request", "route", "reserved_qkd_per_link") + COST_COLUMNS + ("solver_status",),
    "wavelengths": ("kind", "request", "route", "reserved_qkd_per_link", "expected_utilised_qkd",
                    "expected_ondemand_qkd", "expected_need_qkd", "max_need_qkd", "probability_ondemand", "solver_status"),
    "price": ("price_multiplier", "requests", "requests_via_satellite", "satellite_request_share",
              "satellite_wavelength_share", "satellite_demand_share") + COST_COLUMNS + ("routes", "solver_status"),
    "saturation": ("km_rule", "request", "route", "demand_bps", "key_rate_per_qkd_link_bps", "reserved_qkd", "reserved_km",
                   "ondemand_qkd", "ondemand_km", "need_qkd", "need_km", "reserved_qkd_key_bps", "reserved_km_key_bps")
                  + COST_COLUMNS + ("solver_status",),
}


def aggregate(spec: FigureSpec, rows: pd.DataFrame) -> pd.DataFrame:
    """The figure's table: one row per grid point (the free optimum first for Fig. 2), solves are exact."""
    if "solver_status" not in rows:  # rows straight from run_task, not through the sweep engine
        rows = rows.rename(columns={"status": "solver_status"})
    if spec.study == "price":
        table = rows.sort_values("value").rename(columns={"value": "price_multiplier"})
    elif spec.study == "demand":
        table = rows.sort_values(["kind", "value"], ascending=[True, True])
    else:
        order = rows["kind"].map({"free": 0, "grid": 1})
        table = rows.assign(_order=order).sort_values(["_order", "value"])
    return table[[c for c in TABLE_COLUMNS[spec.plot] if c in table]].reset_index(drop=True)


def plot(spec: FigureSpec, table: pd.DataFrame, path, instance_label: str = "") -> None:
    """Fig. 2a: costs vs reservation with the free optimum marked; Fig. 2b: expected utilised and
    on-demand wavelengths vs reservation; Fig. 3d: requests via the satellite and costs vs multiplier."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    suffix = f" [{instance_label}]" if instance_label else ""
    if spec.plot == "saturation":
        _plot_saturation(spec, table, path, suffix, plt)
        return
    if spec.plot == "price":
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 5.6), dpi=120, sharex=True,
                                          gridspec_kw={"height_ratios": (1, 1.3)})
        x = table["price_multiplier"]
        n = int(table["requests"].max())
        top.step(x, table["requests_via_satellite"], where="post", color="C3", marker="o", markersize=4,
                 label="requests routed via the satellite")
        top.set_ylabel(f"requests via satellite (of {n})")
        top.set_ylim(-0.2, n + 0.2)
        top.set_yticks(range(n + 1))
        share = top.twinx()
        share.plot(x, 100 * table["satellite_demand_share"], color="C4", linestyle="--", marker=".",
                   label="expected key demand over satellite links (%)")
        share.set_ylabel("key demand via satellite (%)")
        share.set_ylim(-2, 102)
        lines = top.get_legend_handles_labels()[0] + share.get_legend_handles_labels()[0]
        top.legend(lines, [l.get_label() for l in lines], fontsize=7, loc="upper left")
        top.grid(alpha=0.3)
        for column, label, style in zip(COST_COLUMNS, ("total", "first stage (reservation)", "expected second stage"),
                                        ("-", "--", ":")):
            bottom.plot(x, table[column] / MILLION, linestyle=style, marker="o", markersize=3, label=label)
        bottom.set_xscale("log", base=2)
        bottom.set_xticks(list(x), [f"{v:g}" for v in x])
        bottom.minorticks_off()
        bottom.set_xlabel("fiber and UAV price multiplier m (× Table I costs; satellite unchanged; log scale)")
        bottom.set_ylabel("cost (10⁶ Table I cost units)")
        bottom.grid(alpha=0.3)
        bottom.legend(fontsize=7)
        top.set_title(spec.title + suffix, fontsize=9)
        fig.tight_layout()
        fig.savefig(path, format="png")
        plt.close(fig)
        return
    free = table[table["kind"] == "free"].iloc[0]
    grid = table[table["kind"] == "grid"].sort_values("reserved_qkd_per_link")
    x = grid["reserved_qkd_per_link"]
    route = str(free["route"]).replace("-", "→")
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    if spec.plot == "cost":
        for column, label, style in zip(COST_COLUMNS, ("total", "first stage (reservation)", "expected second stage"),
                                        ("-", "--", ":")):
            ax.plot(x, grid[column] / MILLION, linestyle=style, marker="o", markersize=3, label=label)
        ax.plot([free["reserved_qkd_per_link"]], [free["total_cost"] / MILLION], marker="*", markersize=14, color="C3",
                linestyle="none", label=f"free MILP optimum: {free['reserved_qkd_per_link']:g} reserved, "
                                        f"cost {free['total_cost']:,.0f}")
        ax.set_ylabel("cost (10⁶ Table I cost units)")
    else:
        ax.plot(x, grid["expected_utilised_qkd"], marker="o", markersize=3, label="utilised reserved (expected)")
        ax.plot(x, grid["expected_ondemand_qkd"], marker="s", markersize=3, label="on demand (expected)")
        ax.plot(x, grid["expected_need_qkd"], color="grey", linestyle=":", label="needed (expected)")
        largest = float(grid["max_need_qkd"].max())
        ax.axvline(largest, color="C3", linestyle="--", linewidth=1, label=f"largest need ({largest:g})")
        ax.axvline(free["reserved_qkd_per_link"], color="C2", linestyle="-.", linewidth=1,
                   label=f"free MILP optimum ({free['reserved_qkd_per_link']:g})")
        ax.set_ylabel("QKD wavelengths per route link (expected)")
    ax.set_xlabel(f"reserved QKD wavelengths on each link of route {free['request']} ({route})")
    ax.set_title(spec.title + suffix, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="center right")
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


def _plot_saturation(spec: FigureSpec, table: pd.DataFrame, path, suffix: str, plt) -> None:
    """Fig. 2b: reserved wavelengths per route link (top) and the key rate they carry (bottom) vs demand."""
    eq35 = table[table["km_rule"] == "eq35"].sort_values("demand_bps")
    eq6 = table[table["km_rule"] == "eq6"].sort_values("demand_bps")
    k = float(table["key_rate_per_qkd_link_bps"].iloc[0])
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 6.0), dpi=120, sharex=True)
    x35, x6 = eq35["demand_bps"] / 1e3, eq6["demand_bps"] / 1e3
    top.plot(x35, eq35["reserved_qkd"], color="C0", marker="o", markersize=3, label="reserved QKD wavelengths")
    top.plot(x35, eq35["reserved_km"], color="C3", marker="s", markersize=3, label="reserved KM wavelengths, eq. 35 (P per request)")
    top.plot(x6, eq6["reserved_km"], color="C3", linestyle=":", label="reserved KM wavelengths, eq. 6 (1 per request)")
    top.plot(x35, eq35["ondemand_qkd"], color="C0", linestyle="--", linewidth=1, label="on-demand QKD")
    top.plot(x35, eq35["ondemand_km"], color="C3", linestyle="--", linewidth=1, label="on-demand KM, eq. 35")
    top.set_ylabel("wavelengths per route link")
    top.grid(alpha=0.3)
    top.legend(fontsize=7, loc="upper left")
    bottom.plot(x35, eq35["reserved_qkd_key_bps"] / 1e3, color="C0", marker="o", markersize=3,
                label="key rate the reserved QKD wavelengths carry (K·R_q/3)")
    bottom.plot(x35, eq35["reserved_km_key_bps"] / 1e3, color="C3", marker="s", markersize=3,
                label="key rate the reserved KM wavelengths carry, eq. 35 (K·R_k)")
    for saturation, color, what in ((30 * k, "C3", "KM"), (50 * k, "C0", "QKD")):
        for ax in (top, bottom):
            ax.axvline(saturation / 1e3, color=color, linestyle="-.", linewidth=0.8)
        bottom.annotate(f"{what} saturates at {saturation / 1e3:g} kbit/s", (saturation / 1e3, 0), xytext=(3, 3),
                        textcoords="offset points", fontsize=7, color=color, rotation=90, va="bottom")
    bottom.set_xlabel(f"key-rate demand of {eq35['request'].iloc[0]} (kbit/s; K = {k / 1e3:g} kbit/s per QKD link on "
                      f"route {str(eq35['route'].iloc[0]).replace('-', '→')})")
    bottom.set_ylabel("key rate (kbit/s)")
    bottom.grid(alpha=0.3)
    bottom.legend(fontsize=7, loc="upper left")
    top.set_title(spec.title + suffix, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
