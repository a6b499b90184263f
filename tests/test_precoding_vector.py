"""The vector-space synergy precoder (issue 15) against independent truths and against the lifted SDP.

Truths: the single-user MISO wiretap optimum in closed form (the largest generalised eigenvalue of
(I + P·hhᴴ, I + P·ggᴴ)), central differences of the rate Jacobian, the power limits, and the
SDP SCA of Algorithm 1 (a different algorithm on the same problem) on paper and multi-node draws.
Speed is measured in ``bench/precoding.py``, not here.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg

from physical.channel_matrix import ChannelMatrix, Topology
from physical.secrecy import secrecy_rates_of
from precoding_instances import multi_node_problem, paper_problem
from twin.precoding import PRECODERS, STATUS_OK, PrecodingProblem
from twin.precoding.synergy import SynergyPrecoder
from twin.precoding.vector_nlp import _Rates, maximise_min_rate

#: the accuracy bar of issue 15: within 1 % of the SDP's min rate in the median, never more than 2 % worse
MEDIAN_BAR, WORST_BAR = -0.01, -0.02


def _relative_gains(problems, statistical: bool = False) -> np.ndarray:
    sdp, vector = SynergyPrecoder(statistical=statistical), SynergyPrecoder(statistical=statistical, solver="vector")
    gains = []
    for problem in problems:
        a, b = sdp.solve(problem), vector.solve(problem)
        assert b.status == STATUS_OK, b.message
        gains.append((b.planned.min_rate - a.planned.min_rate) / abs(a.planned.min_rate))
    return np.array(gains)


#: Yin Fig. 2 draws (P_S dBW, Δ, draw; seed 1) on which a 50-iteration cap left the vector method 1.3–3.2 % short of the SDP
SLOW_FIG2_DRAWS = ((10.0, 0.1, 14), (20.0, 0.0, 5), (0.0, 0.0, 28))


@pytest.mark.parametrize("value,delta,draw", SLOW_FIG2_DRAWS)
def test_slow_climbs_on_the_paper_figure_snapshot_reach_the_sdp(value, delta, draw):
    from studies.yin import Task, task_problem

    problem, _ = task_problem(Task("yin-fig2", "p_s_dbw", value, delta, "synergy", draw, 1))
    assert _relative_gains([problem])[0] >= -1e-3


def test_the_registry_solves_synergy_over_vectors_and_keeps_the_sdp_as_reference():
    assert PRECODERS["synergy"]().solver == "vector" and PRECODERS["synergy-stat"]().solver == "vector"
    assert PRECODERS["synergy-sdp"]().solver == "sdp" and PRECODERS["synergy-stat-sdp"]().solver == "sdp"
    assert PRECODERS["synergy-robust"]().solver == "sdp"
    assert PRECODERS["synergy"]().name == "synergy" and PRECODERS["synergy-sdp"]().name == "synergy-sdp"
    with pytest.raises(ValueError, match="robust design needs the lifted program"):
        SynergyPrecoder(robust=True, solver="vector")


@pytest.mark.parametrize("antennas, draws", [(4, 8), (8, 3)])
def test_reaches_the_sdp_rate_on_paper_draws(antennas, draws):
    gains = _relative_gains([paper_problem(seed, antennas=(antennas,) * 3)[0] for seed in range(100, 100 + draws)])
    assert np.median(gains) >= MEDIAN_BAR and gains.min() >= WORST_BAR, gains


def test_reaches_the_sdp_rate_on_the_multi_node_instance():
    """T = 5 transmitters, K = 9 users, E = 2 Eves (``precoding_instances.multi_node_problem``)."""
    gains = _relative_gains([multi_node_problem(seed)[0] for seed in range(3)])
    assert np.median(gains) >= MEDIAN_BAR and gains.min() >= WORST_BAR, gains


def _wiretap(seed: int, antennas: int, power_w: float):
    rng = np.random.default_rng(seed)
    top = Topology(("bs",), ("gu",), ("e",), {"gu": "bs"}, {"bs": antennas})
    h, g = ((rng.standard_normal(antennas) + 1j * rng.standard_normal(antennas)) * scale for scale in (3.0, 1.0))
    problem = PrecodingProblem(ChannelMatrix.from_vectors(top, {("bs", "gu"): h, ("bs", "e"): g}), {"bs": power_w})
    return problem, h, g


@pytest.mark.parametrize("seed", range(4))
def test_single_user_wiretap_reaches_the_generalised_eigenvalue_optimum(seed):
    """MISO wiretap: max over ‖x‖² ≤ P of log2((1+|hᴴx|²)/(1+|gᴴx|²)) = log2 λ_max(I + P·hhᴴ, I + P·ggᴴ)."""
    power = 2.0
    problem, h, g = _wiretap(seed, 4, power)
    eye = np.eye(4)
    optimum = np.log2(linalg.eigh(eye + power * np.outer(h, h.conj()), eye + power * np.outer(g, g.conj()), eigvals_only=True)[-1])
    result = SynergyPrecoder(solver="vector").solve(problem)
    assert result.planned.min_rate == pytest.approx(optimum, rel=1e-6)
    assert np.vdot(result.precoders["gu"], result.precoders["gu"]).real <= power * (1 + 1e-12)


def test_rate_jacobian_matches_central_differences():
    problem, _ = multi_node_problem(3)
    design = SynergyPrecoder()._design(problem)
    rates = _Rates(design.moments, np.sqrt(design.user_limits), design.served, design.eves)
    z = np.random.default_rng(0).normal(size=rates.count) * 0.3
    jac = rates.evaluate(z)[1]
    numeric = np.column_stack([(rates.evaluate(z + step)[0] - rates.evaluate(z - step)[0]) / 2e-6
                               for step in np.eye(rates.count) * 1e-6])
    assert np.allclose(jac, numeric, rtol=1e-4, atol=1e-5 * np.abs(jac).max())


def test_power_limits_hold_and_the_reported_rate_is_the_true_one():
    problem, _ = multi_node_problem(1)
    result = SynergyPrecoder(solver="vector").solve(problem)
    top = problem.topology
    for tx in top.transmitters:
        used = sum(np.vdot(result.precoders[u], result.precoders[u]).real for u in top.users if top.serving[u] == tx)
        assert used <= problem.power_limits_w[tx] * (1 + 1e-12)
    assert result.planned.min_rate == pytest.approx(secrecy_rates_of(problem.matrix, result.precoders, served=problem.served).min_rate,
                                                    rel=1e-12)


def test_statistical_design_with_zero_covariance_is_the_nominal_design():
    problem, _ = paper_problem(104)
    moments = {(tx, rx): np.outer(problem.matrix[tx, rx], problem.matrix[tx, rx].conj())
               for tx in problem.topology.transmitters for rx in problem.topology.receivers}
    with_moments = PrecodingProblem(problem.matrix, problem.power_limits_w, second_moments=moments)
    nominal = SynergyPrecoder(solver="vector").solve(problem)
    statistical = SynergyPrecoder(solver="vector", statistical=True, starts=("mrt", "zf", "zf-all")).solve(with_moments)
    assert statistical.planned.min_rate == pytest.approx(nominal.planned.min_rate, rel=1e-9)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), antennas=st.integers(2, 6), power=st.floats(0.1, 50.0))
def test_never_below_its_start_and_within_the_limit(seed, antennas, power):
    problem, h, g = _wiretap(seed, antennas, power)
    design = SynergyPrecoder()._design(problem)
    start = [np.random.default_rng(seed).standard_normal(antennas) + 0j]
    solved = maximise_min_rate(design.moments, design.user_limits, design.groups, design.served, design.eves, start)
    x = start[0] * min(1.0, np.sqrt(power) / np.linalg.norm(start[0]))
    start_rate = np.log2(1 + abs(np.vdot(h, x)) ** 2) - np.log2(1 + abs(np.vdot(g, x)) ** 2)  # unclipped, like min_rate
    assert solved.min_rate >= start_rate - 1e-9
    assert np.vdot(solved.precoders[0], solved.precoders[0]).real <= power * (1 + 1e-12)
