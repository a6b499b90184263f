"""Channel models against closed forms and second moments (Yin et al. eq. 1–3)."""

import math
import zlib

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


# -- lag correlations of the simulated processes equal the configured ρ(τ) = exp(−τ/T_c) ----------
# Monte Carlo over many independent elements; tolerances are ≈ 5 standard errors.

def _lag_correlation(before: np.ndarray, after: np.ndarray) -> complex:
    return np.vdot(before, after) / np.sqrt(np.vdot(before, before).real * np.vdot(after, after).real)


@pytest.mark.parametrize("steps", [1, 3, 10])
def test_phase_random_walk_has_the_configured_correlation_at_every_lag(steps):
    from physical.channels import PhaseRandomWalk

    rho = gauss_markov_rho(1.0, 8.0)
    walk = PhaseRandomWalk(50_000, np.random.default_rng(11))
    start = walk.value.copy()
    for _ in range(steps):
        now = walk.step(rho)
    assert np.allclose(np.abs(now), 1.0)  # the phasors never lose their unit modulus
    corr = _lag_correlation(start, now)
    assert corr.real == pytest.approx(rho**steps, abs=0.02)
    assert abs(corr.imag) < 0.02
    # the phase of a complex AR(1) process (the former model) decorrelates much faster
    ar = GaussMarkov(50_000, np.random.default_rng(12))
    ar_start = np.exp(1j * np.angle(ar.value))
    for _ in range(steps):
        ar.step(rho)
    assert _lag_correlation(ar_start, np.exp(1j * np.angle(ar.value))).real < rho**steps - 0.03


@pytest.mark.parametrize("steps", [1, 5])
def test_gauss_markov_lag_correlation_is_rho_to_the_lag(steps):
    rho = gauss_markov_rho(1.0, 4.0)
    process = GaussMarkov(50_000, np.random.default_rng(13))
    start = process.value.copy()
    for _ in range(steps):
        process.step(rho)
    assert _lag_correlation(start, process.value).real == pytest.approx(rho**steps, abs=0.02)


@pytest.mark.parametrize("m, steps", [(1.0, 1), (2.0, 1), (2.0, 4), (4.0, 2)])
def test_nakagami_complex_correlation_matches_the_quadrature(m, steps):
    from physical.channels import nakagami_correlation

    rho = gauss_markov_rho(1.0, 5.0)
    fading = NakagamiFading(100_000, m, 1.0, np.random.default_rng(14))
    start = fading.value()
    for _ in range(steps):
        now = fading.step(rho)
    measured = np.vdot(start, now).real / len(start)  # E[g g'*] with Ω = 1
    assert measured == pytest.approx(nakagami_correlation(m, rho**steps), abs=0.015)
    assert nakagami_correlation(m, rho**steps) < rho**steps  # the amplitude's own memory lowers it a little


def test_nakagami_amplitude_correlation_limits():
    from physical.channels import nakagami_amplitude_correlation

    for m in (1.0, 2.0, 5.0):
        mean_sq = math.gamma(m + 0.5) ** 2 / (m * math.gamma(m) ** 2)  # (E a)² / Ω, independent amplitudes
        assert nakagami_amplitude_correlation(m, 0.0) == pytest.approx(mean_sq, rel=1e-6)
        assert nakagami_amplitude_correlation(m, 1.0) == pytest.approx(1.0, rel=1e-6)


def _static_geometry(receiver_m):
    from physical.channels import LinkGeometry

    return LinkGeometry(np.array([0.0, 0.0, 600e3]), math.pi / 2, np.zeros(3),
                        {"uav": np.array([0.0, 0.0, 100.0]), "bs": np.array([0.0, 0.0, 25.0])},
                        {r: np.asarray(receiver_m, float) for r in ("su", "au", "gu", "e")}, 0.0)


def test_channel_model_processes_keep_the_configured_coherence():
    from physical.channel_matrix import Topology
    from physical.channels import ChannelModel, large_scale, nakagami_correlation, rician_weights
    from physical.snapshot import paper_radio
    from tests.conftest import with_coherence

    radio = with_coherence(paper_radio(4000), satellite=30.0, uav=10.0, bs=6.0)
    geo = _static_geometry((100.0, 50.0, 1.5))
    model = ChannelModel(radio, Topology.paper(radio.antenna_counts()), lambda name: np.random.default_rng(zlib.crc32(name.encode())))
    big = large_scale(radio, geo)
    k1, k2 = rician_weights(radio.transmitters["uav"].rician_k)
    first = model.step(0.0, geo)
    second = model.step(2.0, geo)
    sat = _lag_correlation(first["satellite", "su"], second["satellite", "su"]).real
    assert sat == pytest.approx(math.exp(-2.0 / 30.0), abs=0.03)
    scattered = [(ch["uav", "su"] / big.amplitude["uav", "su"] - k1 * big.los["uav", "su"]) / k2 for ch in (first, second)]
    assert _lag_correlation(*scattered).real == pytest.approx(math.exp(-2.0 / 10.0), abs=0.03)
    g0, g1 = first["bs", "su"] / big.amplitude["bs", "su"], second["bs", "su"] / big.amplitude["bs", "su"]
    m = radio.transmitters["bs"].nakagami_m
    assert (np.vdot(g0, g1).real / len(g0)) == pytest.approx(nakagami_correlation(m, math.exp(-2.0 / 6.0)), abs=0.04)


def test_uav_line_of_sight_carries_the_range_phase():
    from physical.channels import line_of_sight

    lam = wavelength_m(2.4e9)
    d = np.array([30.0, 40.0, -75.0])
    los = line_of_sight(4, lam, d)
    distance = np.linalg.norm(d)
    assert los[0] == pytest.approx(np.exp(-2j * math.pi * distance / lam), abs=1e-9)
    # moving a quarter wavelength further along the line of sight turns the phase by −π/2
    further = line_of_sight(4, lam, d * (1 + lam / 4 / distance))
    assert np.angle(further[0] / los[0]) == pytest.approx(-math.pi / 2, abs=1e-6)
    assert np.allclose(np.abs(los), 1.0)


def test_jakes_coherence_time_follows_speed_and_carrier():
    from dataclasses import replace

    from physical.snapshot import paper_radio

    radio = replace(paper_radio(4), coherence_model="jakes", jakes_min_speed_mps=0.5)
    lam = wavelength_m(2.4e9)
    assert radio.coherence_s("uav", 10.0) == pytest.approx(0.423 * lam / 10.0)  # ≈ 5.3 ms at 10 m/s and 2.4 GHz
    assert radio.coherence_s("bs", 0.0) == pytest.approx(0.423 * lam / 0.5)  # the speed floor
    configured = paper_radio(4)
    assert configured.coherence_s("uav", 10.0) == configured.transmitters["uav"].coherence_s


def test_uav_velocity_is_the_derivative_of_its_position():
    from physical.mobility import WaypointTrajectory

    plan = WaypointTrajectory(np.array([[-150.0, -100.0, 100.0], [150.0, -100.0, 100.0], [150.0, 100.0, 100.0]]), 10.0, loop=False)
    for t in (1.0, 17.3, 33.0, 45.0):
        numeric = (plan.position_m(t + 1e-4) - plan.position_m(t - 1e-4)) / 2e-4
        assert np.allclose(plan.velocity_mps(t), numeric, atol=1e-6)
    assert np.allclose(plan.velocity_mps(1000.0), 0.0)  # hovering at the last waypoint


def test_large_scale_per_link_closed_forms_and_a_transmitter_subset():
    """Every link of the vectorised large-scale model against eq. 1–3 written out per link; a subset of
    transmitters gives the same links (the predictor asks for one transmitter's links)."""
    from dataclasses import replace

    from physical.channels import large_scale
    from physical.snapshot import paper_radio

    radio = paper_radio(4)
    geo = _static_geometry((100.0, 50.0, 1.5))
    geo.receivers_m.update(au=np.array([-80.0, 120.0, 60.0]), e=np.array([180.0, -150.0, 1.5]))
    big = large_scale(radio, geo)
    lam, noise = wavelength_m(radio.carrier_freq_hz), radio.noise_w
    boresight = (geo.beam_centre_m - geo.satellite_m) / math.dist(geo.beam_centre_m, geo.satellite_m)
    for r, rx in geo.receivers_m.items():
        to_rx = rx - geo.satellite_m
        d = math.dist(rx, geo.satellite_m)
        off_axis = math.acos(min(1.0, float(boresight @ to_rx) / d))
        u = 2.07123 * math.sin(off_axis) / math.sin(radio.sat_beam_3db_rad)
        u = max(u, 1e-6)
        beam = radio.sat_max_gain * (special.jv(1, u) / (2 * u) + 36 * special.jv(3, u) / u**3) ** 2
        assert big.amplitude["satellite", r] == pytest.approx(math.sqrt((lam / (4 * math.pi * d)) ** 2 * beam / noise), rel=1e-9)
        uav_d = math.dist(rx, geo.transmitters_m["uav"])
        assert big.amplitude["uav", r] == pytest.approx(math.sqrt(radio.transmitters["uav"].ref_gain / uav_d**2 / noise), rel=1e-12)
        cos_angle = (rx - geo.transmitters_m["uav"])[0] / uav_d
        n = np.arange(radio.transmitters["uav"].antennas)
        expected_los = np.exp(-2j * math.pi * uav_d / lam) * np.exp(-1j * math.pi * n * cos_angle)
        assert np.allclose(big.los["uav", r], expected_los, atol=1e-9)
        bs_d = math.dist(rx, geo.transmitters_m["bs"])
        assert big.amplitude["bs", r] == pytest.approx(math.sqrt(radio.transmitters["bs"].ref_gain / bs_d**4 / noise), rel=1e-12)
    for tx in radio.transmitters:
        alone = large_scale(radio, geo, (tx,))
        assert set(alone.amplitude) == {(tx, r) for r in geo.receivers_m}
        assert all(alone.amplitude[k] == big.amplitude[k] for k in alone.amplitude)
        assert all(np.array_equal(alone.los[k], big.los[k]) for k in alone.los)
    higher_mask = replace(radio, sat_min_elevation_rad=geo.satellite_elevation_rad + 0.01)
    below = large_scale(higher_mask, geo, ("satellite",))
    assert set(below.amplitude.values()) == {0.0}  # below the minimum elevation the satellite does not serve


@pytest.mark.parametrize("m, omega", [(2.0, 1.0), (0.6, 2.5), (5.0, 0.3)])
def test_nakagami_amplitude_is_scipys_quantile_of_the_gaussian_state(m, omega):
    """The copula amplitude is F⁻¹(Φ(x)) with scipy's own Nakagami quantile (the same floats, no drift)."""
    from scipy import stats

    fading = NakagamiFading(6, m, omega, np.random.default_rng(5))
    for _ in range(50):
        q = np.clip(stats.norm.cdf(fading._x), 1e-15, 1 - 1e-15)
        expected = stats.nakagami(m, scale=math.sqrt(omega)).ppf(q) * fading._phase.value
        np.testing.assert_array_equal(fading.value(), expected)
        fading.step(0.8)
