"""LEO satellite orbit from a TLE (skyfield/SGP4) and the site geometry for a whole run.

Geometry is computed once for every tick of the run in one vectorised skyfield call, then indexed
per tick (shared/DESIGN.md section 3). Everything is offline: the builtin timescale and the
``de421.bsp`` ephemeris shipped by ``skyfield-data``; nothing is ever downloaded.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Final

import numpy as np
from skyfield.api import EarthSatellite, Loader, load, wgs84

from physical.units import EARTH_RADIUS_M
from sagin_twin.errors import InputError

TLE_LINE_LENGTH: Final = 69  #: characters in a TLE data line, checksum included
EARTH_MU_M3_S2: Final = 3.986004418e14  #: Earth's gravitational parameter GM (m³/s²)
MIN_PERIGEE_ALTITUDE_M: Final = 150e3  #: below this the orbit decays within days: refused
MAX_LEO_APOGEE_ALTITUDE_M: Final = 2_000e3  #: the simulator models LEO only


def tle_checksum(line: str) -> int:
    """TLE modulo-10 checksum of the first 68 characters: digits count their value, '-' counts 1."""
    total = 0
    for char in line[:68]:
        if char.isdigit():
            total += int(char)
        elif char == "-":
            total += 1
    return total % 10


def parse_tle_text(text: str, source: str) -> tuple[str, str, str]:
    """Split TLE text into (name, line1, line2), verifying layout and both checksums.

    Accepts two-line or three-line (with a name line) element sets. Raises :class:`InputError`
    naming ``source`` and the offending line.
    """
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    if len(lines) == 2:
        name, line1, line2 = "satellite", lines[0], lines[1]
    elif len(lines) == 3:
        name, line1, line2 = lines[0].strip(), lines[1], lines[2]
    else:
        raise InputError(f"expected 2 or 3 non-empty lines (optional name, line 1, line 2), found {len(lines)}", source=source)
    for number, line in (("1", line1), ("2", line2)):
        field = f"line {number}"
        if len(line) != TLE_LINE_LENGTH:
            raise InputError(f"must be {TLE_LINE_LENGTH} characters, found {len(line)}", source=source, field=field)
        if line[0] != number or line[1] != " ":
            raise InputError(f"must start with '{number} '", source=source, field=field)
        if not line[68].isdigit():
            raise InputError(f"checksum character must be a digit, found {line[68]!r}", source=source, field=field)
        expected = tle_checksum(line)
        if int(line[68]) != expected:
            raise InputError(f"bad checksum: found {line[68]}, computed {expected} (the element set is corrupted)", source=source, field=field)
    if line1[2:7] != line2[2:7]:
        raise InputError(f"catalogue numbers differ between lines ({line1[2:7]!r} vs {line2[2:7]!r})", source=source)
    return name, line1, line2


@lru_cache(maxsize=1)
def _ephemeris():
    """The JPL DE421 ephemeris shipped by skyfield-data (never downloaded)."""
    with warnings.catch_warnings():
        # skyfield-data warns that its bundled Earth-orientation file is old; the builtin
        # timescale does not use that file, and DE421 itself does not expire.
        warnings.simplefilter("ignore", RuntimeWarning)
        from skyfield_data import get_skyfield_data_path

        return Loader(get_skyfield_data_path(), expire=False, verbose=False)("de421.bsp")


@lru_cache(maxsize=1)
def _timescale():
    """skyfield's builtin timescale (leap seconds and ΔT shipped with skyfield, no download)."""
    return load.timescale(builtin=True)


@dataclass(frozen=True)
class GroundSite:
    """A ground site (WGS84). Args: latitude_deg, longitude_deg (degrees), altitude_m (m above ellipsoid)."""

    name: str
    latitude_deg: float
    longitude_deg: float
    altitude_m: float


@dataclass(frozen=True)
class PassEvent:
    """A rise, culmination or set of the satellite over the site, at ``t_s`` seconds after the run start."""

    t_s: float
    event: str  # "rise" | "culminate" | "set"
    elevation_rad: float


@dataclass(frozen=True)
class SiteGeometry:
    """Satellite geometry seen from the site at each tick (arrays of length n_ticks).

    Args:
        t_s: tick times after the run start (s).
        elevation_rad, azimuth_rad: topocentric direction of the satellite (rad; azimuth from north, east positive).
        range_m: slant range site→satellite (m).
        sat_sunlit: whether the satellite is in sunlight.
        sun_elevation_rad: the Sun's apparent elevation at the site (rad); negative at night.
    """

    t_s: np.ndarray
    elevation_rad: np.ndarray
    azimuth_rad: np.ndarray
    range_m: np.ndarray
    sat_sunlit: np.ndarray
    sun_elevation_rad: np.ndarray

    def satellite_enu_m(self, index: int) -> np.ndarray:
        """Satellite position in the site's local east-north-up frame at tick ``index`` (m)."""
        el, az, rng = self.elevation_rad[index], self.azimuth_rad[index], self.range_m[index]
        return rng * np.array([math.cos(el) * math.sin(az), math.cos(el) * math.cos(az), math.sin(el)])


class LeoOrbit:
    """A LEO satellite propagated with SGP4 through skyfield.

    Args:
        satellite: a skyfield ``EarthSatellite``.
        source: where the elements came from (for messages).
    """

    def __init__(self, satellite: EarthSatellite, source: str = "<memory>") -> None:
        self.satellite = satellite
        self.source = source
        self._check_leo()

    @classmethod
    def from_tle(cls, path: Path) -> "LeoOrbit":
        """Load a TLE file, verifying its checksums (sgp4 does not) and that the orbit is a sane LEO."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError("TLE file not found", source=str(path)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read TLE file: {exc}", source=str(path)) from None
        return cls.from_lines(*parse_tle_text(text, str(path)), source=str(path))

    @classmethod
    def from_lines(cls, name: str, line1: str, line2: str, source: str = "<memory>") -> "LeoOrbit":
        """Build from already verified TLE lines."""
        try:
            satellite = EarthSatellite(line1, line2, name, _timescale())
        except ValueError as exc:
            raise InputError(f"TLE not understood by sgp4: {exc}", source=source) from None
        return cls(satellite, source)

    @property
    def name(self) -> str:
        return self.satellite.name

    @property
    def epoch_utc(self) -> datetime:
        """Epoch of the element set (UTC)."""
        return self.satellite.epoch.utc_datetime()

    def perigee_apogee_altitude_m(self) -> tuple[float, float]:
        """(perigee, apogee) altitudes above a spherical Earth from the mean elements (m)."""
        model = self.satellite.model
        mean_motion_rad_s = model.no_kozai / 60.0
        semi_major_m = (EARTH_MU_M3_S2 / mean_motion_rad_s**2) ** (1.0 / 3.0)
        return semi_major_m * (1 - model.ecco) - EARTH_RADIUS_M, semi_major_m * (1 + model.ecco) - EARTH_RADIUS_M

    def _check_leo(self) -> None:
        perigee_m, apogee_m = self.perigee_apogee_altitude_m()
        if perigee_m < MIN_PERIGEE_ALTITUDE_M:
            raise InputError(
                f"perigee altitude {perigee_m / 1e3:.0f} km is below {MIN_PERIGEE_ALTITUDE_M / 1e3:.0f} km: decayed or re-entering orbit",
                source=self.source,
            )
        if apogee_m > MAX_LEO_APOGEE_ALTITUDE_M:
            raise InputError(
                f"apogee altitude {apogee_m / 1e3:.0f} km is above {MAX_LEO_APOGEE_ALTITUDE_M / 1e3:.0f} km: only LEO satellites are modelled",
                source=self.source,
            )

    def _times(self, start_utc: datetime, offsets_s: np.ndarray):
        start_utc = start_utc.astimezone(timezone.utc)
        second = start_utc.second + start_utc.microsecond * 1e-6
        return _timescale().utc(start_utc.year, start_utc.month, start_utc.day, start_utc.hour, start_utc.minute, second + offsets_s)

    def geometry(self, site: GroundSite, start_utc: datetime, t_s: np.ndarray) -> SiteGeometry:
        """Vectorised geometry at times ``start_utc + t_s`` (one skyfield call per quantity)."""
        t_s = np.asarray(t_s, dtype=float)
        times = self._times(start_utc, t_s)
        topos = wgs84.latlon(site.latitude_deg, site.longitude_deg, elevation_m=site.altitude_m)
        elevation, azimuth, distance = (self.satellite - topos).at(times).altaz()
        range_m = np.asarray(distance.m, dtype=float)
        if not np.all(np.isfinite(range_m)):
            bad = float(t_s[~np.isfinite(range_m)][0])
            raise InputError(f"SGP4 propagation failed {bad:.0f} s into the run (orbit decayed or elements too old)", source=self.source)
        eph = _ephemeris()
        sunlit = np.asarray(self.satellite.at(times).is_sunlit(eph), dtype=bool)
        sun_alt, _, _ = (eph["earth"] + topos).at(times).observe(eph["sun"]).apparent().altaz()
        return SiteGeometry(
            t_s=t_s,
            elevation_rad=np.asarray(elevation.radians, dtype=float),
            azimuth_rad=np.asarray(azimuth.radians, dtype=float),
            range_m=range_m,
            sat_sunlit=sunlit,
            sun_elevation_rad=np.asarray(sun_alt.radians, dtype=float),
        )

    def passes(self, site: GroundSite, start_utc: datetime, duration_s: float, min_elevation_deg: float) -> list[PassEvent]:
        """Rise/culmination/set events in [start, start + duration] (skyfield ``find_events``)."""
        topos = wgs84.latlon(site.latitude_deg, site.longitude_deg, elevation_m=site.altitude_m)
        t0, t1 = self._times(start_utc, np.array([0.0, duration_s]))
        times, codes = self.satellite.find_events(topos, t0, t1, altitude_degrees=min_elevation_deg)
        if len(codes) == 0:
            return []
        offsets_s = (times.tt - t0.tt) * 86_400.0
        elevations = (self.satellite - topos).at(times).altaz()[0].radians
        names = ("rise", "culminate", "set")
        return [PassEvent(float(s), names[int(c)], float(e)) for s, c, e in zip(offsets_s, codes, elevations)]

    def first_culmination(self, site: GroundSite, search_start_utc: datetime, search_s: float, min_peak_elevation_deg: float) -> datetime | None:
        """UTC time of the first culmination after ``search_start_utc`` peaking above the given elevation (None if none)."""
        for event in self.passes(site, search_start_utc, search_s, min_elevation_deg=0.0):
            if event.event == "culminate" and math.degrees(event.elevation_rad) >= min_peak_elevation_deg:
                return search_start_utc + timedelta(seconds=event.t_s)
        return None
