"""``sagin-twin run SCENARIO [--out DIR] [--seed N] [--duration S] [--set KEY=VALUE ...] [--allow-large]``: run a scenario, write its log.

SIGINT (Ctrl-C) and SIGTERM stop the run cleanly: the log is closed with a ``run_finished`` row whose
status is ``interrupted`` and the exit status is 130 (SIGINT) or 143 (SIGTERM). Two runs into the
same ``--out`` at once are refused (the second exits 2 at once). A full disk ends the run with one
line and exit status 1; the log stays readable up to its last complete line.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from common.errors import InputError
from sagin_twin.outputs import check_output_folder, locked_folder

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  #: signals that stop a run cleanly


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("run", help="run a scenario and write its event log", description=__doc__)
    p.add_argument("scenario", type=Path, help="scenario TOML file, e.g. scenarios/default.toml")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: runs/<scenario>-seed<N>)")
    p.add_argument("--seed", type=int, default=None, help="override run.seed (0 to 2**63 - 1, like the file)")
    p.add_argument("--duration", type=float, default=None, metavar="S", help="override run.duration_s (s)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="set",
                   help="override any scenario field by its dotted name, e.g. --set twin.precoding=zf-all "
                        "--set run.duration_s=60 (repeatable; VALUE is a TOML value, a bare word is a string; "
                        "validated like the file; --seed/--duration apply after every --set; recorded in run.json)")
    p.add_argument("--allow-large", action="store_true",
                   help="run even if the job-size estimate exceeds the limit (see README: bad input and faults)")
    p.add_argument("--force", action="store_true", help="replace the log files of an earlier run in --out")
    p.add_argument("--quiet", action="store_true", help="no progress and no summary; print only the log path")
    p.set_defaults(func=run)


def overrides(args: argparse.Namespace) -> list:
    """The scenario overrides of the command line: every --set in order, then --seed and --duration."""
    from scenarios.config import Override, parse_set

    out = [parse_set(text) for text in args.set]
    if args.seed is not None:
        out.append(Override("--seed", "run.seed", args.seed))
    if args.duration is not None:
        out.append(Override("--duration", "run.duration_s", args.duration))
    return out


def _earlier_run(out: Path, force: bool) -> list[str]:
    """The files of an earlier run in ``out``; refused unless ``force``."""
    from scenarios.execute import OUTPUT_FILES

    existing = [name for name in OUTPUT_FILES if (out / name).exists()]
    if existing and not force:
        raise InputError(f"already holds a run ({existing[0]}); pass --force to replace it or choose another --out", source=str(out))
    return existing


def prepare_output(out: Path, force: bool) -> None:
    """Refuse to overwrite an earlier run's files in ``out`` (already created and locked) unless ``force``."""
    for name in _earlier_run(out, force):
        (out / name).unlink()


class Progress:
    """A one-line progress indicator on stderr (only when stderr is a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.started = time.perf_counter()
        self.shown = 0.0

    def __call__(self, fraction: float) -> None:
        if self.enabled and (fraction >= 1.0 or fraction - self.shown >= 0.005):
            self.shown = fraction
            elapsed = time.perf_counter() - self.started
            bar = "#" * int(30 * fraction)
            sys.stderr.write(f"\r[{bar:<30}] {100 * fraction:5.1f}%  {elapsed:6.1f} s")
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def run(args: argparse.Namespace) -> int:
    from eventlog.summary import format_summary
    from eventlog.writer import EVENTS_FILE
    from scenarios.build import prepare
    from scenarios.config import load_scenario
    from scenarios.execute import execute

    scenario = load_scenario(args.scenario, overrides(args), allow_large=args.allow_large)
    out = args.out or Path("runs") / f"{scenario.path.stem}-seed{scenario.run.seed}"
    check_output_folder(out)  # a file, a read-only place or /proc fails here, before the pass search
    _earlier_run(out, args.force)  # so does an earlier run without --force (checked again under the lock)
    prepared = prepare(scenario)  # every input error surfaces here, before anything is written
    with locked_folder(out, "run"):
        prepare_output(out, args.force)
        progress = Progress(not args.quiet)
        received: list[int] = []
        previous = {signum: signal.signal(signum, lambda signum, frame: received.append(signum)) for signum in STOP_SIGNALS}
        try:
            summary = execute(prepared, out, progress=progress, should_stop=lambda: bool(received))
        except KeyboardInterrupt:
            if received and received[0] == signal.SIGTERM:
                from sagin_twin.cli import Terminated

                raise Terminated from None
            raise
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            progress.done()
    if not args.quiet:
        print(format_summary(summary))
    print(f"event log: {out / EVENTS_FILE}")
    return 0
