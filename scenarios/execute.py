"""Run a prepared scenario into a folder: scenario snapshot, provenance, event log, summaries.

Files written (see README "Reading the log"):
- byte-identical for the same scenario file, seed and code: ``run.json`` (the validated scenario
  as run), ``events.jsonl``, ``arrays.jsonl`` and ``summary.json`` (the summary without wall times);
- different on every run: ``timings.jsonl`` and ``timings_summary.json`` (wall-clock times), and
  ``provenance.json`` (git commit, dependency versions, machine, when).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Callable

from eventlog import EventLog
from eventlog.summary import WALL_CLOCK, deterministic_part, json_safe, summarize_log
from eventlog.writer import ARRAYS_FILE, EVENTS_FILE, TIMINGS_FILE, LogWriteError
from common import __version__
from common.errors import RunFailure
from common.provenance import provenance
from common.threads import one_blas_thread
from scenarios.build import Prepared, build

RUN_FILE = "run.json"
SUMMARY_FILE = "summary.json"
TIMINGS_SUMMARY_FILE = "timings_summary.json"
PROVENANCE_FILE = "provenance.json"
#: every file a run writes into its folder
OUTPUT_FILES = (EVENTS_FILE, ARRAYS_FILE, TIMINGS_FILE, RUN_FILE, SUMMARY_FILE, TIMINGS_SUMMARY_FILE, PROVENANCE_FILE)
#: the files that are byte-identical for two runs of the same scenario file and seed with the same code
REPRODUCIBLE_FILES = (EVENTS_FILE, ARRAYS_FILE, RUN_FILE, SUMMARY_FILE)


def _jsonable(value):
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(type(value).__name__)


def scenario_record(scenario) -> dict:
    """The scenario as ``run.json`` records it; the constellation's entries only when it has one (older logs stay the same)."""
    record = dataclasses.asdict(scenario)
    if scenario.constellation is None:
        record.pop("constellation", None)
        record.pop("constellation_satellites", None)
    return record


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a partial file, so a full disk never leaves half a file."""
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        partial.unlink(missing_ok=True)
        raise


def _write_json(path: Path, document) -> None:
    _write_atomically(path, json.dumps(json_safe(document), indent=2, default=_jsonable, allow_nan=False) + "\n")


def execute(prepared: Prepared, out: Path, *, progress: Callable[[float], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> dict:
    """Run a prepared scenario writing its log into ``out`` (already created); returns the summary (with wall times).

    Raises:
        RunFailure: a log file could not be written (e.g. the disk is full); the log is readable up
            to its last complete line and has no ``run_finished`` row.
        KeyboardInterrupt: ``should_stop()`` said stop; the log ends with ``run_finished`` (``interrupted``).
    """
    scenario = prepared.scenario
    started = time.perf_counter()
    _write_atomically(out / RUN_FILE, json.dumps(
        {"version": __version__, "scenario_file": str(scenario.path), "scenario": scenario_record(scenario)},
        indent=2, default=_jsonable) + "\n")
    _write_json(out / PROVENANCE_FILE, provenance())
    log = EventLog.open(out)
    status = "error"
    sim = None
    try:
        with one_blas_thread():  # the log must not depend on the machine's BLAS thread settings
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
    simulated_s = time.perf_counter() - started
    summary = summarize_log(out)  # streamed: memory does not grow with the log
    _write_json(out / SUMMARY_FILE, deterministic_part(summary))
    _write_json(out / TIMINGS_SUMMARY_FILE, {"run_wall_s": simulated_s, "summary_wall_s": time.perf_counter() - started - simulated_s,
                                             **summary[WALL_CLOCK]})
    return summary
