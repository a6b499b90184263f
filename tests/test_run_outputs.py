"""A run folder's files: which are byte-identical per seed, where wall-clock figures and provenance go; LICENSE and CITATION.cff."""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from importlib import metadata

import pytest

from sagin_twin.cli import main
from scenarios.execute import OUTPUT_FILES, PROVENANCE_FILE, REPRODUCIBLE_FILES, SUMMARY_FILE, TIMINGS_SUMMARY_FILE
from tests.conftest import DEFAULT_SCENARIO, ROOT


def _strict_json(path):
    return json.loads(path.read_text(), parse_constant=lambda token: pytest.fail(f"{path.name}: non-standard JSON token {token}"))


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("twice")
    for name in ("a", "b"):
        assert main(["run", str(DEFAULT_SCENARIO), "--out", str(folder / name), "--duration", "40", "--quiet"]) == 0
    return folder / "a", folder / "b"


def test_same_seed_gives_byte_identical_reproducible_files(two_runs):
    a, b = two_runs
    assert set(REPRODUCIBLE_FILES) == {"events.jsonl", "arrays.jsonl", "run.json", "summary.json"}
    for name in REPRODUCIBLE_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "timings.jsonl").read_bytes() != (b / "timings.jsonl").read_bytes()  # wall times: why they live apart


def test_summary_json_has_no_wall_clock_figure_and_the_timings_summary_has_them(two_runs):
    a, _ = two_runs
    summary = _strict_json(a / SUMMARY_FILE)
    assert "wall_clock" not in summary and "wall" not in json.dumps(summary)
    assert summary["finished"] == "completed" and summary["resolves"]["count"] > 0
    timings = _strict_json(a / TIMINGS_SUMMARY_FILE)
    assert timings["run_wall_s"] > 0 and timings["resolve_wall_s"]["count"] == summary["resolves"]["count"]
    assert set(OUTPUT_FILES) <= {p.name for p in a.iterdir()}


def test_provenance_records_the_git_commit_and_dependency_versions(two_runs):
    record = _strict_json(two_runs[0] / PROVENANCE_FILE)
    git = shutil.which("git")
    if (ROOT / ".git").exists() and git:
        head = subprocess.run([git, "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=30).stdout.strip()
        assert record["git_commit"] == head and len(head) == 40
        assert isinstance(record["git_dirty"], bool)
    else:
        assert record["git_commit"] is None
    for name in ("numpy", "cvxpy", "highspy", "pandas", "skyfield", "simpy"):
        assert record["dependencies"][name] == metadata.version(name)
    assert record["sagin_twin_version"] == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_force_replaces_every_output_file(two_runs, capfd):
    a, _ = two_runs
    (a / PROVENANCE_FILE).write_text("stale")
    assert main(["run", str(DEFAULT_SCENARIO), "--out", str(a), "--duration", "3", "--quiet"]) == 2
    assert "--force" in capfd.readouterr().err
    assert main(["run", str(DEFAULT_SCENARIO), "--out", str(a), "--duration", "3", "--quiet", "--force"]) == 0
    assert _strict_json(a / PROVENANCE_FILE)["dependencies"]


def test_license_is_mit_as_pyproject_says():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Copyright (c) 2026 sagin-twin contributors" in text
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]  # SPDX form (PEP 639)


def test_citation_cites_the_project_and_the_source_papers():
    yaml = pytest.importorskip("yaml")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["license"] == "MIT" and cff["authors"]
    assert cff["version"] == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    titles = [ref["title"] for ref in cff["references"]]
    for words in ("Multi-Point Symbiotic Security", "Resource Allocation in Quantum Key Distribution",
                  "Quantum-Secured Space-Air-Ground Integrated Networks", "Multi-Agent DRL for QKD-Enabled Resource Allocation"):
        assert sum(words in title for title in titles) == 1, words
    for ref in cff["references"]:
        assert ref["authors"] and ref["year"]
        assert "doi" not in ref or ref["doi"].startswith("10.")
