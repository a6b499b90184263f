"""Standard output that carries exactly one JSON document, whatever native libraries print.

Native solvers (HiGHS prints its banner at the first ``Highs()``; Clarabel and SCS can print too)
write to file descriptor 1 behind Python's back, so redirecting ``sys.stdout`` is not enough. While
a ``--json`` command runs, :func:`json_only_stdout` points descriptor 1 at standard error and keeps
a private duplicate of the real standard output; :func:`print_json` writes the one document there.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from typing import Iterator

from common.native_output import native_stdout_to_stderr

_json_fd: int | None = None  #: the real standard output while :func:`json_only_stdout` is active


@contextmanager
def json_only_stdout() -> Iterator[None]:
    """Send everything written to descriptor 1 (Python or native) to standard error for the block."""
    global _json_fd
    if _json_fd is not None:  # already active (nested call)
        yield
        return
    with native_stdout_to_stderr() as real_stdout:
        _json_fd = real_stdout
        try:
            yield
        finally:
            _json_fd = None


def print_json(document: object, **dumps_options: object) -> None:
    """Write ``document`` as one JSON text and a newline to the real standard output."""
    text = json.dumps(document, **dumps_options) + "\n"
    if _json_fd is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    data = text.encode("utf-8")
    while data:
        written = os.write(_json_fd, data)
        data = data[written:]
