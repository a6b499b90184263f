"""Channel models against closed forms and second moments (Yin et al. eq. 1–3)."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special

from physical.channels import (
    GaussMarkov,
    NakagamiFading,
    bs_large_scale_gain,
    estimate_with_error,
    free_space_gain,
    gauss_markov_rho,
    spot_beam_gain,
    uav_large_scale_gain,
    ula_response,
)
from physical.units import db_to_linear, linear_to_db, wavelength_m

G_MAX = db_to_linear(46.0)
THETA_3DB = math.radians(0.4)


def test_free_space_loss_at_600_km_and_2_4_ghz():
    # Friis: 20·log10(4π·600e3/λ) with λ = c/2.4 GHz = 155.61 dB (the figure quoted in DESIGN.md)
    loss_db = -linear_to_db(free_space_gain(wavelength_m(2.4e9), 600e3))
    assert loss_db == pytest.approx(20 * math.log10(4 * math.pi * 600e3 * 2.4e9 / 299_792_458.0), abs=1e-9)
    assert loss_db == pytest.approx(155.6, abs=0.05)


@given(st.floats(1.0, 1e7), st.floats(1.0, 1e7))
def test_free_space_gain_falls_with_distance(r1, r2):
    lam = 0.125
    if r1 < r2:
        assert free_space_gain(lam, r1) > free_space_gain(lam, r2)


def test_beam_gain_limits():
    # boresight: J1(u)/(2u) → 1/4 and 36·J3(u)/u³ → 36/48, so b(0) = G_max
    assert spot_beam_gain(0.0, THETA_3DB, G_MAX) == pytest.approx(G_MAX, rel=1e-9)
    # at the 3-dB angle the ITU pattern is half the peak (within 0.1 dB)
    assert linear_to_db(spot_beam_gain(THETA_3DB, THETA_3DB, G_MAX) / G_MAX) == pytest.approx(-3.0, abs=0.1)
    # explicit Bessel evaluation at an arbitrary angle
    alpha = math.radians(0.25)
    u = 2.07123 * math.sin(alpha) / math.sin(THETA_3DB)
    expected = G_MAX * (special.jv(1, u) / (2 * u) + 36 * special.jv(3, u) / u**3) ** 2
    assert spot_beam_gain(alpha, THETA_3DB, G_MAX) == pytest.approx(expected, rel=1e-12)


def test_beam_gain_decreases_inside_main_lobe():
    angles = np.linspace(0, THETA_3DB, 50)
    assert np.all(np.diff(spot_beam_gain(angles, THETA_3DB, G_MAX)) < 0)


def test_large_scale_gains_closed_forms():
    g0 = db_to_linear(-40.0)
    assert uav_large_scale_gain(g0, math.hypot(100.0, 100.0)) == pytest.approx(g0 / 20_000.0)
    c0 = db_to_linear(-38.46)
    assert linear_to_db(bs_large_scale_gain(c0, 100.0)) == pytest.approx(-38.46 - 80.0)


def test_ula_response_is_unit_modulus_and_broadside_is_flat():
    resp = ula_response(8, np.array([0.0, 1.0, 0.0]))
    assert np.allclose(np.abs(resp), 1.0)
    assert np.allclose(resp, 1.0)  # broadside: no phase progression


def test_gauss_markov_is_stationary_with_lag_one_correlation_rho():
    rng = np.random.default_rng(1)
    rho = gauss_markov_rho(1.0, 5.0)
    process = GaussMarkov(20_000, rng)
    before = process.value.copy()
    after = process.step(rho)
    assert np.mean(np.abs(after) ** 2) == pytest.approx(1.0, abs=0.03)
    corr = np.vdot(before, after).real / len(before)
    assert corr == pytest.approx(rho, abs=0.03)


@pytest.mark.parametrize("m, omega", [(1.0, 1.0), (2.0, 1.0), (3.5, 2.0)])
def test_nakagami_moments(m, omega):
    # E|g|² = Ω and E|g|⁴ = Ω²(1 + 1/m) for Nakagami-m amplitudes, also after AR(1) steps
    fading = NakagamiFading(200_000, m, omega, np.random.default_rng(2))
    for _ in range(3):
        g = fading.step(0.8)
    power = np.abs(g) ** 2
    assert power.mean() == pytest.approx(omega, rel=0.02)
    assert (power**2).mean() == pytest.approx(omega**2 * (1 + 1 / m), rel=0.04)
    phases = np.angle(g)
    assert abs(np.mean(np.exp(1j * phases))) < 0.01  # uniform phase


def test_rician_second_moment_matches_large_scale_gain():
    # a = sqrt(G_L)(sqrt(K/(K+1))·a_LoS + sqrt(1/(K+1))·a_Ray) has E|a_n|² = G_L
    k = db_to_linear(10.0)
    g_l = 3e-6
    rng = np.random.default_rng(3)
    ray = GaussMarkov(100_000, rng).value
    los = np.exp(1j * 0.3)
    a = math.sqrt(g_l) * (math.sqrt(k / (k + 1)) * los + math.sqrt(1 / (k + 1)) * ray)
    assert np.mean(np.abs(a) ** 2) == pytest.approx(g_l, rel=0.01)
    # and the K factor: |E a|² / var(a) = K
    assert abs(a.mean()) ** 2 / a.var() == pytest.approx(k, rel=0.05)


@given(st.floats(0.0, 0.9), st.integers(1, 16), st.integers(0, 2**32 - 1))
def test_eve_estimate_error_has_the_configured_norm(delta, n, seed):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    estimate = estimate_with_error(h, delta, rng)
    assert np.linalg.norm(h - estimate) == pytest.approx(delta * np.linalg.norm(h), rel=1e-9, abs=1e-12)
