"""Keep what native libraries print out of standard output.

Native code (HiGHS prints its licence banner at the first ``highspy.Highs()`` of a process) writes
to file descriptor 1 behind Python's back, between the lines a command prints for the user.
:func:`native_stdout_to_stderr` points descriptor 1 at standard error for a block, so the banner
is still shown (on standard error) and standard output carries only the command's own text.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def native_stdout_to_stderr() -> Iterator[int]:
    """Send everything written to descriptor 1 (Python or native) to descriptor 2 for the block.

    Yields a duplicate of the real standard output, valid inside the block.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield saved
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
