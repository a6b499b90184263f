"""Executors and the resumable result store of a sweep.

Runs go to a local process pool (``LocalExecutor``, workers = cores by default) or to an existing
dask.distributed cluster (``DaskExecutor``). Both yield rows as runs finish; the store appends each
row to ``runs.jsonl`` at once, so an interrupted sweep restarts without recomputing finished runs.
Results do not depend on the executor: every run's seed comes from the sweep's seed and the run's
parameters, never from the order of execution.

Local workers start from a ``forkserver`` (never ``fork``: the parent may already run native solver
threads, and a forked HiGHS deadlocks), ignore SIGINT (Ctrl-C reaches the parent, which stops them),
and exit on their own as soon as the parent process is gone, however it ended: each watches a pipe
whose only writer is the parent.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Callable, Iterable, Iterator

from common.errors import RunFailure
from sweeps.runs import run_safely
from sweeps.scheduler import check_scheduler

RUNS_FILE = "runs.jsonl"
EXIT_PARENT_GONE = 3  #: exit status of a local worker whose parent process died
DASK_CONNECT_TIMEOUT_S = 10.0  #: bound on reaching and greeting a dask scheduler (s)
DASK_NO_WORKERS_S = 60.0  #: a dask sweep fails after its cluster has had no worker this long (s)
DASK_POLL_S = 2.0  #: how often a waiting dask sweep checks on its cluster (s)


def run_batch(function: Callable, batch: list) -> list[dict]:
    """Run several tasks in one worker call (amortises the pool's per-call cost for short runs)."""
    return [run_safely(function, task) for task in batch]


def _worker_init(parent_alive: multiprocessing.connection.Connection) -> None:
    """Pool worker start-up: ignore SIGINT, send native output meant for standard output (HiGHS's banner)
    to standard error, and ``os._exit`` once the parent's end of ``parent_alive`` closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.dup2(2, 1)  # the parent's standard output carries its own results only

    def watch() -> None:
        try:
            parent_alive.recv_bytes()  # the parent never sends: this returns (EOFError) only when it is gone
        except (EOFError, OSError):
            pass
        os._exit(EXIT_PARENT_GONE)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class LocalExecutor:
    """A process pool on this machine; short tasks are sent in small batches."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1

    def map_unordered(self, function: Callable, tasks: list) -> Iterator[tuple[object, dict]]:
        """Yield (task, row) as each batch of runs finishes.

        Raises:
            RunFailure: a worker process died (killed, out of memory); rows yielded so far are kept.
        """
        size = max(1, min(16, len(tasks) // (self.workers * 8)))
        batches = [tasks[i:i + size] for i in range(0, len(tasks), size)]
        context = multiprocessing.get_context("forkserver")
        watch_end, alive_end = context.Pipe(duplex=False)  # workers hold watch_end; only this process holds alive_end
        pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context, initializer=_worker_init,
                                   initargs=(watch_end,))
        finished = broken = False
        try:
            futures = {pool.submit(run_batch, function, batch): batch for batch in batches}
            try:
                for future in as_completed(futures):
                    yield from zip(futures[future], future.result())
            except BrokenProcessPool:
                broken = True
                raise RunFailure("a local worker process died (killed, or out of memory?)") from None
            finished = True
        finally:
            # on an error or an interrupt, do not wait for the running tasks: cancel the rest and let
            # the workers see this end of the pipe close (they exit at once). A broken pool has already
            # ended its workers; joining its manager thread now keeps concurrent.futures' exit hook from
            # writing to the thread's closed wake-up pipe ("Exception ignored … Bad file descriptor").
            pool.shutdown(wait=finished or broken, cancel_futures=not finished)
            alive_end.close()
            watch_end.close()

    def describe(self) -> str:
        return f"local process pool, {self.workers} worker(s)"


class DaskExecutor:
    """An existing dask.distributed cluster, reached at ``address`` (e.g. tcp://127.0.0.1:8786).

    The address is checked before ``distributed`` sees it (:func:`sweeps.scheduler.check_scheduler`):
    a malformed address, no listener, a silent peer or a server that is not a dask scheduler each end
    in one line within ``connect_timeout_s``. While waiting for runs, a scheduler that goes away, a
    cancelled run or a cluster left without workers for ``no_workers_s`` ends the sweep with
    :class:`RunFailure` (finished runs are kept).
    """

    def __init__(self, address: str, connect_timeout_s: float = DASK_CONNECT_TIMEOUT_S,
                 no_workers_s: float = DASK_NO_WORKERS_S, poll_s: float = DASK_POLL_S) -> None:
        check_scheduler(address, connect_timeout_s)
        from distributed import Client

        _quiet_distributed()

        self.address = address
        self.no_workers_s = no_workers_s
        self.poll_s = poll_s
        try:
            self.client = Client(address, timeout=f"{connect_timeout_s}s")
        except (OSError, TimeoutError) as exc:
            raise RunFailure(f"{address}: cannot connect to the dask scheduler ({exc})") from None

    def map_unordered(self, function: Callable, tasks: list) -> Iterator[tuple[object, dict]]:
        """Yield (task, row) as runs finish on the cluster.

        Raises:
            RunFailure: the scheduler went away, a run was cancelled or lost, or no worker was
                connected for ``no_workers_s``; rows yielded so far are kept.
        """
        from concurrent.futures import CancelledError

        from distributed import wait

        job = functools.partial(run_safely, function)
        futures = self.client.map(job, tasks, pure=False)
        index = {future.key: task for future, task in zip(futures, tasks)}
        pending = set(futures)
        without_workers_since: float | None = None
        try:
            while pending:
                try:
                    done, pending = wait(pending, timeout=self.poll_s, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    done = set()
                except CancelledError as exc:  # distributed raises it when a future of the batch was cancelled
                    raise RunFailure(f"the dask cluster at {self.address} lost a run (cancelled: {_cancel_reason(exc)}; "
                                     f"{len(pending)} runs unfinished)") from None
                for future in done:
                    yield index[future.key], self._row(future)
                if not done:
                    without_workers_since = self._check_workers(without_workers_since, len(pending))
        except BaseException:
            self._cancel(futures)
            raise

    def _row(self, future) -> dict:
        """The run's row; a future that did not finish (cancelled, lost with its worker) is a RunFailure."""
        if future.status != "finished":
            try:
                error = future.exception(timeout=self.poll_s)
            except BaseException as exc:  # cancelled futures raise here
                error = exc
            reason = " ".join(f"{type(error).__name__}: {error}".split())
            raise RunFailure(f"the dask cluster at {self.address} lost a run ({reason})")
        row = future.result()
        if not isinstance(row, dict):
            raise RunFailure(f"the dask cluster at {self.address} returned {type(row).__name__} instead of a run's row")
        return row

    def _check_workers(self, since: float | None, unfinished: int) -> float | None:
        """Track how long the cluster has had no worker; fail past ``no_workers_s``."""
        try:
            workers = len(self.client.nthreads())
        except (OSError, TimeoutError) as exc:
            raise RunFailure(f"lost the dask scheduler at {self.address} ({exc})") from None
        if workers:
            return None
        now = time.monotonic()
        if since is None:
            return now
        if now - since >= self.no_workers_s:
            raise RunFailure(f"the dask cluster at {self.address} has had no worker for {self.no_workers_s:g} s "
                             f"({unfinished} runs unfinished)")
        return since

    def _cancel(self, futures) -> None:
        try:
            self.client.cancel(futures)
        except Exception:  # the scheduler may already be gone
            pass

    def describe(self) -> str:
        return f"dask cluster at {self.address}"

    def close(self) -> None:
        try:
            self.client.close(timeout=DASK_CONNECT_TIMEOUT_S)
        except Exception:  # closing a client whose scheduler died must not hide the real error
            pass


def _quiet_distributed() -> None:
    """Silence distributed's own log (a lost scheduler prints a 40-line traceback per reconnection attempt);
    the sweep reports what happened in one line instead."""
    for name in ["distributed", *logging.root.manager.loggerDict]:
        if name == "distributed" or name.startswith("distributed."):
            logging.getLogger(name).setLevel(logging.CRITICAL)


def _cancel_reason(exc: BaseException) -> str:
    """The reason in distributed's multi-line cancellation message (e.g. ``scheduler-connection-lost``)."""
    lines = str(exc).splitlines()
    for line in lines:
        if "for reason:" in line:
            return line.split("for reason:", 1)[1].strip().rstrip(".")
    return lines[0] if lines else type(exc).__name__


class ResultStore:
    """Append-only JSON Lines of finished runs, keyed by ``run_id``."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / RUNS_FILE

    def rows(self) -> list[dict]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a killed sweep can leave half a line; everything before it is good
        return out

    def repair(self) -> None:
        """Drop a half-written last line left by a killed sweep, so new rows start on a fresh line."""
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            self.path.write_bytes(data[: data.rfind(b"\n") + 1])

    def done(self) -> set[str]:
        return {row["run_id"] for row in self.rows()}

    def append(self, row: dict) -> None:
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
        with open(self.path, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(clean, separators=(",", ":")) + "\n")


def run_all(function: Callable, tasks: Iterable, executor, on_row: Callable[[object, dict], None]) -> None:
    """Run every task on ``executor``; ``on_row(task, row)`` is called as each finishes."""
    tasks = list(tasks)
    if tasks:
        for task, row in executor.map_unordered(function, tasks):
            on_row(task, row)
