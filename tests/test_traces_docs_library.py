"""Trace parsing and replay, the generated field reference, and every shipped scenario."""

from __future__ import annotations


import pytest

from eventlog.reader import load_events
from sagin_twin.cli import main
from common.errors import InputError
from scenarios import docs
from scenarios.config import Scenario, load_scenario
from scenarios.execute import REPRODUCIBLE_FILES
from scenarios.schema import describe_fields
from scenarios.traces import load_demand_trace, load_weather_trace
from tests.conftest import ROOT, copy_scenario

SHIPPED = sorted((ROOT / "scenarios").glob("*.toml"))


def _write(tmp_path, text, name="t.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_weather_trace_parses():
    records = load_weather_trace(ROOT / "scenarios" / "traces" / "storm-afternoon-weather.csv")
    assert records[0].t_s == 0.0 and records[0].state == "clear"
    assert max(r.rain_fade_db for r in records) == 8.5
    assert all(a.t_s < b.t_s for a, b in zip(records, records[1:]))


@pytest.mark.parametrize("text, pattern", [
    ("", r"t\.csv: empty file"),
    ("time_s,state,rain_fade_db\n0,clear,0\n", r"t\.csv: line 1: missing column 'cloud_cover'"),
    ("time_s,state,rain_fade_db,cloud_cover\n", r"no data rows"),
    ("time_s,state,rain_fade_db,cloud_cover\n0,clear,0,0\n20,rain,1,1\n10,clear,0,0\n", r"line 4, time_s: unsorted time 10"),
    ("time_s,state,rain_fade_db,cloud_cover\n0,clear,0,0\n0,rain,1,1\n", r"line 3, time_s: duplicate time 0"),
    ("time_s,state,rain_fade_db,cloud_cover\n0,clear,nan,0\n", r"line 2, rain_fade_db: 'nan' is not a finite number"),
    ("time_s,state,rain_fade_db,cloud_cover\n0,hail,0,0\n", r"line 2, state: unknown state 'hail'"),
    ("time_s,state,rain_fade_db,cloud_cover\n0,clear,-1,0\n", r"line 2, rain_fade_db: -1 is out of range"),
    ("time_s,state,rain_fade_db,cloud_cover\n0,clear,0,1.5\n", r"line 2, cloud_cover: 1.5 is out of range"),
    ("time_s,state,rain_fade_db,cloud_cover\n5,clear,0,0\n", r"first row must be at time_s = 0"),
    ("time_s,state,rain_fade_db,cloud_cover\n0,clear,0\n", r"line 2: expected 4 fields"),
])
def test_bad_weather_traces(tmp_path, text, pattern):
    with pytest.raises(InputError, match=pattern):
        load_weather_trace(_write(tmp_path, text))


@pytest.mark.parametrize("text, pattern", [
    ("time_s,src,dst,rate_bps\n0,A,B,-5\n", r"line 2, rate_bps: -5 is out of range"),
    ("time_s,src,dst,rate_bps\n10,A,B,5\n0,A,B,5\n", r"line 3, time_s: unsorted time 0"),
    ("time_s,src,dst,rate_bps\n0,A,B,5\n0,A,B,6\n", r"line 3: duplicate row for \(A, B\) at 0"),
    ("time_s,src,dst,rate_bps\n0,A,A,5\n", r"src and dst are both 'A'"),
    ("time_s,src,dst\n0,A,B\n", r"missing column 'rate_bps'"),
])
def test_bad_demand_traces(tmp_path, text, pattern):
    with pytest.raises(InputError, match=pattern):
        load_demand_trace(_write(tmp_path, text))


def test_demand_trace_allows_several_pairs_at_one_time(tmp_path):
    records = load_demand_trace(_write(tmp_path, "time_s,src,dst,rate_bps\n0,A,B,5\n0,B,C,7.5\n60,A,B,0\n"))
    assert [(r.t_s, r.src, r.rate_bps) for r in records] == [(0, "A", 5), (0, "B", 7.5), (60, "A", 0)]


def test_weather_changes_happen_at_the_exact_recorded_times(tmp_path):
    scenario = copy_scenario(tmp_path, ROOT / "scenarios" / "stormy-afternoon.toml")
    trace = tmp_path / "traces" / "storm-afternoon-weather.csv"
    trace.write_text("time_s,state,rain_fade_db,cloud_cover\n0,clear,0,0\n12.25,rain,3,1\n30,rain,6,1\n47.5,cloudy,0,1\n")
    assert main(["run", str(scenario), "--out", str(tmp_path / "run"), "--duration", "60", "--quiet"]) == 0
    events = load_events(tmp_path / "run")
    changes = events[events["kind"] == "weather_change"]
    assert changes["t_s"].tolist() == [12.25, 47.5]
    assert changes["to_state"].tolist() == ["rain", "cloudy"]
    sat = events[events["kind"] == "satellite_state"].set_index("t_s")
    assert sat.loc[12.0, "rain_fade_db"] == 0 and sat.loc[13.0, "rain_fade_db"] == 3 and sat.loc[30.0, "rain_fade_db"] == 6
    assert sat.loc[48.0, "weather"] == "cloudy"


def test_trace_path_may_not_leave_the_scenario_folder(tmp_path):
    scenario = copy_scenario(tmp_path, ROOT / "scenarios" / "stormy-afternoon.toml")
    scenario.write_text(scenario.read_text().replace('trace = "traces/storm-afternoon-weather.csv"', 'trace = "../elsewhere.csv"'))
    with pytest.raises(InputError, match=r"weather\.trace: '\.\./elsewhere\.csv' must be a relative path inside"):
        load_scenario(scenario)


def test_markov_and_trace_keys_do_not_mix(tmp_path):
    scenario = copy_scenario(tmp_path, ROOT / "scenarios" / "stormy-afternoon.toml")
    scenario.write_text(scenario.read_text().replace('model = "trace"', 'model = "trace"\nmean_duration_s = { clear = 1.0, cloudy = 1.0, rain = 1.0 }'))
    with pytest.raises(InputError, match=r"weather: mean_duration_s: only allowed with model = 'markov'"):
        load_scenario(scenario)


def test_field_reference_is_in_sync_with_the_loader():
    assert (ROOT / "docs" / "scenarios.md").read_text() == docs.render(), "run: python -m scenarios.docs > docs/scenarios.md"


def test_every_field_is_documented():
    rows = describe_fields(Scenario)
    assert len(rows) > 50
    assert [r["field"] for r in rows if not r["doc"]] == []


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenarios_are_deterministic(tmp_path, path):
    scenario = load_scenario(path)
    duration = str(min(scenario.run.duration_s, 20 * scenario.run.tick_s))
    for name in ("a", "b"):
        assert main(["run", str(path), "--out", str(tmp_path / name), "--duration", duration, "--quiet"]) == 0
    for name in REPRODUCIBLE_FILES:  # events.jsonl, arrays.jsonl, run.json, summary.json
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert len(SHIPPED) >= 5


def test_every_shipped_scenario_file_is_commented():
    for path in SHIPPED:
        assert path.read_text().lstrip().startswith("#"), path
