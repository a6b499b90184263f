"""Benchmark of the simulation loop (issue 15; run on demand: ``python bench/loop.py [--week]``; not a test).

Each case is one whole ``sagin-twin run`` in a fresh process (``spawn``), then ``inspect --json`` of
its log in another. Printed per case: wall time, simulated / real time, peak RSS of the run and of
``inspect``, events per second of wall time, and the share of the run's wall time spent in the
event writer (``EventLog.log``/``array``/``timing``, timed in the run's process).

Cases and the issue's targets (2-core machine):

- ``default``: 600 s at 1 s ticks with a synergy-stat re-solve at every step (N = 4):
  ≥ 20× faster than real time;
- ``full-day``: 24 h at 10 s ticks, hourly QKD re-planning: ≤ 25 s wall, ≤ 400 MB peak RSS;
- ``week`` (``--week``, ≈ 7 minutes): ``full-day.toml`` run for 7 days: ≤ 600 MB peak RSS (flat in
  the run length) and ``inspect`` of its log ≤ 1 GB;
- every case: the event writer ≤ 10 % of the run's wall time.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Final

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

DAY_S: Final = 86_400.0
#: (case, scenario, duration in s or None for the file's)
CASES: Final = (("default", "default", None), ("full-day", "full-day", None))
WEEK: Final = ("week", "full-day", 7 * DAY_S)
TARGET_REALTIME: Final = 20.0  #: default: simulated / real time at least
TARGET_DAY_S: Final = 25.0  #: full-day wall time at most (s)
TARGET_DAY_MB: Final = 400.0  #: full-day peak RSS at most (MB)
TARGET_WEEK_MB: Final = 600.0  #: week peak RSS at most (MB)
TARGET_INSPECT_MB: Final = 1024.0  #: inspect of the week's log at most (MB)
TARGET_WRITER_SHARE: Final = 0.10  #: event writer's share of a run's wall time at most


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_run(scenario: str, duration_s: float | None, out: str) -> dict:
    """One ``sagin-twin run`` in this (fresh) process, its event writer timed."""
    from eventlog.writer import EventLog
    from sagin_twin.cli import main as cli

    spent = {"s": 0.0}

    def timed(method):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent["s"] += time.perf_counter() - started
        return wrapper

    for name in ("log", "array", "timing"):
        setattr(EventLog, name, timed(getattr(EventLog, name)))
    argv = ["run", str(ROOT / "scenarios" / f"{scenario}.toml"), "--out", out, "--force", "--quiet"]
    if duration_s is not None:
        argv += ["--duration", f"{duration_s:g}", "--allow-large"]
    started = time.perf_counter()
    status = cli(argv)
    wall_s = time.perf_counter() - started
    with open(Path(out) / "events.jsonl", "rb") as rows:
        events = sum(1 for _ in rows)
    return {"status": status, "wall_s": wall_s, "writer_s": spent["s"], "events": events, "rss_mb": _peak_mb()}


def measure_inspect(out: str) -> dict:
    """``sagin-twin inspect --json`` of a run in this (fresh) process, its document discarded."""
    from sagin_twin.cli import main as cli

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    started = time.perf_counter()
    status = cli(["inspect", out, "--json"])
    return {"status": status, "wall_s": time.perf_counter() - started, "rss_mb": _peak_mb()}


def _in_fresh_process(function, *args) -> dict:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def verdicts(case: str, run: dict, inspect: dict, simulated_s: float) -> list[tuple[str, bool]]:
    share = run["writer_s"] / run["wall_s"]
    out = [(f"{case}: event writer {share:.1%} of wall <= {TARGET_WRITER_SHARE:.0%}", share <= TARGET_WRITER_SHARE)]
    if case == "default":
        ratio = simulated_s / run["wall_s"]
        out.append((f"default: {ratio:.1f}x real time >= {TARGET_REALTIME:g}x", ratio >= TARGET_REALTIME))
    if case == "full-day":
        out.append((f"full-day: {run['wall_s']:.1f} s <= {TARGET_DAY_S:g} s", run["wall_s"] <= TARGET_DAY_S))
        out.append((f"full-day: peak {run['rss_mb']:.0f} MB <= {TARGET_DAY_MB:g} MB", run["rss_mb"] <= TARGET_DAY_MB))
    if case == "week":
        out.append((f"week: peak {run['rss_mb']:.0f} MB <= {TARGET_WEEK_MB:g} MB", run["rss_mb"] <= TARGET_WEEK_MB))
        out.append((f"week: inspect peak {inspect['rss_mb']:.0f} MB <= {TARGET_INSPECT_MB:g} MB",
                     inspect["rss_mb"] <= TARGET_INSPECT_MB))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--week", action="store_true", help="also run full-day.toml for 7 days (about 7 minutes)")
    parser.add_argument("--out", type=Path, default=None, help="where the runs go (default: a temporary folder)")
    args = parser.parse_args()
    from scenarios.config import load_scenario

    cases = CASES + ((WEEK,) if args.week else ())
    print(f"{'case':<10}{'simulated s':>12}{'wall s':>9}{'sim/real':>10}{'run MB':>8}{'events':>10}{'events/s':>10}"
          f"{'writer %':>10}{'inspect s':>10}{'inspect MB':>11}")
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        base = args.out or Path(scratch)
        for case, scenario, duration_s in cases:
            simulated_s = duration_s or load_scenario(ROOT / "scenarios" / f"{scenario}.toml").run.duration_s
            out = str(base / case)
            run = _in_fresh_process(measure_run, scenario, duration_s, out)
            if run["status"] != 0:
                raise SystemExit(f"{case}: run failed with status {run['status']}")
            inspect = _in_fresh_process(measure_inspect, out)
            print(f"{case:<10}{simulated_s:>12,.0f}{run['wall_s']:>9.1f}{simulated_s / run['wall_s']:>10.1f}"
                  f"{run['rss_mb']:>8.0f}{run['events']:>10,}{run['events'] / run['wall_s']:>10,.0f}"
                  f"{run['writer_s'] / run['wall_s']:>10.1%}{inspect['wall_s']:>10.1f}{inspect['rss_mb']:>11.0f}", flush=True)
            results.append((case, run, inspect, simulated_s))
    print()
    for case, run, inspect, simulated_s in results:
        for text, met in verdicts(case, run, inspect, simulated_s):
            print(f"{'met    ' if met else 'MISSED '} {text}")


if __name__ == "__main__":
    main()
