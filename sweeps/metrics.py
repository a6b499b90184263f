"""The metrics a sweep can keep, and how a scenario run's summary or a QKD plan becomes one flat row."""

from __future__ import annotations

import math

USERS = ("su", "au", "gu", "min")
#: QKD metrics of a scenario run (NaN without a [qkd] section); costs in Table I units
QKD_METRICS: tuple[str, ...] = ("qkd_plans", "qkd_total_cost", "qkd_first_stage_cost", "qkd_second_stage_cost",
                                "qkd_unmet_fraction", "qkd_crossings_to_empty")
#: deterministic metrics of a scenario run (same seed ⇒ same value)
SCENARIO_METRICS: tuple[str, ...] = tuple(
    [f"achieved_{u}_mean_bps_hz" for u in USERS]
    + [f"planned_{u}_mean_bps_hz" for u in USERS]
    + [f"gap_{u}_mean_bps_hz" for u in USERS]
    + ["achieved_min_p10_bps_hz", "calibration_error_min"]
    + ["resolves", "resolves_not_ok", "solve_input_age_mean_s", "applied_input_age_mean_s", "events"]
    + list(QKD_METRICS)
)
#: metrics of one figure solve (rates on the true channels)
FIGURE_METRICS: tuple[str, ...] = ("rate_su_bps_hz", "rate_au_bps_hz", "rate_gu_bps_hz", "min_rate_bps_hz", "planned_min_rate_bps_hz", "iterations")
#: metrics of one QKD planning solve (instance sweeps); costs in Table I units; NaN without a plan
PLAN_COSTS: tuple[str, ...] = ("objective", "first_stage_cost", "expected_second_stage_cost", "mip_gap")
#: the solver's model size (``PlanResult.size``; NaN when the instance is refused before solving)
MODEL_SIZE: dict[str, str] = {"model_columns": "columns", "model_rows": "rows", "model_integer_columns": "integer_columns",
                              "model_nonzeros": "nonzeros", "scenario_classes": "scenario_classes"}
#: wall times (s): the only instance metrics that differ between two runs of the same sweep
WALL_TIME_METRICS: tuple[str, ...] = ("solve_s", "build_s")
INSTANCE_METRICS: tuple[str, ...] = (PLAN_COSTS + ("reserved_qkd", "reserved_km", "expected_unserved_requests")
                                     + WALL_TIME_METRICS + tuple(MODEL_SIZE))


def scenario_metrics(summary: dict) -> dict[str, float]:
    """Flatten :func:`eventlog.summary.summarize` output into the scenario metrics."""
    out: dict[str, float] = {}
    for user in USERS:
        s = summary["secrecy"].get(user, {})
        out[f"achieved_{user}_mean_bps_hz"] = s.get("achieved_mean_bps_hz", math.nan)
        out[f"planned_{user}_mean_bps_hz"] = s.get("planned_mean_bps_hz", math.nan)
        out[f"gap_{user}_mean_bps_hz"] = s.get("gap_mean_bps_hz", math.nan)
    minimum = summary["secrecy"].get("min", {})
    out["achieved_min_p10_bps_hz"] = minimum.get("achieved_p10_when_planned_bps_hz", math.nan)
    out["calibration_error_min"] = minimum.get("calibration_error", math.nan)
    resolves = summary["resolves"]
    out["resolves"] = resolves["count"]
    out["resolves_not_ok"] = sum(v for k, v in resolves["by_status"].items() if k != "ok")
    out["solve_input_age_mean_s"] = summary["information_age"]["solve_input_age_s"]["mean"]
    out["applied_input_age_mean_s"] = summary["information_age"]["applied_input_age_s"]["mean"]
    out["events"] = summary["events"]
    qkd = summary.get("qkd")  # NaN for a scenario without a QKD layer
    out["qkd_plans"] = qkd["plans"] if qkd else math.nan
    for name in ("total_cost", "first_stage_cost", "second_stage_cost", "unmet_fraction"):
        out[f"qkd_{name}"] = qkd[name] if qkd else math.nan
    out["qkd_crossings_to_empty"] = qkd["crossings_by_state"].get("EMPTY", 0) if qkd else math.nan
    return out


def plan_metrics(result, probabilities: dict[str, float]) -> dict[str, float]:
    """The instance metrics of a :class:`twin.qkd.plan.PlanResult`; ``probabilities``: scenario name → p_ω."""
    out = {name: float(getattr(result, name)) for name in PLAN_COSTS}
    out["reserved_qkd"] = sum(r["qkd"] for r in result.reserved.values()) if result.has_plan else math.nan
    out["reserved_km"] = sum(r["km"] for r in result.reserved.values()) if result.has_plan else math.nan
    unserved = sum(probabilities[s] * len(requests) for s, requests in result.unserved.items())
    out["expected_unserved_requests"] = unserved if result.has_plan else math.nan
    out["solve_s"], out["build_s"] = result.solve_s, result.build_s
    out.update({name: result.size.get(key, math.nan) for name, key in MODEL_SIZE.items()})
    return out
