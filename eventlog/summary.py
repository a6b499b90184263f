"""Summaries of a run's event log (pandas): what ``sagin-twin run`` prints and ``inspect`` shows."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

USERS = ("su", "au", "gu")


def _stats(series: pd.Series) -> dict[str, float]:
    values = pd.to_numeric(series, errors="coerce").dropna()
    if values.empty:
        return {"mean": math.nan, "median": math.nan, "max": math.nan, "count": 0}
    return {"mean": float(values.mean()), "median": float(values.median()), "max": float(values.max()), "count": int(values.size)}


def summarize(events: pd.DataFrame) -> dict[str, Any]:
    """Key figures of a run: counts, time span, re-solves, secrecy per user, twin information age."""
    out: dict[str, Any] = {
        "events": int(len(events)),
        "t_first_s": float(events["t_s"].min()) if len(events) else math.nan,
        "t_last_s": float(events["t_s"].max()) if len(events) else math.nan,
        "by_kind": events["kind"].value_counts().sort_index().to_dict(),
        "by_source": events["source"].value_counts().sort_index().to_dict(),
    }
    started = events[events["kind"] == "run_started"]
    if len(started):
        row = started.iloc[0]
        out["run"] = {k: row.get(k) for k in ("scenario", "start_utc", "duration_s", "precoding")}
        out["run"]["seed"] = int(row["seed"])
    finished = events[events["kind"] == "run_finished"]
    out["finished"] = str(finished.iloc[-1]["status"]) if len(finished) else "incomplete (no run_finished event)"

    resolves = events[events["kind"] == "resolve"]
    out["resolves"] = {
        "count": int(len(resolves)),
        "by_trigger": resolves["trigger"].value_counts().sort_index().to_dict() if len(resolves) else {},
        "by_status": resolves["status"].value_counts().sort_index().to_dict() if len(resolves) else {},
        "fallbacks": int((resolves["fallback"] != "none").sum()) if len(resolves) else 0,
        "wall_s": _stats(resolves["wall_s"]) if "wall_s" in resolves else _stats(pd.Series(dtype=float)),
        "oldest_input_age_s": _stats(resolves["oldest_input_age_s"]) if len(resolves) else _stats(pd.Series(dtype=float)),
    }

    secrecy = events[events["kind"] == "secrecy"]
    rates: dict[str, dict[str, float]] = {}
    for user in USERS + ("min",):
        if secrecy.empty:
            break
        achieved = pd.to_numeric(secrecy[f"achieved_{user}_bps_hz"], errors="coerce")
        planned = pd.to_numeric(secrecy[f"planned_{user}_bps_hz"], errors="coerce")
        decided = planned.notna()
        rates[user] = {
            "achieved_mean_bps_hz": float(achieved.mean()),
            "planned_mean_bps_hz": float(planned[decided].mean()) if decided.any() else math.nan,
            "achieved_mean_when_planned_bps_hz": float(achieved[decided].mean()) if decided.any() else math.nan,
            "gap_mean_bps_hz": float((planned[decided] - achieved[decided]).mean()) if decided.any() else math.nan,
            "ticks": int(len(achieved)),
        }
    out["secrecy"] = rates

    age: dict[str, dict[str, float]] = {}
    for label, kind, column in (
        ("edge_report_age_s", "report_received", "age_s"),
        ("core_view_age_s", "view_received", "age_s"),
        ("solve_input_age_s", "resolve", "oldest_input_age_s"),
        ("applied_input_age_s", "decision_applied", "input_age_s"),
    ):
        rows = events[events["kind"] == kind]
        age[label] = _stats(rows[column]) if column in rows else _stats(pd.Series(dtype=float))
    out["information_age"] = age
    qkd = qkd_summary(events)
    if qkd:
        out["qkd"] = qkd
    return out


def qkd_summary(events: pd.DataFrame) -> dict[str, Any]:
    """The QKD layer's figures (empty without QKD events): plans, costs, key served and unmet, pool crossings."""
    plans = events[events["kind"] == "qkd_plan"]
    costs = events[events["kind"] == "qkd_plan_cost"]
    crossings = events[events["kind"] == "key_pool_crossing"]
    unmet = events[events["kind"] == "key_demand_unmet"]
    if plans.empty and costs.empty and crossings.empty and unmet.empty:
        return {}
    # every requested bit is served (only while a plan is in force) or logged as unmet (also before the first plan)
    served = float(costs["served_bits"].sum()) if len(costs) else 0.0
    unmet_bits = float(unmet["unmet_bits"].sum()) if len(unmet) else 0.0
    requested = served + unmet_bits
    return {
        "plans": int(len(plans)),
        "plans_by_trigger": plans["trigger"].value_counts().sort_index().to_dict() if len(plans) else {},
        "plans_by_status": plans["status"].value_counts().sort_index().to_dict() if len(plans) else {},
        "plan_fallbacks": int((plans["fallback"] != "none").sum()) if len(plans) else 0,
        "plan_wall_s": _stats(plans["wall_s"]) if "wall_s" in plans else _stats(pd.Series(dtype=float)),
        "first_stage_cost": float(costs["first_stage_cost"].sum()) if len(costs) else 0.0,
        "second_stage_cost": float(costs["second_stage_cost"].sum()) if len(costs) else 0.0,
        "total_cost": float(costs["total_cost"].sum()) if len(costs) else 0.0,
        "requested_bits": requested,
        "served_bits": served,
        "unmet_bits": unmet_bits,
        "unmet_fraction": unmet_bits / requested if requested > 0 else 0.0,
        "unmet_by_reason_bits": unmet.groupby("reason")["unmet_bits"].sum().sort_index().to_dict() if len(unmet) else {},
        "crossings_by_state": crossings["to_state"].value_counts().sort_index().to_dict() if len(crossings) else {},
    }


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "—" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def format_summary(summary: dict[str, Any]) -> str:
    """Human-readable text of :func:`summarize`'s result."""
    lines = []
    run = summary.get("run", {})
    if run:
        lines.append(f"run: {run.get('scenario')}  seed {run.get('seed')}  start {run.get('start_utc')}  precoding {run.get('precoding')}")
    lines.append(f"events: {summary['events']}  simulated time {_fmt(summary['t_first_s'])} … {_fmt(summary['t_last_s'])} s  finished: {summary['finished']}")
    lines.append("events per kind:   " + ", ".join(f"{k} {v}" for k, v in summary["by_kind"].items()))
    lines.append("events per source: " + ", ".join(f"{k} {v}" for k, v in summary["by_source"].items()))
    r = summary["resolves"]
    lines.append(
        f"re-solves: {r['count']}  by trigger {r['by_trigger']}  by status {r['by_status']}  fallbacks {r['fallbacks']}  "
        f"wall time mean {_fmt(r['wall_s']['mean'])} s, max {_fmt(r['wall_s']['max'])} s"
    )
    if summary["secrecy"]:
        lines.append("secrecy rate per user (bit/s/Hz; 'gap' = planned − achieved while a decision is in force):")
        lines.append(f"  {'user':<5}{'achieved':>11}{'planned':>11}{'gap':>11}")
        for user, s in summary["secrecy"].items():
            lines.append(f"  {user:<5}{_fmt(s['achieved_mean_bps_hz']):>11}{_fmt(s['planned_mean_bps_hz']):>11}{_fmt(s['gap_mean_bps_hz']):>11}")
    lines.append("twin information age (s):")
    for label, s in summary["information_age"].items():
        lines.append(f"  {label:<22} mean {_fmt(s['mean'])}  median {_fmt(s['median'])}  max {_fmt(s['max'])}  (n={s['count']})")
    q = summary.get("qkd")
    if q:
        lines.append(
            f"QKD: {q['plans']} plans  by trigger {q['plans_by_trigger']}  by status {q['plans_by_status']}  "
            f"fallbacks {q['plan_fallbacks']}  plan wall time mean {_fmt(q['plan_wall_s']['mean'])} s")
        lines.append(
            f"  cost {_fmt(q['total_cost'])} = reservation {_fmt(q['first_stage_cost'])} + second stage {_fmt(q['second_stage_cost'])}  "
            f"key served {_fmt(q['served_bits'])} of {_fmt(q['requested_bits'])} bit (unmet {100 * q['unmet_fraction']:.3g} %, "
            f"by reason {q['unmet_by_reason_bits']})  pool crossings into {q['crossings_by_state']}")
    return "\n".join(lines)
