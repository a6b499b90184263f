"""Worker processes and clusters: local workers never outlive their parent, a dead worker or a lost
dask cluster ends a sweep in one line, and bad dask addresses fail within a bounded wait.

Every wait here has a deadline; child processes are killed in ``finally`` blocks.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from sagin_twin.cli import main
from common.errors import InputError, RunFailure
from sweeps.engine import LocalExecutor
from sweeps.scheduler import check_scheduler, parse_scheduler_address
from tests import pool_tasks
from tests.conftest import ROOT, child_process, copy_scenario

LINUX_PROC = sys.platform.startswith("linux") and os.path.isdir("/proc/self")


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return parents


def _children(pid: int) -> set[int]:
    return {child for child, parent in _parents().items() if parent == pid and _alive(child)}


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid``."""
    parents = _parents()
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return {p for p in found if _alive(p)}


def _wait_until(condition, deadline_s: float, what: str) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {deadline_s:g} s waiting for {what}")


# ---- local process pool --------------------------------------------------------------------------------

def test_local_pool_runs_tasks_in_forkserver_workers():
    rows = dict(LocalExecutor(2).map_unordered(pool_tasks.square, [1.0, 2.0, 3.0]))
    assert {task: row["value"] for task, row in rows.items()} == {1.0: 1.0, 2.0: 4.0, 3.0: 9.0}
    assert all(row["status"] == "ok" for row in rows.values())


def test_a_dying_worker_is_a_run_failure_not_a_broken_pool():
    with pytest.raises(RunFailure, match="a local worker process died"):
        list(LocalExecutor(1).map_unordered(pool_tasks.kill_own_process, [1, 2]))


@pytest.mark.skipif(not LINUX_PROC, reason="reads /proc")
def test_workers_exit_when_their_parent_is_killed(tmp_path):
    code = ("import sys; sys.path.insert(0, sys.argv[1])\n"
            "from sweeps.engine import LocalExecutor\n"
            "from tests.pool_tasks import record_pid_and_sleep\n"
            "for _ in LocalExecutor(2).map_unordered(record_pid_and_sleep, [(sys.argv[2], 600.0)] * 2):\n"
            "    pass\n")
    workers: set[int] = set()
    try:
        with child_process([sys.executable, "-c", code, str(ROOT), str(tmp_path)]) as proc:
            _wait_until(lambda: len(list(tmp_path.glob("*.pid"))) == 2 or proc.poll() is not None, 180, "two busy workers")
            assert proc.poll() is None, proc.stderr.read().decode()
            workers = {int(p.stem) for p in tmp_path.glob("*.pid")}
            helpers = _descendants(proc.pid)  # workers, forkserver, resource tracker
            assert workers <= helpers
            proc.send_signal(signal.SIGKILL)  # the parent only
            proc.wait(timeout=60)
        _wait_until(lambda: not any(_alive(p) for p in helpers), 60, f"processes {sorted(helpers)} to exit")
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


SWEEP = """
[sweep]
base = "s.toml"
seed = 3
seeds = 2
duration_s = 600.0
metrics = ["resolves"]
[parameters]
"uav.power_dbw" = [0.0, 5.0]
"""


@pytest.mark.skipif(not LINUX_PROC, reason="reads /proc")
def test_a_sweep_whose_worker_dies_ends_in_one_line_and_keeps_work_under_out(tmp_path):
    copy_scenario(tmp_path)
    (tmp_path / "sweep.toml").write_text(SWEEP)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, str(ROOT / "run_sim.py"), "sweep", str(tmp_path / "sweep.toml"), "--out", str(out), "--workers", "2"]
    with child_process(argv, env=env) as proc:
        work = out / "work"
        _wait_until(lambda: proc.poll() is not None or (work.is_dir() and len(list(work.iterdir())) == 2), 150,
                    "two runs to start")
        assert proc.poll() is None, proc.stderr.read().decode()
        # the parent's forkserver child forks the pool's workers
        servers = [p for p in _children(proc.pid) if b"forkserver" in Path(f"/proc/{p}/cmdline").read_bytes()]
        workers = sorted(w for server in servers for w in _children(server))
        assert len(workers) == 2, (servers, workers)
        os.kill(workers[0], signal.SIGKILL)
        _, err = proc.communicate(timeout=90)
    err = err.decode()
    assert proc.returncode == 1, err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in err and "BrokenProcessPool" not in err, err
    assert "a local worker process died" in errors[0] and "run the same command again to resume" in errors[0]
    assert work.is_dir()  # the killed runs' scratch logs stay under --out, where the next sweep clears them


# ---- dask addresses and clusters ----------------------------------------------------------------------

@pytest.mark.parametrize("address, words", [
    ("not a url", "not a dask scheduler address"),
    ("http://127.0.0.1:8786", "uses http://"),
    ("tcp://127.0.0.1", "not a dask scheduler address"),
    ("tcp://127.0.0.1:99999", "outside 1..65535"),
])
def test_malformed_scheduler_addresses_are_refused_before_any_work(tmp_path, capfd, address, words):
    out = tmp_path / "out"
    assert main(["sweep", str(ROOT / "scenarios" / "sweeps" / "staleness.toml"), "--out", str(out), "--scheduler", address]) == 2
    err = capfd.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err, err
    assert not out.exists()


def test_scheduler_addresses_parse():
    assert parse_scheduler_address("tcp://127.0.0.1:8786") == ("tcp", "127.0.0.1", 8786)
    assert parse_scheduler_address("tls://[::1]:8786") == ("tls", "::1", 8786)
    assert parse_scheduler_address("scheduler.example:8786") == ("tcp", "scheduler.example", 8786)


@contextmanager
def _server(behaviour: str):
    """A local TCP server on 127.0.0.1 that misbehaves as a dask scheduler would not; yields its address."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    stop = threading.Event()
    connections = []

    def serve():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            connections.append(conn)
            if behaviour == "http-first":
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            elif behaviour == "closes":
                conn.close()
            # "silent" (and an HTTP server, which waits for a request) say nothing

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in connections:
            conn.close()
        listener.close()


@pytest.mark.parametrize("behaviour, words", [
    ("silent", "sent no dask greeting within 1 s"),
    ("http-first", "is not a dask scheduler (it sent b'HTTP/1.1"),
    ("closes", "closed the connection without a greeting"),
])
def test_a_server_that_is_not_a_dask_scheduler_is_refused_within_the_timeout(behaviour, words):
    with _server(behaviour) as address:
        started = time.monotonic()
        with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
            check_scheduler(address, timeout_s=1.0)
        assert time.monotonic() - started < 30  # bounded (generous for a loaded machine)


def test_nobody_listening_and_unresolvable_hosts_are_refused():
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    with pytest.raises(InputError, match="cannot connect"):
        check_scheduler(f"tcp://127.0.0.1:{port}", timeout_s=1.0)
    with pytest.raises(InputError, match="cannot resolve host"):
        check_scheduler("tcp://no-such-host.invalid:8786", timeout_s=1.0)


def test_an_unroutable_address_is_refused_within_the_timeout():
    started = time.monotonic()
    with pytest.raises(InputError):  # timeout, unreachable network or (behind a proxy) no greeting: all one line
        check_scheduler("tcp://10.255.255.1:8786", timeout_s=1.0)
    assert time.monotonic() - started < 30


def test_the_cli_refuses_a_silent_scheduler_in_one_line(tmp_path, capfd):
    with _server("silent") as address:
        assert main(["figure", "kaewpuang-fig2a", "--out", str(tmp_path / "o"), "--scheduler", address]) == 2
    err = capfd.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "sent no dask greeting within 10 s" in err, err


@pytest.fixture
def cluster(tmp_path):
    """A dask scheduler and one worker, each its own process bound to 127.0.0.1 (killed afterwards)."""
    pytest.importorskip("distributed")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    info = tmp_path / "scheduler.json"
    processes = []
    try:
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
             "--no-dashboard", "--scheduler-file", str(info)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        _wait_until(lambda: info.is_file() and "address" in info.read_text(), 120, "the scheduler to start")
        import json

        address = json.loads(info.read_text())["address"]
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--host", "127.0.0.1", "--nthreads", "1",
             "--no-nanny", "--no-dashboard"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        yield address, processes[0], processes[1]
    finally:
        for proc in processes:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=60)


def _dask_rows_until(executor, action_after: int, action) -> list[dict]:
    executor.client.wait_for_workers(1, timeout=120)
    rows = []
    for _, row in executor.map_unordered(pool_tasks.slow_square, [float(x) for x in range(40)]):
        rows.append(row)
        if len(rows) == action_after:
            action()
    return rows


def test_a_cluster_whose_scheduler_dies_mid_sweep_is_a_run_failure(cluster):
    from sweeps.engine import DaskExecutor

    address, scheduler, _ = cluster
    executor = DaskExecutor(address, connect_timeout_s=10.0, poll_s=0.5)
    try:
        with pytest.raises(RunFailure, match=f"the dask cluster at {address} lost a run"):
            _dask_rows_until(executor, 2, scheduler.kill)
    finally:
        executor.close()


def test_a_cluster_left_without_workers_is_a_run_failure(cluster):
    from sweeps.engine import DaskExecutor

    address, _, worker = cluster
    executor = DaskExecutor(address, connect_timeout_s=10.0, no_workers_s=2.0, poll_s=0.5)
    try:
        with pytest.raises(RunFailure, match="has had no worker for 2 s"):
            _dask_rows_until(executor, 1, worker.kill)
    finally:
        executor.close()
