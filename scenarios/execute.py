"""Run a prepared scenario into a folder: scenario snapshot, event log, summary."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Callable

from eventlog import EventLog
from eventlog.reader import load_events
from eventlog.summary import summarize
from eventlog.writer import ARRAYS_FILE, EVENTS_FILE, TIMINGS_FILE, LogWriteError
from sagin_twin import __version__
from sagin_twin.errors import RunFailure
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


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a partial file, so a full disk never leaves half a file."""
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        partial.unlink(missing_ok=True)
        raise


def execute(prepared: Prepared, out: Path, *, progress: Callable[[float], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> dict:
    """Run a prepared scenario writing its log into ``out`` (already created); returns the summary.

    Raises:
        RunFailure: a log file could not be written (e.g. the disk is full); the log is readable up
            to its last complete line and has no ``run_finished`` row.
        KeyboardInterrupt: ``should_stop()`` said stop; the log ends with ``run_finished`` (``interrupted``).
    """
    scenario = prepared.scenario
    _write_atomically(out / RUN_FILE, json.dumps(
        {"version": __version__, "scenario_file": str(scenario.path), "scenario": dataclasses.asdict(scenario)},
        indent=2, default=_jsonable) + "\n")
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
    except Exception:
        if log.failure is None:
            raise
        # a log write failed (perhaps seen by a component as another error): reported below, after closing
    finally:
        if log.failure is None:  # nothing more can be written once a write failed
            try:
                if sim is not None:
                    sim.finish()
                now = sim.env.now if sim is not None else 0.0
                ticks = sim.world.ticks_done if sim is not None else 0
                log.log(now, "run", "run_finished", status=status, ticks=ticks)
            except LogWriteError:
                pass
        log.close()
    if log.failure is not None:
        last = "no event" if log.last_t_s is None else f"the event at t = {log.last_t_s:.2f} s"
        raise RunFailure(f"{log.failure}; the log is readable up to {last}, without a run_finished row")
    summary = summarize(load_events(out))
    _write_atomically(out / SUMMARY_FILE, json.dumps(summary, indent=2, default=str) + "\n")
    return summary
