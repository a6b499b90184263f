"""Filters and tables over a run's log for ``inspect``, computed in the same single streaming pass as the summary.

:func:`scan_log` reads the log once: every row feeds the log-wide facts (sources present, run
started/finished), the rows that pass the :class:`EventFilter` feed the :class:`~eventlog.summary.Summary`
and the :class:`Tables`, and, if asked, are kept for ``--list`` and ``--parquet``.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from eventlog.reader import iter_rows
from eventlog.summary import AGES, WALL_CLOCK, Stats, Summary


@dataclass(frozen=True)
class EventFilter:
    """Rows whose kind is in ``kinds``, source in ``sources`` and ``t_from <= t_s <= t_to`` (None = no bound)."""

    kinds: frozenset[str] | None = None
    sources: frozenset[str] | None = None
    t_from: float | None = None
    t_to: float | None = None

    @classmethod
    def of(cls, kinds=None, sources=None, t_from: float | None = None, t_to: float | None = None) -> "EventFilter":
        return cls(frozenset(kinds) if kinds else None, frozenset(sources) if sources else None, t_from, t_to)

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.kinds, self.sources, self.t_from, self.t_to))

    def __call__(self, row: Mapping[str, Any]) -> bool:
        if self.kinds is not None and row["kind"] not in self.kinds:
            return False
        if self.sources is not None and row["source"] not in self.sources:
            return False
        if self.t_from is not None and row["t_s"] < self.t_from:
            return False
        return self.t_to is None or row["t_s"] <= self.t_to


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


@dataclass
class _Group:
    """Re-solves of one (trigger, method, status, fallback)."""

    count: int = 0
    input_age: Stats = field(default_factory=Stats)
    wall: Stats = field(default_factory=Stats)


@dataclass
class _Pool:
    medium: Any = None
    stock_bits: Any = None
    state: Any = None
    min_stock_bits: float = math.inf
    max_running_qkd_links: float = -math.inf


@dataclass
class _Unmet:
    intervals: int = 0
    unmet_bits: float = 0.0
    first_s: float = math.inf
    last_s: float = -math.inf


QKD_PLAN_COLUMNS = ("t_s", "plan_id", "trigger", "status", "fallback", "weather", "p_clear", "satellite_offered",
                    "objective", "first_stage_cost", "expected_second_stage_cost", "reserved_qkd", "reserved_km", "wall_s")
QKD_COST_COLUMNS = ("t_s", "plan_id", "duration_s", "first_stage_cost", "second_stage_cost", "total_cost",
                    "requested_bits", "served_bits", "unmet_bits", "mean_ondemand_qkd")


class Tables:
    """Streaming accumulators of inspect's tables; each ``*_table`` method returns a DataFrame (empty if no rows)."""

    def __init__(self) -> None:
        self.resolves: dict[tuple, _Group] = {}
        self.ages: dict[tuple[str, str], Stats] = {}
        self.plans: list[dict] = []
        self.costs: list[dict] = []
        self.pools: dict[str, _Pool] = {}
        self.crossings: Counter = Counter()  # (link, to_state)
        self.unmet: dict[tuple[str, str], _Unmet] = {}

    def add(self, row: Mapping[str, Any]) -> None:
        kind = row["kind"]
        for _, age_kind, column in AGES:
            if kind == age_kind and column in row:
                self.ages.setdefault((kind, row["source"]), Stats()).add(row[column])
        if kind == "resolve":
            key = tuple(str(row.get(c)) for c in ("trigger", "method", "status", "fallback"))
            group = self.resolves.setdefault(key, _Group())
            group.count += 1
            group.input_age.add(row.get("oldest_input_age_s"))
            group.wall.add(row.get("wall_s"))
        elif kind == "qkd_plan":
            self.plans.append({c: row.get(c) for c in QKD_PLAN_COLUMNS})
        elif kind == "qkd_plan_cost":
            self.costs.append({c: row.get(c) for c in QKD_COST_COLUMNS})
        elif kind == "key_pool_state":
            pool = self.pools.setdefault(str(row.get("link")), _Pool())
            pool.medium, pool.stock_bits, pool.state = row.get("medium"), row.get("stock_bits"), row.get("state")
            stock, running = _finite(row.get("stock_bits")), _finite(row.get("running_qkd_links"))
            if stock is not None:
                pool.min_stock_bits = min(pool.min_stock_bits, stock)
            if running is not None:
                pool.max_running_qkd_links = max(pool.max_running_qkd_links, running)
        elif kind == "key_pool_crossing":
            self.crossings[(str(row.get("link")), str(row.get("to_state")))] += 1
        elif kind == "key_demand_unmet":
            entry = self.unmet.setdefault((str(row.get("request")), str(row.get("reason"))), _Unmet())
            entry.intervals += 1
            entry.unmet_bits += _finite(row.get("unmet_bits")) or 0.0
            start = _finite(row.get("from_s"))
            entry.first_s = min(entry.first_s, start if start is not None else row["t_s"])
            entry.last_s = max(entry.last_s, row["t_s"])

    def resolve_table(self) -> pd.DataFrame:
        """Re-solves grouped by trigger, method, status and fallback: count, input age and wall time (s)."""
        rows = []
        for (trigger, method, status, fallback), group in sorted(self.resolves.items()):
            age, wall = group.input_age.result(), group.wall.result()
            row = {"trigger": trigger, "method": method, "status": status, "fallback": fallback, "solves": group.count,
                   "input_age_mean_s": age["mean"], "input_age_max_s": age["max"]}
            if wall["count"]:
                row.update(wall_mean_s=wall["mean"], wall_median_s=wall["median"], wall_max_s=wall["max"])
            rows.append(row)
        return pd.DataFrame(rows)

    def age_table(self) -> pd.DataFrame:
        """Information age (s) per kind and source: at the edge twins, at the core, at solves, at the transmitters."""
        order = {kind: k for k, (_, kind, _) in enumerate(AGES)}
        rows = []
        for (kind, source), stats in sorted(self.ages.items(), key=lambda item: (order[item[0][0]], item[0][1])):
            s = stats.result()
            rows.append({"kind": kind, "source": source, "count": s["count"], "mean_s": s["mean"], "median_s": s["median"], "max_s": s["max"]})
        return pd.DataFrame(rows)

    def qkd_plan_table(self) -> pd.DataFrame:
        """One row per QKD plan: when, why, forecast, outcome, cost, reservation and wall time."""
        return pd.DataFrame(self.plans).dropna(axis=1, how="all") if self.plans else pd.DataFrame()

    def qkd_cost_table(self) -> pd.DataFrame:
        """One row per plan that left service: time in force, realised costs, key requested, served and unmet."""
        return pd.DataFrame(self.costs).dropna(axis=1, how="all") if self.costs else pd.DataFrame()

    def key_pool_table(self) -> pd.DataFrame:
        """Per link: last logged stock and state, the smallest stock logged, and threshold crossings into each state."""
        rows = []
        for link, pool in self.pools.items():
            rows.append({"link": link, "medium": pool.medium, "stock_bits": pool.stock_bits, "state": pool.state,
                         "min_stock_bits": pool.min_stock_bits if math.isfinite(pool.min_stock_bits) else math.nan,
                         "max_running_qkd_links": pool.max_running_qkd_links if math.isfinite(pool.max_running_qkd_links) else math.nan,
                         "into_warning": self.crossings[(link, "WARNING")], "into_empty": self.crossings[(link, "EMPTY")]})
        return pd.DataFrame(rows)

    def unmet_table(self) -> pd.DataFrame:
        """Unmet key demand per request and reason: intervals, bits, and the span they cover (s)."""
        return pd.DataFrame([
            {"request": request, "reason": reason, "intervals": e.intervals, "unmet_bits": e.unmet_bits, "first_s": e.first_s, "last_s": e.last_s}
            for (request, reason), e in sorted(self.unmet.items())])


class ArrowRows:
    """Collects event rows as Arrow tables, a chunk at a time, so a large export does not hold every row as a dict."""

    CHUNK_ROWS = 20_000

    def __init__(self) -> None:
        self._chunk: list[dict] = []
        self._tables: list = []
        self.rows = 0

    def add(self, row: Mapping[str, Any]) -> None:
        self._chunk.append(row)
        self.rows += 1
        if len(self._chunk) >= self.CHUNK_ROWS:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self._chunk:
            self._tables.append(pa.Table.from_pandas(pd.DataFrame(self._chunk), preserve_index=False))
            self._chunk = []

    def table(self):
        """One Arrow table of every row, without the columns that are empty in all of them."""
        import pyarrow as pa

        self._flush()
        if not self._tables:
            return pa.table({c: pa.array([], type=t) for c, t in
                             (("t_s", pa.float64()), ("seq", pa.int64()), ("source", pa.string()), ("kind", pa.string()))})
        table = pa.concat_tables(self._tables, promote_options="permissive")
        return table.select([name for name in table.column_names if table[name].null_count < len(table)])

    def write_parquet(self, path: Path) -> int:
        """Write the rows to ``path`` (through a ``.partial`` file, so no half-written file has the final name); returns the row count."""
        import os

        import pyarrow.parquet as pq

        partial = path.with_name(path.name + ".partial")
        try:
            pq.write_table(self.table(), partial)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        return self.rows


@dataclass
class Scan:
    """What one pass over a log gathered (see :func:`scan_log`)."""

    summary: dict[str, Any]
    sources: set[str]
    tables: Tables | None
    listed: list[dict]
    export: ArrowRows | None


def scan_log(path: Path, event_filter: EventFilter = EventFilter(), *, tables: bool = True, first: int = 0,
             export: bool = False) -> Scan:
    """Read a log once: summary and tables of the filtered rows, the first ``first`` of them, all of them for ``export``.

    The summary's ``run`` and ``finished`` and the set of sources describe the whole log, whatever the filter.
    """
    summary = Summary()
    table = Tables() if tables else None
    sources: set[str] = set()
    listed: list[dict] = []
    rows = ArrowRows() if export else None
    for row in iter_rows(path):
        sources.add(row["source"])
        inside = event_filter(row)
        summary.observe(row, inside)
        if not inside:
            continue
        if table is not None:
            table.add(row)
        if len(listed) < first:
            listed.append(row)
        if rows is not None:
            rows.add(row)
    return Scan(summary.result(), sources, table, listed, rows)


def compact(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows with the columns that are empty in all of them dropped."""
    return rows.dropna(axis=1, how="all")


def compare_runs(names: list[str], summaries: list[dict]) -> pd.DataFrame:
    """One row per run: method, seed, achieved and planned secrecy per user, the 10th percentile of the achieved
    min rate, how far the planned min rate is from the achieved one (relative), the predictor's calibration per
    transmitter, re-solves, failures and their wall time."""
    rows = []
    for name, summary in zip(names, summaries):
        run = summary.get("run", {})
        row = {"run": name, "method": run.get("precoding"), "seed": run.get("seed")}
        for user, s in summary["secrecy"].items():
            row[f"achieved_{user}"] = s["achieved_mean_bps_hz"]
            row[f"planned_{user}"] = s["planned_mean_bps_hz"]
        if summary["secrecy"]:
            row["achieved_min_p10"] = summary["secrecy"]["min"]["achieved_p10_when_planned_bps_hz"]
            row["calibration_error_min"] = summary["secrecy"]["min"]["calibration_error"]
        for tx, p in summary.get("prediction", {}).items():
            row[f"calibration_{tx}"] = p["calibration_mean"]
        resolves = summary["resolves"]
        row["resolves"] = resolves["count"]
        row["failed"] = resolves["failed"]
        row["fallbacks"] = resolves["fallbacks"]
        row["wall_mean_s"] = summary.get(WALL_CLOCK, {}).get("resolve_wall_s", {}).get("mean", math.nan)
        rows.append(row)
    return pd.DataFrame(rows)
