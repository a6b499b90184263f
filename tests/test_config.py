"""Scenario loading: the default validates; every kind of bad input is a clear error naming file and field."""

import json
import re
import subprocess
import sys

import pytest

from common.errors import InputError
from scenarios.config import LIBRARY, Override, load_scenario, parse_set
from scenarios.schema import field_path_error
from scenarios.workload import scenario_work
from tests.conftest import DEFAULT_SCENARIO, ROOT, copy_scenario, edit_file


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
    ('[users.eve]', '[users.bob]', r"users\.bob\.served_by: required: the transmitter that serves bob \(satellite, uav, bs\)"),
    ('tle = "tle/micius-like.tle"', 'tle = "tle/absent.tle"', r"satellite\.tle: TLE file 'tle/absent\.tle' not found"),
    ('tle = "tle/micius-like.tle"', 'tle = "../../etc/passwd"', r"satellite\.tle: '\.\./\.\./etc/passwd' must be a relative path inside"),
    ("seed = 1", "seed = -3", r"run\.seed: -3 is out of range"),
    ("[run]", "[run\n", r"s\.toml: TOML syntax error"),
])
def test_bad_scenarios_name_file_field_and_range(scenario_dir, old, new, pattern):
    path = scenario_dir / "s.toml"
    edit_file(path, old, new)
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


# -- command-line overrides: run --set KEY=VALUE, --seed, --duration -----------------------------------


@pytest.mark.parametrize("text, key, value", [
    ("twin.precoding=zf-all", "twin.precoding", "zf-all"),            # a bare word is a string
    ('twin.precoding="zf"', "twin.precoding", "zf"),                    # a TOML string
    ("run.duration_s=60", "run.duration_s", 60),                        # TOML integer (the loader takes it as a float field)
    ("run.duration_s = 1.5e2", "run.duration_s", 150.0),
    ("uav.loop=false", "uav.loop", False),
    ("users.su.position_enu_m=[1, 2.5, -3]", "users.su.position_enu_m", [1, 2.5, -3]),
    ("weather.mean_duration_s={ clear = 10.0, cloudy = 20.0, rain = 30.0 }", "weather.mean_duration_s", {"clear": 10.0, "cloudy": 20.0, "rain": 30.0}),
    ("run.start_utc=2026-11-16T12:00:00Z", "run.start_utc", "2026-11-16T12:00:00Z"),  # a TOML date-time stays the text
    ("site.name=a=b", "site.name", "a=b"),                              # only the first '=' splits
    ("site.name=", "site.name", ""),
])
def test_set_values_are_toml_values_or_strings(text, key, value):
    override = parse_set(text)
    assert (override.option, override.key, override.value) == ("--set", key, value)
    assert type(override.value) is type(value)


def test_set_overrides_any_field_with_the_loader_s_validation():
    s = load_scenario(DEFAULT_SCENARIO, [parse_set("twin.precoding=zf-all"), parse_set("run.duration_s=60"),
                                         parse_set("qkd.demand.hold_s=30"), parse_set("weather.mean_duration_s.rain=600"),
                                         parse_set("users.gu.velocity_mps=[0.0, 0.5, 0.0]"), parse_set("qkd.demand.mean_bps.xl-ns=9000")])
    assert s.twin.precoding == "zf-all" and s.run.duration_s == 60.0 and isinstance(s.run.duration_s, float)
    assert s.qkd.demand.hold_s == 30.0 and s.weather.mean_duration_s == {"clear": 900.0, "cloudy": 600.0, "rain": 600.0}
    assert s.users["gu"].velocity_mps == (0.0, 0.5, 0.0) and s.qkd.demand.mean_bps["xl-ns"] == 9000.0
    assert s.users["gu"].position_enu_m == load_scenario(DEFAULT_SCENARIO).users["gu"].position_enu_m  # the rest untouched
    assert [o["key"] for o in s.overrides] == ["twin.precoding", "run.duration_s", "qkd.demand.hold_s",
                                               "weather.mean_duration_s.rain", "users.gu.velocity_mps", "qkd.demand.mean_bps.xl-ns"]


def test_later_overrides_win_and_seed_is_set_run_seed():
    s = load_scenario(DEFAULT_SCENARIO, [parse_set("run.seed=5"), parse_set("run.seed=6"), Override("--seed", "run.seed", 7)])
    assert s.run.seed == 7
    assert load_scenario(DEFAULT_SCENARIO, [Override("--seed", "run.seed", 9)]) == load_scenario(DEFAULT_SCENARIO, [parse_set("run.seed=9")])


def test_field_paths():
    from scenarios.config import Scenario

    for good in ("run.seed", "users.eve.velocity_mps", "weather.jump_probabilities.clear.cloudy", "qkd.stations.NS",
                 "qkd.demand.mean_bps.anything", "weather.mean_duration_s"):
        assert field_path_error(Scenario, good) is None, good
    assert field_path_error(Scenario, "run")[1].startswith("names the whole table [run]")
    assert field_path_error(Scenario, "users.su")[1].startswith("names the whole table [users.su]")
    assert field_path_error(Scenario, "run.sed") == ("run.sed", "unknown key; allowed keys here: seed, duration_s, tick_s, start_utc, "
                                                                "align, min_peak_elevation_deg, search_window_s")
    assert field_path_error(Scenario, "uav.loop.x")[1] == "uav.loop is a single value; it has no field 'x'"


def test_run_set_records_the_overrides_in_run_json(tmp_path, capfd):
    from sagin_twin.cli import main

    out = tmp_path / "run"
    assert main(["run", str(DEFAULT_SCENARIO), "--out", str(out), "--quiet", "--set", "twin.precoding=zf-all",
                 "--set", "run.duration_s=8", "--seed", "3"]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["scenario"]["overrides"] == [{"option": "--set", "key": "twin.precoding", "value": "zf-all"},
                                            {"option": "--set", "key": "run.duration_s", "value": 8},
                                            {"option": "--seed", "key": "run.seed", "value": 3}]
    assert run["scenario"]["twin"]["precoding"] == "zf-all" and run["scenario"]["run"]["duration_s"] == 8.0
    started = json.loads((out / "events.jsonl").read_text().splitlines()[0])
    assert (started["precoding"], started["seed"], started["duration_s"]) == ("zf-all", 3, 8.0)


def test_allow_large_lifts_the_job_size_limit():
    big = [parse_set("twin.check_period_s=1e-6")]
    with pytest.raises(InputError, match="simulation steps"):
        load_scenario(DEFAULT_SCENARIO, big)
    assert load_scenario(DEFAULT_SCENARIO, big, allow_large=True).twin.check_period_s == 1e-6


def test_work_estimate_of_the_default_scenario():
    # 600 s: 600 ticks of 1 s, 600 checks of 1 s; QKD: 60 steps of 10 s, 2 x 60 reports/checks, 60 s logs of 6 links, 120 s demand holds
    work = {w.what: w.count for w in scenario_work(load_scenario(DEFAULT_SCENARIO))}
    links = len(load_scenario(DEFAULT_SCENARIO).qkd_network.links)
    assert work == {"world ticks": 600, "trigger checks": 600, "key-pool steps": 60, "QKD reports and planner checks": 120,
                    "key-pool log rows": 10 * links, "key-demand re-draws": 5}


def test_figure_solve_count_matches_the_task_list():
    from studies import yin
    from sweeps.spec import figure_solve_count

    for name, spec in yin.FIGURES.items():
        for methods in (None, ["mrt", "zf"]):
            assert figure_solve_count(name, 3, methods) == len(yin.tasks(spec, 3, 1, methods)), name


# -- files a scenario names: next to it, else the shipped library; init ---------------------------------

LIBRARY_ONLY = '''
[run]
duration_s = 5.0
start_utc = "2026-11-16T13:40:00Z"
[site]
latitude_deg = 40.3959
longitude_deg = 117.5772
[satellite]
tle = "tle/micius-like.tle"
[users.su]
position_enu_m = [250.0, 150.0, 2.0]
[users.au]
position_enu_m = [-80.0, 120.0, 60.0]
[users.gu]
position_enu_m = [80.0, -60.0, 1.5]
[users.eve]
position_enu_m = [180.0, -150.0, 1.5]
[weather]
model = "trace"
trace = "traces/storm-afternoon-weather.csv"
'''


def test_a_scenario_outside_the_repository_uses_the_shipped_library(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(LIBRARY_ONLY)
    s = load_scenario(path)
    assert s.input_files["satellite.tle"] == {"name": "tle/micius-like.tle", "origin": "library",
                                              "path": str(ROOT / "scenarios" / "tle" / "micius-like.tle")}
    assert s.input_files["weather.trace"]["origin"] == "library" and s.tle_path == LIBRARY / "tle" / "micius-like.tle"
    assert s.weather_records[0].t_s == 0.0


def test_a_file_next_to_the_scenario_wins_over_the_library(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(LIBRARY_ONLY)
    (tmp_path / "tle").mkdir()
    (tmp_path / "tle" / "micius-like.tle").write_text((LIBRARY / "tle" / "micius-like.tle").read_text())
    s = load_scenario(path)
    assert s.input_files["satellite.tle"]["origin"] == "scenario folder"
    assert s.tle_path == (tmp_path / "tle" / "micius-like.tle").resolve()


@pytest.mark.parametrize("name, message", [
    ("tle/none.tle", "TLE file 'tle/none.tle' not found next to the scenario nor in the shipped library (it has tle/leo-53deg.tle, tle/micius-like.tle)"),
    ("../scenarios/tle/micius-like.tle", "'../scenarios/tle/micius-like.tle' must be a relative path inside the scenario's folder"),
    (str(LIBRARY / "tle" / "micius-like.tle"), "must be a relative path inside the scenario's folder"),
    ("", "satellite.tle: must name a TLE file"),
])
def test_library_lookup_keeps_refusing_escapes(tmp_path, name, message):
    path = tmp_path / "mine.toml"
    path.write_text(LIBRARY_ONLY.replace('"tle/micius-like.tle"', json.dumps(name)))
    with pytest.raises(InputError, match=re.escape(message)):
        load_scenario(path)


def test_init_writes_a_starter_that_runs_from_a_folder_outside_the_repository(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    command = [sys.executable, "-m", "sagin_twin.cli"]
    made = subprocess.run(command + ["init", "my.toml"], cwd=folder, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    text = (folder / "my.toml").read_text()
    for section in ("[run]", "[site]", "[satellite]", "[uav]", "[base_station]", "[radio]", "[users.su]", "[users.eve]",
                    "[weather]", "[links.intra]", "[links.decision]", "[twin]", "[qkd]", "[qkd.demand]"):
        assert section in text, section
    assert all(line.startswith(("#", "[")) or " # " in line for line in text.splitlines() if line.strip()), "every field is commented"
    ran = subprocess.run(command + ["run", "my.toml", "--duration", "5", "--quiet"], cwd=folder, capture_output=True, text=True, timeout=280)
    assert ran.returncode == 0, ran.stderr
    run = json.loads((folder / "runs" / "my-seed1" / "run.json").read_text())
    assert {k: v["origin"] for k, v in run["scenario"]["input_files"].items()} == {"satellite.tle": "library", "qkd.network": "library"}
    assert (folder / "runs" / "my-seed1" / "events.jsonl").read_text().count('"kind":"secrecy"') == 5
    again = subprocess.run(command + ["init", "my.toml"], cwd=folder, capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and again.stderr.strip() == "error: my.toml: already exists; init never overwrites a file: choose another PATH"
    assert (folder / "my.toml").read_text() == text
