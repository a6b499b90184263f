"""``sagin-twin report LOG --out DIR``: PNG plots of a run (geometry and weather, secrecy, information age, solver)."""

from __future__ import annotations

import argparse
from pathlib import Path

from eventlog.plots import write_report
from eventlog.reader import load_events
from sagin_twin.outputs import check_output_folder


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("report", help="draw PNG plots of a run", description=__doc__)
    p.add_argument("log", type=Path, help="run folder or its events.jsonl")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: <run folder>/report)")
    p.set_defaults(func=report)


def report(args: argparse.Namespace) -> int:
    out = args.out or (args.log if args.log.is_dir() else args.log.parent) / "report"
    check_output_folder(out)  # a file, a read-only place or /proc fails here, before the log is read
    events = load_events(args.log)
    for path in write_report(events, out):
        print(f"wrote {path}")
    return 0
