"""Benchmark: the Yin Fig. 2 sweep (5 satellite powers × 3 Δ × 100 draws) with 1 and 2 local workers.

Run on demand (``make bench`` or ``python bench/sweep.py [--draws N] [--method M]``); prints wall
time, solves per second and the speed-up from 1 to 2 workers. Targets (issue #6, on the 2-core
machine): ≤ 3 minutes with 2 workers and ≥ 1.7× speed-up.
"""

from __future__ import annotations

import argparse
import statistics
import time

from studies import yin
from sweeps.engine import LocalExecutor, run_all
from sweeps.runs import run_figure_task


def timed_sweep(workers: int, draws: int, method: str) -> tuple[float, int, int]:
    tasks = yin.tasks(yin.FIGURES["yin-fig2"], draws, seed=1, methods=[method])
    rows: list[dict] = []
    started = time.perf_counter()
    run_all(run_figure_task, tasks, LocalExecutor(workers), lambda task, row: rows.append(row))
    elapsed = time.perf_counter() - started
    return elapsed, len(rows), sum(r["status"] != "ok" for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=100)
    parser.add_argument("--method", default="synergy")
    parser.add_argument("--repeat", type=int, default=1, help="runs per worker count (median reported)")
    args = parser.parse_args()
    results = {}
    for workers in (1, 2):
        times = []
        for _ in range(args.repeat):
            elapsed, n, failed = timed_sweep(workers, args.draws, args.method)
            times.append(elapsed)
        results[workers] = statistics.median(times)
        print(f"workers={workers}: {n} solves ({failed} failed) in {results[workers]:.1f} s  ({n / results[workers]:.1f} solves/s)")
    speedup = results[1] / results[2]
    print(f"speed-up 1 -> 2 workers: {speedup:.2f}x   (targets: 2-worker wall <= 180 s: {'met' if results[2] <= 180 else 'NOT met'}; "
          f"speed-up >= 1.7x: {'met' if speedup >= 1.7 else 'NOT met'})")


if __name__ == "__main__":
    main()
