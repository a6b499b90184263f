"""A constellation wired into runs (issue 13): the serving geometry, handovers in the log, the twin's view of them,
the fading restart, the interference of non-serving satellites, and the loader's refusals."""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import replace

import numpy as np
import pytest
from scipy import special

from common.errors import InputError
from eventlog import EventLog
from physical.channels import ChannelModel, LinkGeometry, interference_to_noise, with_interference
from physical.constellation import Constellation
from physical.handover import NONE, ServingRule, serving_timeline
from physical.qkd_link import satellite_key_rate_bps
from physical.mobility import LinearMotion, WaypointTrajectory
from physical.reports import TransmitterReport
from physical.channel_matrix import ChannelMatrix, Topology
from physical.secrecy import RECEIVERS
from physical.snapshot import paper_radio
from physical.units import wavelength_m
from physical.walker import WalkerShell
from sagin_twin.cli import main
from scenarios.build import build, prepare, radio_parameters
from scenarios.config import load_scenario, parse_set
from tests.conftest import ROOT, copy_scenario, edit_file, with_coherence
from twin.prediction import ChannelPredictor, SatelliteTrack, TwinKnowledge

SCENARIO = ROOT / "scenarios" / "constellation-handover.toml"
DURATION_S = 120.0
#: the fast precoder and the interfering non-serving satellites for the logged runs (the solver is not under test here)
RUN_SETTINGS = ("--set", "twin.precoding=mrt", "--set", "constellation.non_serving=interference")


def _rows(run, kind):
    with open(run / "events.jsonl", encoding="utf-8") as lines:
        return [row for row in map(json.loads, lines) if row["kind"] == kind]


@pytest.fixture(scope="module")
def prepared():
    """The constellation scenario prepared for 120 s (the whole shell propagated, the serving satellite chosen)."""
    return prepare(load_scenario(SCENARIO).with_overrides(duration_s=DURATION_S))


@pytest.fixture(scope="module")
def logged_run(tmp_path_factory):
    """The constellation scenario run for 120 s through the command line, other satellites interfering."""
    run = tmp_path_factory.mktemp("constellation") / "a"
    assert main(["run", str(SCENARIO), "--out", str(run), "--duration", f"{DURATION_S:g}", "--quiet", *RUN_SETTINGS]) == 0
    return run


# -- the serving geometry ---------------------------------------------------------------------------------------

def test_serving_geometry_is_the_chosen_satellites_own_geometry_at_every_tick(prepared):
    serving = prepared.constellation
    scenario = prepared.scenario
    walker = scenario.constellation.walker
    shell = Constellation.from_walker(WalkerShell(inclination_deg=walker.inclination_deg, total=walker.total, planes=walker.planes,
                                                  phasing=walker.phasing, altitude_m=walker.altitude_m, epoch_utc=walker.epoch_datetime))
    t_s = np.arange(scenario.run.n_ticks) * scenario.run.tick_s
    whole = shell.geometry(prepared.site, prepared.start, t_s)  # float32, independent of the run's code path
    rule = ServingRule("highest_elevation", math.radians(scenario.satellite.min_elevation_deg), math.radians(scenario.constellation.hysteresis_deg))
    timeline = serving_timeline(whole.elevation_rad, t_s, whole.names, rule)
    assert np.array_equal(serving.serving, timeline.serving)
    assert len(timeline.handovers) >= 1  # the 120 s window has handovers
    geometry = prepared.geometry
    assert geometry.elevation_rad.dtype == np.float64
    for row in np.unique(serving.geometry_row):
        own = shell.subset([int(row)]).geometry(prepared.site, prepared.start, t_s, dtype=np.float64).satellite(0)
        ticks = np.flatnonzero(serving.geometry_row == row)
        for name in ("elevation_rad", "azimuth_rad", "range_m", "sat_sunlit"):
            assert np.array_equal(getattr(geometry, name)[ticks], getattr(own, name)[ticks]), (whole.names[row], name)
    served = serving.serving != NONE
    assert np.array_equal(serving.geometry_row[served], serving.serving[served])
    assert np.all(geometry.elevation_rad[~served] < rule.min_elevation_rad)


# -- the log --------------------------------------------------------------------------------------------------------

def test_a_handover_is_logged_at_exactly_the_tick_the_serving_satellite_changes(logged_run, prepared):
    states = _rows(logged_run, "satellite_state")
    names = [row["serving_satellite"] for row in states]
    assert [row["t_s"] for row in states] == [float(k) for k in range(len(states))]
    expected = [(states[k]["t_s"], names[k - 1], names[k]) for k in range(1, len(states))
                if names[k] != names[k - 1] and names[k - 1] is not None and names[k] is not None]
    handovers = _rows(logged_run, "handover")
    assert expected, "no handover in the window"
    assert [(row["t_s"], row["old_satellite"], row["new_satellite"]) for row in handovers] == expected
    assert [(c.t_s, c.old, c.new) for c in prepared.constellation.changes if c.kind == "handover"] == expected
    by_time = {row["t_s"]: row for row in states}
    for row in handovers:
        assert row["rule"] == "highest_elevation"
        assert row["new_elevation_deg"] == pytest.approx(by_time[row["t_s"]]["elevation_deg"], abs=1e-4)
        assert row["new_elevation_deg"] > row["old_elevation_deg"] + 2.0  # the 2° hysteresis
    acquired = _rows(logged_run, "service_acquired")
    assert [(row["t_s"], row["satellite"]) for row in acquired][:1] == [(0.0, names[0])]
    (loaded,) = _rows(logged_run, "constellation_loaded")
    assert loaded["satellites"] == 1584 and loaded["handovers"] == len(handovers)


def test_the_twin_learns_the_serving_satellite_from_its_reports(logged_run, tmp_path, prepared):
    names = {row["t_s"]: row["serving_satellite"] for row in _rows(logged_run, "satellite_state")}
    reports = [row for row in _rows(logged_run, "report_received") if row["source"] == "edge.satellite"]
    assert reports and all(row["serving_satellite"] == names[row["measured_at_s"]] for row in reports)
    # in the simulation itself: the core twin's latest satellite report names the satellite serving when it was measured
    sim = build(prepared, EventLog.open(tmp_path))
    handover = next(c for c in prepared.constellation.changes if c.kind == "handover")
    for t in (handover.t_s - 1.0, handover.t_s):
        sim.env.run(until=t + 0.5)
        report = sim.core.planners["precoding"].reports["satellite"]
        assert report.measured_at_s == t and report.serving_satellite == prepared.constellation.serving_name(int(t))
    sim.log.close()


def test_same_seed_same_log(logged_run, tmp_path):
    again = tmp_path / "b"
    assert main(["run", str(SCENARIO), "--out", str(again), "--duration", f"{DURATION_S:g}", "--quiet", *RUN_SETTINGS]) == 0
    assert (again / "events.jsonl").read_bytes() == (logged_run / "events.jsonl").read_bytes()
    assert _rows(again, "handover")


def test_the_fading_restarts_exactly_at_the_handovers(prepared, tmp_path):
    sim = build(prepared, EventLog.open(tmp_path))
    restarts = []
    channels = sim.world.channels
    original = channels.restart_satellite_fading
    channels.restart_satellite_fading = lambda: (restarts.append(sim.env.now), original())
    sim.env.run(until=DURATION_S)
    sim.log.close()
    assert restarts == [c.t_s for c in prepared.constellation.changes if c.kind == "handover"]


# -- the fading across a handover ------------------------------------------------------------------------------------

RADIO = replace(with_coherence(paper_radio(4), satellite=60.0, uav=20.0, bs=20.0), sat_min_elevation_rad=math.radians(10))
TOPOLOGY = Topology.paper()
TRACKS = {"su": LinearMotion((250.0, 150.0, 2.0)), "au": LinearMotion((-80.0, 120.0, 60.0)),
          "gu": LinearMotion((80.0, -60.0, 1.5)), "e": LinearMotion((180.0, -150.0, 1.5))}
PLAN = WaypointTrajectory(np.array([[-150.0, -100.0, 100.0], [150.0, -100.0, 100.0]]), 10.0, True)
HANDOVER_S = 50.0


def _track() -> SatelliteTrack:
    """A pass (7 km/s at 600 km) served by SAT-A before :data:`HANDOVER_S` and SAT-B from then on."""
    times = np.arange(0.0, 100.0, 1.0)
    enu = np.stack([-300e3 + 7_000.0 * times, np.full_like(times, 50e3), np.full_like(times, 600e3)], axis=1)
    elevation = np.arctan2(enu[:, 2], np.hypot(enu[:, 0], enu[:, 1]))
    return SatelliteTrack(times, enu, elevation, ["SAT-A" if t < HANDOVER_S else "SAT-B" for t in times])


KNOW = TwinKnowledge(RADIO, TOPOLOGY, _track(), np.zeros(3), {"uav": PLAN}, {"bs": np.array([0.0, 0.0, 25.0])}, 0.1)


def _rng_for(seed):
    return lambda name: np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(zlib.crc32(name.encode()),)))


def _satellite_channels(model: ChannelModel, t_s: float) -> ChannelMatrix:
    return model.step(t_s, KNOW.geometry(t_s, {r: TRACKS[r].position_m(t_s) for r in RECEIVERS}, 0.0))


def _phasors(channels: ChannelMatrix) -> np.ndarray:
    h = np.concatenate([channels["satellite", r] for r in RECEIVERS])
    return h / np.abs(h)


def test_satellite_fading_is_uncorrelated_across_a_handover_and_keeps_its_correlation_otherwise():
    rho = math.exp(-1.0 / RADIO.transmitters["satellite"].coherence_s)
    kept, restarted = [], []
    for seed in range(300):
        for restart, out in ((False, kept), (True, restarted)):
            model = ChannelModel(RADIO, TOPOLOGY, _rng_for(seed))
            before = _phasors(_satellite_channels(model, 40.0))
            if restart:
                model.restart_satellite_fading()
            out.append(np.conj(before) * _phasors(_satellite_channels(model, 41.0)))
    kept, restarted = np.concatenate(kept), np.concatenate(restarted)  # 4,800 element pairs each
    assert abs(np.mean(kept) - rho) < 0.01  # the configured lag correlation within a satellite's service
    assert abs(np.mean(restarted)) < 0.05  # ~0 across a handover (standard error ≈ 0.014)


def _report(channels: ChannelMatrix, t_s: float, satellite: str) -> TransmitterReport:
    return TransmitterReport("satellite", t_s, {u: channels["satellite", u] for u in ("su", "au", "gu")}, {"e": channels["satellite", "e"]},
                             1.0, np.zeros(3), receivers_m={r: TRACKS[r].position_m(t_s) for r in RECEIVERS},
                             receivers_velocity_mps={r: np.zeros(3) for r in RECEIVERS}, serving_satellite=satellite)


def test_the_twins_forecast_carries_no_correlation_across_a_predicted_handover():
    t0 = HANDOVER_S - 1.0
    errors, predicted = [], []
    for seed in range(300):
        model = ChannelModel(RADIO, TOPOLOGY, _rng_for(seed))
        now = _satellite_channels(model, t0)
        report = _report(now, t0, "SAT-A")
        predictor = ChannelPredictor(KNOW)
        big0 = predictor._large_scale_at(report, t0, 0.0)
        within = predictor._predict(report, t0 + 0.5, big0, predictor._large_scale_at(report, t0 + 0.5, 0.0))["su"]  # still SAT-A
        across = predictor._predict(report, HANDOVER_S, big0, predictor._large_scale_at(report, HANDOVER_S, 0.0))["su"]  # SAT-B serves
        assert np.abs(within[0]).sum() > 0 and np.all(across[0] == 0)
        model.restart_satellite_fading()  # what the World does at the handover
        later = _satellite_channels(model, HANDOVER_S)
        errors.append(np.sum(np.abs(later["satellite", "su"] - across[0]) ** 2))
        predicted.append(np.trace(across[1]).real)
    assert np.mean(errors) / np.mean(predicted) == pytest.approx(1.0, abs=0.05)  # calibrated: the covariance is the whole power


def test_the_twin_does_not_learn_a_correlation_across_a_handover():
    model = ChannelModel(RADIO, TOPOLOGY, _rng_for(1))
    predictor = ChannelPredictor(KNOW)
    predictor.observe(_report(_satellite_channels(model, 48.0), 48.0, "SAT-A"), 0.0)
    predictor.observe(_report(_satellite_channels(model, 49.0), 49.0, "SAT-A"), 0.0)
    assert predictor.fading["satellite"].pairs == 1
    model.restart_satellite_fading()
    predictor.observe(_report(_satellite_channels(model, 50.0), 50.0, "SAT-B"), 0.0)
    assert predictor.fading["satellite"].pairs == 1  # the pair across the handover is not a sample of the fading
    predictor.observe(_report(_satellite_channels(model, 51.0), 51.0, "SAT-B"), 0.0)
    assert predictor.fading["satellite"].pairs == 2


def test_the_track_does_not_interpolate_across_a_handover():
    track = _track()
    assert track.serving_at(HANDOVER_S - 0.5) == "SAT-A" and track.serving_at(HANDOVER_S) == "SAT-B"
    position, _ = track.at(HANDOVER_S - 0.5)
    assert np.array_equal(position, track.enu_m[int(HANDOVER_S) - 1])
    position, _ = track.at(HANDOVER_S - 1.5)  # within one satellite's service: interpolated as before
    assert np.allclose(position, (track.enu_m[int(HANDOVER_S) - 2] + track.enu_m[int(HANDOVER_S) - 1]) / 2)


# -- interference of the non-serving satellites ----------------------------------------------------------------------

def test_interference_to_noise_matches_a_hand_computation_for_one_receiver():
    radio = RADIO
    earth_m = 6_371e3
    geocentre = np.array([0.0, 0.0, -earth_m])
    satellite = np.array([120e3, -40e3, 550e3])
    receiver = np.array([250.0, 150.0, 2.0])
    power_w = 10.0
    # by hand: the angle at the satellite between its nadir and the receiver, the ITU pattern, free space, noise
    to_receiver, to_centre = receiver - satellite, geocentre - satellite
    alpha = math.acos(np.dot(to_receiver, to_centre) / (np.linalg.norm(to_receiver) * np.linalg.norm(to_centre)))
    u = 2.07123 * math.sin(alpha) / math.sin(radio.sat_beam_3db_rad)
    beam = radio.sat_max_gain * (special.jv(1, u) / (2 * u) + 36 * special.jv(3, u) / u**3) ** 2
    free_space = (wavelength_m(radio.carrier_freq_hz) / (4 * math.pi * np.linalg.norm(to_receiver))) ** 2
    by_hand = power_w * beam * free_space / radio.noise_w
    ratio = interference_to_noise(radio, power_w, satellite[None, :], geocentre, {"su": receiver}, 0.0)
    assert ratio["su"] == pytest.approx(by_hand, rel=1e-9)
    # a satellite right above the receiver puts it on its boresight: the peak gain
    above = np.array([250.0, 150.0, 550e3])
    geocentre_below = np.array([250.0, 150.0, -earth_m])
    peak = interference_to_noise(radio, power_w, above[None, :], geocentre_below, {"su": receiver}, 3.0)["su"]
    expected = power_w * radio.sat_max_gain * 10 ** -0.3 * (wavelength_m(radio.carrier_freq_hz) / (4 * math.pi * (550e3 - 2.0))) ** 2 / radio.noise_w
    assert peak == pytest.approx(expected, rel=1e-6)
    # the noise-normalised channels of that receiver are divided by sqrt(1 + I/N0), the others untouched
    rng = np.random.default_rng(3)
    channels = ChannelMatrix(TOPOLOGY, rng.standard_normal((3, 4, 4)) + 1j * rng.standard_normal((3, 4, 4)))
    scaled = with_interference(channels, {"su": by_hand, "au": 0.0})
    for tx in TOPOLOGY.transmitters:
        for receiver in TOPOLOGY.receivers:
            factor = math.sqrt(1 + by_hand) if receiver == "su" else 1.0
            assert np.allclose(scaled[tx, receiver], channels[tx, receiver] / factor), (tx, receiver)


def test_the_logged_interference_is_the_largest_over_the_receivers(logged_run):
    # the silent preparation keeps only the serving geometry: prepare the run's interfering variant (the same --set)
    interfering = prepare(load_scenario(SCENARIO, [parse_set("constellation.non_serving=interference")]).with_overrides(duration_s=DURATION_S))
    constellation = interfering.constellation
    states = _rows(logged_run, "satellite_state")
    power_w = 10 ** (interfering.scenario.satellite.power_dbw / 10)
    users = interfering.scenario.users
    motion = {r: LinearMotion(users["eve" if r == "e" else r].position_enu_m, users["eve" if r == "e" else r].velocity_mps) for r in RECEIVERS}
    radio = radio_parameters(interfering.scenario)
    for k in (0, 37, 119):
        ratios = interference_to_noise(radio, power_w, constellation.interferers_m(k), constellation.geocentre_m,
                                       {r: motion[r].position_m(float(k)) for r in RECEIVERS}, states[k]["rain_fade_db"])
        assert states[k]["interference_to_noise_db"] == pytest.approx(10 * math.log10(max(ratios.values())), abs=1e-9)
    worst = max(row["interference_to_noise_db"] for row in states)
    assert worst < 0.0  # the 0.4° beams at nadir: the interference stays below the noise here (measured: README)


def test_the_world_divides_each_receivers_channels_by_its_interference(prepared, tmp_path):
    """Same seed, silent vs interfering satellites: every channel to r differs by exactly sqrt(1 + I_r/N0) (fading draws are shared)."""
    interfering = prepare(load_scenario(SCENARIO, [parse_set("constellation.non_serving=interference")]).with_overrides(duration_s=DURATION_S))
    reports = {}
    for name, case in (("silent", prepared), ("interference", interfering)):
        (tmp_path / name).mkdir()
        sim = build(case, EventLog.open(tmp_path / name))
        sim.env.run(until=3.5)
        reports[name] = dict(sim.core.planners["precoding"].reports)
        sim.log.close()
    k = 3
    s = interfering.scenario
    motion = {r: LinearMotion(s.users["eve" if r == "e" else r].position_enu_m, s.users["eve" if r == "e" else r].velocity_mps) for r in RECEIVERS}
    ratios = interference_to_noise(radio_parameters(s), 10 ** (s.satellite.power_dbw / 10), interfering.constellation.interferers_m(k),
                                   interfering.constellation.geocentre_m, {r: motion[r].position_m(float(k)) for r in RECEIVERS}, 0.0)
    assert all(0 < value < 1e-2 for value in ratios.values())
    for tx in ("satellite", "uav", "bs"):
        silent, scaled = reports["silent"][tx], reports["interference"][tx]
        assert silent.measured_at_s == scaled.measured_at_s == float(k)
        for user in ("su", "au", "gu"):
            assert np.allclose(scaled.channels[user], silent.channels[user] / math.sqrt(1 + ratios[user]), rtol=1e-12, atol=0), (tx, user)


# -- the loader -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("old, new, message", [
    ("planes = 72 ", "planes = 7 ", r"constellation\.walker: planes: 7 planes must divide the 1584 satellites"),
    ("phasing = 1 ", "phasing = 72 ", r"constellation\.walker: phasing: 72 is out of range; allowed \[0, 71\]"),
    ("altitude_m = 550000.0", "altitude_m = 100000.0", r"constellation\.walker\.altitude_m: 100000\.0 m is out of range"),
    ("inclination_deg = 53.0", "inclination_deg = 190.0", r"constellation\.walker\.inclination_deg: 190\.0 deg is out of range"),
    ('rule = "highest_elevation"', 'rule = "closest"', r"constellation\.rule: 'closest' is not allowed"),
    ('non_serving = "silent"', 'non_serving = "loud"', r"constellation\.non_serving: 'loud' is not allowed"),
    ("hysteresis_deg = 2.0", "hysteresis_s = 5.0", r"constellation: hysteresis_s: applies to rule = 'longest_visibility' only"),
    ("hysteresis_deg = 2.0", 'hysteresis_deg = 2.0\ntle = "cat.tle"', r"constellation: give exactly one of tle"),
    ('epoch_utc = "2026-11-16T13:30:00Z"', 'epoch_utc = "2026-11-16 13:30"', r"constellation\.walker: epoch_utc: .* needs a time zone"),
    ('epoch_utc = "2026-11-16T13:30:00Z"', 'epoch_utc = "2026-09-01T00:00:00Z"', r"constellation\.walker\.epoch_utc: the run .* days from the epoch"),
    ("antennas = 4\npower_dbw = 10.0", 'tle = "tle/micius-like.tle"\nantennas = 4\npower_dbw = 10.0', r"satellite\.tle: not used with \[constellation\]"),
    ('\nalign = "start"', '\nalign = "culmination"', r"run\.align: 'culmination' centres the run on one satellite's pass"),
    ("total = 1584 ", "total = 19800 ", r"constellation: the constellation's geometry would hold 19,800 satellites"),
])
def test_bad_constellation_fields_are_refused_naming_the_field(tmp_path, old, new, message):
    path = copy_scenario(tmp_path, SCENARIO)
    edit_file(path, old, new)
    with pytest.raises(InputError, match=message):
        prepare(load_scenario(path))


def test_with_a_constellation_each_qkd_station_keys_with_its_best_satellite(logged_run, prepared):
    """The QKD layer of the constellation scenario: the site's satellite link logs, at every clear pool
    row, the best rate over the shell's usable satellites computed here from the whole shell's geometry."""
    scenario = prepared.scenario
    geometry = prepared.elements.geometry(prepared.site, prepared.start, np.arange(scenario.run.n_ticks) * scenario.run.tick_s,
                                          dtype=np.float64)
    usable = (geometry.elevation_rad >= math.radians(scenario.satellite.min_elevation_deg)) & (geometry.sun_elevation_rad < math.radians(-12))
    rows = [row for row in _rows(logged_run, "key_pool_state") if row["link"] == "SAT-XL"]
    assert rows
    clear = 0
    for row in rows:
        k = int(round(row["t_s"] / scenario.run.tick_s))
        best = max(satellite_key_rate_bps(float(geometry.range_m[s, k]), float(geometry.elevation_rad[s, k])) for s in np.flatnonzero(usable[:, k]))
        if row["qkd_link_rate_bps"] > 0:                                    # 0 only while cloud blocks the link
            clear += 1
            assert row["qkd_link_rate_bps"] == pytest.approx(best, rel=1e-5), row
    assert clear > 0


def test_a_tle_catalogue_larger_than_the_single_tle_cap_runs(tmp_path):
    """A catalogue of the whole shell (≈ 260 KB, four times the single-TLE cap) is read as the catalogue kind."""
    scenario = load_scenario(SCENARIO)
    walker = scenario.constellation.walker
    shell = WalkerShell(inclination_deg=walker.inclination_deg, total=walker.total, planes=walker.planes, phasing=walker.phasing,
                        altitude_m=walker.altitude_m, epoch_utc=walker.epoch_datetime)
    path = copy_scenario(tmp_path, SCENARIO)
    (tmp_path / "shell.tle").write_text(Constellation.from_walker(shell).to_tle_text())
    assert (tmp_path / "shell.tle").stat().st_size > 64 * 1024
    text = path.read_text()
    text = text[:text.index("[constellation.walker]")] + 'tle = "shell.tle"\n' + text[text.index("[uav]"):]
    path.write_text(text.replace('rule = "highest_elevation"', 'rule = "longest_visibility"').replace("hysteresis_deg = 2.0", "hysteresis_s = 30.0"))
    loaded = load_scenario(path).with_overrides(duration_s=30.0)
    assert loaded.constellation_satellites == 1584
    from_file = prepare(loaded)
    assert from_file.constellation.rule == "longest_visibility"
    assert from_file.constellation.serving_name(0) is not None
    name, line1, line2 = (tmp_path / "shell.tle").read_text().splitlines()[:3]
    corrupted = line1[:-1] + str((int(line1[-1]) + 1) % 10)  # a wrong checksum
    (tmp_path / "bad.tle").write_text(f"{name}\n{corrupted}\n{line2}\n")
    path.write_text(path.read_text().replace('tle = "shell.tle"', 'tle = "bad.tle"'))
    with pytest.raises(InputError, match=r"bad\.tle: line 2 \(line 1 of WALKER-00-00\): bad checksum"):
        load_scenario(path)


# -- inspect and report ------------------------------------------------------------------------------------------------

def test_inspect_and_report_show_the_handover_timeline(logged_run, capfd):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from eventlog.plots import REPORT_COLUMNS, plot_geometry
    from eventlog.reader import load_by_kind

    handovers = _rows(logged_run, "handover")
    capfd.readouterr()
    assert main(["inspect", str(logged_run)]) == 0
    out = capfd.readouterr().out
    assert f"{len(handovers)} handovers" in out and "rule highest_elevation" in out and "largest interference-to-noise" in out
    for row in handovers:
        assert f"t = {row['t_s']:g} s  handover  {row['old_satellite']} (" in out and f"→ {row['new_satellite']} (" in out
    summary = json.loads((logged_run / "summary.json").read_text())
    assert summary["constellation"]["handovers"] == len(handovers)
    fig = plot_geometry(load_by_kind(logged_run, REPORT_COLUMNS))
    try:
        ax = fig.axes[0]
        vertical = sorted(float(line.get_xdata()[0]) for line in ax.get_lines() if line.get_label().startswith("handover")
                          or (line.get_linestyle() == "--" and list(line.get_xdata())[0] == list(line.get_xdata())[-1]))
        assert vertical == [row["t_s"] for row in handovers]
        assert "serving satellite's elevation" in [line.get_label() for line in ax.get_lines()]
    finally:
        plt.close(fig)
    assert main(["report", str(logged_run)]) == 0
    assert (logged_run / "report" / "geometry.png").read_bytes()[:4] == b"\x89PNG"
