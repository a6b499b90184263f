"""A sweep's results: the tidy table (one row per run) and one PNG per metric."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS_FILE = "results.parquet"


def write_table(rows: list[dict], columns: list[str], out: Path) -> pd.DataFrame:
    """Write ``results.parquet`` (atomically) with the given column order; returns the table."""
    table = pd.DataFrame(rows)
    for column in columns:
        if column not in table:
            table[column] = np.nan
    table = table[columns].sort_values("index").reset_index(drop=True)
    partial = out / (RESULTS_FILE + ".partial")
    table.to_parquet(partial, index=False)
    os.replace(partial, out / RESULTS_FILE)
    return table


#: unit suffixes of metric and parameter names, longest first, and how a plot labels them
UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_bps_hz", "bit/s/Hz"), ("_bps", "bit/s"), ("_bits", "bit"), ("_dbw", "dBW"), ("_dbm", "dBm"), ("_db", "dB"),
    ("_deg", "deg"), ("_hz", "Hz"), ("_mps", "m/s"), ("_m", "m"), ("_w", "W"), ("_s", "s"),
)
_USER = {"su": "SU", "au": "AU", "gu": "GU", "min": "min over users"}
#: readable titles (and units) of the sweep metrics of sweeps/metrics.py
METRIC_TITLES: dict[str, tuple[str, str | None]] = {
    **{f"achieved_{u}_mean_bps_hz": (f"Achieved secrecy rate ({name}), mean over ticks", "bit/s/Hz") for u, name in _USER.items()},
    **{f"planned_{u}_mean_bps_hz": (f"Planned secrecy rate ({name}), mean over ticks", "bit/s/Hz") for u, name in _USER.items()},
    **{f"gap_{u}_mean_bps_hz": (f"Planned − achieved secrecy rate ({name}), mean", "bit/s/Hz") for u, name in _USER.items()},
    "achieved_min_p10_bps_hz": ("Achieved min secrecy rate, 10th percentile over ticks", "bit/s/Hz"),
    "calibration_error_min": ("Plan calibration error |planned − achieved| / achieved (min rate)", "fraction"),
    "resolves": ("Re-solves per run", "count"),
    "resolves_not_ok": ("Failed re-solves per run (status not ok)", "count"),
    "solve_input_age_mean_s": ("Age of a solve's oldest input, mean", "s"),
    "applied_input_age_mean_s": ("Input age of the decisions applied, mean", "s"),
    "events": ("Events in the log", "count"),
    "qkd_plans": ("QKD plans per run", "count"),
    "qkd_total_cost": ("QKD cost, total", "Table I units"),
    "qkd_first_stage_cost": ("QKD reservation (first-stage) cost", "Table I units"),
    "qkd_second_stage_cost": ("QKD second-stage cost", "Table I units"),
    "qkd_unmet_fraction": ("Unmet share of the requested key", "fraction"),
    "qkd_crossings_to_empty": ("Key pools that ran empty (crossings into EMPTY)", "count"),
    **{f"rate_{u}_bps_hz": (f"Secrecy rate ({_USER[u]}) on the true channel", "bit/s/Hz") for u in ("su", "au", "gu")},
    "min_rate_bps_hz": ("Minimum secrecy rate on the true channel", "bit/s/Hz"),
    "planned_min_rate_bps_hz": ("Planned minimum secrecy rate", "bit/s/Hz"),
    "iterations": ("SCA iterations per solve", "count"),
    "objective": ("QKD plan cost: reservation + expected recourse", "Table I units"),
    "first_stage_cost": ("QKD reservation (first-stage) cost", "Table I units"),
    "expected_second_stage_cost": ("QKD expected second-stage (recourse) cost", "Table I units"),
    "mip_gap": ("Relative MIP gap at the end of the solve", "fraction"),
    "reserved_qkd": ("Reserved QKD wavelengths, all links", "count"),
    "reserved_km": ("Reserved key-management wavelengths, all links", "count"),
    "expected_unserved_requests": ("Requests cut off by the weather, expected over scenarios", "count"),
    "solve_s": ("Solver wall time per plan (machine-dependent)", "s"),
    "build_s": ("Model build wall time per plan (machine-dependent)", "s"),
    "model_columns": ("MILP columns", "count"),
    "model_rows": ("MILP rows", "count"),
    "model_integer_columns": ("MILP integer columns", "count"),
    "model_nonzeros": ("MILP non-zeros", "count"),
    "scenario_classes": ("Merged scenario classes in the model", "count"),
}


def split_unit(name: str) -> tuple[str, str | None]:
    """``links.decision.latency_s`` → (``links.decision.latency``, ``s``); names without a unit suffix keep None."""
    for suffix, unit in UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], unit
    return name, None


def metric_title(metric: str) -> tuple[str, str | None]:
    """A readable title and the unit of a metric (from :data:`METRIC_TITLES`, else from its name)."""
    if metric in METRIC_TITLES:
        return METRIC_TITLES[metric]
    stem, unit = split_unit(metric)
    return stem.replace("_", " ").capitalize(), unit


def axis_label(name: str) -> str:
    """An axis label with the unit in parentheses: ``links.decision.latency_s`` → ``links.decision.latency (s)``."""
    stem, unit = split_unit(name)
    return f"{stem} ({unit})" if unit else stem


def plot_metric(table: pd.DataFrame, metric: str, x: str, groups: list[str], path: Path) -> None:
    """Mean ± standard error of ``metric`` against ``x``, one line per combination of ``groups``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = table[table["status"] == "ok"].copy()
    ok[metric] = pd.to_numeric(ok[metric], errors="coerce")
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    grouped = ok.groupby(groups) if groups else [((), ok)]
    for key, group in grouped:
        stats = group.groupby(x)[metric].agg(["mean", "std", "count"]).reset_index().sort_values(x)
        sem = (stats["std"] / np.sqrt(stats["count"])).fillna(0.0)
        key = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{axis_label(g)} = {v:g}" if isinstance(v, float) else f"{axis_label(g)} = {v}" for g, v in zip(groups, key)) or metric
        ax.errorbar(stats[x], stats["mean"], yerr=sem, marker="o", markersize=3, capsize=2, label=label)
    title, unit = metric_title(metric)
    ax.set_xlabel(axis_label(x))
    ax.set_ylabel(unit or "value")
    ax.set_title(f"{title}\nmean ± standard error; {len(ok)} ok runs of {len(table)}", fontsize=10)
    ax.grid(alpha=0.3)
    if groups:
        ax.legend(fontsize=7)
    fig.tight_layout()
    partial = path.with_name(path.name + ".partial")
    fig.savefig(partial, format="png")
    plt.close(fig)
    os.replace(partial, path)
