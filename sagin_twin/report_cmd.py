"""``sagin-twin report LOG [--out DIR]``: PNG plots of a run (geometry and weather, secrecy, information age, solver, QKD).

Draws every figure the log has data for, from any log: a short run with no satellite pass, a log
cut a few lines in, or a log from an older version. Only the kinds and columns the figures need
are read, line by line. A figure without data is skipped (and said so); nothing is written when
no figure has data.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from common.errors import InputError
from sagin_twin.outputs import check_output_folder


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("report", help="draw PNG plots of a run", description=__doc__)
    p.add_argument("log", type=Path, help="run folder or its events.jsonl")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: <run folder>/report)")
    p.set_defaults(func=report)


def report(args: argparse.Namespace) -> int:
    from eventlog.plots import REPORT_COLUMNS, write_report
    from eventlog.reader import load_by_kind, resolve_log_path

    if args.out is not None:
        check_output_folder(args.out)  # a file, a read-only place or /proc fails here, before the log is read
    events_path = resolve_log_path(args.log)
    out = args.out or events_path.parent / "report"
    if args.out is None:
        check_output_folder(out)
    columns = {c for kind_columns in REPORT_COLUMNS.values() for c in kind_columns}
    frames = load_by_kind(events_path, REPORT_COLUMNS, columns)
    try:
        written, skipped, failed = write_report(frames, out)
    except OSError as exc:
        raise InputError(f"cannot write the report: {exc.strerror or exc}", source=str(out)) from None
    for path in written:
        print(f"wrote {path}")
    if skipped:
        print(f"no data for {', '.join(skipped)} in this log")
    return 1 if failed else 0
