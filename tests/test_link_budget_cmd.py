"""``sagin-twin link-budget``: JSON through a real subprocess, closed-form losses, and one-line errors."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from sagin_twin.cli import main
from tests.conftest import ROOT

JSON_KEYS = {"medium", "loss_db", "loss_with_detector_db", "mu", "key_rate_bps"}
TIMEOUT_S = 120  #: bound on one command (s)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sagin_twin.cli", "link-budget", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=TIMEOUT_S)


def test_fiber_json_is_one_document_with_the_closed_form_loss():
    proc = run("--medium", "fiber", "--length-km", "100", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert JSON_KEYS <= set(out)
    assert out["medium"] == "fiber"
    assert out["loss_db"] == pytest.approx(20.0)  # 0.2 dB/km
    assert out["loss_with_detector_db"] == pytest.approx(20.0 - 10 * math.log10(out["detector_efficiency"]))
    assert 0 < out["mu"] < 1 and out["key_rate_bps"] > 0 and not out["zero_key"] and not out["capped"]


def test_satellite_elevation_defaults_to_a_micius_like_geometry_and_clouds_block():
    clear = json.loads(run("--medium", "satellite", "--range-km", "1200", "--json").stdout)
    assert clear["elevation_deg"] == pytest.approx(19.8, abs=0.1)
    assert clear["loss_db"] == pytest.approx(38.0, abs=1.5)  # the Micius link-efficiency curve (tests/data)
    cloudy = json.loads(run("--medium", "satellite", "--range-km", "1200", "--cloudy", "--json").stdout)
    assert cloudy["blocked"] and cloudy["loss_db"] is None and cloudy["mu"] is None
    assert cloudy["key_rate_bps"] == 0.0 and cloudy["zero_key"]


def test_fiber_beyond_the_cutoff_has_zero_key():
    out = json.loads(run("--medium", "fiber", "--length-km", "300", "--json").stdout)
    assert out["loss_db"] == pytest.approx(60.0) and out["zero_key"] and out["key_rate_bps"] == 0.0


def test_text_output_names_the_limits(capfd):
    assert main(["link-budget", "--medium", "uav", "--range-km", "1"]) == 0
    out = capfd.readouterr().out
    assert "dB" in out and "bit/s" in out and "count-rate cap not binding" in out


def test_a_bad_argument_through_a_subprocess_is_one_line_and_status_2():
    proc = run("--medium", "fiber", "--length-km", "-3", "--json")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == ["error: --length-km: must be a finite number in [0, 100000], got '-3'"]


@pytest.mark.parametrize("args, field", [
    (("--medium", "fiber"), "--length-km"),
    (("--medium", "fiber", "--length-km", "-3"), "--length-km"),
    (("--medium", "fiber", "--length-km", "nan"), "--length-km"),
    (("--medium", "fiber", "--length-km", "1e308"), "--length-km"),
    (("--medium", "satellite", "--range-km", "inf"), "--range-km"),
    (("--medium", "satellite", "--range-km", "0"), "--range-km"),
    (("--medium", "satellite", "--range-km", "1000", "--elevation-deg", "91"), "--elevation-deg"),
    (("--medium", "satellite", "--range-km", "1000", "--elevation-deg", "-1"), "--elevation-deg"),
    (("--medium", "satellite", "--range-km", "100"), "--range-km"),  # closer than a 500 km orbit
    (("--medium", "uav"), "--range-km"),
    (("--medium", "fiber", "--length-km", "5", "--cloudy"), "--cloudy"),
    (("--medium", "fiber", "--length-km", "5", "--range-km", "5"), "--range-km"),
    (("--medium", "uav", "--range-km", "1", "--elevation-deg", "30"), "--elevation-deg"),
    (("--medium", "satellite", "--length-km", "5", "--range-km", "800"), "--length-km"),
    (("--medium", "laser"), "--medium"),
    ((), "--medium"),
])
def test_bad_arguments_exit_2_with_one_line(args, field, capfd):
    assert main(["link-budget", *args, "--json"]) == 2
    captured = capfd.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and field in lines[0], captured.err
