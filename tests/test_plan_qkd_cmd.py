"""``sagin-twin plan-qkd``: JSON keys, table output, metrics, and one-line errors for bad instances."""

from __future__ import annotations

import json

import pytest

from sagin_twin.cli import main
from tests.conftest import ROOT
from twin.qkd.instance import QkdInstance

NSFNET = ROOT / "scenarios" / "qkd" / "nsfnet.toml"
JSON_KEYS = {"status", "objective", "first_stage_cost", "expected_second_stage_cost", "routes", "reserved", "solve_s"}


def test_json_output_on_nsfnet(capfd):
    assert main(["plan-qkd", str(NSFNET), "--json"]) == 0
    out = json.loads(capfd.readouterr().out)
    assert JSON_KEYS <= set(out) and "vss" not in out
    assert out["status"] == "optimal"
    assert out["objective"] == pytest.approx(out["first_stage_cost"] + out["expected_second_stage_cost"], rel=1e-6)
    assert set(out["routes"]) == {"seattle-dc", "sd-houston", "uav-coast", "uav-south", "mountain-ne"}
    assert all(set(v) == {"qkd", "km"} for v in out["reserved"].values())


def test_json_with_metrics_and_scenario_rerouting(capfd):
    assert main(["plan-qkd", str(NSFNET), "--json", "--metrics", "--reroute", "scenario"]) == 0
    out = json.loads(capfd.readouterr().out)
    assert JSON_KEYS | {"vss", "evpi"} <= set(out)
    assert out["reroute"] == "scenario"
    assert out["vss"] >= -0.01 * out["objective"] and out["evpi"] >= -0.01 * out["objective"]


def test_table_output(capfd):
    assert main(["plan-qkd", str(NSFNET), "--metrics"]) == 0
    out = capfd.readouterr().out
    assert "objective" in out and "VSS" in out and "seattle-dc" in out and "QKD" in out


def _edited(tmp_path, old: str, new: str):
    text = NSFNET.read_text()
    assert old in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize("old, new, field", [
    ('b = "N2"', 'b = "N99"', "links[0].b"),
    ("probability = 0.21", "probability = 0.5", "scenarios.probability"),
    ("length_km = 2100", "length_km = -2100", "links[0].length_km"),
    ('medium = "fiber"', 'medium = "copper"', "links[0].medium"),
    ('src = "N1"', 'src = "Nowhere"', "requests[0].src"),
])
def test_bad_instance_exits_2_naming_the_field(tmp_path, capfd, old, new, field):
    path = _edited(tmp_path, old, new)
    assert main(["plan-qkd", str(path), "--json"]) == 2
    err = capfd.readouterr().err
    assert err.startswith(f"error: {path}: {field}") and err.count("\n") == 1


def test_missing_and_unparsable_files(tmp_path, capfd):
    assert main(["plan-qkd", str(tmp_path / "none.toml")]) == 2
    assert "file not found" in capfd.readouterr().err
    bad = tmp_path / "x.toml"
    bad.write_text("[media\n")
    assert main(["plan-qkd", str(bad)]) == 2
    assert "not valid TOML" in capfd.readouterr().err


def test_bad_gap_option(capfd):
    assert main(["plan-qkd", str(NSFNET), "--gap", "2"]) == 2
    assert "--gap" in capfd.readouterr().err


def test_infeasible_instance_exits_1_with_diagnosis(tmp_path, capfd):
    # the UAV U1 hangs off N13 only; with no UAV capacity it cannot be reached
    path = _edited(tmp_path, "[media.uav]\nspan_km = 1\nkey_rate_bps = 2000000\ncapacity_qkd = 150\ncapacity_km = 30\n"
                   "ondemand_capacity_qkd = 150\nondemand_capacity_km = 30",
                   "[media.uav]\nspan_km = 1\nkey_rate_bps = 2000000\ncapacity_qkd = 150\ncapacity_km = 0\n"
                   "ondemand_capacity_qkd = 150\nondemand_capacity_km = 0")
    assert main(["plan-qkd", str(path), "--json"]) == 1
    out = json.loads(capfd.readouterr().out)
    assert out["status"] == "infeasible" and "uav-coast" in out["diagnosis"] and "U1-N13" in out["diagnosis"]
    assert main(["plan-qkd", str(path)]) == 1
    assert "infeasible" in capfd.readouterr().out


@pytest.mark.parametrize("old, new, field", [
    ("ondemand_factor = 2.0", "ondemand_factor = 1e308", "planning.ondemand_factor"),
    ("length_km = 2100", "length_km = 1e308", "links[0].length_km"),
    ("key_rate_bps = 15000", "key_rate_bps = 1e-300", "media.fiber.key_rate_bps"),
])
def test_adversarial_numbers_exit_2_up_front_naming_the_field(tmp_path, capfd, old, new, field):
    """Values that used to reach HiGHS and end in "HiGHS stopped with status Empty"."""
    path = _edited(tmp_path, old, new)
    assert main(["plan-qkd", str(path)]) == 2
    captured = capfd.readouterr()
    assert captured.err.startswith(f"error: {path}: {field}") and captured.err.count("\n") == 1
    assert "HiGHS" not in captured.err and captured.out == ""


def test_text_output_lists_requests_the_clouds_leave_unserved(capfd):
    assert main(["plan-qkd", str(NSFNET)]) == 0
    out = capfd.readouterr().out
    assert "unserved" in out and "cloudy-low: uav-coast, uav-south" in out


def test_help_points_to_the_instance_reference_and_the_reference_is_in_sync(capsys):
    from twin.qkd.docs import render

    with pytest.raises(SystemExit):
        main(["plan-qkd", "--help"])
    assert "docs/qkd-instances.md" in capsys.readouterr().out
    stale = "docs/qkd-instances.md is stale: run `python -m twin.qkd.docs > docs/qkd-instances.md`"
    assert (ROOT / "docs" / "qkd-instances.md").read_text(encoding="utf-8") == render(), stale


def test_every_loader_field_is_documented_and_every_shipped_instance_loads():
    from twin.qkd.instance import FIELDS

    text = (ROOT / "docs" / "qkd-instances.md").read_text(encoding="utf-8")
    for f in FIELDS:
        assert f"`{f.key}`" in text
    for path in sorted((ROOT / "scenarios" / "qkd").glob("*.toml")):
        QkdInstance.from_toml(path)
