"""The event schema: each kind declares its columns once; the writer rejects others; docs/events.md is current."""

from __future__ import annotations

import io
import json

import pytest

from eventlog.docs import render
from eventlog.kinds import COLUMNS, KINDS, unit_of
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
                                              ("cloud_cover", "fraction of sky"), ("hops", "")])
def test_units_follow_the_naming_rule(column, unit):
    assert unit_of(column) == unit


def test_the_default_run_writes_only_declared_columns(default_run):
    # the suite's runs check every row as it is written; this reads the log back as a second witness
    seen: dict[str, set[str]] = {}
    with open(default_run / "events.jsonl", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            seen.setdefault(row["kind"], set()).update(set(row) - {"t_s", "seq", "source", "kind"})
    assert {kind: sorted(cols - set(COLUMNS[kind])) for kind, cols in seen.items() if cols - set(COLUMNS[kind])} == {}


def test_the_event_reference_is_current():
    assert (ROOT / "docs" / "events.md").read_text(encoding="utf-8") == render(), "run: python -m eventlog.docs > docs/events.md"
