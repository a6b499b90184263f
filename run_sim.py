#!/usr/bin/env python3
"""Thin wrapper: ``python run_sim.py ARGS`` is ``sagin-twin ARGS``.

Run it with the project's environment (``make install``, then ``.venv/bin/python run_sim.py``). With
a Python that lacks the dependencies, ``--help`` still works and any command says how to install.
"""

import sys

PROJECT_PACKAGES = {"sagin_twin", "physical", "twin", "scenarios", "eventlog", "studies", "sweeps"}


def _run() -> int:
    try:
        from sagin_twin.cli import main

        return main()
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] in PROJECT_PACKAGES:
            raise  # a bug in the project, not a missing dependency
        print(f"error: {sys.executable} lacks the project's dependencies (no module named {exc.name!r}). "
              f"Run `make install` (Python >= 3.11), then `.venv/bin/sagin-twin ARGS` or "
              f"`.venv/bin/python run_sim.py ARGS`.", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(_run())
