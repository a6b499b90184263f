"""Reading logs: bad files name their line, cut logs are read up to the cut, summaries stream and agree with pandas."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventlog.reader import iter_rows, load_by_kind, load_events
from eventlog.summary import Summary, deterministic_part, format_summary, json_safe, summarize, summarize_log
from eventlog.text import sig, with_unit
from sagin_twin.cli import main
from tests.conftest import ROOT


def _write_lines(folder, lines, name="events.jsonl"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"".join(lines))
    return folder


def _row(t_s, seq, kind="uav_state", source="uav", **fields):
    return (json.dumps({"t_s": t_s, "seq": seq, "source": source, "kind": kind, **fields}) + "\n").encode()


# -- bad files -------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["inspect", "report"])
def test_random_bytes_are_one_line_naming_the_file_and_line(tmp_path, capfd, command):
    rng = np.random.default_rng(3)
    folder = _write_lines(tmp_path / "run", [bytes(rng.integers(0, 256, 4096, dtype=np.uint8))])
    assert main([command, str(folder)]) == 2
    err = capfd.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(folder / "events.jsonl") in err and "line 1" in err
    assert not (folder / "report").exists()


@pytest.mark.parametrize("command", ["inspect", "report"])
def test_t_s_as_strings_is_one_line_naming_the_line(tmp_path, capfd, command):
    folder = _write_lines(tmp_path / "run", [_row(0.0, 0), _row(1.0, 1), _row("2.0", 2), _row(3.0, 3)])
    assert main([command, str(folder)]) == 2
    err = capfd.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "line 3" in err and "t_s must be a finite number" in err


@pytest.mark.parametrize("bad, message", [
    (b"[1, 2]\n", "expected a JSON object"),
    (b'{"t_s": 1.0, "seq": 1, "kind": "uav_state"}\n', "missing"),
    (b'{"t_s": 1.0, "seq": "x", "source": "uav", "kind": "uav_state"}\n', "seq must be an integer"),
    (b'{"t_s": NaN, "seq": 1, "source": "uav", "kind": "uav_state"}\n', "finite"),
    (b"\n", "empty line"),
    (b'{"t_s": 1.0, "seq": 1,\n', "not JSON"),
])
def test_a_bad_line_inside_the_log_is_named(tmp_path, bad, message):
    folder = _write_lines(tmp_path / "run", [_row(0.0, 0), bad, _row(2.0, 2)])
    with pytest.raises(ValueError, match=rf"events.jsonl: line 2: .*{message}"):
        list(iter_rows(folder))
    with pytest.raises(ValueError, match="line 2"):
        load_events(folder)


def test_a_cut_last_line_is_skipped_by_every_reader(tmp_path):
    folder = _write_lines(tmp_path / "run", [_row(0.0, 0), _row(1.0, 1), _row(2.0, 2)[:17]])
    assert [r["seq"] for r in iter_rows(folder)] == [0, 1]
    assert load_events(folder)["seq"].tolist() == [0, 1]
    assert summarize_log(folder)["events"] == 2


def test_an_empty_log_reads_as_no_events(tmp_path, capfd):
    folder = _write_lines(tmp_path / "run", [])
    assert list(iter_rows(folder)) == [] and load_events(folder).empty
    assert main(["inspect", str(folder)]) == 0
    assert "0 events" in capfd.readouterr().out
    assert main(["report", str(folder)]) == 0
    assert not (folder / "report").exists()  # nothing to draw: no empty folder left behind


def test_timings_join_on_seq(tmp_path):
    folder = _write_lines(tmp_path / "run", [_row(0.0, 0), _row(1.0, 1, kind="resolve", source="core", status="ok")])
    (folder / "timings.jsonl").write_text('{"seq": 1, "wall_s": 0.25}\n')
    rows = list(iter_rows(folder))
    assert "wall_s" not in rows[0] and rows[1]["wall_s"] == 0.25
    assert load_events(folder).set_index("seq").loc[1, "wall_s"] == 0.25
    assert load_by_kind(folder, ["resolve"])["resolve"]["wall_s"].tolist() == [0.25]


# -- the streamed summary agrees with an independent pandas computation ----------------------------
@pytest.fixture(scope="module")
def events(default_run) -> pd.DataFrame:
    return load_events(default_run)


def test_streamed_summary_equals_pandas(default_run, events):
    streamed = summarize_log(default_run)
    assert json_safe(streamed) == json_safe(summarize(events))  # the DataFrame entry point gives the same
    assert streamed["events"] == len(events)
    assert streamed["by_kind"] == events["kind"].value_counts().sort_index().to_dict()
    secrecy = events[events["kind"] == "secrecy"]
    for user in ("su", "au", "gu", "min"):
        achieved, planned = secrecy[f"achieved_{user}_bps_hz"].astype(float), secrecy[f"planned_{user}_bps_hz"].astype(float)
        s = streamed["secrecy"][user]
        assert s["achieved_mean_bps_hz"] == pytest.approx(achieved.mean(), rel=1e-12)
        assert s["planned_mean_bps_hz"] == pytest.approx(planned.mean(), rel=1e-12)  # pandas skips the NaN before decisions
        assert s["gap_mean_bps_hz"] == pytest.approx((planned - achieved).mean(), rel=1e-12)
    views = events[events["kind"] == "view_received"]["age_s"]
    age = streamed["information_age"]["core_view_age_s"]
    assert (age["mean"], age["median"], age["max"], age["count"]) == (
        pytest.approx(views.mean(), rel=1e-12), pytest.approx(views.median()), views.max(), len(views))
    resolves = events[events["kind"] == "resolve"]
    assert streamed["wall_clock"]["resolve_wall_s"]["mean"] == pytest.approx(resolves["wall_s"].mean(), rel=1e-12)
    unmet = events[events["kind"] == "key_demand_unmet"]["unmet_bits"].sum()
    assert streamed["qkd"]["unmet_bits"] == pytest.approx(unmet, rel=1e-12) and unmet > 0
    assert "wall_clock" not in deterministic_part(streamed)


def test_summary_memory_does_not_grow_with_the_log(tmp_path):
    """A 120,000-row log (~24 MB) is summarised with a few MB of Python allocations (tracemalloc peak)."""
    rows = []
    for k in range(30_000):
        t = float(k)
        rows.append(_row(t, 4 * k, kind="secrecy", source="world", achieved_su_bps_hz=0.5, planned_su_bps_hz=1.5,
                         achieved_au_bps_hz=1.0, planned_au_bps_hz=None, achieved_gu_bps_hz=0.0, planned_gu_bps_hz=2.0,
                         achieved_min_bps_hz=0.0, planned_min_bps_hz=None, padding="x" * 40))
        rows.append(_row(t, 4 * k + 1, kind="uav_state", x_m=1.0, y_m=2.0, z_m=100.0, padding="y" * 60))
        rows.append(_row(t, 4 * k + 2, kind="report_received", source="edge.uav", age_s=0.02, gain_su_db=-3.0))
        rows.append(_row(t, 4 * k + 3, kind="view_received", source="core", age_s=0.05))
    folder = _write_lines(tmp_path / "big", rows)
    size = (folder / "events.jsonl").stat().st_size
    tracemalloc.start()
    summary = summarize_log(folder)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert summary["events"] == 120_000 and summary["secrecy"]["su"]["gap_mean_bps_hz"] == pytest.approx(1.0)
    assert math.isnan(summary["secrecy"]["au"]["planned_mean_bps_hz"])
    assert peak < size / 8, (peak, size)  # ages keep 8 bytes per sample (60,000 samples); rows are never all held


def test_failed_resolves_and_plans_are_counted_by_status_and_fallback():
    summary = Summary()
    statuses = [("ok", "none"), ("failed", "policy:zf-all"), ("timeout", "keep_previous"), ("ok", "none"), ("failed", "keep_previous")]
    for k, (status, fallback) in enumerate(statuses):
        summary.observe({"t_s": float(k), "seq": k, "source": "core", "kind": "resolve", "status": status, "fallback": fallback,
                         "trigger": "period", "oldest_input_age_s": 0.5})
    summary.observe({"t_s": 9.0, "seq": 9, "source": "core", "kind": "qkd_plan", "status": "infeasible",
                     "fallback": "shortest_path", "trigger": "initial"})
    summary.observe({"t_s": 9.5, "seq": 10, "source": "core", "kind": "qkd_plan", "status": "optimal", "fallback": "none", "trigger": "epoch"})
    result = summary.result()
    r = result["resolves"]
    assert (r["count"], r["failed"], r["failed_by_status"]) == (5, 3, {"failed": 2, "timeout": 1})
    assert (r["fallbacks"], r["fallbacks_by_kind"]) == (3, {"keep_previous": 2, "policy:zf-all": 1})
    q = result["qkd"]
    assert (q["plans"], q["plans_failed"], q["plans_failed_by_status"], q["plan_fallbacks_by_kind"]) == (
        2, 1, {"infeasible": 1}, {"shortest_path": 1})
    text = format_summary(result)
    assert "failed: 3 (failed 2, timeout 1)" in text and "fallbacks: 3 (keep_previous 2, policy:zf-all 1)" in text
    assert "QKD: 2 plans" in text and "failed: 1 (infeasible 1)" in text


# -- numbers in printouts ----------------------------------------------------------------------------
def test_printout_has_no_float_noise_and_one_time_format(default_run):
    text = format_summary(summarize_log(default_run))
    numbers = re.findall(r"-?[\d,]*\.\d+", text)
    assert numbers and not [n for n in numbers if len(n.split(".")[1]) > 5], numbers  # 20960.47424979722 was printed
    assert "2026-11-16 13:40:17 UTC" in text and "+00:00" not in text and "T13:" not in text
    assert "{}" not in text and "1 plans" not in text and "key pool crossings: none" in text
    assert "QKD: 3 plans" in text and "no_plan 20.96 kbit" in text


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e14, max_value=1e14).filter(lambda x: x == 0 or abs(x) >= 1e-3))
def test_sig_keeps_four_significant_digits(value):
    text = sig(value)
    back = float(text.replace(",", ""))
    assert back == pytest.approx(value, rel=5e-4, abs=0)
    digits = text.replace(",", "").replace("-", "").replace(".", "").lstrip("0")
    assert len(digits.rstrip("0")) <= 4  # no float noise


def test_with_unit_uses_si_prefixes():
    assert with_unit(28_610_000.0, "bit") == "28.61 Mbit"
    assert with_unit(20_960.47424979722, "bit") == "20.96 kbit"
    assert with_unit(12.0, "bit") == "12 bit"


# -- inspect --json through a real process -----------------------------------------------------------
def test_inspect_json_is_one_strict_json_document_with_listed_events(default_run):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(ROOT / "run_sim.py"), "inspect", str(default_run), "--kind", "resolve", "--from", "100",
                           "--to", "200", "--list", "3", "--json"], capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout, parse_constant=lambda token: pytest.fail(f"non-standard JSON token {token}"))
    assert document["finished"] == "completed"  # from the whole log, although run_finished is filtered out
    assert [row["kind"] for row in document["listed_events"]] == ["resolve"] * 3
    assert all(100 <= row["t_s"] <= 200 for row in document["listed_events"])
