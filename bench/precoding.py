"""Benchmark of the SCA synergy precoder (run on demand: ``python bench/precoding.py``; not a test).

For N = 4, 8, 16 antennas per transmitter it prints the median wall time of a full solve (baseline
initialisation included, the compiled program already cached), per SCA iteration, the pure conic
solver time per iteration, cvxpy's own overhead per iteration (time inside ``Problem.solve`` minus
the solver's), and the ratio against rebuilding the cvxpy problem every iteration.
Clarabel's reported solve time can exceed the wall time of the whole ``Problem.solve`` call (by
≈27 ms per call at N = 16, measured), so a negative cvxpy overhead means "below resolution".
Targets (2-core machine): N = 4 full solve ≤ 40 ms, ≥ 4× faster than rebuilding, cvxpy overhead ≤
pure solver time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Final

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from precoding_instances import paper_problem  # noqa: E402
from twin.precoding.synergy import SynergyPrecoder  # noqa: E402

SIZES: Final = (4, 8, 16)  #: antennas per transmitter
DRAWS: Final = {4: 10, 8: 6, 16: 3}  #: instances per size (reused program)
REBUILD_DRAWS: Final = {4: 3, 8: 2, 16: 1}  #: instances per size when rebuilding every iteration


class _Timed(SynergyPrecoder):
    """A synergy precoder that records the wall time spent inside ``Problem.solve``."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.call_s = 0.0

    def _run(self, prog):
        start = time.perf_counter()
        out = SynergyPrecoder._run(prog)
        self.call_s += time.perf_counter() - start
        return out


def measure(n: int, draws: int, reuse: bool, seed0: int = 100) -> dict[str, float]:
    precoder = _Timed(reuse_compiled=reuse)
    warm, _ = paper_problem(seed0 - 1, antennas=(n, n, n))
    precoder.solve(warm)  # compile (reuse) or warm caches (rebuild)
    walls, per_iter, solver, overhead, rates = [], [], [], [], []
    for seed in range(seed0, seed0 + draws):
        problem, _ = paper_problem(seed, antennas=(n, n, n))
        precoder.call_s = 0.0
        r = precoder.solve(problem)
        iters = max(r.extra["total_iterations"], 1)
        walls.append(r.wall_s)
        per_iter.append((r.wall_s - r.extra["baseline_solve_s"]) / iters)
        solver.append(r.extra["conic_solve_s"] / iters)
        overhead.append((precoder.call_s - r.extra["conic_solve_s"]) / iters)
        rates.append(r.planned.min_rate)
    return {"walls_s": walls, "wall_s": float(np.median(walls)), "iter_s": float(np.median(per_iter)),
            "solver_s": float(np.median(solver)), "overhead_s": float(np.median(overhead)),
            "min_rate": float(np.mean(rates))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    args = parser.parse_args()
    print(f"{'N':>3} {'full ms':>8} {'iter ms':>8} {'solver ms/it':>12} {'cvxpy ms/it':>11} "
          f"{'rebuild ms':>10} {'ratio':>6} {'mean min rate':>13}")
    for n in args.sizes:
        reused = measure(n, DRAWS.get(n, 3), reuse=True)
        rebuilt = measure(n, REBUILD_DRAWS.get(n, 1), reuse=False)  # the first seeds of the reused set
        ratio = rebuilt["wall_s"] / float(np.median(reused["walls_s"][: len(rebuilt["walls_s"])]))
        print(f"{n:>3} {reused['wall_s'] * 1e3:>8.1f} {reused['iter_s'] * 1e3:>8.2f} "
              f"{reused['solver_s'] * 1e3:>12.2f} {reused['overhead_s'] * 1e3:>11.2f} "
              f"{rebuilt['wall_s'] * 1e3:>10.1f} {ratio:>6.1f} "
              f"{reused['min_rate']:>13.3f}", flush=True)


if __name__ == "__main__":
    main()
