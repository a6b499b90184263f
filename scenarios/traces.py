"""Recorded traces (CSV with a header and a ``time_s`` column in seconds from the run start).

- weather: ``time_s, state, rain_fade_db, cloud_cover`` — state in clear/cloudy/rain, fade ≥ 0 dB,
  cloud cover in [0, 1]; strictly increasing times, the first at 0.
- key demand: ``time_s, src, dst, rate_bps`` — non-decreasing times, rate ≥ 0 bit/s, no
  duplicate (time_s, src, dst).

Numbers are plain ASCII decimals (no ``2_40``, no non-ASCII digits); a field may not hold a line
break; at most ``MAX_TRACE_ROWS`` rows. Errors name the file, the line and the column. Files are
read through :func:`common.input_files.read_text` (regular files, size cap) and parsed as data
(``csv``), never evaluated.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from physical.weather import WEATHER_STATES, WeatherRecord
from common.errors import InputError
from common.input_files import read_text

WEATHER_COLUMNS = ("time_s", "state", "rain_fade_db", "cloud_cover")
DEMAND_COLUMNS = ("time_s", "src", "dst", "rate_bps")
MAX_TRACE_ROWS = 1_000_000  #: longest trace accepted (data rows)
NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")  #: the number syntax of a trace field
NON_FINITE = ("nan", "inf", "infinity")


@dataclass(frozen=True)
class DemandRecord:
    """From ``t_s`` (s) on, the pair (src, dst) asks for ``rate_bps`` of key (bit/s)."""

    t_s: float
    src: str
    dst: str
    rate_bps: float
    line: int = field(default=0, compare=False)  #: line of the trace file (for error messages)


def _rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    text = read_text(path, "trace")  # a regular file of at most MAX_BYTES["trace"]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = []
    line = 1
    try:
        header = reader.fieldnames
        if not header:
            raise InputError("empty file; expected a header line " + ",".join(columns), source=str(path))
        header = [h.strip() for h in header]
        reader.fieldnames = header
        missing = [c for c in columns if c not in header]
        if missing:
            raise InputError(f"missing column {missing[0]!r}; the header must hold {', '.join(columns)}", source=str(path), field="line 1")
        unknown = [c for c in header if c not in columns]
        if unknown:
            raise InputError(f"unknown column {unknown[0]!r}; allowed: {', '.join(columns)}", source=str(path), field="line 1")
        line = reader.line_num + 1
        for row in reader:
            if None in row or any(row[c] is None for c in columns):
                raise InputError(f"expected {len(columns)} fields", source=str(path), field=f"line {line}")
            for column in columns:
                if "\n" in row[column] or "\r" in row[column]:
                    raise InputError("holds a line break (a quoted newline); every field is one line", source=str(path),
                                     field=f"line {line}, {column}")
            rows.append((line, {k: v.strip() for k, v in row.items()}))
            if len(rows) > MAX_TRACE_ROWS:
                raise InputError(f"more than {MAX_TRACE_ROWS:,} rows", source=str(path), field=f"line {line}")
            line = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"not a CSV file: {exc}", source=str(path), field=f"line {line}") from None
    if not rows:
        raise InputError("no data rows after the header", source=str(path))
    return rows


def _number(text: str, path: Path, line: int, column: str, low: float | None = None, high: float | None = None) -> float:
    """A decimal number in plain ASCII notation (``240``, ``-1.5``, ``2.4e2``); no underscores, no other digits."""
    where = f"line {line}, {column}"
    if text.lower().lstrip("+-") in NON_FINITE:
        raise InputError(f"{text!r} is not a finite number", source=str(path), field=where)
    if not NUMBER.fullmatch(text):
        raise InputError(f"{text!r} is not a number (ASCII digits, an optional sign, point and exponent, e.g. 240 or 2.4e2)",
                         source=str(path), field=where)
    value = float(text)
    if not math.isfinite(value):
        raise InputError(f"{text!r} is not a finite number", source=str(path), field=where)
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise InputError(f"{value:g} is out of range; allowed [{lo}, {hi}]", source=str(path), field=where)
    return value


def load_weather_trace(path: Path) -> tuple[WeatherRecord, ...]:
    """Parse and validate a weather trace."""
    records = []
    for line, row in _rows(path, WEATHER_COLUMNS):
        t = _number(row["time_s"], path, line, "time_s", low=0.0)
        if records and t <= records[-1].t_s:
            kind = "duplicate" if t == records[-1].t_s else "unsorted"
            raise InputError(f"{kind} time {t:g} s: times must strictly increase", source=str(path), field=f"line {line}, time_s")
        if not records and t != 0.0:
            raise InputError(f"the first row must be at time_s = 0 (found {t:g}) so the weather is defined from the start", source=str(path), field=f"line {line}, time_s")
        state = row["state"]
        if state not in WEATHER_STATES:
            raise InputError(f"unknown state {state!r}; allowed: {', '.join(WEATHER_STATES)}", source=str(path), field=f"line {line}, state")
        fade = _number(row["rain_fade_db"], path, line, "rain_fade_db", low=0.0, high=100.0)
        cloud = _number(row["cloud_cover"], path, line, "cloud_cover", low=0.0, high=1.0)
        records.append(WeatherRecord(t, state, fade, cloud))
    return tuple(records)


def load_demand_trace(path: Path) -> tuple[DemandRecord, ...]:
    """Parse and validate a key-demand trace."""
    records: list[DemandRecord] = []
    seen: set[tuple[float, str, str]] = set()
    for line, row in _rows(path, DEMAND_COLUMNS):
        t = _number(row["time_s"], path, line, "time_s", low=0.0)
        if records and t < records[-1].t_s:
            raise InputError(f"unsorted time {t:g} s after {records[-1].t_s:g} s: times must not decrease", source=str(path), field=f"line {line}, time_s")
        for column in ("src", "dst"):
            if not row[column]:
                raise InputError("must not be empty", source=str(path), field=f"line {line}, {column}")
        if row["src"] == row["dst"]:
            raise InputError(f"src and dst are both {row['src']!r}", source=str(path), field=f"line {line}")
        key = (t, row["src"], row["dst"])
        if key in seen:
            raise InputError(f"duplicate row for ({row['src']}, {row['dst']}) at {t:g} s", source=str(path), field=f"line {line}")
        seen.add(key)
        rate = _number(row["rate_bps"], path, line, "rate_bps", low=0.0)
        records.append(DemandRecord(t, row["src"], row["dst"], rate, line))
    return tuple(records)
