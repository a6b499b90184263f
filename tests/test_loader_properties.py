"""Property tests: valid scenarios and traces round-trip; any mutation is accepted or a clean InputError; the guarded
TOML reader, ``--set`` values, TLE fields and trace numbers against independent truths."""

from __future__ import annotations

import copy
import json
import math
import re
import tomllib
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from physical.mobility import WaypointTrajectory
from physical.orbit import ephemeris_span_utc, parse_tle_text
from common.errors import InputError
from common.input_files import MAX_TOML_DEPTH, TomlNestingError, parse_toml
from scenarios.config import Scenario, load_scenario, parse_set, scenario_from_table
from scenarios.schema import describe_fields, load_table
from scenarios.traces import _number, load_demand_trace, load_weather_trace
from tests.conftest import DEFAULT_SCENARIO, copy_scenario
from tests.toml_writer import _value as toml_value
from tests.toml_writer import dumps

BASE = tomllib.loads(DEFAULT_SCENARIO.read_text())
#: fields of [constellation] are drawn against the shipped constellation scenario (the default has none)
CONSTELLATION_BASE = tomllib.loads((DEFAULT_SCENARIO.parent / "constellation-handover.toml").read_text())
NUMERIC = [
    r for r in describe_fields(Scenario)
    if r["type"] in ("float", "int") and r["allowed"] and "{" not in r["field"] and "<" not in r["field"] and r["field"].count(".") <= 2
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
    constellation = row["field"].startswith("constellation.")
    table = copy.deepcopy(CONSTELLATION_BASE if constellation else BASE)
    _set(table, tuple(row["field"].split(".")), value)
    path = copy_scenario(tmp_path)
    path.write_text(dumps(table))
    try:
        scenario = load_scenario(path)
    except InputError as exc:
        # a value can be in its own range yet violate a cross-field rule; that must say so clearly
        if "simulation steps" in str(exc):  # the job-size limit: only a field that sets a period or the duration can cause it
            assert row["field"] in str(exc) and "--allow-large" in str(exc), str(exc)
            assert row["field"].endswith("_s"), str(exc)
            return
        if constellation:  # the shell's cross-field rules, the rule's own hysteresis, the geometry's size limit
            shell_rules = ("must divide", "(0 ≤ F < planes)", "applies to rule", "samples")
            assert "constellation" in str(exc) and any(text in str(exc) for text in shell_rules), str(exc)
            return
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


# -- the guarded TOML reader, command-line values, TLE fields, trace numbers, vectorised motion ------

#: strings full of the characters a bracket scanner could miscount
TRICKY_TEXT = st.text(alphabet='[]{}"\'#\\=, ab\n', max_size=8)


@st.composite
def nested(draw):
    """(TOML text of ``v = …``, the parsed value, the nesting depth of containers)."""
    depth = draw(st.integers(1, MAX_TOML_DEPTH + 8))
    leaf = draw(st.one_of(st.integers(-5, 5), TRICKY_TEXT))
    text, value = json.dumps(leaf) if isinstance(leaf, str) else str(leaf), leaf
    for _ in range(depth):
        if draw(st.booleans()):
            extra = draw(TRICKY_TEXT)
            text, value = f"[{text}, {json.dumps(extra)}]", [value, extra]
        else:
            literal = draw(st.text(alphabet="[]{}\"# ab", max_size=6))  # a literal string: anything but ' and newlines
            text, value = f"{{ k = {text}, s = '{literal}' }}", {"k": value, "s": literal}
    return f"# a comment with [[[ and {{{{\nv = {text}\n", {"v": value}, depth


@settings(max_examples=300, deadline=None)
@given(case=nested())
def test_toml_nesting_limit_is_exact_and_strings_do_not_count(case):
    text, expected, depth = case
    assert tomllib.loads(text) == expected  # the generator writes valid TOML
    if depth + 1 <= MAX_TOML_DEPTH:  # the document's table is one level
        assert parse_toml(text, "x.toml") == expected
    else:
        with pytest.raises(TomlNestingError, match=f"x.toml.*nested more than {MAX_TOML_DEPTH} levels deep"):
            parse_toml(text, "x.toml")


@settings(max_examples=200, deadline=None)
@given(value=st.one_of(st.booleans(), st.integers(-10**18, 10**18), st.floats(allow_nan=False, allow_infinity=False),
                       st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=20),
                       st.lists(st.floats(-1e6, 1e6), max_size=4)))
def test_set_value_round_trips_through_its_toml_text(value):
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else toml_value(value)  # a TOML basic string
    override = parse_set(f"a.b={text}")
    assert override.key == "a.b" and override.value == value and type(override.value) is type(value)


@settings(max_examples=200, deadline=None)
@given(word=st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True).filter(lambda w: w not in ("true", "false", "inf", "nan")))
def test_a_bare_word_is_a_string(word):
    assert parse_set(f"twin.precoding={word}").value == word


TLE = ("1 41731U 16051A   26320.50000000  .00001200  00000-0  55000-4 0  9994",
       "2 41731  97.3650  30.4500 0012000  95.2000 265.0500 15.26000000536005")


@settings(max_examples=400, deadline=None)
@given(line=st.sampled_from([0, 1]), column=st.integers(0, 67), char=st.characters(codec="utf-8"))
def test_any_one_character_change_to_a_tle_is_refused_or_still_valid(line, column, char):
    lines = list(TLE)
    original = lines[line][column]
    lines[line] = lines[line][:column] + char + lines[line][column + 1:]
    try:
        parse_tle_text("\n".join(lines), "x.tle")
    except InputError as exc:
        assert str(exc).startswith("x.tle") and "\n" not in str(exc)
    else:
        # accepted only if the checksum is unchanged: the same digit value ('-' counts 1) and ASCII
        weight = lambda c: int(c) if c in "0123456789" else (1 if c == "-" else 0)  # noqa: E731
        assert char.isascii() and char.isprintable() and weight(char) % 10 == weight(original) % 10
    if original in "0123456789" and char in "0123456789" and char != original:
        with pytest.raises(InputError):  # a changed digit always breaks the checksum
            parse_tle_text("\n".join(lines), "x.tle")


@pytest.mark.parametrize("year, day, ok", [("24", "366.50000000", True), ("26", "366.50000000", False), ("26", "365.99999999", True),
                                           ("24", "367.00000000", False), ("26", "001.00000000", True), ("26", "000.99999999", False)])
def test_tle_epoch_day_follows_leap_years(year, day, ok):
    body = TLE[0][:18] + year + day + TLE[0][32:68]
    line1 = body + str((sum(int(c) for c in body if c.isdigit()) + body.count("-")) % 10)
    if ok:
        parse_tle_text(f"{line1}\n{TLE[1]}", "x.tle")
    else:
        with pytest.raises(InputError, match="epoch day"):
            parse_tle_text(f"{line1}\n{TLE[1]}", "x.tle")


@settings(max_examples=300, deadline=None)
@given(value=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300))
def test_trace_numbers_accept_every_plain_decimal(value):
    assert _number(repr(value), Path("t.csv"), 2, "time_s") == value
    assert _number(f"{value:.6e}", Path("t.csv"), 2, "time_s") == float(f"{value:.6e}")


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=10))
def test_trace_numbers_are_ascii_decimals_only(text):
    try:
        value = _number(text, Path("t.csv"), 2, "time_s")
    except InputError as exc:
        assert "line 2, time_s" in str(exc)
    else:
        assert re.fullmatch(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", text) and value == float(text)
    if "_" in text or any(c.isdigit() and not c.isascii() for c in text):
        with pytest.raises(InputError):
            _number(text, Path("t.csv"), 2, "time_s")


@settings(max_examples=100, deadline=None)
@given(points=st.lists(st.tuples(st.floats(-500, 500), st.floats(-500, 500), st.floats(10, 1000)), min_size=1, max_size=5),
       speed=st.floats(0.1, 50), loop=st.booleans(), times=st.lists(st.floats(0, 1e5), min_size=1, max_size=20))
def test_vectorised_uav_positions_equal_the_per_tick_ones(points, speed, loop, times):
    uav = WaypointTrajectory(np.array(points), speed, loop)
    batch = uav.positions_m(np.array(times))
    for t, row in zip(times, batch):
        np.testing.assert_allclose(row, uav.position_m(t), rtol=0, atol=1e-9)


def test_ephemeris_span_is_de421_s_published_span():
    # JPL DE421 covers JED 2414864.5 to 2471184.5: 1899-07-29 to 2053-10-09; the runs keep a day inside
    first, last = ephemeris_span_utc()
    assert datetime(1899, 7, 29, tzinfo=timezone.utc) < first <= datetime(1899, 7, 31, tzinfo=timezone.utc)
    assert datetime(2053, 10, 7, tzinfo=timezone.utc) <= last < datetime(2053, 10, 9, tzinfo=timezone.utc)
