"""``sagin-twin evaluate SCENARIO [--policy sp|greedy|shortest-path|random|CHECKPOINT ...] [--seeds N] [--out DIR]``.

Runs each policy on the same N held-out seeds (``--first-seed``, default 10000, and up) of the
scenario's multi-agent environment (``environment.parallel_env``: the scenario's own world, traces,
weather, pools and costs; every policy meets the same exogenous world) and writes one tidy table,
``evaluate.csv`` (a row per policy and seed), its per-policy means ``evaluate-summary.csv`` and
``evaluate.png``. ``sp`` is the core-cloud twin's two-stage stochastic program; ``shortest-path``
buys everything on demand; ``greedy`` reserves for the forecast mean; ``random`` draws every
action; a file is a checkpoint written by ``sagin-twin train`` (needs the ``[train]`` extra).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common.errors import InputError
from sagin_twin.outputs import check_output_folder, locked_folder

MAX_EPISODES = 10_000  #: largest evaluation (policies × seeds) accepted


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from environment.policies import BASELINES

    p = subparsers.add_parser("evaluate", help="compare QKD allocation policies on the same held-out seeds", description=__doc__)
    p.add_argument("scenario", type=Path, help="scenario TOML file with a [qkd] section")
    p.add_argument("--policy", nargs="+", default=list(BASELINES), metavar="POLICY",
                   help=f"policies to run: {', '.join(BASELINES)}, or a checkpoint file of sagin-twin train (default: every baseline)")
    p.add_argument("--seeds", type=int, default=10, help="held-out seeds per policy (default 10)")
    p.add_argument("--first-seed", type=int, default=None, help="the first held-out seed (default 10000)")
    p.add_argument("--out", type=Path, default=Path("evaluation"), help="output folder (default: evaluation)")
    p.add_argument("--step-s", type=float, default=None, help="simulated time per environment step (default: a fifth of qkd.planning_period_s)")
    p.add_argument("--unmet-penalty", type=float, default=None, metavar="COST_PER_BIT",
                   help="penalty per bit of unmet key in the objective (default 0.1 cost units per bit)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="set", help="override a scenario field (as run --set)")
    p.add_argument("--logs", action="store_true", help="also write every episode's event log under OUT/logs/<policy>/seed<N>")
    p.set_defaults(func=evaluate)


def load_policy(name: str):
    """A baseline by name, else a checkpoint file."""
    from environment.policies import BASELINES, baseline

    if name in BASELINES:
        return baseline(name)
    path = Path(name)
    if not path.is_file():
        raise InputError(f"{name!r} is neither a baseline ({', '.join(BASELINES)}) nor a checkpoint file", field="--policy")
    try:
        from environment.train import load_checkpoint
    except ImportError as exc:
        raise InputError(f"a checkpoint needs the [train] extra ({exc.name} is not installed): "
                         ".venv/bin/pip install -e '.[train]'", field="--policy") from None
    return load_checkpoint(path)


def evaluate(args: argparse.Namespace) -> int:
    from common.threads import one_blas_thread
    from environment import EnvConfig
    from environment.evaluate import HELD_OUT_FIRST_SEED, evaluate as run, plot, summary_table
    from scenarios.config import parse_set

    if args.seeds < 1 or args.seeds * len(args.policy) > MAX_EPISODES:
        raise InputError(f"--seeds must be >= 1 and policies × seeds at most {MAX_EPISODES:,}", field="--seeds")
    first = HELD_OUT_FIRST_SEED if args.first_seed is None else args.first_seed
    if first < 0:
        raise InputError(f"--first-seed must be >= 0, got {first}", field="--first-seed")
    check_output_folder(args.out)
    overrides = [parse_set(text) for text in args.set]
    policies = [load_policy(name) for name in dict.fromkeys(args.policy)]
    config = EnvConfig(step_s=args.step_s, **({} if args.unmet_penalty is None else {"unmet_penalty_per_bit": args.unmet_penalty}))
    with locked_folder(args.out, "evaluate"), one_blas_thread():
        def progress(policy: str, seed: int) -> None:
            print(f"  {policy} seed {seed}", file=sys.stderr, flush=True)

        try:
            rows = run(args.scenario, policies, range(first, first + args.seeds), config, overrides, progress,
                       log_root=args.out / "logs" if args.logs else None)
        except ValueError as exc:
            raise InputError(str(exc), source=str(args.scenario)) from None
        rows.to_csv(args.out / "evaluate.csv", index=False)
        table = summary_table(rows)
        table.to_csv(args.out / "evaluate-summary.csv", index=False)
        plot(rows, args.out / "evaluate.png")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    print(f"-> {args.out}/evaluate.csv, evaluate-summary.csv, evaluate.png")
    return 0
