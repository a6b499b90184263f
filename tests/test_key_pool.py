"""Key pool of a QKD link (physical/key_pool.py): conservation, clamping and threshold crossings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from physical.key_pool import EMPTY, READY, WARNING, Crossing, KeyPool


def test_initial_state_and_thresholds():
    pool = KeyPool(capacity_bits=1000, warning_bits=200)
    assert pool.state == EMPTY and pool.stock_bits == 0
    assert pool.state_of(100) == WARNING and pool.state_of(200) == READY and pool.state_of(0) == EMPTY


def test_fill_clamps_at_capacity_and_counts_overflow():
    pool = KeyPool(capacity_bits=1000, warning_bits=200, initial_bits=900)
    change = pool.advance(dt_s=2.0, rate_bps=100.0)
    assert change.added_bits == 200 and change.overflow_bits == 100
    assert pool.stock_bits == 1000


def test_consume_serves_at_most_the_stock():
    pool = KeyPool(capacity_bits=1000, warning_bits=200, initial_bits=300)
    change = pool.consume(500)
    assert change.served_bits == 300 and change.unmet_bits == 200 and pool.stock_bits == 0


def test_crossings_in_order():
    pool = KeyPool(capacity_bits=1000, warning_bits=200, empty_bits=10)
    up = pool.advance(1.0, 500.0)
    assert up.crossings == (Crossing(EMPTY, WARNING, 10.0), Crossing(WARNING, READY, 200.0))
    assert pool.consume(100).crossings == ()
    down = pool.consume(250)
    assert down.crossings == (Crossing(READY, WARNING, 200.0),)
    assert pool.state == WARNING
    assert pool.consume(1000).crossings == (Crossing(WARNING, EMPTY, 10.0),)
    assert pool.advance(0.0, 1e6).crossings == ()


def test_bad_arguments():
    with pytest.raises(ValueError):
        KeyPool(capacity_bits=100, warning_bits=200)
    pool = KeyPool(capacity_bits=100, warning_bits=20)
    with pytest.raises(ValueError):
        pool.advance(-1.0, 1.0)
    with pytest.raises(ValueError):
        pool.consume(float("nan"))


@settings(max_examples=100, deadline=None)
@given(ops=st.lists(st.tuples(st.booleans(), st.floats(0, 1e4), st.floats(0, 1e3)), max_size=40))
def test_conservation_and_bounds(ops):
    pool = KeyPool(capacity_bits=5000, warning_bits=1000, empty_bits=0)
    filled = served = 0.0
    for is_fill, a, b in ops:
        before = pool.stock_bits
        change = pool.advance(b / 100, a) if is_fill else pool.consume(a)
        filled += change.added_bits - change.overflow_bits
        served += change.served_bits
        assert pool.stock_bits - before == pytest.approx(change.added_bits - change.overflow_bits - change.served_bits, abs=1e-6)
        assert 0.0 <= pool.stock_bits <= pool.capacity_bits
        assert 0.0 <= change.served_bits <= change.requested_bits
        assert pool.state == pool.state_of(pool.stock_bits)
    assert pool.stock_bits == pytest.approx(filled - served, abs=1e-6)
