"""Secrecy-rate maths against a direct scalar computation (Yin et al. eq. 8–16)."""

import math

import numpy as np
import pytest

from physical.secrecy import CHANNEL_NAMES, ChannelSet, secrecy_rates


def _random_channels(rng, n=(3, 2, 4)):
    sizes = {"h": n[0], "a": n[1], "g": n[2]}
    return ChannelSet.from_mapping({
        name: 10 * (rng.standard_normal(sizes[name[0]]) + 1j * rng.standard_normal(sizes[name[0]])) for name in CHANNEL_NAMES
    })


def test_matches_scalar_formula():
    rng = np.random.default_rng(0)
    ch = _random_channels(rng)
    w = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    f = rng.standard_normal(2) + 1j * rng.standard_normal(2)
    v = rng.standard_normal(4) + 1j * rng.standard_normal(4)

    def p(h, x):
        return abs(sum(np.conj(hi) * xi for hi, xi in zip(h, x))) ** 2

    d = ch.as_dict()
    su = p(d["h_su"], w) / (p(d["a_su"], f) + p(d["g_su"], v) + 1)
    su_e = p(d["h_e"], w) / (p(d["a_e"], f) + p(d["g_e"], v) + 1)
    gu = p(d["g_gu"], v) / (p(d["h_gu"], w) + p(d["a_gu"], f) + 1)
    gu_e = p(d["g_e"], v) / (p(d["h_e"], w) + p(d["a_e"], f) + 1)
    out = secrecy_rates(ch, w, f, v)
    assert out.sinr["su"] == pytest.approx(su)
    assert out.eve_sinr["gu"] == pytest.approx(gu_e)
    assert out.rates["su"] == pytest.approx(max(0.0, math.log2(1 + su) - math.log2(1 + su_e)))
    assert out.rates["gu"] == pytest.approx(max(0.0, math.log2(1 + gu) - math.log2(1 + gu_e)))
    assert out.min_rate == min(out.rates.values())


def test_eve_with_the_users_channel_gets_zero_secrecy():
    rng = np.random.default_rng(1)
    d = _random_channels(rng).as_dict()
    d["h_e"], d["a_e"], d["g_e"] = d["h_su"], d["a_su"], d["g_su"]
    out = secrecy_rates(ChannelSet.from_mapping(d), np.ones(3), np.ones(2), np.ones(4))
    assert out.rates["su"] == 0.0


def test_mismatched_vector_lengths_are_rejected():
    d = {name: np.ones(2, complex) for name in CHANNEL_NAMES}
    d["h_e"] = np.ones(3, complex)
    with pytest.raises(ValueError, match="h_"):
        ChannelSet.from_mapping(d)
