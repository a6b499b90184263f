"""``sagin-twin figure NAME [--out DIR] [--draws N] [--seed S] [--methods M ...] [--instance PATH] [--workers N | --scheduler ADDRESS]``.

Regenerates a paper figure on the sweep engine (local process pool or dask cluster) and writes
``NAME.csv`` (the plotted table), ``NAME-draws.csv`` (one row per solve) and ``NAME.png`` into
``--out``.

Yin et al. figures (``yin-fig2`` … ``yin-fig8``): Monte-Carlo over channel draws; ``--draws``,
``--seed`` and ``--methods`` apply. ``twin-value``: achieved min secrecy rate vs the age of the
twin's CSI (0 to 2 s) for nominal synergy (on the old report and on the forecast mean), ZF-all and
the statistical design on the forecast, on the default scenario near culmination
(``studies/twin_value.py``); ``--draws``, ``--seed`` and ``--methods`` apply. Kaewpuang et al. figures (``kaewpuang-fig2a``,
``kaewpuang-fig2a-deterministic``, ``kaewpuang-fig2b``, ``kaewpuang-fig3d``): exact QKD planning
solves on a plan-qkd instance (``--instance``, default ``scenarios/qkd/kaewpuang-small.toml``, or
``kaewpuang-deterministic.toml`` for the deterministic Fig. 2a); they have no draws, seeds or methods.

``--out`` is checked and locked before any solve: a file, a read-only place or a folder another
command is writing into is refused at once (exit 2).
"""

from __future__ import annotations

import argparse
import os
import time
from contextlib import contextmanager
from pathlib import Path

from common.errors import InputError
from sagin_twin.outputs import check_output_folder, locked_folder
from sagin_twin.sweep_cmd import RunProgress, add_executor_arguments, check_executor_arguments, make_executor
from scenarios.workload import MAX_FIGURE_SOLVES, check_count

YIN_DEFAULT_DRAWS = 20  #: channel draws per point of a Yin figure
YIN_DEFAULT_SEED = 1  #: seed of a Yin figure's channel draws
#: figure names, listed here so ``--help`` needs no solver imports (a test keeps them equal to the studies')
YIN_FIGURES = ("yin-fig2", "yin-fig3", "yin-fig4", "yin-fig5", "yin-fig6", "yin-fig7", "yin-fig8")
KAEWPUANG_FIGURES = ("kaewpuang-fig2a", "kaewpuang-fig2a-deterministic", "kaewpuang-fig2b", "kaewpuang-fig3d")
TWIN_VALUE_FIGURE = "twin-value"  #: the predicting twin's value vs CSI age (studies/twin_value.py)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    names = list(YIN_FIGURES + KAEWPUANG_FIGURES + (TWIN_VALUE_FIGURE,))
    p = subparsers.add_parser("figure", help="regenerate a source paper's figure (CSV + PNG)", description=__doc__)
    p.add_argument("name", choices=names, metavar="NAME", help="one of: " + ", ".join(names))
    p.add_argument("--out", type=Path, default=Path("figures"), help="output folder (default: figures)")
    p.add_argument("--draws", type=int, default=None,
                   help=f"Yin and twin-value figures: channel draws per point (default {YIN_DEFAULT_DRAWS})")
    p.add_argument("--seed", type=int, default=None,
                   help=f"Yin and twin-value figures: seed of the channel draws (default {YIN_DEFAULT_SEED})")
    p.add_argument("--methods", nargs="+", default=None,
                   help="Yin and twin-value figures: precoding methods to compare (default: the figure's)")
    p.add_argument("--instance", type=Path, default=None, metavar="PATH",
                   help="Kaewpuang figures: plan-qkd instance file (default: scenarios/qkd/kaewpuang-small.toml; "
                        "kaewpuang-deterministic.toml for kaewpuang-fig2a-deterministic)")
    add_executor_arguments(p)
    p.add_argument("--allow-large", action="store_true", help=f"run even if the figure takes more than {MAX_FIGURE_SOLVES:,} solves")
    p.set_defaults(func=figure)


def _write_atomically(path: Path, write) -> None:
    """``write(partial)`` then rename, so a failure (full disk) never leaves a half-written file under ``path``."""
    partial = path.with_name(path.name + ".partial")
    try:
        write(partial)
        os.replace(partial, path)
    except OSError:
        partial.unlink(missing_ok=True)
        raise
    finally:
        if path.suffix == ".png":
            import matplotlib.pyplot as plt

            plt.close("all")  # a figure whose savefig failed stays open otherwise


def _reject(args: argparse.Namespace, options: tuple[str, ...], family: str, reason: str) -> None:
    given = [o for o in options if getattr(args, o.lstrip("-").replace("-", "_")) is not None]
    if given:
        raise InputError(f"{given[0]} does not apply to {family} figures ({reason})", field=args.name)


def figure(args: argparse.Namespace) -> int:
    check_output_folder(args.out)
    check_executor_arguments(args)
    if args.name in KAEWPUANG_FIGURES:
        _reject(args, ("--draws", "--seed", "--methods"), "Kaewpuang",
                "their solves are deterministic; use --instance to change the input")
        return _kaewpuang_figure(args)
    _reject(args, ("--instance",), "Monte-Carlo", "it selects a QKD planning instance")
    if args.name == TWIN_VALUE_FIGURE:
        return _twin_value_figure(args)
    return _yin_figure(args)


def _run(tasks: list, executor):
    import pandas as pd

    from sweeps.engine import run_all
    from sweeps.runs import run_figure_task

    collected: list[dict] = []
    progress = RunProgress(len(tasks))

    def on_row(task, row):
        collected.append(row)
        progress.update(row["status"] == "ok")

    run_all(run_figure_task, tasks, executor, on_row)
    return pd.DataFrame(collected)


@contextmanager
def _executor_and_lock(args: argparse.Namespace):
    """The executor (a dask address is probed before --out is created), then the lock on --out."""
    from sweeps.engine import DaskExecutor

    executor = make_executor(args)
    try:
        with locked_folder(args.out, f"figure {args.name}"):
            yield executor
    finally:
        if isinstance(executor, DaskExecutor):
            executor.close()


def _monte_carlo_options(args: argparse.Namespace) -> tuple[int, int]:
    """(draws, seed) of a Monte-Carlo figure, with --methods checked against the precoders and the job size."""
    from sweeps.spec import figure_solve_count
    from twin.precoding import PRECODERS

    draws = YIN_DEFAULT_DRAWS if args.draws is None else args.draws
    seed = YIN_DEFAULT_SEED if args.seed is None else args.seed
    if draws < 1:
        raise InputError(f"--draws must be >= 1, got {draws}")
    if seed < 0:
        raise InputError(f"--seed must be >= 0, got {seed}")
    unknown = [m for m in args.methods or () if m not in PRECODERS]
    if unknown:
        raise InputError(f"unknown precoding method {unknown[0]!r}; available: {', '.join(sorted(PRECODERS))}", field="--methods")
    check_count(figure_solve_count(args.name, draws, args.methods), MAX_FIGURE_SOLVES, "solves", None, args.name,
                args.allow_large, "lower --draws")
    return draws, seed


def _twin_value_figure(args: argparse.Namespace) -> int:
    from studies import twin_value

    draws, seed = _monte_carlo_options(args)
    with _executor_and_lock(args) as executor:
        started = time.perf_counter()
        description = executor.describe()
        rows = _run(twin_value.tasks(draws, seed, args.methods), executor)
        rows = rows.sort_values(["age_s", "method", "view", "draw"]).reset_index(drop=True)
        errors = rows[rows["status"] != "ok"]
        if len(errors) == len(rows):
            raise InputError(f"every solve failed, e.g. {errors['error'].iloc[0]}", field=args.name)
        table = twin_value.aggregate(rows[rows["status"] == "ok"])
        _write_outputs(args.out, twin_value.NAME, rows, table, lambda p: twin_value.plot(table, p))
    print(f"{twin_value.NAME}: {len(rows)} solves in {time.perf_counter() - started:.1f} s on {description} "
          f"({len(errors)} raised) -> {args.out}/{twin_value.NAME}.csv, .png")
    return 0


def _yin_figure(args: argparse.Namespace) -> int:
    from studies import yin

    draws, seed = _monte_carlo_options(args)
    spec = yin.FIGURES[args.name]
    with _executor_and_lock(args) as executor:
        started = time.perf_counter()
        description = executor.describe()
        rows = _run(yin.tasks(spec, draws, seed, args.methods), executor)
        rows = rows.sort_values(["value", "delta", "method", "draw"]).reset_index(drop=True)
        errors = rows[rows["status"] != "ok"]
        if len(errors) == len(rows):
            raise InputError(f"every solve failed, e.g. {errors['error'].iloc[0]}", field=args.name)
        table = yin.aggregate(rows[rows["status"] == "ok"])
        _write_outputs(args.out, spec.name, rows, table, lambda p: yin.plot(spec, table, p))
    not_ok = int((rows["solver_status"] != "ok").sum()) + len(errors)
    print(f"{spec.name}: {len(rows)} solves in {time.perf_counter() - started:.1f} s on {description} "
          f"({len(errors)} raised, {not_ok} not ok) -> {args.out}/{spec.name}.csv, .png")
    return 0


def _kaewpuang_figure(args: argparse.Namespace) -> int:
    from studies import kaewpuang

    spec = kaewpuang.FIGURES[args.name]
    instance = kaewpuang.load_instance(args.instance, spec)  # InputError names the file and field
    with _executor_and_lock(args) as executor:
        started = time.perf_counter()
        description = executor.describe()
        if spec.study == "reservation":
            free = kaewpuang.free_solve(instance)
            if not free.has_plan:
                raise InputError(f"the instance has no plan ({free.status}): {free.diagnosis}", source=instance.source)
            tasks = kaewpuang.tasks(spec, instance, free=free)
        else:
            tasks = kaewpuang.tasks(spec, instance)
        rows = _run(tasks, executor)
        rows = rows.sort_values(["kind", "value"]).reset_index(drop=True)
        errors = rows[rows["status"] != "ok"]
        if len(errors) == len(rows):
            raise InputError(f"every solve failed, e.g. {errors['error'].iloc[0]}", field=args.name)
        solved = rows[(rows["status"] == "ok") & (rows["solver_status"] == "optimal")]
        if spec.study == "reservation" and not (solved["kind"] == "free").any():
            raise InputError("the free plan could not be re-solved on the executor", field=args.name)
        table = kaewpuang.aggregate(spec, solved)
        label = Path(instance.source).name
        _write_outputs(args.out, spec.name, rows, table, lambda p: kaewpuang.plot(spec, table, p, label))
    not_ok = len(rows) - len(solved)
    print(f"{spec.name}: {len(rows)} solves of {label} in {time.perf_counter() - started:.1f} s on {description} "
          f"({len(errors)} raised, {not_ok} not optimal) -> {args.out}/{spec.name}.csv, .png")
    return 0


def _write_outputs(out: Path, name: str, rows, table, plot) -> None:
    _write_atomically(out / f"{name}-draws.csv", lambda p: rows.to_csv(p, index=False))
    _write_atomically(out / f"{name}.csv", lambda p: table.to_csv(p, index=False))
    _write_atomically(out / f"{name}.png", plot)
