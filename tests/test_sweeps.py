"""Sweeps: expansion and seeding, resumability, failures recorded, and identical results on a local pool and dask."""

from __future__ import annotations


import pandas as pd
import pytest

from sagin_twin.cli import main
from sweeps.engine import RUNS_FILE
from sweeps.spec import load_sweep, points, run_seed, scenario_runs
from tests.conftest import ROOT, copy_scenario

DETERMINISTIC = ["achieved_min_mean_bps_hz", "achieved_au_mean_bps_hz", "gap_au_mean_bps_hz", "resolves", "events"]


def _sweep_file(folder, body: str, name="sweep.toml"):
    copy_scenario(folder)
    path = folder / name
    path.write_text(body)
    return path


SMALL = """
[sweep]
base = "s.toml"
seed = 3
seeds = 2
duration_s = 15.0
metrics = ["achieved_min_mean_bps_hz", "achieved_au_mean_bps_hz", "gap_au_mean_bps_hz", "resolves", "events"]
[parameters]
"uav.power_dbw" = [0.0, 5.0]
"links.decision.latency_s" = { start = 0.0, stop = 1.0, num = 2 }
"""


def test_expansion_cross_and_zip(tmp_path):
    sweep = load_sweep(_sweep_file(tmp_path, SMALL))
    assert len(points(sweep)) == 4 and len(scenario_runs(sweep)) == 8
    zipped = load_sweep(_sweep_file(tmp_path, SMALL.replace('seeds = 2', 'seeds = 1\ncombine = "zip"'), "z.toml"))
    assert points(zipped) == [(("uav.power_dbw", 0.0), ("links.decision.latency_s", 0.0)), (("uav.power_dbw", 5.0), ("links.decision.latency_s", 1.0))]


def test_seeds_depend_on_parameters_not_order():
    a = run_seed(3, (("x", 1.0), ("y", 2.0)), 0)
    assert a == run_seed(3, (("x", 1.0), ("y", 2.0)), 0)
    assert len({a, run_seed(3, (("x", 1.0), ("y", 2.0)), 1), run_seed(3, (("x", 2.0), ("y", 2.0)), 0), run_seed(4, (("x", 1.0), ("y", 2.0)), 0)}) == 4


def _results(out):
    return pd.read_parquet(out / "results.parquet")


@pytest.fixture(scope="module")
def local_result(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep")
    path = _sweep_file(folder, SMALL)
    assert main(["sweep", str(path), "--out", str(folder / "local"), "--workers", "2"]) == 0
    return folder, path, _results(folder / "local")


def test_local_sweep_writes_tidy_table_and_plots(local_result):
    folder, _, table = local_result
    assert len(table) == 8 and (table["status"] == "ok").all()
    assert {"uav.power_dbw", "links.decision.latency_s", "seed", "replicate", "wall_s", *DETERMINISTIC} <= set(table.columns)
    for metric in DETERMINISTIC:
        assert (folder / "local" / f"{metric}.png").is_file()
    # the run's seed really reached the scenario: replicates differ
    first = table[(table["uav.power_dbw"] == 0.0) & (table["links.decision.latency_s"] == 0.0)]
    assert first["events"].nunique() == 2 or first["achieved_au_mean_bps_hz"].nunique() == 2


def test_dask_cluster_gives_identical_results(local_result):
    distributed = pytest.importorskip("distributed")
    folder, path, local = local_result
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, processes=True) as cluster:
        assert main(["sweep", str(path), "--out", str(folder / "dask"), "--scheduler", cluster.scheduler_address]) == 0
    remote = _results(folder / "dask")
    pd.testing.assert_frame_equal(local.drop(columns=["wall_s"]), remote.drop(columns=["wall_s"]))


def test_resume_skips_finished_runs_and_retries_only_on_request(local_result, tmp_path, capsys):
    folder, path, _ = local_result
    out = tmp_path / "resume"
    out.mkdir()
    rows = (folder / "local" / RUNS_FILE).read_text().splitlines()
    # pretend the sweep was killed after 5 runs, mid-way through writing the 6th line
    (out / RUNS_FILE).write_text("\n".join(rows[:5]) + "\n" + rows[5][:20])
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    assert "5 already done, 3 to run" in capsys.readouterr().err
    resumed = _results(out)
    local = _results(folder / "local")
    pd.testing.assert_frame_equal(local[DETERMINISTIC + ["run_id"]], resumed[DETERMINISTIC + ["run_id"]])
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    assert "8 already done, 0 to run" in capsys.readouterr().err


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path):
    # the 2027 start validates, but the TLE's epoch is 46 days earlier (limit 30): that run fails in its worker
    body = SMALL.replace('"uav.power_dbw" = [0.0, 5.0]\n"links.decision.latency_s" = { start = 0.0, stop = 1.0, num = 2 }',
                         '"run.start_utc" = ["2026-11-16T13:40:00Z", "2027-01-01T00:00:00Z"]').replace("seeds = 2", "seeds = 1")
    path = _sweep_file(tmp_path, body)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "2"]) == 0
    table = _results(tmp_path / "out").set_index("run.start_utc")
    assert table.loc["2026-11-16T13:40:00Z", "status"] == "ok"
    assert table.loc["2027-01-01T00:00:00Z", "status"] == "error"
    assert table.loc["2027-01-01T00:00:00Z", "error"].startswith("InputError: ")


def test_worker_exceptions_become_error_rows(tmp_path):
    from sweeps.runs import run_safely

    row = run_safely(lambda task: 1 / 0, "task")
    assert row["status"] == "error" and row["error"].startswith("ZeroDivisionError") and row["wall_s"] >= 0


@pytest.mark.parametrize("body, message", [
    ("[sweep]\nbase = 's.toml'\n", "a scenario sweep needs at least one parameter"),
    ("[sweep]\nseeds = 2\n[parameters]\nx = [1]\n", "give exactly one of sweep.base"),
    ("[sweep]\nbase = 'nope.toml'\n[parameters]\nx = [1]\n", "sweep.base: base scenario 'nope.toml' not found"),
    ("[sweep]\nbase = 's.toml'\nmetrics = ['speed']\n[parameters]\n'uav.power_dbw' = [1.0]\n", "sweep.metrics: unknown metric 'speed'"),
    ("[sweep]\nbase = 's.toml'\n[parameters]\n'uav.power_dbw' = [1.0, 99.0]\n", "uav.power_dbw: 99.0 dBW is out of range"),
    ("[sweep]\nbase = 's.toml'\n[parameters]\n'uav.colour' = ['red']\n", "uav.colour: unknown key"),
    ("[sweep]\nbase = 's.toml'\n[parameters]\n'uav.power_dbw' = { start = 0, stop = 1 }\n", "a grid is { start = a, stop = b, num = n }"),
    ("[sweep]\nbase = 's.toml'\ncombine = 'zip'\n[parameters]\n'uav.power_dbw' = [1.0, 2.0]\n'radio.eve_csi_error' = [0.1]\n", "needs lists of equal length"),
    ("[sweep]\nfigure = 'yin-fig99'\n", "unknown figure 'yin-fig99'"),
    ("[sweep]\nbase = 's.toml'\nseeds = 0\n[parameters]\n'uav.power_dbw' = [1.0]\n", "sweep.seeds: 0 is out of range"),
    ("[sweep\n", "TOML syntax error"),
    # parameters the engine sets itself would be recorded in the table as varied but never ran
    ("[sweep]\nbase = 's.toml'\n[parameters]\n'run.seed' = [1, 2]\n", "parameters.run.seed: the sweep engine sets run.seed itself"),
    ("[sweep]\nbase = 's.toml'\nduration_s = 10.0\n[parameters]\n'run.duration_s' = [5.0, 8.0]\n",
     "parameters.run.duration_s: sweep.duration_s = 10 s sets every run's duration"),
])
def test_bad_sweep_files_are_clear_errors(tmp_path, capsys, body, message):
    path = _sweep_file(tmp_path, body)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_duration_can_be_swept_when_the_sweep_does_not_override_it(tmp_path):
    sweep = load_sweep(_sweep_file(tmp_path, "[sweep]\nbase = 's.toml'\n[parameters]\n'run.duration_s' = [5.0, 8.0]\n"))
    assert [dict(r.overrides)["run.duration_s"] for r in scenario_runs(sweep)] == [5.0, 8.0]
    assert {r.duration_s for r in scenario_runs(sweep)} == {0.0}  # 0: the parameter's value is what runs


def test_shipped_sweep_files_validate():
    for path in sorted((ROOT / "scenarios" / "sweeps").glob("*.toml")):
        assert load_sweep(path).metrics


def test_figure_sweep_runs_on_the_engine(tmp_path):
    path = tmp_path / "fig.toml"
    path.write_text("[sweep]\nfigure = 'yin-fig2'\nseed = 2\nseeds = 2\nmethods = ['mrt-full']\n")
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "2"]) == 0
    table = _results(tmp_path / "out")
    assert len(table) == 5 * 3 * 2 and set(table["method"]) == {"mrt-full"}
    assert set(table["solver_status"]) == {"ok"}  # each solve's own status reaches the table (mrt-full cannot fail)
    assert (tmp_path / "out" / "min_rate_bps_hz.png").is_file()


def test_editing_the_base_scenario_or_a_file_it_names_makes_every_run_a_new_one(tmp_path):
    """A resumed sweep keys finished runs by run_id: an edited base or input file must not reuse old results."""
    path = _sweep_file(tmp_path, SMALL)
    before = [r.run_id for r in scenario_runs(load_sweep(path))]
    assert [r.run_id for r in scenario_runs(load_sweep(path))] == before  # nothing edited: the same runs
    network = tmp_path / "qkd" / "xinglong.toml"  # the QKD network the copied default names
    network.write_text(network.read_text() + "\n# edited\n")
    after_network = [r.run_id for r in scenario_runs(load_sweep(path))]
    base = tmp_path / "s.toml"
    base.write_text(base.read_text() + "\n# edited\n")
    after_base = [r.run_id for r in scenario_runs(load_sweep(path))]
    assert set(before).isdisjoint(after_network) and set(after_network).isdisjoint(after_base)
    assert len(set(after_base)) == len(after_base)


def test_a_run_whose_base_scenario_changed_since_the_sweep_started_is_refused(tmp_path):
    from common.errors import InputError
    from sweeps.runs import run_scenario

    path = _sweep_file(tmp_path, SMALL)
    run = scenario_runs(load_sweep(path))[0]
    base = tmp_path / "s.toml"
    text = base.read_text()
    assert "power_dbw = 5.0" in text
    base.write_text(text.replace("power_dbw = 5.0", "power_dbw = 6.0", 1))
    with pytest.raises(InputError, match="differs from the one the sweep started with"):
        run_scenario(run)
