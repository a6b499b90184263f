"""``sagin-twin inspect LOG [LOG …] [--kind K] [--source S] [--from T] [--to T] [--list N] [--parquet OUT] [--json]``.

Summarises a run's event log (or the filtered part of it): events per kind and source, time span,
re-solves by trigger/method/status with wall time and input age, secrecy per user and the twins'
information age. ``--list N`` prints the first N matching events; ``--parquet`` exports them.
Given several logs (e.g. the same scenario run with different precoding methods), it prints one
comparison row per run instead.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pandas as pd

from eventlog.kinds import KINDS
from eventlog.query import (age_table, compact, compare_runs, filter_events, key_pool_table, qkd_cost_table, qkd_plan_table,
                            resolve_table, unmet_table)
from eventlog.reader import load_events
from eventlog.summary import format_summary, summarize
from sagin_twin.errors import InputError
from sagin_twin.outputs import check_output_file
from sagin_twin.stdio import print_json


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("inspect", help="summarise and query a run's event log", description=__doc__)
    p.add_argument("log", type=Path, nargs="+", help="run folder(s) or events.jsonl file(s)")
    p.add_argument("--kind", action="append", default=None, metavar="K", help="only events of this kind (repeatable)")
    p.add_argument("--source", action="append", default=None, metavar="S", help="only events from this source (repeatable)")
    p.add_argument("--from", dest="t_from", type=float, default=None, metavar="T", help="only events at t_s >= T (s)")
    p.add_argument("--to", dest="t_to", type=float, default=None, metavar="T", help="only events at t_s <= T (s)")
    p.add_argument("--list", type=int, default=0, metavar="N", help="print the first N matching events")
    p.add_argument("--parquet", type=Path, default=None, metavar="OUT", help="export the matching events to this Parquet file")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=inspect)


def _print_table(title: str, table: pd.DataFrame) -> None:
    if table.empty:
        return
    print(f"\n{title}")
    # simulated times to 0.01 s (4 significant digits would print 1300.55 s as 1301); other floats to 4 digits
    times = {c: "{:.2f}".format for c in table.columns if c in ("t_s", "from_s", "first_s", "last_s", "duration_s")
             and pd.api.types.is_float_dtype(table[c])}
    with pd.option_context("display.width", 160, "display.max_columns", 30, "display.float_format", "{:.4g}".format):
        print(table.to_string(index=False, formatters=times))


def inspect(args: argparse.Namespace) -> int:
    unknown = [k for k in args.kind or () if k not in KINDS]
    if unknown:
        raise InputError(f"unknown kind {unknown[0]!r}; kinds are: {', '.join(KINDS)}", field="--kind")
    if args.t_from is not None and args.t_to is not None and args.t_from > args.t_to:
        raise InputError(f"--from {args.t_from:g} is after --to {args.t_to:g}")
    if args.list < 0:
        raise InputError(f"--list must be >= 0, got {args.list}")
    if args.parquet is not None:
        check_output_file(args.parquet, "--parquet")  # before reading the log
    if len(args.log) > 1:
        if args.list or args.parquet is not None:
            raise InputError("--list and --parquet take a single LOG")
        frames = [filter_events(load_events(log), args.kind, args.source, args.t_from, args.t_to) for log in args.log]
        table = compare_runs([str(log) for log in args.log], [summarize(f) for f in frames])
        if args.json:
            print_json(json.loads(table.to_json(orient="records")), indent=2)
        else:
            _print_table(f"{len(args.log)} runs (secrecy rates in bit/s/Hz, means over ticks; wall time in s):", table)
        return 0
    events = filter_events(load_events(args.log[0]), args.kind, args.source, args.t_from, args.t_to)
    summary = summarize(events)
    if args.json:
        if args.list:  # one JSON document: the listed events go inside it, not after it
            summary = {**summary, "listed_events": json.loads(compact(events.head(args.list)).to_json(orient="records"))}
        print_json(summary, indent=2, default=str)
    else:
        print(format_summary(summary))
        _print_table("re-solves (wall time and input age in s):", resolve_table(events))
        _print_table("information age by source (s):", age_table(events))
        _print_table("QKD plans (costs in Table I units, wall time in s):", qkd_plan_table(events))
        _print_table("QKD plan costs when each plan left service (reservation pro rata; key in bit):", qkd_cost_table(events))
        _print_table("key pools (bit; crossings into WARNING / EMPTY):", key_pool_table(events))
        _print_table("unmet key demand (bit):", unmet_table(events))
    if args.list and not args.json:
        _print_table(f"first {min(args.list, len(events))} of {len(events)} matching events:", compact(events.head(args.list)))
    if args.parquet is not None:
        partial = args.parquet.with_name(args.parquet.name + ".partial")
        events.to_parquet(partial, index=False)
        os.replace(partial, args.parquet)  # never leave a half-written file under the final name
        print(f"parquet: {args.parquet} ({len(events)} rows)")
    return 0
