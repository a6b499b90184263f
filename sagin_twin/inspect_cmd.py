"""``sagin-twin inspect LOG [LOG …] [--kind K] [--source S] [--from T] [--to T] [--list N] [--parquet OUT] [--json]``.

Summarises a run's event log (or the filtered part of it): events per kind and source, time span,
re-solves by trigger/method/status (failures and fallbacks counted) with wall time and input age,
secrecy per user, the twins' information age and the QKD layer's plans, costs, pools and unmet key.
Whether the run finished is read from the whole log, whatever the filter. ``--list N`` prints the
first N matching events; ``--parquet`` exports the matching events (only the columns that hold a
value in them). Given several logs (e.g. the same scenario run with different precoding methods),
it prints one comparison row per run instead. The log is read line by line, so memory does not
grow with its length.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from common.errors import InputError
from sagin_twin.outputs import check_output_file

#: columns printed as simulated times, to 0.01 s
TIME_COLUMNS = ("t_s", "from_s", "first_s", "last_s", "duration_s")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("inspect", help="summarise and query a run's event log", description=__doc__)
    p.add_argument("log", type=Path, nargs="+", help="run folder(s) or events.jsonl file(s)")
    p.add_argument("--kind", action="append", default=None, metavar="K", help="only events of this kind (repeatable)")
    p.add_argument("--source", action="append", default=None, metavar="S", help="only events from this source (repeatable)")
    p.add_argument("--from", dest="t_from", type=float, default=None, metavar="T", help="only events at t_s >= T (s)")
    p.add_argument("--to", dest="t_to", type=float, default=None, metavar="T", help="only events at t_s <= T (s)")
    p.add_argument("--list", type=int, default=0, metavar="N", help="print the first N matching events (in --json: under 'listed_events')")
    p.add_argument("--parquet", type=Path, default=None, metavar="OUT", help="export the matching events to this Parquet file")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON document")
    p.set_defaults(func=inspect)


def _print_table(title: str, table) -> None:
    import pandas as pd

    from eventlog.text import sig

    if table.empty:
        return
    print(f"\n{title}")
    formatters = {}
    for column in table.columns:
        if not pd.api.types.is_float_dtype(table[column]):
            continue
        if column in TIME_COLUMNS:  # 4 significant digits would print 1300.55 s as 1301
            formatters[column] = lambda v: "—" if math.isnan(v) else f"{v:,.2f}"
        else:
            formatters[column] = sig
    with pd.option_context("display.width", 200, "display.max_columns", 40):
        print(table.to_string(index=False, formatters=formatters, na_rep="—"))


def _check_arguments(args: argparse.Namespace) -> None:
    from eventlog.kinds import KINDS

    unknown = [k for k in args.kind or () if k not in KINDS]
    if unknown:
        raise InputError(f"unknown kind {unknown[0]!r}; kinds are: {', '.join(KINDS)}", field="--kind")
    for name, value in (("--from", args.t_from), ("--to", args.t_to)):
        if value is not None and not math.isfinite(value):
            raise InputError(f"must be a finite time in seconds, got {value}", field=name)
    if args.t_from is not None and args.t_to is not None and args.t_from > args.t_to:
        raise InputError(f"--from {args.t_from:g} is after --to {args.t_to:g}")
    if args.list < 0:
        raise InputError(f"--list must be >= 0, got {args.list}")
    if len(args.log) > 1 and (args.list or args.parquet is not None):
        raise InputError("--list and --parquet take a single LOG")
    if args.parquet is not None:
        check_output_file(args.parquet, "--parquet")  # before reading the log


def _check_sources(args: argparse.Namespace, log: Path, present: set[str]) -> None:
    unknown = [s for s in args.source or () if s not in present]
    if unknown:
        raise InputError(f"unknown source {unknown[0]!r}; sources in this log: {', '.join(sorted(present))}",
                         source=str(log), field="--source")


def inspect(args: argparse.Namespace) -> int:
    _check_arguments(args)
    from eventlog.query import EventFilter, compare_runs, scan_log
    from eventlog.summary import format_summary, json_safe
    from sagin_twin.stdio import print_json

    event_filter = EventFilter.of(args.kind, args.source, args.t_from, args.t_to)
    if len(args.log) > 1:
        summaries = []
        for log in args.log:
            scan = scan_log(log, event_filter, tables=False)
            _check_sources(args, log, scan.sources)
            summaries.append(scan.summary)
        table = compare_runs([str(log) for log in args.log], summaries)
        if args.json:
            print_json(json_safe(table.to_dict(orient="records")), indent=2)
        else:
            _print_table(f"{len(args.log)} runs (secrecy rates in bit/s/Hz, means over ticks; wall time in s):", table)
        return 0

    log = args.log[0]
    scan = scan_log(log, event_filter, tables=not args.json, first=args.list, export=args.parquet is not None)
    _check_sources(args, log, scan.sources)
    if args.json:
        document = dict(scan.summary)
        if args.list:
            document["listed_events"] = scan.listed
        print_json(json_safe(document), indent=2, default=str)
    else:
        import pandas as pd

        from eventlog.query import compact

        tables = scan.tables
        print(format_summary(scan.summary))
        _print_table("re-solves (wall time and input age in s):", tables.resolve_table())
        _print_table("information age by source (s):", tables.age_table())
        _print_table("QKD plans (costs in Table I units, wall time in s):", tables.qkd_plan_table())
        _print_table("QKD plan costs when each plan left service (reservation pro rata; key in bit):", tables.qkd_cost_table())
        _print_table("key pools (bit; crossings into WARNING / EMPTY):", tables.key_pool_table())
        _print_table("unmet key demand (bit):", tables.unmet_table())
        if args.list:
            total = scan.summary["events"]
            _print_table(f"first {min(args.list, total):,} of {total:,} matching events:", compact(pd.DataFrame(scan.listed)))
    if scan.export is not None:
        try:
            rows = scan.export.write_parquet(args.parquet)
        except OSError as exc:
            raise InputError(f"cannot write the Parquet file: {exc.strerror or exc}", source=str(args.parquet)) from None
        print(f"parquet: {args.parquet} ({rows:,} rows)")  # under --json this goes to stderr
    return 0
