"""The core-cloud twin: one host for every planner (precoding, QKD) behind one protocol.

A planner is a pure decision maker with a view: it takes in the edge views it is given
(:meth:`Planner.observe`), says when a decision is due (:meth:`Planner.due`), makes one
(:meth:`Planner.decide`), and knows its own fallback. The host does, identically for every planner:

- the periodic trigger check at absolute times ``k·check_period_s + check_offset_s`` (check times
  that passed while a decision was being made are skipped);
- fault handling: a ``decide`` that raises is a failed attempt, never a crash that loses the run;
- the wall-clock budget (``budget_s``; a slower usable attempt counts as ``timeout``);
- the choice after an unusable attempt: keep the decision in force if the planner has one to keep,
  otherwise the planner's fallback;
- logging the decision row (the planner's kind and fields) with its wall times in ``timings.jsonl``;
- the simulated compute delay (``compute_delay_s``) before the commands leave, then sending each on
  its downlink (with a ``decision_sent`` row where the planner asks for one).
"""

from __future__ import annotations

import time
from functools import partial
from dataclasses import dataclass
from typing import Any, Mapping, Protocol

import simpy

from common.event_logger import EventLogger
from common.periodic import periodic
from physical.reports import WeatherReport

#: status of a usable attempt that came back after the planner's wall-clock budget
STATUS_TIMEOUT = "timeout"
#: status of an attempt whose ``decide`` raised
STATUS_FAILED = "failed"
#: ``fallback`` value when the attempt is used as it is
NO_FALLBACK = "none"
#: ``fallback`` value when the decision in force is kept
KEEP_PREVIOUS = "keep_previous"


class Outbox(Protocol):
    """A decision link (anything with ``put``)."""

    def put(self, message: object) -> None: ...


@dataclass
class Attempt:
    """The outcome of one ``decide``: the planner's own result object and what the host needs of it.

    Args:
        status: the planner's status word (``ok``, ``optimal``, ``failed`` …).
        message: free text explaining a status (empty when there is nothing to say).
        result: the planner's result object (None when ``decide`` raised or produced nothing).
        wall_s: the wall time the planner itself measured (s); the budget compares the larger of it and
            the host's measurement.
        inputs: what :meth:`Planner.inputs` gave for this decision (set by the host).
    """

    status: str
    message: str = ""
    result: Any = None
    wall_s: float = 0.0
    inputs: Any = None


@dataclass(frozen=True)
class Outgoing:
    """One command to send after the compute delay, on the downlink ``destination``.

    ``sent_fields``: the fields of a ``decision_sent`` row logged as it leaves (None: no row).
    """

    destination: str
    message: object
    sent_fields: Mapping[str, object] | None = None


class Planner(Protocol):
    """What the core-cloud twin hosts. Every time is simulated time (s) unless named ``wall``.

    Attributes:
        name: the planner's name (``precoding``, ``qkd``).
        row_kind: the event kind of its decision row (``resolve``, ``qkd_plan``).
        check_period_s, check_offset_s: trigger checks at k·check_period_s + check_offset_s.
        compute_delay_s: simulated compute time between a trigger and sending the commands.
        budget_s: wall-clock budget of one ``decide`` (0 = none).
    """

    name: str
    row_kind: str
    check_period_s: float
    check_offset_s: float
    compute_delay_s: float
    budget_s: float

    def observe(self, view: object, now_s: float) -> None:
        """Take in one edge view as it arrives."""

    def due(self, now_s: float) -> str | None:
        """The trigger of a decision now, or None (also None while the view is incomplete)."""

    def inputs(self, now_s: float, trigger: str) -> Any:
        """Freeze what the decision is made on (the problem, the forecast …) from the current view."""

    def decide(self, inputs: Any) -> Attempt:
        """Make a decision on ``inputs`` (may raise: the host turns it into a failed attempt)."""

    def usable(self, attempt: Attempt, status: str) -> bool:
        """Whether the attempt, with the host's final status, can be put in force."""

    def has_decision_to_keep(self) -> bool:
        """Whether an unusable attempt should keep the decision in force rather than fall back."""

    def fallback(self, attempt: Attempt) -> tuple[object | None, str]:
        """The fallback decision (None: none usable) and its ``fallback`` label."""

    def record(self, now_s: float, trigger: str, attempt: Attempt, status: str, fallback: str,
               decision: object | None) -> tuple[dict[str, object], dict[str, float]]:
        """The decision row's fields and its solver times for ``timings.jsonl`` (the host adds ``wall_s``)."""

    def adopt(self, now_s: float, attempt: Attempt, decision: object | None) -> list[Outgoing]:
        """Update the planner's state after the row is logged; the commands to send (may be empty)."""


class WeatherView:
    """The core-cloud twin's one view of the weather: the latest weather-station report to arrive (the
    newer measurement wins when jitter reorders two). Every planner reads this same object."""

    def __init__(self) -> None:
        self.latest: WeatherReport | None = None

    def update(self, report: WeatherReport) -> None:
        """Take in a report unless a newer measurement is already in view."""
        if self.latest is None or report.measured_at_s > self.latest.measured_at_s:
            self.latest = report

    @property
    def state(self) -> str | None:
        """The latest reported weather state (None before any report)."""
        return self.latest.state if self.latest is not None else None

    @property
    def rain_fade_db(self) -> float:
        """The latest reported rain fade (dB; 0 before any report)."""
        return self.latest.rain_fade_db if self.latest is not None else 0.0


class CoreCloudTwin:
    """The core-cloud twin hosting planners (module docstring).

    Args:
        env: the SimPy environment. log: the event logger.

    ``weather`` is the one weather view: the host updates it with every weather report any edge view
    carries, before the planner that received the view observes it; planners are given it when built.
    """

    def __init__(self, env: simpy.Environment, log: EventLogger) -> None:
        self.env = env
        self.log = log
        self.weather = WeatherView()
        self.planners: dict[str, Planner] = {}
        self._downlinks: dict[str, Mapping[str, Outbox]] = {}

    def host(self, planner: Planner, inbox: simpy.Store, downlinks: Mapping[str, Outbox]) -> Planner:
        """Start hosting ``planner``: its views arrive on ``inbox``, its commands leave on ``downlinks``.

        The SimPy processes start here, so the order planners are hosted in is the order their
        processes run at equal times (part of the log's determinism).
        """
        if planner.name in self.planners:
            raise ValueError(f"a planner named {planner.name!r} is already hosted")
        self.planners[planner.name] = planner
        self._downlinks[planner.name] = downlinks
        self.env.process(self._receive(planner, inbox))
        self.env.process(periodic(self.env, planner.check_period_s, partial(self._check, planner), planner.check_offset_s))
        return planner

    def _receive(self, planner: Planner, inbox: simpy.Store):
        while True:
            view = yield inbox.get()
            if isinstance(view.report, WeatherReport):
                self.weather.update(view.report)
            planner.observe(view, self.env.now)

    def _check(self, planner: Planner, k: int):
        """At a check time: a decision if one is due (a SimPy generator), else None."""
        trigger = planner.due(self.env.now)
        return None if trigger is None else self._decide(planner, trigger)

    def _decide(self, planner: Planner, trigger: str):
        now = self.env.now
        inputs = planner.inputs(now, trigger)
        started = time.perf_counter()
        try:
            attempt = planner.decide(inputs)
        except Exception as exc:  # a planner crash must never lose the run; it is logged below
            attempt = Attempt(STATUS_FAILED, f"{type(exc).__name__}: {exc}")
        elapsed_s = time.perf_counter() - started
        attempt.inputs = inputs
        status = attempt.status
        budget = planner.budget_s
        if attempt.result is not None and budget > 0 and max(elapsed_s, attempt.wall_s) > budget:
            status = STATUS_TIMEOUT
            attempt.message = attempt.message or f"solve took longer than solve_timeout_s = {budget:g} s"
        if planner.usable(attempt, status):
            decision, fallback = attempt.result, NO_FALLBACK
        elif planner.has_decision_to_keep():
            decision, fallback = None, KEEP_PREVIOUS
        else:
            decision, fallback = planner.fallback(attempt)
        fields, timings = planner.record(now, trigger, attempt, status, fallback, decision)
        seq = self.log.log(now, "core", planner.row_kind, **fields)
        self.log.timing(seq, wall_s=time.perf_counter() - started, **timings)
        outgoing = planner.adopt(now, attempt, decision)
        if not outgoing:
            return
        if planner.compute_delay_s > 0:
            yield self.env.timeout(planner.compute_delay_s)
        downlinks = self._downlinks[planner.name]
        for command in outgoing:
            if command.sent_fields is not None:
                self.log.log(self.env.now, "core", "decision_sent", **command.sent_fields)
            downlinks[command.destination].put(command.message)
