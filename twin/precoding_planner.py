"""The core-cloud twin's precoding planner: gathers the transmitters' views, decides when to re-solve, designs.

Triggers are checked at absolute times ``k·check_period_s + check_offset_s``. A decision made at a
check reaches the transmitters after the compute delay and the decision link's latency and is
judged at the following ticks. With prediction on (``prediction = "mmse"``, the default) the twin
forecasts every channel at those ticks (:mod:`twin.prediction`) over a horizon of
``horizon_s``; the precoder designs on the forecast (its means, and its second moments for the
statistical designs) and the planned rates logged are expectations over the forecast. Triggers, in
priority order: ``initial`` (no decision yet and every transmitter has reported), ``weather`` (the
weather state changed), ``horizon`` (the decision in force covers no tick a new decision could
reach), ``forecast_drift`` (re-forecast, the decision in force is expected to lose more than
``forecast_drift_threshold`` of its planned min rate) and ``period``. Without prediction
(``prediction = "none"``) the twin designs on its latest reports as if they were exact and
re-solves on ``csi_drift`` (a user channel moved by more than ``csi_drift_threshold`` relative to
the one the last solve used) or ``period``.

A solve uses the twin's view — delayed reports, Eve's *estimated* channels, the twin's own models —
never the true channels. A solver that raises or reports a failure never stops the run: the host
(:mod:`twin.core`) keeps the previous decision, or, before the first good one, uses the fallback
policy; the ``resolve`` row says which. An ``inaccurate`` result (usable, but short of the solver's own
accuracy, e.g. a rank-one extraction loss) is used and flagged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from physical.channel_matrix import ChannelMatrix, Topology
from physical.reports import PrecoderCommand, TransmitterReport, WeatherReport
from twin.messages import EdgeView
from twin.precoding import STATUS_INACCURATE, STATUS_OK, Precoder, PrecodingProblem, PrecodingResult
from twin.core import Attempt, Outgoing, WeatherView
from twin.prediction import ChannelPredictor, Forecast, persistence_forecast

#: statuses whose decision the twin uses
USABLE_STATUSES = (STATUS_OK, STATUS_INACCURATE)
#: λ1/λ2 above which a lifted solution counts as rank one
RANK_ONE_RATIO = 1e3
#: prediction modes: MMSE forecast of the judged instants, or the latest reports taken as exact
PREDICTION_MODES = ("mmse", "none")


@dataclass(frozen=True)
class TriggerPolicy:
    """When the core-cloud twin re-solves, and what it designs for.

    Args:
        period_s: re-solve at least this often (s).
        csi_drift_threshold: without prediction: re-solve when max ‖h − h_solved‖ / ‖h_solved‖ over the
            transmitter→user channels exceeds this (–).
        on_weather_change: re-solve when the reported weather state changes.
        check_period_s, check_offset_s: triggers are checked at k·check_period_s + check_offset_s (s).
        solve_delay_s: simulated compute time between a trigger and sending the decision (s).
        solve_timeout_s: wall-time budget of one solve (s); a slower result is discarded (0 = none).
        prediction: ``mmse`` (forecast the judged instants) or ``none`` (latest reports as exact).
        horizon_s: a decision is designed for the ticks within this time after it first applies (s).
        forecast_drift_threshold: with prediction: re-solve when the decision in force is expected
            to lose more than this fraction of its planned min rate (–).
        tick_s: the world's tick, at which decisions are judged and reports measured (s).
        decision_latency_s: nominal latency of the decision links (s).
    """

    period_s: float
    csi_drift_threshold: float
    on_weather_change: bool
    check_period_s: float
    check_offset_s: float
    solve_delay_s: float
    solve_timeout_s: float = 0.0
    prediction: str = "mmse"
    horizon_s: float = 1.0
    forecast_drift_threshold: float = 0.2
    tick_s: float = 1.0
    decision_latency_s: float = 0.0

    def __post_init__(self) -> None:
        if self.prediction not in PREDICTION_MODES:
            raise ValueError(f"prediction must be one of {PREDICTION_MODES}, got {self.prediction!r}")

    def judged_times(self, decided_at_s: float) -> tuple[float, ...]:
        """The ticks at which a decision made at ``decided_at_s`` (s) will be judged, up to the horizon."""
        applies = decided_at_s + self.solve_delay_s + self.decision_latency_s
        first = math.ceil(applies / self.tick_s - 1e-9) * self.tick_s
        count = max(1, int(round(self.horizon_s / self.tick_s)))
        return tuple(first + k * self.tick_s for k in range(count))


def csi_drift(now: ChannelMatrix, solved: ChannelMatrix) -> float:
    """Largest relative change of the transmitter→user channels (–); inf if one appeared from zero."""
    worst = 0.0
    top = now.topology
    for tx in top.transmitters:
        for user in top.users:
            new, old = now[tx, user], solved[tx, user]
            old_norm = np.linalg.norm(old)
            change = np.linalg.norm(new - old)
            if old_norm > 0:
                worst = max(worst, float(change / old_norm))
            elif change > 0:
                return math.inf
    return worst


class PrecodingPlanner:
    """The precoding planner of the core-cloud twin (module docstring; hosted by :class:`twin.core.CoreCloudTwin`).

    Args:
        topology: who transmits to whom (transmitters, users, Eves by name).
        precoder: the precoding policy.
        fallback: the policy used when the main one fails before any good decision exists.
        policy: trigger policy.
        eve_error_bound: Δ handed to the solver (robust designs use it).
        weather: the core-cloud twin's weather view (:attr:`twin.core.CoreCloudTwin.weather`).
        log: the event logger.
        predictor: the channel predictor (required when ``policy.prediction`` is ``mmse``).
    """

    name = "precoding"
    row_kind = "resolve"

    def __init__(
        self,
        topology: Topology,
        precoder: Precoder,
        fallback: Precoder,
        policy: TriggerPolicy,
        eve_error_bound: float,
        weather: WeatherView,
        log,
        predictor: ChannelPredictor | None = None,
    ) -> None:
        if policy.prediction == "mmse" and predictor is None:
            raise ValueError("prediction = 'mmse' needs a ChannelPredictor")
        self.topology = topology
        self.precoder = precoder
        self.fallback_policy = fallback
        self.policy = policy
        self.check_period_s = policy.check_period_s
        self.check_offset_s = policy.check_offset_s
        self.compute_delay_s = policy.solve_delay_s
        self.budget_s = policy.solve_timeout_s
        self.eve_error_bound = eve_error_bound
        self.log = log
        self.predictor = predictor if policy.prediction == "mmse" else None
        self.reports: dict[str, TransmitterReport] = {}
        self.weather = weather
        self.solves = 0
        self._now_s = 0.0
        self._due: tuple[ChannelMatrix, float] | None = None  # the view and drift the last ``due`` saw
        self._last_solve_t_s: float | None = None
        self._solved_channels: ChannelMatrix | None = None
        self._solved_weather: str | None = None
        self._has_good_decision = False
        self._in_force: PrecodingResult | None = None  # the last decision sent
        self._in_force_window: tuple[float, ...] = ()  # the ticks it was designed for
        self._in_force_moment_min = math.nan  # its moment-matched min rate on the forecast it was designed on
        self._planned: tuple[dict[str, float], float] = ({}, math.nan)  # the last recorded decision's planned rates

    # -- view ------------------------------------------------------------------------------------
    def observe(self, view: EdgeView, now_s: float) -> None:
        """Take in a transmitter's report (the newer one wins); the host has put a weather report in the shared view."""
        report = view.report
        self.log.log(
            now_s, "core", "view_received", edge=view.edge, report=type(report).__name__,
            measured_at_s=report.measured_at_s, age_s=now_s - report.measured_at_s,
        )
        if not isinstance(report, WeatherReport):
            current = self.reports.get(report.transmitter)
            if current is None or report.measured_at_s > current.measured_at_s:
                self.reports[report.transmitter] = report
                if self.predictor is not None:
                    self.predictor.observe(report, self.weather.rain_fade_db)

    def view_channels(self) -> ChannelMatrix:
        """The twin's channels: latest reported user channels and Eve's *estimated* channels."""
        top = self.topology
        vectors = {}
        for tx in top.transmitters:
            report = self.reports[tx]
            vectors.update({(tx, user): report.channels[user] for user in top.users})
            vectors.update({(tx, eve): report.eve_estimates[eve] for eve in top.eves})
        return ChannelMatrix.from_vectors(top, vectors)

    def forecast(self, times_s: tuple[float, ...]) -> Forecast:
        """The twin's view of the channels at ``times_s``: predicted, or the latest reports as exact."""
        if self.predictor is None:
            return persistence_forecast(self.topology, self.reports, times_s, self._now_s)
        return self.predictor.forecast(self.reports, self.weather.rain_fade_db, times_s, self._now_s)

    # -- triggers --------------------------------------------------------------------------------
    def due(self, now_s: float) -> str | None:
        """The trigger of a re-solve now (module docstring), or None; None until every transmitter has reported."""
        self._now_s = now_s
        if len(self.reports) < len(self.topology.transmitters):
            return None
        channels = self.view_channels()
        trigger, drift = self._trigger(channels)
        self._due = (channels, drift)
        return trigger

    def _trigger(self, channels: ChannelMatrix) -> tuple[str | None, float]:
        if self._solved_channels is None:
            return "initial", math.nan
        drift = csi_drift(channels, self._solved_channels)
        if self.policy.on_weather_change and self.weather.state != self._solved_weather:
            return "weather", drift
        if self.predictor is not None:
            reachable = self.policy.judged_times(self._now_s)
            remaining = tuple(t for t in self._in_force_window if t >= reachable[0] - 1e-9)
            if not remaining:
                return "horizon", drift
            if self._in_force is not None and math.isfinite(self._in_force_moment_min):
                now_expected = self.forecast(remaining).moment_min_rate(self._in_force.precoders)
                if now_expected < (1.0 - self.policy.forecast_drift_threshold) * self._in_force_moment_min:
                    return "forecast_drift", drift
        elif drift > self.policy.csi_drift_threshold:
            return "csi_drift", drift
        if self._now_s - self._last_solve_t_s >= self.policy.period_s - 1e-9:
            return "period", drift
        return None, drift

    # -- deciding --------------------------------------------------------------------------------
    def inputs(self, now_s: float, trigger: str) -> dict[str, object]:
        """The design problem on the twin's view (its forecast of the judged ticks, or the latest reports)."""
        channels, drift = self._due
        self._now_s = now_s
        solve_id = self.solves
        self.solves += 1
        judged = self.policy.judged_times(now_s)
        forecast = self.forecast(judged)
        top = self.topology
        problem = PrecodingProblem(
            forecast.design_matrix() if self.predictor is not None else channels,
            {tx: self.reports[tx].power_limit_w for tx in top.transmitters},
            eve_error_bound=self.eve_error_bound,
            second_moments=forecast.second_moments() if self.predictor is not None else None,
            warm_start={u: self._in_force.precoders[u] for u in top.users}
            if self.predictor is not None and self._in_force is not None else None,
        )
        return {"channels": channels, "drift": drift, "judged": judged, "forecast": forecast, "problem": problem,
                "oldest_s": min(r.measured_at_s for r in self.reports.values()), "solve_id": solve_id}

    def decide(self, inputs: dict[str, object]) -> Attempt:
        """Solve the problem with the precoding policy."""
        result = self.precoder.solve(inputs["problem"])
        return Attempt(result.status, result.message, result, result.wall_s)

    def usable(self, attempt: Attempt, status: str) -> bool:
        return status in USABLE_STATUSES

    def has_decision_to_keep(self) -> bool:
        """A decision of the main policy is in force (a fallback decision is replaced at the next chance)."""
        return self._has_good_decision

    def fallback(self, attempt: Attempt) -> tuple[PrecodingResult | None, str]:
        """The fallback policy's decision on the same problem, or nothing (``idle``)."""
        try:
            result = self.fallback_policy.solve(attempt.inputs["problem"])
        except Exception:  # the fallback failing too leaves the transmitters as they are
            return None, "idle"
        if result.status in USABLE_STATUSES:
            return result, f"policy:{self.fallback_policy.name}"
        return None, "idle"

    def _calibration_fields(self) -> dict[str, object]:
        """The predictor's self-assessment since the last re-solve (logged in the ``resolve`` row)."""
        if self.predictor is None:
            return {}
        fields: dict[str, object] = {}
        for tx in self.topology.transmitters:
            fields[f"calibration_{tx}"] = self.predictor.calibration[tx].drain()
            fields[f"coherence_{tx}_s"] = self.predictor.fading[tx].coherence_s
        return fields

    def record(self, now_s: float, trigger: str, attempt: Attempt, status: str, fallback: str,
               decision: PrecodingResult | None) -> tuple[dict[str, object], dict[str, float]]:
        """The ``resolve`` row: the solve, its fallback and the planned rates of the decision on the forecast."""
        inputs, result = attempt.inputs, attempt.result
        forecast, judged = inputs["forecast"], inputs["judged"]
        if decision is not None:
            planned, planned_min = forecast.expected_rates(decision.precoders)
        else:
            planned, planned_min = {}, math.nan
        self._planned = (planned, planned_min)
        fields: dict[str, object] = {
            "solve_id": inputs["solve_id"],
            "trigger": trigger,
            "method": self.precoder.name,
            "status": status,
            "fallback": fallback,
            "oldest_input_age_s": now_s - inputs["oldest_s"],
            "first_judged_s": judged[0],
            "judged_ticks": len(judged),
            "csi_drift": inputs["drift"],
            "weather": self.weather.state,
            "iterations": result.iterations if result is not None else 0,
            "objective_bps_hz": result.objective if result is not None else math.nan,
            # λ1/λ2 of the lifted matrices (rank-one check); null when exactly rank one (λ2 = 0)
            "eigen_ratio_min": min(result.eigen_ratios) if result is not None else math.nan,
            "rank_one": bool(result is not None and min(result.eigen_ratios) >= RANK_ONE_RATIO),
            "phi_array_id": self.log.array("phi", np.asarray(result.objective_history, dtype=float))
            if result is not None and result.objective_history else None,
            "message": attempt.message,
            "planned_min_bps_hz": planned_min,
            **self._calibration_fields(),
        }
        for user in self.topology.users:
            fields[f"planned_{user}_bps_hz"] = planned.get(user, math.nan)
        return fields, {"solve_s": result.solve_s if result is not None else 0.0}

    def adopt(self, now_s: float, attempt: Attempt, decision: PrecodingResult | None) -> list[Outgoing]:
        """Put ``decision`` in force: one precoder command per transmitter."""
        inputs = attempt.inputs
        self._last_solve_t_s = now_s
        self._solved_channels = inputs["channels"]
        self._solved_weather = self.weather.state
        if decision is None:
            return []
        self._has_good_decision = self._has_good_decision or decision is attempt.result
        self._in_force, self._in_force_window = decision, inputs["judged"]
        self._in_force_moment_min = inputs["forecast"].moment_min_rate(decision.precoders)
        planned, planned_min = self._planned
        solve_id = inputs["solve_id"]
        top = self.topology
        return [
            Outgoing(tx, PrecoderCommand(
                transmitter=tx,
                precoders={u: np.asarray(decision.precoders[u], dtype=complex) for u in top.users_of(tx)},
                solve_id=solve_id,
                method=decision.method,
                planned_rates_bps_hz={u: planned.get(u, math.nan) for u in top.users_of(tx)},
                decided_at_s=now_s,
                oldest_input_s=inputs["oldest_s"],
                planned_min_rate_bps_hz=planned_min,
            ), {"solve_id": solve_id, "transmitter": tx, "method": decision.method})
            for tx in top.transmitters if top.users_of(tx)
        ]
