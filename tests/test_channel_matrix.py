"""Topology and channel matrix (issue 13) and the general secrecy maths against independent scalar code."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from physical.channel_matrix import CHANNEL_NAMES, ChannelMatrix, ChannelSet, Topology
from physical.secrecy import secrecy_rates, secrecy_rates_of


def random_topology(rng: np.random.Generator, transmitters: int, users: int, eves: int, max_antennas: int = 6) -> Topology:
    """Random serving (every user on one transmitter) and antenna counts in [1, max_antennas]."""
    txs = tuple(f"tx{i}" for i in range(transmitters))
    us = tuple(f"u{i}" for i in range(users))
    return Topology(txs, us, tuple(f"eve{i}" for i in range(eves)),
                    {u: txs[int(rng.integers(transmitters))] for u in us},
                    {tx: int(rng.integers(1, max_antennas + 1)) for tx in txs})


def random_vectors(rng: np.random.Generator, top: Topology, scale: float = 3.0) -> dict[tuple[str, str], np.ndarray]:
    n = top.antennas
    return {(tx, rx): scale * (rng.standard_normal(n[tx]) + 1j * rng.standard_normal(n[tx]))
            for tx in top.transmitters for rx in top.receivers}


def random_precoders(rng: np.random.Generator, top: Topology) -> dict[str, np.ndarray]:
    n = top.antennas
    return {u: rng.standard_normal(n[top.serving[u]]) + 1j * rng.standard_normal(n[top.serving[u]]) for u in top.users}


def direct_rates(top: Topology, vectors, precoders) -> tuple[dict, dict, dict]:
    """(SINR, worst Eve SINR, secrecy rate) per user: plain loops with Python complex numbers."""
    def power(h, x) -> float:
        amplitude = 0j
        for a, b in zip(h, x):
            amplitude += complex(a).conjugate() * complex(b)
        return abs(amplitude) ** 2

    def sinr(user: str, receiver: str) -> float:
        signal = power(vectors[(top.serving[user], receiver)], precoders[user])
        interference = 0.0
        for other in top.users:
            if other != user:
                interference += power(vectors[(top.serving[other], receiver)], precoders[other])
        return signal / (interference + 1.0)

    gamma, eve, rate = {}, {}, {}
    for user in top.users:
        gamma[user] = sinr(user, user)
        eve[user] = max(sinr(user, e) for e in top.eves)
        rate[user] = max(0.0, math.log2(1.0 + gamma[user]) - math.log2(1.0 + eve[user]))
    return gamma, eve, rate


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), transmitters=st.integers(1, 5), users=st.integers(1, 9), eves=st.integers(1, 3))
def test_general_secrecy_matches_scalar_loops(seed, transmitters, users, eves):
    rng = np.random.default_rng(seed)
    top = random_topology(rng, transmitters, users, eves)
    vectors = random_vectors(rng, top)
    precoders = random_precoders(rng, top)
    out = secrecy_rates_of(ChannelMatrix.from_vectors(top, vectors), precoders)
    gamma, eve, rate = direct_rates(top, vectors, precoders)
    for user in top.users:
        assert out.sinr[user] == pytest.approx(gamma[user], rel=1e-9)
        assert out.eve_sinr[user] == pytest.approx(eve[user], rel=1e-9)
        assert out.rates[user] == pytest.approx(rate[user], rel=1e-9, abs=1e-12)
        worst = out.worst_eve[user]
        assert sinr_at(top, vectors, precoders, user, worst) == pytest.approx(eve[user], rel=1e-9)


def sinr_at(top, vectors, precoders, user, receiver) -> float:
    """SINR of ``user``'s message at one receiver (numpy, for the worst-Eve check)."""
    p = {u: abs(np.vdot(vectors[(top.serving[u], receiver)], precoders[u])) ** 2 for u in top.users}
    return p[user] / (sum(v for u, v in p.items() if u != user) + 1.0)


def test_mixed_antennas_five_transmitters_nine_users_two_eves():
    rng = np.random.default_rng(5)
    txs = ("sat", "uav1", "uav2", "bs1", "bs2")
    users = tuple(f"u{i}" for i in range(9))
    top = Topology(txs, users, ("e1", "e2"), {u: txs[i % 5] for i, u in enumerate(users)},
                   {"sat": 8, "uav1": 4, "uav2": 5, "bs1": 6, "bs2": 3})
    vectors = random_vectors(rng, top)
    precoders = random_precoders(rng, top)
    matrix = ChannelMatrix.from_vectors(top, vectors)
    assert matrix.values.shape == (5, 11, 8)
    assert np.all(matrix.values[4, :, 3:] == 0)  # zero padding beyond bs2's 3 antennas
    assert np.array_equal(matrix["uav2", "e2"], vectors[("uav2", "e2")])
    out = secrecy_rates_of(matrix, precoders)
    _, _, rate = direct_rates(top, vectors, precoders)
    assert [out.rates[u] for u in users] == pytest.approx([rate[u] for u in users], rel=1e-9, abs=1e-12)
    assert set(out.worst_eve.values()) <= {"e1", "e2"}


def _paper_channels(rng: np.random.Generator, n=(3, 2, 4)) -> ChannelSet:
    sizes = {"h": n[0], "a": n[1], "g": n[2]}
    return ChannelSet.from_mapping({
        name: 10 * (rng.standard_normal(sizes[name[0]]) + 1j * rng.standard_normal(sizes[name[0]])) for name in CHANNEL_NAMES
    })


@pytest.mark.parametrize("seed", range(5))
def test_paper_adapter_equals_general_function_and_the_three_user_formula_exactly(seed):
    rng = np.random.default_rng(seed)
    ch = _paper_channels(rng)
    w, f, v = (rng.standard_normal(n) + 1j * rng.standard_normal(n) for n in (3, 2, 4))
    adapter = secrecy_rates(ch, w, f, v)
    d = ch.as_dict()  # the general function on a matrix built pair by pair, not through the adapter
    names = {"satellite": "h", "uav": "a", "bs": "g"}
    matrix = ChannelMatrix.from_vectors(Topology.paper((3, 2, 4)),
                                        {(tx, rx): d[f"{p}_{rx}"] for tx, p in names.items() for rx in ("su", "au", "gu", "e")})
    general = secrecy_rates_of(matrix, {"su": w, "au": f, "gu": v})
    assert adapter.sinr == general.sinr and adapter.eve_sinr == general.eve_sinr and adapter.rates == general.rates
    assert adapter.served == general.served == ("su", "au", "gu")
    # the original three-transmitter arithmetic, bit for bit
    for idx, user in enumerate(("su", "au", "gu")):
        p = {r: np.array([abs(np.vdot(d[f"h_{r}"], w)) ** 2, abs(np.vdot(d[f"a_{r}"], f)) ** 2,
                          abs(np.vdot(d[f"g_{r}"], v)) ** 2]) for r in ("su", "au", "gu", "e")}
        sinr = float(p[user][idx] / (p[user].sum() - p[user][idx] + 1.0))
        eve = float(p["e"][idx] / (p["e"].sum() - p["e"][idx] + 1.0))
        assert adapter.sinr[user] == sinr and adapter.eve_sinr[user] == eve
        assert adapter.rates[user] == max(0.0, float(np.log2(1.0 + sinr) - np.log2(1.0 + eve)))


def test_channel_set_round_trip_and_paper_only_named_form():
    ch = _paper_channels(np.random.default_rng(1))
    matrix = ChannelMatrix.from_channel_set(ch)
    assert matrix.topology == Topology.paper((3, 2, 4)) and matrix.topology.is_paper
    assert np.array_equal(matrix["uav", "e"], ch.a_e) and np.array_equal(matrix["bs", "su"], ch.g_su)
    back = matrix.to_channel_set()
    assert all(np.array_equal(a, b) for a, b in zip(back.as_dict().values(), ch.as_dict().values()))
    other = Topology(("a", "b"), ("x",), ("e",), {"x": "a"}, {"a": 2, "b": 1})
    with pytest.raises(ValueError, match="paper"):
        ChannelMatrix.from_vectors(other, random_vectors(np.random.default_rng(0), other)).to_channel_set()


def test_topology_queries():
    top = Topology(("s", "u"), ("a", "b", "c"), ("e1", "e2"), {"a": "u", "b": "s", "c": "u"}, {"s": 2, "u": 3})
    assert top.receivers == ("a", "b", "c", "e1", "e2")
    assert top.users_of("u") == ("a", "c") and top.users_of("s") == ("b",)
    assert list(top.serving_index()) == [1, 0, 1]
    assert not top.is_paper and Topology.paper().is_paper


@pytest.mark.parametrize("kwargs, message", [
    (dict(users=("a", "a")), "duplicate"),
    (dict(eves=("s",)), "duplicate"),
    (dict(eves=()), "at least one"),
    (dict(serving={"a": "s"}), "without a serving transmitter"),
    (dict(serving={"a": "s", "b": "nobody"}), "unknown"),
    (dict(serving={"a": "s", "b": "s", "zz": "s"}), "unknown"),
    (dict(antennas={"s": 2}), "antennas"),
    (dict(antennas={"s": 2, "u": 0}), ">= 1"),
])
def test_topology_validation(kwargs, message):
    base = dict(transmitters=("s", "u"), users=("a", "b"), eves=("e",), serving={"a": "s", "b": "u"}, antennas={"s": 2, "u": 3})
    with pytest.raises(ValueError, match=message):
        Topology(**{**base, **kwargs})


def test_channel_matrix_validation():
    top = Topology(("s",), ("a",), ("e",), {"a": "s"}, {"s": 2})
    with pytest.raises(ValueError, match="missing"):
        ChannelMatrix.from_vectors(top, {("s", "a"): np.ones(2)})
    with pytest.raises(ValueError, match="expected 2 entries"):
        ChannelMatrix.from_vectors(top, {("s", "a"): np.ones(3), ("s", "e"): np.ones(2)})
    with pytest.raises(ValueError, match="shape"):
        ChannelMatrix(top, np.zeros((1, 3, 2)))
    with pytest.raises(KeyError):
        ChannelMatrix(top, np.zeros((1, 2, 2)))["s", "nobody"]
