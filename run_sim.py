#!/usr/bin/env python3
"""Thin wrapper: ``python run_sim.py ARGS`` is ``sagin-twin ARGS``."""

import sys

from sagin_twin.cli import main

if __name__ == "__main__":
    sys.exit(main())
