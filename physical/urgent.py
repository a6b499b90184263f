"""SimPy helper: a timeout that fires ahead of ordinary events scheduled for the same instant."""

from __future__ import annotations

import simpy


def urgent_timeout(env: simpy.Environment, delay_s: float) -> simpy.events.Event:
    """A timeout processed before ordinary events at the same instant (SimPy URGENT priority).

    Replayed trace changes use it so that a tick at the recorded time already sees the change.
    """
    event = simpy.events.Event(env)
    event._ok = True
    event._value = None
    env.schedule(event, simpy.events.URGENT, delay_s)
    return event
