"""The world, the twin and the tools with any topology (issue 13): several UAVs and base stations, users per
tier, several eavesdroppers — the shipped multi-uav scenario against independent computations."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from eventlog import EventLog
from eventlog.plots import REPORT_COLUMNS, plot_secrecy
from eventlog.reader import load_array, load_by_kind
from eventlog.summary import format_summary, summarize_log
from scenarios.build import build, prepare
from scenarios.config import load_scenario
from tests.conftest import DEFAULT_SCENARIO, ROOT, copy_scenario, edit_file

MULTI = ROOT / "scenarios" / "multi-uav.toml"
DURATION_S = 20.0
POWER_RTOL = 1e-6  #: relative slack on a transmitter's power limit
RATE_TOL = 1e-9  #: bit/s/Hz: the logged rate against the scalar recomputation (same arithmetic, other order)


def _rows(run, kind):
    with open(run / "events.jsonl", encoding="utf-8") as lines:
        return [row for row in map(json.loads, lines) if row["kind"] == kind]


@pytest.fixture(scope="module")
def multi_run(tmp_path_factory):
    """A short multi-uav run with the true channel of every tick captured as the world drew it."""
    out = tmp_path_factory.mktemp("multi")
    prepared = prepare(load_scenario(MULTI).with_overrides(duration_s=DURATION_S))
    log = EventLog.open(out)
    sim = build(prepared, log)
    truths = {}
    step = sim.world.channels.step

    def capture(t_s, geo):
        truths[t_s] = step(t_s, geo)
        return truths[t_s]

    sim.world.channels.step = capture
    sim.run()
    sim.finish()
    log.log(sim.env.now, "run", "run_finished", status="completed", ticks=sim.world.ticks_done)
    log.close()
    return out, prepared.scenario.entities.topology, truths


def test_the_default_scenario_is_the_papers_topology_and_the_file_order_of_users_does_not_matter(tmp_path):
    top = load_scenario(DEFAULT_SCENARIO).entities.topology
    assert top.is_paper and top.users == ("su", "au", "gu") and top.eves == ("e",)
    path = copy_scenario(tmp_path)
    text = path.read_text()
    su = text[text.index("[users.su]"):text.index("[users.au]")]
    edit_file(path, su, "")
    edit_file(path, "[users.eve]", su + "[users.eve]")  # su listed after gu
    assert load_scenario(path).entities.topology == top


def test_the_multi_uav_scenario_names_every_entity():
    top = load_scenario(MULTI).entities.topology
    assert top.transmitters == ("satellite", "uav1", "uav2", "bs1", "bs2")
    assert top.users == ("su1", "su2", "su3", "au1", "au2", "au3", "gu1", "gu2", "gu3")
    assert top.eves == ("eve1", "eve2")
    assert top.users_of("uav1") == ("au1", "au2") and top.users_of("bs2") == ("gu3",)


def test_every_secrecy_row_equals_a_scalar_computation_from_the_logged_precoders(multi_run):
    """Rates recomputed by plain loops from the true channels and the precoders the transmitters logged as applied."""
    run, top, truths = multi_run
    applied = {tx: [] for tx in top.transmitters}
    for row in _rows(run, "decision_applied"):
        array = load_array(run, row["precoder_array_id"]).reshape(len(top.users_of(row["source"])), -1)
        applied[row["source"]].append((row["t_s"], array))
        assert row["power_w"] <= 10 ** (_power_dbw(row["source"]) / 10) * (1 + POWER_RTOL)
    checked = 0
    for row in _rows(run, "secrecy"):
        t = row["t_s"]
        in_force = {tx: [a for s, a in applied[tx] if s <= t] for tx in top.transmitters}
        if any(not found for found in in_force.values()):
            continue
        precoder = {u: in_force[tx][-1][top.users_of(tx).index(u)] for tx in top.transmitters for u in top.users_of(tx)}
        truth = truths[t]
        rates = {}
        for user in top.users:
            def power(message, receiver):
                return abs(np.vdot(truth[top.serving[message], receiver], precoder[message])) ** 2

            signal = power(user, user)
            interference = sum(power(other, user) for other in top.users if other != user)
            leaks = [power(user, eve) / (sum(power(other, eve) for other in top.users if other != user) + 1.0) for eve in top.eves]
            rates[user] = max(0.0, math.log2(1 + signal / (interference + 1.0)) - math.log2(1 + max(leaks)))
            assert row[f"achieved_{user}_bps_hz"] == pytest.approx(rates[user], abs=RATE_TOL), (t, user)
        assert row["achieved_min_bps_hz"] == pytest.approx(min(rates.values()), abs=RATE_TOL)
        assert row["unserved"] == ""
        checked += 1
    assert checked >= DURATION_S - 2  # every tick after the first decision reached every transmitter


def _power_dbw(transmitter: str) -> float:
    entities = load_scenario(MULTI).entities
    if transmitter == "satellite":
        return load_scenario(MULTI).satellite.power_dbw
    return (entities.uavs.get(transmitter) or entities.base_stations[transmitter]).power_dbw


def test_each_transmitter_reports_to_its_own_twin_and_the_twin_calibrates_every_predictor(multi_run):
    run, top, _ = multi_run
    sources = {row["source"] for row in _rows(run, "report_received")}
    assert sources == {f"edge.{tx}" for tx in top.transmitters}
    report = next(row for row in _rows(run, "report_received") if row["source"] == "edge.uav2")
    assert {f"gain_{u}_db" for u in top.users} | {"gain_eve1_est_db", "gain_eve2_est_db"} <= set(report)
    sent = _rows(run, "decision_sent")
    assert {row["transmitter"] for row in sent} == set(top.transmitters)
    summary = summarize_log(run)
    assert list(summary["secrecy"]) == [*top.users, "min"]
    # realised / predicted forecast error power: an independent witness that each transmitter's predictor is right
    for tx in top.transmitters:
        assert 0.6 < summary["prediction"][tx]["calibration_mean"] < 1.6, tx
    text = format_summary(summary)
    assert all(f"  {user} " in text for user in top.users)


def test_the_report_draws_one_panel_per_user_and_the_minimum(multi_run):
    run, top, _ = multi_run
    fig = plot_secrecy(load_by_kind(run, REPORT_COLUMNS, {c for cols in REPORT_COLUMNS.values() for c in cols}))
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == len(top.users) + 1
    assert {ax.get_ylabel().split(" ")[0] for ax in visible} == {u.upper() for u in top.users} | {"min"}


@pytest.mark.parametrize("old, new, message", [
    ("[users.su]", "[users.Su1]", r"users\.Su1: 'Su1' is not an entity name"),
    ("[users.gu]", "[users.min]", r"users\.min: 'min' is reserved"),
    ("position_enu_m = [250.0, 150.0, 2.0]", 'position_enu_m = [250.0, 150.0, 2.0]\nserved_by = "uav9"',
     r"users\.su\.served_by: 'uav9' \(given\) is not a transmitter of this scenario; transmitters: satellite, uav, bs"),
    ("[users.eve]", "[users.gu2]\nserved_by = \"bs\"", r"users: no eavesdropper"),
    ("[users.eve]", "[eavesdroppers.su]", r"eavesdroppers\.su: the name 'su' is taken by users\.su"),
    ("[users.eve]", '[users.eve]\nserved_by = "bs"', r"users\.eve\.served_by: users\.eve is the paper's eavesdropper"),
    ("[base_station]", "[base_stations.bs]", r"base_stations: give \[base_station\] \(one, named bs\) or \[base_stations\.<name>\]"),
])
def test_bad_entities_name_the_field(tmp_path, old, new, message):
    from common.errors import InputError

    path = copy_scenario(tmp_path)
    edit_file(path, old, new)
    if old == "[base_station]":  # both forms at once
        path.write_text(path.read_text() + "\n[base_station]\nantennas = 4\n")
    with pytest.raises(InputError, match=message):
        load_scenario(path)
