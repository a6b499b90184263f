"""Executors and the resumable result store of a sweep.

Runs go to a local process pool (``LocalExecutor``, workers = cores by default) or to an existing
dask.distributed cluster (``DaskExecutor``). Both yield rows as runs finish; the store appends each
row to ``runs.jsonl`` at once, so an interrupted sweep restarts without recomputing finished runs.
Results do not depend on the executor: every run's seed comes from the sweep's seed and the run's
parameters, never from the order of execution.
"""

from __future__ import annotations

import functools
import json
import math
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Iterable, Iterator

from sweeps.runs import run_safely

RUNS_FILE = "runs.jsonl"


def run_batch(function: Callable, batch: list) -> list[dict]:
    """Run several tasks in one worker call (amortises the pool's per-call cost for short runs)."""
    return [run_safely(function, task) for task in batch]


class LocalExecutor:
    """A process pool on this machine; short tasks are sent in small batches."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1

    def map_unordered(self, function: Callable, tasks: list) -> Iterator[tuple[object, dict]]:
        """Yield (task, row) as each batch of runs finishes."""
        size = max(1, min(16, len(tasks) // (self.workers * 8)))
        batches = [tasks[i:i + size] for i in range(0, len(tasks), size)]
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
            futures = {pool.submit(run_batch, function, batch): batch for batch in batches}
            try:
                for future in as_completed(futures):
                    yield from zip(futures[future], future.result())
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    def describe(self) -> str:
        return f"local process pool, {self.workers} worker(s)"


class DaskExecutor:
    """An existing dask.distributed cluster, reached at ``address`` (e.g. tcp://127.0.0.1:8786)."""

    def __init__(self, address: str) -> None:
        from distributed import Client

        self.address = address
        self.client = Client(address, timeout="10s")

    def map_unordered(self, function: Callable, tasks: list) -> Iterator[tuple[object, dict]]:
        from distributed import as_completed as dask_completed

        job = functools.partial(run_safely, function)
        futures = self.client.map(job, tasks, pure=False)
        index = {future.key: task for future, task in zip(futures, tasks)}
        try:
            for future, row in dask_completed(futures, with_results=True):
                yield index[future.key], row
        except BaseException:
            self.client.cancel(futures)
            raise

    def describe(self) -> str:
        return f"dask cluster at {self.address}"

    def close(self) -> None:
        self.client.close()


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
