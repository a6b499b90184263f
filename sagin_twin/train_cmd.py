"""``sagin-twin train SCENARIO --algo mappo|ippo --steps N --out DIR [--resume] [--seed S] [--set KEY=VALUE ...]``.

Trains the QKD allocation agents of the scenario's multi-agent environment with skrl (MAPPO: a
centralised critic on the environment's global state; IPPO: independent critics) on CPU, and
writes into ``--out``: ``policy.pt`` and ``policy.json`` (give ``policy.pt`` to ``sagin-twin
evaluate --policy``), ``checkpoint.pt`` and ``modules.pt`` (resume with ``--resume``),
``learning_curve.csv`` and ``learning_curve.png``. Needs the ``[train]`` extra:
``.venv/bin/pip install -e '.[train]'`` (torch's CPU build and skrl; ``make test-train`` installs it).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from common.errors import InputError
from sagin_twin.outputs import check_output_folder, locked_folder

DEFAULT_SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "qkd-agents.toml"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("train", help="train learned QKD allocation policies (MAPPO/IPPO, needs the [train] extra)",
                              description=__doc__)
    p.add_argument("scenario", type=Path, nargs="?", default=DEFAULT_SCENARIO,
                   help="scenario TOML file with a [qkd] section (default: scenarios/qkd-agents.toml)")
    p.add_argument("--algo", choices=("mappo", "ippo"), default="mappo", help="multi-agent PPO with a centralised (mappo) or "
                                                                             "independent (ippo) critic (default mappo)")
    p.add_argument("--steps", type=int, default=6_000, help="environment steps (default 6000)")
    p.add_argument("--out", type=Path, default=Path("training"), help="output folder (default: training)")
    p.add_argument("--seed", type=int, default=1, help="seed of the networks and the sampling (default 1)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt (same settings)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="set", help="override a scenario field (as run --set)")
    p.set_defaults(func=train)


def train(args: argparse.Namespace) -> int:
    if args.steps < 1:
        raise InputError(f"--steps must be >= 1, got {args.steps}", field="--steps")
    if args.seed < 0:
        raise InputError(f"--seed must be >= 0, got {args.seed}", field="--seed")
    check_output_folder(args.out)
    try:
        from environment import train as training
    except ImportError as exc:
        raise InputError(f"training needs the [train] extra ({exc.name} is not installed): .venv/bin/pip install -e '.[train]'",
                         field="train") from None
    from scenarios.config import parse_set

    overrides = [parse_set(text) for text in args.set]
    config = training.TrainConfig(algo=args.algo, steps=args.steps, seed=args.seed)
    with locked_folder(args.out, "train"):
        try:
            policy = training.train(args.scenario, args.out, config, overrides=overrides, resume=args.resume)
        except (FileNotFoundError, ValueError) as exc:
            raise InputError(str(exc), source=str(args.out)) from None
        training.plot_curve(args.out / training.CURVE, args.out / "learning_curve.png")
    print(f"-> {policy} (evaluate it: sagin-twin evaluate {args.scenario} --policy {policy} sp greedy shortest-path random)")
    return 0
