"""The twin's channel predictor and the statistical designs, against independent Monte Carlo.

The physical channel model (:mod:`physical.channels`) generates the truth; the predictor only sees
reports at t₀ and its own models. Checks: the forecast error is orthogonal to the report and has
zero mean (MMSE, unbiased), its realised power matches the predicted covariance (calibrated), the
prediction beats persistence, the learned coherence converges, the statistical synergy design is the
nominal one when C = 0, and the expected rates equal the exact ones for a degenerate forecast.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from physical.channels import ChannelModel, GaussMarkov, estimate_with_error, gauss_markov_rho
from physical.mobility import LinearMotion, WaypointTrajectory
from physical.reports import TransmitterReport
from physical.channel_matrix import Topology
from physical.secrecy import RECEIVERS, TRANSMITTER_PREFIX, USERS, secrecy_rates_of
from physical.snapshot import paper_radio
from twin.precoding import PrecodingProblem
from twin.precoding.baselines import BASELINE_KINDS
from twin.precoding.slnr import slnr_direction
from twin.precoding.synergy import SynergyPrecoder
from twin.prediction import ChannelPredictor, Forecast, LagCorrelation, SatelliteTrack, TwinKnowledge
from tests.conftest import with_coherence

RADIO = replace(with_coherence(paper_radio(4), satellite=60.0, uav=20.0, bs=20.0), sat_min_elevation_rad=math.radians(10))
TOPOLOGY = Topology.paper()
DELTA = 0.1
RECEIVER_TRACKS = {
    "su": LinearMotion((250.0, 150.0, 2.0)), "au": LinearMotion((-80.0, 120.0, 60.0), (0.5, 0.0, 0.0)),
    "gu": LinearMotion((80.0, -60.0, 1.5), (0.0, 1.0, 0.0)), "e": LinearMotion((180.0, -150.0, 1.5)),
}


def _knowledge() -> TwinKnowledge:
    times = np.arange(0.0, 200.0, 1.0)
    enu = np.stack([-300e3 + 7_000.0 * times, np.full_like(times, 50e3), np.full_like(times, 600e3)], axis=1)
    elevation = np.arctan2(enu[:, 2], np.hypot(enu[:, 0], enu[:, 1]))
    plan = WaypointTrajectory(np.array([[-150.0, -100.0, 100.0], [150.0, -100.0, 100.0], [150.0, 100.0, 100.0]]), 10.0, True)
    return TwinKnowledge(RADIO, TOPOLOGY, SatelliteTrack(times, enu, elevation), np.zeros(3), {"uav": plan},
                         {"bs": np.array([0.0, 0.0, 25.0])}, DELTA)


KNOW = _knowledge()


def _truth(model: ChannelModel, t_s: float):
    positions = {r: RECEIVER_TRACKS[r].position_m(t_s) for r in RECEIVERS}
    return model.step(t_s, KNOW.geometry(t_s, positions, 0.0))


def _reports(channels, t_s: float, rng) -> dict[str, TransmitterReport]:
    positions = {r: RECEIVER_TRACKS[r].position_m(t_s) for r in RECEIVERS}
    velocities = {r: np.asarray(RECEIVER_TRACKS[r].velocity_mps, float) for r in RECEIVERS}
    return {
        tx: TransmitterReport(tx, t_s, {u: channels[tx, u] for u in USERS},
                              {"e": estimate_with_error(channels[tx, "e"], DELTA, rng)}, 1.0, np.zeros(3),
                              receivers_m=positions, receivers_velocity_mps=velocities)
        for tx in TRANSMITTER_PREFIX
    }


@pytest.fixture(scope="module")
def trials():
    """(forecast, persistence, truth) for 400 independent channel realisations, τ = 1.5 s."""
    out = []
    t0, tau = 40.0, 1.5
    for seed in range(400):
        model = ChannelModel(RADIO, TOPOLOGY, lambda name, s=seed: np.random.default_rng(np.random.SeedSequence(s, spawn_key=(zlib.crc32(name.encode()),))))
        now = _truth(model, t0)
        reports = _reports(now, t0, np.random.default_rng(10_000 + seed))
        later = _truth(model, t0 + tau)
        forecast = ChannelPredictor(KNOW).forecast(reports, 0.0, (t0 + tau,), t0)
        out.append((forecast, reports, now, later))
    return out


@pytest.mark.parametrize("transmitter", ["satellite", "uav", "bs"])
@pytest.mark.parametrize("receiver", ["su", "gu", "e"])
def test_forecast_is_unbiased_orthogonal_and_calibrated(trials, transmitter, receiver):
    name = (transmitter, receiver)
    errors, reported, predicted_power = [], [], []
    for forecast, reports, now, later in trials:
        errors.append(later[name] - forecast.means[0][name])
        reported.append(now[name])
        predicted_power.append(np.trace(forecast.covariances[0][name]).real)
    err, h0 = np.concatenate(errors), np.concatenate(reported)
    squared = np.abs(err) ** 2
    power = np.mean(squared)
    standard_error = np.std(squared) / math.sqrt(len(squared)) / power  # relative; Nakagami errors are heavy-tailed
    # unbiased: zero mean error, and orthogonal to the report it was made from (MMSE)
    assert abs(np.mean(err)) < 0.1 * math.sqrt(power)
    assert abs(np.vdot(h0, err)) / len(err) < 0.1 * math.sqrt(power * np.mean(np.abs(h0) ** 2))
    # calibrated: the realised error power is the predicted one (Eve's includes the estimation error)
    assert power * 4 / np.mean(predicted_power) == pytest.approx(1.0, abs=4 * standard_error + 0.03)


@pytest.mark.parametrize("transmitter, factor", [("uav", 0.1), ("bs", 1.0)])
def test_prediction_beats_persistence(trials, transmitter, factor):
    # the UAV flies 15 m in 1.5 s: its line of sight turns by hundreds of radians, which the plan predicts;
    # for the base station the MMSE coefficient only shrinks the report: error (1 − c²) vs 2(1 − c)
    name = (transmitter, "gu")
    predicted = np.mean([np.sum(np.abs(later[name] - f.means[0][name]) ** 2) for f, _, _, later in trials])
    persisted = np.mean([np.sum(np.abs(later[name] - now[name]) ** 2) for _, _, now, later in trials])
    assert predicted < factor * persisted


def test_lag_correlation_learns_the_true_coherence_from_a_wrong_prior():
    rng = np.random.default_rng(5)
    learned = LagCorrelation(prior_coherence_s=50.0)
    process = GaussMarkov(8, rng)
    rho = gauss_markov_rho(1.0, 5.0)
    for _ in range(2_000):
        before = process.value.copy()
        learned.observe(before, process.step(rho), 1.0)
    assert learned.coherence_s == pytest.approx(5.0, rel=0.1)
    assert learned.power == pytest.approx(1.0, rel=0.1)
    assert learned.correlation(2.0) == pytest.approx(math.exp(-2.0 / 5.0), abs=0.03)


def test_predictor_scores_its_forecasts_near_one_when_its_model_is_right():
    predictor = ChannelPredictor(KNOW)
    model = ChannelModel(RADIO, TOPOLOGY, lambda name: np.random.default_rng(zlib.crc32(name.encode())))
    rng = np.random.default_rng(3)
    for k in range(300):
        reports = _reports(_truth(model, float(k)), float(k), rng)
        for report in reports.values():
            predictor.observe(report, 0.0)
        predictor.forecast(reports, 0.0, (float(k + 1),), float(k))
    for tx in TRANSMITTER_PREFIX:
        assert predictor.calibration[tx].ratio == pytest.approx(1.0, abs=0.25), tx
    assert predictor.fading["uav"].coherence_s == pytest.approx(RADIO.transmitters["uav"].coherence_s, rel=0.4)


def _problem(forecast: Forecast, moments: bool) -> PrecodingProblem:
    return PrecodingProblem(forecast.design_matrix(), {"satellite": 10.0, "uav": 3.16, "bs": 31.6}, eve_error_bound=DELTA,
                            second_moments=forecast.second_moments() if moments else None)


def test_statistical_design_is_the_nominal_design_when_the_covariance_is_zero(trials):
    forecast = trials[0][0]
    exact = Forecast(TOPOLOGY, forecast.times_s, forecast.means, tuple({k: 0 * c for k, c in cov.items()} for cov in forecast.covariances), 0.0)
    nominal = SynergyPrecoder().solve(_problem(exact, moments=False))
    statistical = SynergyPrecoder(statistical=True, starts=BASELINE_KINDS).solve(_problem(exact, moments=True))
    assert statistical.objective_history == pytest.approx(nominal.objective_history, rel=1e-7, abs=1e-9)
    for a, b in zip((statistical.w, statistical.f, statistical.v), (nominal.w, nominal.f, nominal.v)):
        assert np.allclose(a, b, rtol=1e-6, atol=1e-9)


def test_expected_rates_of_a_degenerate_forecast_are_the_exact_rates(trials):
    forecast, _, now, _ = trials[1]
    exact = Forecast(TOPOLOGY, (0.0,), (forecast.means[0],), ({k: 0 * c for k, c in forecast.covariances[0].items()},), 0.0)
    rng = np.random.default_rng(1)
    w, f, v = (rng.standard_normal(4) + 1j * rng.standard_normal(4) for _ in range(3))
    per_user, expected_min = exact.expected_rates(dict(zip(USERS, (w, f, v))))
    truth = secrecy_rates_of(exact.design_matrix(), dict(zip(USERS, (w, f, v))))
    assert per_user == pytest.approx(truth.rates, rel=1e-9, abs=1e-12)
    assert expected_min == pytest.approx(truth.min_rate, rel=1e-9, abs=1e-12)


def test_statistical_design_beats_the_nominal_one_on_the_true_channel(trials):
    nominal, statistical = [], []
    for forecast, _, _, later in trials[:12]:
        for moments, out in ((False, nominal), (True, statistical)):
            design = SynergyPrecoder(statistical=moments).solve(_problem(forecast, moments))
            out.append(secrecy_rates_of(later, design.precoders).min_rate)
    assert np.mean(statistical) > 1.5 * np.mean(nominal)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(0, 2**31 - 1), st.floats(0.01, 100.0))
def test_slnr_direction_maximises_the_generalised_rayleigh_quotient(n, seed, limit):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((n, 2)) + 1j * rng.standard_normal((n, 2))
    signal = np.outer(h[:, 0], h[:, 0].conj()) + 0.1 * np.eye(n)
    leakage = np.outer(h[:, 1], h[:, 1].conj())
    u = slnr_direction(signal, leakage, limit)
    assert np.linalg.norm(u) == pytest.approx(1.0)

    def quotient(x):
        return np.vdot(x, signal @ x).real / np.vdot(x, (leakage + np.eye(n) / limit) @ x).real

    others = rng.standard_normal((20, n)) + 1j * rng.standard_normal((20, n))
    assert all(quotient(u) >= quotient(x) * (1 - 1e-9) for x in others)


@pytest.mark.parametrize("n", [1, 2, 4, 7])
def test_expectation_draws_of_a_scaled_identity_are_the_eigendecomposition_draws(n):
    """C = v·I (what the predictor hands out) takes a shortcut; it matches the square root by
    eigendecomposition, and a general covariance's draws still have that covariance."""
    from twin.prediction import _UNIT_DRAWS, EXPECTATION_DRAWS, _draws, _stacked_draws

    rng = np.random.default_rng(n)
    mean = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    for v in (1e-12, 0.37, 4.0e6):
        samples = _draws(mean, v * np.eye(n))
        vals, vecs = np.linalg.eigh(v * np.eye(n) + 0j)
        root = (vecs * np.sqrt(vals)) @ vecs.conj().T
        np.testing.assert_allclose(samples, mean[None, :] + _UNIT_DRAWS[n, 0] @ root.T, rtol=1e-12, atol=0.0)
        assert samples.shape == (EXPECTATION_DRAWS, n)
    np.testing.assert_array_equal(_draws(mean, np.zeros((n, n), complex)), np.broadcast_to(mean, (EXPECTATION_DRAWS, n)))
    a = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    cov = a @ a.conj().T
    links = [(mean, 0.5 * np.eye(n)), (2 * mean, np.zeros((n, n))), (mean, 3.0 * np.eye(n) + 0j)]
    for chosen in (links, links + [(mean, cov)]):  # all v·I: one product; a general C: link by link
        links = range(3, 3 + len(chosen))
        stacked = _stacked_draws([m for m, _ in chosen], [c for _, c in chosen], links)
        np.testing.assert_array_equal(stacked, np.stack([_draws(m, c, link) for (m, c), link in zip(chosen, links)]))
    samples = _draws(np.zeros(n), cov)
    empirical = samples.T @ samples.conj() / EXPECTATION_DRAWS
    assert np.linalg.norm(empirical - cov) < 0.5 * np.linalg.norm(cov)  # 256 fixed draws: a rough quadrature


def test_a_forecast_after_learning_from_a_report_is_the_forecast_of_a_predictor_that_never_saw_it_learn(trials):
    """Learning and forecasting share the large-scale model at the report's instant; under another rain fade, or for
    another report of the same transmitter, it is computed anew (compared with a predictor that did not learn)."""
    _, reports, _, _ = trials[0]
    t0 = next(iter(reports.values())).measured_at_s
    learned = ChannelPredictor(KNOW)
    for report in reports.values():
        learned.observe(report, 0.0)
    for rain_db in (0.0, 6.0):
        fresh = ChannelPredictor(KNOW).forecast(reports, rain_db, (t0 + 1.0,), t0)
        again = learned.forecast(reports, rain_db, (t0 + 1.0,), t0)
        for pair, mean in fresh.means[0].items():
            np.testing.assert_array_equal(again.means[0][pair], mean)
            np.testing.assert_array_equal(again.covariances[0][pair], fresh.covariances[0][pair])
    # the shared model follows the rain fade (which cancels in the forecasts' ratios above)
    report = reports["satellite"]
    clear = learned._large_scale_at_report(report, 0.0).amplitude["satellite", "su"]
    faded = learned._large_scale_at_report(report, 6.0).amplitude["satellite", "su"]
    assert faded == learned._large_scale_at(report, t0, 6.0).amplitude["satellite", "su"]
    assert faded == pytest.approx(clear * 10 ** (-6.0 / 20))


def test_expected_rates_match_monte_carlo_with_independent_links():
    """Every link a zero-mean CN(0, v·I) (the forecast when the fading decorrelates between ticks,
    c ≈ 0): the expected rates and the expected min rate equal an independent Monte Carlo of the
    same distribution, links drawn independently as the true fading is. The draws of different links
    used to be the same ξ scaled: users' and Eve's channels moved together and E[min_k R_k] was
    overstated by 41 % here (1.88 against 1.33; the Jakes plan gap)."""
    rng = np.random.default_rng(7)
    means = {(tx, r): np.zeros(4, complex) for tx in TOPOLOGY.transmitters for r in TOPOLOGY.receivers}
    own, cross, eve = 20.0, 0.5, 2.0  # noise units: a strong own link, weak interference, Eve in between
    covs = {(tx, r): (eve if r == "e" else own if TOPOLOGY.serving[r] == tx else cross) * np.eye(4) + 0j for tx, r in means}
    forecast = Forecast(TOPOLOGY, (1.0,), (means,), (covs,), 0.0)
    precoders = {u: rng.standard_normal(4) + 1j * rng.standard_normal(4) for u in USERS}
    per_user, expected_min = forecast.expected_rates(precoders)

    draws = 40_000
    power = {}
    for u in USERS:
        tx = TOPOLOGY.serving[u]
        for r in TOPOLOGY.receivers:
            h = (rng.standard_normal((draws, 4)) + 1j * rng.standard_normal((draws, 4))) * math.sqrt(covs[tx, r][0, 0].real / 2)
            power[u, r] = np.abs(h.conj() @ precoders[u]) ** 2
    eve_total = sum(power[u, "e"] for u in USERS) + 1.0
    rates = {}
    for u in USERS:
        total = sum(power[v, u] for v in USERS) + 1.0
        rates[u] = np.maximum(0.0, np.log2(total / (total - power[u, u])) - np.log2(eve_total / (eve_total - power[u, "e"])))
    truth_min = np.min(np.stack(list(rates.values())), axis=0).mean()
    assert expected_min == pytest.approx(truth_min, rel=0.1)
    for u in USERS:
        assert per_user[u] == pytest.approx(rates[u].mean(), rel=0.1)
