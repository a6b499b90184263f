"""Shared fixtures: the repository root and a finished run of the default scenario."""

from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

from eventlog.writer import CHECK_COLUMNS_ENV

# every event log written by the suite, here or in a child process, rejects a column its kind does not declare
os.environ[CHECK_COLUMNS_ENV] = "1"

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCENARIO = ROOT / "scenarios" / "default.toml"


#: per-test timeout (s) of the tests that use :func:`default_run`: the first of them pays for the whole
#: 10-minute default scenario (600 re-solves of the statistical synergy precoder, ≈ 15 s on an
#: idle 2-core machine), the others reuse it
DEFAULT_RUN_TIMEOUT_S = 900


def pytest_collection_modifyitems(items):
    """Give the tests that share the default run the time its first user spends running it."""
    for item in items:
        if "default_run" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(DEFAULT_RUN_TIMEOUT_S))


@contextmanager
def child_process(argv, **kwargs):
    """A child process with piped stdout and stderr, killed and reaped on the way out whatever the test does."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=60)


@pytest.fixture(scope="session")
def default_run(tmp_path_factory) -> Path:
    """The default scenario run once through the command line (its folder)."""
    from sagin_twin.cli import main

    out = tmp_path_factory.mktemp("default") / "run"
    assert main(["run", str(DEFAULT_SCENARIO), "--out", str(out), "--quiet"]) == 0
    return out


def edit_file(path: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in the file by ``new``; a case whose ``old`` is absent fails loudly (it would test nothing)."""
    text = path.read_text()
    assert old in text, f"test case does not apply: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def copy_scenario(folder: Path, source: Path = DEFAULT_SCENARIO, name: str = "s.toml") -> Path:
    """Copy a shipped scenario and the data folders it names (tle/, traces/, qkd/) into ``folder``."""
    for sub in ("tle", "traces", "qkd"):
        if (source.parent / sub).is_dir() and not (folder / sub).exists():
            shutil.copytree(source.parent / sub, folder / sub)
    target = folder / name
    shutil.copy(source, target)
    return target


def with_coherence(radio, **coherence_s: float):
    """A copy of a RadioParameters with the named transmitters' configured coherence times replaced (s)."""
    from dataclasses import replace

    unknown = set(coherence_s) - set(radio.transmitters)
    if unknown:
        raise KeyError(f"no transmitters {sorted(unknown)}")
    return replace(radio, transmitters={name: replace(tx, coherence_s=coherence_s.get(name, tx.coherence_s))
                                        for name, tx in radio.transmitters.items()})
