"""Incremental JSON Lines event log: one flushed line per event, arrays and timings in side files.

Files in the run folder:
- ``events.jsonl``: the event rows (deterministic: same scenario + seed ⇒ identical bytes);
- ``arrays.jsonl``: one row per logged array ``{"id", "name", "shape", "re", "im"}``;
- ``timings.jsonl``: wall-clock measurements keyed by the event's ``seq`` (``{"seq", "wall_s", …}``).
  Wall time differs between runs, so it is kept out of ``events.jsonl`` to keep that file
  byte-identical; :func:`eventlog.reader.load_events` joins it back on ``seq``.

Every line is written to the file as it is logged, so a killed run leaves a log readable up to its
last event. A write that fails (a full disk, ENOSPC) is rolled back to the end of the last complete
line and raises :class:`LogWriteError`: the files never end in a cut line, and every later ``log``
call raises the same error instead of writing.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import IO, Any

import numpy as np

from eventlog.kinds import check_columns, check_kind

EVENTS_FILE = "events.jsonl"
ARRAYS_FILE = "arrays.jsonl"
TIMINGS_FILE = "timings.jsonl"
CHECK_COLUMNS_ENV = "SAGIN_TWIN_CHECK_EVENT_COLUMNS"  #: "1" makes every EventLog reject undeclared columns (set by the tests)

Scalar = int | float | str | bool | None

_write = os.write  #: the one call that puts bytes in a log file (a test swaps it to inject a full disk)
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)  #: one compact encoder for every row (json.dumps builds one per call)


class LogWriteError(OSError):
    """Writing a log file failed (e.g. the disk is full); the file ends at its last complete line."""


class LineFile:
    """A log file written one whole line at a time: a failed write is cut back to the last complete line.

    Unbuffered (each line is one ``os.write`` loop), so a line is on disk when :meth:`write` returns.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self._good = 0  #: bytes in the file that end with a complete line
        self.closed = False

    def write(self, text: str) -> None:
        """Append ``text`` (one or more whole lines); on failure truncate to the last complete line."""
        encoded = text.encode("utf-8")
        data = memoryview(encoded)
        try:
            while data:
                data = data[_write(self._fd, data):]
        except OSError as exc:
            try:
                os.ftruncate(self._fd, self._good)
                os.lseek(self._fd, self._good, os.SEEK_SET)
            except OSError:
                pass
            raise LogWriteError(exc.errno, f"cannot write {self.path} ({exc.strerror})") from exc
        self._good += len(encoded)

    def flush(self) -> None:
        """Nothing to do: every line is written when logged."""

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self._fd)


def _scalar(name: str, value: Any) -> Scalar:
    """A JSON-safe scalar; non-finite floats become null. Rejects arrays (use ``EventLog.array``)."""
    kind = type(value)
    if kind is float:  # the common cases first, by exact type (a row has tens of fields, a day 100,000 rows)
        return value if math.isfinite(value) else None
    if kind is str or kind is int or value is None:
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"event field {name!r} must be a scalar, got {type(value).__name__}")


class EventLog:
    """The one logger injected into every layer.

    Args:
        events, arrays, timings: open text streams (files, or ``io.StringIO`` in tests).
    """

    def __init__(self, events: IO[str], arrays: IO[str], timings: IO[str], check_columns: bool | None = None) -> None:
        self._events = events
        #: reject a row with a column its kind does not declare (on in the test suite: CHECK_COLUMNS_ENV = 1)
        self._check_columns = os.environ.get(CHECK_COLUMNS_ENV) == "1" if check_columns is None else check_columns
        self._arrays = arrays
        self._timings = timings
        self._owns_streams = False
        self._seq = 0
        self._array_seq = 0
        self.counts: dict[str, int] = {}
        self.failure: LogWriteError | None = None  #: the write error that stopped this log, if any
        self.last_t_s: float | None = None  #: simulated time of the last event written in full

    @classmethod
    def open(cls, directory: Path) -> "EventLog":
        """Create the three log files in ``directory`` (which must exist), truncating old ones."""
        streams = [LineFile(directory / name) for name in (EVENTS_FILE, ARRAYS_FILE, TIMINGS_FILE)]
        log = cls(*streams)
        log._owns_streams = True
        return log

    def log(self, t_s: float, source: str, kind: str, **fields: Any) -> int:
        """Write one event row and return its ``seq``.

        Args:
            t_s: simulated time of the event (s).
            source: the entity, twin or link that logged it.
            kind: a kind declared in :mod:`eventlog.kinds`.
            fields: flat scalars with unit-suffixed names.
        """
        if self._check_columns:
            check_columns(kind, fields)
        else:
            check_kind(kind)
        seq = self._seq
        self._seq += 1
        row: dict[str, Scalar] = {"t_s": _scalar("t_s", t_s), "seq": seq, "source": source, "kind": kind}
        for name, value in fields.items():
            if name in row:
                raise ValueError(f"event field {name!r} clashes with a reserved column")
            row[name] = _scalar(name, value)
        self._write(self._events, row)
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.last_t_s = row["t_s"]
        return seq

    def array(self, name: str, values: np.ndarray) -> str:
        """Store an array in the side file and return its id (``a<N>``) for an event field."""
        values = np.asarray(values)
        array_id = f"a{self._array_seq}"
        self._array_seq += 1
        flat = values.ravel()
        row = {
            "id": array_id,
            "name": name,
            "shape": list(values.shape),
            "re": [float(x) for x in flat.real],
            "im": [float(x) for x in flat.imag] if np.iscomplexobj(values) else None,
        }
        self._write(self._arrays, row)
        return array_id

    def timing(self, seq: int, **measurements: float) -> None:
        """Record wall-clock measurements (s) for event ``seq`` in the timings side file."""
        row = {"seq": seq, **{k: _scalar(k, v) for k, v in measurements.items()}}
        self._write(self._timings, row)

    def close(self) -> None:
        """Flush the streams, and close them if :meth:`open` created them (idempotent)."""
        for stream in (self._events, self._arrays, self._timings):
            if not stream.closed:
                stream.flush()
                if self._owns_streams:
                    stream.close()

    def __enter__(self) -> "EventLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, stream: IO[str], row: dict) -> None:
        if self.failure is not None:
            raise self.failure
        try:
            stream.write(_ENCODER.encode(row) + "\n")
            stream.flush()
        except LogWriteError as exc:
            self.failure = exc
            raise
