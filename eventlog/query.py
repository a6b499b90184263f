"""Filters and tables over a run's events (pandas) for ``inspect``."""

from __future__ import annotations

import pandas as pd


def filter_events(events: pd.DataFrame, kinds=None, sources=None, t_from: float | None = None, t_to: float | None = None) -> pd.DataFrame:
    """Rows whose kind is in ``kinds``, source in ``sources`` and ``t_from <= t_s <= t_to`` (None = no bound)."""
    mask = pd.Series(True, index=events.index)
    if kinds:
        mask &= events["kind"].isin(kinds)
    if sources:
        mask &= events["source"].isin(sources)
    if t_from is not None:
        mask &= events["t_s"] >= t_from
    if t_to is not None:
        mask &= events["t_s"] <= t_to
    return events[mask]


def resolve_table(events: pd.DataFrame) -> pd.DataFrame:
    """Re-solves grouped by trigger, method and status: count, wall time and input age."""
    resolves = events[events["kind"] == "resolve"]
    if resolves.empty:
        return pd.DataFrame()
    columns = {"solve_id": "count", "oldest_input_age_s": ["mean", "max"]}
    if "wall_s" in resolves:
        columns["wall_s"] = ["mean", "median", "max"]
    table = resolves.groupby(["trigger", "method", "status", "fallback"]).agg(columns)
    table.columns = ["solves" if c[0] == "solve_id" else f"{c[0]}_{c[1]}" for c in table.columns]
    return table.reset_index()


def age_table(events: pd.DataFrame) -> pd.DataFrame:
    """Information age (s) per kind and source: at the edge twins, at the core, at solves, at the transmitters."""
    parts = []
    for kind, column in (("report_received", "age_s"), ("view_received", "age_s"), ("resolve", "oldest_input_age_s"), ("decision_applied", "input_age_s")):
        rows = events[events["kind"] == kind]
        if rows.empty or column not in rows:
            continue
        stats = rows.groupby("source")[column].agg(["count", "mean", "median", "max"]).reset_index()
        stats.insert(0, "kind", kind)
        parts.append(stats)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def compact(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows with the columns that are empty in all of them dropped."""
    return rows.dropna(axis=1, how="all")


def compare_runs(names: list[str], summaries: list[dict]) -> pd.DataFrame:
    """One row per run: method, seed, achieved and planned secrecy per user, re-solves and their cost."""
    rows = []
    for name, summary in zip(names, summaries):
        run = summary.get("run", {})
        row = {"run": name, "method": run.get("precoding"), "seed": run.get("seed")}
        for user, s in summary["secrecy"].items():
            row[f"achieved_{user}"] = s["achieved_mean_bps_hz"]
            row[f"planned_{user}"] = s["planned_mean_bps_hz"]
        resolves = summary["resolves"]
        row["resolves"] = resolves["count"]
        row["not_ok"] = sum(v for k, v in resolves["by_status"].items() if k != "ok")
        row["wall_mean"] = resolves["wall_s"]["mean"]
        rows.append(row)
    return pd.DataFrame(rows)


def qkd_plan_table(events: pd.DataFrame) -> pd.DataFrame:
    """One row per QKD plan: when, why, forecast, outcome, cost, reservation and wall time."""
    plans = events[events["kind"] == "qkd_plan"]
    columns = ["t_s", "plan_id", "trigger", "status", "fallback", "weather", "p_clear", "satellite_offered",
               "objective", "first_stage_cost", "expected_second_stage_cost", "reserved_qkd", "reserved_km", "wall_s"]
    return plans[[c for c in columns if c in plans]].reset_index(drop=True)


def qkd_cost_table(events: pd.DataFrame) -> pd.DataFrame:
    """One row per plan that left service: time in force, realised costs, key requested, served and unmet."""
    costs = events[events["kind"] == "qkd_plan_cost"]
    columns = ["t_s", "plan_id", "duration_s", "first_stage_cost", "second_stage_cost", "total_cost",
               "requested_bits", "served_bits", "unmet_bits", "mean_ondemand_qkd"]
    return costs[[c for c in columns if c in costs]].reset_index(drop=True)


def key_pool_table(events: pd.DataFrame) -> pd.DataFrame:
    """Per link: last logged stock and state, the smallest stock logged, and threshold crossings into each state."""
    states = events[events["kind"] == "key_pool_state"]
    if states.empty:
        return pd.DataFrame()
    table = states.groupby("link", sort=False).agg(
        medium=("medium", "last"), stock_bits=("stock_bits", "last"), state=("state", "last"),
        min_stock_bits=("stock_bits", "min"), max_running_qkd_links=("running_qkd_links", "max"))
    crossings = events[events["kind"] == "key_pool_crossing"]
    for state in ("WARNING", "EMPTY"):
        into = crossings[crossings["to_state"] == state].groupby("link").size() if len(crossings) else pd.Series(dtype=int)
        table[f"into_{state.lower()}"] = into.reindex(table.index).fillna(0).astype(int)
    return table.reset_index()


def unmet_table(events: pd.DataFrame) -> pd.DataFrame:
    """Unmet key demand per request and reason: intervals and bits."""
    unmet = events[events["kind"] == "key_demand_unmet"]
    if unmet.empty:
        return pd.DataFrame()
    return unmet.groupby(["request", "reason"]).agg(
        intervals=("unmet_bits", "size"), unmet_bits=("unmet_bits", "sum"), first_s=("from_s", "min"), last_s=("t_s", "max")).reset_index()
