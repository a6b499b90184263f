"""Property tests: valid scenarios and traces round-trip; any mutation is accepted or a clean InputError."""

from __future__ import annotations

import copy
import math
import tomllib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sagin_twin.errors import InputError
from scenarios.config import Scenario, load_scenario, scenario_from_table
from scenarios.schema import describe_fields, load_table
from scenarios.traces import load_demand_trace, load_weather_trace
from tests.conftest import DEFAULT_SCENARIO, copy_scenario
from tests.toml_writer import dumps

BASE = tomllib.loads(DEFAULT_SCENARIO.read_text())
NUMERIC = [
    r for r in describe_fields(Scenario)
    if r["type"] in ("float", "int") and r["allowed"] and "{" not in r["field"] and r["field"].count(".") <= 2
]


def _leaf_paths(table, prefix=()):
    for key, value in table.items():
        if isinstance(value, dict):
            yield from _leaf_paths(value, prefix + (key,))
        else:
            yield prefix + (key,)


LEAVES = sorted(_leaf_paths(BASE))
#: tables whose keys are names defined by the QKD network file: (a valid value, the error for an unknown name)
FREE_KEYED = {("qkd", "demand", "mean_bps"): (1.0, "is not a request"), ("qkd", "stations"): ([0.0, 0.0, 0.0], "is not a node")}
ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.lists(st.floats(-1e4, 1e4), max_size=4), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _set(table, path, value):
    for key in path[:-1]:
        table = table.setdefault(key, {})
    if value is None:
        table.pop(path[-1], None)
    else:
        table[path[-1]] = value


def _in_range(row, draw):
    low = row["allowed"].strip("[(").split(",")[0]
    high = row["allowed"].rstrip("]").split(",")[1]
    low, high = float(low), float(high)
    if row["type"] == "int":
        return draw(st.integers(int(math.ceil(low)) + (1 if row["allowed"].startswith("(") else 0), int(min(high, 10**9))))
    lo = low if not row["allowed"].startswith("(") else math.nextafter(low, math.inf)
    return draw(st.floats(lo, high, allow_nan=False, allow_infinity=False))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_valid_values_round_trip_through_toml(tmp_path, data):
    row = data.draw(st.sampled_from(NUMERIC))
    value = _in_range(row, data.draw)
    table = copy.deepcopy(BASE)
    _set(table, tuple(row["field"].split(".")), value)
    path = copy_scenario(tmp_path)
    path.write_text(dumps(table))
    try:
        scenario = load_scenario(path)
    except InputError as exc:
        # a value can be in its own range yet violate a cross-field rule; that must say so clearly
        assert "must not exceed" in str(exc) or "> 0" in str(exc), str(exc)
        return
    loaded = scenario
    for key in row["field"].split("."):
        loaded = getattr(loaded, key)
    assert loaded == value


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(LEAVES), value=ANY_VALUE)
def test_any_mutation_is_accepted_or_a_clean_error(path, value):
    table = copy.deepcopy(BASE)
    _set(table, path, value)
    try:
        load_table(Scenario, table, "mutated.toml")
    except InputError as exc:
        assert str(exc).startswith("mutated.toml: ") and "\n" not in str(exc)


@settings(max_examples=200, deadline=None)
@given(path=st.sampled_from(LEAVES), extra=st.text(min_size=1, max_size=10).filter(lambda s: s.strip()))
def test_unknown_keys_are_always_refused(path, extra):
    table = copy.deepcopy(BASE)
    parent = table
    for key in path[:-1]:
        parent = parent[key]
    key = "x_" + extra
    free_keyed = FREE_KEYED.get(path[:-1])
    parent[key] = 1 if free_keyed is None else free_keyed[0]
    try:
        if free_keyed is None:
            load_table(Scenario, table, "m.toml")
        else:  # keys name requests / nodes of the QKD network file: checked once it is loaded
            scenario_from_table(table, DEFAULT_SCENARIO, "m.toml")
    except InputError as exc:
        expected = ("unknown key", "unknown state") if free_keyed is None else (free_keyed[1],)
        assert any(text in str(exc) for text in expected), str(exc)
    else:
        raise AssertionError(f"unknown key {key!r} under {path[:-1]} was accepted")


STATES = st.sampled_from(["clear", "cloudy", "rain"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.floats(0.001, 1e4), STATES, st.floats(0, 100), st.floats(0, 1)), min_size=1, max_size=20))
def test_valid_weather_traces_round_trip(tmp_path, rows):
    times = sorted({round(t, 3) for t, *_ in rows})
    records = [(0.0, rows[0][1], rows[0][2], rows[0][3])] + [(t, s, f, c) for t, (_, s, f, c) in zip(times, rows[1:])]
    text = "time_s,state,rain_fade_db,cloud_cover\n" + "".join(f"{t!r},{s},{f!r},{c!r}\n" for t, s, f, c in records)
    path = tmp_path / "w.csv"
    path.write_text(text)
    parsed = load_weather_trace(path)
    assert [(r.t_s, r.state, r.rain_fade_db, r.cloud_cover) for r in parsed] == records


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet="0123456789.,-abcdeinrstlouy_\n ", max_size=120))
def test_arbitrary_trace_text_is_parsed_or_a_clean_error(tmp_path, text):
    path = tmp_path / "x.csv"
    for header in ("time_s,state,rain_fade_db,cloud_cover\n", "time_s,src,dst,rate_bps\n", ""):
        path.write_text(header + text)
        for loader in (load_weather_trace, load_demand_trace):
            try:
                loader(path)
            except InputError as exc:
                assert str(exc).startswith(str(path)) and "\n" not in str(exc)
