"""What one run of a sweep computes. Module-level functions so process pools and dask can ship them."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from scenarios.build import prepare
from scenarios.config import read_toml, scenario_from_table
from scenarios.execute import execute
from common.errors import InputError
from common.threads import one_blas_thread
from studies import kaewpuang, twin_value, yin
from sweeps.fields import set_field
from sweeps.instances import InstanceRun, load_run_instance
from sweeps.metrics import plan_metrics, scenario_metrics
from sweeps.spec import ScenarioRun, scenario_digest
from twin.qkd.diagnosis import plan_with_diagnosis


def run_scenario(run: ScenarioRun) -> dict:
    """Run the base scenario with the run's overrides and seed; return its metrics."""
    base = Path(run.base)
    digest = scenario_digest(base) if run.digest else ""
    if digest != run.digest:
        raise InputError(f"the base scenario or a file it names differs from the one the sweep started with (crc32 "
                         f"{digest}, expected {run.digest}): give every worker the same files", source=str(base))
    table = read_toml(base)
    for field, value in run.overrides:
        set_field(table, field, value)
    set_field(table, "run.seed", run.seed)
    if run.duration_s:
        set_field(table, "run.duration_s", run.duration_s)
    label = f"{base} with " + ", ".join(f"{k} = {v!r}" for k, v in run.overrides)
    prepared = prepare(scenario_from_table(table, base, source=label, allow_large=run.allow_large))
    if run.log_dir:
        return scenario_metrics(execute(prepared, _fresh_folder(Path(run.log_dir))))
    if run.work_dir:  # under the sweep's --out: a killed sweep leaves nothing elsewhere, and the next one clears it
        work = _fresh_folder(Path(run.work_dir))
        try:
            return scenario_metrics(execute(prepared, work))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="sagin-sweep-") as tmp:  # a dask worker's own scratch space
        return scenario_metrics(execute(prepared, Path(tmp)))


def _fresh_folder(folder: Path) -> Path:
    """``folder``, emptied of what an interrupted earlier attempt left."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def run_figure_task(task: yin.Task | kaewpuang.Task | twin_value.Task) -> dict:
    """Solve one figure task (Yin, Kaewpuang or twin-value study); the solver's own status is kept as ``solver_status``."""
    if isinstance(task, kaewpuang.Task):
        row = kaewpuang.run_task(task)
    elif isinstance(task, twin_value.Task):
        row = twin_value.run_task(task)
    else:
        row = yin.run_task(task)
    row["solver_status"] = row.pop("status")
    return row


def run_instance(run: InstanceRun) -> dict:
    """Plan one QKD instance (its fields set, its draws made) as ``plan-qkd`` does; the plan's status is
    kept as ``plan_status`` and its diagnosis (why there is no plan, or a note) as ``plan_diagnosis``."""
    instance = load_run_instance(run)
    result = plan_with_diagnosis(instance, run.options)
    return {"plan_status": result.status, "plan_diagnosis": result.diagnosis,
            **plan_metrics(result, {s.name: s.probability for s in instance.scenarios})}


def run_safely(function, task) -> dict:
    """Call ``function(task)``, turning any exception into an error row, and time it (wall s)."""
    started = time.perf_counter()
    try:
        with one_blas_thread():  # results must not depend on the worker's BLAS thread settings
            row = {"status": "ok", "error": "", **function(task)}
    except Exception as exc:  # a failed run is recorded and the sweep goes on
        row = {"status": "error", "error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
    row["wall_s"] = time.perf_counter() - started
    return row
