"""Instance sweeps (QKD planning instances on the sweep engine) and the random draws they use.

The sweep runs through the real command line (a child process) on the local pool and on a
``distributed.LocalCluster``; each run is checked against a direct solve of the instance it claims
to have solved, and against the monotonicity of the optimum in the on-demand price.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from common.errors import InputError
from sweeps.engine import RUNS_FILE
from sweeps.instances import instance_runs
from sweeps.metrics import WALL_TIME_METRICS
from sweeps.runs import run_instance, run_safely
from sweeps.spec import load_sweep
from tests.conftest import ROOT
from twin.qkd.diagnosis import plan_with_diagnosis
from twin.qkd.draws import DrawSpec, draw_instance, endpoints
from twin.qkd.instance import QkdInstance
from twin.qkd.plan import PlanOptions

NSFNET = ROOT / "scenarios" / "qkd" / "nsfnet.toml"
SMALL = ROOT / "scenarios" / "qkd" / "kaewpuang-small.toml"

#: 2 on-demand prices × 2 replicates on the small Kaewpuang instance (solves of milliseconds), its 4
#: requests' demands drawn in 4 scenarios per run; exact solves so the optima can be compared
SWEEP = """
[sweep]
instance = "net.toml"
seed = 11
seeds = 2
[draw]
scenarios = 4
[plan]
mip_rel_gap = 0.0
[parameters]
"planning.ondemand_factor" = [1.5, 3.0]
"""
#: columns that hold wall times, which two runs of one sweep never share
TIMES = ["wall_s", *WALL_TIME_METRICS]


def _cli(*args: str) -> subprocess.CompletedProcess:
    """``sagin-twin`` in a child process, as a user runs it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(ROOT / "run_sim.py"), *args], env=env, capture_output=True, text=True,
                          timeout=240)


def _write_sweep(folder, body: str = SWEEP):
    shutil.copy(SMALL, folder / "net.toml")  # next to the sweep file: found before the shipped library
    path = folder / "sweep.toml"
    path.write_text(body)
    return path


@pytest.fixture(scope="module")
def local_result(tmp_path_factory):
    folder = tmp_path_factory.mktemp("instance-sweep")
    path = _write_sweep(folder)
    done = _cli("sweep", str(path), "--out", str(folder / "local"), "--workers", "2")
    assert done.returncode == 0, done.stderr
    return folder, path, pd.read_parquet(folder / "local" / "results.parquet")


def test_local_sweep_writes_one_row_per_plan_and_a_plot_per_metric(local_result):
    folder, path, table = local_result
    assert len(table) == 4 and (table["status"] == "ok").all() and (table["plan_status"] == "optimal").all()
    sweep = load_sweep(path)
    assert {"planning.ondemand_factor", "replicate", "seed", "plan_status", "plan_diagnosis", *sweep.metrics} <= set(table.columns)
    for metric in sweep.metrics:
        assert (folder / "local" / f"{metric}.png").is_file()
    # replicates are different draws; the two prices solve the same draws (common random numbers)
    by_price = {price: group.sort_values("replicate") for price, group in table.groupby("planning.ondemand_factor")}
    assert by_price[1.5]["seed"].tolist() == by_price[3.0]["seed"].tolist()
    assert by_price[1.5]["seed"].nunique() == 2 and by_price[1.5]["objective"].nunique() == 2


def test_each_row_is_the_plan_of_the_instance_it_names(local_result):
    # independent of the engine: load the file, set the field, draw from the recorded seed, solve
    _, _, table = local_result
    base = QkdInstance.from_toml(SMALL)
    for row in table.to_dict("records"):
        changed = replace(base, planning=replace(base.planning, ondemand_factor=row["planning.ondemand_factor"]))
        instance = draw_instance(changed, DrawSpec(scenarios=4), np.random.default_rng(row["seed"]))
        plan = plan_with_diagnosis(instance, PlanOptions(mip_rel_gap=0.0))
        assert plan.objective == pytest.approx(row["objective"], rel=1e-9)
        assert plan.first_stage_cost == pytest.approx(row["first_stage_cost"], rel=1e-9)
        assert sum(r["qkd"] for r in plan.reserved.values()) == row["reserved_qkd"]


def test_a_dearer_on_demand_price_never_lowers_the_optimum(local_result):
    # same draws, same feasible plans, every on-demand cost scaled up: the exact optimum cannot fall
    _, _, table = local_result
    cheap = table[table["planning.ondemand_factor"] == 1.5].set_index("replicate")["objective"]
    dear = table[table["planning.ondemand_factor"] == 3.0].set_index("replicate")["objective"]
    assert (dear >= cheap * (1 - 1e-9)).all()


def test_a_local_cluster_gives_identical_results_except_wall_times(local_result):
    distributed = pytest.importorskip("distributed")
    folder, path, local = local_result
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None)
    try:
        done = _cli("sweep", str(path), "--out", str(folder / "dask"), "--scheduler", cluster.scheduler_address)
    finally:
        cluster.close()
    assert done.returncode == 0, done.stderr
    assert f"4 to run on dask cluster at {cluster.scheduler_address}" in done.stderr
    remote = pd.read_parquet(folder / "dask" / "results.parquet")
    pd.testing.assert_frame_equal(local.drop(columns=TIMES), remote.drop(columns=TIMES))


def test_resume_skips_finished_runs_and_a_changed_instance_runs_again(local_result, tmp_path):
    folder, _, local = local_result
    path = _write_sweep(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    rows = (folder / "local" / RUNS_FILE).read_text().splitlines()
    (out / RUNS_FILE).write_text("\n".join(rows[:2]) + "\n" + rows[2][:25])  # killed while writing the 3rd row
    done = _cli("sweep", str(path), "--out", str(out), "--workers", "1")
    assert done.returncode == 0 and "4 runs: 2 already done, 2 to run" in done.stderr, done.stderr
    resumed = pd.read_parquet(out / "results.parquet")
    pd.testing.assert_frame_equal(local.drop(columns=TIMES), resumed.drop(columns=TIMES))
    assert "4 runs: 4 already done, 0 to run" in _cli("sweep", str(path), "--out", str(out), "--workers", "1").stderr
    # the instance's content is part of each run's identity: an edited file is solved again
    (tmp_path / "net.toml").write_text(SMALL.read_text().replace("ondemand_factor = 2.0", "ondemand_factor = 2.5"))
    done = _cli("sweep", str(path), "--out", str(out), "--workers", "1")
    assert done.returncode == 0 and "4 runs: 0 already done, 4 to run" in done.stderr, done.stderr


def test_a_worker_whose_instance_file_differs_records_an_error(tmp_path):
    path = _write_sweep(tmp_path)
    run = instance_runs(load_sweep(path))[0]
    (tmp_path / "net.toml").write_text(SMALL.read_text() + "\n# edited\n")
    row = run_safely(run_instance, run)
    assert row["status"] == "error" and "differs from the one the sweep started with" in row["error"]


def test_seeds_follow_the_draw_settings_and_the_replicate_only(tmp_path):
    body = SWEEP.replace('"planning.ondemand_factor" = [1.5, 3.0]',
                         '"planning.ondemand_factor" = [1.5, 3.0]\n"draw.scenarios" = [4, 8]\n"plan.reroute" = ["weather", "scenario"]')
    runs = instance_runs(load_sweep(_write_sweep(tmp_path, body)))
    assert len(runs) == 2 * 2 * 2 * 2 and len({r.run_id for r in runs}) == len(runs)
    seeds = {}
    for run in runs:
        seeds.setdefault((dict(run.overrides)["draw.scenarios"], run.replicate), set()).add(run.seed)
    assert all(len(s) == 1 for s in seeds.values())  # prices and re-routing modes share the draws
    assert len({next(iter(s)) for s in seeds.values()}) == 4  # draw settings and replicates do not
    assert {r.draw.scenarios for r in runs} == {4, 8} and {r.options.reroute for r in runs} == {"weather", "scenario"}


def test_a_large_draw_passes_with_allow_large(tmp_path):
    body = SWEEP.replace("scenarios = 4", "requests = 20\nscenarios = 10000").replace("seeds = 2", "seeds = 1")
    path = _write_sweep(tmp_path, body)
    with pytest.raises(InputError, match="200,000 request-scenario pairs"):
        instance_runs(load_sweep(path))
    assert len(instance_runs(load_sweep(path, allow_large=True))) == 2


def test_shipped_instance_sweep_validates():
    sweep = load_sweep(ROOT / "scenarios" / "sweeps" / "qkd-planning.toml")
    runs = instance_runs(sweep)
    assert sweep.kind == "instance" and len(runs) == 36 and all(r.in_library for r in runs)


# ---- random draws ------------------------------------------------------------------------------

def test_drawn_requests_and_scenarios_follow_their_distribution():
    base = QkdInstance.from_toml(NSFNET)
    spec = DrawSpec(requests=30, scenarios=4000, cloudy_probability=0.3, demand_min_bps=2e3, demand_max_bps=2e5)
    inst = draw_instance(base, spec, np.random.default_rng(5))
    kinds = {n.name: n.kind for n in base.nodes}
    assert len(inst.requests) == 30 and all(r.src != r.dst for r in inst.requests)
    assert {kinds[r.src] for r in inst.requests} | {kinds[r.dst] for r in inst.requests} <= {"ground", "uav"}
    assert len(inst.scenarios) == 4000 and sum(s.probability for s in inst.scenarios) == pytest.approx(1.0)
    demands = np.array([s.demand(r.name) for s in inst.scenarios for r in inst.requests])
    assert demands.min() >= 2e3 and demands.max() <= 2e5
    # log-uniform: the log of the demand is uniform, its mean is the middle of the log range (±4 standard errors)
    logs = np.log(demands)
    middle, spread = np.log(2e3 * 2e5) / 2, (np.log(2e5) - np.log(2e3)) / np.sqrt(12)
    assert abs(logs.mean() - middle) < 4 * spread / np.sqrt(len(logs))
    cloudy = np.mean([s.weather == "cloudy" for s in inst.scenarios])
    assert abs(cloudy - 0.3) < 4 * np.sqrt(0.3 * 0.7 / 4000)
    assert len({r.name for r in inst.requests}) == 30 and len({s.name for s in inst.scenarios}) == 4000
    assert draw_instance(base, spec, np.random.default_rng(5)) == inst  # one seed, one instance


def test_drawing_scenarios_keeps_the_instance_s_requests_and_refuses_requests_alone():
    base = QkdInstance.from_toml(SMALL)
    inst = draw_instance(base, DrawSpec(scenarios=3), np.random.default_rng(1))
    assert inst.requests == base.requests and {tuple(s.demand_bps) for s in inst.scenarios} == {("r1", "r2", "r3", "r4")}
    assert endpoints(base) == ["A", "B", "C", "D", "E", "G", "H", "U1"]
    with pytest.raises(ValueError, match="drawn requests need drawn scenarios"):
        draw_instance(base, DrawSpec(requests=2), np.random.default_rng(1))



def test_the_documented_instance_sweep_validates(tmp_path):
    text = (ROOT / "docs" / "sweeps.md").read_text().split("## Instance sweeps")[1]
    body = text.split("```toml\n")[1].split("```")[0]
    (tmp_path / "doc.toml").write_text(body)
    runs = instance_runs(load_sweep(tmp_path / "doc.toml"))
    assert len(runs) == 3 * 2 * 2 * 3 * 2 * 3
    assert {r.options.reroute for r in runs} == {"weather", "scenario"} and {r.draw.requests for r in runs} == {2, 4, 8}


def test_an_instance_without_a_plan_is_a_row_with_its_diagnosis(tmp_path):
    # no fiber wavelengths at all: a cloudy scenario (satellite and UAV links down) leaves no usable path
    body = ("[sweep]\ninstance = 'net.toml'\n[parameters]\n'media.fiber.capacity_qkd' = [0]\n"
            "'media.fiber.ondemand_capacity_qkd' = [0]\n")
    run, = instance_runs(load_sweep(_write_sweep(tmp_path, body)))
    row = run_safely(run_instance, run)
    assert row["status"] == "ok" and row["plan_status"] == "infeasible"
    assert "cannot be served in scenario" in row["plan_diagnosis"] and "cloudy" in row["plan_diagnosis"]
    assert np.isnan(row["objective"]) and np.isnan(row["model_columns"]) and row["solve_s"] == 0.0
