"""Synergy SCA on the multi-node instance vs the paper's (run on demand: ``python bench/multi_node_precoding.py``; not a test).

For the paper's system (T = K = 3, E = 1) and the multi-node instance of
``tests/precoding_instances.py`` (T = 5, K = 9, E = 2), both with N = 4 antennas per transmitter
and Δ = 0.1, it prints per synergy variant the median over draws of the full solve's wall time,
the SCA iterations (all starts), the time of the power-optimised baseline starts, the conic
solver time, the time of the rank-one extraction
(principal eigenvectors of the K lifted matrices), the smallest λ1/λ2 over the users and the
extraction's loss (relaxed minus rank-one design objective), and the size of the conic program (scalar variables, constraint rows, cones).
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

import cvxpy as cp  # noqa: E402

from precoding_instances import multi_node_problem, paper_problem  # noqa: E402
from twin.precoding import PRECODERS  # noqa: E402
from twin.precoding.synergy import principal_precoder  # noqa: E402

METHODS: Final = ("synergy-sdp", "synergy-stat-sdp", "synergy-robust")  #: the lifted-SDP variants (the vector method: bench/precoding.py)
DELTA: Final = 0.1  #: Eve-CSI error bound of both instances
DESIGN_VALUE: Final = {"synergy-sdp": "lifted_min_rate", "synergy-stat-sdp": "moment_min_rate",
                       "synergy-robust": "worst_case_min_rate"}


def instance(shape: str, seed: int):
    """The design problem of one draw of ``shape`` (``paper`` or ``multi``)."""
    if shape == "paper":
        return paper_problem(seed, delta=DELTA)[0]
    return multi_node_problem(seed, delta=DELTA)[0]


def program_size(precoder) -> dict[str, int]:
    """Scalar variables, constraint rows and cones of the (one) compiled program of ``precoder``."""
    (prog,) = precoder._programs.values()
    data, _, _ = prog.problem.get_problem_data(cp.CLARABEL)
    return {"variables": int(sum(v.size for v in prog.problem.variables())), "constraints": len(prog.problem.constraints),
            "rows": int(data["A"].shape[0]), "columns": int(data["A"].shape[1]), "nonzeros": int(data["A"].nnz)}


def measure(shape: str, method: str, draws: int) -> dict[str, float]:
    precoder = PRECODERS[method]()
    precoder.solve(instance(shape, 1000))  # compile once, outside the timing
    walls, iterations, base, conic, extract, ratio, loss, ok = [], [], [], [], [], [], [], 0
    for seed in range(draws):
        r = precoder.solve(instance(shape, seed))
        ok += r.status == "ok"
        walls.append(r.wall_s)
        iterations.append(r.extra["total_iterations"])
        base.append(r.extra["baseline_solve_s"])
        conic.append(r.extra["conic_solve_s"])
        ratio.append(min(r.eigen_ratios))
        loss.append(r.extra["relaxed_min_rate"] - r.extra[DESIGN_VALUE[method]])
        lifted = [np.outer(x, x.conj()) for x in r.precoders.values()]
        start = time.perf_counter()
        for m in lifted:
            principal_precoder(m)
        extract.append(time.perf_counter() - start)
    return {"wall_s": float(np.median(walls)), "iterations": float(np.median(iterations)),
            "base_s": float(np.median(base)), "conic_s": float(np.median(conic)), "extract_s": float(np.median(extract)),
            "ratio": float(np.median(ratio)),
            "loss": float(np.median(loss)), "ok": ok, **program_size(precoder)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=3)
    args = parser.parse_args()
    print(f"{'shape':<6} {'method':<15} {'ok':>3} {'wall s':>7} {'iters':>6} {'base s':>7} {'conic s':>8} {'extract ms':>10} "
          f"{'λ1/λ2':>8} {'loss':>8} {'vars':>6} {'cons':>5} {'rows':>6} {'cols':>6} {'nnz':>7}")
    for shape in ("paper", "multi"):
        for method in METHODS:
            m = measure(shape, method, args.draws)
            print(f"{shape:<6} {method:<15} {m['ok']:>3} {m['wall_s']:>7.2f} {m['iterations']:>6.0f} {m['base_s']:>7.2f} {m['conic_s']:>8.2f} "
                  f"{m['extract_s'] * 1e3:>10.3f} {m['ratio']:>8.1e} {m['loss']:>8.1e} {m['variables']:>6} {m['constraints']:>5} "
                  f"{m['rows']:>6} {m['columns']:>6} {m['nonzeros']:>7}", flush=True)


if __name__ == "__main__":
    main()
