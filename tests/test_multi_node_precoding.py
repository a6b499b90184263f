"""Every precoder on topologies beyond the paper's (issue 13): 5 transmitters, 9 users, 2 Eves;
reordered and extended paper instances; ZF nulls; the robust guarantee over the error balls."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from physical.channel_matrix import ChannelMatrix, Topology
from physical.secrecy import secrecy_rates_of
from precoding_instances import multi_node_problem, paper_problem
from twin.precoding import PRECODERS, STATUS_FAILED, STATUS_OK, PrecodingProblem
from twin.precoding.baselines import (
    BASELINE_KINDS,
    baseline_directions,
    best_baseline,
    secrecy_rate_jacobian,
    secrecy_rates_from_powers,
)
from twin.precoding.synergy import ACCEPT_TOL

POWER_RTOL = 1e-6  #: relative slack on Σ_{k∈t} ‖x_k‖² ≤ P_t
NULL_RTOL = 1e-9  #: ZF leakage |h^H x| relative to ‖h‖·‖x‖
RATE_TOL = 1e-3  #: bit/s/Hz: SCA results agree to its stopping tolerance ε
NON_BINDING_RATE_TOL = 0.05  #: bit/s/Hz: SCA rates of users above the minimum are not unique ...
NON_BINDING_RATE_RTOL = 0.01  #: ... nor is the spare power a user far above it gets (12.69 vs 12.75 bit/s/Hz measured, synergy-stat)
DELTA = 0.1  #: Eve-CSI error bound Δ of the instances
CLOSED_FORMS = ("mrt-full", "mrt", "zf", "zf-all", "slnr-stat")  #: deterministic beams and powers
SYNERGY = ("synergy", "synergy-stat", "synergy-robust")
DESIGN_VALUE = {"synergy": "lifted_min_rate", "synergy-stat": "moment_min_rate", "synergy-robust": "worst_case_min_rate"}


def reordered(problem: PrecodingProblem, transmitters, users, eves) -> PrecodingProblem:
    """The same problem with the topology's names listed in another order."""
    top = problem.topology
    new = Topology(transmitters, users, eves, top.serving, top.antennas)
    matrix = ChannelMatrix.from_vectors(new, {(t, r): problem.matrix[t, r] for t in transmitters for r in new.receivers})
    return PrecodingProblem(matrix, dict(problem.power_limits_w), eve_error_bound=problem.eve_error_bound)


def extended(problem: PrecodingProblem, idle_transmitter: bool, silent_eve: bool) -> PrecodingProblem:
    """Add a transmitter with zero power serving a new user that no other transmitter reaches, and/or
    an Eve whom no transmitter reaches (zero channels); the idle transmitter reaches everyone."""
    rng = np.random.default_rng(99)
    top = problem.topology
    txs, users, eves = top.transmitters, top.users, top.eves
    serving, antennas, limits = dict(top.serving), dict(top.antennas), dict(problem.power_limits_w)
    if idle_transmitter:
        txs, users = txs + ("idle",), users + ("far",)
        serving["far"], antennas["idle"], limits["idle"] = "idle", 3, 0.0
    if silent_eve:
        eves = eves + ("e_far",)
    new = Topology(txs, users, eves, serving, antennas)
    vectors = {}
    for t in txs:
        for r in new.receivers:
            if t in top.transmitters and r in top.receivers:
                vectors[(t, r)] = problem.matrix[t, r]
            elif t == "idle" and r != "e_far":
                vectors[(t, r)] = rng.standard_normal(antennas[t]) + 1j * rng.standard_normal(antennas[t])
            else:
                vectors[(t, r)] = np.zeros(antennas[t], complex)
    return PrecodingProblem(ChannelMatrix.from_vectors(new, vectors), limits, eve_error_bound=problem.eve_error_bound)


def general_paper_problem(seed: int, antennas=(4, 4, 4)) -> PrecodingProblem:
    problem, _ = paper_problem(seed, antennas=antennas, delta=DELTA)
    return problem


def same_up_to_phase(a: np.ndarray, b: np.ndarray, rtol: float) -> bool:
    """x and y differ by a unit complex factor (within ``rtol`` of their norms)."""
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    scale = max(na, nb, 1e-300)
    return abs(na - nb) <= rtol * scale and abs(abs(np.vdot(a, b)) - na * nb) <= rtol * scale**2


@pytest.fixture(scope="module")
def multi():
    """The multi-node instance (N = 4, Δ = 0.1) solved by every precoder."""
    problem, truth = multi_node_problem(0, antennas=4, delta=DELTA)
    return problem, truth, {name: PRECODERS[name]().solve(problem) for name in PRECODERS}


def test_the_instance_is_multi_node(multi):
    problem, _, _ = multi
    top = problem.topology
    assert len(top.transmitters) == 5 and len(top.users) == 9 and len(top.eves) == 2
    assert all(len(top.users_of(tx)) >= 1 for tx in top.transmitters) and len(top.users_of("satellite")) == 3
    assert problem.served == top.users


def test_power_limit_per_transmitter(multi):
    problem, _, results = multi
    top = problem.topology
    for name, r in results.items():
        assert set(r.precoders) == set(top.users), name
        for tx in top.transmitters:
            power = sum(np.vdot(r.precoders[u], r.precoders[u]).real for u in top.users_of(tx))
            assert power <= problem.power_limits_w[tx] * (1 + POWER_RTOL), (name, tx, power)
        # planned rates are the general secrecy maths on the design channels, min over the served users
        expected = secrecy_rates_of(problem.matrix, r.precoders, served=problem.served)
        assert r.planned.rates == pytest.approx(expected.rates, abs=1e-12)


def test_zf_all_fails_clearly_without_enough_antennas(multi):
    r = multi[2]["zf-all"]
    assert r.status == STATUS_FAILED and "needs >= 11 antennas" in r.message
    assert all(np.linalg.norm(x) == 0 for x in r.precoders.values())
    assert all(multi[2][name].status == STATUS_OK for name in ("mrt-full", "mrt", "zf", "slnr-stat"))


def test_zf_nulls_every_eve_estimate(multi):
    problem, _, results = multi
    top = problem.topology
    r = results["zf"]
    assert r.objective > 0
    for user, x in r.precoders.items():
        for eve in top.eves:
            h = problem.matrix[top.serving[user], eve]
            assert abs(np.vdot(h, x)) <= NULL_RTOL * np.linalg.norm(h) * max(np.linalg.norm(x), 1e-300)


def test_zf_all_nulls_every_other_receiver():
    problem, _ = multi_node_problem(1, antennas=11)
    top = problem.topology
    r = PRECODERS["zf-all"]().solve(problem)
    assert r.status == STATUS_OK and r.objective > 0
    for user, x in r.precoders.items():
        tx = top.serving[user]
        assert sum(np.vdot(r.precoders[u], r.precoders[u]).real for u in top.users_of(tx)) <= problem.power_limits_w[tx] * (1 + POWER_RTOL)
        for rx in top.receivers:
            if rx != user:
                h = problem.matrix[tx, rx]
                assert abs(np.vdot(h, x)) <= NULL_RTOL * np.linalg.norm(h) * max(np.linalg.norm(x), 1e-300)


@pytest.mark.parametrize("name", SYNERGY)
def test_synergy_ascends_from_its_start_and_reports_every_user(multi, name):
    problem, _, results = multi
    r = results[name]
    assert r.status == STATUS_OK, r.message
    history = np.array((r.extra["start_min_rate"],) + r.objective_history)
    assert r.iterations == len(r.objective_history) >= 1
    assert np.all(np.diff(history) >= -ACCEPT_TOL * np.maximum(1.0, np.abs(history[1:])))
    assert r.extra[DESIGN_VALUE[name]] >= r.extra["start_min_rate"] - RATE_TOL  # no worse than its start
    assert r.extra[DESIGN_VALUE[name]] > r.extra["start_min_rate"] + 0.1  # and the SCA did something
    assert len(r.eigen_ratios) == len(problem.topology.users) and min(r.eigen_ratios) >= 1.0


def test_nominal_synergy_beats_the_best_baseline(multi):
    problem, _, results = multi
    assert results["synergy"].objective >= best_baseline(problem).objective - RATE_TOL


@pytest.mark.parametrize("name", ("mrt-full", "mrt", "zf", "slnr-stat", "synergy"))
def test_mixed_antenna_counts(name):
    """Lifted matrices of different sizes in one program; power per transmitter still holds."""
    antennas = {"satellite": 8, "uav1": 4, "uav2": 5, "bs1": 6, "bs2": 7}
    problem, _ = multi_node_problem(3, antennas=antennas)
    top = problem.topology
    r = PRECODERS[name]().solve(problem)
    assert r.status == STATUS_OK, r.message
    for tx in top.transmitters:
        assert all(r.precoders[u].shape == (antennas[tx],) for u in top.users_of(tx))
        power = sum(np.vdot(r.precoders[u], r.precoders[u]).real for u in top.users_of(tx))
        assert power <= problem.power_limits_w[tx] * (1 + POWER_RTOL)
    if name == "synergy":
        history = np.array((r.extra["start_min_rate"],) + r.objective_history)
        assert np.all(np.diff(history) >= -ACCEPT_TOL * np.maximum(1.0, np.abs(history[1:])))
        assert r.objective >= best_baseline(problem).objective - RATE_TOL


def test_robust_worst_case_holds_in_every_error_ball(multi):
    problem, _, results = multi
    r = results["synergy-robust"]
    guaranteed = r.extra["worst_case_min_rate"]
    top = problem.topology
    rng = np.random.default_rng(7)
    lowest = np.inf
    for _ in range(100):  # every (transmitter, Eve) channel anywhere on its ball ‖δ‖ = Δ·‖ĥ‖
        vectors = {(t, rx): problem.matrix[t, rx] for t in top.transmitters for rx in top.receivers}
        for t in top.transmitters:
            for eve in top.eves:
                est = vectors[(t, eve)]
                d = rng.standard_normal(est.size) + 1j * rng.standard_normal(est.size)
                vectors[(t, eve)] = est + d * DELTA * np.linalg.norm(est) / np.linalg.norm(d)
        achieved = secrecy_rates_of(ChannelMatrix.from_vectors(top, vectors), r.precoders, served=problem.served)
        lowest = min(lowest, achieved.min_rate)
    assert lowest >= guaranteed - 1e-9
    assert guaranteed > 0


PAPER_ORDER = (("satellite", "uav", "bs"), ("su", "au", "gu"), ("e",))
PERMUTED = (("bs", "satellite", "uav"), ("gu", "su", "au"), ("e",))


@pytest.fixture(scope="module")
def paper_pair():
    base = general_paper_problem(3)
    return base, reordered(base, *PERMUTED)


@pytest.mark.parametrize("name", list(PRECODERS))
def test_reordering_the_paper_topology_changes_nothing(paper_pair, name):
    base, perm = paper_pair
    assert not perm.topology.is_paper
    a, b = PRECODERS[name]().solve(base), PRECODERS[name]().solve(perm)
    assert a.status == b.status == STATUS_OK
    if name in CLOSED_FORMS:
        assert b.objective == pytest.approx(a.objective, abs=1e-9)
        for user in base.topology.users:
            assert b.planned.rates[user] == pytest.approx(a.planned.rates[user], abs=1e-6)
            assert same_up_to_phase(a.precoders[user], b.precoders[user], 1e-6), user
    else:
        assert b.objective == pytest.approx(a.objective, abs=RATE_TOL)
        for user in base.topology.users:
            assert b.planned.rates[user] == pytest.approx(a.planned.rates[user], abs=NON_BINDING_RATE_TOL, rel=NON_BINDING_RATE_RTOL)
            assert min(a.planned.rates[user], b.planned.rates[user]) >= a.objective - RATE_TOL  # every user gets at least the common minimum


@pytest.mark.parametrize("name", ("mrt-full", "zf", "slnr-stat"))
def test_reordering_the_multi_node_topology_changes_nothing(multi, name):
    problem, _, results = multi
    top = problem.topology
    perm = reordered(problem, top.transmitters[::-1], top.users[::-1], top.eves[::-1])
    a, b = results[name], PRECODERS[name]().solve(perm)
    for user in top.users:  # these max-min solutions are unique (all rates equal, or fixed powers)
        assert b.planned.rates[user] == pytest.approx(a.planned.rates[user], abs=1e-5)
        assert same_up_to_phase(a.precoders[user], b.precoders[user], 1e-4), user
    for kind in BASELINE_KINDS:  # the beams themselves, before any power optimisation
        for u, d in zip(perm.topology.users, baseline_directions(kind, perm.matrix)):
            assert same_up_to_phase(d, baseline_directions(kind, problem.matrix)[top.users.index(u)], 1e-12)


@pytest.mark.parametrize("idle_transmitter, silent_eve", [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize("name", CLOSED_FORMS)
def test_an_idle_transmitter_or_a_silent_eve_leaves_closed_forms_exactly_unchanged(name, idle_transmitter, silent_eve):
    base = general_paper_problem(3, antennas=(5, 5, 5))
    bigger = extended(base, idle_transmitter, silent_eve)
    a, b = PRECODERS[name]().solve(base), PRECODERS[name]().solve(bigger)
    assert a.status == b.status == STATUS_OK
    assert b.objective == a.objective
    for user in base.topology.users:
        assert np.array_equal(a.precoders[user], b.precoders[user]), user
    if idle_transmitter:
        assert "far" not in bigger.served and np.linalg.norm(b.precoders["far"]) == 0


@pytest.mark.parametrize("name", SYNERGY)
def test_an_idle_transmitter_and_a_silent_eve_leave_synergy_unchanged(name):
    base = general_paper_problem(3, antennas=(5, 5, 5))
    bigger = extended(base, True, True)
    a, b = PRECODERS[name]().solve(base), PRECODERS[name]().solve(bigger)
    assert a.status == b.status == STATUS_OK, b.message
    assert b.extra["start_method"] == a.extra["start_method"]
    assert b.objective == pytest.approx(a.objective, abs=RATE_TOL)
    assert np.linalg.norm(b.precoders["far"]) == 0 and len(b.eigen_ratios) == 4


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), users=st.integers(1, 9), eves=st.integers(1, 3))
def test_secrecy_rate_jacobian_matches_central_differences(seed, users, eves):
    rng = np.random.default_rng(seed)
    gains = rng.uniform(0.0, 5.0, (users, users + eves)) * rng.choice([1e-2, 1.0, 1e2], (users, users + eves))
    powers = rng.uniform(0.05, 3.0, users)
    step = 1e-6 * powers
    numeric = np.array([(secrecy_rates_from_powers(gains, powers + h * e) - secrecy_rates_from_powers(gains, powers - h * e))
                        / (2 * h) for h, e in zip(step, np.eye(users))]).T
    analytic = secrecy_rate_jacobian(gains, powers)
    assert analytic.shape == (users, users)
    assert np.allclose(analytic, numeric, rtol=1e-4, atol=1e-6 * max(1.0, np.abs(numeric).max()))
