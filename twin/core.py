"""The core-cloud twin: gathers the edge views, decides when to re-solve, and pushes decisions out.

Triggers are checked at absolute times ``k·check_period_s + check_offset_s``. In priority order:
``initial`` (no decision yet and every transmitter has reported), ``weather`` (the weather state
differs from the one at the last solve), ``csi_drift`` (a legitimate channel moved by more than
``csi_drift_threshold`` relative to the channel the last solve used) and ``period`` (``period_s``
since the last solve). A solve uses the twin's view — delayed reports and Eve's *estimated*
channels — and its decisions reach the transmitters through the decision links' latency. A solver
that raises or reports a non-ok status never stops the run: the twin keeps the previous decision,
or, before the first good one, uses the fallback policy; the ``resolve`` row says which.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import simpy

from physical.reports import PrecoderCommand, TransmitterReport, WeatherReport
from physical.secrecy import SERVED_USER, TRANSMITTER_PREFIX, USERS, ChannelSet
from twin.messages import EdgeView
from twin.precoding import STATUS_FAILED, STATUS_OK, Precoder, PrecodingProblem, PrecodingResult

#: status of a solve whose result came back after the time budget
STATUS_TIMEOUT = "timeout"
#: λ1/λ2 above which a lifted solution counts as rank one
RANK_ONE_RATIO = 1e3


@dataclass(frozen=True)
class TriggerPolicy:
    """When the core-cloud twin re-solves.

    Args:
        period_s: re-solve at least this often (s).
        csi_drift_threshold: re-solve when max_k ‖h_k − h_k,solved‖ / ‖h_k,solved‖ over the nine
            user channels exceeds this (–).
        on_weather_change: re-solve when the reported weather state changes.
        check_period_s, check_offset_s: triggers are checked at k·check_period_s + check_offset_s (s).
        solve_delay_s: simulated compute time between a trigger and sending the decision (s).
        solve_timeout_s: wall-time budget of one solve (s); a slower result is discarded (0 = none).
    """

    period_s: float
    csi_drift_threshold: float
    on_weather_change: bool
    check_period_s: float
    check_offset_s: float
    solve_delay_s: float
    solve_timeout_s: float = 0.0


def csi_drift(now: ChannelSet, solved: ChannelSet) -> float:
    """Largest relative change of the nine transmitter→user channels (–); inf if one appeared from zero."""
    worst = 0.0
    for prefix in TRANSMITTER_PREFIX.values():
        for user in USERS:
            new, old = getattr(now, f"{prefix}_{user}"), getattr(solved, f"{prefix}_{user}")
            old_norm = np.linalg.norm(old)
            change = np.linalg.norm(new - old)
            if old_norm > 0:
                worst = max(worst, float(change / old_norm))
            elif change > 0:
                return math.inf
    return worst


class CoreTwin:
    """The core-cloud twin.

    Args:
        env: the SimPy environment.
        inbox: store the inter-twin links deliver :class:`EdgeView` messages into.
        downlinks: decision link per transmitter (anything with ``put``).
        precoder: the precoding policy.
        fallback: the policy used when the main one fails before any good decision exists.
        policy: trigger policy.
        eve_error_bound: Δ handed to the solver (robust designs use it).
        log: the event logger.
    """

    def __init__(
        self,
        env: simpy.Environment,
        inbox: simpy.Store,
        downlinks: Mapping[str, object],
        precoder: Precoder,
        fallback: Precoder,
        policy: TriggerPolicy,
        eve_error_bound: float,
        log,
    ) -> None:
        self.env = env
        self.inbox = inbox
        self.downlinks = downlinks
        self.precoder = precoder
        self.fallback = fallback
        self.policy = policy
        self.eve_error_bound = eve_error_bound
        self.log = log
        self.reports: dict[str, TransmitterReport] = {}
        self.weather: WeatherReport | None = None
        self.solves = 0
        self._last_solve_t_s: float | None = None
        self._solved_channels: ChannelSet | None = None
        self._solved_weather: str | None = None
        self._has_good_decision = False
        env.process(self._receive())
        env.process(self._check())

    # -- view ------------------------------------------------------------------------------------
    def _receive(self):
        while True:
            view: EdgeView = yield self.inbox.get()
            report = view.report
            self.log.log(
                self.env.now, "core", "view_received", edge=view.edge, report=type(report).__name__,
                measured_at_s=report.measured_at_s, age_s=self.env.now - report.measured_at_s,
            )
            if isinstance(report, WeatherReport):
                if self.weather is None or report.measured_at_s > self.weather.measured_at_s:
                    self.weather = report
            else:
                current = self.reports.get(report.transmitter)
                if current is None or report.measured_at_s > current.measured_at_s:
                    self.reports[report.transmitter] = report

    def view_channels(self) -> ChannelSet:
        """The twin's channels: latest reported user channels and Eve's *estimated* channels."""
        arrays = {}
        for tx, prefix in TRANSMITTER_PREFIX.items():
            report = self.reports[tx]
            for user in USERS:
                arrays[f"{prefix}_{user}"] = report.channels[user]
            arrays[f"{prefix}_e"] = report.eve_estimate
        return ChannelSet.from_mapping(arrays)

    # -- triggers --------------------------------------------------------------------------------
    def _trigger(self, channels: ChannelSet) -> tuple[str | None, float]:
        if self._solved_channels is None:
            return "initial", math.nan
        drift = csi_drift(channels, self._solved_channels)
        weather = self.weather.state if self.weather is not None else None
        if self.policy.on_weather_change and weather != self._solved_weather:
            return "weather", drift
        if drift > self.policy.csi_drift_threshold:
            return "csi_drift", drift
        if self.env.now - self._last_solve_t_s >= self.policy.period_s - 1e-9:
            return "period", drift
        return None, drift

    def _check(self):
        k = 0
        while True:
            yield self.env.timeout(k * self.policy.check_period_s + self.policy.check_offset_s - self.env.now)
            k += 1
            if len(self.reports) < len(TRANSMITTER_PREFIX):
                continue
            channels = self.view_channels()
            trigger, drift = self._trigger(channels)
            if trigger is None:
                continue
            yield from self._resolve(trigger, drift, channels)
            # skip check times that passed while solving
            k = max(k, math.ceil((self.env.now - self.policy.check_offset_s) / self.policy.check_period_s))

    # -- solving ---------------------------------------------------------------------------------
    def _solve(self, policy: Precoder, problem: PrecodingProblem) -> PrecodingResult | Exception:
        try:
            return policy.solve(problem)
        except Exception as exc:  # a solver crash must never lose the run; it is logged below
            return exc

    def _resolve(self, trigger: str, drift: float, channels: ChannelSet):
        now = self.env.now
        solve_id = self.solves
        self.solves += 1
        oldest_s = min(r.measured_at_s for r in self.reports.values())
        problem = PrecodingProblem(
            channels=channels,
            p_s_w=self.reports["satellite"].power_limit_w,
            p_u_w=self.reports["uav"].power_limit_w,
            p_b_w=self.reports["bs"].power_limit_w,
            eve_error_bound=self.eve_error_bound,
        )
        started = time.perf_counter()
        outcome = self._solve(self.precoder, problem)
        elapsed_s = time.perf_counter() - started
        if isinstance(outcome, Exception):
            error = f"{type(outcome).__name__}: {outcome}"
            result = None
            status = STATUS_FAILED
        else:
            result = outcome
            status = result.status
            error = result.message
            budget = self.policy.solve_timeout_s
            if budget > 0 and max(elapsed_s, result.wall_s) > budget:
                status = STATUS_TIMEOUT
                error = error or f"solve took longer than solve_timeout_s = {budget:g} s"
        decision = result if status == STATUS_OK else None
        fallback = "none"
        if decision is None:
            if self._has_good_decision:
                fallback = "keep_previous"
            else:
                fallback_outcome = self._solve(self.fallback, problem)
                if isinstance(fallback_outcome, PrecodingResult) and fallback_outcome.status == STATUS_OK:
                    decision = fallback_outcome
                    fallback = f"policy:{self.fallback.name}"
                else:
                    fallback = "idle"
        wall_s = time.perf_counter() - started
        fields: dict[str, object] = {
            "solve_id": solve_id,
            "trigger": trigger,
            "method": self.precoder.name,
            "status": status,
            "fallback": fallback,
            "oldest_input_age_s": now - oldest_s,
            "csi_drift": drift,
            "weather": self.weather.state if self.weather is not None else None,
            "iterations": result.iterations if result is not None else 0,
            "objective_bps_hz": result.objective if result is not None else math.nan,
            # λ1/λ2 of the lifted matrices (rank-one check); null when exactly rank one (λ2 = 0)
            "eigen_ratio_min": min(result.eigen_ratios) if result is not None else math.nan,
            "rank_one": bool(result is not None and min(result.eigen_ratios) >= RANK_ONE_RATIO),
            "phi_array_id": self.log.array("phi", np.asarray(result.objective_history, dtype=float))
            if result is not None and result.objective_history else None,
            "message": error,
        }
        if decision is not None:
            for user in USERS:
                fields[f"planned_{user}_bps_hz"] = decision.planned.rates[user]
        seq = self.log.log(now, "core", "resolve", **fields)
        self.log.timing(seq, wall_s=wall_s, solve_s=result.solve_s if result is not None else 0.0)
        self._last_solve_t_s = now
        self._solved_channels = channels
        self._solved_weather = self.weather.state if self.weather is not None else None
        if decision is None:
            return
        self._has_good_decision = self._has_good_decision or decision is result
        if self.policy.solve_delay_s > 0:
            yield self.env.timeout(self.policy.solve_delay_s)
        precoders = {"satellite": decision.w, "uav": decision.f, "bs": decision.v}
        for tx, user in SERVED_USER.items():
            command = PrecoderCommand(
                transmitter=tx,
                precoder=np.asarray(precoders[tx], dtype=complex),
                solve_id=solve_id,
                method=decision.method,
                planned_rate_bps_hz=decision.planned.rates[user],
                decided_at_s=now,
                oldest_input_s=oldest_s,
            )
            self.log.log(self.env.now, "core", "decision_sent", solve_id=solve_id, transmitter=tx, method=decision.method)
            self.downlinks[tx].put(command)
