"""The event schema: each kind declares its columns once; the writer rejects others; docs/events.md is current."""

from __future__ import annotations

import io
import json

import pytest

from eventlog.docs import render
from eventlog.kinds import COLUMNS, KINDS, template_of, unit_of
from eventlog.writer import EventLog
from tests.conftest import ROOT


def _log(check: bool) -> tuple[EventLog, io.StringIO]:
    events = io.StringIO()
    return EventLog(events, io.StringIO(), io.StringIO(), check_columns=check), events


def test_every_kind_declares_its_columns_and_no_column_repeats():
    assert set(COLUMNS) == set(KINDS)
    for kind, columns in COLUMNS.items():
        assert len(set(columns)) == len(columns), kind
        assert not {"t_s", "seq", "source", "kind"} & set(columns), kind


def test_a_row_with_an_undeclared_column_is_rejected_and_nothing_is_written():
    log, events = _log(check=True)
    with pytest.raises(KeyError, match="undeclared columns \\['elevation_rad'\\]"):
        log.log(1.0, "satellite", "pass_event", event="rise", elevation_rad=0.1)
    assert events.getvalue() == ""
    log.log(1.0, "satellite", "pass_event", event="rise", elevation_deg=5.0)  # declared: written
    assert json.loads(events.getvalue())["elevation_deg"] == 5.0


def test_templated_columns_take_any_entity_name_and_nothing_else():
    log, events = _log(check=True)
    log.log(1.0, "world", "secrecy", achieved_su2_bps_hz=1.0, planned_gu_bps_hz=0.5, solve_id_uav1=3, achieved_min_bps_hz=0.5)
    assert json.loads(events.getvalue())["solve_id_uav1"] == 3
    for column in ("achieved_bps_hz", "achieved_Su_bps_hz", "achieved_su_bps", "solve_id_"):
        with pytest.raises(KeyError, match="undeclared columns"):
            log.log(1.0, "world", "secrecy", **{column: 1.0})
    assert template_of("secrecy", "achieved_min_bps_hz") == "achieved_min_bps_hz"
    assert template_of("report_received", "gain_eve2_est_db") == "gain_<eve>_est_db"


def test_without_the_check_only_the_kind_is_checked():
    log, events = _log(check=False)
    log.log(1.0, "satellite", "pass_event", event="rise", elevation_rad=0.1)
    assert "elevation_rad" in events.getvalue()
    with pytest.raises(KeyError, match="undeclared event kind"):
        log.log(1.0, "satellite", "pass_evnt")


@pytest.mark.parametrize(("column", "unit"), [("achieved_su_bps_hz", "bit/s/Hz"), ("key_rate_bps", "bit/s"),
                                              ("unmet_bits", "bit"), ("rain_fade_db", "dB"), ("power_w", "W"),
                                              ("range_m", "m"), ("age_s", "s"), ("coherence_uav_s", "s"),
                                              ("elevation_deg", "deg"), ("phi_array_id", "id of a row in arrays.jsonl"),
                                              ("cloud_cover", "fraction of sky"), ("hops", ""),
                                              ("calibration_uav2", "ratio"), ("solve_id_bs1", "solve id"),
                                              ("calibration_<transmitter>", "ratio")])
def test_units_follow_the_naming_rule(column, unit):
    assert unit_of(column) == unit


def test_the_default_run_writes_only_declared_columns(default_run):
    # the suite's runs check every row as it is written; this reads the log back as a second witness
    seen: dict[str, set[str]] = {}
    with open(default_run / "events.jsonl", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            seen.setdefault(row["kind"], set()).update(set(row) - {"t_s", "seq", "source", "kind"})
    undeclared = {kind: sorted(c for c in cols if template_of(kind, c) is None) for kind, cols in seen.items()}
    assert {kind: cols for kind, cols in undeclared.items() if cols} == {}


def test_the_event_reference_is_current():
    assert (ROOT / "docs" / "events.md").read_text(encoding="utf-8") == render(), "run: python -m eventlog.docs > docs/events.md"
