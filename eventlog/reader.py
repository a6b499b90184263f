"""Read a run's event log into pandas, tolerating a final line cut short by a killed run."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json

from eventlog.writer import ARRAYS_FILE, EVENTS_FILE, TIMINGS_FILE
from sagin_twin.errors import InputError


def resolve_log_path(path: Path) -> Path:
    """The ``events.jsonl`` for ``path`` (a run folder or the file itself); InputError if absent."""
    path = Path(path)
    events = path / EVENTS_FILE if path.is_dir() else path
    if not events.is_file():
        raise InputError(f"no event log found (expected a run folder containing {EVENTS_FILE}, or the file itself)", source=str(path))
    return events


def _complete_lines(path: Path) -> str:
    """The file's text up to its last complete, parseable line."""
    text = path.read_text(encoding="utf-8")
    if not text:
        return text
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if lines:
        try:
            json.loads(lines[-1])
        except json.JSONDecodeError:
            lines.pop()  # a killed run can leave half a line
    return "\n".join(lines) + ("\n" if lines else "")


def _read_json_lines(text: str) -> pd.DataFrame:
    """JSON Lines to a DataFrame: pyarrow's reader (fast, lean), pandas' if pyarrow's type inference gives up."""
    data = text.encode("utf-8")
    try:
        table = pa_json.read_json(io.BytesIO(data), read_options=pa_json.ReadOptions(block_size=max(1 << 20, len(data) + 1)))
        return table.to_pandas()
    except pa.ArrowInvalid:
        return pd.read_json(io.StringIO(text), lines=True, dtype=False, convert_dates=False)


def load_events(path: Path) -> pd.DataFrame:
    """All events of a run as a DataFrame (one row per event), with wall-clock timings joined on ``seq``."""
    events_path = resolve_log_path(path)
    text = _complete_lines(events_path)
    if not text:
        return pd.DataFrame(columns=["t_s", "seq", "source", "kind"])
    try:
        frame = _read_json_lines(text)
    except ValueError as exc:
        raise InputError(f"not a sagin-twin event log: {exc}", source=str(events_path)) from None
    missing = {"t_s", "seq", "source", "kind"} - set(frame.columns)
    if missing:
        raise InputError(f"not a sagin-twin event log: columns {sorted(missing)} missing", source=str(events_path))
    timings_path = events_path.with_name(TIMINGS_FILE)
    if timings_path.is_file():
        timing_text = _complete_lines(timings_path)
        if timing_text:
            timings = _read_json_lines(timing_text)
            frame = frame.merge(timings, on="seq", how="left")
    return frame


def load_array(path: Path, array_id: str) -> np.ndarray:
    """One logged array by id (complex if it was logged complex)."""
    arrays_path = resolve_log_path(path).with_name(ARRAYS_FILE)
    with open(arrays_path, encoding="utf-8") as stream:
        for line in stream:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                break
            if row["id"] == array_id:
                values = np.asarray(row["re"], dtype=float)
                if row["im"] is not None:
                    values = values + 1j * np.asarray(row["im"], dtype=float)
                return values.reshape(row["shape"])
    raise InputError(f"array {array_id!r} not found", source=str(arrays_path))
