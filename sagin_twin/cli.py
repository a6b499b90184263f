"""``sagin-twin`` command line: one sub-command per module in ``COMMANDS``.

Each command module provides ``add_parser(subparsers)`` (registers its sub-parser and sets
``func``) and keeps model code out of here. Only the chosen sub-command's module is imported, so
``sagin-twin --help`` and argument errors do not wait for numpy, pandas, scipy or cvxpy.

Exit status: 0 done; 1 the command could not finish (:class:`RunFailure`, or an operating-system
error such as a full disk); 2 bad input or usage (:class:`InputError`, argparse); 130 stopped by
SIGINT (Ctrl-C); 143 stopped by SIGTERM; 141 the reader of standard output went away (``| head``),
silently. Each failure is one line on standard error.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys

from common import __version__
from common.errors import InputError, RunFailure
from sagin_twin.stdio import json_only_stdout

#: sub-command -> (module, one-line help), in the order they appear in ``--help``. The help text is
#: repeated here so ``--help`` can list every command without importing any (a test keeps them equal).
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("sagin_twin.run_cmd", "run a scenario and write its event log"),
    "init": ("sagin_twin.init_cmd", "write a commented starter scenario to edit"),
    "inspect": ("sagin_twin.inspect_cmd", "summarise and query a run's event log"),
    "report": ("sagin_twin.report_cmd", "draw PNG plots of a run"),
    "figure": ("sagin_twin.figure_cmd", "regenerate a source paper's figure (CSV + PNG)"),
    "sweep": ("sagin_twin.sweep_cmd", "run a parameter sweep (local pool or dask cluster)"),
    "precode": ("sagin_twin.precode_cmd", "compute precoders for one set of channels"),
    "plan-qkd": ("sagin_twin.plan_qkd_cmd", "plan QKD routes and wavelength reservations (two-stage SP)"),
    "link-budget": ("sagin_twin.link_budget_cmd", "loss, optimal intensity and secret key rate of one QKD link"),
    "evaluate": ("sagin_twin.evaluate_cmd", "compare QKD allocation policies on the same held-out seeds"),
    "train": ("sagin_twin.train_cmd", "train learned QKD allocation policies (MAPPO/IPPO, needs the [train] extra)"),
}

EXIT_FAILURE = 1  #: the command could not finish (RunFailure, OSError)
EXIT_INPUT = 2  #: bad input or usage
EXIT_SIGINT = 128 + signal.SIGINT  #: 130
EXIT_SIGTERM = 128 + signal.SIGTERM  #: 143
EXIT_SIGPIPE = 128 + signal.SIGPIPE  #: 141, the reader of standard output closed it


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every clean-up that handles KeyboardInterrupt runs."""


def _chosen_command(argv: list[str]) -> str | None:
    """The sub-command named in ``argv`` (top-level options take no values, so it is the first non-option)."""
    for token in argv:
        if token == "--":
            return None
        if not token.startswith("-"):
            return token
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The top-level parser; the sub-command named in ``argv`` gets its full parser, the others a stub.

    Args:
        argv: the arguments to be parsed (default ``sys.argv[1:]``); ``[]`` registers no full parser.
    """
    argv = sys.argv[1:] if argv is None else argv
    chosen = _chosen_command(argv)
    parser = argparse.ArgumentParser(
        prog="sagin-twin",
        description="Digital-twin simulator of a secure space-air-ground integrated network.",
        epilog="Exit status: 0 done, 1 could not finish (e.g. disk full, worker died), 2 bad input, "
               "130 interrupted (SIGINT), 143 terminated (SIGTERM), 141 output pipe closed (e.g. | head).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        if name == chosen:
            importlib.import_module(module_name).add_parser(subparsers)
        else:
            subparsers.add_parser(name, help=help_text)
    return parser


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen sub-command; returns the process exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if _main_thread() else None
    try:
        if getattr(args, "json", False):
            with json_only_stdout():  # stdout carries the one JSON document and nothing else
                return int(args.func(args) or 0)
        return int(args.func(args) or 0)
    except InputError as exc:
        return _fail(exc, EXIT_INPUT)
    except RunFailure as exc:
        return _fail(exc, EXIT_FAILURE)
    except BrokenPipeError:  # the reader went away (``sagin-twin inspect RUN | head``): stop quietly, as a shell tool does
        _discard_stdout()
        return EXIT_SIGPIPE
    except OSError as exc:  # disk full, permission denied, ... while writing: one line, not a traceback
        return _fail(exc, EXIT_FAILURE)
    except Terminated:
        print("terminated", file=sys.stderr)
        return EXIT_SIGTERM
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_SIGINT
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _fail(exc: BaseException, status: int) -> int:
    message = " ".join(str(exc).split()) or type(exc).__name__  # one line, whatever the message holds
    print(f"error: {message}", file=sys.stderr)
    return status


def _discard_stdout() -> None:
    """Point descriptor 1 at /dev/null so the interpreter's final flush does not fail a second time."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout has no descriptor (captured in tests): nothing to flush there
        pass


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


if __name__ == "__main__":
    sys.exit(main())
