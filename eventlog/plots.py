"""PNG figures of a run's event log (matplotlib, Agg backend): what ``sagin-twin report`` draws."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

WEATHER_COLOURS = {"clear": "#ffffff", "cloudy": "#d0d4da", "rain": "#9db8d9"}
USERS = ("su", "au", "gu")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _of(events: pd.DataFrame, kind: str) -> pd.DataFrame:
    return events[events["kind"] == kind]


def _weather_spans(events: pd.DataFrame) -> list[tuple[float, float, str]]:
    """(start, end, state) spans from the per-tick satellite_state rows."""
    sat = _of(events, "satellite_state")
    if sat.empty or "weather" not in sat:
        return []
    t = sat["t_s"].to_numpy()
    states = sat["weather"].to_numpy()
    spans, start = [], 0
    for i in range(1, len(t) + 1):
        if i == len(t) or states[i] != states[start]:
            end = t[i] if i < len(t) else t[-1]
            spans.append((float(t[start]), float(end), str(states[start])))
            start = i
    return spans


def _shade_weather(ax, spans) -> None:
    for start, end, state in spans:
        if state != "clear":
            ax.axvspan(start, end, color=WEATHER_COLOURS.get(state, "#eeeeee"), alpha=0.6, lw=0, zorder=0)


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, format="png")
    _plt().close(fig)
    return path


def _log_time_axes(ax, ylabel: str, title: str, legend_columns: int = 1) -> None:
    """Log y axis against simulated time, with labels, legend and grid."""
    ax.set_yscale("log")
    ax.set_xlabel("time (s)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=legend_columns)
    ax.grid(alpha=0.3, which="both")


def plot_geometry(events: pd.DataFrame, path: Path) -> Path | None:
    """Satellite and Sun elevation over time with pass windows and weather bands."""
    sat = _of(events, "satellite_state")
    if sat.empty:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=110)
    _shade_weather(ax, _weather_spans(events))
    passes = _of(events, "pass_event")
    rises = passes[passes["event"] == "rise"]["t_s"].tolist()
    sets = passes[passes["event"] == "set"]["t_s"].tolist()
    if sets and (not rises or sets[0] < rises[0]):
        rises.insert(0, float(sat["t_s"].min()))
    if rises and (not sets or rises[-1] > sets[-1]):
        sets.append(float(sat["t_s"].max()))
    for k, (a, b) in enumerate(zip(rises, sets)):
        ax.axvspan(a, b, ymin=0.94, ymax=1.0, color="#e0a000", lw=0, label="pass (above min elevation)" if k == 0 else None)
    ax.plot(sat["t_s"], sat["elevation_deg"], color="#1f4e9c", label="satellite elevation")
    ax.plot(sat["t_s"], sat["sun_elevation_deg"], color="#d98b00", linestyle="--", label="Sun elevation")
    ax.axhline(0, color="black", lw=0.5)
    for state, colour in WEATHER_COLOURS.items():
        if state != "clear":
            ax.fill_between([], [], color=colour, label=f"weather: {state}")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("elevation (deg)")
    ax.set_title("Satellite geometry, pass windows and weather")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_secrecy(events: pd.DataFrame, path: Path) -> Path | None:
    """Achieved (true channel) vs planned (twin's view) secrecy rate per user over time."""
    sec = _of(events, "secrecy")
    if sec.empty:
        return None
    plt = _plt()
    fig, axes = plt.subplots(4, 1, figsize=(8, 8), dpi=110, sharex=True)
    spans = _weather_spans(events)
    for ax, user in zip(axes, USERS + ("min",)):
        _shade_weather(ax, spans)
        ax.step(sec["t_s"], pd.to_numeric(sec[f"planned_{user}_bps_hz"]), where="post", color="#d98b00", lw=1, label="planned (twin's view)")
        ax.step(sec["t_s"], pd.to_numeric(sec[f"achieved_{user}_bps_hz"]), where="post", color="#1f4e9c", lw=1, label="achieved (true channel)")
        ax.set_ylabel(f"{user.upper() if user != 'min' else 'min'} (bit/s/Hz)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="upper right")
    axes[0].set_title("Secrecy rate: achieved on the true channel vs planned by the twin")
    axes[-1].set_xlabel("time (s)")
    return _save(fig, path)


def plot_information_age(events: pd.DataFrame, path: Path) -> Path | None:
    """Age of the information at the edge twins, the core, each solve and each applied decision."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=110)
    drawn = False
    for kind, column, label, style in (
        ("report_received", "age_s", "report at edge twin", dict(s=2, alpha=0.3)),
        ("view_received", "age_s", "view at core twin", dict(s=2, alpha=0.3)),
        ("resolve", "oldest_input_age_s", "oldest input of a solve", dict(s=8, marker="x")),
        ("decision_applied", "input_age_s", "input of an applied decision", dict(s=6, marker="^")),
    ):
        rows = _of(events, kind)
        if not rows.empty and column in rows:
            ax.scatter(rows["t_s"], rows[column], label=label, **style)
            drawn = True
    if not drawn:
        _plt().close(fig)
        return None
    ax.set_xlabel("time (s)")
    ax.set_ylabel("information age (s)")
    ax.set_title("How old the twin's information is when it is used")
    ax.legend(fontsize=7, markerscale=2)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_solver(events: pd.DataFrame, path: Path) -> Path | None:
    """Wall time of every re-solve, by trigger, with failed solves marked."""
    res = _of(events, "resolve")
    if res.empty or "wall_s" not in res:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=110)
    for trigger, rows in res.groupby("trigger"):
        ax.scatter(rows["t_s"], np.maximum(rows["wall_s"].astype(float), 1e-7), s=8, label=f"trigger: {trigger}")
    bad = res[res["status"] != "ok"]
    if not bad.empty:
        ax.scatter(bad["t_s"], np.maximum(bad["wall_s"].astype(float).fillna(1e-7), 1e-7), s=40, facecolors="none", edgecolors="red", label="not ok (fallback)")
    _log_time_axes(ax, "wall time (s)", f"Re-solves: {len(res)}, method {', '.join(map(str, res['method'].unique()))}")
    return _save(fig, path)


def plot_key_pools(events: pd.DataFrame, path: Path) -> Path | None:
    """Key stock per link over time (log scale) with the warning threshold, crossings and weather bands."""
    states = _of(events, "key_pool_state")
    if states.empty:
        return None
    crossings = _of(events, "key_pool_crossing")
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=110)
    _shade_weather(ax, _weather_spans(events))
    floor = 1.0  # bit: an empty pool is drawn at the bottom of the log axis
    for link, rows in states.groupby("link", sort=False):
        line, = ax.plot(rows["t_s"], np.maximum(rows["stock_bits"].astype(float), floor), lw=1.2, label=f"{link} ({rows['medium'].iloc[0]})")
        marks = crossings[crossings["link"] == link] if len(crossings) else crossings
        if len(marks):
            ax.scatter(marks["t_s"], np.maximum(marks["stock_bits"].astype(float), floor), s=18, color=line.get_color(), marker="x")
    warning = crossings[crossings["threshold_bits"] > 0]["threshold_bits"] if len(crossings) else pd.Series(dtype=float)
    if len(warning):
        ax.axhline(float(warning.iloc[0]), color="black", ls="--", lw=0.8, label="warning threshold")
    _log_time_axes(ax, "key in pool (bit)", "Key pools per QKD link (x = threshold crossing; shaded = cloud/rain)", legend_columns=2)
    return _save(fig, path)


def plot_qkd_cost(events: pd.DataFrame, path: Path) -> Path | None:
    """Per plan (bar = time in force): reservation vs realised second-stage cost rate, and the key left unmet."""
    costs = _of(events, "qkd_plan_cost")
    if costs.empty:
        return None
    plt = _plt()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5), dpi=110, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    start = (costs["t_s"] - costs["duration_s"]).to_numpy(dtype=float)
    width = costs["duration_s"].to_numpy(dtype=float)
    hours = np.maximum(width, 1e-9) / 3600.0
    first = costs["first_stage_cost"].to_numpy(dtype=float) / hours
    second = costs["second_stage_cost"].to_numpy(dtype=float) / hours
    top.bar(start, first, width=width, align="edge", color="#4c78a8", edgecolor="white", label="reservation (first stage, pro rata)")
    top.bar(start, second, width=width, bottom=first, align="edge", color="#f58518", edgecolor="white", label="on demand + utilisation (second stage)")
    top.set_ylabel("cost rate (Table I units / h)")
    total_first, total_second = costs["first_stage_cost"].sum(), costs["second_stage_cost"].sum()
    top.set_title(f"QKD cost while each plan was in force: {total_first:.4g} reservation + {total_second:.4g} second stage")
    top.legend(fontsize=7)
    top.grid(alpha=0.3)
    unmet = costs["unmet_bits"].to_numpy(dtype=float)
    requested = costs["requested_bits"].to_numpy(dtype=float)
    share = np.divide(unmet, requested, out=np.zeros_like(unmet), where=requested > 0)
    bottom.bar(start, 100 * share, width=width, align="edge", color="#e45756", edgecolor="white")
    bottom.set_ylabel("unmet key (%)")
    bottom.set_ylim(bottom=0.0, top=max(1.0, 110 * float(share.max())))
    bottom.set_xlabel("time (s)")
    bottom.grid(alpha=0.3)
    return _save(fig, path)


PLOTS = {
    "geometry.png": plot_geometry,
    "secrecy.png": plot_secrecy,
    "information_age.png": plot_information_age,
    "solver.png": plot_solver,
    "key_pools.png": plot_key_pools,
    "qkd_cost.png": plot_qkd_cost,
}


def write_report(events: pd.DataFrame, out: Path) -> list[Path]:
    """Draw every plot that has data into ``out``; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, plot in PLOTS.items():
        partial = out / (name + ".partial")
        result = plot(events, partial)
        if result is not None:
            partial.replace(out / name)
            written.append(out / name)
    return written
