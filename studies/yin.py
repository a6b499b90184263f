"""Monte-Carlo sweeps reproducing the trends of Yin et al.'s Figs. 2–8 (secrecy rate vs a parameter).

Each figure sweeps one parameter of the static paper geometry (:mod:`physical.snapshot`), draws
channels with common random numbers (draw ``d`` is the same fading for every parameter value and
method), designs precoders on Eve's *estimated* channels (error Δ) and evaluates the secrecy
rates on the TRUE channels. The figure numbering follows the order of the trends listed in
shared/DESIGN.md section 2; the paper's exact axes may differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd

from physical.secrecy import ChannelSet, secrecy_rates
from physical.snapshot import Snapshot, paper_radio
from physical.units import dbw_to_watts
from twin.precoding import PRECODERS, PrecodingProblem

PAPER_POWERS_DBW = {"p_s_dbw": 10.0, "p_u_dbw": 5.0, "p_b_dbw": 15.0}  #: P_S, P_U, P_B of the paper
PAPER_ANTENNAS = 4
PAPER_UAV_ALTITUDE_M = 100.0


@dataclass(frozen=True)
class FigureSpec:
    """One figure: which parameter is swept, over which values, for which Δ and methods.

    Args:
        name: command-line name (``yin-fig2`` …).
        title: plot title.
        parameter: ``p_s_dbw``, ``p_u_dbw``, ``p_b_dbw``, ``antennas``, ``uav_altitude_m`` or ``delta``.
        values: the swept values (units in the parameter's name).
        deltas: Eve-CSI error bounds Δ plotted as separate lines (ignored when sweeping ``delta``).
        methods: precoding policies (names in ``twin.precoding.PRECODERS``).
        per_user: plot SU/AU/GU rates (True) or the minimum rate only (False).
    """

    name: str
    title: str
    parameter: str
    values: tuple[float, ...]
    deltas: tuple[float, ...] = (0.0, 0.1, 0.2)
    methods: tuple[str, ...] = ("synergy",)
    per_user: bool = True


FIGURES: dict[str, FigureSpec] = {spec.name: spec for spec in (
    FigureSpec("yin-fig2", "Secrecy rate vs satellite power P_S", "p_s_dbw", (0.0, 5.0, 10.0, 15.0, 20.0)),
    FigureSpec("yin-fig3", "Secrecy rate vs UAV power P_U", "p_u_dbw", (-5.0, 0.0, 5.0, 10.0, 15.0)),
    FigureSpec("yin-fig4", "Secrecy rate vs base-station power P_B", "p_b_dbw", (5.0, 10.0, 15.0, 20.0, 25.0)),
    FigureSpec("yin-fig5", "Secrecy rate vs antennas per transmitter N", "antennas", (2, 4, 6, 8)),
    FigureSpec("yin-fig6", "Secrecy rate vs UAV altitude", "uav_altitude_m", (50.0, 100.0, 150.0, 200.0, 300.0)),
    FigureSpec("yin-fig7", "Min secrecy rate vs Eve-CSI error Δ", "delta", (0.0, 0.05, 0.1, 0.15, 0.2),
               deltas=(), methods=("synergy", "synergy-robust", "zf-all"), per_user=False),
    FigureSpec("yin-fig8", "Min secrecy rate vs P_S: synergy vs MRT vs ZF", "p_s_dbw", (0.0, 5.0, 10.0, 15.0, 20.0),
               deltas=(0.0, 0.1), methods=("synergy", "mrt", "zf"), per_user=False),
)}


@dataclass(frozen=True)
class Task:
    """One solve of a figure: parameter value, Δ, method and channel draw."""

    figure: str
    parameter: str
    value: float
    delta: float
    method: str
    draw: int
    seed: int


def tasks(spec: FigureSpec, draws: int, seed: int, methods: Iterable[str] | None = None) -> list[Task]:
    """Every (value, Δ, method, draw) of ``spec``."""
    chosen = tuple(methods) if methods else spec.methods
    deltas = (None,) if spec.parameter == "delta" else spec.deltas
    out = []
    for value in spec.values:
        for delta in deltas:
            for method in chosen:
                for d in range(draws):
                    out.append(Task(spec.name, spec.parameter, float(value), float(value if delta is None else delta), method, d, seed))
    return out


def task_problem(task: Task) -> tuple[PrecodingProblem, ChannelSet]:
    """(design problem on Eve's estimates, true channels) of one task's draw."""
    powers = dict(PAPER_POWERS_DBW)
    snapshot = Snapshot(paper_radio(PAPER_ANTENNAS))
    if task.parameter in powers:
        powers[task.parameter] = task.value
    elif task.parameter == "antennas":
        snapshot = snapshot.with_antennas(int(task.value))
    elif task.parameter == "uav_altitude_m":
        snapshot = snapshot.with_uav_altitude(task.value)
    snapshot = snapshot if task.parameter == "uav_altitude_m" else snapshot.with_uav_altitude(PAPER_UAV_ALTITUDE_M)
    truth, design = snapshot.draw(task.seed, task.draw, task.delta)
    problem = PrecodingProblem.paper(
        design, float(dbw_to_watts(powers["p_s_dbw"])), float(dbw_to_watts(powers["p_u_dbw"])),
        float(dbw_to_watts(powers["p_b_dbw"])), eve_error_bound=task.delta,
    )
    return problem, truth


def run_task(task: Task) -> dict:
    """Solve one task and return a flat row (rates on the TRUE channels, bit/s/Hz)."""
    problem, truth = task_problem(task)
    result = PRECODERS[task.method]().solve(problem)
    achieved = secrecy_rates(truth, result.w, result.f, result.v)
    return {
        "figure": task.figure, "parameter": task.parameter, "value": task.value, "delta": task.delta,
        "method": task.method, "draw": task.draw, "status": result.status,
        **{f"rate_{u}_bps_hz": r for u, r in achieved.rates.items()},
        "min_rate_bps_hz": achieved.min_rate, "planned_min_rate_bps_hz": result.objective,
        "iterations": result.iterations, "solve_s": result.solve_s,
    }


def aggregate(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard error per (value, Δ, method) of each rate."""
    metrics = ["rate_su_bps_hz", "rate_au_bps_hz", "rate_gu_bps_hz", "min_rate_bps_hz", "planned_min_rate_bps_hz"]
    grouped = rows.groupby(["value", "delta", "method"])[metrics]
    mean = grouped.mean().add_suffix("_mean")
    sem = (grouped.std(ddof=1) / np.sqrt(grouped.count())).add_suffix("_sem")
    out = mean.join(sem).reset_index()
    out["draws"] = grouped.size().to_numpy()
    return out


AXIS_LABELS = {
    "p_s_dbw": "satellite power P_S (dBW)", "p_u_dbw": "UAV power P_U (dBW)", "p_b_dbw": "base-station power P_B (dBW)",
    "antennas": "antennas per transmitter N", "uav_altitude_m": "UAV altitude (m)", "delta": "Eve-CSI error bound Δ",
}
LINE_STYLES = ("-", "--", ":", "-.")


def plot(spec: FigureSpec, table: pd.DataFrame, path) -> None:
    """Draw :func:`figure` into ``path`` (PNG)."""
    import matplotlib.pyplot as plt

    fig = figure(spec, table)
    fig.savefig(path, format="png")
    plt.close(fig)


def figure(spec: FigureSpec, table: pd.DataFrame):
    """The aggregated table with standard-error bars (a matplotlib Figure).

    Per-user figures get one panel per user (SU, AU, GU; shared y axis) with a line per Δ (and
    method); min-rate figures one panel with a colour per method and a line style per Δ.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    users = ("su", "au", "gu") if spec.per_user else ("min",)
    methods = list(dict.fromkeys(table["method"]))
    deltas = [None] if spec.parameter == "delta" else sorted(table["delta"].unique())
    fig, axes = plt.subplots(1, len(users), figsize=(max(3.6 * len(users) + 1.0, 6.4), 4.2), dpi=120, sharey=True, squeeze=False)
    for ax, user in zip(axes[0], users):
        column = "min_rate_bps_hz_mean" if user == "min" else f"rate_{user}_bps_hz_mean"
        line = 0
        for m_index, method in enumerate(methods):
            for d_index, delta in enumerate(deltas):
                group = table[table["method"] == method]
                if delta is not None:
                    group = group[group["delta"] == delta]
                group = group.sort_values("value")
                parts = [method] if len(methods) > 1 else []
                if delta is not None:
                    parts.append(f"Δ = {delta:g}")
                if spec.per_user:  # colour per line within a user's panel
                    colour, style = colours[line % len(colours)], LINE_STYLES[m_index % len(LINE_STYLES)]
                else:  # colour per method, style per Δ
                    colour, style = colours[m_index % len(colours)], LINE_STYLES[d_index % len(LINE_STYLES)]
                ax.errorbar(group["value"], group[column], yerr=group[column.replace("_mean", "_sem")], color=colour,
                            linestyle=style, marker="o", markersize=3, capsize=2, label=", ".join(parts) or method)
                line += 1
        ax.set_title(user.upper() if user != "min" else "minimum over SU, AU, GU", fontsize=10)
        ax.set_xlabel(AXIS_LABELS.get(spec.parameter, spec.parameter))
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("secrecy rate on the true channel (bit/s/Hz)")
    axes[0, -1].legend(fontsize=7, loc="best")
    fig.suptitle(f"{spec.title}\n{int(table['draws'].min())} draws per point; mean ± standard error", fontsize=10)
    fig.tight_layout()
    return fig
