"""TLE validation and skyfield geometry against hand-computed cases."""

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from skyfield.api import wgs84

from physical.orbit import GroundSite, LeoOrbit, parse_tle_text, tle_checksum
from common.errors import InputError
from tests.conftest import ROOT

TLE = ROOT / "scenarios" / "tle" / "micius-like.tle"
# A published ISS element set (skyfield documentation) with its printed checksums 2 and 3.
ISS_1 = "1 25544U 98067A   14020.93268519  .00009878  00000-0  18200-3 0  5082"
ISS_2 = "2 25544  51.6498 109.4756 0003572  55.9686 274.8005 15.49815350868473"
START = datetime(2026, 11, 16, 12, 0, tzinfo=timezone.utc)


def _with_checksum(body: str) -> str:
    return body + str(tle_checksum(body))


def test_checksum_of_a_published_tle():
    assert tle_checksum(ISS_1) == int(ISS_1[-1]) == 2
    assert tle_checksum(ISS_2) == int(ISS_2[-1]) == 3


def test_bad_checksum_is_rejected_naming_the_line(tmp_path):
    bad = ISS_2[:-1] + str((int(ISS_2[-1]) + 1) % 10)
    path = tmp_path / "iss.tle"
    path.write_text(f"ISS\n{ISS_1}\n{bad}\n")
    with pytest.raises(InputError, match=r"iss\.tle: line 2: bad checksum"):
        LeoOrbit.from_tle(path)


def test_corrupted_digit_is_caught_by_checksum():
    corrupted = ISS_1[:20] + ("9" if ISS_1[20] != "9" else "8") + ISS_1[21:]
    with pytest.raises(InputError, match="line 1: bad checksum"):
        parse_tle_text(f"{corrupted}\n{ISS_2}", "x.tle")


@pytest.mark.parametrize("text, message", [
    ("only one line", "expected 2 or 3"),
    (f"{ISS_1[:-3]}\n{ISS_2}", "69 characters"),
    (f"{ISS_2}\n{ISS_1}", "must start with '1 '"),
])
def test_malformed_tle_layouts(text, message):
    with pytest.raises(InputError, match=message):
        parse_tle_text(text, "x.tle")


def test_missing_tle_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        LeoOrbit.from_tle(tmp_path / "absent.tle")


@pytest.mark.parametrize("mean_motion, message", [("17.50000000", "decayed"), ("02.00000000", "only LEO")])
def test_absurd_orbits_are_rejected(mean_motion, message):
    line2 = _with_checksum(f"2 41731  97.3650  30.4500 0012000  95.2000 265.0500 {mean_motion}05360")
    line1 = open(TLE).read().splitlines()[1]
    with pytest.raises(InputError, match=message):
        LeoOrbit.from_lines("X", line1, line2)


def test_micius_like_orbit_is_about_500_km():
    perigee, apogee = LeoOrbit.from_tle(TLE).perigee_apogee_altitude_m()
    assert 450e3 < perigee < apogee < 550e3


def test_overhead_site_sees_the_satellite_at_zenith_at_its_height():
    """A site at the sub-satellite point: elevation ≈ 90° and slant range ≈ the satellite's height."""
    orbit = LeoOrbit.from_tle(TLE)
    from physical.orbit import _timescale

    t = _timescale().from_datetime(START)
    sub = wgs84.subpoint_of(orbit.satellite.at(t))
    height_m = wgs84.height_of(orbit.satellite.at(t)).m
    site = GroundSite("nadir", sub.latitude.degrees, sub.longitude.degrees, 0.0)
    geo = orbit.geometry(site, START, np.array([0.0]))
    assert math.degrees(geo.elevation_rad[0]) == pytest.approx(90.0, abs=0.05)
    assert geo.range_m[0] == pytest.approx(height_m, rel=1e-5)


def test_slant_range_and_elevation_follow_the_law_of_cosines_across_a_pass():
    """ρ² = R² + r² − 2Rr·cos γ (γ: geocentric angle between site and satellite), and the
    elevation against the geocentric vertical agrees with the geodetic one to the vertical deflection."""
    orbit = LeoOrbit.from_tle(TLE)
    site = GroundSite("Xinglong", 40.3959, 117.5772, 900.0)
    culmination = orbit.first_culmination(site, START, 86_400.0, 40.0)
    start = culmination - timedelta(seconds=200)
    offsets = np.arange(0.0, 400.0, 20.0)
    geo = orbit.geometry(site, start, offsets)
    from physical.orbit import _timescale

    ts = _timescale()
    topos = wgs84.latlon(site.latitude_deg, site.longitude_deg, elevation_m=site.altitude_m)
    for k, dt in enumerate(offsets):
        t = ts.from_datetime(start + timedelta(seconds=float(dt)))
        sat = orbit.satellite.at(t).position.m
        here = topos.at(t).position.m
        r_sat, r_site = np.linalg.norm(sat), np.linalg.norm(here)
        cos_gamma = np.dot(sat, here) / (r_sat * r_site)
        expected = math.sqrt(r_site**2 + r_sat**2 - 2 * r_site * r_sat * cos_gamma)
        assert geo.range_m[k] == pytest.approx(expected, rel=1e-6)
        sin_el = np.dot(sat - here, here / r_site) / expected
        # geodetic and geocentric verticals differ by ≈ 0.19° at 40° latitude
        assert math.degrees(geo.elevation_rad[k]) == pytest.approx(math.degrees(math.asin(sin_el)), abs=0.25)


def test_passes_are_ordered_and_the_culmination_is_highest():
    orbit = LeoOrbit.from_tle(TLE)
    site = GroundSite("Xinglong", 40.3959, 117.5772, 900.0)
    events = orbit.passes(site, START, 86_400.0, 10.0)
    names = [e.event for e in events]
    assert names[:3] == ["rise", "culminate", "set"]
    assert all(a.t_s < b.t_s for a, b in zip(events, events[1:]))
    rise, top, set_ = events[:3]
    assert top.elevation_rad > rise.elevation_rad and top.elevation_rad > set_.elevation_rad
    assert math.degrees(rise.elevation_rad) == pytest.approx(10.0, abs=0.05)


def test_sun_is_down_at_the_default_night_pass():
    orbit = LeoOrbit.from_tle(TLE)
    site = GroundSite("Xinglong", 40.3959, 117.5772, 900.0)
    culmination = orbit.first_culmination(site, START, 86_400.0, 40.0)
    geo = orbit.geometry(site, culmination, np.array([0.0]))
    # 13:45 UTC is 21:45 local time in mid-November at 117.6° E: well after sunset
    assert math.degrees(geo.sun_elevation_rad[0]) < -18.0


def test_geometry_in_chunks_is_the_geometry_in_one_call(monkeypatch):
    """Long runs compute the geometry in chunks of times (memory flat in the run length); every
    quantity is computed per time, so the chunks must give exactly the floats of one call."""
    import physical.orbit as orbit_module

    orbit = LeoOrbit.from_tle(TLE)
    site = GroundSite("Xinglong", 40.3959, 117.5772, 900.0)
    offsets = np.arange(0.0, 6 * 3600.0, 10.0)
    whole = orbit.geometry(site, START, offsets)
    monkeypatch.setattr(orbit_module, "GEOMETRY_CHUNK", 250)  # 2160 times in 9 chunks, the last one short
    chunked = orbit.geometry(site, START, offsets)
    for name in ("t_s", "elevation_rad", "azimuth_rad", "range_m", "sat_sunlit", "sun_elevation_rad"):
        np.testing.assert_array_equal(getattr(chunked, name), getattr(whole, name))
    assert chunked.elevation_rad.max() > 0 > chunked.elevation_rad.min()  # a pass and the rest of the orbit
