"""``sagin-twin inspect LOG [--parquet OUT] [--json]``: summarise a run's event log."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from eventlog.reader import load_events
from eventlog.summary import format_summary, summarize
from sagin_twin.errors import InputError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("inspect", help="summarise a run's event log", description=__doc__)
    p.add_argument("log", type=Path, help="run folder or its events.jsonl")
    p.add_argument("--parquet", type=Path, default=None, metavar="OUT", help="also export all events to this Parquet file")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=inspect)


def inspect(args: argparse.Namespace) -> int:
    events = load_events(args.log)
    summary = summarize(events)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        print(format_summary(summary))
    if args.parquet is not None:
        if args.parquet.parent and not args.parquet.parent.exists():
            raise InputError("folder does not exist", source=str(args.parquet.parent))
        tmp = args.parquet.with_name(args.parquet.name + ".partial")
        events.to_parquet(tmp, index=False)
        tmp.replace(args.parquet)  # never leave a half-written file under the final name
        print(f"parquet: {args.parquet} ({len(events)} rows)")
    return 0
