"""An event logger that keeps what an episode is scored on and passes every row on (or drops it)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from eventlog.writer import EventLog


class TapLog:
    """The one injected logger of an episode: forwards to an :class:`EventLog` and keeps a few figures.

    Args:
        directory: where the episode's log is written (None: rows are checked and dropped).

    Kept: the achieved min secrecy rate of every ``secrecy`` row (bit/s/Hz) and the wall time of
    every QKD decision (``qkd_plan`` rows' ``wall_s``, from the host's timings).
    """

    def __init__(self, directory: Path | None = None) -> None:
        self._sink = open(os.devnull, "w", encoding="utf-8") if directory is None else None
        self.inner = EventLog(self._sink, self._sink, self._sink) if self._sink is not None else EventLog.open(directory)
        self.min_secrecy_bps_hz: list[float] = []
        self.plan_wall_s: list[float] = []
        self._plan_seqs: set[int] = set()

    def log(self, t_s: float, source: str, kind: str, **fields: object) -> int:
        seq = self.inner.log(t_s, source, kind, **fields)
        if kind == "secrecy":
            value = fields.get("achieved_min_bps_hz")
            if isinstance(value, float) and math.isfinite(value):
                self.min_secrecy_bps_hz.append(value)
        elif kind == "qkd_plan":
            self._plan_seqs.add(seq)
        return seq

    def array(self, name: str, values: np.ndarray) -> str:
        return self.inner.array(name, values)

    def timing(self, seq: int, **measurements: float) -> None:
        if seq in self._plan_seqs and "wall_s" in measurements:
            self.plan_wall_s.append(float(measurements["wall_s"]))
        self.inner.timing(seq, **measurements)

    def close(self) -> None:
        self.inner.close()
        if self._sink is not None:
            self._sink.close()
