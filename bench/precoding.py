"""Synergy precoding over the vectors vs over the lifted SDP (run on demand: ``python bench/precoding.py``; not a test).

On the same draws of the paper's system (T = K = 3, E = 1; N = 4, 8, 16, 32 antennas per
transmitter), of Yin Fig. 2's snapshot (P_S = 0…20 dBW, Δ = 0, 0.1, 0.2, designs on Eve's estimate,
N = 4) and of the multi-node instance (T = 5, K = 9, E = 2, N = 4), it prints per instance the
median wall time of a full solve by each method (baseline starts included, programs already
compiled), their ratio, and the relative difference of the design min secrecy rate
(vector − SDP) / SDP: median and worst draw. Both are solved on the same channels; a positive
difference means the vector method found the better max-min point.

Targets (issue 15, 2-core machine): at N = 16 the vector method's median ≤ 0.2 s and ≥ 8× faster
than the SDP, its rate within 1 % of the SDP's (median) and never more than 2 % worse on a draw; at
N = 4 no slower than the SDP. ``--sdp-internals`` adds the lifted SCA's per-iteration profile
(conic solver vs cvxpy overhead, and the ratio against rebuilding the cvxpy problem every iteration).
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

from precoding_instances import multi_node_problem, paper_problem  # noqa: E402
from studies import yin  # noqa: E402
from twin.precoding.synergy import SynergyPrecoder  # noqa: E402

SIZES: Final = (4, 8, 16, 32)  #: antennas per transmitter
DRAWS: Final = {4: 20, 8: 10, 16: 6, 32: 1}  #: draws per size (one SDP solve at N = 32 takes minutes)
MULTI_DRAWS: Final = 6  #: draws of the multi-node instance (N = 4)
FIG2_DRAWS: Final = 10  #: draws per (P_S, Δ) point of Yin Fig. 2's snapshot (5 powers × 3 Δ, N = 4, designs on Eve's estimates)
TARGET_N16_S: Final = 0.2  #: N = 16 vector median full solve (s)
TARGET_N16_SPEEDUP: Final = 8.0  #: N = 16 SDP/vector median ratio
TARGET_MEDIAN_LOSS: Final = 0.01  #: largest median rate shortfall of the vector method (relative)
TARGET_WORST_LOSS: Final = 0.02  #: largest shortfall on any draw (relative)
SEED0: Final = 100  #: first draw's seed


def compare(make_problem, keys) -> dict[str, object]:
    """Both methods on the same draws (``make_problem(key)`` per key): median wall times, relative rate differences."""
    sdp, vector = SynergyPrecoder(solver="sdp"), SynergyPrecoder(solver="vector")
    keys = list(keys)
    warm = make_problem(keys[0])
    sdp.solve(warm)
    vector.solve(warm)  # compile / warm caches outside the timing
    rows = []
    for key in keys:
        problem = make_problem(key)
        a, b = sdp.solve(problem), vector.solve(problem)
        rows.append((a.wall_s, b.wall_s, a.planned.min_rate, b.planned.min_rate))
    r = np.array(rows)
    diff = (r[:, 3] - r[:, 2]) / r[:, 2]
    return {"draws": len(rows), "sdp_s": float(np.median(r[:, 0])), "vector_s": float(np.median(r[:, 1])),
            "ratio": float(np.median(r[:, 0]) / np.median(r[:, 1])), "median_diff": float(np.median(diff)),
            "worst_diff": float(diff.min())}


def print_comparison(label: str, m: dict[str, object]) -> None:
    print(f"{label:<10} {m['draws']:>5} {m['sdp_s'] * 1e3:>10.1f} {m['vector_s'] * 1e3:>10.1f} {m['ratio']:>7.1f} "
          f"{m['median_diff'] * 100:>+10.3f} {m['worst_diff'] * 100:>+10.3f}", flush=True)


def verdicts(results: dict[str, dict[str, object]]) -> list[tuple[str, bool]]:
    """(target, met?) for every target whose size was measured."""
    out = []
    if "N=16" in results:
        m = results["N=16"]
        out.append((f"N=16 vector median {m['vector_s']:.3f} s <= {TARGET_N16_S} s", m["vector_s"] <= TARGET_N16_S))
        out.append((f"N=16 speed-up {m['ratio']:.1f}x >= {TARGET_N16_SPEEDUP:g}x", m["ratio"] >= TARGET_N16_SPEEDUP))
    if "N=4" in results:
        m = results["N=4"]
        out.append((f"N=4 vector {m['vector_s'] * 1e3:.1f} ms no slower than SDP {m['sdp_s'] * 1e3:.1f} ms",
                    m["vector_s"] <= m["sdp_s"]))
    for label, m in results.items():
        out.append((f"{label} median rate difference {m['median_diff'] * 100:+.3f} % >= -{TARGET_MEDIAN_LOSS * 100:g} %",
                    m["median_diff"] >= -TARGET_MEDIAN_LOSS))
        out.append((f"{label} worst draw {m['worst_diff'] * 100:+.3f} % >= -{TARGET_WORST_LOSS * 100:g} %",
                    m["worst_diff"] >= -TARGET_WORST_LOSS))
    return out


class _Timed(SynergyPrecoder):
    """A lifted-SDP synergy precoder that records the wall time spent inside ``Problem.solve``."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.call_s = 0.0

    def _run(self, prog):
        start = time.perf_counter()
        out = SynergyPrecoder._run(prog)
        self.call_s += time.perf_counter() - start
        return out


def sdp_internals(n: int, draws: int, reuse: bool) -> dict[str, float]:
    """Median full solve, per SCA iteration, conic solver and cvxpy overhead per iteration (s)."""
    precoder = _Timed(reuse_compiled=reuse)
    precoder.solve(paper_problem(SEED0 - 1, antennas=(n, n, n))[0])
    walls, per_iter, solver, overhead = [], [], [], []
    for seed in range(SEED0, SEED0 + draws):
        precoder.call_s = 0.0
        r = precoder.solve(paper_problem(seed, antennas=(n, n, n))[0])
        iters = max(r.extra["total_iterations"], 1)
        walls.append(r.wall_s)
        per_iter.append((r.wall_s - r.extra["baseline_solve_s"]) / iters)
        solver.append(r.extra["conic_solve_s"] / iters)
        overhead.append((precoder.call_s - r.extra["conic_solve_s"]) / iters)
    return {k: float(np.median(v)) for k, v in
            {"wall_s": walls, "iter_s": per_iter, "solver_s": solver, "overhead_s": overhead}.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES), help="antennas per transmitter")
    parser.add_argument("--no-multi", action="store_true", help="skip the multi-node instance")
    parser.add_argument("--no-fig2", action="store_true", help="skip the Yin Fig. 2 snapshot draws")
    parser.add_argument("--sdp-internals", action="store_true", help="also profile the lifted SCA's iterations")
    args = parser.parse_args()
    print("vector vs lifted SDP on the same draws (rate difference = (vector - SDP) / SDP of the design min rate)")
    print(f"{'instance':<10} {'draws':>5} {'SDP ms':>10} {'vector ms':>10} {'ratio':>7} {'median %':>10} {'worst %':>10}")
    results: dict[str, dict[str, object]] = {}
    for n in args.sizes:
        label = f"N={n}"
        results[label] = compare(lambda seed, n=n: paper_problem(seed, antennas=(n, n, n))[0],
                                 range(SEED0, SEED0 + DRAWS.get(n, 3)))
        print_comparison(label, results[label])
    if not args.no_fig2:
        cases = yin.tasks(yin.FIGURES["yin-fig2"], FIG2_DRAWS, seed=1, methods=["synergy"])
        results["Yin Fig.2"] = compare(lambda task: yin.task_problem(task)[0], cases)
        print_comparison("Yin Fig.2", results["Yin Fig.2"])
    if not args.no_multi:
        results["multi N=4"] = compare(lambda seed: multi_node_problem(seed)[0], range(SEED0, SEED0 + MULTI_DRAWS))
        print_comparison("multi N=4", results["multi N=4"])
    print()
    for text, met in verdicts(results):
        print(f"{'met    ' if met else 'MISSED '} {text}")
    if args.sdp_internals:
        print(f"\nlifted SCA internals\n{'N':>3} {'full ms':>8} {'iter ms':>8} {'solver ms/it':>12} {'cvxpy ms/it':>11} "
              f"{'rebuild ms':>10} {'ratio':>6}")
        for n in (s for s in args.sizes if s <= 16):
            reused, rebuilt = sdp_internals(n, 5, reuse=True), sdp_internals(n, 2, reuse=False)
            print(f"{n:>3} {reused['wall_s'] * 1e3:>8.1f} {reused['iter_s'] * 1e3:>8.2f} {reused['solver_s'] * 1e3:>12.2f} "
                  f"{reused['overhead_s'] * 1e3:>11.2f} {rebuilt['wall_s'] * 1e3:>10.1f} "
                  f"{rebuilt['wall_s'] / reused['wall_s']:>6.1f}", flush=True)


if __name__ == "__main__":
    main()
