"""Every malformed input ends with exit status 2, one line naming file/field/line, and no output.

Each case edits a copy of a shipped scenario (or its TLE / trace) and runs ``sagin-twin run``; the
cases after it feed other commands (sweep, figure, precode, plan-qkd) and inputs that are not text
edits (devices, FIFOs, oversized files, command-line values).
"""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest

from precoding_instances import paper_channels, write_npz
from sagin_twin.cli import main
from tests.conftest import ROOT, copy_scenario, edit_file

DEFAULT = ROOT / "scenarios" / "default.toml"
STORM = ROOT / "scenarios" / "stormy-afternoon.toml"
TRACE = "traces/storm-afternoon-weather.csv"
DEMAND = "traces/storm-afternoon-demand.csv"
NETWORK = "qkd/xinglong.toml"
INSTANCE = "[sweep]\ninstance = 'qkd/kaewpuang-small.toml'\n[parameters]\n"  #: an instance sweep, its parameters to follow

TLE1 = "1 41731U 16051A   26320.50000000  .00001200  00000-0  55000-4 0  9994"
TLE2 = "2 41731  97.3650  30.4500 0012000  95.2000 265.0500 15.26000000536005"


def _tle(line: str, column: int, text: str) -> str:
    """``line`` with ``text`` written from 1-based ``column`` on and a fresh checksum (digits count their value, '-' counts 1)."""
    body = (line[:column - 1] + text + line[column - 1 + len(text):])[:68]
    checksum = sum(int(c) for c in body if c in "0123456789") + body.count("-")
    return body + str(checksum % 10)


DEEP_ARRAY = "deep = " + "[" * 4000 + "]" * 4000 + "\n"
DEEP_TABLE = "deep = " + "{ a = " * 3000 + "1" + " }" * 3000 + "\n"
DEEP_DOTTED = "[" + ".".join(["k"] * 5000) + "]\nx = 1\n"
UNTIL_TICK = "duration_s = 600.0                  # a 10-minute window ...\ntick_s = 1.0"
EVE = "[users.eve]                         # eavesdropper in the overlap of all three coverages\nposition_enu_m = [180.0, -150.0, 1.5]"

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
    ("missing-user", DEFAULT, None, "[users.eve]", "[users.mallory]", "users.mallory.served_by: required: the transmitter that serves mallory (satellite, uav, bs)"),
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
    ("qkd-network-syntax", DEFAULT, NETWORK, "[planning]", "[planning", "xinglong.toml: TOML syntax error"),
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
    # nesting deep enough to exhaust the parser's recursion (scenario and QKD network; sweeps and plan-qkd below)
    ("toml-deep-array", DEFAULT, None, "[run]", DEEP_ARRAY + "[run]", "line 6: arrays or inline tables nested more than 32 levels deep"),
    ("toml-deep-inline-table", DEFAULT, None, "[run]", DEEP_TABLE + "[run]", "nested more than 32 levels deep"),
    ("toml-deep-dotted-table", DEFAULT, None, "[run]", DEEP_DOTTED + "[run]", "tables (dotted keys) nested more than 32 levels deep"),
    ("qkd-network-deep", DEFAULT, NETWORK, "[planning]", DEEP_ARRAY + "[planning]", "nested more than 32 levels deep"),
    # the run's time span against the shipped ephemeris, the TLE's epoch against the run
    ("start-2099", DEFAULT, None, '"2026-11-16T12:00:00Z"', '"2099-01-01T00:00:00Z"', "run.start_utc: the run and its pass search span 2098-12-31 to 2099-01-02, outside 1899-07-30 to 2053-10-08"),
    ("start-9999", DEFAULT, None, '"2026-11-16T12:00:00Z"', '"9999-12-31T00:00:00Z"', "run.start_utc: the run and its pass search span 9999-12-30 to beyond year 9999"),
    ("start-1850", STORM, None, '"2026-11-17T05:50:00Z"', '"1850-01-01T00:00:00Z"', "run.start_utc: the run spans 1850-01-01 to 1850-01-01, outside 1899-07-30"),
    ("tle-epoch-too-old", STORM, None, '"2026-11-17T05:50:00Z"', '"2027-01-20T05:50:00Z"', "is 64.8 days from the epoch 2026-11-16 12:00 UTC of leo-53deg.tle; SGP4 elements are used at most 30 days"),
    ("tle-epoch-in-future", DEFAULT, None, '"2026-11-16T12:00:00Z"', '"2026-09-01T00:00:00Z"', "days from the epoch 2026-11-16 12:00 UTC of micius-like.tle"),
    # TLE fields, each checked (columns, layout, range) before sgp4 reads them
    ("tle-tabs", DEFAULT, "tle/micius-like.tle", TLE2, "2\t41731\t" + TLE2[8:], "line 2, column 2: character '\\t' (U+0009) is not allowed"),
    ("tle-nbsp", DEFAULT, "tle/micius-like.tle", TLE1, TLE1[:8] + "\u00a0" + TLE1[9:], r"line 1, column 9: character '\xa0' (U+00A0) is not allowed"),
    ("tle-arabic-digit", DEFAULT, "tle/micius-like.tle", TLE2, TLE2[:53] + "\u0665" + TLE2[54:], "line 2, column 54: character '\u0665' (U+0665) is not allowed"),
    ("tle-mean-motion-zero", DEFAULT, "tle/micius-like.tle", TLE2, _tle(TLE2, 53, "00.00000000"), "line 2, columns 53-63 (mean motion): 00.00000000 rev/day must be > 0"),
    ("tle-mean-motion-garbage", DEFAULT, "tle/micius-like.tle", TLE2, _tle(TLE2, 53, "1X.26000000"), "line 2, columns 53-63 (mean motion): '1X.26000000' is not dd.dddddddd"),
    ("tle-inclination-200", DEFAULT, "tle/micius-like.tle", TLE2, _tle(TLE2, 9, "200.0000"), "line 2, columns 9-16 (inclination): 200 deg is out of range; allowed [0, 180] deg"),
    ("tle-raan-360", DEFAULT, "tle/micius-like.tle", TLE2, _tle(TLE2, 18, "360.0000"), "columns 18-25 (right ascension of the ascending node): 360 deg is out of range; allowed [0, 360) deg"),
    ("tle-eccentricity-garbage", DEFAULT, "tle/micius-like.tle", TLE2, _tle(TLE2, 27, "00X2000"), "line 2, columns 27-33 (eccentricity): '00X2000' is not 7 digits"),
    ("tle-epoch-day-400", DEFAULT, "tle/micius-like.tle", TLE1, _tle(TLE1, 21, "400.50000000"), "line 1, columns 21-32 (epoch day): epoch day 400.5 is out of range; allowed [1, 366) in 2026"),
    ("tle-epoch-day-366-not-leap", DEFAULT, "tle/micius-like.tle", TLE1, _tle(TLE1, 21, "366.50000000"), "epoch day 366.5 is out of range; allowed [1, 366) in 2026"),
    ("tle-epoch-day-zero", DEFAULT, "tle/micius-like.tle", TLE1, _tle(TLE1, 21, "000.50000000"), "epoch day 0.5 is out of range"),
    ("tle-missing-space", DEFAULT, "tle/micius-like.tle", TLE1, _tle(TLE1, 18, "0"), "line 1, column 18: must be a space between fields, found '0'"),
    ("tle-classification", DEFAULT, "tle/micius-like.tle", TLE1, _tle(TLE1, 8, "X"), "line 1, column 8 (classification): 'X' is not U, C or S"),
    ("tle-bstar-garbage", DEFAULT, "tle/micius-like.tle", TLE1, _tle(TLE1, 54, " 5500X-4"), "line 1, columns 54-61 (BSTAR drag term)"),
    # values beyond the physical range, receivers at a transmitter
    ("position-1e300", DEFAULT, None, "position_enu_m = [250.0, 150.0, 2.0]", "position_enu_m = [1e300, 150.0, 2.0]", "users.su.position_enu_m[0]: 1e+300 m is out of range; allowed [-100000, 100000] m"),
    ("velocity-1e300", DEFAULT, None, "velocity_mps = [0.5, 0.0, 0.0]", "velocity_mps = [1e300, 0.0, 0.0]", "users.au.velocity_mps[0]: 1e+300 m/s is out of range; allowed [-100, 100] m/s"),
    ("beam-centre-1e308", DEFAULT, None, "beam_centre_enu_m = [0.0, 0.0, 0.0]", "beam_centre_enu_m = [0.0, 1e308, 0.0]", "satellite.beam_centre_enu_m[1]: 1e+308 m is out of range"),
    ("waypoint-1e300", DEFAULT, None, "[-150.0, -100.0, 100.0]", "[-1e300, -100.0, 100.0]", "uav.waypoints_enu_m[0][0]: -1e+300 m is out of range"),
    ("bs-position-1e300", DEFAULT, None, "position_enu_m = [0.0, 0.0, 25.0]", "position_enu_m = [0.0, 0.0, 1e300]", "base_station.position_enu_m[2]: 1e+300 m is out of range"),
    ("user-at-the-bs", DEFAULT, None, "position_enu_m = [250.0, 150.0, 2.0]", "position_enu_m = [0.0, 0.0, 25.0]", "users.su.position_enu_m: comes within 0 m of the base station bs at t = 0 s; a receiver must stay at least 1 m from every UAV and base station"),
    ("eve-walks-into-the-bs", DEFAULT, None, EVE, "[users.eve]\nposition_enu_m = [0.0, -30.0, 25.0]\nvelocity_mps = [0.0, 1.0, 0.0]", "users.eve.position_enu_m: comes within 0 m of the base station bs at t = 30 s"),
    ("user-on-the-uav-path", DEFAULT, None, "position_enu_m = [-80.0, 120.0, 60.0]\nvelocity_mps = [0.5, 0.0, 0.0]", "position_enu_m = [0.0, -100.0, 100.0]", "users.au.position_enu_m: comes within 0 m of the UAV uav at t = 15 s"),
    ("weather-duration-tiny", DEFAULT, None, "rain = 300.0", "rain = 1e-300", "weather.mean_duration_s.rain: 1e-300 s is out of range; allowed [1, 1e+09] s"),
    ("trace-underscore-number", STORM, TRACE, "240,cloudy", "2_40,cloudy", "line 3, time_s: '2_40' is not a number"),
    ("trace-arabic-digit", STORM, TRACE, "240,cloudy", "2\u06640,cloudy", "line 3, time_s: '2\u06640' is not a number"),
    ("trace-quoted-newline", STORM, TRACE, "240,cloudy,0.0,0.7", '240,"clo\nudy",0.0,0.7', "line 3, state: holds a line break"),
    ("demand-trace-underscore", STORM, DEMAND, "420,BJ,TJ,60000", "420,BJ,TJ,60_000", "line 5, rate_bps: '60_000' is not a number"),
    # job sizes, refused up front with the estimate and the override
    ("job-check-period", DEFAULT, None, "check_period_s = 1.0", "check_period_s = 1e-9", "twin.check_period_s: the run would take about 6e+11 simulation steps, 6e+11 of them trigger checks"),
    ("job-demand-hold", DEFAULT, None, "hold_s = 120.0", "hold_s = 1e-300", "qkd.demand.hold_s: the run would take about 6e+302 simulation steps"),
    ("job-millisecond-week", DEFAULT, None, UNTIL_TICK, "duration_s = 604800.0\ntick_s = 0.001", "run.tick_s: the run would take about 6.06e+08 simulation steps, 6.05e+08 of them world ticks (run.tick_s = 0.001 s over run.duration_s = 604800 s); the limit is 5,000,000 steps"),
]


def test_at_least_sixty_cases():
    assert len(CASES) >= 60


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_malformed_input_is_a_one_line_error_and_writes_nothing(tmp_path, capsys, case):
    _, source, edited, old, new, expected = case
    scenario = copy_scenario(tmp_path, source)
    edit_file(scenario if edited is None else tmp_path / edited, old, new)
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


def _one_line_error(capfd, *fragments: str) -> str:
    """The single 'error: …' line on stderr (nothing on stdout), containing every fragment."""
    captured = capfd.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "Traceback" not in captured.err and captured.out == "", captured
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


# -- files that are not regular files, too large, or named with a NUL ---------------------------------

@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "folder"])
def test_scenario_that_is_not_a_regular_file(tmp_path, capfd, kind):
    if kind == "dev-zero":
        path, what = "/dev/zero", "is a character device"
    elif kind == "fifo":
        path, what = str(tmp_path / "s.toml"), "is a FIFO (named pipe)"
        os.mkfifo(path)  # opening it for reading would block until a writer appears: it must not be opened that way
    else:
        path, what = str(tmp_path), "is a folder"
    out = tmp_path / "out"
    assert main(["run", path, "--out", str(out)]) == 2
    _one_line_error(capfd, path, what, "expected a regular scenario file")
    assert not out.exists()


def test_oversized_scenario_is_refused_before_reading_it_all(tmp_path, capfd):
    scenario = copy_scenario(tmp_path)
    scenario.write_text(scenario.read_text() + ("# padding\n" * 110_000))  # ~1.1 MB of comments
    assert main(["run", str(scenario), "--out", str(tmp_path / "out")]) == 2
    size_mib = scenario.stat().st_size / 2**20
    _one_line_error(capfd, "s.toml", f"scenario file is {size_mib:g} MiB; the limit is 1 MiB")


@pytest.mark.parametrize("field, make, what", [
    ("tle", lambda p: os.mkfifo(p), "is a FIFO (named pipe); expected a regular TLE file"),
    ("tle", lambda p: p.mkdir(), "is a folder; expected a regular TLE file"),
    ("tle", lambda p: p.write_text("1" * 70_000), "TLE file is 68.3594 KiB; the limit is 64 KiB"),
    ("trace", lambda p: p.mkdir(), "is a folder; expected a regular trace file"),
    ("trace", lambda p: os.mkfifo(p), "is a FIFO (named pipe); expected a regular trace file"),
])
def test_named_files_that_are_not_regular_files(tmp_path, capfd, field, make, what):
    scenario = copy_scenario(tmp_path, STORM)
    target = tmp_path / ("tle/leo-53deg.tle" if field == "tle" else TRACE)
    target.unlink()
    make(target)
    assert main(["run", str(scenario), "--out", str(tmp_path / "out")]) == 2
    _one_line_error(capfd, target.name, what)
    assert not (tmp_path / "out").exists()


def test_nul_in_a_named_path(tmp_path, capfd):
    scenario = copy_scenario(tmp_path)
    scenario.write_text(scenario.read_text().replace('tle = "tle/micius-like.tle"', 'tle = "tle/micius\\u0000like.tle"'))
    assert main(["run", str(scenario), "--out", str(tmp_path / "out")]) == 2
    _one_line_error(capfd, "s.toml: satellite.tle: 'tle/micius\\x00like.tle' contains a NUL character")


# -- command-line values: --seed, --set --------------------------------------------------------------

@pytest.mark.parametrize("seed, expected", [
    (2**64, "--seed: run.seed: 18446744073709551616 is out of range; allowed [0, 9223372036854775807]"),
    (2**63, "--seed: run.seed: 9223372036854775808 is out of range"),
    (-1, "--seed: run.seed: -1 is out of range"),
])
def test_seed_on_the_command_line_has_the_file_s_range(tmp_path, capfd, seed, expected):
    assert main(["run", str(DEFAULT), "--out", str(tmp_path / "out"), "--seed", str(seed)]) == 2
    _one_line_error(capfd, expected)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("assignment, expected", [
    ("twin.precodng=zf", "--set twin.precodng: unknown key; allowed keys here: precoding, fallback"),
    ("run=1", "--set run: names the whole table [run]; name one of its fields: run.seed, run.duration_s"),
    ("links.intra=0.1", "--set links.intra: names the whole table [links.intra]"),
    ("run.seed.x=1", "--set run.seed.x: run.seed is a single value; it has no field 'x'"),
    ("users.bob.position_enu_m=[1, 2, 3]", "--set users.bob.position_enu_m: users.bob.served_by: required: the transmitter that serves bob"),
    ("run..seed=1", "--set run..seed: empty key"),
    ("noequals", "--set: expected KEY=VALUE (e.g. twin.precoding=zf-all), got 'noequals'"),
    ("=5", "--set: expected KEY=VALUE"),
    ("run.seed=1.5", "--set run.seed: must be an integer, got float 1.5"),
    ("run.seed=18446744073709551616", "--set run.seed: 18446744073709551616 is out of range; allowed [0, 9223372036854775807]"),
    ("twin.precoding=qzf", "--set twin.precoding: 'qzf' is not allowed; choose one of"),
    ("run.duration_s=0", "--set run.duration_s: 0 s is out of range; allowed (0, 604800] s"),
    ("run.duration_s=nan", "--set run.duration_s: must be finite"),
    ("uav.loop=yes", "--set uav.loop: must be true or false, got 'yes'"),
    ("users.su.position_enu_m=[1, 2]", "--set users.su.position_enu_m: must have 3 elements, got 2"),
    ("users.su.position_enu_m=[1e300, 0, 0]", "--set users.su.position_enu_m: users.su.position_enu_m[0]: 1e+300 m is out of range"),
    ("weather.mean_duration_s.fog=5", "--set weather.mean_duration_s.fog: unknown key; allowed keys: clear, cloudy, rain"),
    ("run.tick_s=900", "--set run.tick_s: run: tick_s (900 s) must not exceed duration_s (600 s)"),
    ("twin.check_period_s=1e-9", "--set twin.check_period_s: the run would take about 6e+11 simulation steps"),
    ("run.start_utc=2099-01-01T00:00:00Z", "--set run.start_utc: the run and its pass search span 2098-12-31 to 2099-01-02"),
    ("satellite.tle=../../etc/passwd", "--set satellite.tle: '../../etc/passwd' must be a relative path inside"),
    ("twin.period_s=" + "[" * 3000 + "]" * 3000, "--set twin.period_s: line 1: arrays or inline tables nested more than 32 levels deep"),
])
def test_bad_set_names_the_option_and_the_allowed_range(tmp_path, capfd, assignment, expected):
    out = tmp_path / "out"
    assert main(["run", str(DEFAULT), "--out", str(out), "--set", assignment]) == 2
    _one_line_error(capfd, expected)
    assert not out.exists()


def test_an_error_after_loading_names_the_override_too(tmp_path, capfd):
    # the pass search happens once the TLE is read: its error still names the --set that caused it
    assert main(["run", str(DEFAULT), "--out", str(tmp_path / "out"), "--set", "run.min_peak_elevation_deg=89.9"]) == 2
    _one_line_error(capfd, "--set run.min_peak_elevation_deg: no pass peaking above 89.9 deg")


# -- sweeps, figures, plan-qkd ------------------------------------------------------------------------

@pytest.mark.parametrize("body, expected", [
    ("[sweep]\nbase = 's.toml'\n[parameters]\nrun = [1]\n", "parameters.run: names the whole table [run]; name one of its fields"),
    ("[sweep]\nbase = 's.toml'\n[parameters]\n'qkd.demand' = [1]\n", "parameters.qkd.demand: names the whole table [qkd.demand]"),
    ("[sweep]\nbase = 's.toml'\n[parameters]\n'run.seed' = [1, 2]\n", "parameters.run.seed: the sweep engine sets run.seed itself"),
    ("[sweep]\nbase = 's.toml'\nduration_s = 10.0\n[parameters]\n'run.duration_s' = [5.0, 8.0]\n",
     "parameters.run.duration_s: sweep.duration_s = 10 s sets every run's duration; drop one of the two"),
    ("[sweep]\nbase = 's.toml'\nseeds = 1000\n[parameters]\n'uav.power_dbw' = { start = 0.0, stop = 10.0, num = 10000 }\n'twin.period_s' = { start = 1.0, stop = 10.0, num = 100 }\n",
     "sweep: 1,000,000,000 runs is more than the limit of 100,000: use fewer parameter values or lower sweep.seeds, or pass --allow-large"),
    ("[sweep]\nfigure = 'yin-fig2'\nseeds = 100000\n", "sweep: 1,500,000 solves is more than the limit of 100,000: lower sweep.seeds"),
    ("[sweep]\nbase = 's.toml'\n[parameters]\n'twin.check_period_s' = [1e-9]\n", "twin.check_period_s: the run would take about 6e+11 simulation steps"),
    ("[sweep]\nbase = 's.toml'\n[parameters]\nx = " + "[" * 5000 + "]" * 5000 + "\n", "sweep.toml: line 4: arrays or inline tables nested more than 32 levels deep"),
    # instance sweeps (QKD planning instances): fields checked by the instance loader, [draw] and [plan] by theirs
    (INSTANCE + "'planning.ondemand_factor' = [1.5, -1.0]\n",
     "(parameters planning.ondemand_factor = -1.0) applied to kaewpuang-small.toml: planning.ondemand_factor: must be a finite number in [0, 1000], got -1.0"),
    (INSTANCE + "'planning.colour' = [1]\n", "planning.colour: unknown key (allowed: ondemand_factor, utilisation_factor, km_per_qkd_link)"),
    (INSTANCE + "'links[0].length_km' = [0.0]\n", "links[0].length_km: must be a finite number in (0, 100000] km, got 0.0"),
    (INSTANCE + "'media.fiber' = [1]\n", "parameters.media.fiber: names the whole table media.fiber; name one of its fields: media.fiber.span_km"),
    (INSTANCE + "'links' = [1]\n", "parameters.links: names the whole array links; name a field of one entry, e.g. links[0].a"),
    (INSTANCE + "'links[99].length_km' = [1.0]\n", "parameters.links[99].length_km: links has 15 entries (indices 0 to 14), not 99"),
    (INSTANCE + "'planning.ondemand_factor.x' = [1]\n", "parameters.planning.ondemand_factor.x: planning.ondemand_factor is a single value"),
    (INSTANCE.replace("[parameters]", "seeds = 3\n[parameters]") + "'planning.ondemand_factor' = [1.5]\n",
     "sweep.seeds: 3 replicates of a point without draws would be the same solve 3 times"),
    (INSTANCE.replace("[parameters]", "[draw]\nrequests = 3\n[parameters]") + "'planning.ondemand_factor' = [1.5]\n",
     "sweep.toml: draw: requests = 3 needs scenarios > 0"),
    (INSTANCE.replace("[parameters]", "[draw]\nscenarios = 10000\n[parameters]") + "'draw.requests' = [2, 20]\n",
     "(parameters draw.requests = 20): draw.scenarios: 200,000 request-scenario pairs is more than the limit of 100,000: draw fewer requests or scenarios, or pass --allow-large"),
    (INSTANCE.replace("[parameters]", "[draw]\nscenarios = 10\n[parameters]") + "'scenarios[0].probability' = [1.0]\n",
     "parameters.scenarios[0].probability: draw.scenarios = 10 replaces the instance's scenarios; drop one of the two"),
    (INSTANCE + "'draw.requests' = [5000]\n", "(parameters draw.requests = 5000): draw.requests: 5000 is out of range; allowed [0, 1000]"),
    (INSTANCE + "'plan.reroute' = ['fast']\n", "plan.reroute: 'fast' is not allowed; choose one of 'weather', 'scenario'"),
    (INSTANCE + "'plan.mip_rel_gap' = [1.0]\n", "plan: mip_rel_gap must be below 1, got 1.0"),
    (INSTANCE + "'plan.colour' = [1]\n", "parameters.plan.colour: unknown key; allowed keys here: reroute, mip_rel_gap, time_limit_s"),
    (INSTANCE.replace("[parameters]", "[plan]\ntime_limit_s = 0.0\n[parameters]") + "'plan.reroute' = ['weather']\n",
     "sweep.toml: plan.time_limit_s: 0.0 s is out of range; allowed (0, 86400] s"),
    (INSTANCE.replace("[parameters]", "duration_s = 5.0\n[parameters]") + "'plan.reroute' = ['weather']\n",
     "sweep.duration_s: only scenario sweeps take duration_s; this is an instance sweep"),
    ("[sweep]\nbase = 's.toml'\n[plan]\nreroute = 'weather'\n[parameters]\n'uav.power_dbw' = [1.0]\n",
     "plan: only instance sweeps take a [plan] section; this is a scenario sweep"),
    ("[sweep]\ninstance = 'nope.toml'\n[parameters]\n'plan.reroute' = ['weather']\n",
     "sweep.instance: instance 'nope.toml' not found next to the sweep file nor in the shipped library"),
    (INSTANCE.replace("[parameters]", "metrics = ['events']\n[parameters]") + "'plan.reroute' = ['weather']\n",
     "sweep.metrics: unknown metric 'events'; available: objective"),
    (INSTANCE.replace("[parameters]", "[draw]\nscenarios = 2\n[parameters]") + "'draw.cloudy_probability' = { start = 0.0, stop = 1.0, num = 1000 }\n"
     "'planning.ondemand_factor' = { start = 1.0, stop = 4.0, num = 1000 }\n",
     "sweep: 1,000,000 runs is more than the limit of 100,000: use fewer parameter values or lower sweep.seeds, or pass --allow-large"),
    ("[sweep]\ninstance = 'qkd/kaewpuang-small.toml'\nbase = 's.toml'\n[parameters]\n'plan.reroute' = ['weather']\n",
     "sweep: give exactly one of sweep.base (a scenario), sweep.figure (a paper figure) or sweep.instance"),
])
def test_bad_sweeps_are_one_line_errors(tmp_path, capfd, body, expected):
    copy_scenario(tmp_path)
    path = tmp_path / "sweep.toml"
    path.write_text(body)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 2
    _one_line_error(capfd, "sweep.toml", expected)
    assert not out.exists()


def test_figure_with_a_billion_draws_is_refused_up_front(tmp_path, capfd):
    out = tmp_path / "fig"
    assert main(["figure", "yin-fig2", "--draws", str(10**9), "--out", str(out), "--workers", "1"]) == 2
    _one_line_error(capfd, "yin-fig2: 15,000,000,000 solves is more than the limit of 100,000: lower --draws, or pass --allow-large")
    assert not out.exists()


def test_deep_qkd_instance_for_plan_qkd(tmp_path, capfd):
    path = tmp_path / "net.toml"
    path.write_text((ROOT / "scenarios" / "qkd" / "xinglong.toml").read_text().replace("[planning]", DEEP_TABLE + "[planning]", 1))
    assert main(["plan-qkd", str(path)]) == 2
    _one_line_error(capfd, "net.toml", "nested more than 32 levels deep")


# -- precode npz files ---------------------------------------------------------------------------------

def _npz_members(path, members: dict[str, bytes]) -> None:
    """Rewrite the npz at ``path`` with some members replaced or added (raw bytes)."""
    with zipfile.ZipFile(path) as archive:
        kept = {name: archive.read(name) for name in archive.namelist() if name not in members}
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in {**kept, **members}.items():
            archive.writestr(name, data)


def _npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    """An .npy header declaring ``shape`` with no data after it."""
    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(stream, {"descr": descr, "fortran_order": False, "shape": shape})
    return stream.getvalue()


@pytest.mark.parametrize("case, expected", [
    ("power-1e308", "p_s_w: power limit 1e+308 W is out of range; allowed [0, 1e+06] W"),
    ("entry-1e200", "h_su: an entry has magnitude 1.41e+200; allowed at most 1e+08"),
    ("member-not-npy", "notes.txt: is not an .npy array: an npz holds only NAME.npy members"),
    ("member-garbage", "g_e: unreadable .npy array"),
    ("header-1e12-elements", "a_su: its header declares shape (1000000000000,) (1,000,000,000,000 elements); the limit is 1,024"),
    ("header-object-dtype", "v_ignored: expected a numeric array, got dtype object"),
    ("single-npy", "not a numpy .npz file (a single .npy array)"),
])
def test_bad_precode_npz_files(tmp_path, capfd, case, expected):
    path = write_npz(tmp_path / "ch.npz", paper_channels(1))
    if case == "power-1e308":
        write_npz(path, paper_channels(1), powers_w=(1e308, 1.0, 1.0))
    elif case == "entry-1e200":
        truth = paper_channels(1)
        write_npz(path, truth, h_su=np.full(truth.h_su.shape, 1e200 + 1e200j))
    elif case == "member-not-npy":
        _npz_members(path, {"notes.txt": b"hello"})
    elif case == "member-garbage":
        _npz_members(path, {"g_e.npy": b"\x93NUMPY garbage"})
    elif case == "header-1e12-elements":
        _npz_members(path, {"a_su.npy": _npy_header((10**12,))})
    elif case == "header-object-dtype":
        _npz_members(path, {"v_ignored.npy": _npy_header((4,), "|O")})
    else:
        np.save(path.with_suffix(".npy"), np.zeros(3))
        path = path.with_suffix(".npy")
    assert main(["precode", str(path), "--method", "mrt"]) == 2
    _one_line_error(capfd, path.name, expected)


@pytest.mark.parametrize("argv, expected", [
    (["run", "a\x00b.toml"], "scenario path contains a NUL character"),
    (["sweep", "a\x00b.toml", "--out", "never"], "sweep path contains a NUL character"),
    (["plan-qkd", "a\x00b.toml"], "QKD network path contains a NUL character"),
    (["precode", "a\x00b.npz"], "npz path contains a NUL character"),
])
def test_command_line_paths_with_nul(tmp_path, capfd, monkeypatch, argv, expected):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    _one_line_error(capfd, "'a\\x00b.", expected)
    assert list(tmp_path.iterdir()) == []
