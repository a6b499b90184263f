"""Output folders and files: refused before any work when unusable, locked while written, and a full
disk (ENOSPC, injected) never leaves a cut line, a half-written file or a traceback."""

from __future__ import annotations

import errno
import json
import os
import sys

import pandas as pd
import pytest

import eventlog.writer as writer
from eventlog.reader import load_events
from sagin_twin.cli import main
from common.errors import InputError
from sagin_twin.outputs import LOCK_FILE, check_output_file, check_output_folder, locked_folder
from tests.conftest import DEFAULT_SCENARIO, ROOT
from twin.qkd.solve import silent_highs

LINUX_PROC = sys.platform.startswith("linux") and os.path.isdir("/proc/1")
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0


def _one_error_line(err: str, *, only: bool = True) -> str:
    """The one ``error:`` line of a command's standard error (and, if ``only``, nothing else there)."""
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, err
    if only:
        assert err.strip() == errors[0], err
    return errors[0]


def _reached(*args, **kwargs):
    raise AssertionError("the command started working before refusing its output path")


# ---- unusable output paths: refused before any work ------------------------------------------------

def _unusable(tmp_path, case: str):
    """(path, expected words) of an output folder that cannot be used."""
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    if case == "file":
        return a_file, "is a file, not a folder"
    if case == "under-a-file":
        return a_file / "sub", "lies under"
    if case == "proc":
        return "/proc/1", "cannot write into /proc/1"
    if case == "proc-sub":
        return "/proc/1/out", "cannot write into /proc/1"
    if case == "read-only":
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        return folder / "out", "cannot write into"
    raise AssertionError(case)


CASES = ["file", "under-a-file",
         pytest.param("proc", marks=pytest.mark.skipif(not LINUX_PROC, reason="needs Linux /proc")),
         pytest.param("proc-sub", marks=pytest.mark.skipif(not LINUX_PROC, reason="needs Linux /proc")),
         pytest.param("read-only", marks=pytest.mark.skipif(ROOT_USER, reason="root may write into a 0555 folder"))]


def _no_work(monkeypatch):
    """Make every expensive first step fail loudly, so a test proves the path was refused before it."""
    import eventlog.query
    import eventlog.reader
    import scenarios.build
    import studies.kaewpuang
    import sweeps.spec

    monkeypatch.setattr(scenarios.build, "prepare", _reached)
    monkeypatch.setattr(studies.kaewpuang, "load_instance", _reached)
    monkeypatch.setattr(sweeps.spec, "load_sweep", _reached)
    monkeypatch.setattr(eventlog.reader, "load_by_kind", _reached)
    monkeypatch.setattr(eventlog.query, "scan_log", _reached)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("command", ["run", "figure", "sweep", "report"])
def test_unusable_out_folder_is_refused_before_any_work(tmp_path, capfd, monkeypatch, command, case):
    out, words = _unusable(tmp_path, case)
    _no_work(monkeypatch)
    argv = {
        "run": ["run", str(DEFAULT_SCENARIO), "--out", str(out)],
        "figure": ["figure", "kaewpuang-fig2a", "--out", str(out)],
        "sweep": ["sweep", str(ROOT / "scenarios" / "sweeps" / "staleness.toml"), "--out", str(out)],
        "report": ["report", str(tmp_path), "--out", str(out)],
    }[command]
    assert main(argv) == 2
    line = _one_error_line(capfd.readouterr().err)
    assert words in line and str(out) in line


@pytest.mark.parametrize("case", ["folder", "missing-folder", "under-a-file",
                                  pytest.param("proc", marks=pytest.mark.skipif(not LINUX_PROC, reason="needs Linux /proc"))])
def test_unusable_parquet_file_is_refused_before_reading_the_log(tmp_path, capfd, monkeypatch, case):
    _no_work(monkeypatch)
    (tmp_path / "a-file").write_text("x")
    target, words = {
        "folder": (tmp_path, "is a folder"),
        "missing-folder": (tmp_path / "nowhere" / "e.parquet", "does not exist"),
        "under-a-file": (tmp_path / "a-file" / "e.parquet", "does not exist"),
        "proc": ("/proc/1/e.parquet", "cannot write into /proc/1"),
    }[case]
    assert main(["inspect", str(tmp_path), "--parquet", str(target)]) == 2
    assert words in _one_error_line(capfd.readouterr().err)


def test_path_checks_create_nothing(tmp_path):
    target = tmp_path / "a" / "b" / "c"
    check_output_folder(target)
    check_output_file(tmp_path / "x.parquet", "--parquet")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InputError, match="not a usable path"):
        check_output_folder(tmp_path / "nul\0byte")


# ---- one command per output folder -------------------------------------------------------------------

def test_a_locked_folder_refuses_a_second_holder_until_released(tmp_path):
    with locked_folder(tmp_path / "out", "first") as folder:
        assert (folder / LOCK_FILE).is_file()
        with pytest.raises(InputError, match=r"is in use by another sagin-twin command \(pid \d+: sagin-twin first\)"):
            with locked_folder(folder, "second"):
                pass
        with pytest.raises(InputError, match="in use"):
            check_output_folder(folder)
    with locked_folder(tmp_path / "out", "third"):  # released on exit
        check_output_folder(tmp_path / "out" / "sub")


@pytest.mark.parametrize("argv", [
    ["run", str(DEFAULT_SCENARIO), "--force"],
    ["figure", "kaewpuang-fig2a"],
    ["sweep", str(ROOT / "scenarios" / "sweeps" / "staleness.toml")],
])
def test_a_second_command_into_a_busy_folder_fails_at_once(tmp_path, capfd, monkeypatch, argv):
    _no_work(monkeypatch)
    out = tmp_path / "busy"
    with locked_folder(out, "run"):
        assert main([*argv, "--out", str(out)]) == 2
    line = _one_error_line(capfd.readouterr().err)
    assert "is in use by another sagin-twin command" in line and "sagin-twin run" in line
    assert sorted(p.name for p in out.iterdir()) == [LOCK_FILE]


# ---- a full disk ------------------------------------------------------------------------------------

def _full_disk_after(monkeypatch, good_writes: int):
    """Every os.write of the log after ``good_writes`` fails with ENOSPC; the first failing one first puts
    half its bytes on disk (a short write), as a nearly full disk does."""
    real = writer._write
    calls = {"n": 0}

    def write(fd, data):
        calls["n"] += 1
        if calls["n"] <= good_writes:
            return real(fd, data)
        if calls["n"] == good_writes + 1 and len(data) > 1:
            return real(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(writer, "_write", write)


def test_a_failed_write_is_cut_back_to_the_last_whole_line(tmp_path, monkeypatch):
    line_file = writer.LineFile(tmp_path / "x.jsonl")
    line_file.write('{"a":1}\n')
    _full_disk_after(monkeypatch, 0)
    with pytest.raises(writer.LogWriteError, match="No space left on device") as caught:
        line_file.write('{"b":"' + "x" * 100 + '"}\n')
    assert caught.value.errno == errno.ENOSPC
    monkeypatch.undo()
    line_file.write('{"c":3}\n')  # later lines continue after the last whole line, with no hole
    line_file.close()
    assert (tmp_path / "x.jsonl").read_text() == '{"a":1}\n{"c":3}\n'


def test_disk_full_during_a_run_is_one_line_and_the_log_stays_readable(tmp_path, capfd, monkeypatch):
    # HiGHS prints its licence banner (to standard error) at its first instance in a process; have it
    # printed before the capture, so this test does not depend on whether an earlier test did so
    silent_highs()
    capfd.readouterr()
    out = tmp_path / "full"
    _full_disk_after(monkeypatch, 400)
    assert main(["run", str(DEFAULT_SCENARIO), "--out", str(out), "--duration", "60", "--quiet"]) == 1
    line = _one_error_line(capfd.readouterr().err)
    assert "No space left on device" in line and any(f"{name}.jsonl" in line for name in ("events", "arrays", "timings"))
    assert "readable up to" in line and "without a run_finished row" in line
    for name in ("events.jsonl", "arrays.jsonl", "timings.jsonl"):
        data = (out / name).read_bytes()
        assert data == b"" or data.endswith(b"\n"), name
        for text in data.decode().splitlines():
            json.loads(text)  # every line whole
    events = load_events(out)
    assert len(events) > 100 and "run_finished" not in set(events["kind"])
    assert not (out / "summary.json").exists()
    monkeypatch.undo()
    assert main(["inspect", str(out)]) == 0
    assert "incomplete (no run_finished event)" in capfd.readouterr().out


def test_disk_full_while_a_sweep_draws_its_plots_is_one_line(tmp_path, capfd, monkeypatch):
    import matplotlib.figure

    def no_space(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", no_space)
    sweep = tmp_path / "fig.toml"
    sweep.write_text("[sweep]\nfigure = 'yin-fig2'\nseed = 2\nseeds = 1\nmethods = ['mrt-full']\n"
                     "metrics = ['min_rate_bps_hz', 'iterations']\n")
    out = tmp_path / "out"
    assert main(["sweep", str(sweep), "--out", str(out), "--workers", "1"]) == 1
    line = _one_error_line(capfd.readouterr().err, only=False)  # progress lines come before it
    assert "could not write 2 of 2 plots" in line and "No space left on device" in line
    assert len(pd.read_parquet(out / "results.parquet")) == 15  # the results were written before the plots
    assert not list(out.glob("*.partial")) and not list(out.glob("*.png"))
