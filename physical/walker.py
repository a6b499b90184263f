"""Walker-delta satellite shells as synthetic SGP4 element sets.

A Walker-delta pattern i:T/P/F (Walker, J. G., 1984, "Satellite constellations", Journal of the
British Interplanetary Society 37, 559-571) puts T satellites on circular orbits of inclination i in
P planes whose ascending nodes are spaced 360°/P apart, S = T/P satellites per plane spaced 360°/S
in argument of latitude, and shifts each plane's satellites by F·360°/T against the previous plane
(the phasing F is an integer in [0, P-1]). Satellite k (0-based) of plane p therefore has

    RAAN            Ω_p   = Ω_0 + p·360°/P
    mean anomaly    M_pk  = M_0 + k·360°/S + p·F·360°/T        (circular: argument of perigee 0)

The elements are handed to ``sgp4.api.Satrec.sgp4init`` with the WGS72 constants SGP4 is defined
with (Vallado et al. 2006, "Revisiting Spacetrack Report #3", AIAA 2006-6753): eccentricity 0, no
drag (B* = 0, ṅ = n̈ = 0), and the mean motion of a circular orbit of radius
a = R_WGS72 + altitude from Kepler's third law, n = sqrt(μ_WGS72 / a³). SGP4 treats that n as a
Kozai mean motion; its J2 theory then makes the propagated orbit's mean radius and period differ
from the Keplerian a and 2π/n by O(J2·(R/a)²) ≈ 1e-3 (tests/test_constellation.py measures it).
SI inside; degrees only in the fields that say so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Final

from sgp4.api import WGS72, Satrec, jday
from sgp4.earth_gravity import wgs72

from physical.orbit import MAX_LEO_APOGEE_ALTITUDE_M, MIN_PERIGEE_ALTITUDE_M
from common.errors import InputError

WGS72_MU_M3_S2: Final = wgs72.mu * 1e9  #: GM of the WGS72 model SGP4 uses (m³/s²): 3.986008e14
WGS72_RADIUS_M: Final = wgs72.radiusearthkm * 1e3  #: equatorial radius of WGS72 (m): 6,378,135
SGP4_EPOCH_JD: Final = 2_433_281.5  #: sgp4init's epoch origin, 1949 December 31 00:00 UT (Julian date)
MAX_SHELL_SATELLITES: Final = 20_000  #: largest shell accepted (catalogue numbers must fit 5 digits; memory)


def circular_satrec(catalogue_number: int, epoch_utc: datetime, altitude_m: float, inclination_rad: float,
                    raan_rad: float, mean_anomaly_rad: float) -> Satrec:
    """SGP4 elements (WGS72, 'i' mode) of a circular orbit at ``altitude_m`` above the WGS72 equatorial radius.

    Args:
        catalogue_number: the satellite number recorded in the elements (1..99999).
        epoch_utc: epoch of the elements (timezone-aware UTC datetime).
        altitude_m: a − R_WGS72 (m); the mean motion is Kepler's sqrt(μ/a³).
        inclination_rad, raan_rad, mean_anomaly_rad: the angles at epoch (rad); argument of perigee 0.
    """
    epoch_utc = epoch_utc.astimezone(timezone.utc)
    jd, fraction = jday(epoch_utc.year, epoch_utc.month, epoch_utc.day, epoch_utc.hour, epoch_utc.minute,
                        epoch_utc.second + epoch_utc.microsecond * 1e-6)
    semi_major_m = WGS72_RADIUS_M + altitude_m
    mean_motion_rad_min = math.sqrt(WGS72_MU_M3_S2 / semi_major_m**3) * 60.0
    satrec = Satrec()
    satrec.sgp4init(WGS72, "i", catalogue_number, (jd - SGP4_EPOCH_JD) + fraction, 0.0, 0.0, 0.0, 0.0, 0.0,
                    inclination_rad, mean_anomaly_rad % math.tau, mean_motion_rad_min, raan_rad % math.tau)
    if satrec.error:
        raise InputError(f"sgp4init refused the synthetic elements (error code {satrec.error})", source=f"satellite {catalogue_number}")
    return satrec


@dataclass(frozen=True)
class WalkerShell:
    """A Walker-delta shell i:T/P/F of circular orbits (Walker 1984).

    Args:
        inclination_deg: orbital inclination i (deg, [0, 180]).
        total: T, the number of satellites (≥ 1, a multiple of ``planes``).
        planes: P, the number of equally spaced orbital planes (≥ 1).
        phasing: F, the relative phasing between adjacent planes (integer in [0, P-1]); plane p+1's
            satellites lead plane p's by F·360°/T in argument of latitude.
        altitude_m: a − R_WGS72 (m), within the simulator's LEO range.
        epoch_utc: epoch of every satellite's elements (timezone-aware UTC).
        raan_offset_deg: Ω_0, the first plane's right ascension of the ascending node (deg).
        mean_anomaly_offset_deg: M_0, the first satellite's mean anomaly (deg).
        name: prefix of the satellite names ``{name}-{plane}-{slot}`` (both 0-based, zero-padded).
        first_catalogue_number: catalogue number of satellite 0 of plane 0; numbers run plane by plane.
    """

    inclination_deg: float
    total: int
    planes: int
    phasing: int
    altitude_m: float
    epoch_utc: datetime
    raan_offset_deg: float = 0.0
    mean_anomaly_offset_deg: float = 0.0
    name: str = "WALKER"
    first_catalogue_number: int = 1

    def __post_init__(self) -> None:
        source = f"Walker shell {self.name!r}"
        for field in ("total", "planes", "phasing", "first_catalogue_number"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InputError(f"must be an integer, found {value!r}", source=source, field=field)
        if not 1 <= self.total <= MAX_SHELL_SATELLITES:
            raise InputError(f"{self.total} is out of range; allowed [1, {MAX_SHELL_SATELLITES}]", source=source, field="total")
        if not 1 <= self.planes <= self.total or self.total % self.planes:
            raise InputError(f"{self.planes} planes must divide the {self.total} satellites (T/P satellites per plane)", source=source, field="planes")
        if not 0 <= self.phasing < self.planes:
            raise InputError(f"{self.phasing} is out of range; allowed [0, {self.planes - 1}] (0 ≤ F < P)", source=source, field="phasing")
        if not 0.0 <= self.inclination_deg <= 180.0:
            raise InputError(f"{self.inclination_deg:g} deg is out of range; allowed [0, 180] deg", source=source, field="inclination_deg")
        # the LEO range of physical.orbit.check_leo (altitudes above the mean radius there; here above
        # the 7 km larger equatorial radius, well inside the same limits)
        if not MIN_PERIGEE_ALTITUDE_M <= self.altitude_m <= MAX_LEO_APOGEE_ALTITUDE_M:
            raise InputError(f"{self.altitude_m:g} m is out of range; allowed [{MIN_PERIGEE_ALTITUDE_M:g}, {MAX_LEO_APOGEE_ALTITUDE_M:g}] m",
                             source=source, field="altitude_m")
        for field in ("raan_offset_deg", "mean_anomaly_offset_deg"):
            if not math.isfinite(getattr(self, field)):
                raise InputError("must be finite", source=source, field=field)
        last = self.first_catalogue_number + self.total - 1
        if self.first_catalogue_number < 1 or last > 99_999:
            raise InputError(f"catalogue numbers {self.first_catalogue_number}..{last} must lie in [1, 99999]", source=source,
                             field="first_catalogue_number")
        if self.epoch_utc.tzinfo is None:
            raise InputError("must be timezone-aware (UTC)", source=source, field="epoch_utc")

    @property
    def per_plane(self) -> int:
        """S = T/P, satellites per plane."""
        return self.total // self.planes

    @property
    def semi_major_axis_m(self) -> float:
        """a = R_WGS72 + altitude (m)."""
        return WGS72_RADIUS_M + self.altitude_m

    @property
    def period_s(self) -> float:
        """Keplerian period 2π·sqrt(a³/μ) (s) of the circular orbit (Kepler's third law, WGS72 μ)."""
        return math.tau * math.sqrt(self.semi_major_axis_m**3 / WGS72_MU_M3_S2)

    def raan_rad(self, plane: int) -> float:
        """Ω_p = Ω_0 + p·2π/P (rad, in [0, 2π))."""
        return (math.radians(self.raan_offset_deg) + plane * math.tau / self.planes) % math.tau

    def mean_anomaly_rad(self, plane: int, slot: int) -> float:
        """M_pk = M_0 + k·2π/S + p·F·2π/T (rad, in [0, 2π))."""
        return (math.radians(self.mean_anomaly_offset_deg) + slot * math.tau / self.per_plane
                + plane * self.phasing * math.tau / self.total) % math.tau

    def slots(self) -> list[tuple[int, int]]:
        """(plane, slot) of every satellite, plane by plane: the order of :meth:`names` and :meth:`satrecs`."""
        return [(plane, slot) for plane in range(self.planes) for slot in range(self.per_plane)]

    def names(self) -> tuple[str, ...]:
        """Unique satellite names ``{name}-{plane}-{slot}`` (zero-padded), plane by plane."""
        wp, ws = len(str(self.planes - 1)), len(str(self.per_plane - 1))
        return tuple(f"{self.name}-{plane:0{wp}d}-{slot:0{ws}d}" for plane, slot in self.slots())

    def satrecs(self) -> list[Satrec]:
        """One SGP4 element set per satellite (``circular_satrec``), plane by plane."""
        inclination_rad = math.radians(self.inclination_deg)
        return [
            circular_satrec(self.first_catalogue_number + index, self.epoch_utc, self.altitude_m, inclination_rad,
                            self.raan_rad(plane), self.mean_anomaly_rad(plane, slot))
            for index, (plane, slot) in enumerate(self.slots())
        ]
