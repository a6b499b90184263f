"""Job-size limits: estimate the work of a run, a figure or a sweep before starting, refuse beyond a limit.

A scenario's work is counted in simulation steps: every wake-up of a periodic process over the run
(world ticks, the core twin's trigger checks, and with a QKD layer its pool steps, reports, planner
checks, pool log rows and demand changes, weather-trace rows). The default scenario is 1,465 steps
and full-day.toml 22,464; the limit, ``MAX_SIMULATION_STEPS`` = 5,000,000, admits the default
stretched to a week (1.48 million) with room to spare. A step is not a fixed cost (a tick
evaluates every channel; a check may start a solve), so the limit bounds the job's size, not its
wall time. Figures count solves and sweeps count runs. ``--allow-large`` (on ``run``, ``sweep`` and
``figure``) lifts every limit; the refusal says how big the job is and names the field that makes it
so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from common.errors import InputError

MAX_SIMULATION_STEPS: Final = 5_000_000  #: largest scenario run accepted without --allow-large (simulation steps)
MAX_FIGURE_SOLVES: Final = 100_000  #: largest figure accepted without --allow-large (solves)
MAX_CONSTELLATION_SAMPLES: Final = 30_000_000  #: largest constellation geometry (satellites × ticks, ≈ 29 bytes each) without --allow-large
MAX_SWEEP_RUNS: Final = 100_000  #: largest sweep accepted without --allow-large (runs or solves)
OVERRIDE: Final = "--allow-large"  #: the option that lifts the limits


@dataclass(frozen=True)
class Work:
    """``count`` steps of one process, driven by the scenario field ``field`` (= ``value`` in ``unit``)."""

    what: str
    count: float
    field: str
    value: float
    unit: str = "s"


def scenario_work(scenario) -> list[Work]:
    """The periodic processes of a validated scenario and how often each wakes up over the run."""
    run, twin = scenario.run, scenario.twin
    duration = run.duration_s
    work = [
        Work("world ticks", float(run.n_ticks), "run.tick_s", run.tick_s),
        Work("trigger checks", duration / twin.check_period_s, "twin.check_period_s", twin.check_period_s),
    ]
    qkd = scenario.qkd
    if qkd is not None:
        links = len(scenario.qkd_network.links) if scenario.qkd_network is not None else 1
        work += [
            Work("key-pool steps", duration / qkd.step_s, "qkd.step_s", qkd.step_s),
            Work("QKD reports and planner checks", 2 * duration / qkd.report_period_s, "qkd.report_period_s", qkd.report_period_s),
            Work("key-pool log rows", links * duration / qkd.log_period_s, "qkd.log_period_s", qkd.log_period_s),
        ]
        if qkd.demand.model == "random":
            work.append(Work("key-demand re-draws", duration / qkd.demand.hold_s, "qkd.demand.hold_s", qkd.demand.hold_s))
        else:
            work.append(Work("key-demand changes", float(len(scenario.demand_records)), "qkd.demand.trace", float(len(scenario.demand_records)), "rows"))
    if scenario.weather.model == "trace":
        work.append(Work("weather changes", float(len(scenario.weather_records)), "weather.trace", float(len(scenario.weather_records)), "rows"))
    return work


def check_workload(scenario, source: str, allow_large: bool) -> None:
    """Refuse a scenario whose run would exceed ``MAX_SIMULATION_STEPS`` (unless ``allow_large``); the error names the biggest process."""
    work = scenario_work(scenario)
    total = sum(w.count for w in work)
    constellation = getattr(scenario, "constellation", None)
    if constellation is not None and not allow_large:
        ticks = scenario.run.n_ticks + constellation.lookahead_s / scenario.run.tick_s
        samples = scenario.constellation_satellites * ticks
        if samples > MAX_CONSTELLATION_SAMPLES:
            raise InputError(
                f"the constellation's geometry would hold {scenario.constellation_satellites:,} satellites × {ticks:,.0f} ticks = "
                f"{samples:.3g} samples (≈ {samples * 29 / 2**30:.1f} GiB); the limit is {MAX_CONSTELLATION_SAMPLES:,}: use fewer "
                f"satellites, a shorter run or a longer run.tick_s, or pass {OVERRIDE} to run it anyway",
                source=source, field="constellation")
    if allow_large or total <= MAX_SIMULATION_STEPS:
        return
    big = max(work, key=lambda w: w.count)
    setting = f"{big.value:g} {big.unit}" if big.unit != "rows" else f"{big.value:.0f} rows"
    raise InputError(
        f"the run would take about {total:.3g} simulation steps, {big.count:.3g} of them {big.what} "
        f"({big.field} = {setting} over run.duration_s = {scenario.run.duration_s:g} s); the limit is "
        f"{MAX_SIMULATION_STEPS:,} steps: change {big.field} or run.duration_s, or pass {OVERRIDE} to run it anyway",
        source=source, field=big.field,
    )


def check_count(count: float, limit: int, what: str, source: str | None, field: str | None, allow_large: bool, hint: str) -> None:
    """Refuse ``count`` units of work (solves, runs) above ``limit`` unless ``allow_large``; ``hint`` says how to shrink it."""
    if allow_large or count <= limit:
        return
    raise InputError(f"{count:,.0f} {what} is more than the limit of {limit:,}: {hint}, or pass {OVERRIDE} to run it anyway",
                     source=source, field=field)
