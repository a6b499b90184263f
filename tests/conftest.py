"""Shared fixtures: the repository root and a finished run of the default scenario."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCENARIO = ROOT / "scenarios" / "default.toml"


@pytest.fixture(scope="session")
def default_run(tmp_path_factory) -> Path:
    """The default scenario run once through the command line (its folder)."""
    from sagin_twin.cli import main

    out = tmp_path_factory.mktemp("default") / "run"
    assert main(["run", str(DEFAULT_SCENARIO), "--out", str(out), "--quiet"]) == 0
    return out


def copy_scenario(folder: Path, source: Path = DEFAULT_SCENARIO, name: str = "s.toml") -> Path:
    """Copy a shipped scenario and the data folders it names (tle/, traces/, qkd/) into ``folder``."""
    for sub in ("tle", "traces", "qkd"):
        if (source.parent / sub).is_dir() and not (folder / sub).exists():
            shutil.copytree(source.parent / sub, folder / sub)
    target = folder / name
    shutil.copy(source, target)
    return target
