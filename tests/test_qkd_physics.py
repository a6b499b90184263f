"""Decoy-state BB84 key rates and free-space loss (physical/qkd_link.py) against published points,
closed forms and invariants."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from physical.qkd_link import (
    FIBER_HARDWARE, SATELLITE_HARDWARE, SATELLITE_TERMINAL, UAV_TERMINAL, QkdHardware,
    atmospheric_transmittance, beam_radius_m, binary_entropy, decoy_bb84_rate_per_pulse, elevation_at_range_rad,
    fiber_key_rate_bps, fiber_loss_db, fiber_transmittance, free_space_loss_db, free_space_transmittance,
    link_budget, optimal_key_rate, pointing_transmittance, satellite_key_rate_bps, satellite_qkd_available,
    secret_key_rate_bps, uav_key_rate_bps,
)
from tests.conftest import DEFAULT_SCENARIO, ROOT

#: fiber at 50 km with a GHz clock: Mbit/s-scale (Boaron et al. 2018: 6.5 Mbit/s at 10 km, ~kbit/s at 250 km)
FIBER_50KM_RANGE_BPS = (1e5, 1e7)
#: fiber key rate vanishes beyond this length (m)
FIBER_CUTOFF_M = 300e3
MICIUS_DATA = ROOT / "tests" / "data" / "micius_liao2017.csv"
#: allowed deviation of the model's loss from the Micius link-efficiency curve, 600–1,200 km (dB)
MICIUS_LOSS_TOLERANCE_DB = 1.5
#: allowed factor between the model's key over a Micius-like pass and the published 300,939 bit
MICIUS_PASS_KEY_FACTOR = 2.0
#: Ma et al. 2005 (GYS, infinite decoys, f = 1.22): the key vanishes at ≈ 142 km; tolerance (km)
GYS_MAX_DISTANCE_KM = (141.0, 143.0)


def _micius() -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    with open(MICIUS_DATA, encoding="utf-8") as stream:
        for row in csv.DictReader(line for line in stream if not line.startswith("#")):
            rows.setdefault(row["quantity"], []).append(row)
    return rows


def _micius_curve_db(range_km: float) -> float:
    """The published loss curve: the two reference points, linear in dB against log10(range) (data file header)."""
    (r0, l0), (r1, l1) = sorted((float(r["range_km"]), float(r["value"])) for r in _micius()["loss_excluding_detector_db"])
    return l0 + (l1 - l0) * math.log10(range_km / r0) / math.log10(r1 / r0)


def _elevation_for_range(range_m: float) -> float:
    """Elevation (rad) at which a Micius-like satellite (500 km up) is ``range_m`` away."""
    return elevation_at_range_rad(range_m)


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


def test_elevation_at_range_closed_forms():
    assert math.degrees(elevation_at_range_rad(500e3)) == pytest.approx(90.0)
    assert math.degrees(elevation_at_range_rad(1200e3)) == pytest.approx(19.8, abs=0.1)
    with pytest.raises(ValueError):
        elevation_at_range_rad(400e3)  # closer than the altitude
    with pytest.raises(ValueError):
        elevation_at_range_rad(5000e3)  # beyond the horizon


def test_satellite_loss_matches_the_micius_reference_points():
    for row in _micius()["loss_excluding_detector_db"]:
        range_m = float(row["range_km"]) * 1e3
        loss = free_space_loss_db(range_m, _elevation_for_range(range_m), SATELLITE_TERMINAL)
        assert loss == pytest.approx(float(row["value"]), abs=MICIUS_LOSS_TOLERANCE_DB), row


@pytest.mark.parametrize("range_km", [600, 700, 800, 900, 1000, 1100, 1200])
def test_satellite_loss_follows_the_micius_curve_between_600_and_1200_km(range_km):
    range_m = range_km * 1e3
    loss = free_space_loss_db(range_m, _elevation_for_range(range_m), SATELLITE_TERMINAL)
    assert loss == pytest.approx(_micius_curve_db(range_km), abs=MICIUS_LOSS_TOLERANCE_DB)


def test_a_micius_like_pass_gives_the_published_key_within_a_factor_two():
    """The default scenario's pass (Micius-like orbit over Xinglong, peak 48.5°, closest ≈ 635 km) over the
    ticks with slant range ≤ the pass's published largest range: the key within ×2 of 300,939 bit."""
    from scenarios.build import prepare
    from scenarios.config import load_scenario

    data = {k: float(v[0]["value"]) for k, v in _micius().items() if k.startswith("pass_")}
    prepared = prepare(load_scenario(DEFAULT_SCENARIO))
    geometry, tick_s = prepared.geometry, prepared.scenario.run.tick_s
    window = np.flatnonzero(geometry.range_m <= data["pass_max_range_km"] * 1e3)
    assert window.size * tick_s == pytest.approx(data["pass_duration_s"], abs=10)  # the same stretch of pass
    key_bits = tick_s * sum(satellite_key_rate_bps(float(geometry.range_m[k]), float(geometry.elevation_rad[k]))
                            for k in window)
    factor = key_bits / data["pass_key_bits"]
    assert 1 / MICIUS_PASS_KEY_FACTOR <= factor <= MICIUS_PASS_KEY_FACTOR, key_bits


def test_gllp_infinite_decoy_limit_with_the_gys_parameters():
    """Ma, Qi, Zhao & Lo, PRA 72, 012326 (2005), GYS column of Table I: the key vanishes at ≈ 142 km."""
    gys = QkdHardware(clock_hz=2e6, detector_efficiency=0.045, dark_count_probability=1.7e-6, misalignment_error=0.033,
                      ec_inefficiency=1.22, sifting_factor=0.5, max_count_rate_hz=1e12)

    def rate(km: float) -> float:
        return optimal_key_rate(10 ** (-0.21 * km / 10), gys).per_pulse

    low, high = 100.0, 200.0
    assert rate(low) > 0 and rate(high) == 0
    while high - low > 0.01:
        mid = (low + high) / 2
        low, high = (mid, high) if rate(mid) > 0 else (low, mid)
    assert GYS_MAX_DISTANCE_KM[0] <= low <= GYS_MAX_DISTANCE_KM[1]


def test_signal_fraction_scales_the_key_linearly():
    half = QkdHardware(**{**SATELLITE_HARDWARE.__dict__, "signal_fraction": 0.5})
    full = QkdHardware(**{**SATELLITE_HARDWARE.__dict__, "signal_fraction": 1.0})
    assert secret_key_rate_bps(1e-3, half) == pytest.approx(0.5 * secret_key_rate_bps(1e-3, full), rel=1e-6)


def test_link_budget_parts_add_up():
    el = _elevation_for_range(1000e3)
    budget = link_budget("satellite", range_m=1000e3, elevation_rad=el)
    assert budget.loss_db == pytest.approx(free_space_loss_db(1000e3, el, SATELLITE_TERMINAL))
    assert budget.loss_with_detector_db - budget.loss_db == pytest.approx(-10 * math.log10(SATELLITE_HARDWARE.detector_efficiency))
    assert budget.key.rate_bps == pytest.approx(satellite_key_rate_bps(1000e3, el))
    assert not budget.zero_key and not budget.key.capped
    fiber = link_budget("fiber", length_m=50e3)
    assert fiber.loss_db == pytest.approx(10.0) and fiber.key.rate_bps == pytest.approx(fiber_key_rate_bps(50e3))
    blocked = link_budget("uav", range_m=1000.0, cloudy=True)
    assert blocked.loss_db == math.inf and blocked.zero_key
    assert link_budget("fiber", length_m=400e3).zero_key
    assert link_budget("uav", range_m=1000.0).key.rate_bps == pytest.approx(uav_key_rate_bps(1000.0))


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
    el = np.radians([5.0, 20.0, 20.0, 20.0, 20.0])
    sun = np.radians([-20.0, -20.0, 5.0, -20.0, -20.0])
    ok = satellite_qkd_available(el, sun, np.array([0.0, 0.0, 0.0, 1.0, 0.3]))
    assert ok.tolist() == [False, True, False, False, True]  # a 30 % cover is below the default 0.5 blocking fraction
    assert satellite_qkd_available(math.radians(30), math.radians(-15)) is True
    assert satellite_qkd_available(math.radians(30), math.radians(-15), 0.3, cloud_block_fraction=0.2) is False
