"""Power-optimised MRT/ZF baselines against closed forms and a direct scalar secrecy computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from physical.secrecy import secrecy_rates
from precoding_instances import PAPER_POWERS_W, paper_problem
from twin.precoding import PRECODERS, STATUS_FAILED, STATUS_OK, PrecodingProblem
from twin.precoding.baselines import (
    PowerOptimisedBaseline,
    beam_gains,
    optimise_powers,
    secrecy_rates_from_powers,
    zf_direction,
)
from twin.precoding.synergy import project_psd

POWER_RTOL = 1e-6  #: relative slack on ‖x‖² ≤ P
NULL_RTOL = 1e-9  #: ZF leakage |ĥ_e^H x| relative to ‖ĥ_e‖·‖x‖


def _complex_vectors(n: int, count: int):
    parts = st.lists(st.floats(-10, 10, allow_nan=False), min_size=2 * n * count, max_size=2 * n * count)
    return parts.map(lambda v: np.array(v[0::2]) + 1j * np.array(v[1::2])).map(lambda z: z.reshape(count, n))


def _direct_min_rate(ch, w, f, v) -> float:
    """Secrecy rates written out scalar by scalar (Yin et al. eq. 8–16), independent of the module."""
    def p(vec, x):
        return abs(sum(np.conj(a) * b for a, b in zip(vec, x))) ** 2

    rates = []
    for own, user in ((0, "su"), (1, "au"), (2, "gu")):
        at_user = [p(getattr(ch, f"h_{user}"), w), p(getattr(ch, f"a_{user}"), f), p(getattr(ch, f"g_{user}"), v)]
        at_eve = [p(ch.h_e, w), p(ch.a_e, f), p(ch.g_e, v)]
        sinr = at_user[own] / (sum(at_user) - at_user[own] + 1)
        eve = at_eve[own] / (sum(at_eve) - at_eve[own] + 1)
        rates.append(max(0.0, math.log2(1 + sinr) - math.log2(1 + eve)))
    return min(rates)


@pytest.mark.parametrize("name", ["mrt", "zf", "zf-all", "mrt-full"])
def test_registry_has_baselines(name):
    assert PRECODERS[name]().name == name


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_baseline_directions_and_powers(seed):
    problem, _ = paper_problem(seed, delta=0.1)
    ch = problem.channels
    limits = (problem.p_s_w, problem.p_u_w, problem.p_b_w)
    results = {k: PowerOptimisedBaseline(k).solve(problem) for k in ("mrt", "zf", "zf-all")}
    for kind, r in results.items():
        assert r.status == STATUS_OK and r.method == kind
        for x, limit in zip((r.w, r.f, r.v), limits):
            assert np.vdot(x, x).real <= limit * (1 + POWER_RTOL)
        # the planned rates are the module's secrecy maths on the design channels, checked directly
        assert r.planned.min_rate == pytest.approx(_direct_min_rate(ch, r.w, r.f, r.v), abs=1e-9)
    for x, own in zip((results["mrt"].w, results["mrt"].f, results["mrt"].v), (ch.h_su, ch.a_au, ch.g_gu)):
        if np.linalg.norm(x) > 0:  # MRT: parallel to the own user's channel
            assert abs(np.vdot(own, x)) == pytest.approx(np.linalg.norm(own) * np.linalg.norm(x), rel=1e-12)
    for x, eve in zip((results["zf"].w, results["zf"].f, results["zf"].v), (ch.h_e, ch.a_e, ch.g_e)):
        assert abs(np.vdot(eve, x)) <= NULL_RTOL * np.linalg.norm(eve) * max(np.linalg.norm(x), 1e-300)
    r = results["zf-all"]
    for x, prefix, user in ((r.w, "h", "su"), (r.f, "a", "au"), (r.v, "g", "gu")):
        for rx in ("su", "au", "gu", "e"):
            if rx != user:
                h = getattr(ch, f"{prefix}_{rx}")
                assert abs(np.vdot(h, x)) <= NULL_RTOL * np.linalg.norm(h) * max(np.linalg.norm(x), 1e-300)


def test_power_optimisation_beats_full_power_and_dense_grid():
    problem, _ = paper_problem(4)
    full = PRECODERS["mrt-full"]().solve(problem)
    opt = PowerOptimisedBaseline("mrt").solve(problem)
    assert opt.objective >= full.objective - 1e-9
    # independent check: a dense 3-D grid in log-power never beats the optimiser by more than 1e-3
    from twin.precoding.baselines import baseline_directions

    gains = beam_gains(problem.matrix, baseline_directions("mrt", problem.matrix))
    rel = np.concatenate([[0.0], np.logspace(-6, 0, 61)])
    grid = np.stack(np.meshgrid(rel, rel, rel, indexing="ij"), -1).reshape(-1, 3) * np.array(PAPER_POWERS_W)
    best_grid = secrecy_rates_from_powers(gains, grid).min(axis=-1).max()
    _, value, _ = optimise_powers(gains, PAPER_POWERS_W)
    assert value >= best_grid - 1e-3


def test_zf_all_needs_four_antennas():
    problem, _ = paper_problem(0, antennas=(3, 4, 4))
    r = PowerOptimisedBaseline("zf-all").solve(problem)
    assert r.status == STATUS_FAILED and "4 antennas" in r.message


def test_secrecy_rates_from_powers_matches_secrecy_rates():
    problem, _ = paper_problem(5)
    from twin.precoding.baselines import baseline_directions

    dirs = baseline_directions("zf", problem.matrix)
    gains = beam_gains(problem.matrix, dirs)
    powers = np.array([3.0, 0.01, 20.0])
    got = secrecy_rates_from_powers(gains, powers)
    ref = secrecy_rates(problem.channels, *(np.sqrt(p) * u for p, u in zip(powers, dirs)))
    assert np.maximum(got, 0) == pytest.approx([ref.rates[u] for u in ("su", "au", "gu")], abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(data=_complex_vectors(4, 4))
def test_zf_direction_nulls_and_keeps_unit_norm(data):
    own, nulled = data[0], list(data[1:])
    u = zf_direction(own, nulled)
    norm = np.linalg.norm(u)
    assert norm == pytest.approx(1.0, abs=1e-12) or norm == 0.0
    for h in nulled:
        assert abs(np.vdot(h, u)) <= NULL_RTOL * max(np.linalg.norm(h), 1e-300)
    if norm > 0:  # the projection keeps as much of the own channel as any nulling unit vector can
        assert abs(np.vdot(own, u)) > 0


@settings(max_examples=60, deadline=None)
@given(data=_complex_vectors(3, 3), power=st.floats(0.0, 100.0))
def test_project_psd_is_feasible_and_idempotent(data, power):
    projected = project_psd(data, power)
    assert np.allclose(projected, projected.conj().T)
    assert np.linalg.eigvalsh(projected).min() >= -1e-9 * max(1.0, np.abs(projected).max())
    assert np.trace(projected).real <= power * (1 + 1e-9) + 1e-12
    assert np.allclose(project_psd(projected, power), projected, atol=1e-9 * max(1.0, np.abs(projected).max()))


def test_problem_with_zero_power_limit():
    problem, _ = paper_problem(6)
    zero_uav = PrecodingProblem.paper(problem.channels, problem.p_s_w, 0.0, problem.p_b_w)
    r = PowerOptimisedBaseline("zf").solve(zero_uav)
    assert r.status == STATUS_OK and np.linalg.norm(r.f) == 0.0
