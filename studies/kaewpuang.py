"""Deterministic sweeps reproducing the trends of Kaewpuang et al.'s QKD provisioning figures.

Kaewpuang et al., "Resource Allocation in QKD for SAGIN" (shared/DESIGN.md section 2), solved by the
two-stage stochastic MILP of :mod:`twin.qkd.milp` (public ``solve_plan`` API only). Every solve is
exact (``mip_rel_gap = 0``) unless the caller passes other options, so the curves are the optima
and not solver noise. The figure names follow the paper (Fig. 2a/2b: cost and wavelengths against
the reservation; Fig. 3d: price sensitivity); the paper's exact axes and instance differ (its
optimum is near 80 reserved wavelengths on NSFNET, ours on ``kaewpuang-small.toml`` is 9).

Reservation sweep (``kaewpuang-fig2a`` and ``kaewpuang-fig2b`` share it):

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
from twin.qkd.instance import QkdInstance
from twin.qkd.milp import PlanOptions, PlanResult, solve_plan
from twin.qkd.pricing import QKD_WAVELENGTHS_PER_LINK

DEFAULT_INSTANCE: Final = Path(scenarios.__file__).resolve().parent / "qkd" / "kaewpuang-small.toml"
OPTIONS: Final = PlanOptions(mip_rel_gap=0.0)  #: exact solves: the figures compare optima
PRICE_MULTIPLIERS: Final = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0)  #: fiber/UAV price multipliers (–)
SCALED_MEDIA: Final = ("fiber", "uav")  #: media whose Table I costs the price sweep multiplies
GRID_HEADROOM: Final = 1.25  #: the reservation grid reaches this × the largest need on the route
GRID_POINTS: Final = 16  #: at most about this many regular grid points (step grows in multiples of 3)
SATELLITE: Final = "satellite"
MILLION: Final = 1e6  #: costs are plotted in millions of cost units


@dataclass(frozen=True)
class FigureSpec:
    """One figure: ``study`` is ``reservation`` (Fig. 2a/2b) or ``price`` (Fig. 3d); ``plot`` picks the panel."""

    name: str
    title: str
    study: str
    plot: str


FIGURES: dict[str, FigureSpec] = {spec.name: spec for spec in (
    FigureSpec("kaewpuang-fig2a", "Cost vs reserved QKD wavelengths on the route", "reservation", "cost"),
    FigureSpec("kaewpuang-fig2b", "Utilised reserved and on-demand QKD wavelengths vs reservation", "reservation",
               "wavelengths"),
    FigureSpec("kaewpuang-fig3d", "Raising fiber and UAV prices moves requests onto the satellite", "price", "price"),
)}


@dataclass(frozen=True)
class Task:
    """One solve: ``kind`` is ``free`` (the free optimum), ``grid`` (reservation fixed to ``value``
    wavelengths on every ``route_links``) or ``price`` (fiber/UAV costs × ``value``)."""

    figure: str
    kind: str
    value: float
    instance: QkdInstance
    options: PlanOptions
    request: str = ""
    route: tuple[str, ...] = ()
    route_links: tuple[str, ...] = ()
    fix_routes: tuple[tuple[str, tuple[str, ...]], ...] = ()


def load_instance(path: str | Path | None) -> QkdInstance:
    """The instance at ``path`` (default: the shipped small instance); bad files raise InputError."""
    return QkdInstance.from_toml(path if path is not None else DEFAULT_INSTANCE)


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
    """0, s, 2s, … up to GRID_HEADROOM × ``max_need`` (s a multiple of 3) plus ``free_values``, ≤ ``capacity``."""
    step_unit = QKD_WAVELENGTHS_PER_LINK
    top = step_unit * math.ceil(max(GRID_HEADROOM * max_need, step_unit) / step_unit)
    step = step_unit * max(1, math.ceil(top / step_unit / GRID_POINTS))
    values = set(range(0, top + 1, step)) | {top} | {int(v) for v in free_values}
    return sorted(v for v in values if 0 <= v <= capacity)


def free_solve(instance: QkdInstance, options: PlanOptions = OPTIONS) -> PlanResult:
    """The free MILP (every decision optimised)."""
    return solve_plan(instance, options)


def tasks(spec: FigureSpec, instance: QkdInstance, options: PlanOptions = OPTIONS,
          free: PlanResult | None = None) -> list[Task]:
    """Every solve of ``spec``. The reservation study needs the free optimum (``free``; solved here if
    not given) to choose the route and the grid; its own row comes from the ``free`` task."""
    if spec.study == "price":
        return [Task(spec.name, "price", float(m), instance, options) for m in PRICE_MULTIPLIERS]
    free = free if free is not None else free_solve(instance, options)
    if not free.has_plan:
        raise ValueError(f"the free plan has no solution ({free.status}): {free.diagnosis}")
    request = instance.requests[0].name
    route = tuple(free.routes[request])
    links = route_link_names(instance, route)
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


def solve_task(task: Task) -> tuple[QkdInstance, PlanResult]:
    """The instance a task solves (prices scaled for ``price`` tasks) and its plan."""
    if task.kind == "price":
        instance = scale_prices(task.instance, task.value)
        return instance, solve_plan(instance, task.options)
    if task.kind == "free":
        return task.instance, solve_plan(task.instance, task.options)
    q = int(round(task.value))
    return task.instance, solve_plan(task.instance, task.options, fix_routes={r: list(p) for r, p in task.fix_routes},
                                     fix_reserved={name: {"qkd": q} for name in task.route_links}, diagnose=False)


def run_task(task: Task) -> dict:
    """Solve one task and return a flat row (costs in Table I cost units, wavelengths per link)."""
    instance, plan = solve_task(task)
    metrics = _satellite_metrics(instance, plan) if task.kind == "price" else _route_metrics(task, plan)
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
}


def aggregate(spec: FigureSpec, rows: pd.DataFrame) -> pd.DataFrame:
    """The figure's table: one row per grid point (the free optimum first for Fig. 2), solves are exact."""
    if "solver_status" not in rows:  # rows straight from run_task, not through the sweep engine
        rows = rows.rename(columns={"status": "solver_status"})
    if spec.study == "price":
        table = rows.sort_values("value").rename(columns={"value": "price_multiplier"})
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
