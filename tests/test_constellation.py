"""Constellations: Walker shells against closed forms, TLE catalogues, vectorised geometry against
skyfield, serving satellite and handover against independently found crossings and set times."""

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import brentq
from sgp4.api import WGS72, Satrec
from skyfield.api import EarthSatellite, wgs84
from skyfield.framelib import itrs

from physical.constellation import Constellation, parse_tle_catalogue, teme_to_itrs
from physical.handover import NONE, ServingRule, serving_timeline, set_times_s
from physical.orbit import GroundSite, LeoOrbit, _ephemeris, _timescale, run_times, tle_checksum
from physical.walker import WalkerShell, circular_satrec
from common.errors import InputError
from scenarios.qkd_build import constellation_rate_series, satellite_rate_series
from tests.conftest import ROOT

EPOCH = datetime(2026, 11, 16, 12, 0, tzinfo=timezone.utc)
SITE = GroundSite("Xinglong", 40.3959, 117.5772, 900.0)
MICIUS = ROOT / "scenarios" / "tle" / "micius-like.tle"
# published WGS72 constants (the model SGP4 is defined with), typed in rather than imported
MU_KM3_S2 = 398_600.8
RADIUS_KM = 6_378.135
J2 = 0.001082616
J3 = -0.00000253881


def periodic_rad(altitude_km: float, inclination_deg: float) -> float:
    """Bound (rad) on how far SGP4's osculating angles of a circular orbit stray from its mean elements.

    SGP4's long-period J3 terms give an e = 0 orbit an effective eccentricity
    e_J3 = |J3|/(2·J2)·(R/a)·sin i (the true argument of latitude then leads or lags the mean one by
    up to 2·e_J3), and its short-period J2 terms move u, Ω and i by less than J2·(R/a)².
    """
    ratio = RADIUS_KM / (RADIUS_KM + altitude_km)
    e_j3 = abs(J3) / (2 * J2) * ratio * math.sin(math.radians(inclination_deg))
    return 2 * e_j3 + J2 * ratio**2


def starlink_like(**kw) -> WalkerShell:
    """The reference shell of the issue: 53°, 550 km, 72 planes × 22 = 1,584 satellites (phasing 1)."""
    return WalkerShell(**{"inclination_deg": 53.0, "total": 1584, "planes": 72, "phasing": 1, "altitude_m": 550e3, "epoch_utc": EPOCH, **kw})


def _wrap_deg(x):
    """Angle difference folded to (-180, 180] (deg)."""
    return (np.asarray(x) + 180.0) % 360.0 - 180.0


def _osculating(satrecs, seconds=0.0):
    """Inclination, RAAN and argument of latitude (deg) of each satellite from its TEME state (r × v), by hand."""
    i_deg, raan_deg, u_deg = [], [], []
    for sat in satrecs:
        err, r, v = sat.sgp4(sat.jdsatepoch, sat.jdsatepochF + seconds / 86_400.0)
        assert err == 0
        r, v = np.array(r), np.array(v)
        h = np.cross(r, v)
        inc = math.acos(h[2] / np.linalg.norm(h))
        node = math.atan2(h[0], -h[1])
        u = math.atan2(r[2] / math.sin(inc), r[0] * math.cos(node) + r[1] * math.sin(node))
        i_deg.append(math.degrees(inc))
        raan_deg.append(math.degrees(node) % 360.0)
        u_deg.append(math.degrees(u) % 360.0)
    return np.array(i_deg), np.array(raan_deg), np.array(u_deg)


# ---------------------------------------------------------------- Walker shells

def test_starlink_like_shell_elements_are_the_closed_forms():
    shell = starlink_like()
    sats, names = shell.satrecs(), shell.names()
    assert len(sats) == len(names) == len(set(names)) == 1584 and shell.per_plane == 22
    a_km = RADIUS_KM + 550.0
    period_s = 2 * math.pi * math.sqrt(a_km**3 / MU_KM3_S2)
    assert period_s == pytest.approx(5738.99, abs=0.01)  # 95.65 min
    assert shell.period_s == pytest.approx(period_s, rel=1e-12)
    n_rad_min = 2 * math.pi / period_s * 60.0
    for index, sat in enumerate(sats):
        plane, slot = divmod(index, 22)
        assert sat.no_kozai == pytest.approx(n_rad_min, rel=1e-12)
        assert sat.ecco == 0.0 and sat.argpo == 0.0 and sat.bstar == 0.0
        assert math.degrees(sat.inclo) == pytest.approx(53.0, abs=1e-12)
        assert math.degrees(sat.nodeo) == pytest.approx(5.0 * plane, abs=1e-9)
        expected_m = (360.0 / 22 * slot + 360.0 / 1584 * plane) % 360.0
        assert _wrap_deg(math.degrees(sat.mo) - expected_m) == pytest.approx(0.0, abs=1e-9)
        assert sat.jdsatepoch + sat.jdsatepochF == pytest.approx(2_461_361.0, abs=1e-9)  # 2026-11-16 12:00 UTC
    assert names[0] == "WALKER-00-00" and names[-1] == "WALKER-71-21"


def test_propagated_shell_keeps_inclination_spacing_and_phasing():
    """At epoch, from SGP4's own position and velocity: the orbit normal's inclination, the planes'
    nodes 5° apart, satellites 360/22° apart in each plane and adjacent planes offset by F·360/T,
    to within SGP4's periodic terms (``periodic_rad``: 0.15° here, twice that for a difference of two
    satellites); the orbit is circular at a to the same order."""
    sats = starlink_like().satrecs()
    inc, raan, u = _osculating(sats)
    one = math.degrees(periodic_rad(550.0, 53.0))
    assert np.abs(inc - 53.0).max() < math.degrees(J2 * (RADIUS_KM / (RADIUS_KM + 550.0)) ** 2)
    raan, u = raan.reshape(72, 22), u.reshape(72, 22)
    assert np.abs(_wrap_deg(raan - 5.0 * np.arange(72)[:, None])).max() < one
    assert np.abs(_wrap_deg(np.diff(u, axis=1) - 360.0 / 22)).max() < 2 * one
    # phasing: slot 0 of plane p+1 leads slot 0 of plane p by 360/1584 = 0.227°. The two sit at almost
    # the same argument of latitude in congruent planes, so their periodic terms cancel to ≈ 1e-4°.
    assert np.abs(_wrap_deg(np.diff(u[:, 0]) - 360.0 / 1584)).max() < 0.01
    radius_km = np.array([np.linalg.norm(s.sgp4(s.jdsatepoch, s.jdsatepochF)[1]) for s in sats])
    assert np.abs(radius_km - (RADIUS_KM + 550.0)).max() < periodic_rad(550.0, 53.0) * (RADIUS_KM + 550.0)


def test_propagated_period_and_mean_radius_are_keplers_to_first_order_in_j2():
    sat = starlink_like().satrecs()[0]
    a_km = RADIUS_KM + 550.0
    period_s = 2 * math.pi * math.sqrt(a_km**3 / MU_KM3_S2)
    t = np.arange(0.0, 3.2 * period_s, 1.0)
    z, radius = [], []
    for dt in t:
        _, r, _ = sat.sgp4(sat.jdsatepoch, sat.jdsatepochF + dt / 86_400.0)
        z.append(r[2])
        radius.append(np.linalg.norm(r))
    z = np.array(z)
    up = np.where((z[:-1] < 0) & (z[1:] >= 0))[0]
    nodes_s = t[up] - z[up] / (z[up + 1] - z[up])
    nodal_periods = np.diff(nodes_s)
    assert len(nodal_periods) >= 2
    # nodal period = Keplerian period × (1 + O(J2·(R/a)²)) (measured: −5.6e-4)
    j2_scale = J2 * (RADIUS_KM / a_km) ** 2
    assert np.abs(nodal_periods / period_s - 1).max() < 1.5 * j2_scale
    one_orbit = t < period_s
    assert np.mean(np.array(radius)[one_orbit]) == pytest.approx(a_km, abs=1.5 * j2_scale * a_km)


@pytest.mark.parametrize("phasing", [0, 1, 2])
def test_phasing_offsets_adjacent_planes_by_f_times_360_over_t(phasing):
    """60°:12/3/F at 700 km: nodes 120° apart, satellites 90° apart in a plane, slot 0 of each plane
    F·30° ahead of the previous plane's (to twice ``periodic_rad``, 0.28°, for a difference)."""
    shell = WalkerShell(60.0, 12, 3, phasing, 700e3, EPOCH)
    _, raan, u = _osculating(shell.satrecs())
    u = u.reshape(3, 4)
    tol = 2 * math.degrees(periodic_rad(700.0, 60.0))
    assert np.abs(_wrap_deg(np.diff(raan.reshape(3, 4)[:, 0]) - 120.0)).max() < tol
    assert np.abs(_wrap_deg(np.diff(u[:, 0]) - phasing * 30.0)).max() < tol
    assert np.abs(_wrap_deg(np.diff(u, axis=1) - 90.0)).max() < tol


@pytest.mark.parametrize("changes, field", [
    ({"total": 1584, "planes": 71}, "planes"),
    ({"phasing": 72}, "phasing"),
    ({"phasing": -1}, "phasing"),
    ({"altitude_m": 100e3}, "altitude_m"),
    ({"altitude_m": 3000e3}, "altitude_m"),
    ({"inclination_deg": 181.0}, "inclination_deg"),
    ({"total": 0}, "total"),
    ({"total": 30.5}, "total"),
    ({"first_catalogue_number": 99_000}, "first_catalogue_number"),
    ({"epoch_utc": datetime(2026, 11, 16)}, "epoch_utc"),
])
def test_bad_walker_parameters_are_refused_naming_the_field(changes, field):
    with pytest.raises(InputError, match=field):
        starlink_like(**changes)


# ---------------------------------------------------------------- TLE catalogues

#: three satellites of a synthetic 53°:6/2/1 shell at 550 km (``Constellation.to_tle_text``), 3-line format
DEMO_LINES = (
    "DEMO-0-0",
    "1 90001U          26320.50000000  .00000000  00000-0  00000+0 0    00",
    "2 90001  53.0000   0.0000 0000000   0.0000   0.0000 15.05491974    05",
    "DEMO-0-1",
    "1 90002U          26320.50000000  .00000000  00000-0  00000+0 0    01",
    "2 90002  53.0000   0.0000 0000000   0.0000 120.0000 15.05491974    09",
    "DEMO-0-2",
    "1 90003U          26320.50000000  .00000000  00000-0  00000+0 0    02",
    "2 90003  53.0000   0.0000 0000000   0.0000 240.0000 15.05491974    03",
)


def test_a_walker_shell_written_as_tle_reads_back(tmp_path):
    shell = WalkerShell(53.0, 6, 2, 1, 550e3, EPOCH, name="DEMO", first_catalogue_number=90001)
    path = tmp_path / "demo.tle"
    path.write_text(Constellation.from_walker(shell).to_tle_text())
    assert path.read_text().splitlines()[:9] == list(DEMO_LINES)
    loaded = Constellation.from_tle(path)
    assert loaded.names == shell.names()
    # TLE rounding (1e-4° angles, 1e-8 day epoch, 1e-8 rev/day) moves a satellite by tens of metres at most
    t = np.arange(0.0, 1800.0, 60.0)
    ours = Constellation.from_walker(shell).geometry(SITE, EPOCH, t, dtype=np.float64)
    theirs = loaded.geometry(SITE, EPOCH, t, dtype=np.float64)
    assert np.abs(ours.enu_m - theirs.enu_m).max() < 50.0


def _sets(n):
    """``n`` (line1, line2) pairs of distinct catalogue numbers, from ``DEMO_LINES``."""
    return [(DEMO_LINES[3 * k + 1], DEMO_LINES[3 * k + 2]) for k in range(n)]


def test_two_line_three_line_and_3le_formats_and_derived_names():
    (a1, a2), (b1, b2), (c1, c2) = _sets(3)
    text = f"\n{a1}\n{a2}\n\nALPHA SAT\n{b1}\n{b2}\n0 GAMMA\n{c1}\n{c2}\n"
    entries = parse_tle_catalogue(text, "mixed.tle")
    assert [e.name for e in entries] == ["SAT-90001", "ALPHA SAT", "GAMMA"]
    assert [e.first_line for e in entries] == [2, 5, 8]
    two_line = Constellation.from_tle_text(f"{a1}\n{a2}\n{b1}\n{b2}\n", "two.tle")
    assert two_line.names == ("SAT-90001", "SAT-90002")


def _with_checksum(body: str) -> str:
    return body + str(tle_checksum(body))


@pytest.mark.parametrize("make, message", [
    (lambda s: f"A\n{s[0][0]}\n{s[0][1]}\nB\n{s[1][0]}\n{s[1][1][:-1]}{(int(s[1][1][-1]) + 1) % 10}\n",
     r"bad\.tle: line 6 \(line 2 of B\): bad checksum"),
    (lambda s: f"A\n{s[0][0]}\n{s[0][1]}\nB\n{s[1][0]}\n{_with_checksum(s[1][1][:52] + '17.00000000' + s[1][1][63:68])}\n",
     r"bad\.tle: satellite B \(line 4\): perigee altitude .* decayed"),
    (lambda s: f"A\n{s[0][0]}\n{s[0][1]}\nA\n{s[1][0]}\n{s[1][1]}\n", r"line 4: satellite name 'A' is used twice \(lines 1 and 4\)"),
    (lambda s: f"A\n{s[0][0]}\n{s[0][1]}\nB\n{s[0][0]}\n{s[0][1]}\n", r"line 4: catalogue number 90001 appears twice"),
    (lambda s: f"A\n{s[0][0]}\n{s[0][1]}\nB\n", r"line 4: the name line 'B' is not followed by line 1"),
    (lambda s: f"A\n{s[0][0]}\n{s[1][0]}\n{s[1][1]}\n", r"line 2: line 1 of an element set is not followed by its line 2"),
    (lambda s: f"{s[0][1]}\n", r"line 1: line 2 of an element set without its line 1"),
    (lambda s: "\n\n", r"no element sets found"),
    (lambda s: f"A\n{s[0][0]}\n{s[0][1]}\nB\n{s[1][0]}\n{s[0][1]}\n", r"lines 5-6 \(B\): catalogue numbers differ"),
    (lambda s: f"A\n{s[0][0]}\n{s[0][1]}\nB\n{s[1][0][:-3]}\n{s[1][1]}\n", r"line 5 \(line 1 of B\): must be 69 characters"),
    (lambda s: f"{s[0][0]}\n{s[0][1]}\n{_with_checksum(s[1][0][:20] + '9' + s[1][0][21:68])}\n{s[1][1]}\n",
     r"line 3 \(line 1 of catalogue number 90002\), columns 21-32 \(epoch day\)"),
])
def test_catalogue_errors_name_the_file_line_satellite_and_field(make, message):
    with pytest.raises(InputError, match=message):
        Constellation.from_tle_text(make(_sets(2)), "bad.tle")


def test_stale_elements_are_refused_naming_the_worst_satellite():
    shell = WalkerShell(53.0, 4, 2, 0, 550e3, EPOCH)
    sats = shell.satrecs()
    sats[2] = circular_satrec(99, EPOCH - timedelta(days=40), 550e3, 0.9, 0.0, 0.0)
    constellation = Constellation(shell.names(), sats, "shell")
    with pytest.raises(InputError, match=r"s\.toml: run\.start_utc: .*satellite WALKER-1-0 of shell"):
        constellation.check_epochs_near(EPOCH, EPOCH + timedelta(hours=1), "s.toml", "run.start_utc")
    Constellation.from_walker(shell).check_epochs_near(EPOCH, EPOCH + timedelta(days=29), "s.toml", "run.start_utc")


def test_failed_propagation_names_the_satellite():
    doomed = Satrec()  # 160 km with an enormous drag term: SGP4 reports decay within hours
    doomed.sgp4init(WGS72, "i", 7, (2_461_361.0 - 2_433_281.5), 0.5, 0.0, 0.0, 0.0, 0.0, 0.9, 0.0,
                    math.sqrt(398_600.8 / (RADIUS_KM + 160.0) ** 3) * 60.0, 0.0)
    constellation = Constellation(["OK", "DOOMED"], [circular_satrec(1, EPOCH, 550e3, 0.9, 0.0, 0.0), doomed], "test")
    with pytest.raises(InputError, match="SGP4 propagation of satellite DOOMED failed"):
        constellation.geometry(SITE, EPOCH, np.arange(0.0, 86_400.0, 600.0))


# ---------------------------------------------------------------- vectorised geometry against skyfield

def test_teme_to_itrs_is_the_gmst1982_rotation_of_vallado():
    """TEME → ITRS (no polar motion) is the rotation about z by −GMST1982(UT1) (Vallado et al. 2006 eq. for θ_GMST)."""
    times = run_times(EPOCH, np.arange(0.0, 86_400.0, 3_600.0))
    rotation = teme_to_itrs(times)
    jd_ut1 = times.ut1
    t_cent = (jd_ut1 - 2_451_545.0) / 36_525.0
    gmst_s = 67_310.54841 + (876_600.0 * 3600.0 + 8_640_184.812866) * t_cent + 0.093104 * t_cent**2 - 6.2e-6 * t_cent**3
    theta = np.radians((gmst_s % 86_400.0) / 240.0)
    c, s = np.cos(theta), np.sin(theta)
    expected = np.zeros_like(rotation)
    expected[:, 0, 0], expected[:, 0, 1], expected[:, 1, 0], expected[:, 1, 1], expected[:, 2, 2] = c, s, -s, c, 1.0
    assert np.abs(rotation - expected).max() < 1e-8  # 1e-8 rad = 7 cm at LEO radius; the limit is the single-float UT1 date here
    assert np.allclose(np.einsum("tij,tkj->tik", rotation, rotation), np.eye(3), atol=1e-13)


def test_one_satellite_equals_leo_orbit_geometry_over_a_day():
    """The vectorised path against the per-satellite skyfield path (``LeoOrbit.geometry``)."""
    start = datetime(2026, 11, 16, 13, 40, tzinfo=timezone.utc)
    t = np.arange(0.0, 86_400.0, 10.0)
    reference = LeoOrbit.from_tle(MICIUS).geometry(SITE, start, t)
    constellation = Constellation.from_tle(MICIUS)
    ours = constellation.geometry(SITE, start, t, dtype=np.float64).satellite(0)
    assert np.abs(ours.elevation_rad - reference.elevation_rad).max() < 1e-9
    assert np.abs(_wrap_deg(np.degrees(ours.azimuth_rad - reference.azimuth_rad))).max() < math.degrees(1e-9)
    assert np.abs(ours.range_m - reference.range_m).max() < 1e-3
    assert np.array_equal(ours.sat_sunlit, reference.sat_sunlit) and ours.sat_sunlit.any() and not ours.sat_sunlit.all()
    assert np.array_equal(ours.sun_elevation_rad, reference.sun_elevation_rad)
    # float32 storage: within half a unit in the last place (ranges < 16,777 km: ≤ 0.5 m; angles ≤ 2.4e-7 rad)
    single = constellation.geometry(SITE, start, t).satellite(0)
    assert np.abs(single.range_m - reference.range_m).max() <= 0.5 + 1e-3
    assert np.abs(single.elevation_rad - reference.elevation_rad).max() < 1e-7
    assert np.abs(_wrap_deg(np.degrees(single.azimuth_rad - reference.azimuth_rad))).max() < math.degrees(3e-7)


def test_shell_satellites_match_skyfield_altaz_enu_and_sunlit():
    """Three satellites of the 1,584 shell, each through skyfield's own EarthSatellite → altaz and is_sunlit."""
    shell = starlink_like()
    rows = [0, 777, 1583]
    constellation = Constellation.from_walker(shell).subset(rows)
    t = np.arange(0.0, 6 * 3600.0, 30.0)
    ours = constellation.geometry(SITE, EPOCH, t, dtype=np.float64)
    ts, eph = _timescale(), _ephemeris()
    times = run_times(EPOCH, t)
    topos = wgs84.latlon(SITE.latitude_deg, SITE.longitude_deg, elevation_m=SITE.altitude_m)
    satrecs = shell.satrecs()
    for k, row in enumerate(rows):
        sat = EarthSatellite.from_satrec(satrecs[row], ts)
        alt, az, distance = (sat - topos).at(times).altaz()
        assert np.abs(ours.elevation_rad[k] - alt.radians).max() < 1e-9
        assert np.abs(_wrap_deg(np.degrees(ours.azimuth_rad[k] - az.radians))).max() < math.degrees(1e-9)
        assert np.abs(ours.range_m[k] - distance.m).max() < 1e-3
        # ENU axes: skyfield's topocentric frame of a geographic position is (north, east, up)
        north, east, up = (sat - topos).at(times).frame_xyz(topos).m
        assert np.abs(ours.enu_m[k] - np.stack([east, north, up], axis=-1)).max() < 1e-3
        assert np.array_equal(ours.sat_sunlit[k], sat.at(times).is_sunlit(eph))
    assert ours.sat_sunlit.any() and not ours.sat_sunlit.all()


def test_enu_frame_is_consistent_with_itrs_positions():
    """|ENU| = slant range, and ENU rotated back to ITRS plus the site is skyfield's ITRS position of the satellite."""
    constellation = Constellation.from_walker(WalkerShell(53.0, 4, 2, 1, 550e3, EPOCH))
    t = np.arange(0.0, 1200.0, 100.0)
    geometry = constellation.geometry(SITE, EPOCH, t, dtype=np.float64)
    assert np.allclose(np.linalg.norm(geometry.enu_m, axis=-1), geometry.range_m, rtol=1e-12)
    sat = EarthSatellite.from_satrec(constellation.satrecs[1], _timescale())
    itrs_m = sat.at(run_times(EPOCH, t)).frame_xyz(itrs).m.T
    site = wgs84.latlon(SITE.latitude_deg, SITE.longitude_deg, elevation_m=SITE.altitude_m)
    lat, lon = math.radians(SITE.latitude_deg), math.radians(SITE.longitude_deg)
    east = np.array([-math.sin(lon), math.cos(lon), 0.0])
    north = np.array([-math.sin(lat) * math.cos(lon), -math.sin(lat) * math.sin(lon), math.cos(lat)])
    up = np.cross(east, north)
    back = geometry.enu_m[1] @ np.stack([east, north, up]) + site.itrs_xyz.m
    assert np.abs(back - itrs_m).max() < 1e-3


def test_chunking_does_not_change_a_single_bit():
    constellation = Constellation.from_walker(starlink_like()).subset(range(0, 1584, 31))
    t = np.arange(0.0, 600.0, 5.0)
    a = constellation.geometry(SITE, EPOCH, t, chunk=7)
    b = constellation.geometry(SITE, EPOCH, t, chunk=1000)
    for name in ("elevation_rad", "azimuth_rad", "range_m", "enu_m", "sat_sunlit", "sun_elevation_rad"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.elevation_rad.shape == (len(constellation), t.size) and a.enu_m.shape == (len(constellation), t.size, 3)
    assert a.elevation_rad.dtype == np.float32 and a.sat_sunlit.dtype == bool and a.sun_elevation_rad.dtype == np.float64


def test_a_dense_shell_always_has_satellites_above_25_degrees_and_hands_over():
    """The Starlink-like shell over the default site for 30 minutes: 53° covers 40° N continuously."""
    t = np.arange(0.0, 1800.0, 10.0)
    geometry = Constellation.from_walker(starlink_like()).geometry(SITE, EPOCH, t)
    visible = geometry.elevation_rad >= math.radians(25.0)
    assert visible.sum(axis=0).min() >= 3
    timeline = serving_timeline(geometry.elevation_rad, t, geometry.names, ServingRule("highest_elevation", math.radians(25.0)))
    assert np.all(timeline.serving != NONE)
    assert len(timeline.handovers) >= 3 and all(h.new_elevation_rad >= h.old_elevation_rad for h in timeline.handovers)
    assert np.array_equal(timeline.serving_elevation_rad, geometry.elevation_rad.max(axis=0).astype(float))


# ---------------------------------------------------------------- serving satellite and handover

MIN_EL = math.radians(10.0)


@pytest.fixture(scope="module")
def two_satellites():
    """Two satellites in one 53° plane, B 8° behind A, over a site 1° east of A's ground track: they
    rise in turn, their elevation curves cross once and B sets last."""
    a = circular_satrec(1, EPOCH, 550e3, math.radians(53.0), 0.0, 0.0)
    b = circular_satrec(2, EPOCH, 550e3, math.radians(53.0), 0.0, math.radians(-8.0))
    ts = _timescale()
    below = wgs84.subpoint_of(EarthSatellite.from_satrec(a, ts).at(ts.from_datetime(EPOCH + timedelta(seconds=600))))
    site = GroundSite("synthetic", below.latitude.degrees, below.longitude.degrees + 1.0, 0.0)
    constellation = Constellation(["A", "B"], [a, b], "two")
    t = np.arange(0.0, 1200.0, 1.0)
    return constellation, site, t, constellation.geometry(site, EPOCH, t, dtype=np.float64)


def _skyfield_elevation(satrec, site, seconds):
    ts = _timescale()
    topos = wgs84.latlon(site.latitude_deg, site.longitude_deg, elevation_m=site.altitude_m)
    return (EarthSatellite.from_satrec(satrec, ts) - topos).at(ts.from_datetime(EPOCH + timedelta(seconds=seconds))).altaz()[0].radians


def _skyfield_events(satrec, site, duration_s):
    """{'rise': [...], 'set': [...]} seconds after EPOCH at which skyfield's find_events crosses MIN_EL."""
    ts = _timescale()
    topos = wgs84.latlon(site.latitude_deg, site.longitude_deg, elevation_m=site.altitude_m)
    t0, t1 = ts.from_datetime(EPOCH), ts.from_datetime(EPOCH + timedelta(seconds=duration_s))
    times, codes = EarthSatellite.from_satrec(satrec, ts).find_events(topos, t0, t1, altitude_degrees=math.degrees(MIN_EL))
    seconds = (times.tt - t0.tt) * 86_400.0
    return {"rise": seconds[codes == 0], "set": seconds[codes == 2]}


def test_highest_elevation_hands_over_at_the_geometric_crossing(two_satellites):
    constellation, site, t, geometry = two_satellites
    a, b = constellation.satrecs
    # independent crossing: root of el_A − el_B on skyfield's per-instant elevations
    coarse = np.arange(400.0, 1000.0, 5.0)
    diff = np.array([_skyfield_elevation(a, site, s) - _skyfield_elevation(b, site, s) for s in coarse])
    sign_changes = np.where(np.diff(np.sign(diff)) != 0)[0]
    assert len(sign_changes) == 1
    k = sign_changes[0]
    crossing_s = brentq(lambda s: _skyfield_elevation(a, site, s) - _skyfield_elevation(b, site, s), coarse[k], coarse[k + 1], xtol=1e-4)
    timeline = serving_timeline(geometry.elevation_rad, t, constellation.names, ServingRule("highest_elevation", MIN_EL))
    (handover,) = timeline.handovers
    assert (handover.old, handover.new) == ("A", "B")
    assert crossing_s <= handover.t_s < crossing_s + 1.0  # the first tick after the crossing
    assert handover.new_elevation_rad >= handover.old_elevation_rad > MIN_EL
    events_a, events_b = _skyfield_events(a, site, 1200.0), _skyfield_events(b, site, 1200.0)
    assert [c.kind for c in timeline.changes] == ["acquired", "handover", "lost"]
    assert events_a["rise"][0] <= timeline.changes[0].t_s < events_a["rise"][0] + 1.0
    assert events_b["set"][0] <= timeline.changes[-1].t_s < events_b["set"][0] + 1.0


def test_a_stations_constellation_key_rate_is_the_best_of_the_single_satellite_links(two_satellites):
    """QKD with a constellation (scenarios.qkd_build): the per-tick rate equals the larger of the two
    satellites' own rate series, each computed on skyfield's per-satellite geometry (``LeoOrbit``)."""
    constellation, site, t, geometry = two_satellites
    ts = _timescale()
    singles = [satellite_rate_series(LeoOrbit(EarthSatellite.from_satrec(satrec, ts)).geometry(site, EPOCH, t), 1.0, MIN_EL).rates_bps
               for satrec in constellation.satrecs]
    best = constellation_rate_series(geometry, 1.0, MIN_EL).rates_bps
    assert np.all(geometry.sun_elevation_rad < math.radians(-12.0))          # a dark site: only the elevation decides
    both = (singles[0] > 0) & (singles[1] > 0)
    assert both.sum() > 60 and (singles[0] > singles[1]).any() and (singles[1] > singles[0]).any()  # overlap, and each is best somewhere
    np.testing.assert_allclose(best, np.maximum(*singles), rtol=1e-6, atol=0)
    assert np.all((best > 0) == ((singles[0] > 0) | (singles[1] > 0)))


def test_longest_visibility_serves_the_satellite_that_sets_last(two_satellites):
    constellation, site, t, geometry = two_satellites
    a, b = constellation.satrecs
    events_a, events_b = _skyfield_events(a, site, 1200.0), _skyfield_events(b, site, 1200.0)
    (rise_a,), (set_a,) = events_a["rise"], events_a["set"]
    (rise_b,), (set_b,) = events_b["rise"], events_b["set"]
    assert rise_a < rise_b < set_a < set_b
    timeline = serving_timeline(geometry.elevation_rad, t, constellation.names, ServingRule("longest_visibility", MIN_EL))
    for k, s in enumerate(t):
        if min(abs(s - e) for e in (rise_a, set_a, rise_b, set_b)) < 1.0:
            continue  # tick sampling and skyfield's event search may disagree within a tick of an event
        candidates = [(end, name) for name, start, end in (("A", rise_a, set_a), ("B", rise_b, set_b)) if start <= s <= end]
        assert timeline.serving_name(k) == (max(candidates)[1] if candidates else None), s
    (handover,) = timeline.handovers
    assert rise_b <= handover.t_s < rise_b + 1.0  # B takes over as soon as it is up: it sets later than A
    # the interpolated set times are skyfield's to a fraction of a tick
    sets = set_times_s(geometry.elevation_rad, t, MIN_EL)
    assert sets[0, int(rise_a) + 1] == pytest.approx(set_a, abs=0.05)
    assert sets[1, int(rise_b) + 1] == pytest.approx(set_b, abs=0.05)
    # infinite hysteresis: stay on A until it sets, then B
    sticky = serving_timeline(geometry.elevation_rad, t, constellation.names, ServingRule("longest_visibility", MIN_EL, hysteresis_s=math.inf))
    (handover,) = sticky.handovers
    assert set_a <= handover.t_s < set_a + 1.0


def test_one_visible_satellite_means_no_handover(two_satellites):
    constellation, site, t, geometry = two_satellites
    events = _skyfield_events(constellation.satrecs[0], site, 1200.0)
    for rule in ("highest_elevation", "longest_visibility"):
        timeline = serving_timeline(geometry.elevation_rad[:1], t, ["A"], ServingRule(rule, MIN_EL))
        assert timeline.handovers == ()
        assert [(c.kind, c.old, c.new) for c in timeline.changes] == [("acquired", None, "A"), ("lost", "A", None)]
        assert events["rise"][0] <= timeline.changes[0].t_s < events["rise"][0] + 1.0
        assert events["set"][0] <= timeline.changes[1].t_s < events["set"][0] + 1.0
        served = timeline.serving == 0
        assert np.array_equal(served, geometry.elevation_rad[0] >= MIN_EL)
        assert np.all(np.isnan(timeline.serving_elevation_rad[~served]))


def test_set_times_of_linear_ramps_are_exact():
    t = np.arange(0.0, 10.0)
    elevation = np.array([
        0.55 - 0.1 * t,         # crosses 0.2 at t = 3.5
        0.1 * t - 0.05,         # rises: visible from t = 3, censored at the end
        np.full(10, 0.1),       # never visible
    ])
    sets = set_times_s(elevation, t, 0.2)
    assert sets[0, :4] == pytest.approx([3.5] * 4) and np.all(np.isnan(sets[0, 4:]))
    assert np.all(np.isnan(sets[1, :3])) and np.all(sets[1, 3:] == 9.0)
    assert np.all(np.isnan(sets[2]))


@pytest.mark.parametrize("kwargs, field", [
    ({"rule": "nearest"}, "rule"),
    ({"min_elevation_rad": -0.1}, "min_elevation_rad"),
    ({"min_elevation_rad": math.pi / 2}, "min_elevation_rad"),
    ({"hysteresis_rad": -1e-3}, "hysteresis_rad"),
    ({"hysteresis_rad": math.nan}, "hysteresis_rad"),
    ({"hysteresis_s": 5.0}, "hysteresis_s"),
])
def test_bad_serving_rules_are_refused(kwargs, field):
    with pytest.raises(InputError, match=field):
        ServingRule(**{"rule": "highest_elevation", "min_elevation_rad": 0.1, **kwargs})


_elevations = arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(2, 40)),
                     elements=st.floats(-0.5, 1.5, allow_nan=False).map(lambda x: round(x, 2)))


@settings(max_examples=300, deadline=None)
@given(elevation=_elevations, rule=st.sampled_from(["highest_elevation", "longest_visibility"]),
       margin=st.sampled_from([0.0, 0.05, 0.3, math.inf]))
def test_serving_invariants(elevation, rule, margin):
    n_sat, n_t = elevation.shape
    t = np.arange(n_t) * 2.0
    names = [f"S{i}" for i in range(n_sat)]
    serving_rule = ServingRule(rule, 0.2, **({"hysteresis_rad": margin} if rule == "highest_elevation" else {"hysteresis_s": margin * 10}))
    timeline = serving_timeline(elevation, t, names, serving_rule)
    visible = elevation >= 0.2
    metric = elevation if rule == "highest_elevation" else set_times_s(elevation, t, 0.2)
    for k in range(n_t):
        s = timeline.serving[k]
        assert (s == NONE) == (not visible[:, k].any())
        if s == NONE:
            continue
        assert visible[s, k]
        best = np.max(np.where(visible[:, k], metric[:, k], -np.inf))
        if margin == 0.0:
            assert metric[s, k] == best  # the rule's choice (ties: whichever already served, else the first)
        assert metric[s, k] + serving_rule.hysteresis >= best
    # the changes are exactly the ticks where the serving row changes
    rows = np.concatenate([[NONE], timeline.serving])
    changed = np.nonzero(rows[1:] != rows[:-1])[0]
    assert [c.tick for c in timeline.changes] == list(changed)
    for change in timeline.changes:
        k = change.tick
        assert change.new == timeline.serving_name(k) and change.old == (timeline.serving_name(k - 1) if k else None)
        if margin == math.inf and change.old is not None:
            assert not visible[names.index(change.old), k]  # infinite hysteresis: leave only a satellite that is gone
