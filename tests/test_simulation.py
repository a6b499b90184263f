"""The closed loop end to end: the default run's log, determinism, latencies, faults, and the CLI."""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import time
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest

from eventlog import EventLog
from eventlog.reader import load_array, load_events
from sagin_twin.cli import main
from sagin_twin.outputs import locked_folder
from scenarios.build import build
from scenarios.config import load_scenario
from tests.conftest import DEFAULT_SCENARIO, ROOT, child_process, copy_scenario


@pytest.fixture(scope="module")
def events(default_run) -> pd.DataFrame:
    return load_events(default_run)


def test_log_has_every_layer_of_the_loop(events):
    kinds = set(events["kind"])
    for kind in ("run_started", "tle_loaded", "pass_event", "satellite_state", "uav_state", "weather_change",
                 "report_received", "view_received", "resolve", "decision_sent", "decision_applied", "secrecy", "run_finished"):
        assert kind in kinds, kind
    assert events["seq"].tolist() == list(range(len(events)))
    assert events["t_s"].is_monotonic_increasing


def test_the_run_is_centred_on_the_culmination(events):
    passes = events[events["kind"] == "pass_event"].set_index("event")
    assert passes.loc["culminate", "t_s"] == pytest.approx(300.0, abs=0.5)
    assert passes.loc["culminate", "elevation_deg"] == pytest.approx(48.45, abs=0.1)
    sat = events[events["kind"] == "satellite_state"]
    assert sat["elevation_deg"].max() == pytest.approx(48.45, abs=0.1)
    assert (sat["sun_elevation_deg"] < 0).all()


def test_secrecy_is_logged_every_tick_achieved_and_planned(events):
    secrecy = events[events["kind"] == "secrecy"].reset_index(drop=True)
    assert np.allclose(secrecy["t_s"].to_numpy(), np.arange(600.0))
    # the satellite user is unserved exactly while the satellite is below its minimum elevation
    elevation = events[events["kind"] == "satellite_state"]["elevation_deg"].to_numpy()
    unserved_su = secrecy["unserved"].fillna("").str.contains("su").to_numpy()
    assert np.array_equal(unserved_su, elevation < 10.0)
    assert 0 < unserved_su.sum() < len(secrecy)
    for user in ("su", "au", "gu"):
        served = ~unserved_su if user == "su" else np.ones(len(secrecy), bool)
        achieved = pd.to_numeric(secrecy[f"achieved_{user}_bps_hz"])
        assert achieved[served].notna().all() and (achieved[served] >= 0).all()
        assert achieved[~served].isna().all()  # an unserved user is reported as such, not as a zero rate
        planned = pd.to_numeric(secrecy[f"planned_{user}_bps_hz"])
        assert np.isnan(planned.iloc[0])  # no decision at t = 0 yet
        assert planned[served][5:].notna().all()
    mins = secrecy[["achieved_su_bps_hz", "achieved_au_bps_hz", "achieved_gu_bps_hz"]].apply(pd.to_numeric).min(axis=1, skipna=True)
    assert np.allclose(mins, secrecy["achieved_min_bps_hz"])
    # the twin keeps serving AU and GU while the satellite is down (it used to switch everybody off)
    assert secrecy.loc[unserved_su & (secrecy["t_s"] > 10), "achieved_min_bps_hz"].mean() > 1.0


def test_messages_arrive_after_the_configured_latencies(events):
    scenario = load_scenario(DEFAULT_SCENARIO)
    reports = events[events["kind"] == "report_received"]
    assert np.allclose(reports["age_s"], scenario.links.intra.latency_s)
    views = events[events["kind"] == "view_received"]
    inter = scenario.links.intra.latency_s + scenario.links.inter.latency_s
    assert (views["age_s"] >= inter - 1e-9).all()
    sent = events[events["kind"] == "decision_sent"].set_index(["solve_id", "transmitter"])["t_s"]
    applied = events[events["kind"] == "decision_applied"]
    delays = [row.t_s - sent[(row.solve_id, row.source)] for row in applied.itertuples()]
    assert np.allclose(delays, scenario.links.decision.latency_s)


def test_resolves_record_trigger_age_method_status_objective_and_wall_time(events):
    resolves = events[events["kind"] == "resolve"]
    assert resolves.iloc[0]["trigger"] == "initial"
    assert set(resolves["trigger"]) <= {"initial", "horizon", "forecast_drift", "period", "weather"}
    assert (resolves["method"] == "synergy-stat").all()
    assert resolves["status"].isin(["ok", "inaccurate"]).mean() > 0.95  # usable decisions
    assert (resolves.loc[~resolves["status"].isin(["ok", "inaccurate"]), "fallback"] != "none").all()
    # the predictor logs how well calibrated it is (realised / predicted error power) and what it learned
    for tx in ("satellite", "uav", "bs"):
        assert resolves[f"calibration_{tx}"].iloc[20:].dropna().between(0.3, 3.0).mean() > 0.9
        assert resolves[f"coherence_{tx}_s"].notna().all()
    assert (resolves["oldest_input_age_s"] > 0).all()
    assert resolves["wall_s"].notna().all() and (resolves["wall_s"] > 0).all()
    gaps = np.diff(resolves["t_s"].to_numpy())
    assert gaps.max() <= 10.0 + 1e-9  # the period trigger bounds the time between solves


def test_applied_precoders_respect_power_limits(default_run, events):
    applied = events[(events["kind"] == "decision_applied") & (events["source"] == "uav")]
    assert not applied["scaled_to_limit"].any()
    for array_id, power_w in zip(applied["precoder_array_id"].iloc[:20], applied["power_w"].iloc[:20]):
        precoder = load_array(default_run, array_id)
        assert np.vdot(precoder, precoder).real == pytest.approx(power_w, rel=1e-9)
        assert power_w <= 10 ** 0.5 * (1 + 1e-6)  # P_U = 5 dBW


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path):
    runs = {}
    for name, seed in (("first", "1"), ("again", "1"), ("other", "2")):
        runs[name] = tmp_path / name
        assert main(["run", str(DEFAULT_SCENARIO), "--out", str(runs[name]), "--seed", seed, "--duration", "90", "--quiet"]) == 0
    for name in ("events.jsonl", "arrays.jsonl"):
        assert (runs["again"] / name).read_bytes() == (runs["first"] / name).read_bytes(), name
    assert (runs["other"] / "events.jsonl").read_bytes() != (runs["first"] / "events.jsonl").read_bytes()


class _Exploding:
    name = "exploding"

    def __init__(self):
        self.calls = 0

    def solve(self, problem):
        self.calls += 1
        raise RuntimeError("solver blew up")


def test_a_failing_solver_falls_back_and_the_run_completes():
    scenario = load_scenario(DEFAULT_SCENARIO).with_overrides(duration_s=40.0)
    streams = io.StringIO(), io.StringIO(), io.StringIO()
    log = EventLog(*streams)
    sim = build(scenario, log)
    sim.core.planners["precoding"].precoder = _Exploding()
    sim.run()
    frame = pd.read_json(io.StringIO(streams[0].getvalue()), lines=True)
    resolves = frame[frame["kind"] == "resolve"]
    assert (resolves["status"] == "failed").all()
    assert resolves["message"].str.contains("RuntimeError: solver blew up").all()
    assert resolves["fallback"].iloc[0] == "policy:zf-all"
    assert set(resolves["fallback"]) == {"policy:zf-all"}
    assert len(frame[frame["kind"] == "secrecy"]) == 40
    assert frame[frame["kind"] == "secrecy"]["achieved_au_bps_hz"].iloc[-1] > 0  # the fallback decision is in force


def test_run_rejects_bad_input_without_writing_anything(tmp_path, capfd):
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "nope.toml"), "--out", str(out)]) == 2
    assert "nope.toml: scenario file not found" in capfd.readouterr().err
    assert not out.exists()


def test_run_refuses_to_overwrite_without_force(default_run, capfd):
    assert main(["run", str(DEFAULT_SCENARIO), "--out", str(default_run), "--quiet"]) == 2
    assert "--force" in capfd.readouterr().err


def test_inspect_summarises_and_exports_parquet(default_run, tmp_path, capfd):
    parquet = tmp_path / "events.parquet"
    assert main(["inspect", str(default_run), "--parquet", str(parquet)]) == 0
    text = capfd.readouterr().out
    for expected in ("re-solves:", "secrecy rate per user", "twin information age", "events per kind", "finished: completed"):
        assert expected in text
    assert len(pd.read_parquet(parquet)) == len(load_events(default_run))
    assert main(["inspect", str(default_run), "--json"]) == 0
    summary = json.loads(capfd.readouterr().out)
    assert summary["resolves"]["count"] == summary["by_kind"]["resolve"]
    assert set(summary["secrecy"]) == {"su", "au", "gu", "min"}


def test_inspect_of_a_missing_log_is_a_clear_error(tmp_path, capfd):
    assert main(["inspect", str(tmp_path)]) == 2
    assert "no event log found" in capfd.readouterr().err


@contextmanager
def long_run(out):
    """A ``--duration 50000`` run in a child process, killed on the way out whatever happens in the test."""
    argv = [sys.executable, str(ROOT / "run_sim.py"), "run", str(DEFAULT_SCENARIO), "--out", str(out), "--duration", "50000",
            "--quiet"]
    with child_process(argv, env={**os.environ, "PYTHONPATH": str(ROOT)}) as proc:
        yield proc


def wait_for_secrecy_rows(proc, events_path, n, deadline_s=180.0):
    """Wait until the log holds ``n`` ``secrecy`` rows (n simulated ticks) — however slow the machine — within a
    generous deadline; fail at once if the run ends early."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the run ended early (status {proc.returncode}): {proc.stderr.read().decode()[-2000:]}")
        if events_path.exists() and events_path.read_bytes().count(b'"kind":"secrecy"') >= n:
            return
        time.sleep(0.2)
    raise AssertionError(f"{events_path} did not reach {n} secrecy rows in {deadline_s:g} s")


def test_a_killed_run_leaves_a_readable_log(tmp_path, capfd):
    out = tmp_path / "killed"
    with long_run(out) as proc:
        wait_for_secrecy_rows(proc, out / "events.jsonl", 20)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    assert main(["inspect", str(out)]) == 0
    text = capfd.readouterr().out
    assert "incomplete (no run_finished event)" in text
    events = load_events(out)
    assert (events["kind"] == "secrecy").sum() >= 20
    with locked_folder(out, "test"):  # the killed run's lock went with its process
        pass


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_sigint_and_sigterm_stop_cleanly_and_close_the_log(tmp_path, capfd, signum, status):
    out = tmp_path / "interrupted"
    with long_run(out) as proc:
        wait_for_secrecy_rows(proc, out / "events.jsonl", 20)
        # meanwhile a second run into the same folder is refused at once, without touching the log
        assert main(["run", str(DEFAULT_SCENARIO), "--out", str(out), "--force", "--quiet"]) == 2
        assert "is in use by another sagin-twin command" in capfd.readouterr().err
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=90)
        assert proc.returncode == status, err
    last = json.loads((out / "events.jsonl").read_text().splitlines()[-1])
    assert last["kind"] == "run_finished" and last["status"] == "interrupted"
    assert "Traceback" not in err.decode()


@pytest.mark.parametrize("mode, status", [("raise", "failed"), ("timeout", "timeout")])
def test_injected_faults_every_kth_solve_are_logged_and_survived(tmp_path, mode, status):
    text = DEFAULT_SCENARIO.read_text().replace(
        "solve_delay_s = 0.1", f'solve_delay_s = 0.1\nsolve_timeout_s = 30.0\nfault_every_k_solves = 3\nfault_mode = "{mode}"'
    )
    path = copy_scenario(tmp_path)
    path.write_text(text)
    assert main(["run", str(path), "--out", str(tmp_path / "run"), "--duration", "120", "--quiet"]) == 0
    events = load_events(tmp_path / "run")
    resolves = events[events["kind"] == "resolve"].reset_index(drop=True)
    faulty = resolves.index % 3 == 2
    assert (resolves.loc[faulty, "status"] == status).all() and faulty.sum() >= 3
    assert (resolves.loc[faulty, "fallback"] == "keep_previous").all()
    assert (resolves.loc[~faulty, "status"] == "ok").all()
    assert (resolves.loc[faulty, "message"].str.contains("injected")).all()
    sent = events[events["kind"] == "decision_sent"]["solve_id"].unique()
    assert not set(resolves.loc[faulty, "solve_id"]) & set(sent)  # no decision leaves a failed solve
    assert events["seq"].tolist() == list(range(len(events)))
    assert len(events[events["kind"] == "secrecy"]) == 120
    assert events.iloc[-1]["kind"] == "run_finished" and events.iloc[-1]["status"] == "completed"


def test_inspect_filters_by_kind_source_and_time(default_run, tmp_path, capfd):
    parquet = tmp_path / "part.parquet"
    args = ["inspect", str(default_run), "--kind", "decision_applied", "--source", "uav", "--from", "100", "--to", "200",
            "--list", "2", "--parquet", str(parquet)]
    assert main(args) == 0
    text = capfd.readouterr().out
    assert "first 2 of" in text and "information age by source" in text
    part = pd.read_parquet(parquet)
    assert set(part["kind"]) == {"decision_applied"} and set(part["source"]) == {"uav"}
    assert part["t_s"].between(100, 200).all() and len(part) > 0
    assert main(["inspect", str(default_run), "--kind", "resolve"]) == 0
    assert "re-solves (wall time and input age in s)" in capfd.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--kind", "bogus"], "unknown kind 'bogus'"),
    (["--from", "5", "--to", "1"], "--from 5 is after --to 1"),
    (["--list", "-1"], "--list must be >= 0"),
])
def test_inspect_rejects_bad_filters(default_run, capfd, args, message):
    assert main(["inspect", str(default_run), *args]) == 2
    assert message in capfd.readouterr().err


def test_report_draws_the_plots(default_run, tmp_path):
    assert main(["report", str(default_run), "--out", str(tmp_path)]) == 0
    for name in ("geometry.png", "secrecy.png", "information_age.png", "solver.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG", name
    assert not list(tmp_path.glob("*.partial"))


def test_inspect_compares_several_runs(default_run, tmp_path, capfd):
    other = tmp_path / "other"
    assert main(["run", str(DEFAULT_SCENARIO), "--out", str(other), "--seed", "5", "--duration", "30", "--quiet"]) == 0
    capfd.readouterr()
    assert main(["inspect", str(default_run), str(other), "--json"]) == 0
    rows = json.loads(capfd.readouterr().out)
    assert [r["seed"] for r in rows] == [1, 5]
    assert all(r["method"] == "synergy-stat" and r["resolves"] > 0 for r in rows)
    assert main(["inspect", str(default_run), str(other), "--list", "3"]) == 2


def test_resolves_carry_phi_history_and_rank_one_ratios(default_run, events):
    resolves = events[(events["kind"] == "resolve") & (events["status"] == "ok")]
    with_history = resolves[resolves["phi_array_id"].notna()]
    assert len(with_history) > 0.5 * len(resolves)
    row = with_history.iloc[0]
    phi = load_array(default_run, row["phi_array_id"])
    assert len(phi) >= 1 and np.all(np.diff(phi) >= -1e-6)  # SCA objective never falls
    assert phi[-1] <= row["objective_bps_hz"] + 1e-3  # φ is a lower bound of the achieved planned rate
    ratios = resolves["eigen_ratio_min"]
    assert (ratios.isna() | (ratios > 1.0)).all()  # null = exactly rank one
    assert resolves["rank_one"].mean() > 0.5
