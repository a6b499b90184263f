"""The one periodic-process idiom of the simulation: act at absolute times k·period + offset.

Times are computed from k, not accumulated, so float error never drifts a schedule. An action that
takes simulated time (returns a SimPy generator) is run to its end, and the instants that passed
meanwhile are skipped rather than caught up.
"""

from __future__ import annotations

import math
from typing import Callable, Generator

import simpy


def periodic(env: simpy.Environment, period_s: float, action: Callable[[int], Generator | None],
             offset_s: float = 0.0, count: int | None = None) -> Generator:
    """SimPy process body calling ``action(k)`` at k·period_s + offset_s (s) for k = 0, 1, … (``count`` times).

    If ``action`` returns a generator, the process runs it (``yield from``) before going on, and the
    next k is the first whose instant is not already past.
    """
    if not period_s > 0:
        raise ValueError(f"period_s must be > 0 s, got {period_s}")
    k = 0
    while count is None or k < count:
        yield env.timeout(k * period_s + offset_s - env.now)
        busy = action(k)
        k += 1
        if busy is not None:
            yield from busy
            k = max(k, math.ceil((env.now - offset_s) / period_s))
