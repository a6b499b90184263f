"""Scenario loading: the default validates; every kind of bad input is a clear error naming file and field."""

import pytest

from sagin_twin.errors import InputError
from scenarios.config import load_scenario
from tests.conftest import DEFAULT_SCENARIO, copy_scenario


def test_default_scenario_loads_with_paper_values():
    s = load_scenario(DEFAULT_SCENARIO)
    assert (s.satellite.power_dbw, s.uav.power_dbw, s.base_station.power_dbw) == (10.0, 5.0, 15.0)
    assert s.satellite.antennas == s.uav.antennas == s.base_station.antennas == 4
    assert s.run.duration_s == 600.0 and s.run.tick_s == 1.0 and s.run.n_ticks == 600
    assert all(p[2] == 100.0 for p in s.uav.waypoints_enu_m)
    assert s.tle_path.is_file()


@pytest.fixture
def scenario_dir(tmp_path):
    copy_scenario(tmp_path)
    return tmp_path


def _edit(path, old, new):
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize("old, new, pattern", [
    ("power_dbw = 10.0", "power_dbw = 100.0", r"s\.toml: satellite\.power_dbw: 100\.0 dBW is out of range; allowed \[-30, 40\] dBW"),
    ("antennas = 4\npower_dbw = 5.0", "antennas = 0\npower_dbw = 5.0", r"uav\.antennas: 0 is out of range; allowed \[1, 64\]"),
    ("tick_s = 1.0", 'tick_s = "fast"', r"run\.tick_s: must be a number, got str 'fast'"),
    ("loop = true", "loop = 1", r"uav\.loop: must be true or false"),
    ("[site]", "[site]\ncolour = 'red'", r"site\.colour: unknown key; allowed keys here: name, latitude_deg"),
    ('precoding = "synergy-stat"', 'precoding = "magic"', r"twin\.precoding: 'magic' is not allowed; choose one of"),
    ("[links.intra]                       # entity -> its edge twin\nlatency_s = 0.02", "[links.intra]\nlatency_s = -0.02", r"links\.intra\.latency_s: -0\.02 s is out of range"),
    ("[-150.0, -100.0, 100.0]", "[-150.0, -100.0, 5000.0]", r"uav: waypoints_enu_m\[0\] altitude 5000 m is out of range"),
    ("[-150.0, -100.0, 100.0]", "[-150.0, 100.0]", r"uav\.waypoints_enu_m\[0\]: must have 3 elements"),
    ("latitude_deg = 40.3959", "latitude_deg = nan", r"site\.latitude_deg: must be finite"),
    ("clear = { cloudy = 0.8, rain = 0.2 }", "clear = { cloudy = 0.8, rain = 0.3 }", r"jump_probabilities\.clear: probabilities sum to 1\.1"),
    ('start_utc = "2026-11-16T12:00:00Z"', 'start_utc = "yesterday"', r"run: start_utc 'yesterday' is not an ISO 8601 time"),
    ('[users.eve]', '[users.bob]', r"users\.bob: unknown key; allowed keys: su, au, gu, eve"),
    ('tle = "tle/micius-like.tle"', 'tle = "tle/absent.tle"', r"satellite\.tle: TLE file 'tle/absent\.tle' not found"),
    ('tle = "tle/micius-like.tle"', 'tle = "../../etc/passwd"', r"satellite\.tle: '\.\./\.\./etc/passwd' must be a relative path inside"),
    ("seed = 1", "seed = -3", r"run\.seed: -3 is out of range"),
    ("[run]", "[run\n", r"s\.toml: TOML syntax error"),
])
def test_bad_scenarios_name_file_field_and_range(scenario_dir, old, new, pattern):
    path = scenario_dir / "s.toml"
    _edit(path, old, new)
    with pytest.raises(InputError, match=pattern):
        load_scenario(path)


def test_missing_required_section(scenario_dir):
    path = scenario_dir / "s.toml"
    text = path.read_text()
    start = text.index("[site]")
    end = text.index("[satellite]")
    path.write_text(text[:start] + text[end:])
    with pytest.raises(InputError, match=r"s\.toml: site: missing required field"):
        load_scenario(path)


def test_bad_tle_checksum_surfaces_with_the_tle_file(scenario_dir):
    from scenarios.build import build
    import io
    from eventlog import EventLog

    tle = scenario_dir / "tle" / "micius-like.tle"
    lines = tle.read_text().splitlines()
    last = lines[2][-1]
    lines[2] = lines[2][:-1] + str((int(last) + 1) % 10)
    tle.write_text("\n".join(lines) + "\n")
    scenario = load_scenario(scenario_dir / "s.toml")
    with pytest.raises(InputError, match=r"micius-like\.tle: line 2: bad checksum"):
        build(scenario, EventLog(io.StringIO(), io.StringIO(), io.StringIO()))


def test_overrides_are_validated():
    s = load_scenario(DEFAULT_SCENARIO)
    assert s.with_overrides(seed=5, duration_s=30.0).run.seed == 5
    with pytest.raises(InputError, match="--duration"):
        s.with_overrides(duration_s=-1.0)
    with pytest.raises(InputError, match="--seed"):
        s.with_overrides(seed=-1)
