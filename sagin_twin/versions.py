"""The resolved versions of the project's key dependencies (``python -m sagin_twin.versions``).

CI prints them after installing and before testing, so a failure can be matched to the versions
that produced it; ``make test-latest`` prints them for the newest versions ``pyproject.toml`` allows.
"""

from __future__ import annotations

import platform
import sys

from common.provenance import KEY_DEPENDENCIES, dependency_versions

#: what a run records (solvers, numerics, data, clusters, thread limits) and the test tools
KEY_DISTRIBUTIONS: tuple[str, ...] = (*KEY_DEPENDENCIES, "pytest", "pytest-timeout", "hypothesis")


def main() -> int:
    print(f"python {platform.python_version()} ({sys.executable})")
    for name, version in dependency_versions(KEY_DISTRIBUTIONS).items():
        print(f"{name} {version or 'not installed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
