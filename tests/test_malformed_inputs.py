"""Every malformed input ends with exit status 2, one line naming file/field/line, and no output.

Each case edits a copy of a shipped scenario (or its TLE / trace) and runs ``sagin-twin run``.
"""

from __future__ import annotations

import pytest

from sagin_twin.cli import main
from tests.conftest import ROOT, copy_scenario

DEFAULT = ROOT / "scenarios" / "default.toml"
STORM = ROOT / "scenarios" / "stormy-afternoon.toml"
TRACE = "traces/storm-afternoon-weather.csv"
DEMAND = "traces/storm-afternoon-demand.csv"
NETWORK = "qkd/xinglong.toml"

# (id, scenario, file to edit relative to the copy (None = the scenario), old text, new text, expected words)
CASES = [
    ("toml-syntax", DEFAULT, None, "[run]", "[run", "TOML syntax error"),
    ("toml-unclosed-string", DEFAULT, None, 'name = "Xinglong"', 'name = "Xinglong', "TOML syntax error"),
    ("toml-duplicate-key", DEFAULT, None, "seed = 1", "seed = 1\nseed = 2", "TOML syntax error"),
    ("unknown-top-section", DEFAULT, None, "[site]", "[sites]\nx = 1\n[site]", "sites: unknown key"),
    ("unknown-key", DEFAULT, None, "[radio]", "[radio]\nbandwith_hz = 1.0", "radio.bandwith_hz: unknown key"),
    ("unknown-link", DEFAULT, None, "[links.decision]", "[links.uplink]\nlatency_s = 1.0\n[links.decision]", "links.uplink: unknown key"),
    ("wrong-type-seed", DEFAULT, None, "seed = 1", 'seed = "one"', "run.seed: must be an integer"),
    ("float-seed", DEFAULT, None, "seed = 1", "seed = 1.5", "run.seed: must be an integer"),
    ("bool-as-number", DEFAULT, None, "tick_s = 1.0", "tick_s = true", "run.tick_s: must be a number"),
    ("wrong-type-loop", DEFAULT, None, "loop = true", 'loop = "yes"', "uav.loop: must be true or false"),
    ("wrong-type-vector", DEFAULT, None, "position_enu_m = [0.0, 0.0, 25.0]", 'position_enu_m = "mast"', "base_station.position_enu_m: must be an array"),
    ("short-vector", DEFAULT, None, "position_enu_m = [0.0, 0.0, 25.0]", "position_enu_m = [0.0, 25.0]", "base_station.position_enu_m: must have 3 elements"),
    ("string-in-vector", DEFAULT, None, "position_enu_m = [0.0, 0.0, 25.0]", 'position_enu_m = [0.0, "x", 25.0]', "base_station.position_enu_m[1]: must be a number"),
    ("empty-waypoints", DEFAULT, None, "waypoints_enu_m = [[-150.0, -100.0, 100.0], [150.0, -100.0, 100.0], [150.0, 100.0, 100.0], [-150.0, 100.0, 100.0]]", "waypoints_enu_m = []", "uav.waypoints_enu_m: must not be empty"),
    ("negative-sat-power", DEFAULT, None, "power_dbw = 10.0", "power_dbw = -100.0", "satellite.power_dbw: -100.0 dBW is out of range"),
    ("huge-bs-power", DEFAULT, None, "power_dbw = 15.0", "power_dbw = 80.0", "base_station.power_dbw: 80.0 dBW is out of range"),
    ("zero-sat-antennas", DEFAULT, None, "antennas = 4\npower_dbw = 10.0", "antennas = 0\npower_dbw = 10.0", "satellite.antennas: 0 is out of range"),
    ("zero-uav-antennas", DEFAULT, None, "antennas = 4\npower_dbw = 5.0", "antennas = 0\npower_dbw = 5.0", "uav.antennas: 0 is out of range"),
    ("too-many-bs-antennas", DEFAULT, None, "antennas = 4\npower_dbw = 15.0", "antennas = 65\npower_dbw = 15.0", "base_station.antennas: 65 is out of range"),
    ("uav-altitude-high", DEFAULT, None, "[-150.0, -100.0, 100.0]", "[-150.0, -100.0, 1500.0]", "altitude 1500 m is out of range"),
    ("uav-altitude-low", DEFAULT, None, "[150.0, 100.0, 100.0]", "[150.0, 100.0, 2.0]", "altitude 2 m is out of range"),
    ("uav-zero-speed", DEFAULT, None, "speed_mps = 10.0", "speed_mps = 0.0", "speed_mps must be > 0"),
    ("latitude-range", DEFAULT, None, "latitude_deg = 40.3959", "latitude_deg = 95.0", "site.latitude_deg: 95.0 deg is out of range"),
    ("longitude-range", DEFAULT, None, "longitude_deg = 117.5772", "longitude_deg = -200.0", "site.longitude_deg: -200.0 deg is out of range"),
    ("latitude-nan", DEFAULT, None, "latitude_deg = 40.3959", "latitude_deg = nan", "site.latitude_deg: must be finite"),
    ("noise-figure-inf", DEFAULT, None, "noise_figure_db = 5.0", "noise_figure_db = inf", "radio.noise_figure_db: must be finite"),
    ("negative-bandwidth", DEFAULT, None, "bandwidth_hz = 1.0e6", "bandwidth_hz = -1.0e6", "radio.bandwidth_hz"),
    ("eve-error-range", DEFAULT, None, "eve_csi_error = 0.1", "eve_csi_error = 1.5", "radio.eve_csi_error: 1.5 is out of range"),
    ("beam-width-zero", DEFAULT, None, "beam_3db_deg = 0.4", "beam_3db_deg = 0.0", "satellite.beam_3db_deg"),
    ("nakagami-m-small", DEFAULT, None, "nakagami_m = 2.0", "nakagami_m = 0.1", "base_station.nakagami_m: 0.1 is out of range"),
    ("zero-coherence", DEFAULT, None, "coherence_time_s = 60.0", "coherence_time_s = 0.0", "satellite.coherence_time_s: 0.0 s is out of range; allowed (0,"),
    ("negative-latency", DEFAULT, None, "latency_s = 0.02", "latency_s = -0.02", "links.intra.latency_s: -0.02 s is out of range"),
    ("negative-jitter", DEFAULT, None, "jitter_s = 0.005", "jitter_s = -1.0", "links.inter.jitter_s: -1.0 s is out of range"),
    ("certain-loss", DEFAULT, None, "latency_s = 0.05", "latency_s = 0.05\nloss_probability = 1.0", "links.decision.loss_probability: 1.0 is out of range"),
    ("zero-duration", DEFAULT, None, "duration_s = 600.0", "duration_s = 0.0", "run.duration_s: 0.0 s is out of range"),
    ("tick-longer-than-run", DEFAULT, None, "tick_s = 1.0", "tick_s = 900.0", "tick_s (900 s) must not exceed duration_s"),
    ("bad-start-time", DEFAULT, None, '"2026-11-16T12:00:00Z"', '"16/11/2026 noon"', "start_utc '16/11/2026 noon' is not an ISO 8601 time"),
    ("naive-start-time", DEFAULT, None, '"2026-11-16T12:00:00Z"', '"2026-11-16T12:00:00"', "needs a time zone"),
    ("bad-align", DEFAULT, None, 'align = "culmination"', 'align = "peak"', "run.align: 'peak' is not allowed"),
    ("no-pass-found", DEFAULT, None, "min_peak_elevation_deg = 40.0", "min_peak_elevation_deg = 89.9", "run.min_peak_elevation_deg: no pass peaking above 89.9 deg"),
    ("unknown-precoder", DEFAULT, None, 'precoding = "synergy-stat"', 'precoding = "qzf"', "twin.precoding: 'qzf' is not allowed"),
    ("negative-period", DEFAULT, None, "period_s = 10.0", "period_s = -10.0", "twin.period_s: -10.0 s is out of range"),
    ("bad-fault-mode", DEFAULT, None, "solve_delay_s = 0.1", 'solve_delay_s = 0.1\nfault_mode = "explode"', "twin.fault_mode: 'explode' is not allowed"),
    ("missing-user", DEFAULT, None, "[users.eve]", "[users.mallory]", "users.mallory: unknown key"),
    ("missing-site-field", DEFAULT, None, "latitude_deg = 40.3959\n", "", "site.latitude_deg: missing required field"),
    ("unknown-weather-state", DEFAULT, None, 'initial = "clear"', 'initial = "fog"', "weather.initial: 'fog' is not allowed"),
    ("weather-jumps-sum", DEFAULT, None, "cloudy = { clear = 0.5, rain = 0.5 }", "cloudy = { clear = 0.5, rain = 0.4 }", "jump_probabilities.cloudy: probabilities sum to 0.9"),
    ("weather-self-jump", DEFAULT, None, "rain = { clear = 0.3, cloudy = 0.7 }", "rain = { rain = 0.3, cloudy = 0.7 }", "a state cannot jump to itself"),
    ("weather-negative-duration", DEFAULT, None, "rain = 300.0", "rain = -300.0", "weather.mean_duration_s.rain: -300.0 s is out of range"),
    ("weather-missing-duration", DEFAULT, None, "mean_duration_s = { clear = 900.0, cloudy = 600.0, rain = 300.0 }", "mean_duration_s = { clear = 900.0, cloudy = 600.0 }", "weather.mean_duration_s.rain: missing required key"),
    ("missing-tle", DEFAULT, None, 'tle = "tle/micius-like.tle"', 'tle = "tle/missing.tle"', "satellite.tle: TLE file 'tle/missing.tle' not found"),
    ("tle-escapes-folder", DEFAULT, None, 'tle = "tle/micius-like.tle"', 'tle = "../../outside.tle"', "satellite.tle: '../../outside.tle' must be a relative path inside"),
    ("tle-absolute-path", DEFAULT, None, 'tle = "tle/micius-like.tle"', 'tle = "/etc/hostname"', "must be a relative path inside"),
    ("tle-bad-checksum", DEFAULT, "tle/micius-like.tle", "15.26000000536005", "15.26000000536006", "micius-like.tle: line 2: bad checksum"),
    ("tle-corrupted-digit", DEFAULT, "tle/micius-like.tle", " 97.3650 ", " 97.3651 ", "micius-like.tle: line 2: bad checksum"),
    ("tle-truncated-line", DEFAULT, "tle/micius-like.tle", "  55000-4 0  9994", "  55000-4 0 9994", "line 1: must be 69 characters"),
    ("tle-swapped-lines", DEFAULT, "tle/micius-like.tle", "MICIUS-LIKE\n", "MICIUS-LIKE\n2 41731\n", "expected 2 or 3 non-empty lines"),
    ("tle-decayed-orbit", DEFAULT, "tle/micius-like.tle", "15.26000000536005", "17.26000000536007", "decayed or re-entering"),
    ("tle-geo-orbit", DEFAULT, "tle/micius-like.tle", "15.26000000536005", "01.00272000536003", "only LEO satellites"),
    ("trace-missing-column", STORM, TRACE, "time_s,state,rain_fade_db,cloud_cover", "time_s,state,rain_fade_db", "missing column 'cloud_cover'"),
    ("trace-unknown-column", STORM, TRACE, "time_s,state,rain_fade_db,cloud_cover", "time_s,state,rain_fade_db,cloud_cover,wind", "unknown column 'wind'"),
    ("trace-unsorted", STORM, TRACE, "480,cloudy", "200,cloudy", "line 4, time_s: unsorted time 200"),
    ("trace-duplicate-time", STORM, TRACE, "480,cloudy", "240,cloudy", "line 4, time_s: duplicate time 240"),
    ("trace-nan", STORM, TRACE, "900,rain,8.5,1.0", "900,rain,nan,1.0", "line 7, rain_fade_db: 'nan' is not a finite number"),
    ("trace-not-a-number", STORM, TRACE, "900,rain,8.5,1.0", "900,rain,heavy,1.0", "line 7, rain_fade_db: 'heavy' is not a number"),
    ("trace-negative-fade", STORM, TRACE, "900,rain,8.5,1.0", "900,rain,-8.5,1.0", "line 7, rain_fade_db: -8.5 is out of range"),
    ("trace-unknown-state", STORM, TRACE, "900,rain,8.5,1.0", "900,snow,8.5,1.0", "line 7, state: unknown state 'snow'"),
    ("trace-cloud-range", STORM, TRACE, "900,rain,8.5,1.0", "900,rain,8.5,2.0", "line 7, cloud_cover: 2 is out of range"),
    ("trace-short-row", STORM, TRACE, "900,rain,8.5,1.0", "900,rain,8.5", "line 7: expected 4 fields"),
    ("trace-late-start", STORM, TRACE, "0,clear,0.0,0.1", "30,clear,0.0,0.1", "first row must be at time_s = 0"),
    ("trace-negative-time", STORM, TRACE, "0,clear,0.0,0.1", "-5,clear,0.0,0.1", "line 2, time_s: -5 is out of range"),
    ("trace-missing-file", STORM, None, 'trace = "traces/storm-afternoon-weather.csv"', 'trace = "traces/none.csv"', "weather.trace: weather trace 'traces/none.csv' not found"),
    ("trace-outside-folder", STORM, None, 'trace = "traces/storm-afternoon-weather.csv"', 'trace = "../storm.csv"', "weather.trace: '../storm.csv' must be a relative path inside"),
    ("trace-without-path", STORM, None, 'trace = "traces/storm-afternoon-weather.csv"', "", "trace: required when model = 'trace'"),
    # the QKD layer: its section, the network (plan-qkd instance) it names, and key-demand traces
    ("qkd-network-missing", DEFAULT, None, 'network = "qkd/xinglong.toml"', 'network = "qkd/none.toml"', "qkd.network: QKD network file 'qkd/none.toml' not found"),
    ("qkd-network-outside", DEFAULT, None, 'network = "qkd/xinglong.toml"', 'network = "../net.toml"', "qkd.network: '../net.toml' must be a relative path inside"),
    ("qkd-unknown-key", DEFAULT, None, "step_s = 10.0\nreport_period_s", "step_s = 10.0\nstep_size = 1\nreport_period_s", "qkd.step_size: unknown key"),
    ("qkd-zero-epoch", DEFAULT, None, "planning_period_s = 300.0", "planning_period_s = 0.0", "qkd.planning_period_s: 0.0 s is out of range"),
    ("qkd-warning-above-capacity", DEFAULT, None, "pool_warning_bits = 1.0e6", "pool_warning_bits = 1.0e12", "pool_warning_bits: must not exceed pool_capacity_bits"),
    ("qkd-unknown-request", DEFAULT, None, "mean_bps = { bj-tj = 30000.0,", "mean_bps = { bj-sh = 30000.0,", "qkd.demand.mean_bps.bj-sh: 'bj-sh' is not a request"),
    ("qkd-negative-demand", DEFAULT, None, "xl-ns = 8000.0", "xl-ns = -8000.0", "qkd.demand.mean_bps.xl-ns: -8000.0 bit/s is out of range"),
    ("qkd-station-not-satellite", DEFAULT, None, "stations = { NS = [", "stations = { BJ = [", "qkd.stations.BJ: 'BJ' is not a node with a satellite link"),
    ("qkd-station-latitude", DEFAULT, None, "NS = [43.475,", "NS = [143.475,", "qkd.stations.NS: [143.475, 87.177, 2028.0] is out of range"),
    ("qkd-bad-reroute", DEFAULT, None, "forecast_samples = 8", 'forecast_samples = 8\nreroute = "always"', "qkd.reroute: 'always' is not allowed"),
    ("qkd-network-syntax", DEFAULT, NETWORK, "[planning]", "[planning", "xinglong.toml: not valid TOML"),
    ("qkd-network-unknown-node", DEFAULT, NETWORK, 'a = "BJ"\nb = "NS"', 'a = "BJ"\nb = "NX"', "links[4].b: unknown node 'NX'"),
    ("qkd-network-negative-length", DEFAULT, NETWORK, "length_km = 3000", "length_km = -3000", "links[4].length_km"),
    ("qkd-network-zero-key-rate", DEFAULT, NETWORK, "key_rate_bps = 15000", "key_rate_bps = 0", "media.fiber.key_rate_bps"),
    ("qkd-network-probabilities", DEFAULT, NETWORK, "probability = 0.35\nweather = \"clear\"\ndemand_bps = { bj-tj = 20000", "probability = 0.5\nweather = \"clear\"\ndemand_bps = { bj-tj = 20000", "probabilities sum to 1.15"),
    ("demand-trace-unknown-pair", STORM, DEMAND, "0,BJ,TJ,25000", "0,BJ,SH,25000", "line 2: no request from 'BJ' to 'SH'"),
    ("demand-trace-negative-rate", STORM, DEMAND, "420,BJ,TJ,60000", "420,BJ,TJ,-60000", "line 5, rate_bps: -60000 is out of range"),
    ("demand-trace-unsorted", STORM, DEMAND, "900,XL,NS,15000", "100,XL,NS,15000", "line 7, time_s: unsorted time 100"),
    ("demand-trace-nan", STORM, DEMAND, "900,XL,NS,15000", "900,XL,NS,nan", "line 7, rate_bps: 'nan' is not a finite number"),
    ("demand-trace-missing-column", STORM, DEMAND, "time_s,src,dst,rate_bps", "time_s,src,dst", "missing column 'rate_bps'"),
    ("demand-trace-duplicate", STORM, DEMAND, "420,UAV1,CD,30000", "420,BJ,TJ,30000", "line 6: duplicate row for (BJ, TJ) at 420 s"),
    ("demand-trace-missing-file", STORM, None, 'trace = "traces/storm-afternoon-demand.csv"', 'trace = "traces/none.csv"', "qkd.demand.trace: demand trace 'traces/none.csv' not found"),
    ("demand-trace-outside-folder", STORM, None, 'trace = "traces/storm-afternoon-demand.csv"', 'trace = "/tmp/demand.csv"', "qkd.demand.trace: '/tmp/demand.csv' must be a relative path inside"),
]


def test_at_least_sixty_cases():
    assert len(CASES) >= 60


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_malformed_input_is_a_one_line_error_and_writes_nothing(tmp_path, capsys, case):
    _, source, edited, old, new, expected = case
    scenario = copy_scenario(tmp_path, source)
    target = scenario if edited is None else tmp_path / edited
    text = target.read_text()
    assert old in text, f"test case does not apply: {old!r} not in {target.name}"
    target.write_text(text.replace(old, new, 1))
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "Traceback" not in captured.err
    assert expected in lines[0], lines[0]
    named = (edited or scenario.name).split("/")[-1]
    assert named in lines[0], f"message does not name the file {named}: {lines[0]}"
    assert captured.out == ""
    assert not out.exists()


def test_empty_trace_file(tmp_path, capsys):
    scenario = copy_scenario(tmp_path, STORM)
    (tmp_path / TRACE).write_text("")
    assert main(["run", str(scenario), "--out", str(tmp_path / "out")]) == 2
    assert "storm-afternoon-weather.csv: empty file" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_not_a_toml_file(tmp_path, capsys):
    path = tmp_path / "scenario.toml"
    path.write_bytes(b"\xff\xfe\x00binary")
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "scenario.toml" in err and len(err.strip().splitlines()) == 1
