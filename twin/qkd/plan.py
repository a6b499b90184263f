"""What a QKD plan request and a QKD plan are: solver options, the plan with its solve record, statuses.

The two-stage program itself is described in :mod:`twin.qkd.formulation`; :func:`twin.qkd.planner.solve_plan`
turns a :class:`PlanOptions` and an instance into a :class:`PlanResult`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

import numpy as np

FORMULATIONS: Final = ("lazy", "explicit")  #: QKD recourse formulations (see PlanOptions)
REROUTE_MODES: Final = ("weather", "scenario")  #: re-routing modes; the first is the default
SCENARIO_METHODS: Final = ("decomposed", "monolithic")  #: scenario-mode solution methods; the first is the default
DEFAULT_REROUTE: Final = "weather"  #: default re-routing mode (one backup route per weather pattern)
DEFAULT_MIP_REL_GAP: Final = 1e-2  #: default relative MIP gap at which HiGHS stops (–)
DEFAULT_TIME_LIMIT_S: Final = 60.0  #: default solver time limit (s)

STATUS_OPTIMAL: Final = "optimal"  #: solved to the requested gap
STATUS_TIME_LIMIT: Final = "time_limit"  #: stopped by the time limit with a feasible plan
STATUS_INFEASIBLE: Final = "infeasible"  #: no plan serves every request in every scenario
STATUS_FAILED: Final = "failed"  #: the solver stopped without a feasible plan for another reason
#: why a program with a fixed first stage is infeasible
FIXED_INFEASIBLE: Final = "the fixed first stage cannot serve every scenario"
#: why a free program is infeasible, before any diagnosis
FREE_INFEASIBLE: Final = "no first-stage route and reservation serve every scenario"


@dataclass(frozen=True)
class PlanOptions:
    """Solver options.

    Args:
        reroute: ``weather`` (default) or ``scenario`` (see :mod:`twin.qkd.formulation`).
        mip_rel_gap: relative MIP gap at which HiGHS stops (–).
        time_limit_s: HiGHS time limit (s).
        threads: HiGHS threads (0 = HiGHS default).
        formulation: ``lazy`` (default: QKD recourse per link as Benders-style cuts added in a
            cutting-plane loop, a much smaller LP) or ``explicit`` (one on-demand column and row per
            scenario class and link). Both give the same optimum; ``explicit`` is always used when
            ondemand_factor < utilisation_factor.
        scenario_method: how ``scenario`` mode is solved: ``decomposed`` (default; the free-backup
            relaxation's bound, exact re-routing added for the requests its plans route over links
            that go down, :mod:`twin.qkd.decomposed`) or
            ``monolithic`` (the full scenario-mode MILP warm-started from the weather-mode plan, the
            reference). Both prove the same gap against the scenario-mode optimum.
    """

    reroute: str = DEFAULT_REROUTE
    mip_rel_gap: float = DEFAULT_MIP_REL_GAP
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    threads: int = 0
    formulation: str = "lazy"
    scenario_method: str = SCENARIO_METHODS[0]

    def __post_init__(self) -> None:
        if self.scenario_method not in SCENARIO_METHODS:
            raise ValueError(f"scenario_method must be one of {SCENARIO_METHODS}, got {self.scenario_method!r}")
        if self.formulation not in FORMULATIONS:
            raise ValueError(f"formulation must be one of {FORMULATIONS}, got {self.formulation!r}")
        if self.reroute not in REROUTE_MODES:
            raise ValueError(f"reroute must be one of {REROUTE_MODES}, got {self.reroute!r}")
        if not 0.0 <= self.mip_rel_gap < 1.0:
            raise ValueError(f"mip_rel_gap must be in [0, 1), got {self.mip_rel_gap}")
        if not self.time_limit_s > 0:
            raise ValueError(f"time_limit_s must be > 0, got {self.time_limit_s}")


@dataclass(frozen=True)
class PlanResult:
    """A QKD plan and its solve record.

    Args:
        status: ``optimal``, ``time_limit``, ``infeasible`` or ``failed``.
        objective: reservation cost + expected recourse cost (cost units; nan without a plan).
        first_stage_cost, expected_second_stage_cost: the two parts of the objective (cost units).
        routes: request → node list of its first-stage route.
        reserved: link ``a-b`` → {"qkd": reserved QKD wavelengths, "km": reserved KM wavelengths}.
        solve_s: HiGHS wall time (s). build_s: model assembly wall time (s).
        mip_gap: relative gap HiGHS reports (–).
        reroute: the re-routing mode used.
        diagnosis: why there is no plan (the solver's reason, or from :mod:`twin.qkd.diagnosis` which
            request, link and scenario cannot be served), or a note on a time-limited plan.
        scenario_routes: scenario → request → route used in that scenario (differs from ``routes``
            only when the first-stage route is hit by a down link).
        link_names: link names, the column order of the per-scenario arrays.
        utilised_qkd, ondemand_qkd, utilised_km, ondemand_km: wavelengths per (scenario, link).
        need_qkd, need_km: wavelengths needed per (scenario, link).
        size: model size (columns, rows, integer columns, non-zeros, merged scenario classes).
        unserved: scenario → requests left unserved there because its weather takes down every path
            (no route and no wavelengths; their key demand is not met). Empty when all are served.
    """

    status: str
    objective: float
    first_stage_cost: float
    expected_second_stage_cost: float
    routes: dict[str, list[str]]
    reserved: dict[str, dict[str, int]]
    solve_s: float
    build_s: float = 0.0
    mip_gap: float = math.nan
    reroute: str = DEFAULT_REROUTE
    diagnosis: str = ""
    scenario_routes: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    link_names: tuple[str, ...] = ()
    utilised_qkd: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    ondemand_qkd: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    utilised_km: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    ondemand_km: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    need_qkd: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    need_km: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    size: dict[str, int] = field(default_factory=dict)
    unserved: dict[str, list[str]] = field(default_factory=dict)

    @property
    def has_plan(self) -> bool:
        """True if the result carries a feasible plan."""
        return self.status in (STATUS_OPTIMAL, STATUS_TIME_LIMIT)

    def summary(self) -> dict:
        """The JSON-ready summary: status, objective, costs, routes, reserved, solve_s (and diagnosis if any)."""
        out = {
            "status": self.status, "objective": _finite_or_none(self.objective),
            "first_stage_cost": _finite_or_none(self.first_stage_cost),
            "expected_second_stage_cost": _finite_or_none(self.expected_second_stage_cost),
            "routes": self.routes, "reserved": self.reserved, "solve_s": self.solve_s,
            "build_s": self.build_s, "mip_gap": _finite_or_none(self.mip_gap), "reroute": self.reroute,
        }
        if self.diagnosis:
            out["diagnosis"] = self.diagnosis
        if self.unserved:
            out["unserved"] = self.unserved
        return out


def no_plan(status: str, fixed: bool, reroute: str, solve_s: float, build_s: float, size: dict[str, int],
            reason: str = "") -> PlanResult:
    """The result without a plan: ``infeasible`` (reason: the fixed or the free program is infeasible)
    or ``failed`` with ``reason`` (default: no feasible plan found)."""
    if status == STATUS_INFEASIBLE:
        reason = FIXED_INFEASIBLE if fixed else FREE_INFEASIBLE
    return PlanResult(status, math.nan, math.nan, math.nan, {}, {}, solve_s, build_s=build_s, reroute=reroute,
                      diagnosis=reason or "the solver stopped with no feasible plan", size=size)


def _finite_or_none(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None

