"""LEO satellite orbit from a TLE (skyfield/SGP4) and the site geometry for a whole run.

Geometry is computed once for every tick of the run in one vectorised skyfield call, then indexed
per tick (shared/DESIGN.md section 3). Everything is offline: the builtin timescale and the
``de421.bsp`` ephemeris shipped by ``skyfield-data``; nothing is ever downloaded.
"""

from __future__ import annotations

import calendar
import math
import re
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Final

import numpy as np
from skyfield.api import EarthSatellite, Loader, load, wgs84

from physical.units import EARTH_RADIUS_M
from common.errors import InputError
from common.input_files import read_text

TLE_LINE_LENGTH: Final = 69  #: characters in a TLE data line, checksum included
EARTH_MU_M3_S2: Final = 3.986004418e14  #: Earth's gravitational parameter GM (m³/s²)
MIN_PERIGEE_ALTITUDE_M: Final = 150e3  #: below this the orbit decays within days: refused
MAX_LEO_APOGEE_ALTITUDE_M: Final = 2_000e3  #: the simulator models LEO only
MAX_TLE_AGE_DAYS: Final = 30.0  #: SGP4 elements are used at most this far (days) from their epoch, before or after
EPHEMERIS_MARGIN_S: Final = 86_400.0  #: runs must stay this far (s) inside the shipped ephemeris's span
GEOMETRY_CHUNK: Final = 4096  #: times per skyfield call of :meth:`LeoOrbit.geometry` (its nutation series is ~700 terms × times)

_DECIMAL: Final = r" *[0-9]+\.[0-9]+"  # right-justified decimal number
_ASSUMED_POINT: Final = r"[ +-][0-9]{5}[ +-][0-9]"  # ±ddddd±e: 0.ddddd × 10^±e
_SATNUM: Final = r"[ 0-9]{4}[0-9]|[A-Z][0-9]{4}"  # digits, or Alpha-5 (a letter for the first digit)

#: (field, first column, last column (1-based, inclusive), regular expression, what the text must look like)
TLE_LINE1_FIELDS: Final = (
    ("line number", 1, 1, r"1", "1"),
    ("satellite number", 3, 7, _SATNUM, "5 digits"),
    ("classification", 8, 8, r"[UCS ]", "U, C or S"),
    ("international designator", 10, 17, r"[0-9A-Z ]{8}", "digits, capital letters or spaces"),
    ("epoch year", 19, 20, r"[0-9]{2}", "2 digits"),
    ("epoch day", 21, 32, _DECIMAL, "ddd.dddddddd"),
    ("first derivative of mean motion", 34, 43, r"[ +-]\.[0-9]{8}", "±.dddddddd"),
    ("second derivative of mean motion", 45, 52, _ASSUMED_POINT, "±ddddd±d"),
    ("BSTAR drag term", 54, 61, _ASSUMED_POINT, "±ddddd±d"),
    ("ephemeris type", 63, 63, r"[0-9 ]", "a digit"),
    ("element set number", 65, 68, r" *[0-9]*", "up to 4 digits"),
    ("checksum", 69, 69, r"[0-9]", "a digit"),
)
TLE_LINE2_FIELDS: Final = (
    ("line number", 1, 1, r"2", "2"),
    ("satellite number", 3, 7, _SATNUM, "5 digits"),
    ("inclination", 9, 16, _DECIMAL, "ddd.dddd (deg)"),
    ("right ascension of the ascending node", 18, 25, _DECIMAL, "ddd.dddd (deg)"),
    ("eccentricity", 27, 33, r"[0-9]{7}", "7 digits (decimal point assumed)"),
    ("argument of perigee", 35, 42, _DECIMAL, "ddd.dddd (deg)"),
    ("mean anomaly", 44, 51, _DECIMAL, "ddd.dddd (deg)"),
    ("mean motion", 53, 63, _DECIMAL, "dd.dddddddd (rev/day)"),
    ("revolution number", 64, 68, r" *[0-9]+", "up to 5 digits"),
    ("checksum", 69, 69, r"[0-9]", "a digit"),
)
#: columns (1-based) that hold a space between fields
TLE_SPACES: Final = {"1": (2, 9, 18, 33, 44, 53, 62, 64), "2": (2, 8, 17, 26, 34, 43, 52)}
#: allowed ranges of line-2 angles and of the mean motion: (low, high, high inclusive, unit)
TLE_RANGES: Final = {
    "inclination": (0.0, 180.0, True, "deg"),
    "right ascension of the ascending node": (0.0, 360.0, False, "deg"),
    "argument of perigee": (0.0, 360.0, False, "deg"),
    "mean anomaly": (0.0, 360.0, False, "deg"),
}


def tle_checksum(line: str) -> int:
    """TLE modulo-10 checksum of the first 68 characters: ASCII digits count their value, '-' counts 1."""
    total = 0
    for char in line[:68]:
        if "0" <= char <= "9":
            total += ord(char) - ord("0")
        elif char == "-":
            total += 1
    return total % 10


def _columns(first: int, last: int) -> str:
    return f"column {first}" if first == last else f"columns {first}-{last}"


def _check_tle_line(line: str, number: str, source: str, where: str | None = None) -> dict[str, str]:
    """Validate one data line field by field (characters, length, spaces, each field, checksum); returns field → text.

    ``where`` names the line in messages (default ``line 1`` / ``line 2``; a file of many element
    sets passes the file's line number and the satellite).
    """
    where = where or f"line {number}"
    for column, char in enumerate(line, start=1):
        if not " " <= char <= "~":
            raise InputError(f"character {char!r} (U+{ord(char):04X}) is not allowed: a TLE line is printable ASCII with spaces between fields",
                             source=source, field=f"{where}, column {column}")
    if len(line) != TLE_LINE_LENGTH:
        raise InputError(f"must be {TLE_LINE_LENGTH} characters, found {len(line)}", source=source, field=where)
    if line[:2] != f"{number} ":
        raise InputError(f"must start with '{number} '", source=source, field=where)
    for column in TLE_SPACES[number]:
        if line[column - 1] != " ":
            raise InputError(f"must be a space between fields, found {line[column - 1]!r}", source=source, field=f"{where}, column {column}")
    fields = {}
    for name, first, last, pattern, form in TLE_LINE1_FIELDS if number == "1" else TLE_LINE2_FIELDS:
        text = line[first - 1:last]
        if not re.fullmatch(pattern, text):
            raise InputError(f"{text!r} is not {form}", source=source, field=f"{where}, {_columns(first, last)} ({name})")
        fields[name] = text
    expected = tle_checksum(line)
    if int(line[68]) != expected:
        raise InputError(f"bad checksum: found {line[68]}, computed {expected} (the element set is corrupted)", source=source, field=where)
    return fields


def _check_tle_values(line1: dict[str, str], line2: dict[str, str], source: str, where1: str = "line 1", where2: str = "line 2") -> None:
    """Ranges of the fields sgp4 would accept silently: epoch day, angles, mean motion (``where1/2`` name the lines)."""
    year = int(line1["epoch year"])
    year += 1900 if year >= 57 else 2000
    days_in_year = 366 if calendar.isleap(year) else 365
    day = float(line1["epoch day"])
    if not 1.0 <= day < days_in_year + 1:
        raise InputError(f"epoch day {day:g} is out of range; allowed [1, {days_in_year + 1}) in {year}",
                         source=source, field=f"{where1}, {_columns(21, 32)} (epoch day)")
    columns = {name: (first, last) for name, first, last, *_ in TLE_LINE2_FIELDS}
    for name, (low, high, high_inclusive, unit) in TLE_RANGES.items():
        value = float(line2[name])
        if not (low <= value <= high if high_inclusive else low <= value < high):
            raise InputError(f"{value:g} {unit} is out of range; allowed [{low:g}, {high:g}{']' if high_inclusive else ')'} {unit}",
                             source=source, field=f"{where2}, {_columns(*columns[name])} ({name})")
    if not float(line2["mean motion"]) > 0.0:
        raise InputError(f"{line2['mean motion'].strip()} rev/day must be > 0", source=source, field=f"{where2}, {_columns(53, 63)} (mean motion)")


def parse_tle_text(text: str, source: str) -> tuple[str, str, str]:
    """Split TLE text into (name, line1, line2), validating every field before sgp4 reads it.

    Accepts two-line or three-line (with a name line) element sets. Each data line must be 69
    printable ASCII characters with spaces between the fields at the standard columns; each field
    must have its layout (digits, decimal point, signs) and line 2's angles, the mean motion and the
    epoch day their ranges; both checksums must match. Raises :class:`InputError` naming ``source``,
    the line, the columns and the field.
    """
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    if len(lines) == 2:
        name, line1, line2 = "satellite", lines[0], lines[1]
    elif len(lines) == 3:
        name, line1, line2 = lines[0].strip(), lines[1], lines[2]
        if not name.isprintable():
            raise InputError("the name line holds a control character", source=source, field="line 0 (name)")
    else:
        raise InputError(f"expected 2 or 3 non-empty lines (optional name, line 1, line 2), found {len(lines)}", source=source)
    check_element_set(line1, line2, source)
    return name, line1, line2


def check_element_set(line1: str, line2: str, source: str, where1: str = "line 1", where2: str = "line 2", what: str | None = None) -> None:
    """Validate one element set (both data lines, their fields and ranges, matching catalogue numbers).

    The checks of :func:`parse_tle_text`, for callers that split a file themselves (a file of many
    satellites, ``physical.constellation``): ``where1``/``where2`` name the lines in messages and
    ``what`` the element set (e.g. ``lines 4-6 (SAT-2)``). Raises :class:`InputError`.
    """
    fields1 = _check_tle_line(line1, "1", source, where1)
    fields2 = _check_tle_line(line2, "2", source, where2)
    if fields1["satellite number"] != fields2["satellite number"]:
        raise InputError(f"catalogue numbers differ between lines ({line1[2:7]!r} vs {line2[2:7]!r})", source=source, field=what)
    _check_tle_values(fields1, fields2, source, where1, where2)


@lru_cache(maxsize=1)
def _ephemeris():
    """The JPL DE421 ephemeris shipped by skyfield-data (never downloaded)."""
    with warnings.catch_warnings():
        # skyfield-data warns that its bundled Earth-orientation file is old; the builtin
        # timescale does not use that file, and DE421 itself does not expire.
        warnings.simplefilter("ignore", RuntimeWarning)
        from skyfield_data import get_skyfield_data_path

        return Loader(get_skyfield_data_path(), expire=False, verbose=False)("de421.bsp")


def ephemeris_span_utc() -> tuple[datetime, datetime]:
    """(first, last) UTC instants a run may use: the shipped DE421 ephemeris's span less ``EPHEMERIS_MARGIN_S`` at each end."""
    segments = _ephemeris().spk.segments
    first_jd = max(segment.start_jd for segment in segments)
    last_jd = min(segment.end_jd for segment in segments)
    j2000 = datetime(2000, 1, 1, 12, tzinfo=timezone.utc)  # JD 2451545.0 (TDB; within a minute of UTC, inside the margin)
    first = j2000 + timedelta(days=first_jd - 2_451_545.0, seconds=EPHEMERIS_MARGIN_S)
    last = j2000 + timedelta(days=last_jd - 2_451_545.0, seconds=-EPHEMERIS_MARGIN_S)
    return first, last


@lru_cache(maxsize=1)
def _timescale():
    """skyfield's builtin timescale (leap seconds and ΔT shipped with skyfield, no download)."""
    return load.timescale(builtin=True)


def run_times(start_utc: datetime, offsets_s: np.ndarray):
    """skyfield ``Time`` array of the instants ``start_utc + offsets_s`` (UTC; offsets in s)."""
    start_utc = start_utc.astimezone(timezone.utc)
    second = start_utc.second + start_utc.microsecond * 1e-6
    return _timescale().utc(start_utc.year, start_utc.month, start_utc.day, start_utc.hour, start_utc.minute, second + offsets_s)


def site_position(site: "GroundSite"):
    """The site as a skyfield WGS84 geographic position."""
    return wgs84.latlon(site.latitude_deg, site.longitude_deg, elevation_m=site.altitude_m)


def sun_elevation_rad(site: "GroundSite", times) -> np.ndarray:
    """The Sun's apparent elevation at the site (rad) at skyfield ``times`` (DE421, light time and aberration)."""
    eph = _ephemeris()
    sun_alt, _, _ = (eph["earth"] + site_position(site)).at(times).observe(eph["sun"]).apparent().altaz()
    return np.asarray(sun_alt.radians, dtype=float)


def perigee_apogee_altitude_m(mean_motion_rad_min: float, eccentricity: float) -> tuple[float, float]:
    """(perigee, apogee) altitudes above a spherical Earth (m) from an SGP4 mean motion (rad/min) and eccentricity.

    Kepler's third law a = (GM/n²)^(1/3) with ``EARTH_MU_M3_S2``, altitudes above ``EARTH_RADIUS_M``.
    """
    mean_motion_rad_s = mean_motion_rad_min / 60.0
    semi_major_m = (EARTH_MU_M3_S2 / mean_motion_rad_s**2) ** (1.0 / 3.0)
    return semi_major_m * (1 - eccentricity) - EARTH_RADIUS_M, semi_major_m * (1 + eccentricity) - EARTH_RADIUS_M


def check_leo(mean_motion_rad_min: float, eccentricity: float, source: str, field: str | None = None) -> None:
    """Refuse a decayed/re-entering orbit (perigee < ``MIN_PERIGEE_ALTITUDE_M``) or one that is not LEO (apogee > ``MAX_LEO_APOGEE_ALTITUDE_M``)."""
    perigee_m, apogee_m = perigee_apogee_altitude_m(mean_motion_rad_min, eccentricity)
    if perigee_m < MIN_PERIGEE_ALTITUDE_M:
        raise InputError(
            f"perigee altitude {perigee_m / 1e3:.0f} km is below {MIN_PERIGEE_ALTITUDE_M / 1e3:.0f} km: decayed or re-entering orbit",
            source=source, field=field,
        )
    if apogee_m > MAX_LEO_APOGEE_ALTITUDE_M:
        raise InputError(
            f"apogee altitude {apogee_m / 1e3:.0f} km is above {MAX_LEO_APOGEE_ALTITUDE_M / 1e3:.0f} km: only LEO satellites are modelled",
            source=source, field=field,
        )


def check_epoch_near(epoch_utc: datetime, first_utc: datetime, last_utc: datetime, what: str, source: str, field: str) -> None:
    """Refuse propagating elements with epoch ``epoch_utc`` further than ``MAX_TLE_AGE_DAYS`` from it anywhere in [first_utc, last_utc].

    ``what`` names the elements in the message (a file name, or a satellite of a constellation).
    """
    age_days = max(abs((first_utc - epoch_utc).total_seconds()), abs((last_utc - epoch_utc).total_seconds())) / 86_400.0
    if age_days > MAX_TLE_AGE_DAYS:
        raise InputError(
            f"the run ({first_utc:%Y-%m-%d %H:%M} to {last_utc:%Y-%m-%d %H:%M} UTC) is {age_days:.1f} days from the epoch "
            f"{epoch_utc:%Y-%m-%d %H:%M} UTC of {what}; SGP4 elements are used at most {MAX_TLE_AGE_DAYS:g} days "
            "from their epoch: use a TLE from near the run or move run.start_utc",
            source=source, field=field,
        )


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
        text = read_text(path, "TLE")  # a regular file of at most MAX_BYTES["TLE"]
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

    def check_epoch_near(self, first_utc: datetime, last_utc: datetime, source: str, field: str) -> None:
        """Refuse propagating further than ``MAX_TLE_AGE_DAYS`` from the epoch anywhere in [first_utc, last_utc]."""
        check_epoch_near(self.epoch_utc, first_utc, last_utc, Path(self.source).name, source, field)

    def perigee_apogee_altitude_m(self) -> tuple[float, float]:
        """(perigee, apogee) altitudes above a spherical Earth from the mean elements (m)."""
        return perigee_apogee_altitude_m(self.satellite.model.no_kozai, self.satellite.model.ecco)

    def _check_leo(self) -> None:
        check_leo(self.satellite.model.no_kozai, self.satellite.model.ecco, self.source)

    def _times(self, start_utc: datetime, offsets_s: np.ndarray):
        return run_times(start_utc, offsets_s)

    def geometry(self, site: GroundSite, start_utc: datetime, t_s: np.ndarray) -> SiteGeometry:
        """Vectorised geometry at times ``start_utc + t_s``: one skyfield call per quantity and chunk of
        :data:`GEOMETRY_CHUNK` times, so memory does not grow with the run length (every time is
        computed on its own: the chunks give the same floats as one call)."""
        t_s = np.asarray(t_s, dtype=float)
        if t_s.size <= GEOMETRY_CHUNK:
            return self._geometry(site, start_utc, t_s)
        parts = [self._geometry(site, start_utc, t_s[i:i + GEOMETRY_CHUNK]) for i in range(0, t_s.size, GEOMETRY_CHUNK)]
        return SiteGeometry(t_s, *(np.concatenate([getattr(p, name) for p in parts])
                                   for name in ("elevation_rad", "azimuth_rad", "range_m", "sat_sunlit", "sun_elevation_rad")))

    def _geometry(self, site: GroundSite, start_utc: datetime, t_s: np.ndarray) -> SiteGeometry:
        times = self._times(start_utc, t_s)
        topos = site_position(site)
        elevation, azimuth, distance = (self.satellite - topos).at(times).altaz()
        range_m = np.asarray(distance.m, dtype=float)
        if not np.all(np.isfinite(range_m)):
            bad = float(t_s[~np.isfinite(range_m)][0])
            raise InputError(f"SGP4 propagation failed {bad:.0f} s into the run (orbit decayed or elements too old)", source=self.source)
        sunlit = np.asarray(self.satellite.at(times).is_sunlit(_ephemeris()), dtype=bool)
        return SiteGeometry(
            t_s=t_s,
            elevation_rad=np.asarray(elevation.radians, dtype=float),
            azimuth_rad=np.asarray(azimuth.radians, dtype=float),
            range_m=range_m,
            sat_sunlit=sunlit,
            sun_elevation_rad=sun_elevation_rad(site, times),
        )

    def passes(self, site: GroundSite, start_utc: datetime, duration_s: float, min_elevation_deg: float) -> list[PassEvent]:
        """Rise/culmination/set events in [start, start + duration] (skyfield ``find_events``)."""
        topos = site_position(site)
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
