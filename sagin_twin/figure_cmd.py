"""``sagin-twin figure NAME [--out DIR] [--draws N] [--seed S] [--methods M ...] [--workers N | --scheduler ADDRESS]``.

Regenerates a paper figure on the sweep engine (local process pool or dask cluster) and writes
``NAME.csv`` (means and standard errors per point), ``NAME-draws.csv`` (one row per solve) and
``NAME.png`` into ``--out``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd

from sagin_twin.errors import InputError
from sagin_twin.sweep_cmd import RunProgress, add_executor_arguments, make_executor
from studies import yin
from sweeps.engine import run_all
from sweeps.runs import run_figure_task
from twin.precoding import PRECODERS


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    names = sorted(yin.FIGURES)
    p = subparsers.add_parser("figure", help="regenerate a source paper's figure (CSV + PNG)", description=__doc__)
    p.add_argument("name", choices=names, metavar="NAME", help="one of: " + ", ".join(names))
    p.add_argument("--out", type=Path, default=Path("figures"), help="output folder (default: figures)")
    p.add_argument("--draws", type=int, default=20, help="channel draws per point (default 20)")
    p.add_argument("--seed", type=int, default=1, help="seed of the channel draws (default 1)")
    p.add_argument("--methods", nargs="+", default=None, help="precoding methods to compare (default: the figure's)")
    add_executor_arguments(p)
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
    unknown = [m for m in args.methods or () if m not in PRECODERS]
    if unknown:
        raise InputError(f"unknown precoding method {unknown[0]!r}; available: {', '.join(sorted(PRECODERS))}", field="--methods")
    executor = make_executor(args)
    started = time.perf_counter()
    tasks = yin.tasks(spec, args.draws, args.seed, args.methods)
    collected: list[dict] = []
    progress = RunProgress(len(tasks))

    def on_row(task, row):
        collected.append(row)
        progress.update(row["status"] == "ok")

    run_all(run_figure_task, tasks, executor, on_row)
    rows = pd.DataFrame(collected).sort_values(["value", "delta", "method", "draw"]).reset_index(drop=True)
    errors = rows[rows["status"] != "ok"]
    if len(errors) == len(rows):
        raise InputError(f"every solve failed, e.g. {errors['error'].iloc[0]}", field=args.name)
    table = yin.aggregate(rows[rows["status"] == "ok"])
    args.out.mkdir(parents=True, exist_ok=True)
    _write_atomically(args.out / f"{spec.name}-draws.csv", lambda p: rows.to_csv(p, index=False))
    _write_atomically(args.out / f"{spec.name}.csv", lambda p: table.to_csv(p, index=False))
    _write_atomically(args.out / f"{spec.name}.png", lambda p: yin.plot(spec, table, p))
    not_ok = int((rows["solver_status"] != "ok").sum()) + len(errors)
    print(f"{spec.name}: {len(rows)} solves in {time.perf_counter() - started:.1f} s on {executor.describe()} "
          f"({len(errors)} raised, {not_ok} not ok) -> {args.out}/{spec.name}.csv, .png")
    return 0
