"""What every layer needs of the event log: one protocol, implemented by ``eventlog.writer.EventLog``."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class EventLogger(Protocol):
    """Append one event row (returns its sequence number) or store an array beside the log (returns its key)."""

    def log(self, t_s: float, source: str, kind: str, **fields: object) -> int: ...

    def array(self, name: str, values: np.ndarray) -> str: ...
