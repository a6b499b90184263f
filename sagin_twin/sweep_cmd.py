"""``sagin-twin sweep SWEEP.toml --out DIR [--workers N | --scheduler ADDRESS] [--retry-failed]``.

Runs every point of a sweep file (see ``sweeps/spec.py`` and ``docs/sweeps.md``) — simulations of a
base scenario (``base``), solves of a paper figure (``figure``) or QKD plans of a planning instance
(``instance``) — on a local process pool or an existing dask.distributed cluster, appending each
finished run to ``DIR/runs.jsonl``.
Re-running the same command resumes: finished runs are not recomputed (failed ones only with
``--retry-failed``). Writes ``DIR/results.parquet`` (one row per run) and ``DIR/<metric>.png``.
A second sweep into the same ``DIR`` while one runs is refused (exit 2); a worker process that dies,
a dask cluster that goes away or a full disk end the sweep with one line and exit status 1, keeping
every finished run for the next attempt.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import time
import zlib
from pathlib import Path

from common.errors import InputError, RunFailure
from sagin_twin.outputs import check_output_folder, locked_folder

WORK_DIR = "work"  #: scratch folder under --out for the logs of local runs that are not kept


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("sweep", help="run a parameter sweep (local pool or dask cluster)", description=__doc__)
    p.add_argument("sweep", type=Path, help="sweep TOML file")
    p.add_argument("--out", type=Path, required=True, help="output folder (reused to resume)")
    add_executor_arguments(p)
    p.add_argument("--retry-failed", action="store_true", help="run again the runs that failed before")
    p.add_argument("--allow-large", action="store_true", help="run even if the sweep or one of its runs exceeds the job-size limits")
    p.set_defaults(func=sweep)


def add_executor_arguments(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--workers", type=int, default=None, help="local worker processes (default: number of cores)")
    group.add_argument("--scheduler", default=None, metavar="ADDRESS", help="dask.distributed scheduler, e.g. tcp://127.0.0.1:8786")


def check_executor_arguments(args: argparse.Namespace) -> None:
    """Refuse a bad --workers or a malformed --scheduler address before any work."""
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers must be >= 1, got {args.workers}")
    if args.scheduler:
        from sweeps.scheduler import parse_scheduler_address

        parse_scheduler_address(args.scheduler)


def make_executor(args: argparse.Namespace):
    """The local process pool, or the dask cluster at --scheduler (checked within a bounded wait)."""
    from sweeps.engine import DaskExecutor, LocalExecutor

    check_executor_arguments(args)
    if args.scheduler:
        return DaskExecutor(args.scheduler)
    return LocalExecutor(args.workers)


class RunProgress:
    """Prints 'k/N done, f failed, elapsed, ETA' on stderr: every run on a terminal, every 10 % otherwise."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.started = time.perf_counter()

    def update(self, ok: bool) -> None:
        self.done += 1
        self.failed += not ok
        if sys.stderr.isatty() or self.done == self.total or self.done % max(1, self.total // 10) == 0:
            elapsed = time.perf_counter() - self.started
            eta = elapsed / self.done * (self.total - self.done)
            print(f"  {self.done}/{self.total} done, {self.failed} failed, {elapsed:.1f} s elapsed, ~{eta:.0f} s left", file=sys.stderr)


def figure_run_id(task) -> str:
    payload = f"{task.figure}|{task.parameter}|{task.value!r}|{task.delta!r}|{task.method}|{task.draw}|{task.seed}"
    return f"f{zlib.crc32(payload.encode()):08x}"


#: columns of a sweep's table besides the metrics, by kind: what the solver said of each solve or plan
SOLVER_COLUMNS = {"figure": ["solver_status"], "instance": ["plan_status", "plan_diagnosis"]}


def _plan(sweep, out: Path, local: bool):
    """(function, tasks, identity rows, x column, group columns) of a sweep."""
    from studies import yin
    from sweeps.instances import instance_runs
    from sweeps.runs import run_figure_task, run_instance, run_scenario
    from sweeps.spec import scenario_runs

    s = sweep.section
    if sweep.kind == "figure":
        spec = yin.FIGURES[s.figure]
        tasks = yin.tasks(spec, s.seeds, s.seed, s.methods or None)
        ids = [{"run_id": figure_run_id(t), "index": i, "value": t.value, "delta": t.delta, "method": t.method, "draw": t.draw}
               for i, t in enumerate(tasks)]
        groups = ["method"] + ([] if spec.parameter == "delta" else ["delta"])
        return run_figure_task, tasks, ids, "value", groups
    if sweep.kind == "instance":
        function, runs = run_instance, instance_runs(sweep)
    else:
        runs = scenario_runs(sweep, out / "runs" if s.keep_logs else None)
        if local and not s.keep_logs:
            runs = [dataclasses.replace(r, work_dir=str(out.resolve() / WORK_DIR / r.run_id)) for r in runs]
        _check_points(sweep, runs)
        function = run_scenario
    names = list(sweep.parameters)
    ids = [{"run_id": r.run_id, "index": r.index, **dict(r.overrides), "replicate": r.replicate, "seed": r.seed} for r in runs]
    return function, runs, ids, names[0], names[1:]


def _check_points(sweep, runs) -> None:
    """Validate every point's scenario before anything runs, so a typo fails fast with its field."""
    from scenarios.build import prepare
    from scenarios.config import read_toml, scenario_from_table
    from sweeps.fields import set_field

    seen = set()
    for run in runs:
        if run.overrides in seen:
            continue
        seen.add(run.overrides)
        table = read_toml(Path(run.base))
        for field, value in run.overrides:
            try:
                set_field(table, field, value)
            except ValueError as exc:
                raise InputError(str(exc), source=str(sweep.path), field=f"parameters.{field}") from None
        if run.duration_s:
            set_field(table, "run.duration_s", run.duration_s)
        label = f"{sweep.path} (parameters {', '.join(f'{k} = {v!r}' for k, v in run.overrides)}) applied to {Path(run.base).name}"
        scenario_from_table(table, Path(run.base), source=label, allow_large=run.allow_large)
    prepare(scenario_from_table(read_toml(Path(runs[0].base)), Path(runs[0].base), allow_large=runs[0].allow_large))


def sweep(args: argparse.Namespace) -> int:
    from sweeps.engine import DaskExecutor
    from sweeps.spec import load_sweep

    check_output_folder(args.out)
    check_executor_arguments(args)
    spec = load_sweep(args.sweep, allow_large=args.allow_large)
    function, tasks, ids, x, groups = _plan(spec, args.out, local=not args.scheduler)
    executor = make_executor(args)  # a dask address is probed here, before --out is created
    try:
        with locked_folder(args.out, "sweep"):
            table = _run_and_collect(args, spec, function, tasks, ids, executor)
            _plot_all(table, spec.metrics, x, groups, args.out)
    finally:
        if isinstance(executor, DaskExecutor):
            executor.close()
    failed = int((table["status"] != "ok").sum())
    print(f"{len(table)} runs ({failed} failed) in {args.out / 'results.parquet'}; plots: {', '.join(m + '.png' for m in spec.metrics)}")
    return 0


def _run_and_collect(args: argparse.Namespace, spec, function, tasks: list, ids: list[dict], executor):
    """Run what is not done yet (appending to runs.jsonl as runs finish) and write results.parquet."""
    from sweeps.engine import ResultStore, run_all
    from sweeps.results import write_table

    shutil.rmtree(args.out / WORK_DIR, ignore_errors=True)  # scratch logs of a sweep killed earlier
    store = ResultStore(args.out)
    store.repair()
    previous = {row["run_id"]: row for row in store.rows()}
    keep = {i["run_id"] for i in ids if i["run_id"] not in previous or (args.retry_failed and previous[i["run_id"]]["status"] != "ok")}
    todo = [(t, i) for t, i in zip(tasks, ids) if i["run_id"] in keep]
    print(f"{len(tasks)} runs: {len(tasks) - len(todo)} already done, {len(todo)} to run on {executor.describe()}", file=sys.stderr)
    progress = RunProgress(len(todo))
    by_key = {(_key(t)): i for t, i in todo}

    def on_row(task, row):
        store.append({**by_key[_key(task)], **row})
        progress.update(row["status"] == "ok")

    try:
        run_all(function, [t for t, _ in todo], executor, on_row)
    except RunFailure as exc:
        raise RunFailure(f"{exc}; {progress.done} finished runs of this attempt are saved in "
                         f"{store.path}: run the same command again to resume") from None
    finally:
        _remove_empty(args.out / WORK_DIR)
    rows_by_id = {row["run_id"]: row for row in store.rows()}
    rows = [rows_by_id[i["run_id"]] for i in ids if i["run_id"] in rows_by_id]
    columns = list(ids[0]) + ["status", "error", "wall_s"] + SOLVER_COLUMNS.get(spec.kind, []) + list(spec.metrics)
    return write_table(rows, columns, args.out)


def _plot_all(table, metrics, x: str, groups: list[str], out: Path) -> None:
    """One PNG per metric; a PNG that cannot be written (full disk) is reported in one line after trying all."""
    from sweeps.results import plot_metric

    failures = []
    for metric in metrics:
        path = out / f"{metric}.png"
        try:
            plot_metric(table, metric, x, groups, path)
        except OSError as exc:
            import matplotlib.pyplot as plt

            plt.close("all")  # the figure whose savefig failed
            path.with_name(path.name + ".partial").unlink(missing_ok=True)
            failures.append((path.name, exc))
    if failures:
        name, exc = failures[0]
        raise RunFailure(f"could not write {len(failures)} of {len(metrics)} plots, e.g. {out / name} "
                         f"({exc.strerror or exc}); the results are in {out / 'results.parquet'}")


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:  # absent, or holds the scratch log of a run that was stopped
        pass


def _key(task) -> tuple:
    return (type(task).__name__, repr(task))
