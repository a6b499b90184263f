"""Benchmark: simulate the full-day scenario, then time summarising its log (streamed) and loading it into pandas.

Prints the run's wall time, the log's size and rows, the streamed summary's time and Python peak
allocation (tracemalloc), and the pandas load time and peak memory (issue #5: a day-long log loads
in seconds; issue #10: summaries must not grow with the log). Run on demand: ``python bench/eventlog_load.py``.
"""

from __future__ import annotations

import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

from eventlog.reader import load_events
from eventlog.summary import summarize_log
from scenarios.build import prepare
from scenarios.config import load_scenario
from scenarios.execute import execute

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        started = time.perf_counter()
        execute(prepare(load_scenario(ROOT / "scenarios" / "full-day.toml")), out)
        run_s = time.perf_counter() - started
        size_mb = (out / "events.jsonl").stat().st_size / 1e6
        tracemalloc.start()
        started = time.perf_counter()
        summarize_log(out)
        summary_s = time.perf_counter() - started
        summary_peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        loads = []
        for _ in range(3):
            started = time.perf_counter()
            frame = load_events(out)
            loads.append(time.perf_counter() - started)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    loads.sort()
    print(f"full-day run: {run_s:.1f} s simulated 86400 s; events.jsonl {size_mb:.1f} MB, {len(frame)} rows x {frame.shape[1]} columns")
    print(f"summarize_log (streamed): {summary_s:.2f} s under tracemalloc, peak Python allocation {summary_peak_mb:.1f} MB")
    print(f"load_events: median {loads[1]:.2f} s (min {loads[0]:.2f}, max {loads[2]:.2f}); peak RSS of this process {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
