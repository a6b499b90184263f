"""Many satellites at once: TLE catalogues, Walker shells and vectorised site geometry.

A :class:`Constellation` is a set of uniquely named SGP4 element sets, read from a TLE file with
many satellites (CelesTrak/Space-Track 2-line or 3-line format, every element set validated with
``physical.orbit``'s field checks) or generated from a Walker-delta shell (``physical.walker``).
:meth:`Constellation.geometry` propagates every satellite at every tick in one vectorised
``sgp4.api.SatrecArray.sgp4`` call per block of satellites and turns the TEME positions into the
site's east-north-up frame with one exact rotation per tick:

    ENU(t) = R_ENU·(R_ITRS←TEME(t)·r_TEME(t) − r_site,ITRS)

R_ITRS←TEME(t) = R_ITRS←GCRS(t)·R_TEME←GCRS(t)ᵀ is built from skyfield's own frame objects
(``skyfield.framelib.itrs`` and ``skyfield.sgp4lib.TEME``; without polar motion it is the rotation
about z by −GMST1982 of Vallado et al. 2006, "Revisiting Spacetrack Report #3", AIAA 2006-6753,
App. C), and R_ENU the geodetic (WGS84) east/north/up axes of the site, so the result equals
skyfield's per-satellite ``(satellite - topos).at(t).altaz()`` (tests/test_constellation.py:
≤ 1 mm and ≤ 1e-9 rad in float64). The sunlit flag repeats skyfield's ``is_sunlit`` test
(Earth sphere of radius 6,378,136.6 m between the satellite and the Sun, DE421) in the TEME frame.
SI inside (m, s, rad); degrees only at the edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Final, Sequence

import numpy as np
from sgp4.api import SGP4_ERRORS, Satrec, SatrecArray, jday
from sgp4.exporter import export_tle
from skyfield.constants import ERAD
from skyfield.framelib import itrs
from skyfield.sgp4lib import TEME

from physical.orbit import (GroundSite, SiteGeometry, _ephemeris, check_element_set, check_epoch_near, check_leo, run_times,
                            site_position, sun_elevation_rad)
from physical.walker import WalkerShell
from common.errors import InputError
from common.input_files import read_text

DEFAULT_CHUNK: Final = 256  #: satellites propagated per SatrecArray call (bounds the float64 scratch arrays to ≈ 11 MB per 1,000 ticks)
J2000_JD: Final = 2_451_545.0  #: Julian date of 2000-01-01 12:00 (UTC scale here)
_J2000_UTC: Final = datetime(2000, 1, 1, 12, tzinfo=timezone.utc)


@dataclass(frozen=True)
class TleEntry:
    """One element set of a TLE file: its satellite name, both data lines and the file line it starts on (1-based)."""

    name: str
    line1: str
    line2: str
    first_line: int


def _data_line(line: str) -> str | None:
    """'1' or '2' if the line is a TLE data line, else None (a name line may not start with '1 ' or '2 ')."""
    return line[0] if line[:2] in ("1 ", "2 ") else None


def parse_tle_catalogue(text: str, source: str) -> tuple[TleEntry, ...]:
    """Split a TLE file with one or many satellites into validated element sets.

    Accepts CelesTrak's 2-line format (data lines only), its 3-line format (a name line before each
    set) and Space-Track's 3LE (name lines starting ``0 ``), mixed freely; blank lines are ignored.
    A name line is any line that does not start with ``1 `` or ``2 ``. Every element set is checked
    by :func:`physical.orbit.check_element_set` (layout, checksum, field ranges). A set without a
    name is named ``SAT-<catalogue number>``. Names and catalogue numbers must be unique.
    Raises :class:`InputError` naming ``source``, the file line, the satellite and the field.
    """
    rows = [(number, line.rstrip()) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    entries: list[TleEntry] = []
    i = 0
    while i < len(rows):
        number, line = rows[i]
        name = None
        if _data_line(line) is None:
            name = line.strip()
            if name.startswith("0 "):
                name = name[2:].strip()
            if not name.isprintable() or not name:
                raise InputError("the name line holds a control character or nothing", source=source, field=f"line {number} (name)")
            i += 1
            if i >= len(rows) or _data_line(rows[i][1]) != "1":
                raise InputError(f"the name line {name!r} is not followed by line 1 of its element set", source=source, field=f"line {number}")
        n1, line1 = rows[i]
        if _data_line(line1) == "2":
            raise InputError("line 2 of an element set without its line 1", source=source, field=f"line {n1}")
        if i + 1 >= len(rows) or _data_line(rows[i + 1][1]) != "2":
            raise InputError("line 1 of an element set is not followed by its line 2", source=source, field=f"line {n1}")
        n2, line2 = rows[i + 1]
        i += 2
        label = name or f"catalogue number {line1[2:7].strip()}"
        check_element_set(line1, line2, source, where1=f"line {n1} (line 1 of {label})", where2=f"line {n2} (line 2 of {label})",
                          what=f"lines {n1}-{n2} ({label})")
        entries.append(TleEntry(name or f"SAT-{line1[2:7].strip()}", line1, line2, number))
    if not entries:
        raise InputError("no element sets found (expected [name,] line 1, line 2 for each satellite)", source=source)
    seen_names: dict[str, int] = {}
    seen_numbers: dict[str, int] = {}
    for entry in entries:
        if entry.name in seen_names:
            raise InputError(f"satellite name {entry.name!r} is used twice (lines {seen_names[entry.name]} and {entry.first_line}); names must be unique",
                             source=source, field=f"line {entry.first_line}")
        number = entry.line1[2:7].strip()
        if number in seen_numbers:
            raise InputError(f"catalogue number {number} appears twice (lines {seen_numbers[number]} and {entry.first_line})",
                             source=source, field=f"line {entry.first_line}")
        seen_names[entry.name] = seen_numbers[number] = entry.first_line
    return tuple(entries)


def _epoch_utc(satrec: Satrec) -> datetime:
    """The element set's epoch as a UTC datetime (microsecond resolution)."""
    return _J2000_UTC + timedelta(days=(satrec.jdsatepoch - J2000_JD) + satrec.jdsatepochF)


@dataclass(frozen=True)
class ConstellationGeometry:
    """Every satellite's geometry seen from one site at every tick (shape (n_sat, n_ticks) unless stated).

    Args:
        names: satellite names, in row order.
        t_s: tick times after the run start (s), shape (n_ticks,).
        elevation_rad, azimuth_rad: topocentric direction (rad; azimuth from north, east positive, in [0, 2π)).
        range_m: slant range site→satellite (m).
        enu_m: satellite position in the site's east-north-up frame (m), shape (n_sat, n_ticks, 3).
        sat_sunlit: whether each satellite is in sunlight (bool).
        sun_elevation_rad: the Sun's apparent elevation at the site (rad), shape (n_ticks,), float64.

    The per-satellite arrays have the dtype asked of :meth:`Constellation.geometry`. In float32
    (the default) the rounding is ≤ 0.5 m on positions and ranges (|ENU| < 16,000 km), ≤ 2.4e-7 rad
    on azimuths and ≤ 6e-8 rad on elevations; float64 keeps SGP4's full precision.
    """

    names: tuple[str, ...]
    t_s: np.ndarray
    elevation_rad: np.ndarray
    azimuth_rad: np.ndarray
    range_m: np.ndarray
    enu_m: np.ndarray
    sat_sunlit: np.ndarray
    sun_elevation_rad: np.ndarray

    def index(self, name: str) -> int:
        """Row of the satellite called ``name``."""
        return self.names.index(name)

    def satellite(self, which: int | str) -> SiteGeometry:
        """One satellite's geometry as the single-satellite :class:`physical.orbit.SiteGeometry` (float64 copies)."""
        row = self.index(which) if isinstance(which, str) else which
        return SiteGeometry(
            t_s=self.t_s,
            elevation_rad=self.elevation_rad[row].astype(float),
            azimuth_rad=self.azimuth_rad[row].astype(float),
            range_m=self.range_m[row].astype(float),
            sat_sunlit=self.sat_sunlit[row].copy(),
            sun_elevation_rad=self.sun_elevation_rad,
        )

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays (bytes)."""
        return sum(a.nbytes for a in (self.t_s, self.elevation_rad, self.azimuth_rad, self.range_m, self.enu_m, self.sat_sunlit,
                                      self.sun_elevation_rad))


def enu_rotation(latitude_rad: float, longitude_rad: float) -> np.ndarray:
    """Rows: the east, north and up unit vectors of a site at geodetic latitude/longitude (rad), in ITRS (ECEF) axes."""
    sin_lat, cos_lat = math.sin(latitude_rad), math.cos(latitude_rad)
    sin_lon, cos_lon = math.sin(longitude_rad), math.cos(longitude_rad)
    return np.array([
        [-sin_lon, cos_lon, 0.0],
        [-sin_lat * cos_lon, -sin_lat * sin_lon, cos_lat],
        [cos_lat * cos_lon, cos_lat * sin_lon, sin_lat],
    ])


def geocentre_enu_m(site: GroundSite) -> np.ndarray:
    """The Earth's centre in the site's east-north-up frame (m): where a satellite's nadir points from anywhere."""
    topos = site_position(site)
    to_enu = enu_rotation(topos.latitude.radians, topos.longitude.radians)
    return -(to_enu @ np.asarray(topos.itrs_xyz.m, dtype=float))


def teme_to_itrs(times) -> np.ndarray:
    """Rotation matrices TEME → ITRS at skyfield ``times``, shape (n, 3, 3): R_ITRS←GCRS·R_TEME←GCRSᵀ from skyfield's frames."""
    r_itrs = np.asarray(itrs.rotation_at(times)).reshape(3, 3, -1)
    r_teme = np.asarray(TEME.rotation_at(times)).reshape(3, 3, -1)
    return np.einsum("ijt,kjt->tik", r_itrs, r_teme)


class Constellation:
    """A set of uniquely named satellites propagated together with SGP4.

    Args:
        names: satellite names (unique, non-empty).
        satrecs: one ``sgp4.api.Satrec`` per name (WGS72, as TLEs are).
        source: where the elements came from (a file, or ``Walker shell ...``), for messages.
    """

    def __init__(self, names: Sequence[str], satrecs: Sequence[Satrec], source: str = "<memory>") -> None:
        names, satrecs = tuple(names), tuple(satrecs)
        if not names or len(names) != len(satrecs):
            raise InputError(f"{len(names)} names for {len(satrecs)} element sets (at least one satellite)", source=source)
        if len(set(names)) != len(names):
            duplicate = next(n for n in names if names.count(n) > 1)
            raise InputError(f"satellite name {duplicate!r} is used twice; names must be unique", source=source)
        self.names = names
        self.satrecs = satrecs
        self.source = source

    @classmethod
    def from_tle(cls, path: Path | str) -> "Constellation":
        """Load a TLE file with one or many satellites (see :func:`parse_tle_catalogue`).

        Read as the ``TLE catalogue`` kind of :mod:`common.input_files` (16 MiB: ≈ 100,000 element
        sets in 3-line format), not the single-satellite ``TLE`` kind (64 KiB).
        """
        return cls.from_tle_text(read_text(path, "TLE catalogue"), str(path))

    @classmethod
    def from_tle_text(cls, text: str, source: str) -> "Constellation":
        """Parse and validate TLE text (see :func:`parse_tle_catalogue`); every orbit must be a sane LEO (``physical.orbit.check_leo``)."""
        names, satrecs = [], []
        for entry in parse_tle_catalogue(text, source):
            satrec = Satrec.twoline2rv(entry.line1, entry.line2)
            where = f"satellite {entry.name} (line {entry.first_line})"
            if satrec.error:
                raise InputError(f"TLE not understood by sgp4 (error {satrec.error}: {SGP4_ERRORS.get(satrec.error, '?')})",
                                 source=source, field=where)
            check_leo(satrec.no_kozai, satrec.ecco, source, field=where)
            names.append(entry.name)
            satrecs.append(satrec)
        return cls(names, satrecs, source)

    @classmethod
    def from_walker(cls, shell: WalkerShell) -> "Constellation":
        """The satellites of a Walker-delta shell (``physical.walker.WalkerShell``), plane by plane."""
        return cls(shell.names(), shell.satrecs(), f"Walker shell {shell.name} {shell.inclination_deg:g}°:{shell.total}/{shell.planes}/{shell.phasing}")

    def to_tle_text(self) -> str:
        """The elements as a 3-line TLE file (name line, line 1, line 2 per satellite; ``sgp4.exporter.export_tle``).

        TLE fields are rounded (angles to 1e-4°, mean motion to 1e-8 rev/day, epoch to 1e-8 day),
        so a Walker shell written and read back moves each satellite by at most tens of metres.
        """
        return "".join(f"{name}\n{line1}\n{line2}\n" for name, (line1, line2) in zip(self.names, map(export_tle, self.satrecs)))

    def __len__(self) -> int:
        return len(self.names)

    def subset(self, rows: Sequence[int]) -> "Constellation":
        """The satellites at ``rows`` (in that order)."""
        return Constellation([self.names[r] for r in rows], [self.satrecs[r] for r in rows], self.source)

    @property
    def epochs_utc(self) -> tuple[datetime, ...]:
        """Epoch of each satellite's elements (UTC)."""
        return tuple(_epoch_utc(s) for s in self.satrecs)

    def check_epochs_near(self, first_utc: datetime, last_utc: datetime, source: str, field: str) -> None:
        """Refuse the run if any satellite's elements are used further than ``MAX_TLE_AGE_DAYS`` from their epoch (names the worst)."""
        epochs = self.epochs_utc
        ages = [max(abs((first_utc - e).total_seconds()), abs((last_utc - e).total_seconds())) for e in epochs]
        worst = int(np.argmax(ages))
        check_epoch_near(epochs[worst], first_utc, last_utc, f"satellite {self.names[worst]} of {Path(self.source).name}", source, field)

    def geometry(self, site: GroundSite, start_utc: datetime, t_s: np.ndarray, dtype: type = np.float32,
                 chunk: int = DEFAULT_CHUNK) -> ConstellationGeometry:
        """Every satellite's geometry from ``site`` at ``start_utc + t_s`` (s), vectorised over satellites and ticks.

        SGP4 runs in blocks of ``chunk`` satellites × all ticks (``SatrecArray.sgp4``); each block
        is rotated TEME → ENU with one matrix per tick and reduced to elevation, azimuth, range,
        ENU position and the sunlit flag, stored as ``dtype`` (float32 or float64). Time scale: the
        elements' epochs are UTC, as skyfield assumes (AIAA 2006-6753). Raises :class:`InputError`
        naming the satellite if SGP4 fails (decayed orbit, elements far from their epoch).
        """
        t_s = np.asarray(t_s, dtype=float)
        if t_s.ndim != 1 or t_s.size == 0:
            raise ValueError("t_s must be a non-empty 1-D array of offsets (s)")
        start_utc = start_utc.astimezone(timezone.utc)
        times = run_times(start_utc, t_s)
        jd0, fr0 = jday(start_utc.year, start_utc.month, start_utc.day, start_utc.hour, start_utc.minute,
                        start_utc.second + start_utc.microsecond * 1e-6)
        jd = np.full(t_s.shape, jd0)
        fr = fr0 + t_s / 86_400.0

        topos = site_position(site)
        to_enu = enu_rotation(topos.latitude.radians, topos.longitude.radians)
        teme_itrs = teme_to_itrs(times)                                   # (n_t, 3, 3)
        teme_enu = np.einsum("ij,tjk->tik", to_enu, teme_itrs)            # TEME → ENU axes
        site_enu = to_enu @ np.asarray(topos.itrs_xyz.m, dtype=float)      # the site in ENU axes (from the geocentre)
        eph = _ephemeris()
        sun_gcrs_m = np.asarray((eph["sun"] - eph["earth"]).at(times).xyz.m, dtype=float).reshape(3, -1)
        r_teme_gcrs = np.asarray(TEME.rotation_at(times)).reshape(3, 3, -1)
        sun_teme_m = np.einsum("ijt,jt->ti", r_teme_gcrs, sun_gcrs_m)     # (n_t, 3)

        n_sat, n_t = len(self), t_s.size
        elevation = np.empty((n_sat, n_t), dtype=dtype)
        azimuth = np.empty((n_sat, n_t), dtype=dtype)
        range_m = np.empty((n_sat, n_t), dtype=dtype)
        enu = np.empty((n_sat, n_t, 3), dtype=dtype)
        sunlit = np.empty((n_sat, n_t), dtype=bool)
        for first in range(0, n_sat, chunk):
            rows = slice(first, min(first + chunk, n_sat))
            errors, r_km, _ = SatrecArray(list(self.satrecs[rows])).sgp4(jd, fr)
            failed = (errors != 0) | ~np.isfinite(r_km).all(axis=-1)
            if failed.any():
                s, k = np.argwhere(failed)[0]
                code = int(errors[s, k])
                reason = SGP4_ERRORS.get(code, f"error {code}") if code else "no finite position"
                raise InputError(f"SGP4 propagation of satellite {self.names[first + s]} failed {t_s[k]:.0f} s into the run ({reason})",
                                 source=self.source)
            r_m = r_km * 1e3                                                # (c, n_t, 3) TEME (m)
            block = np.einsum("tij,stj->sti", teme_enu, r_m) - site_enu
            east, north, up = block[..., 0], block[..., 1], block[..., 2]
            horizontal = np.hypot(east, north)
            elevation[rows] = np.arctan2(up, horizontal)
            azimuth[rows] = np.arctan2(east, north) % math.tau
            range_m[rows] = np.sqrt(horizontal**2 + up**2)
            enu[rows] = block
            sunlit[rows] = _sunlit(r_m, sun_teme_m)
        return ConstellationGeometry(self.names, t_s, elevation, azimuth, range_m, enu, sunlit, sun_elevation_rad(site, times))


def _sunlit(r_m: np.ndarray, sun_m: np.ndarray) -> np.ndarray:
    """skyfield's ``ICRF.is_sunlit`` test for positions ``r_m`` (…, n_t, 3) and Earth→Sun vectors ``sun_m`` (n_t, 3), any common frame.

    The line from the satellite towards the Sun meets the sphere of radius ERAD around the geocentre
    at distances (−b ± sqrt(b² − 4c))/2 along it; the satellite is sunlit unless the far
    intersection lies ahead of it (b = −2·û·(−r), c = |r|² − ERAD²).
    """
    to_sun = sun_m - r_m
    unit = to_sun / np.linalg.norm(to_sun, axis=-1, keepdims=True)
    minus_b = 2.0 * np.einsum("...i,...i->...", unit, -r_m)
    c = np.einsum("...i,...i->...", r_m, r_m) - ERAD * ERAD
    discriminant = minus_b * minus_b - 4.0 * c
    with np.errstate(invalid="ignore"):
        far = (minus_b + np.sqrt(discriminant)) / 2.0
    return ~(far > 0.0)
