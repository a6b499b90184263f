"""Benchmark: the example instance sweep (scenarios/sweeps/qkd-planning.toml, 36 QKD plans) end to end.

Run on demand (``python bench/instance_sweep.py``; not a test). Runs ``sagin-twin sweep`` as a user
does (a child process, plots included) on the local pool with 1 and 2 workers and on a
``distributed.LocalCluster`` of 2 single-threaded worker processes bound to 127.0.0.1, each once
into a fresh folder; prints each wall time, the speed-up over 1 worker and whether the three
``results.parquet`` agree in everything but the wall-time columns (they must: every run's draws
come from the sweep's seed). Target: about a minute (≤ 90 s) with 2 local workers on the 2-core
machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from sweeps.metrics import WALL_TIME_METRICS  # noqa: E402

SWEEP = ROOT / "scenarios" / "sweeps" / "qkd-planning.toml"
TARGET_S = 90.0  #: "about a minute" with 2 local workers
TIMES = ["wall_s", *WALL_TIME_METRICS]  #: columns that differ between two runs of one sweep


def timed_cli(out: Path, *executor: str) -> float:
    """Wall time (s) of ``sagin-twin sweep SWEEP --out OUT <executor>``; exits on a failed sweep."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(ROOT / "run_sim.py"), "sweep", str(SWEEP), "--out", str(out), *executor],
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"sweep {' '.join(executor)} failed: {done.stderr.strip().splitlines()[-1]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-cluster", action="store_true", help="skip the LocalCluster run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-instance-sweep-") as tmp:
        folders = {"local, 1 worker": Path(tmp) / "w1", "local, 2 workers": Path(tmp) / "w2"}
        times = {name: timed_cli(folder, "--workers", name.split()[1]) for name, folder in folders.items()}
        if not args.no_cluster:
            from distributed import LocalCluster

            folders["LocalCluster, 2 workers"] = Path(tmp) / "dask"
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None)
            try:
                times["LocalCluster, 2 workers"] = timed_cli(folders["LocalCluster, 2 workers"], "--scheduler", cluster.scheduler_address)
            finally:
                cluster.close()
        tables = {name: pd.read_parquet(folder / "results.parquet") for name, folder in folders.items()}
        runs = len(tables["local, 1 worker"])
        for name, seconds in times.items():
            print(f"{name:<24} {runs} plans in {seconds:6.1f} s  ({runs / seconds:.2f} plans/s, "
                  f"speed-up over 1 worker {times['local, 1 worker'] / seconds:.2f}x)")
        first = tables["local, 1 worker"].drop(columns=TIMES)
        same = all(first.equals(t.drop(columns=TIMES)) for t in tables.values())
        print(f"results identical except wall times: {'yes' if same else 'NO'}")
        solver = tables["local, 1 worker"]["solve_s"]
        print(f"solver time per plan (1 worker): median {solver.median():.2f} s, max {solver.max():.2f} s, sum {solver.sum():.1f} s")
        two = times["local, 2 workers"]
        print(f"target (2 local workers <= {TARGET_S:g} s): {'MET' if two <= TARGET_S else 'NOT MET'} - {two:.1f} s")


if __name__ == "__main__":
    main()
