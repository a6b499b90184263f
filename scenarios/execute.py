"""Run a prepared scenario into a folder: scenario snapshot, event log, summary."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Callable

from eventlog import EventLog
from eventlog.reader import load_events
from eventlog.summary import summarize
from eventlog.writer import ARRAYS_FILE, EVENTS_FILE, TIMINGS_FILE
from sagin_twin import __version__
from scenarios.build import Prepared, build

RUN_FILE = "run.json"
SUMMARY_FILE = "summary.json"
OUTPUT_FILES = (EVENTS_FILE, ARRAYS_FILE, TIMINGS_FILE, RUN_FILE, SUMMARY_FILE)


def _jsonable(value):
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(type(value).__name__)


def execute(prepared: Prepared, out: Path, *, progress: Callable[[float], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> dict:
    """Run a prepared scenario writing its log into ``out`` (already created); returns the summary."""
    scenario = prepared.scenario
    (out / RUN_FILE).write_text(
        json.dumps({"version": __version__, "scenario_file": str(scenario.path), "scenario": dataclasses.asdict(scenario)},
                   indent=2, default=_jsonable) + "\n",
        encoding="utf-8",
    )
    log = EventLog.open(out)
    status = "error"
    sim = None
    try:
        sim = build(prepared, log)
        sim.run(progress=progress, should_stop=should_stop)
        status = "completed"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        if sim is not None:
            sim.finish()
        now = sim.env.now if sim is not None else 0.0
        ticks = sim.world.ticks_done if sim is not None else 0
        log.log(now, "run", "run_finished", status=status, ticks=ticks)
        log.close()
    summary = summarize(load_events(out))
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    return summary
