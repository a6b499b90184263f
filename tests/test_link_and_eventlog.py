"""Message links honour latency and loss; the event log writes, tolerates truncation, and rejects bad rows."""

import io
import json
import math

import numpy as np
import pytest
import simpy

from eventlog import EventLog
from eventlog.reader import load_array, load_events
from twin.link import Link, LinkModel


class _Recorder:
    def __init__(self):
        self.rows = []

    def log(self, t_s, source, kind, **fields):
        self.rows.append((t_s, source, kind, fields))
        return len(self.rows) - 1


def _arrivals(model, sends_at, seed=0):
    env = simpy.Environment()
    store = simpy.Store(env)
    log = _Recorder()
    link = Link(env, "test", store, model, np.random.default_rng(seed), log)
    arrived = []

    def sender():
        for t in sends_at:
            yield env.timeout(t - env.now)
            link.put(("msg", t))

    def receiver():
        while True:
            message = yield store.get()
            arrived.append((message[1], env.now))

    env.process(sender())
    env.process(receiver())
    env.run(until=max(sends_at) + 100)
    return arrived, link, log


def test_latency_is_honoured_exactly():
    arrived, _, _ = _arrivals(LinkModel(latency_s=0.3), [0.0, 1.0, 2.5])
    assert [(s, pytest.approx(s + 0.3)) for s, _ in arrived] == arrived


def test_jitter_only_adds_delay_with_the_configured_mean():
    sends = [float(k) for k in range(4000)]
    arrived, _, _ = _arrivals(LinkModel(latency_s=0.1, jitter_s=0.05), sends)
    delays = np.array([a - s for s, a in arrived])
    assert delays.min() >= 0.1
    assert (delays - 0.1).mean() == pytest.approx(0.05, rel=0.08)


def test_loss_drops_the_configured_share_and_logs_it():
    sends = [float(k) for k in range(5000)]
    arrived, link, log = _arrivals(LinkModel(latency_s=0.0, loss_probability=0.2), sends)
    assert link.lost + len(arrived) == 5000
    assert link.lost / 5000 == pytest.approx(0.2, abs=0.02)
    assert len(log.rows) == link.lost and all(kind == "message_lost" for _, _, kind, _ in log.rows)


@pytest.mark.parametrize("kwargs", [dict(latency_s=-1), dict(jitter_s=-0.1), dict(loss_probability=1.0)])
def test_link_model_rejects_bad_values(kwargs):
    with pytest.raises(ValueError):
        LinkModel(**kwargs)


def _memory_log():
    streams = io.StringIO(), io.StringIO(), io.StringIO()
    return EventLog(*streams), streams


def test_rows_are_flat_sequenced_and_nan_becomes_null():
    log, (events, _, _) = _memory_log()
    log.log(0.5, "core", "resolve", objective_bps_hz=math.nan, trigger="period", iterations=np.int64(3))
    log.log(1.0, "world", "secrecy", achieved_su_bps_hz=np.float64(1.25))
    rows = [json.loads(line) for line in events.getvalue().splitlines()]
    assert rows[0] == {"t_s": 0.5, "seq": 0, "source": "core", "kind": "resolve", "objective_bps_hz": None, "trigger": "period", "iterations": 3}
    assert rows[1]["seq"] == 1 and rows[1]["achieved_su_bps_hz"] == 1.25


@pytest.mark.parametrize("value, expected", [
    (1.5, 1.5), (math.inf, None), (-math.inf, None), (math.nan, None), (np.float32(0.25), 0.25), (np.float64(math.nan), None),
    (3, 3), (np.int64(-7), -7), (True, True), (np.bool_(False), False), ("x", "x"), (None, None)])
def test_each_scalar_type_is_written_as_json_would_read_it_back(value, expected):
    from eventlog.writer import _scalar
    out = _scalar("f", value)
    assert out == expected and type(out) is type(expected)  # a bool stays a bool, numpy scalars become Python's


def test_undeclared_kinds_and_array_fields_are_refused():
    log, _ = _memory_log()
    with pytest.raises(KeyError, match="undeclared"):
        log.log(0.0, "x", "no_such_kind")
    with pytest.raises(TypeError, match="scalar"):
        log.log(0.0, "x", "secrecy", achieved_min_bps_hz=np.zeros(3))


def test_files_round_trip_with_arrays_and_timings(tmp_path):
    with EventLog.open(tmp_path) as log:
        array_id = log.array("precoder.uav", np.array([1 + 2j, 3 - 4j]))
        seq = log.log(2.0, "uav", "decision_applied", precoder_array_id=array_id)
        log.timing(seq, wall_s=0.125)
    frame = load_events(tmp_path)
    assert frame.loc[0, "wall_s"] == 0.125 and frame.loc[0, "precoder_array_id"] == array_id
    assert np.array_equal(load_array(tmp_path, array_id), np.array([1 + 2j, 3 - 4j]))


def test_a_half_written_last_line_is_ignored(tmp_path):
    with EventLog.open(tmp_path) as log:
        for k in range(5):
            log.log(float(k), "world", "secrecy", achieved_min_bps_hz=0.1 * k)
    path = tmp_path / "events.jsonl"
    path.write_text(path.read_text() + '{"t_s": 5.0, "seq": 5, "sou')
    frame = load_events(tmp_path)
    assert list(frame["seq"]) == [0, 1, 2, 3, 4]
