"""A message channel: a SimPy store behind a latency and loss model. The link owns the delay.

Senders call :meth:`Link.put` and move on; the link delivers into the receiver's store after the
latency (constant plus optional exponential jitter), or drops the message with the loss
probability. Receivers never sleep for propagation (SimPy's ``latency.py`` pattern).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy


@dataclass(frozen=True)
class LinkModel:
    """Latency and loss of a link.

    Args:
        latency_s: fixed one-way delay (s, ≥ 0).
        jitter_s: mean of an extra exponential delay (s, ≥ 0; 0 = none). Jitter can reorder messages.
        loss_probability: probability that a message is dropped ([0, 1)).
    """

    latency_s: float = 0.0
    jitter_s: float = 0.0
    loss_probability: float = 0.0

    def __post_init__(self) -> None:
        if self.latency_s < 0 or self.jitter_s < 0:
            raise ValueError(f"latency_s and jitter_s must be >= 0, got {self.latency_s}, {self.jitter_s}")
        if not 0.0 <= self.loss_probability < 1.0:
            raise ValueError(f"loss_probability must be in [0, 1), got {self.loss_probability}")


class Link:
    """A one-way channel into ``destination`` with a :class:`LinkModel`.

    Args:
        env: the SimPy environment.
        name: link name for the log (e.g. ``intra.satellite``).
        destination: the receiver's store.
        model: latency and loss.
        rng: this link's seeded generator (jitter and loss draws).
        log: the event logger (losses are logged).
    """

    def __init__(self, env: simpy.Environment, name: str, destination: simpy.Store, model: LinkModel, rng: np.random.Generator, log) -> None:
        self.env = env
        self.name = name
        self.destination = destination
        self.model = model
        self._rng = rng
        self._log = log
        self.lost = 0

    def put(self, message: object) -> None:
        """Send ``message``; it arrives after the link's delay unless the link drops it."""
        if self.model.loss_probability > 0 and self._rng.random() < self.model.loss_probability:
            self.lost += 1
            self._log.log(self.env.now, self.name, "message_lost", message_type=type(message).__name__)
            return
        delay = self.model.latency_s
        if self.model.jitter_s > 0:
            delay += float(self._rng.exponential(self.model.jitter_s))
        self.env.process(self._deliver(message, delay))

    def _deliver(self, message: object, delay_s: float):
        yield self.env.timeout(delay_s)
        yield self.destination.put(message)


class FanOut:
    """An outbox that puts every message into several links (one sender, several receivers)."""

    def __init__(self, *links) -> None:
        self.links = links

    def put(self, message: object) -> None:
        for link in self.links:
            link.put(message)
