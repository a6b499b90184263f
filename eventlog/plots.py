"""PNG figures of a run's event log (matplotlib, Agg backend): what ``sagin-twin report`` draws.

Every plot takes the log as one DataFrame per kind (:func:`eventlog.reader.load_by_kind`, which
reads only :data:`REPORT_COLUMNS`) and draws what that part of the log holds: a log cut after a
few lines (no pass, no decision yet), an old log without the t = 0 state rows or a window with no
change must still give every figure it has data for. A figure with nothing to draw is skipped.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from eventlog.kinds import entity_names

Frames = Mapping[str, pd.DataFrame]

WEATHER_COLOURS = {"clear": "#ffffff", "cloudy": "#d0d4da", "rain": "#9db8d9"}
_EMPTY = pd.DataFrame()
#: above this run length, time axes are in hours
HOURS_ABOVE_S = 3 * 3600.0

#: the kinds and columns the report reads (everything else in the log is skipped while reading)
REPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "satellite_state": ("elevation_deg", "sun_elevation_deg", "serving", "weather", "serving_satellite"),
    "handover": ("old_satellite", "new_satellite", "old_elevation_deg", "new_elevation_deg"),
    "service_acquired": ("satellite", "elevation_deg"),
    "service_lost": ("satellite", "elevation_deg"),
    "pass_state": ("serving", "min_elevation_deg"),
    "pass_event": ("event", "elevation_deg"),
    "weather_state": ("state",),
    "weather_change": ("from_state", "to_state"),
    "secrecy": ("achieved_<user>_bps_hz", "planned_<user>_bps_hz"),
    "report_received": ("age_s",),
    "view_received": ("age_s",),
    "resolve": ("trigger", "method", "status", "fallback", "oldest_input_age_s", "wall_s"),
    "decision_applied": ("input_age_s",),
    "key_pool_state": ("link", "medium", "stock_bits", "warning_bits", "capacity_bits"),
    "key_pool_crossing": ("link", "to_state", "threshold_bits", "stock_bits"),
    "qkd_plan_applied": ("plan_id",),
    "qkd_plan_cost": ("plan_id", "duration_s", "first_stage_cost", "second_stage_cost", "requested_bits", "unmet_bits"),
    "key_demand_unmet": ("request", "reason", "from_s", "unmet_bits"),
}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _of(frames: Frames, kind: str) -> pd.DataFrame:
    return frames.get(kind, _EMPTY)


def _column(rows: pd.DataFrame, name: str) -> pd.Series:
    """A numeric column (NaN where absent or not a number)."""
    if name not in rows:
        return pd.Series(np.nan, index=rows.index, dtype=float)
    return pd.to_numeric(rows[name], errors="coerce").astype(float)


def _t_end(frames: Frames) -> float:
    """The last simulated time in the frames (s)."""
    ends = [float(rows["t_s"].max()) for rows in frames.values() if len(rows) and "t_s" in rows]
    return max(ends) if ends else 0.0


class _Time:
    """Simulated time on the x axis: seconds, or hours for runs longer than :data:`HOURS_ABOVE_S`."""

    def __init__(self, frames: Frames) -> None:
        hours = _t_end(frames) > HOURS_ABOVE_S
        self.scale = 1.0 / 3600.0 if hours else 1.0
        self.label = "time (h)" if hours else "time (s)"

    def __call__(self, t_s):
        return np.asarray(t_s, dtype=float) * self.scale


def _weather_spans(frames: Frames) -> list[tuple[float, float, str]]:
    """(start, end, state) spans (s): per tick from satellite_state, else from weather_state/weather_change."""
    sat = _of(frames, "satellite_state")
    if len(sat) and "weather" in sat:
        t = sat["t_s"].to_numpy(dtype=float)
        states = sat["weather"].astype(str).to_numpy()
    else:
        rows = [(float(r.t_s), str(r.state)) for r in _of(frames, "weather_state").itertuples() if hasattr(r, "state")]
        rows += [(float(r.t_s), str(r.to_state)) for r in _of(frames, "weather_change").itertuples() if hasattr(r, "to_state")]
        if not rows:
            return []
        rows.sort()
        t = np.array([r[0] for r in rows] + [max(_t_end(frames), rows[-1][0])])
        states = np.array([r[1] for r in rows] + [rows[-1][1]])
    spans, start = [], 0
    for i in range(1, len(t) + 1):
        if i == len(t) or states[i] != states[start]:
            end = t[i] if i < len(t) else t[-1]
            spans.append((float(t[start]), float(end), str(states[start])))
            start = i
    return spans


def _shade_weather(ax, spans, time: _Time) -> None:
    for start, end, state in spans:
        if state != "clear":
            ax.axvspan(time(start), time(end), color=WEATHER_COLOURS.get(state, "#eeeeee"), alpha=0.6, lw=0, zorder=0)


def _weather_legend(ax, spans) -> None:
    """Legend entries for the weather states that appear in the spans."""
    for state in dict.fromkeys(s for _, _, s in spans):
        if state != "clear":
            ax.fill_between([], [], color=WEATHER_COLOURS.get(state, "#eeeeee"), label=f"weather: {state}")


def _serving_windows(frames: Frames) -> list[tuple[float, float]]:
    """Intervals (s) in which the satellite is above its minimum elevation."""
    sat = _of(frames, "satellite_state")
    if len(sat) and "serving" in sat:
        t = sat["t_s"].to_numpy(dtype=float)
        on = sat["serving"].fillna(False).astype(bool).to_numpy()
        windows, start = [], None
        for k in range(len(t)):
            if on[k] and start is None:
                start = t[k]
            if start is not None and (not on[k] or k == len(t) - 1):
                windows.append((start, t[k]))
                start = None
        return windows
    passes = _of(frames, "pass_event")  # older logs: from rise/set events and the state at t = 0
    if passes.empty or "event" not in passes:
        return []
    rises = passes.loc[passes["event"] == "rise", "t_s"].astype(float).tolist()
    sets = passes.loc[passes["event"] == "set", "t_s"].astype(float).tolist()
    t0, t1 = (float(sat["t_s"].min()), float(sat["t_s"].max())) if len(sat) else (0.0, _t_end(frames))
    if sets and (not rises or sets[0] < rises[0]):
        rises.insert(0, t0)
    if rises and (not sets or rises[-1] > sets[-1]):
        sets.append(t1)
    return list(zip(rises, sets))


def _min_elevation_deg(frames: Frames) -> float | None:
    state = _of(frames, "pass_state")
    values = _column(state, "min_elevation_deg").dropna()
    return float(values.iloc[0]) if len(values) else None


def plot_geometry(frames: Frames):
    """Satellite and Sun elevation over time, the minimum elevation, serving windows and weather bands."""
    sat = _of(frames, "satellite_state")
    if sat.empty:
        return None
    plt = _plt()
    time = _Time(frames)
    fig, ax = plt.subplots(figsize=(8, 3.8), dpi=110)
    spans = _weather_spans(frames)
    _shade_weather(ax, spans, time)
    windows = _serving_windows(frames)
    for k, (a, b) in enumerate(windows):
        ax.axvspan(time(a), time(b), ymin=0.94, ymax=1.0, color="#e0a000", lw=0,
                   label="serving (above the minimum elevation)" if k == 0 else None)
    marker = "o" if len(sat) < 3 else None
    constellation = "serving_satellite" in sat  # many satellites: the elevation is the serving one's
    ax.plot(time(sat["t_s"]), _column(sat, "elevation_deg"), color="#1f4e9c", marker=marker,
            label="serving satellite's elevation" if constellation else "satellite elevation")
    handovers = _of(frames, "handover")
    for k, t_s in enumerate(handovers["t_s"] if len(handovers) else ()):
        ax.axvline(time(t_s), color="#7a3b9c", lw=0.8, ls="--", alpha=0.8, label=f"handover ({len(handovers)})" if k == 0 else None)
    for kind, colour, label in (("service_acquired", "#2a8c3a", "service acquired"), ("service_lost", "#c0392b", "service lost")):
        rows = _of(frames, kind)
        for k, t_s in enumerate(rows["t_s"] if len(rows) else ()):
            if t_s > 0:  # at t = 0 the acquisition is the initial state, not an event on the time axis
                ax.axvline(time(t_s), color=colour, lw=0.9, ls="-.", label=label if k == 0 else None)
    ax.plot(time(sat["t_s"]), _column(sat, "sun_elevation_deg"), color="#d98b00", linestyle="--", marker=marker, label="Sun elevation")
    minimum = _min_elevation_deg(frames)
    if minimum is not None:
        ax.axhline(minimum, color="#1f4e9c", lw=0.9, ls=":", label=f"minimum elevation ({minimum:g}°)")
        low, high = ax.get_ylim()
        ax.set_ylim(min(low, minimum - 5.0), max(high, minimum + 5.0))  # the line stays in view
    ax.axhline(0, color="black", lw=0.5)
    passes = _of(frames, "pass_event")
    if len(passes) and "event" in passes:  # rise and set are the serving band's edges; label each culmination
        peaks = passes[passes["event"] == "culminate"]
        for t_s, elevation in zip(peaks["t_s"], _column(peaks, "elevation_deg")):
            if math.isfinite(elevation):
                ax.annotate(f"peak {elevation:.1f}°", (time(t_s), elevation), textcoords="offset points", xytext=(6, -4),
                            ha="left", va="top", fontsize=7)
    _weather_legend(ax, spans)
    ax.set_xlabel(time.label)
    ax.set_ylabel("elevation (deg)")
    if constellation:
        ax.set_title(f"Constellation: serving satellite, {len(handovers)} handovers, weather" if windows
                     else "Constellation geometry and weather: no satellite serves in this log")
    else:
        ax.set_title("Satellite geometry, serving windows and weather" if windows
                     else "Satellite geometry and weather: the satellite never serves in this log")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_secrecy(frames: Frames):
    """Achieved (true channel) vs planned (twin's view) secrecy rate per user over time."""
    sec = _of(frames, "secrecy")
    if sec.empty:
        return None
    plt = _plt()
    time = _Time(frames)
    users = entity_names(sec.columns, "achieved_", "_bps_hz", exclude=("min",)) + ["min"]
    columns = 1 if len(users) <= 5 else 2 if len(users) <= 12 else 3
    per_column = math.ceil(len(users) / columns)
    fig, grid = plt.subplots(per_column, columns, figsize=(8 * columns ** 0.5, 2 * per_column), dpi=110, sharex=True, squeeze=False)
    axes = list(grid.T.ravel())
    for ax in axes[len(users):]:
        ax.set_visible(False)
    spans = _weather_spans(frames)
    t = time(sec["t_s"])
    marker = "o" if len(sec) < 3 else None
    for ax, user in zip(axes, users):
        _shade_weather(ax, spans, time)
        ax.step(t, _column(sec, f"planned_{user}_bps_hz"), where="post", color="#d98b00", lw=1, marker=marker, label="planned (twin's view)")
        ax.step(t, _column(sec, f"achieved_{user}_bps_hz"), where="post", color="#1f4e9c", lw=1, marker=marker, label="achieved (true channel)")
        ax.set_ylabel(f"{user.upper() if user != 'min' else 'min'} (bit/s/Hz)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="upper right")
    axes[0].set_title("Secrecy rate: achieved on the true channel vs planned by the twin")
    for ax in grid[-1]:
        ax.set_xlabel(time.label)
    fig.tight_layout()
    return fig


def plot_information_age(frames: Frames):
    """Age of the information at the edge twins, the core, each solve and each applied decision."""
    plt = _plt()
    time = _Time(frames)
    series = []
    for kind, column, label, style in (
        ("report_received", "age_s", "report at edge twin", dict(s=2, alpha=0.3)),
        ("view_received", "age_s", "view at core twin", dict(s=2, alpha=0.3)),
        ("resolve", "oldest_input_age_s", "oldest input of a solve", dict(s=8, marker="x")),
        ("decision_applied", "input_age_s", "input of an applied decision", dict(s=6, marker="^")),
    ):
        rows = _of(frames, kind)
        values = _column(rows, column)
        if values.notna().any():
            series.append((rows["t_s"], values, label, style))
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=110)
    for t, values, label, style in series:
        ax.scatter(time(t), values, label=label, **style)
    ax.set_xlabel(time.label)
    ax.set_ylabel("information age (s)")
    ax.set_title("How old the twin's information is when it is used")
    ax.legend(fontsize=7, markerscale=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_solver(frames: Frames):
    """Wall time of every re-solve, by trigger, with failed solves marked."""
    res = _of(frames, "resolve")
    wall = _column(res, "wall_s")
    if res.empty or wall.isna().all():
        return None
    plt = _plt()
    time = _Time(frames)
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=110)
    floor = 1e-7  # s: a zero wall time is drawn at the bottom of the log axis
    triggers = res["trigger"].astype(str) if "trigger" in res else pd.Series("?", index=res.index)
    for trigger in sorted(triggers.unique()):
        mask = triggers == trigger
        ax.scatter(time(res.loc[mask, "t_s"]), np.maximum(wall[mask].fillna(floor), floor), s=8, label=f"trigger: {trigger}")
    status = res["status"].astype(str) if "status" in res else pd.Series("ok", index=res.index)
    bad = status != "ok"
    if bad.any():
        ax.scatter(time(res.loc[bad, "t_s"]), np.maximum(wall[bad].fillna(floor), floor), s=40, facecolors="none",
                   edgecolors="red", label=f"not ok: {int(bad.sum())} (previous decision or fallback kept)")
    methods = ", ".join(map(str, res["method"].unique())) if "method" in res else "?"
    ax.set_yscale("log")
    ax.set_xlabel(time.label)
    ax.set_ylabel("wall time (s)")
    ax.set_title(f"Re-solves: {len(res):,}, method {methods}")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig


def _threshold(states: pd.DataFrame, crossings: pd.DataFrame, column: str) -> float | None:
    """A pool threshold (bit) from the state rows, or (older logs) from a crossing into WARNING."""
    values = _column(states, column).dropna()
    if len(values):
        return float(values.iloc[-1])
    if column == "warning_bits" and len(crossings) and "threshold_bits" in crossings:
        positive = _column(crossings, "threshold_bits")
        positive = positive[positive > 0]
        if len(positive):
            return float(positive.max())
    return None


def plot_key_pools(frames: Frames):
    """Key stock per link (one panel each, log scale) with its warning threshold, crossings and weather bands."""
    states = _of(frames, "key_pool_state")
    if states.empty or "link" not in states:
        return None
    crossings = _of(frames, "key_pool_crossing")
    plt = _plt()
    time = _Time(frames)
    links = list(dict.fromkeys(states["link"].astype(str)))
    ncols = 2 if len(links) <= 8 else 3 if len(links) <= 15 else 4
    nrows = math.ceil(len(links) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 1.9 * nrows + 1.1), dpi=110, sharex=True, sharey=True, squeeze=False)
    spans = _weather_spans(frames)
    floor = 1.0  # bit: an empty pool is drawn at the bottom of the log axis
    stock_all = _column(states, "stock_bits")
    top = max(float(stock_all.max()) if stock_all.notna().any() else floor, floor)
    for ax, link in zip(axes.flat, links):
        rows = states[states["link"].astype(str) == link]
        _shade_weather(ax, spans, time)
        medium = rows["medium"].iloc[0] if "medium" in rows else "?"
        stock = np.maximum(_column(rows, "stock_bits").fillna(floor), floor)
        ax.plot(time(rows["t_s"]), stock, color="#1f4e9c", lw=1.2, marker="o" if len(rows) < 3 else None, label="key in pool")
        warning = _threshold(rows, crossings[crossings["link"].astype(str) == link] if "link" in crossings else _EMPTY, "warning_bits")
        if warning is not None:
            ax.axhline(warning, color="black", ls="--", lw=0.8, label="warning threshold")
        capacity = _threshold(rows, _EMPTY, "capacity_bits")
        if capacity is not None and capacity <= 10 * top:
            ax.axhline(capacity, color="grey", ls=":", lw=0.8, label="capacity")
        marks = crossings[crossings["link"].astype(str) == link] if len(crossings) and "link" in crossings else _EMPTY
        if len(marks):
            ax.scatter(time(marks["t_s"]), np.maximum(_column(marks, "stock_bits").fillna(floor), floor), s=22, color="red",
                       marker="x", zorder=3, label="threshold crossing")
        ax.set_yscale("log")
        ax.set_title(f"{link} ({medium})", fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(links):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("key (bit)")
    for ax in axes[-1, :]:
        ax.set_xlabel(time.label)
    handles = {}
    for ax in axes.flat[:len(links)]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    for state in dict.fromkeys(s for _, _, s in spans):
        if state != "clear":
            handles[f"weather: {state}"] = plt.Rectangle((0, 0), 1, 1, color=WEATHER_COLOURS.get(state, "#eeeeee"))
    fig.suptitle("Key pools per QKD link (log scale; a cloudy sky blocks the satellite links)", fontsize=11)
    fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=min(len(handles), 5), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    return fig


def plot_qkd_cost(frames: Frames):
    """Per plan (bar = time in force): reservation vs second-stage cost rate; below, the key left unmet over time by reason."""
    costs = _of(frames, "qkd_plan_cost")
    unmet = _of(frames, "key_demand_unmet")
    if costs.empty and unmet.empty:
        return None
    plt = _plt()
    time = _Time(frames)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5.4), dpi=110, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    applied = _of(frames, "qkd_plan_applied")
    for ax in (top, bottom):
        for k, t in enumerate(applied["t_s"] if len(applied) else ()):
            ax.axvline(time(t), color="grey", lw=0.6, ls=":", label="a plan takes effect" if k == 0 and ax is bottom else None)
    if len(costs):
        duration = _column(costs, "duration_s").fillna(0.0).to_numpy()
        start = costs["t_s"].to_numpy(dtype=float) - duration
        hours = np.maximum(duration, 1e-9) / 3600.0
        first = _column(costs, "first_stage_cost").fillna(0.0).to_numpy() / hours
        second = _column(costs, "second_stage_cost").fillna(0.0).to_numpy() / hours
        top.bar(time(start), first, width=time(duration), align="edge", color="#4c78a8", edgecolor="white", label="reservation (first stage, pro rata)")
        top.bar(time(start), second, width=time(duration), bottom=first, align="edge", color="#f58518", edgecolor="white",
                label="on demand + utilisation (second stage)")
        from eventlog.text import sig

        top.set_title(f"QKD cost while each plan was in force: {sig(float(_column(costs, 'first_stage_cost').sum()))} reservation"
                      f" + {sig(float(_column(costs, 'second_stage_cost').sum()))} second stage", fontsize=10)
        top.set_ylim(0.0, 1.35 * max(float(np.max(first + second)), 1e-9))  # room for the legend above the bars
        top.yaxis.set_major_formatter(_number_formatter())
        top.legend(fontsize=7, loc="upper left", ncol=2)
    else:
        top.text(0.5, 0.5, "no plan has left service in this log", ha="center", va="center", transform=top.transAxes)
        top.set_title("QKD cost while each plan was in force", fontsize=10)
    top.set_ylabel("cost rate (Table I units / h)")
    top.grid(alpha=0.3)
    _plot_unmet(bottom, unmet, time, _t_end(frames))
    bottom.set_xlabel(time.label)
    fig.tight_layout()
    return fig


def _number_formatter():
    """Tick labels with thousands separators and no float noise (no ``1e6`` offset above the axis)."""
    from matplotlib.ticker import FuncFormatter

    from eventlog.text import sig

    return FuncFormatter(lambda value, _: sig(float(value), 3))


def _plot_unmet(ax, unmet: pd.DataFrame, time: _Time, t_end: float) -> None:
    """Cumulative unmet key (bit) by reason, including what was unmet before the first plan."""
    from eventlog.text import with_unit

    total = 0.0
    if len(unmet) and "unmet_bits" in unmet:
        reasons = unmet["reason"].astype(str) if "reason" in unmet else pd.Series("unmet", index=unmet.index)
        for reason in sorted(reasons.unique()):
            rows = unmet[reasons == reason].sort_values("t_s")
            bits = _column(rows, "unmet_bits").fillna(0.0).cumsum()
            total += float(bits.iloc[-1])
            t = np.concatenate(([0.0], rows["t_s"].to_numpy(dtype=float), [max(t_end, float(rows["t_s"].max()))]))
            y = np.concatenate(([0.0], bits.to_numpy(), [bits.iloc[-1]]))
            ax.step(time(t), y, where="post", lw=1.4, label=f"{reason}: {with_unit(float(bits.iloc[-1]), 'bit')}")
    ax.set_ylim(bottom=0.0)
    ax.yaxis.set_major_formatter(_number_formatter())
    ax.set_ylabel("unmet key, cumulative (bit)")
    ax.set_title(f"Key demand left unmet: {with_unit(total, 'bit')} in all" if total else "No key demand left unmet", fontsize=10)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper left")


PLOTS: dict[str, Callable[[Frames], object]] = {
    "geometry.png": plot_geometry,
    "secrecy.png": plot_secrecy,
    "information_age.png": plot_information_age,
    "solver.png": plot_solver,
    "key_pools.png": plot_key_pools,
    "qkd_cost.png": plot_qkd_cost,
}


def write_report(frames: Frames, out: Path, *, warn: Callable[[str], None] | None = None) -> tuple[list[Path], list[str], list[str]]:
    """Draw every plot that has data into ``out`` (created only when the first one is written).

    Returns the files written, the plots skipped for lack of data, and the plots that failed
    (each failure is reported through ``warn`` as one line and the others are still drawn).
    """
    warn = warn or (lambda message: print(message, file=sys.stderr))
    written, skipped, failed = [], [], []
    for name, plot in PLOTS.items():
        try:
            fig = plot(frames)
        except Exception as exc:  # one broken figure must not cost the others
            warn(f"report: could not draw {name}: {type(exc).__name__}: {exc}")
            failed.append(name)
            _plt().close("all")
            continue
        if fig is None:
            skipped.append(name)
            continue
        out.mkdir(parents=True, exist_ok=True)
        partial = out / (name + ".partial")
        try:
            fig.savefig(partial, format="png")
            partial.replace(out / name)
        finally:
            partial.unlink(missing_ok=True)
            _plt().close(fig)
        written.append(out / name)
    return written, skipped, failed
