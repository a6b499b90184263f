"""The exception types the command line turns into one line on standard error, with no traceback.

Raise :class:`InputError` for bad user input (files, fields, arguments, output paths) with a
one-line message that names the file, the field or line, what was found and what is allowed: exit
status 2. Raise :class:`RunFailure` when a command cannot finish for a reason outside its input
(worker died, disk full, cluster lost): exit status 1.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input; the message names the file, field or line and the allowed range."""

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None) -> None:
        parts = [p for p in (source, field) if p]
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.message = message
        self.source = source
        self.field = field


class RunFailure(RuntimeError):
    """A command could not finish for a reason outside its input (a worker process died, the disk is
    full, the dask cluster went away). The command line prints ``error: <message>`` on one line and
    exits with status 1; whatever was finished before is kept (say where in the message)."""
