"""The resolved versions of the project's key dependencies (``python -m sagin_twin.versions``).

CI prints them after installing and before testing, so a failure can be matched to the versions
that produced it; ``make test-latest`` prints them for the newest versions ``pyproject.toml`` allows.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata

#: distributions whose version changes results or breaks runs (solvers, numerics, data, clusters)
KEY_DISTRIBUTIONS: tuple[str, ...] = (
    "highspy", "cvxpy", "clarabel", "scs", "numpy", "scipy", "pandas", "pyarrow", "networkx", "simpy",
    "skyfield", "skyfield-data", "sgp4", "matplotlib", "dask", "distributed",
    "pytest", "pytest-timeout", "hypothesis",
)


def resolved_versions(names: tuple[str, ...] = KEY_DISTRIBUTIONS) -> dict[str, str | None]:
    """Installed version of each distribution (None when it is not installed)."""
    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def main() -> int:
    print(f"python {platform.python_version()} ({sys.executable})")
    for name, version in resolved_versions().items():
        print(f"{name} {version or 'not installed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
