"""``sagin-twin figure NAME [--out DIR] [--draws N] [--seed S] [--methods M ...]``: regenerate a paper figure.

Writes ``NAME.csv`` (means and standard errors per point), ``NAME-draws.csv`` (one row per solve)
and ``NAME.png`` into ``--out``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from sagin_twin.errors import InputError
from studies import yin


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    names = sorted(yin.FIGURES)
    p = subparsers.add_parser("figure", help="regenerate a source paper's figure (CSV + PNG)", description=__doc__)
    p.add_argument("name", choices=names, metavar="NAME", help="one of: " + ", ".join(names))
    p.add_argument("--out", type=Path, default=Path("figures"), help="output folder (default: figures)")
    p.add_argument("--draws", type=int, default=20, help="channel draws per point (default 20)")
    p.add_argument("--seed", type=int, default=1, help="seed of the channel draws (default 1)")
    p.add_argument("--methods", nargs="+", default=None, help="precoding methods to compare (default: the figure's)")
    p.set_defaults(func=figure)


def _write_atomically(path: Path, write) -> None:
    partial = path.with_name(path.name + ".partial")
    write(partial)
    os.replace(partial, path)


def figure(args: argparse.Namespace) -> int:
    if args.draws < 1:
        raise InputError(f"--draws must be >= 1, got {args.draws}")
    if args.seed < 0:
        raise InputError(f"--seed must be >= 0, got {args.seed}")
    spec = yin.FIGURES[args.name]
    try:
        started = time.perf_counter()
        rows = yin.run_figure(spec, args.draws, args.seed, args.methods)
    except KeyError as exc:
        raise InputError(str(exc.args[0]), field="--methods") from None
    table = yin.aggregate(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    _write_atomically(args.out / f"{spec.name}-draws.csv", lambda p: rows.to_csv(p, index=False))
    _write_atomically(args.out / f"{spec.name}.csv", lambda p: table.to_csv(p, index=False))
    _write_atomically(args.out / f"{spec.name}.png", lambda p: yin.plot(spec, table, p))
    failed = int((rows["status"] != "ok").sum())
    print(f"{spec.name}: {len(rows)} solves in {time.perf_counter() - started:.1f} s ({failed} not ok) -> {args.out}/{spec.name}.csv, .png", file=sys.stdout)
    return 0
