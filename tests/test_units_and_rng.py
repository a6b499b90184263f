"""Unit conversions and seeded generators."""

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from physical.randomness import component_rng
from physical.units import db_to_linear, linear_to_db, noise_power_w, wavelength_m


@given(st.floats(min_value=-300, max_value=300, allow_nan=False))
def test_db_round_trip(value_db):
    assert math.isclose(linear_to_db(db_to_linear(value_db)), value_db, rel_tol=1e-12, abs_tol=1e-9)


def test_noise_power_matches_textbook_value():
    # -174 dBm/Hz + 60 dB (1 MHz) + 5 dB NF = -109 dBm = 1.2589e-14 W
    assert math.isclose(noise_power_w(1e6, 5.0), 10 ** (-13.9) , rel_tol=1e-12)


def test_wavelength_of_2_4_ghz():
    assert math.isclose(wavelength_m(2.4e9), 0.124913524, rel_tol=1e-8)


def test_component_rng_is_stable_and_independent():
    a1 = component_rng(7, "weather").standard_normal(4)
    a2 = component_rng(7, "weather").standard_normal(4)
    b = component_rng(7, "fading.sat.su").standard_normal(4)
    c = component_rng(8, "weather").standard_normal(4)
    assert np.array_equal(a1, a2)
    assert not np.allclose(a1, b)
    assert not np.allclose(a1, c)
