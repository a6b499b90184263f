"""The core-cloud twin's host: one periodic idiom, and the same fault, budget and fallback rules for any planner."""

from __future__ import annotations

import time

import pytest
import simpy

from common.periodic import periodic
from tests.recording import ListLog, Sink
from physical.reports import WeatherReport
from twin.messages import EdgeView
from twin.core import KEEP_PREVIOUS, NO_FALLBACK, STATUS_FAILED, STATUS_TIMEOUT, Attempt, CoreCloudTwin, Outgoing


# -- the periodic idiom ---------------------------------------------------------------------------
def test_periodic_acts_at_absolute_multiples_without_drift():
    env, times = simpy.Environment(), []
    env.process(periodic(env, 0.1, lambda k: times.append((k, env.now)), offset_s=0.05, count=1000))
    env.run()
    assert [k for k, _ in times] == list(range(1000))
    # computed from k, not accumulated (adding 0.1 a thousand times drifts by ~1e-12)
    assert max(abs(t - (k * 0.1 + 0.05)) for k, t in times) < 1e-13


def test_an_action_taking_time_skips_the_instants_that_passed():
    env, times = simpy.Environment(), []

    def busy():
        yield env.timeout(3.5)  # from t = 2 to t = 5.5

    def act(k):
        times.append(env.now)
        return busy() if k == 2 else None

    env.process(periodic(env, 1.0, act, count=10))
    env.run()
    assert times == [0.0, 1.0, 2.0, 6.0, 7.0, 8.0, 9.0]  # 3, 4 and 5 passed while busy


def test_periodic_refuses_a_non_positive_period():
    with pytest.raises(ValueError, match="period_s"):
        next(periodic(simpy.Environment(), 0.0, lambda k: None))


# -- the host -------------------------------------------------------------------------------------
class ScriptedPlanner:
    """A planner whose attempts follow a script: "ok", "bad" (unusable), "raise" or "slow"."""

    name = "scripted"
    row_kind = "resolve"
    check_period_s = 1.0
    check_offset_s = 0.5
    compute_delay_s = 0.25

    def __init__(self, script, budget_s=0.0, keeps=True):
        self.script = list(script)
        self.budget_s = budget_s
        self.keeps = keeps
        self.in_force = None
        self.views = []

    def observe(self, view, now_s):
        self.views.append((now_s, view))

    def due(self, now_s):
        return "period" if self.script else None

    def inputs(self, now_s, trigger):
        return {"step": self.script.pop(0), "at": now_s}

    def decide(self, inputs):
        step = inputs["step"]
        if step == "raise":
            raise RuntimeError("solver exploded")
        if step == "slow":
            time.sleep(0.05)
        return Attempt("ok" if step != "bad" else "bad", result=f"decision@{inputs['at']}")

    def usable(self, attempt, status):
        return status == "ok"

    def has_decision_to_keep(self):
        return self.keeps and self.in_force is not None

    def fallback(self, attempt):
        return "fallback-decision", "policy:safe"

    def record(self, now_s, trigger, attempt, status, fallback, decision):
        return {"status": status, "fallback": fallback, "message": attempt.message, "decision": decision}, {"solve_s": 0.0}

    def adopt(self, now_s, attempt, decision):
        if decision is None:
            return []
        self.in_force = decision
        return [Outgoing("tx", decision, {"solve_id": 0, "transmitter": "tx", "method": "scripted"})]


VIEW = EdgeView("tx", "a report", 0.0)


def _run(planner, until=10.0):
    env, log, sink = simpy.Environment(), ListLog(), Sink()
    inbox = simpy.Store(env)
    CoreCloudTwin(env, log).host(planner, inbox, {"tx": sink})
    inbox.put(VIEW)
    env.run(until=until)
    return log, sink


def test_a_crash_is_a_failed_attempt_then_fallback_then_keep_previous():
    planner = ScriptedPlanner(["raise", "ok", "raise", "bad"])
    log, sink = _run(planner)
    rows = log.of("resolve")
    assert [(r["status"], r["fallback"]) for r in rows] == [
        (STATUS_FAILED, "policy:safe"), ("ok", NO_FALLBACK), (STATUS_FAILED, KEEP_PREVIOUS), ("bad", KEEP_PREVIOUS)]
    assert "RuntimeError: solver exploded" in rows[0]["message"]
    assert sink.items == ["fallback-decision", "decision@1.5"]  # keep_previous sends nothing
    assert planner.views == [(0.0, VIEW)]


def test_commands_leave_after_the_compute_delay_with_a_sent_row():
    log, sink = _run(ScriptedPlanner(["ok"]))
    (resolve,), (sent,) = log.of("resolve"), log.of("decision_sent")
    assert resolve["t_s"] == 0.5 and sent["t_s"] == 0.75
    assert resolve["wall_s"] >= 0.0 and resolve["solve_s"] == 0.0  # the host times every decision
    assert sink.items == ["decision@0.5"]


def test_a_usable_attempt_over_the_wall_clock_budget_is_a_timeout():
    log, sink = _run(ScriptedPlanner(["slow", "ok"], budget_s=0.01), until=2.0)
    statuses = [(r["status"], r["fallback"]) for r in log.of("resolve")]
    assert statuses[0] == (STATUS_TIMEOUT, "policy:safe") and "solve_timeout_s" in log.of("resolve")[0]["message"]
    assert statuses[1] == ("ok", NO_FALLBACK)


def test_two_planners_cannot_share_a_name():
    env = simpy.Environment()
    host = CoreCloudTwin(env, ListLog())
    host.host(ScriptedPlanner([]), simpy.Store(env), {})
    with pytest.raises(ValueError, match="already hosted"):
        host.host(ScriptedPlanner([]), simpy.Store(env), {})


def test_every_planner_reads_one_weather_view_and_the_newer_report_wins():
    env = simpy.Environment()
    host = CoreCloudTwin(env, ListLog())
    inboxes = [simpy.Store(env), simpy.Store(env)]
    for name, inbox in zip(("a", "b"), inboxes):
        planner = ScriptedPlanner([])
        planner.name = name
        host.host(planner, inbox, {})
    inboxes[1].put(EdgeView("bs", WeatherReport(2.0, "rain", 3.0, 0.9), 2.1))
    env.run(until=1.0)
    inboxes[0].put(EdgeView("bs", WeatherReport(1.0, "clear", 0.0, 0.0), 1.1))  # older, overtaken by jitter
    env.run(until=2.0)
    assert host.weather.state == "rain" and host.weather.rain_fade_db == 3.0
    assert [p.views[0][1].report.state for p in host.planners.values()] == ["clear", "rain"]  # each still sees its own views
