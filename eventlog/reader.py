"""Read a run's event log: row by row in constant memory, or into pandas.

A killed run can leave its last line cut short; that line is skipped. Anything else that is not an
event row (bytes that are not UTF-8, a line that is not a JSON object, ``t_s`` that is not a finite
number, …) is an :class:`~common.errors.InputError` naming the file and the line.

- :func:`iter_rows` streams the rows (optionally with the wall-clock timings joined on ``seq``);
  summaries, ``inspect`` and ``report`` read logs this way, so their memory does not grow with the log.
- :func:`load_by_kind` keeps only some kinds, one DataFrame per kind with only that kind's columns.
- :func:`load_events` loads the whole log into one DataFrame (for users who want pandas).
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any, Callable, Collection, Iterator

import numpy as np
import pandas as pd

from eventlog.kinds import column_pattern

from eventlog.writer import ARRAYS_FILE, EVENTS_FILE, TIMINGS_FILE
from common.errors import InputError

#: the columns every event row has
BASE_COLUMNS = ("t_s", "seq", "source", "kind")


def resolve_log_path(path: Path) -> Path:
    """The ``events.jsonl`` for ``path`` (a run folder or the file itself); InputError if absent."""
    path = Path(path)
    events = path / EVENTS_FILE if path.is_dir() else path
    if not events.is_file():
        raise InputError(f"no event log found (expected a run folder containing {EVENTS_FILE}, or the file itself)", source=str(path))
    return events


def _bad_row(row: Any) -> str | None:
    """Why ``row`` is not an event row (None if it is one)."""
    if type(row) is not dict:
        return f"expected a JSON object, got {type(row).__name__}"
    missing = [c for c in BASE_COLUMNS if c not in row]
    if missing:
        return f"fields {missing} missing (every row has {', '.join(BASE_COLUMNS)})"
    t_s = row["t_s"]
    if type(t_s) not in (float, int) or not math.isfinite(t_s):
        return f"t_s must be a finite number of seconds, got {t_s!r}"
    if type(row["seq"]) is not int:
        return f"seq must be an integer, got {row['seq']!r}"
    if type(row["source"]) is not str or type(row["kind"]) is not str:
        return "source and kind must be strings"
    return None


def _json_lines(path: Path, check: Callable[[Any], str | None] | None) -> Iterator[dict]:
    """The object on each line; a cut (unterminated, unparseable) last line is skipped, any other bad line raises.

    Only the last line of a file can lack its newline, so a line without one that does not parse
    is the half-written end of a killed run.
    """
    decode = json.JSONDecoder().decode
    with open(path, "rb") as stream:
        for number, raw in enumerate(stream, start=1):
            try:
                row = decode(raw.decode("utf-8"))
            except ValueError:  # JSONDecodeError or UnicodeDecodeError
                if number > 1 and not raw.endswith(b"\n"):
                    return
                raise InputError(f"line {number}: {_why_not_json(raw)}; not a sagin-twin event log", source=str(path)) from None
            problem = check(row) if check else None
            if problem:
                raise InputError(f"line {number}: {problem}; not a sagin-twin event log", source=str(path))
            yield row


def _why_not_json(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text (byte {exc.start + 1})"
    if not text.strip():
        return "empty line"
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not JSON ({exc.msg})"
    return "not JSON"


def read_timings(path: Path) -> dict[int, dict[str, float]]:
    """Wall-clock measurements by event ``seq`` from ``timings.jsonl`` beside the log (empty if absent)."""
    timings_path = resolve_log_path(path).with_name(TIMINGS_FILE)
    if not timings_path.is_file():
        return {}

    def check(row):
        if not isinstance(row, dict) or not isinstance(row.get("seq"), int):
            return "expected an object with an integer seq"
        return None

    out: dict[int, dict[str, float]] = {}
    for row in _json_lines(timings_path, check):
        seq = row.pop("seq")
        out[seq] = row
    return out


def iter_rows(path: Path, *, timings: bool = True) -> Iterator[dict]:
    """Every event row of a log as a dict, in order, in constant memory.

    Args:
        path: a run folder or its ``events.jsonl``.
        timings: join the wall-clock measurements of ``timings.jsonl`` (``wall_s`` …) into their rows.
    """
    events_path = resolve_log_path(path)
    joined = read_timings(events_path) if timings else {}
    for row in _json_lines(events_path, _bad_row):
        extra = joined.get(row["seq"])
        if extra:
            row.update(extra)
        yield row


def load_by_kind(path: Path, kinds: Collection[str], columns: Collection[str] | None = None) -> dict[str, pd.DataFrame]:
    """One DataFrame per kind present among ``kinds`` (each with only its own columns, or ``columns``).

    ``columns`` may hold column templates of :mod:`eventlog.kinds` (``achieved_<user>_bps_hz``): every
    column of that form is kept.

    Memory grows with the rows of those kinds only, not with the whole log.
    """
    wanted = set(kinds)
    keep = None if columns is None else set(columns) | set(BASE_COLUMNS)
    patterns = [p for p in map(column_pattern, keep or ()) if p is not None]  # templates: achieved_<user>_bps_hz …

    def kept(column: str) -> bool:
        return column in keep or any(p.fullmatch(column) for p in patterns)

    rows: dict[str, list[dict]] = {}
    for row in iter_rows(path):
        if row["kind"] in wanted:
            rows.setdefault(row["kind"], []).append(row if keep is None else {k: v for k, v in row.items() if kept(k)})
    return {kind: pd.DataFrame(found) for kind, found in rows.items()}


def load_events(path: Path) -> pd.DataFrame:
    """All events of a run as a DataFrame (one row per event), with wall-clock timings joined on ``seq``.

    Reads the whole log into memory with pyarrow's JSON reader (pandas' if pyarrow's type inference
    gives up); prefer :func:`iter_rows` or :func:`load_by_kind` for long logs.
    """
    events_path = resolve_log_path(path)
    for _ in iter_rows(events_path, timings=False):  # the same checks as every reader, naming the first bad line
        pass
    data = _complete_bytes(events_path)
    if not data.strip():
        return pd.DataFrame(columns=list(BASE_COLUMNS))
    frame = _frame(data)
    if frame is None or not _well_formed(frame):
        raise InputError("not a sagin-twin event log (pyarrow and pandas disagree with the line checks)", source=str(events_path))
    timings = read_timings(events_path)
    if timings:
        table = pd.DataFrame([{"seq": seq, **values} for seq, values in timings.items()])
        frame = frame.merge(table, on="seq", how="left")
    return frame


def _complete_bytes(path: Path) -> bytes:
    """The file's bytes without a cut (unparseable, unterminated) last line."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        if cut > 0:
            try:
                json.loads(data[cut:])
            except ValueError:
                return data[:cut]
    return data


def _frame(data: bytes) -> pd.DataFrame | None:
    """JSON Lines to a DataFrame: pyarrow (lean columns), or pandas when types clash across rows; None if neither parses it."""
    import pyarrow as pa
    import pyarrow.json as pa_json

    try:
        table = pa_json.read_json(io.BytesIO(data), read_options=pa_json.ReadOptions(block_size=max(1 << 20, len(data) + 1)))
        return table.to_pandas()
    except pa.ArrowInvalid:
        pass
    try:
        return pd.read_json(io.BytesIO(data), lines=True, dtype=False, convert_dates=False)
    except ValueError:
        return None


def _well_formed(frame: pd.DataFrame) -> bool:
    """Every row has a finite numeric t_s, a seq, a source and a kind."""
    if any(c not in frame for c in BASE_COLUMNS) or not pd.api.types.is_numeric_dtype(frame["t_s"]):
        return False
    if pd.api.types.is_bool_dtype(frame["t_s"]) or not np.isfinite(frame["t_s"].to_numpy(dtype=float)).all():
        return False
    return not frame[["seq", "source", "kind"]].isna().any().any()


def load_array(path: Path, array_id: str) -> np.ndarray:
    """One logged array by id (complex if it was logged complex)."""
    arrays_path = resolve_log_path(path).with_name(ARRAYS_FILE)
    if not arrays_path.is_file():
        raise InputError(f"array {array_id!r} not found: no {ARRAYS_FILE}", source=str(arrays_path))
    for row in _json_lines(arrays_path, None):
        if isinstance(row, dict) and row.get("id") == array_id:
            values = np.asarray(row["re"], dtype=float)
            if row.get("im") is not None:
                values = values + 1j * np.asarray(row["im"], dtype=float)
            return values.reshape(row["shape"])
    raise InputError(f"array {array_id!r} not found", source=str(arrays_path))
