"""``sagin-twin`` command line: one sub-command per module in ``COMMANDS``.

Each command module provides ``add_parser(subparsers)`` (registers its sub-parser and sets
``func``) and keeps model code out of here. Bad input (:class:`InputError`) exits with status 2 and
a one-line message; an interrupted command exits with 130.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from sagin_twin import __version__
from sagin_twin.errors import InputError
from sagin_twin.stdio import json_only_stdout

#: command modules, in the order their sub-commands appear in ``--help``
COMMANDS: tuple[str, ...] = (
    "sagin_twin.run_cmd",
    "sagin_twin.init_cmd",
    "sagin_twin.inspect_cmd",
    "sagin_twin.report_cmd",
    "sagin_twin.figure_cmd",
    "sagin_twin.sweep_cmd",
    "sagin_twin.precode_cmd",
    "sagin_twin.plan_qkd_cmd",
    "sagin_twin.link_budget_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="sagin-twin",
        description="Digital-twin simulator of a secure space-air-ground integrated network.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMANDS:
        importlib.import_module(module_name).add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen sub-command; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "json", False):
            with json_only_stdout():  # stdout carries the one JSON document and nothing else
                return int(args.func(args) or 0)
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
