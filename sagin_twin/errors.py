"""The one exception type for bad user input (files, fields, arguments).

Raise :class:`InputError` with a one-line message that names the file, the field or line, what was
found and what is allowed. The command line turns it into ``error: <message>`` and exit status 2,
with no traceback.
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
