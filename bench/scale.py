"""Benchmark of scale (issue 13): the geometry of 1, 100 and 1,584 satellites over the default site.

Run on demand (``python bench/scale.py [--sizes 1 100 1584] [--repeat 3] [--duration 1800] [--tick 1]
[--dtype float32|float64] [--runs | --only-runs] [--run-duration 600]``); not a test. The constellation is the Starlink-like Walker shell
53°:1584/72/1 at 550 km with its epoch at the default scenario's ``run.start_utc``, seen from the
default scenario's site; a size N takes the shell's first N satellites. Each measurement runs in a
fresh process (``spawn``), so its time includes skyfield's first use of the time array and its peak
memory is that of a run which computes only this geometry:

- geometry: ``Constellation.geometry`` for every satellite × tick (SGP4, TEME → ENU, sunlit flag,
  the Sun's elevation), wall time of the first call;
- serving: ``serving_timeline`` under ``highest_elevation`` above 25° for one user at the site;
- peak RSS: ``ru_maxrss`` of the process at the end, and its growth over the geometry call.

Target (2-core machine): 1,584 satellites × 1,800 ticks (30 min at 1 s) in ≤ 10 s. The last line
says whether the median meets it.

Whole runs (``--runs``, issue 13): ``sagin-twin run`` of ``scenarios/constellation-handover.toml``
and ``scenarios/default.toml`` for ``--run-duration`` seconds (default 600), one after the other in
the same invocation, each in a fresh process: wall time and peak RSS of each and their ratios
(constellation / default; target ≤ 2× in wall time). The constellation run propagates all 1,584
satellites, chooses the serving one per tick and logs its handovers; the default run has one
satellite and a QKD layer, which the constellation scenario has not. ``--only-runs`` skips the
geometry table.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Final

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

SIZES: Final = (1, 100, 1584)  #: satellites per case (the shell's first N)
SHELL: Final = {"inclination_deg": 53.0, "total": 1584, "planes": 72, "phasing": 1, "altitude_m": 550e3}  #: the Starlink-like shell
MIN_ELEVATION_DEG: Final = 25.0  #: serving rule's minimum elevation for the serving-timeline timing
TARGET: Final = (1584, 1800, 10.0)  #: satellites, ticks, seconds of the issue's target


def measure(n_sat: int, duration_s: float, tick_s: float, dtype: str) -> dict:
    """One case in this (fresh) process: wall times (s) and memory (MB)."""
    import numpy as np

    from physical.constellation import Constellation
    from physical.handover import ServingRule, serving_timeline
    from physical.orbit import GroundSite
    from physical.walker import WalkerShell
    from scenarios.config import load_scenario

    scenario = load_scenario(ROOT / "scenarios" / "default.toml")
    site = GroundSite(scenario.site.name, scenario.site.latitude_deg, scenario.site.longitude_deg, scenario.site.altitude_m)
    start = scenario.run.start_datetime
    constellation = Constellation.from_walker(WalkerShell(**SHELL, epoch_utc=start)).subset(range(n_sat))
    t_s = np.arange(0.0, duration_s, tick_s)
    before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    geometry = constellation.geometry(site, start, t_s, dtype=getattr(np, dtype))
    geometry_s = time.perf_counter() - started
    after_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    timeline = serving_timeline(geometry.elevation_rad, t_s, geometry.names, ServingRule("highest_elevation", math.radians(MIN_ELEVATION_DEG)))
    serving_s = time.perf_counter() - started
    return {
        "ticks": t_s.size, "geometry_s": geometry_s, "serving_s": serving_s, "arrays_mb": geometry.nbytes / 2**20,
        "rss_before_mb": before_mb, "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_growth_mb": after_mb - before_mb, "handovers": len(timeline.handovers),
        "unserved_ticks": int((timeline.serving < 0).sum()),
    }


RUNS: Final = ("constellation-handover", "default")  #: shipped scenarios compared by --runs
RUN_TARGET: Final = 2.0  #: constellation / default wall-time ratio of the issue's target


def measure_run(name: str, duration_s: float, out: str) -> dict:
    """One whole ``sagin-twin run`` of ``scenarios/<name>.toml`` in this (fresh) process: wall time (s), peak RSS (MB), handovers."""
    import json

    from sagin_twin.cli import main as cli

    started = time.perf_counter()
    status = cli(["run", str(ROOT / "scenarios" / f"{name}.toml"), "--out", out, "--duration", f"{duration_s:g}", "--force", "--quiet"])
    wall_s = time.perf_counter() - started
    handovers, worst = 0, None
    with open(Path(out) / "events.jsonl", encoding="utf-8") as rows:
        for line in rows:
            if '"handover"' in line or "interference_to_noise_db" in line:
                row = json.loads(line)
                handovers += row["kind"] == "handover"
                value = row.get("interference_to_noise_db")
                if value is not None:
                    worst = value if worst is None else max(worst, value)
    return {"status": status, "wall_s": wall_s, "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "handovers": handovers, "worst_interference_db": worst}


def compare_runs(duration_s: float, out: Path) -> None:
    """Whole runs of :data:`RUNS`, one after the other, each in a fresh process; prints each and the ratios."""
    context = multiprocessing.get_context("spawn")
    results = {}
    print(f"whole runs of {duration_s:g} s (sagin-twin run, fresh process each):")
    print(f"{'scenario':<24}{'wall s':>9}{'peak RSS MB':>13}{'handovers':>11}")
    for name in RUNS:
        with context.Pool(1) as pool:
            results[name] = r = pool.apply(measure_run, (name, duration_s, str(out / name)))
        if r["status"] != 0:
            raise SystemExit(f"{name}: run failed with status {r['status']}")
        print(f"{name:<24}{r['wall_s']:>9.1f}{r['rss_peak_mb']:>13.0f}{r['handovers']:>11}", flush=True)
    c, d = results[RUNS[0]], results[RUNS[1]]
    wall_ratio, rss_ratio = c["wall_s"] / d["wall_s"], c["rss_peak_mb"] / d["rss_peak_mb"]
    verdict = "met" if wall_ratio <= RUN_TARGET else "NOT met"
    print(f"ratio {RUNS[0]} / {RUNS[1]}: wall {wall_ratio:.2f}x, peak RSS {rss_ratio:.2f}x "
          f"(target wall <= {RUN_TARGET:g}x: {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--repeat", type=int, default=3, help="fresh-process runs per size (median reported)")
    parser.add_argument("--duration", type=float, default=1800.0, help="simulated span (s)")
    parser.add_argument("--tick", type=float, default=1.0, help="tick (s)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--runs", action="store_true", help="also time whole runs: constellation-handover vs default")
    parser.add_argument("--only-runs", action="store_true", help="time the whole runs only (implies --runs)")
    parser.add_argument("--run-duration", type=float, default=600.0, help="simulated span of each whole run (s)")
    parser.add_argument("--run-out", type=Path, default=Path("runs") / "bench-scale", help="folder for the whole runs' logs")
    args = parser.parse_args()
    if args.only_runs:
        compare_runs(args.run_duration, args.run_out)
        return
    context = multiprocessing.get_context("spawn")
    print(f"{'sats':>5}{'ticks':>7}{'geometry s':>12}{'(min-max)':>15}{'serving s':>11}{'arrays MB':>11}"
          f"{'RSS before':>12}{'RSS peak':>10}{'growth':>8}{'handovers':>11}{'unserved':>10}")
    medians = {}
    for n_sat in args.sizes:
        runs = []
        for _ in range(args.repeat):
            with context.Pool(1) as pool:
                runs.append(pool.apply(measure, (n_sat, args.duration, args.tick, args.dtype)))
        times = [r["geometry_s"] for r in runs]
        medians[n_sat] = median = statistics.median(times)
        last = runs[-1]
        print(f"{n_sat:>5}{last['ticks']:>7}{median:>12.2f}{f'({min(times):.2f}-{max(times):.2f})':>15}"
              f"{statistics.median(r['serving_s'] for r in runs):>11.3f}{last['arrays_mb']:>11.1f}"
              f"{statistics.median(r['rss_before_mb'] for r in runs):>12.0f}{max(r['rss_peak_mb'] for r in runs):>10.0f}"
              f"{max(r['rss_growth_mb'] for r in runs):>8.0f}{last['handovers']:>11}{last['unserved_ticks']:>10}", flush=True)
    n_sat, n_ticks, limit_s = TARGET
    if n_sat in medians and round(args.duration / args.tick) == n_ticks:
        verdict = "met" if medians[n_sat] <= limit_s else "NOT met"
        print(f"target: {n_sat} satellites x {n_ticks} ticks in <= {limit_s:g} s: {verdict} (median {medians[n_sat]:.2f} s of {args.repeat}, {args.dtype})")
    else:
        print(f"target not measured (needs --sizes {n_sat} with {n_ticks} ticks)")
    if args.runs:
        compare_runs(args.run_duration, args.run_out)


if __name__ == "__main__":
    main()
