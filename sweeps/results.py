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
        label = ", ".join(f"{g}={v}" for g, v in zip(groups, key)) or metric
        ax.errorbar(stats[x], stats["mean"], yerr=sem, marker="o", markersize=3, capsize=2, label=label)
    ax.set_xlabel(x)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} ({len(ok)} ok runs of {len(table)})")
    ax.grid(alpha=0.3)
    if groups:
        ax.legend(fontsize=7)
    fig.tight_layout()
    partial = path.with_name(path.name + ".partial")
    fig.savefig(partial, format="png")
    plt.close(fig)
    os.replace(partial, path)
