"""Decoy-state BB84 key rates and free-space loss (physical/qkd_link.py) against published points,
closed forms and invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from physical.qkd_link import (
    FIBER_HARDWARE, SATELLITE_HARDWARE, SATELLITE_TERMINAL, UAV_TERMINAL, QkdHardware,
    atmospheric_transmittance, beam_radius_m, binary_entropy, decoy_bb84_rate_per_pulse,
    fiber_key_rate_bps, fiber_loss_db, fiber_transmittance, free_space_loss_db, free_space_transmittance,
    optimal_key_rate, pointing_transmittance, satellite_key_rate_bps, satellite_qkd_available,
    secret_key_rate_bps, uav_key_rate_bps,
)

#: fiber at 50 km with a GHz clock: Mbit/s-scale (Boaron et al. 2018: 6.5 Mbit/s at 10 km, ~kbit/s at 250 km)
FIBER_50KM_RANGE_BPS = (1e5, 1e7)
#: fiber key rate vanishes beyond this length (m)
FIBER_CUTOFF_M = 300e3
#: Micius-like downlink near 1,200 km slant range at night (Liao et al. 2017: ≈1 kbit/s scale)
MICIUS_1200KM_RANGE_BPS = (3e2, 3e4)
#: Micius-like total link loss incl. detectors at 1,200 km (published ≈35 dB) (dB)
MICIUS_1200KM_LOSS_DB = (29.0, 38.0)
SAT_ALTITUDE_M = 500e3


def _elevation_for_range(range_m: float, altitude_m: float = SAT_ALTITUDE_M) -> float:
    """Elevation (rad) at which a satellite at ``altitude_m`` is ``range_m`` away (spherical Earth)."""
    r_e = 6_371e3
    return math.asin(((r_e + altitude_m) ** 2 - r_e ** 2 - range_m ** 2) / (2 * r_e * range_m))


def test_binary_entropy_closed_forms():
    assert binary_entropy(0.5) == pytest.approx(1.0)
    assert binary_entropy(0.0) == binary_entropy(1.0) == 0.0
    assert binary_entropy(0.11) == pytest.approx(0.4999, abs=1e-3)


def test_fiber_loss_is_0p2_db_per_km():
    assert fiber_loss_db(50e3) == pytest.approx(10.0)
    assert fiber_transmittance(100e3) == pytest.approx(0.01)


def test_fiber_rate_is_mbps_scale_at_50_km():
    rate = fiber_key_rate_bps(50e3)
    assert FIBER_50KM_RANGE_BPS[0] <= rate <= FIBER_50KM_RANGE_BPS[1]


def test_fiber_rate_falls_with_length_and_vanishes_beyond_cutoff():
    rates = [fiber_key_rate_bps(km * 1e3) for km in (50, 100, 200)]
    assert rates[0] > rates[1] > rates[2] > 0
    # ≈ 2 dB per 10 km ⇒ ≈ one decade per 50 km away from the cut-off
    assert rates[0] / rates[1] == pytest.approx(10.0, rel=0.2)
    assert fiber_key_rate_bps(FIBER_CUTOFF_M) == 0.0
    assert fiber_key_rate_bps(400e3) == 0.0


def test_micius_like_downlink_rate_and_loss_at_1200_km():
    range_m = 1200e3
    el = _elevation_for_range(range_m)
    assert math.degrees(el) == pytest.approx(19.8, abs=0.5)
    loss_db = free_space_loss_db(range_m, el, SATELLITE_TERMINAL) - 10 * math.log10(SATELLITE_HARDWARE.detector_efficiency)
    assert MICIUS_1200KM_LOSS_DB[0] <= loss_db <= MICIUS_1200KM_LOSS_DB[1]
    rate = satellite_key_rate_bps(range_m, el)
    assert MICIUS_1200KM_RANGE_BPS[0] <= rate <= MICIUS_1200KM_RANGE_BPS[1]
    # closer passes give more key
    assert satellite_key_rate_bps(500e3, math.pi / 2) > rate


def test_clouds_block_and_horizon_blocks():
    assert satellite_key_rate_bps(800e3, _elevation_for_range(800e3), cloudy=True) == 0.0
    assert free_space_transmittance(800e3, -0.01, SATELLITE_TERMINAL) == 0.0
    assert uav_key_rate_bps(1000.0, cloudy=True) == 0.0


def test_uav_link_at_1_km_is_low_loss():
    loss_db = free_space_loss_db(1000.0, math.pi / 2, UAV_TERMINAL)
    assert 0.0 < loss_db < 10.0
    assert uav_key_rate_bps(1000.0) > 1e5


def test_gaussian_beam_far_field_and_pointing():
    """Far field: w ≈ λL/(π w0); jitter only ever lowers the capture."""
    L = 1000e3
    w0 = SATELLITE_TERMINAL.tx_aperture_m / 2
    assert beam_radius_m(L, SATELLITE_TERMINAL) == pytest.approx(SATELLITE_TERMINAL.wavelength_m * L / (math.pi * w0), rel=1e-3)
    assert beam_radius_m(0.0, SATELLITE_TERMINAL) == pytest.approx(w0)
    assert 0.0 < pointing_transmittance(L, SATELLITE_TERMINAL) < 1.0


def test_atmosphere_air_mass():
    assert atmospheric_transmittance(math.pi / 2, 0.8) == pytest.approx(0.8)
    assert atmospheric_transmittance(math.radians(30), 0.8) == pytest.approx(0.64)
    assert atmospheric_transmittance(0.0, 0.8) == 0.0


@pytest.mark.parametrize("transmittance", [1.0, 1e-1, 1e-3, 1e-5])
def test_optimal_mu_in_unit_interval_and_is_a_maximum(transmittance):
    k = optimal_key_rate(transmittance, FIBER_HARDWARE)
    assert 0.0 < k.mu < 1.0
    for mu in (0.5 * k.mu, 1.5 * k.mu):
        assert decoy_bb84_rate_per_pulse(transmittance, mu, FIBER_HARDWARE) <= k.per_pulse + 1e-15


def test_ideal_limit_of_the_gllp_formula():
    """No dark counts, no errors: R = q·η·μ·e^(−μ), maximised at μ = 1 (as ημ → 0, bounds permitting)."""
    hw = QkdHardware(clock_hz=1e6, detector_efficiency=1.0, dark_count_probability=0.0, misalignment_error=0.0,
                     sifting_factor=0.5, max_count_rate_hz=1e12)
    eta = 1e-6
    assert decoy_bb84_rate_per_pulse(eta, 0.5, hw) == pytest.approx(0.5 * eta * 0.5 * math.exp(-0.5), rel=1e-9)
    assert optimal_key_rate(eta, hw).mu == pytest.approx(1.0, abs=1e-3)


def test_rate_capped_at_detector_count_rate():
    hw = QkdHardware(clock_hz=1e10, detector_efficiency=0.9, dark_count_probability=1e-8, misalignment_error=0.01,
                     max_count_rate_hz=1e7)
    k = optimal_key_rate(0.9, hw)
    assert k.capped and k.rate_bps == pytest.approx(hw.sifting_factor * hw.max_count_rate_hz)


def test_zero_transmittance_and_bad_values():
    assert secret_key_rate_bps(0.0, FIBER_HARDWARE) == 0.0
    with pytest.raises(ValueError):
        secret_key_rate_bps(1.5, FIBER_HARDWARE)
    with pytest.raises(ValueError):
        QkdHardware(clock_hz=1e9, detector_efficiency=0.0, dark_count_probability=1e-6, misalignment_error=0.01)


@settings(max_examples=60, deadline=None)
@given(loss_db=st.floats(0.0, 70.0), extra_db=st.floats(0.0, 20.0))
def test_key_rate_non_increasing_in_loss(loss_db, extra_db):
    for hw in (FIBER_HARDWARE, SATELLITE_HARDWARE):
        low = secret_key_rate_bps(10 ** (-loss_db / 10), hw)
        high = secret_key_rate_bps(10 ** (-(loss_db + extra_db) / 10), hw)
        assert high <= low * (1 + 1e-9) + 1e-12


@settings(max_examples=40, deadline=None)
@given(range_m=st.floats(300e3, 2000e3), extra_m=st.floats(0.0, 500e3))
def test_free_space_loss_increases_with_range(range_m, extra_m):
    el = math.radians(40)
    assert (free_space_transmittance(range_m + extra_m, el, SATELLITE_TERMINAL)
            <= free_space_transmittance(range_m, el, SATELLITE_TERMINAL) * (1 + 1e-12))


def test_satellite_availability_helper():
    el = np.radians([5.0, 20.0, 20.0, 20.0])
    sun = np.radians([-20.0, -20.0, 5.0, -20.0])
    ok = satellite_qkd_available(el, sun, np.array([0.0, 0.0, 0.0, 1.0]))
    assert ok.tolist() == [False, True, False, False]
    assert satellite_qkd_available(math.radians(30), math.radians(-15)) is True
