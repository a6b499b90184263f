"""Module-level task functions for process-pool and dask tests (workers import them by name)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def square(x: float) -> dict:
    return {"value": x * x}


def kill_own_process(task: object) -> dict:
    """Die the way an out-of-memory kill does: SIGKILL, no clean-up."""
    os.kill(os.getpid(), signal.SIGKILL)
    return {}


def record_pid_and_sleep(task: tuple[str, float]) -> dict:
    """Write this worker's pid into folder ``task[0]``, then sleep ``task[1]`` s."""
    folder, seconds = task
    (Path(folder) / f"{os.getpid()}.pid").write_text(str(os.getpid()))
    time.sleep(seconds)
    return {"pid": os.getpid()}


def slow_square(x: float) -> dict:
    time.sleep(0.5)
    return {"value": x * x}
