"""Where a run was made: the package version, the git commit it ran from, and the resolved versions of its key dependencies.

Written to ``provenance.json`` beside a run's log. It differs between commits, machines and
installs by design, so it is kept apart from the files that are byte-identical for the same
scenario and seed (``events.jsonl``, ``arrays.jsonl``, ``run.json``, ``summary.json``).
"""

from __future__ import annotations

import functools
import os
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from common import __version__

#: distributions whose resolved versions are recorded (the solvers, the numerics, the I/O, the simulation kernel)
KEY_DEPENDENCIES: Final = ("highspy", "cvxpy", "clarabel", "scs", "numpy", "scipy", "pandas", "pyarrow", "networkx",
                           "simpy", "skyfield", "skyfield-data", "sgp4", "matplotlib", "dask", "distributed", "threadpoolctl")
#: the folder holding the package sources (a git work tree when running from a checkout)
SOURCE_ROOT: Final = Path(__file__).resolve().parents[1]
GIT_TIMEOUT_S: Final = 5.0  #: bound on each git call (s)


def dependency_versions(names=KEY_DEPENDENCIES) -> dict[str, str | None]:
    """Installed version of each distribution (None when it is not installed)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(SOURCE_ROOT), *args], capture_output=True, text=True, timeout=GIT_TIMEOUT_S,
                              env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"}, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@functools.lru_cache(maxsize=1)
def git_state() -> dict[str, Any]:
    """The commit the package runs from and whether its tracked files differ from it (both None outside a git checkout)."""
    if not (SOURCE_ROOT / ".git").exists():  # a directory in a clone, a file in a worktree; absent in an installed wheel
        return {"git_commit": None, "git_dirty": None}
    commit = _git("rev-parse", "--verify", "HEAD")
    if commit is None:
        return {"git_commit": None, "git_dirty": None}
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {"git_commit": commit, "git_dirty": None if status is None else bool(status)}


def provenance() -> dict[str, Any]:
    """The provenance record of a run made now (module docstring)."""
    return {
        "sagin_twin_version": __version__,
        **git_state(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "dependencies": dependency_versions(),
        "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
