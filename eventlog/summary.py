"""Summaries of a run's event log in one streaming pass: what ``sagin-twin run`` prints and ``inspect`` shows.

:class:`Summary` takes the rows one at a time (from :func:`eventlog.reader.iter_rows`), so the
memory it needs grows only with the values it keeps for medians (a float per information-age
sample), not with the log. The result is a plain dict:

- log-wide facts (``run``: the run_started row; ``finished``: the last run_finished status) come
  from every row, whatever the filter;
- everything else describes the rows in the window (``inspect --kind/--source/--from/--to``);
- ``wall_clock`` holds the wall-time statistics (from ``timings.jsonl``): they differ between two
  runs of the same seed, so :func:`deterministic_part` leaves them out of ``summary.json``.
"""

from __future__ import annotations

import math
from array import array
from datetime import datetime, timezone
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from eventlog.kinds import entity_names
from eventlog.text import counts, plural, sig, utc, with_unit

#: the summary section that holds wall-clock figures (kept out of ``summary.json``)
WALL_CLOCK = "wall_clock"
INCOMPLETE = "incomplete (no run_finished event)"


def _number(value: Any) -> float | None:
    """A finite float, or None for null, NaN, non-numbers and booleans."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class Stats:
    """Mean, median, max and count of the finite values added (kept as 8-byte floats for the median)."""

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values = array("d")

    def add(self, value: Any) -> None:
        number = _number(value)
        if number is not None:
            self.values.append(number)

    def result(self) -> dict[str, float]:
        n = len(self.values)
        if n == 0:
            return {"mean": math.nan, "median": math.nan, "max": math.nan, "count": 0}
        ordered = sorted(self.values)
        middle = n // 2
        median = ordered[middle] if n % 2 else 0.5 * (ordered[middle - 1] + ordered[middle])
        return {"mean": math.fsum(ordered) / n, "median": median, "max": ordered[-1], "count": n}


class Mean:
    """Running mean of finite values (Neumaier-compensated sum: no drift over millions of rows)."""

    __slots__ = ("total", "compensation", "count")

    def __init__(self) -> None:
        self.total = 0.0
        self.compensation = 0.0
        self.count = 0

    def add(self, value: float) -> None:
        total = self.total + value
        if abs(self.total) >= abs(value):
            self.compensation += (self.total - total) + value
        else:
            self.compensation += (value - total) + self.total
        self.total = total
        self.count += 1

    @property
    def sum(self) -> float:
        return self.total + self.compensation

    def result(self) -> float:
        return self.sum / self.count if self.count else math.nan


class _Secrecy:
    """Achieved vs planned secrecy rate of one user (or the minimum) over the secrecy rows.

    The achieved rates of the ticks with a decision in force are kept (8 bytes each) for their
    10th percentile: the rate the twin delivers nine ticks in ten.
    """

    def __init__(self) -> None:
        self.ticks = 0
        self.achieved = Mean()
        self.planned = Mean()
        self.planned_when_achieved = Mean()
        self.gap = Mean()
        self.when_planned = array("d")

    def add(self, achieved: Any, planned: Any) -> None:
        self.ticks += 1
        achieved, planned = _number(achieved), _number(planned)
        if achieved is not None:
            self.achieved.add(achieved)
        if planned is not None:
            self.planned.add(planned)
            if achieved is not None:
                self.when_planned.append(achieved)
                self.planned_when_achieved.add(planned)
                self.gap.add(planned - achieved)

    def result(self) -> dict[str, float]:
        kept = self.when_planned
        achieved_when_planned = math.fsum(kept) / len(kept) if kept else math.nan
        return {
            "achieved_mean_bps_hz": self.achieved.result(),
            "planned_mean_bps_hz": self.planned.result(),
            "achieved_mean_when_planned_bps_hz": achieved_when_planned,
            "achieved_p10_when_planned_bps_hz": _percentile(kept, 10.0),
            "gap_mean_bps_hz": self.gap.result(),
            # |planned − achieved| / achieved over the ticks with a decision: how honest the plan is
            "calibration_error": abs(self.planned_when_achieved.result() - achieved_when_planned) / achieved_when_planned
            if kept and achieved_when_planned > 0 else math.nan,
            "ticks": self.ticks,
        }


def _percentile(values: array, q: float) -> float:
    """The q-th percentile (linear interpolation between order statistics, as numpy's default); NaN if empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


#: information age per kind: (summary label, kind, column)
AGES = (
    ("edge_report_age_s", "report_received", "age_s"),
    ("core_view_age_s", "view_received", "age_s"),
    ("solve_input_age_s", "resolve", "oldest_input_age_s"),
    ("applied_input_age_s", "decision_applied", "input_age_s"),
)
_AGE_OF_KIND = {kind: (label, column) for label, kind, column in AGES}


def _sorted(counter: Counter) -> dict[str, int]:
    return {str(k): counter[k] for k in sorted(counter, key=str)}


class Summary:
    """Streaming summary of a log (module docstring). Feed every row to :meth:`observe`, then :meth:`result`."""

    def __init__(self) -> None:
        self.events = 0
        self.t_first = math.inf
        self.t_last = -math.inf
        self.by_kind: Counter = Counter()
        self.by_source: Counter = Counter()
        self.run: dict[str, Any] | None = None
        self.finished: str | None = None
        # re-solves
        self.resolves = 0
        self.by_trigger: Counter = Counter()
        self.by_status: Counter = Counter()
        self.fallbacks: Counter = Counter()
        self.resolve_wall = Stats()
        self.calibration: dict[str, Mean] = {}  # per transmitter, in the order the resolve rows name them
        self.coherence_s: dict[str, float] = {}
        self.secrecy: dict[str, _Secrecy] = {}  # per user, in the order the secrecy rows name them
        self.min_secrecy = _Secrecy()
        self.ages = {label: Stats() for label, _, _ in AGES}
        # QKD
        self.qkd_rows = 0
        self.plans = 0
        self.plans_by_trigger: Counter = Counter()
        self.plans_by_status: Counter = Counter()
        self.plans_failed_by_status: Counter = Counter()
        self.plan_fallbacks: Counter = Counter()
        self.plan_wall = Stats()
        self.first_stage_cost = Mean()
        self.second_stage_cost = Mean()
        self.total_cost = Mean()
        self.served_bits = Mean()
        self.unmet_by_reason: dict[str, Mean] = {}
        self.crossings: Counter = Counter()
        # constellation (only logs that have one)
        self.constellation: dict[str, Any] | None = None
        self.service_changes: list[dict[str, Any]] = []
        self.serving_satellites: set[str] = set()
        self.unserved_ticks = 0
        self.worst_interference_db: float | None = None

    # -- rows ---------------------------------------------------------------------------------------
    def observe(self, row: Mapping[str, Any], in_window: bool = True) -> None:
        """Take one row; ``in_window`` says whether it passes the caller's filter (log-wide facts use every row)."""
        kind = row["kind"]
        if kind == "run_started" and self.run is None:
            self.run = _run_info(row)
        elif kind == "run_finished":
            self.finished = str(row.get("status"))
        if in_window:
            self._add(kind, row)

    def _add(self, kind: str, row: Mapping[str, Any]) -> None:
        self.events += 1
        t_s = float(row["t_s"])
        self.t_first = min(self.t_first, t_s)
        self.t_last = max(self.t_last, t_s)
        self.by_kind[kind] += 1
        self.by_source[row["source"]] += 1
        if kind in _AGE_OF_KIND:
            label, column = _AGE_OF_KIND[kind]
            self.ages[label].add(row.get(column))
        if kind == "secrecy":
            for user in entity_names(row, "achieved_", "_bps_hz", exclude=("min",)):
                self.secrecy.setdefault(user, _Secrecy())
            for user, accumulator in (*self.secrecy.items(), ("min", self.min_secrecy)):
                accumulator.add(row.get(f"achieved_{user}_bps_hz"), row.get(f"planned_{user}_bps_hz"))
        elif kind == "resolve":
            self.resolves += 1
            status = str(row.get("status"))
            self.by_trigger[str(row.get("trigger"))] += 1
            self.by_status[status] += 1
            fallback = row.get("fallback")
            if fallback not in (None, "none"):
                self.fallbacks[str(fallback)] += 1
            self.resolve_wall.add(row.get("wall_s"))
            for tx in entity_names(row, "calibration_", ""):
                self.calibration.setdefault(tx, Mean())
            for tx, accumulator in self.calibration.items():
                score = _number(row.get(f"calibration_{tx}"))
                if score is not None:
                    accumulator.add(score)
                coherence = _number(row.get(f"coherence_{tx}_s"))
                if coherence is not None:
                    self.coherence_s[tx] = coherence
        elif kind == "qkd_plan":
            self.qkd_rows += 1
            self.plans += 1
            status = str(row.get("status"))
            self.plans_by_trigger[str(row.get("trigger"))] += 1
            self.plans_by_status[status] += 1
            fallback = row.get("fallback")
            if fallback not in (None, "none"):  # the planner found no plan: it kept the previous one or sent shortest paths
                self.plan_fallbacks[str(fallback)] += 1
                self.plans_failed_by_status[status] += 1
            self.plan_wall.add(row.get("wall_s"))
        elif kind == "qkd_plan_cost":
            self.qkd_rows += 1
            for accumulator, column in ((self.first_stage_cost, "first_stage_cost"), (self.second_stage_cost, "second_stage_cost"),
                                        (self.total_cost, "total_cost"), (self.served_bits, "served_bits")):
                value = _number(row.get(column))
                if value is not None:
                    accumulator.add(value)
        elif kind == "key_demand_unmet":
            self.qkd_rows += 1
            value = _number(row.get("unmet_bits"))
            if value is not None:
                self.unmet_by_reason.setdefault(str(row.get("reason")), Mean()).add(value)
        elif kind == "key_pool_crossing":
            self.qkd_rows += 1
            self.crossings[str(row.get("to_state"))] += 1
        elif kind == "constellation_loaded":
            self.constellation = {k: row.get(k) for k in ("elements", "satellites", "rule", "non_serving")}
        elif kind in ("handover", "service_acquired", "service_lost"):
            self.service_changes.append({
                "t_s": t_s, "change": kind,
                "old": row.get("old_satellite") if kind == "handover" else (row.get("satellite") if kind == "service_lost" else None),
                "new": row.get("new_satellite") if kind == "handover" else (row.get("satellite") if kind == "service_acquired" else None),
                "old_elevation_deg": row.get("old_elevation_deg") if kind == "handover" else (row.get("elevation_deg") if kind == "service_lost" else None),
                "new_elevation_deg": row.get("new_elevation_deg") if kind == "handover" else (row.get("elevation_deg") if kind == "service_acquired" else None),
            })
        elif kind == "satellite_state" and "serving_satellite" in row:
            name = row.get("serving_satellite")
            if name is None or (isinstance(name, float) and math.isnan(name)):
                self.unserved_ticks += 1
            else:
                self.serving_satellites.add(str(name))
            worst = _number(row.get("interference_to_noise_db"))
            if worst is not None and (self.worst_interference_db is None or worst > self.worst_interference_db):
                self.worst_interference_db = worst

    # -- result -------------------------------------------------------------------------------------
    def result(self) -> dict[str, Any]:
        """The summary dict (module docstring)."""
        # an "inaccurate" solve is a usable decision (the twin applies it); every other non-ok status is a failure
        failed = Counter({status: n for status, n in self.by_status.items() if status not in ("ok", "inaccurate")})
        out: dict[str, Any] = {
            "events": self.events,
            "t_first_s": self.t_first if self.events else math.nan,
            "t_last_s": self.t_last if self.events else math.nan,
            "by_kind": _sorted(self.by_kind),
            "by_source": _sorted(self.by_source),
        }
        if self.run is not None:
            out["run"] = dict(self.run)
        out["finished"] = self.finished if self.finished is not None else INCOMPLETE
        out["resolves"] = {
            "count": self.resolves,
            "by_trigger": _sorted(self.by_trigger),
            "by_status": _sorted(self.by_status),
            "failed": sum(failed.values()),
            "failed_by_status": _sorted(failed),
            "fallbacks": sum(self.fallbacks.values()),
            "fallbacks_by_kind": _sorted(self.fallbacks),
            "oldest_input_age_s": self.ages["solve_input_age_s"].result(),
        }
        out["secrecy"] = ({user: s.result() for user, s in (*self.secrecy.items(), ("min", self.min_secrecy))}
                          if self.min_secrecy.ticks else {})
        if self.coherence_s:
            # the predictor's realised / predicted error power (1 = calibrated) and the coherence times it learned
            out["prediction"] = {tx: {"calibration_mean": self.calibration[tx].result(), "coherence_s": self.coherence_s.get(tx, math.nan)}
                                 for tx in self.calibration}
        out["information_age"] = {label: stats.result() for label, stats in self.ages.items()}
        wall: dict[str, Any] = {"resolve_wall_s": self.resolve_wall.result()}
        if self.qkd_rows:
            out["qkd"] = self._qkd()
            wall["qkd_plan_wall_s"] = self.plan_wall.result()
        if self.constellation is not None or self.service_changes:
            out["constellation"] = {
                **(self.constellation or {}),
                "handovers": sum(c["change"] == "handover" for c in self.service_changes),
                "acquisitions": sum(c["change"] == "service_acquired" for c in self.service_changes),
                "losses": sum(c["change"] == "service_lost" for c in self.service_changes),
                "satellites_served": len(self.serving_satellites),
                "unserved_ticks": self.unserved_ticks,
                "max_interference_to_noise_db": self.worst_interference_db,
                "changes": self.service_changes,
            }
        out[WALL_CLOCK] = wall
        return out

    def _qkd(self) -> dict[str, Any]:
        # every requested bit is served (only while a plan is in force) or logged as unmet (also before the first plan)
        served = self.served_bits.sum
        unmet_by_reason = {reason: self.unmet_by_reason[reason].sum for reason in sorted(self.unmet_by_reason)}
        unmet = math.fsum(unmet_by_reason.values())
        requested = served + unmet
        return {
            "plans": self.plans,
            "plans_by_trigger": _sorted(self.plans_by_trigger),
            "plans_by_status": _sorted(self.plans_by_status),
            "plans_failed": sum(self.plans_failed_by_status.values()),
            "plans_failed_by_status": _sorted(self.plans_failed_by_status),
            "plan_fallbacks": sum(self.plan_fallbacks.values()),
            "plan_fallbacks_by_kind": _sorted(self.plan_fallbacks),
            "first_stage_cost": self.first_stage_cost.sum,
            "second_stage_cost": self.second_stage_cost.sum,
            "total_cost": self.total_cost.sum,
            "requested_bits": requested,
            "served_bits": served,
            "unmet_bits": unmet,
            "unmet_fraction": unmet / requested if requested > 0 else 0.0,
            "unmet_by_reason_bits": unmet_by_reason,
            "crossings_by_state": _sorted(self.crossings),
        }


def _run_info(row: Mapping[str, Any]) -> dict[str, Any]:
    info = {k: row.get(k) for k in ("scenario", "start_utc", "duration_s", "precoding")}
    start = info["start_utc"]
    if isinstance(start, datetime):  # pyarrow parses ISO strings into (UTC, naive) timestamps
        info["start_utc"] = (start if start.tzinfo else start.replace(tzinfo=timezone.utc)).isoformat()
    seed = row.get("seed")
    info["seed"] = int(seed) if _number(seed) is not None else seed
    return info


# -- entry points -----------------------------------------------------------------------------------
def summarize_rows(rows: Iterable[Mapping[str, Any]], keep: Callable[[Mapping[str, Any]], bool] | None = None) -> dict[str, Any]:
    """Summary of rows (dicts) in one pass; ``keep(row)`` selects the window (log-wide facts use every row)."""
    summary = Summary()
    for row in rows:
        summary.observe(row, keep is None or keep(row))
    return summary.result()


def summarize_log(path: Path, keep: Callable[[Mapping[str, Any]], bool] | None = None) -> dict[str, Any]:
    """Summary of a run folder's (or events.jsonl's) log, streamed line by line."""
    from eventlog.reader import iter_rows

    return summarize_rows(iter_rows(path), keep)


def summarize(events) -> dict[str, Any]:
    """Summary of a DataFrame of events (e.g. from :func:`eventlog.reader.load_events`); same result as :func:`summarize_log`."""
    columns = list(events.columns)

    def plain(value: Any) -> Any:  # the row as iter_rows would give it: None for a missing field, Python scalars
        if hasattr(value, "item") and not isinstance(value, (str, bytes)):
            value = value.item()
        return None if isinstance(value, float) and math.isnan(value) else value

    return summarize_rows({c: plain(v) for c, v in zip(columns, values)} for values in events.itertuples(index=False, name=None))


def deterministic_part(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The summary without its wall-clock section: identical for two runs with the same scenario and seed."""
    return {k: v for k, v in summary.items() if k != WALL_CLOCK}


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None, so it serialises as strict JSON (no NaN tokens)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        return json_safe(value.item())
    return value


# -- text -------------------------------------------------------------------------------------------
def _stats_line(stats: Mapping[str, float], unit: str) -> str:
    if not stats["count"]:
        return "no samples"
    return f"mean {sig(stats['mean'])} {unit}, median {sig(stats['median'])} {unit}, max {sig(stats['max'])} {unit} (n = {stats['count']:,})"


#: service changes listed one per line by ``inspect``; beyond this the first and last ones
MAX_LISTED_CHANGES = 24


def _constellation_lines(c: Mapping[str, Any]) -> list[str]:
    """The constellation's handover timeline: counts, then one line per change of serving satellite."""
    head = "constellation:"
    if c.get("satellites") is not None:
        head += f" {c['satellites']:,} satellites ({c.get('elements')}), rule {c.get('rule')}, others {c.get('non_serving')};"
    head += (f" {plural(c['handovers'], 'handover')}, {c['satellites_served']:,} satellites served, "
             f"{plural(c['unserved_ticks'], 'unserved tick')}")
    if c.get("max_interference_to_noise_db") is not None:
        head += f"; largest interference-to-noise {sig(c['max_interference_to_noise_db'], 3)} dB"
    lines = [head]
    changes = list(c.get("changes", ()))
    shown = changes if len(changes) <= MAX_LISTED_CHANGES else changes[:MAX_LISTED_CHANGES // 2] + [None] + changes[-MAX_LISTED_CHANGES // 2:]

    def end(name, elevation):
        return "none" if name is None else f"{name} ({sig(elevation, 3)}°)"

    for change in shown:
        if change is None:
            lines.append(f"  … {len(changes) - MAX_LISTED_CHANGES:,} more …")
            continue
        what = {"handover": "handover", "service_acquired": "acquired", "service_lost": "lost"}[change["change"]]
        lines.append(f"  t = {sig(change['t_s'])} s  {what:<9} {end(change['old'], change['old_elevation_deg'])} → "
                     f"{end(change['new'], change['new_elevation_deg'])}")
    return lines


def format_summary(summary: Mapping[str, Any]) -> str:
    """Human-readable text of a summary."""
    lines = []
    run = summary.get("run")
    if run:
        lines.append(f"run: {run.get('scenario')}  seed {run.get('seed')}  start {utc(run.get('start_utc'))}  "
                     f"duration {sig(run.get('duration_s'))} s  precoding {run.get('precoding')}")
    if summary["events"]:
        span = f"simulated time {sig(summary['t_first_s'])} … {sig(summary['t_last_s'])} s"
    else:
        span = "no events in the window"
    lines.append(f"{plural(summary['events'], 'event')}  {span}  finished: {summary['finished']}")
    lines.append("events per kind:   " + counts(summary["by_kind"]))
    lines.append("events per source: " + counts(summary["by_source"]))
    wall = summary.get(WALL_CLOCK, {})
    r = summary["resolves"]
    text = f"re-solves: {r['count']:,}"
    if r["count"]:
        text += f"  by trigger: {counts(r['by_trigger'])}  by status: {counts(r['by_status'])}"
        text += f"  failed: {r['failed']:,}" + (f" ({counts(r['failed_by_status'])})" if r["failed"] else "")
        text += f"  fallbacks: {r['fallbacks']:,}" + (f" ({counts(r['fallbacks_by_kind'])})" if r["fallbacks"] else "")
        if "resolve_wall_s" in wall and wall["resolve_wall_s"]["count"]:
            text += f"  wall time: mean {sig(wall['resolve_wall_s']['mean'])} s, max {sig(wall['resolve_wall_s']['max'])} s"
    lines.append(text)
    if summary["secrecy"]:
        lines.append("secrecy rate per user (bit/s/Hz; means over the ticks the user is served; 'gap' = planned − achieved "
                     "and 'p10' = 10th percentile of achieved, while a decision is in force):")
        lines.append(f"  {'user':<5}{'achieved':>11}{'planned':>11}{'gap':>11}{'p10':>11}")
        for user, s in summary["secrecy"].items():
            lines.append(f"  {user:<5}{sig(s['achieved_mean_bps_hz'], 3):>11}{sig(s['planned_mean_bps_hz'], 3):>11}"
                         f"{sig(s['gap_mean_bps_hz'], 3):>11}{sig(s.get('achieved_p10_when_planned_bps_hz', math.nan), 3):>11}")
    if summary.get("prediction"):
        parts = [f"{tx} {sig(p['calibration_mean'], 3)} (coherence {sig(p['coherence_s'], 3)} s)" for tx, p in summary["prediction"].items()]
        lines.append("prediction calibration (realised / predicted error power, 1 = calibrated): " + ", ".join(parts))
    lines.append("twin information age:")
    for label, s in summary["information_age"].items():
        lines.append(f"  {label:<22} {_stats_line(s, 's')}")
    c = summary.get("constellation")
    if c:
        lines.extend(_constellation_lines(c))
    q = summary.get("qkd")
    if q:
        text = f"QKD: {plural(q['plans'], 'plan')}"
        if q["plans"]:
            text += f"  by trigger: {counts(q['plans_by_trigger'])}  by status: {counts(q['plans_by_status'])}"
            text += f"  failed: {q['plans_failed']:,}" + (f" ({counts(q['plans_failed_by_status'])})" if q["plans_failed"] else "")
            text += f"  fallbacks: {q['plan_fallbacks']:,}" + (f" ({counts(q['plan_fallbacks_by_kind'])})" if q["plan_fallbacks"] else "")
            plan_wall = wall.get("qkd_plan_wall_s")
            if plan_wall and plan_wall["count"]:
                text += f"  plan wall time: mean {sig(plan_wall['mean'])} s"
        lines.append(text)
        lines.append(f"  cost {sig(q['total_cost'])} = reservation {sig(q['first_stage_cost'])} + second stage "
                     f"{sig(q['second_stage_cost'])} (Table I units; plans that left service)")
        unmet = f"unmet {with_unit(q['unmet_bits'], 'bit')} = {sig(100 * q['unmet_fraction'], 3)} %"
        if q["unmet_bits"] > 0:
            unmet += f" ({counts(q['unmet_by_reason_bits'], unit='bit')})"
        lines.append(f"  key served {with_unit(q['served_bits'], 'bit')} of {with_unit(q['requested_bits'], 'bit')} requested, {unmet}")
        crossings = q["crossings_by_state"]
        lines.append("  key pool crossings: " + (", ".join(f"into {state} {n:,}" for state, n in crossings.items()) if crossings else "none"))
    return "\n".join(lines)
