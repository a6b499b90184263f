"""Every process states its initial state at t = 0, so a window of the log with no change is self-describing."""

from __future__ import annotations

import csv
import io
import json
import tomllib

import pytest

from eventlog import EventLog
from scenarios.build import build
from scenarios.config import load_scenario
from tests.conftest import DEFAULT_SCENARIO, ROOT

STORMY = ROOT / "scenarios" / "stormy-afternoon.toml"


def _run(path, duration_s: float) -> list[dict]:
    """The rows of a short in-memory run."""
    streams = io.StringIO(), io.StringIO(), io.StringIO()
    sim = build(load_scenario(path).with_overrides(duration_s=duration_s), EventLog(*streams))
    sim.run()
    return [json.loads(line) for line in streams[0].getvalue().splitlines()]


@pytest.fixture(scope="module")
def stormy_rows() -> list[dict]:
    return _run(STORMY, 30.0)


def _only(rows, kind):
    found = [r for r in rows if r["kind"] == kind]
    assert len(found) == 1, (kind, len(found))
    return found[0]


def test_weather_at_t0_is_the_first_trace_record_although_it_never_changes(stormy_rows):
    with open(ROOT / "scenarios" / "traces" / "storm-afternoon-weather.csv", newline="") as stream:
        first = next(csv.DictReader(stream))
    state = _only(stormy_rows, "weather_state")
    assert state["t_s"] == 0.0 and state["source"] == "weather"
    assert state["state"] == first["state"]
    assert state["rain_fade_db"] == pytest.approx(float(first["rain_fade_db"]))
    assert state["cloud_cover"] == pytest.approx(float(first["cloud_cover"]))
    assert not [r for r in stormy_rows if r["kind"] == "weather_change"]  # the 30 s window has no change


def test_pass_state_at_t0_matches_the_geometry_when_no_pass_happens(stormy_rows):
    state = _only(stormy_rows, "pass_state")
    scenario = tomllib.loads(STORMY.read_text())
    first_tick = next(r for r in stormy_rows if r["kind"] == "satellite_state")
    assert state["t_s"] == 0.0
    assert state["min_elevation_deg"] == pytest.approx(scenario["satellite"]["min_elevation_deg"])
    assert state["elevation_deg"] == pytest.approx(first_tick["elevation_deg"])
    assert state["serving"] is (first_tick["elevation_deg"] >= scenario["satellite"]["min_elevation_deg"]) is False
    assert state["next_event"] is None and not [r for r in stormy_rows if r["kind"] == "pass_event"]


def test_pass_state_names_the_next_pass_event():
    rows = _run(DEFAULT_SCENARIO, 100.0)  # centred on the culmination: inside the pass, culminates at ~50 s
    state = _only(rows, "pass_state")
    culmination = _only(rows, "pass_event")
    assert state["serving"] is True and state["elevation_deg"] >= state["min_elevation_deg"]
    assert culmination["event"] == "culminate"
    assert (state["next_event"], state["next_event_t_s"]) == ("culminate", pytest.approx(culmination["t_s"]))


def test_every_key_pool_is_stated_at_t0_with_its_thresholds(stormy_rows):
    scenario = tomllib.loads(STORMY.read_text())
    network = tomllib.loads((STORMY.parent / scenario["qkd"]["network"]).read_text())
    links = {f"{link['a']}-{link['b']}" for link in network["links"]}
    at_zero = [r for r in stormy_rows if r["kind"] == "key_pool_state" and r["t_s"] == 0.0]
    assert {r["link"] for r in at_zero} == links and len(at_zero) == len(links)
    qkd = scenario["qkd"]
    for row in at_zero:
        assert row["warning_bits"] < row["capacity_bits"]
        assert row["stock_bits"] == pytest.approx(qkd.get("pool_initial_bits", row["stock_bits"]))
        assert row["state"] == ("READY" if row["stock_bits"] >= row["warning_bits"] else "WARNING")
