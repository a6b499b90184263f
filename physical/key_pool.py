"""Key pool of one QKD link: filled by the link's secret key rate, drained by key demand.

In the style of the QKD buffer of QKDNetSim (Mehic et al., "Implementation of quantum key
distribution network simulation module in the network simulator NS-3", Quantum Inf. Process. 16,
253 (2017)): the pool holds secret key bits up to a capacity and is in one of three states by its
stock S (bit):

    READY    S ≥ warning_bits          key is plentiful
    WARNING  empty_bits < S < warning_bits   low: the consumer should be throttled or re-planned
    EMPTY    S ≤ empty_bits            no key can be served

Filling beyond the capacity is discarded (counted as overflow). Both operations return a
``PoolChange`` with the bits moved and the threshold crossings, which the caller logs.
Invariant: stock_after − stock_before = added_bits − overflow_bits − served_bits.
Pure Python, no SimPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

READY: Final = "READY"  #: stock at or above the warning threshold
WARNING: Final = "WARNING"  #: stock between the empty and the warning threshold
EMPTY: Final = "EMPTY"  #: stock at or below the empty threshold
POOL_STATES_UP: Final = (EMPTY, WARNING, READY)  #: the pool's states, from emptiest to fullest
_LEVEL: Final = {state: k for k, state in enumerate(POOL_STATES_UP)}


@dataclass(frozen=True)
class Crossing:
    """A change of pool state from ``before`` to ``after`` across the threshold ``threshold_bits`` (bit)."""

    before: str
    after: str
    threshold_bits: float


@dataclass(frozen=True)
class PoolChange:
    """What one ``advance`` or ``consume`` did (all in bit).

    Args:
        added_bits: key produced by the link (before clamping at the capacity).
        overflow_bits: produced key discarded because the pool was full.
        requested_bits: key asked for by the consumer.
        served_bits: key handed out (≤ requested and ≤ the stock).
        stock_bits: stock after the operation.
        crossings: state changes caused by the operation, in order (EMPTY → READY in one fill
            gives EMPTY → WARNING then WARNING → READY).
    """

    added_bits: float = 0.0
    overflow_bits: float = 0.0
    requested_bits: float = 0.0
    served_bits: float = 0.0
    stock_bits: float = 0.0
    crossings: tuple[Crossing, ...] = ()

    @property
    def unmet_bits(self) -> float:
        """Requested key that could not be served (bit)."""
        return self.requested_bits - self.served_bits


class KeyPool:
    """Secret-key store of one QKD link with capacity and READY/WARNING/EMPTY thresholds.

    Args:
        capacity_bits: maximum stock (bit), > 0.
        warning_bits: below this stock the pool is WARNING (bit), empty_bits < warning_bits ≤ capacity.
        empty_bits: at or below this stock the pool is EMPTY (bit), ≥ 0 (default 0).
        initial_bits: stock at creation (bit), within [0, capacity] (default 0).
    """

    def __init__(self, capacity_bits: float, warning_bits: float, empty_bits: float = 0.0,
                 initial_bits: float = 0.0) -> None:
        if not (math.isfinite(capacity_bits) and capacity_bits > 0):
            raise ValueError(f"capacity_bits must be finite and > 0, got {capacity_bits}")
        if not 0.0 <= empty_bits < warning_bits <= capacity_bits:
            raise ValueError(f"need 0 <= empty_bits < warning_bits <= capacity_bits, got "
                             f"{empty_bits}, {warning_bits}, {capacity_bits}")
        if not 0.0 <= initial_bits <= capacity_bits:
            raise ValueError(f"initial_bits must be in [0, {capacity_bits}], got {initial_bits}")
        self.capacity_bits = float(capacity_bits)
        self.warning_bits = float(warning_bits)
        self.empty_bits = float(empty_bits)
        self._stock_bits = float(initial_bits)
        self._state = self.state_of(self._stock_bits)

    @property
    def stock_bits(self) -> float:
        """Key currently in the pool (bit)."""
        return self._stock_bits

    @property
    def state(self) -> str:
        """READY, WARNING or EMPTY."""
        return self._state

    def state_of(self, stock_bits: float) -> str:
        """The state a stock of ``stock_bits`` (bit) would be in."""
        if stock_bits <= self.empty_bits:
            return EMPTY
        if stock_bits < self.warning_bits:
            return WARNING
        return READY

    def _set_stock(self, stock_bits: float) -> tuple[Crossing, ...]:
        self._stock_bits = stock_bits
        new_state = self.state_of(stock_bits)
        old, new = _LEVEL[self._state], _LEVEL[new_state]
        self._state = new_state
        if new > old:  # filling: thresholds crossed upwards
            return tuple(Crossing(POOL_STATES_UP[k], POOL_STATES_UP[k + 1], self._threshold(k)) for k in range(old, new))
        return tuple(Crossing(POOL_STATES_UP[k], POOL_STATES_UP[k - 1], self._threshold(k - 1))
                     for k in range(old, new, -1))

    def _threshold(self, lower_level: int) -> float:
        return self.empty_bits if lower_level == 0 else self.warning_bits

    def advance(self, dt_s: float, rate_bps: float) -> PoolChange:
        """Fill the pool at ``rate_bps`` (bit/s) for ``dt_s`` (s); key beyond the capacity overflows."""
        if not (math.isfinite(dt_s) and dt_s >= 0):
            raise ValueError(f"dt_s must be finite and >= 0, got {dt_s}")
        if not (math.isfinite(rate_bps) and rate_bps >= 0):
            raise ValueError(f"rate_bps must be finite and >= 0, got {rate_bps}")
        added = rate_bps * dt_s
        room = self.capacity_bits - self._stock_bits
        accepted = min(added, room)
        crossings = self._set_stock(self._stock_bits + accepted if accepted < room else self.capacity_bits)
        return PoolChange(added_bits=added, overflow_bits=added - accepted, stock_bits=self._stock_bits,
                          crossings=crossings)

    def consume(self, bits: float) -> PoolChange:
        """Take up to ``bits`` (bit) of key out; ``served_bits`` of the result is what was handed out."""
        if not (math.isfinite(bits) and bits >= 0):
            raise ValueError(f"bits must be finite and >= 0, got {bits}")
        served = min(bits, self._stock_bits)
        crossings = self._set_stock(self._stock_bits - served if served < self._stock_bits else 0.0)
        return PoolChange(requested_bits=bits, served_bits=served, stock_bits=self._stock_bits, crossings=crossings)
