"""Command-line contracts checked through real processes: every ``--json`` command prints exactly one
JSON document on standard output (whatever native solvers print), ``--help`` imports no numerical
library, and ``run_sim.py`` run by a Python without the dependencies says how to install them.

Every child process has a timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from importlib import metadata
import sys

import pytest

from precoding_instances import paper_problem, write_npz
from sagin_twin.cli import COMMANDS, build_parser
from tests.conftest import DEFAULT_SCENARIO, ROOT, child_process

TIMEOUT_S = 240  #: bound on one child process (generous: a loaded 2-core machine)
HEAVY = ("numpy", "pandas", "scipy", "cvxpy", "highspy", "matplotlib", "skyfield", "distributed", "pyarrow")


def _run(*args: str, python: list[str] | None = None, cwd=ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([*(python or [sys.executable]), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT_S)


def _sagin(*args: str) -> subprocess.CompletedProcess:
    return _run(str(ROOT / "run_sim.py"), *args)


def _only_json(proc: subprocess.CompletedProcess):
    """The one JSON document that is the whole of standard output."""
    assert proc.stdout.strip(), proc.stderr
    document = json.loads(proc.stdout)  # fails on any banner or table before or after the document
    assert proc.stdout.count("\n") == proc.stdout.rstrip("\n").count("\n") + 1  # ends with one newline
    return document


# ---- --json: one document on standard output ---------------------------------------------------------

def test_plan_qkd_json_is_the_whole_of_stdout():
    proc = _sagin("plan-qkd", str(ROOT / "scenarios" / "qkd" / "nsfnet.toml"), "--json")
    assert proc.returncode == 0, proc.stderr
    out = _only_json(proc)
    assert out["status"] == "optimal"
    assert "HiGHS" not in proc.stdout  # the solver's banner, if any, went to stderr


def test_the_highs_banner_goes_to_stderr_in_a_plain_text_command_too():
    """Without --json, the table plan-qkd prints is the whole of stdout; HiGHS's licence banner (printed
    once per process by its first instance) is on stderr."""
    proc = _sagin("plan-qkd", str(ROOT / "scenarios" / "qkd" / "nsfnet.toml"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("status optimal") and "HiGHS" not in proc.stdout
    major, minor = (int(part) for part in metadata.version("highspy").split(".")[:2])
    if (major, minor) >= (1, 16):  # the banner this test was written for
        assert "Running HiGHS" in proc.stderr


def test_precode_json_is_the_whole_of_stdout(tmp_path):
    problem, truth = paper_problem(2, delta=0.1)
    path = write_npz(tmp_path / "ch.npz", truth, estimates=problem.channels)
    proc = _sagin("precode", str(path), "--method", "synergy", "--json")
    assert proc.returncode == 0, proc.stderr
    assert _only_json(proc)["status"] == "ok"


def test_inspect_json_with_a_listing_is_one_document(default_run):
    proc = _sagin("inspect", str(default_run), "--kind", "resolve", "--list", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    out = _only_json(proc)
    assert out["by_kind"] == {"resolve": out["events"]}
    assert [e["kind"] for e in out["listed_events"]] == ["resolve"] * 3
    assert out["listed_events"][0]["seq"] < out["listed_events"][1]["seq"] < out["listed_events"][2]["seq"]


def test_inspect_json_of_several_runs_is_one_document(default_run):
    proc = _sagin("inspect", str(default_run), str(default_run), "--json")
    assert proc.returncode == 0, proc.stderr
    rows = _only_json(proc)
    assert len(rows) == 2 and rows[0] == rows[1]


def test_a_reader_that_stops_early_gets_no_traceback(default_run):
    """``sagin-twin inspect RUN --list N | head -1``: the closed pipe ends the command quietly (141)."""
    argv = [sys.executable, str(ROOT / "run_sim.py"), "inspect", str(default_run), "--list", "100000"]
    with child_process(argv, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}) as proc:
        assert proc.stdout.readline()  # the reader takes one line and goes away
        proc.stdout.close()
        _, stderr = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == 141 and stderr == b"", stderr.decode()


def test_json_errors_leave_stdout_empty(tmp_path):
    proc = _sagin("plan-qkd", str(tmp_path / "missing.toml"), "--json")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().startswith("error: ") and len(proc.stderr.strip().splitlines()) == 1


# ---- start-up ------------------------------------------------------------------------------------------

def test_help_imports_no_numerical_library():
    code = ("import sys\nfrom sagin_twin.cli import build_parser\n"
            "for argv in ([], ['run'], ['sweep'], ['figure']):\n"
            "    build_parser(argv).format_help()\n"
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    proc = _run("-c", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_top_level_help_lists_every_command():
    proc = _sagin("--help")
    assert proc.returncode == 0 and proc.stderr == ""
    for name, (_, help_text) in COMMANDS.items():
        assert name in proc.stdout and help_text.split()[0] in proc.stdout
    assert "143 terminated (SIGTERM)" in " ".join(proc.stdout.split())


def _subcommand_help(parser: argparse.ArgumentParser) -> dict[str, str]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {choice.dest: choice.help for choice in action._choices_actions}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_lazy_help_text_is_the_command_modules_own(name):
    assert _subcommand_help(build_parser([name]))[name] == COMMANDS[name][1]
    assert build_parser([name]).parse_args([name, *{"run": ["x.toml"], "inspect": ["x"], "report": ["x"],
                                                     "figure": ["yin-fig2"], "sweep": ["s.toml", "--out", "o"],
                                                     "precode": ["c.npz"], "plan-qkd": ["i.toml"], "init": ["new.toml"],
                                                     "link-budget": ["--medium", "fiber", "--length-km", "10"],
                                                     "evaluate": ["s.toml"], "train": []}[name]]).func


def test_every_command_module_is_registered():
    modules = {f"sagin_twin.{p.stem}" for p in (ROOT / "sagin_twin").glob("*_cmd.py")}
    assert modules == {module for module, _ in COMMANDS.values()}


def test_figure_names_match_the_studies():
    from sagin_twin.figure_cmd import KAEWPUANG_FIGURES, TWIN_VALUE_FIGURE, YIN_FIGURES
    from studies import kaewpuang, twin_value, yin

    assert YIN_FIGURES == tuple(sorted(yin.FIGURES)) and KAEWPUANG_FIGURES == tuple(sorted(kaewpuang.FIGURES))
    assert TWIN_VALUE_FIGURE == twin_value.NAME


def test_run_sim_without_the_dependencies_says_how_to_install(tmp_path):
    # -S: no site-packages, as with a system python3 that never ran `make install`
    bare = [sys.executable, "-S"]
    help_proc = _run(str(ROOT / "run_sim.py"), "--help", python=bare, cwd=tmp_path)
    assert help_proc.returncode == 0 and "run a scenario" in help_proc.stdout
    proc = _run(str(ROOT / "run_sim.py"), "run", str(DEFAULT_SCENARIO), python=bare, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip()
    assert len(line.splitlines()) == 1 and "make install" in line and ".venv/bin/sagin-twin" in line
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "runs").exists()
