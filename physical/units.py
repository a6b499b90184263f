"""Physical constants and dB/degree conversions. SI inside; dB and degrees only at the edges."""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numpy.typing import ArrayLike

SPEED_OF_LIGHT_M_S: Final = 299_792_458.0  #: speed of light in vacuum (m/s)
THERMAL_NOISE_DBM_PER_HZ: Final = -174.0  #: thermal noise density at 290 K (dBm/Hz)
EARTH_RADIUS_M: Final = 6_371_000.0  #: mean Earth radius (m)


def db_to_linear(value_db: ArrayLike) -> np.ndarray | float:
    """Power ratio from decibels: 10^(x/10)."""
    out = np.power(10.0, np.asarray(value_db, dtype=float) / 10.0)
    return float(out) if out.ndim == 0 else out


def linear_to_db(value: ArrayLike) -> np.ndarray | float:
    """Decibels from a power ratio: 10·log10(x); zero maps to -inf."""
    with np.errstate(divide="ignore"):
        out = 10.0 * np.log10(np.asarray(value, dtype=float))
    return float(out) if out.ndim == 0 else out


def dbw_to_watts(power_dbw: ArrayLike) -> np.ndarray | float:
    """Watts from dBW."""
    return db_to_linear(power_dbw)


def dbm_to_watts(power_dbm: ArrayLike) -> np.ndarray | float:
    """Watts from dBm."""
    return db_to_linear(np.asarray(power_dbm, dtype=float) - 30.0)


def wavelength_m(freq_hz: float) -> float:
    """Free-space wavelength (m) of a carrier at ``freq_hz`` (Hz)."""
    return SPEED_OF_LIGHT_M_S / freq_hz


def noise_power_w(bandwidth_hz: float, noise_figure_db: float) -> float:
    """Receiver noise power N0 (W) = -174 dBm/Hz + 10·log10(B) + NF (shared/DESIGN.md section 2)."""
    noise_dbm = THERMAL_NOISE_DBM_PER_HZ + 10.0 * math.log10(bandwidth_hz) + noise_figure_db
    return float(dbm_to_watts(noise_dbm))
