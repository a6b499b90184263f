"""SimPy helper: a timeout that fires ahead of ordinary events scheduled for the same instant.

SimPy processes simultaneous events in (time, priority, insertion order); a replayed trace change
(the world's weather, the QKD network's key demand) must come first at its instant, so that a tick or
a pool update at the same time already sees it and its log row precedes theirs (DESIGN 8.2:
same-instant order by explicit event priority, not half-tick offsets).

Why this writes two private fields (``_ok``, ``_value``): SimPy 4 has no public way to schedule a
triggered event with URGENT priority at a later time. ``Environment.schedule(event, priority,
delay)`` is public, but the event must already be marked triggered when it is processed, and the
public ways to mark it (``succeed``, ``fail``, ``trigger``) schedule it themselves, NORMAL and at the
current time; ``Timeout`` is always NORMAL; the URGENT events SimPy makes itself (``Initialize``,
``Interruption``) fire at the current time. SimPy's own ``Environment.run(until=t)`` builds its stop
event exactly as done here (``until._ok = True; until._value = None; schedule(until, URGENT, ...)``).

Checked against the event logs (issue 13) and rejected because they change them:
- a NORMAL ``env.timeout``: stormy-afternoon's demand changes at t = 0 are logged after the tick's
  initial rows instead of before them, and a change at a boundary of ``Simulation.run``'s
  ``env.run(until=t)`` steps is processed after the run stopped (the weather change at 600 s is
  missing from a 600 s run);
- the tick logging a recorded change at its own time: at 240 s the QKD network's ``key_pool_state``
  rows (a periodic process scheduled before the tick) would precede the ``weather_change`` row;
- the driver stepping to each change with ``env.run(until=t)``: public API, but it moves the world's
  and the QKD network's replays into the run loop, and ``run`` refuses ``until`` = now (t = 0).
"""

from __future__ import annotations

import simpy


def urgent_timeout(env: simpy.Environment, delay_s: float) -> simpy.events.Event:
    """A timeout ``delay_s`` (s) from now, processed before ordinary events at the same instant (URGENT).

    Replayed trace changes use it so that a tick at the recorded time already sees the change.
    """
    event = simpy.events.Event(env)
    event._ok = True
    event._value = None
    env.schedule(event, simpy.events.URGENT, delay_s)
    return event
