"""The value of a fresher, smarter twin: achieved min secrecy rate vs the age of the twin's CSI.

For each channel draw the default scenario's geometry is taken at an instant t₀ near the pass
culmination (the satellite, the UAV on its flight plan, the moving users); the physical channel
model draws the channels at t₀ (the report, with Eve's estimation error Δ) and carries the same
fading processes to t₀ + τ, where the decision is judged. Each variant is a method and a view:
``report`` takes the τ-old report as exact (as the twin did before it predicted), ``forecast``
designs on the twin's forecast for t₀ + τ (its prior models, no learning) — its means for the
vector designs, its second moments for the statistical ones (``synergy-stat``, ``slnr-stat``).
Rates are evaluated on the true channels at t₀ + τ. Draw ``d`` uses the same fading for every age
and variant (common random numbers).
"""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from physical.channel_matrix import ChannelMatrix
from physical.channels import ChannelModel, estimate_with_error
from physical.mobility import LinearMotion
from physical.reports import TransmitterReport
from physical.secrecy import secrecy_rates_of
from twin.precoding import PRECODERS, PrecodingProblem
from twin.prediction import ChannelPredictor, SatelliteTrack, TwinKnowledge

NAME = "twin-value"
AGES_S: tuple[float, ...] = (0.0, 0.25, 0.65, 1.0, 2.0)  #: CSI ages τ between report and use (s)
#: (method, view) drawn by default: nominal synergy on the old report and on the forecast mean, ZF-all, the statistical design
VARIANTS: tuple[tuple[str, str], ...] = (("synergy", "report"), ("synergy", "forecast"), ("zf-all", "report"),
                                         ("synergy-stat", "forecast"))
STATISTICAL: frozenset[str] = frozenset({"synergy-stat", "slnr-stat"})  #: designs on second moments
WINDOW_S = 60.0  #: t₀ is drawn uniformly within this time of the pass culmination (s)
DEFAULT_SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "default.toml"


@dataclass(frozen=True)
class Task:
    """One solve: CSI age τ (s), method, view (``report`` or ``forecast``) and channel draw."""

    age_s: float
    method: str
    view: str
    draw: int
    seed: int
    scenario: str = str(DEFAULT_SCENARIO)


def tasks(draws: int, seed: int, methods: Iterable[str] | None = None, ages_s: Iterable[float] = AGES_S) -> list[Task]:
    """Every (age, variant, draw); ``methods`` replaces the default variants (statistical ones on the forecast)."""
    variants = [(m, "forecast" if m in STATISTICAL else "report") for m in methods] if methods else VARIANTS
    return [Task(float(age), method, view, d, seed) for age in ages_s for method, view in variants for d in range(draws)]


@dataclass(frozen=True)
class _World:
    """What a draw needs from the scenario: the twin's models, the receivers' motion, the powers and the culmination time."""

    knowledge: TwinKnowledge
    receivers: dict[str, LinearMotion]
    powers_w: dict[str, float]
    culmination_s: float


@functools.lru_cache(maxsize=4)
def _world(scenario_path: str) -> _World:
    from scenarios.build import base_station_positions_m, flight_plans, power_limits_w, prepare, radio_parameters, receiver_motions
    from scenarios.config import load_scenario

    scenario = load_scenario(Path(scenario_path))
    prepared = prepare(scenario)
    geometry = prepared.geometry
    knowledge = TwinKnowledge(
        radio=radio_parameters(scenario),
        topology=scenario.entities.topology,
        satellite=SatelliteTrack.from_geometry(geometry),
        beam_centre_m=np.asarray(scenario.satellite.beam_centre_enu_m, dtype=float),
        uav_plans=flight_plans(scenario),
        bs_m=base_station_positions_m(scenario),
        eve_error_bound=scenario.radio.eve_csi_error,
    )
    culmination = float(geometry.t_s[int(np.argmax(geometry.elevation_rad))])
    return _World(knowledge, receiver_motions(scenario), power_limits_w(scenario), culmination)


def _reports(world: _World, t_s: float, channels: ChannelMatrix, estimates: dict[str, dict[str, np.ndarray]]) -> dict[str, TransmitterReport]:
    top = world.knowledge.topology
    positions = {r: world.receivers[r].position_m(t_s) for r in top.receivers}
    velocities = {r: np.asarray(world.receivers[r].velocity_mps, dtype=float) for r in top.receivers}
    return {tx: TransmitterReport(transmitter=tx, measured_at_s=t_s, channels={u: channels[tx, u] for u in top.users},
                                  eve_estimates=estimates[tx], power_limit_w=world.powers_w[tx], position_m=np.zeros(3),
                                  receivers_m=positions, receivers_velocity_mps=velocities)
            for tx in top.transmitters}


def run_task(task: Task) -> dict:
    """Draw, design on the τ-old view, judge on the truth at t₀ + τ; a flat row (bit/s/Hz)."""
    world = _world(task.scenario)

    def rng_for(name: str) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(task.seed, spawn_key=(task.draw, zlib.crc32(name.encode()))))

    t0 = world.culmination_s + WINDOW_S * float(rng_for("instant").uniform(-1.0, 1.0))
    know = world.knowledge
    top = know.topology
    model = ChannelModel(know.radio, top, rng_for)

    def geometry(t_s: float):
        return know.geometry(t_s, {r: world.receivers[r].position_m(t_s) for r in top.receivers}, 0.0)

    report = model.step(t0, geometry(t0))
    estimation = rng_for("estimation")
    estimates = {tx: {e: estimate_with_error(report[tx, e], know.eve_error_bound, estimation) for e in top.eves} for tx in top.transmitters}
    truth = model.step(t0 + task.age_s, geometry(t0 + task.age_s)) if task.age_s > 0 else report
    if task.view == "forecast":
        reports = _reports(world, t0, report, estimates)
        forecast = ChannelPredictor(know).forecast(reports, 0.0, (t0 + task.age_s,), t0)
        problem = PrecodingProblem(forecast.design_matrix(), world.powers_w, eve_error_bound=know.eve_error_bound,
                                   second_moments=forecast.second_moments() if task.method in STATISTICAL else None)
    else:
        design = report.replaced({(tx, e): vec for tx, by_eve in estimates.items() for e, vec in by_eve.items()})
        problem = PrecodingProblem(design, world.powers_w, eve_error_bound=know.eve_error_bound)
    result = PRECODERS[task.method]().solve(problem)
    achieved = secrecy_rates_of(truth, result.precoders)
    return {
        "figure": NAME, "age_s": task.age_s, "method": task.method, "view": task.view, "draw": task.draw, "t0_s": t0,
        "status": result.status, "min_rate_bps_hz": achieved.min_rate,
        **{f"rate_{u}_bps_hz": r for u, r in achieved.rates.items()},
        "design_min_rate_bps_hz": result.objective, "solve_s": result.solve_s,
    }


def aggregate(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard error and 10th percentile of the achieved min rate per (age, method, view)."""
    grouped = rows.groupby(["age_s", "method", "view"])["min_rate_bps_hz"]
    out = pd.DataFrame({
        "min_rate_bps_hz_mean": grouped.mean(),
        "min_rate_bps_hz_sem": grouped.std(ddof=1) / np.sqrt(grouped.count()),
        "min_rate_bps_hz_p10": grouped.quantile(0.1),
        "draws": grouped.size(),
    }).reset_index()
    return out


def plot(table: pd.DataFrame, path) -> None:
    """Achieved min secrecy rate vs CSI age, one line per method, with standard-error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    views = {"report": "on the τ-old report", "forecast": "on the forecast"}
    for (method, view), group in table.groupby(["method", "view"], sort=False):
        group = group.sort_values("age_s")
        kind = " (statistical)" if method in STATISTICAL else ""
        ax.errorbar(group["age_s"], group["min_rate_bps_hz_mean"], yerr=group["min_rate_bps_hz_sem"],
                    marker="o", markersize=4, capsize=3, label=f"{method} {views[view]}{kind}")
    ax.set_xlabel("age of the twin's CSI when the decision is judged, τ (s)")
    ax.set_ylabel("achieved min secrecy rate (bit/s/Hz)")
    ax.set_title(f"Value of a predicting twin (default scenario near culmination, {int(table['draws'].min())} draws/point)")
    ax.title.set_fontsize(9)
    ax.grid(alpha=0.3)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)

