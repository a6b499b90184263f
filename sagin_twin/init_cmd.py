"""``sagin-twin init PATH``: write a commented starter scenario that loads as is.

Every section appears with its main fields, each with a one-line comment taken from the loader's
own schema (meaning, unit, allowed range), so the starter stays in step with what the loader
accepts. The files it names (TLE, QKD network; traces in comments) are names in the shipped library
(``scenarios/``), found wherever the scenario lives. An existing file is never overwritten.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from common.errors import InputError

HEADER = """\
# A starter scenario written by `sagin-twin init`: a night pass of a Micius-like LEO satellite over
# the Xinglong station, a UAV, a base station, three users and an eavesdropper, and a QKD network.
# Edit any value; `sagin-twin run {name}` validates it (unknown keys, wrong types and values out of
# range are errors naming the field). Every field and its range: docs/scenarios.md.
#
# Files (TLE, traces, QKD networks) are looked up next to this file first, then in the library
# shipped with sagin-twin (scenarios/ in the repository): tle/micius-like.tle, tle/leo-53deg.tle,
# traces/storm-afternoon-weather.csv, traces/storm-afternoon-demand.csv, qkd/xinglong.toml,
# qkd/nsfnet.toml. run.json records which file was used.
"""

#: (section, [(field, value)], extra comment lines) — the starter's content; comments come from the schema
SECTIONS: tuple[tuple[str, tuple[tuple[str, object], ...], tuple[str, ...]], ...] = (
    ("run", (("seed", 1), ("duration_s", 600.0), ("tick_s", 1.0), ("start_utc", "2026-11-16T12:00:00Z"),
             ("align", "culmination"), ("min_peak_elevation_deg", 40.0), ("search_window_s", 86400.0)),
     ("the TLE's epoch must be within 30 days of the run",)),
    ("site", (("name", "Xinglong"), ("latitude_deg", 40.3959), ("longitude_deg", 117.5772), ("altitude_m", 900.0)), ()),
    ("satellite", (("tle", "tle/micius-like.tle"), ("antennas", 4), ("power_dbw", 10.0), ("max_gain_db", 46.0),
                   ("beam_3db_deg", 0.4), ("beam_centre_enu_m", [0.0, 0.0, 0.0]), ("min_elevation_deg", 10.0),
                   ("coherence_time_s", 60.0)), ()),
    ("uav", (("antennas", 4), ("power_dbw", 5.0), ("speed_mps", 10.0),
             ("waypoints_enu_m", [[-150.0, -100.0, 100.0], [150.0, -100.0, 100.0], [150.0, 100.0, 100.0], [-150.0, 100.0, 100.0]]),
             ("loop", True), ("rician_k_db", 10.0), ("coherence_time_s", 20.0)), ()),
    ("base_station", (("antennas", 4), ("power_dbw", 15.0), ("position_enu_m", [0.0, 0.0, 25.0]), ("nakagami_m", 2.0),
                      ("coherence_time_s", 20.0)), ()),
    ("radio", (("carrier_freq_hz", 2.4e9), ("bandwidth_hz", 1.0e6), ("noise_figure_db", 5.0), ("eve_csi_error", 0.1)), ()),
    ("users.su", (("position_enu_m", [250.0, 150.0, 2.0]),), ("the satellite user",)),
    ("users.au", (("position_enu_m", [-80.0, 120.0, 60.0]), ("velocity_mps", [0.5, 0.0, 0.0])), ("the aerial user",)),
    ("users.gu", (("position_enu_m", [80.0, -60.0, 1.5]), ("velocity_mps", [0.0, 1.0, 0.0])), ("the ground user",)),
    ("users.eve", (("position_enu_m", [180.0, -150.0, 1.5]),), ("the eavesdropper",)),
    ("weather", (("model", "markov"), ("initial", "clear"), ("mean_duration_s", {"clear": 900.0, "cloudy": 600.0, "rain": 300.0}),
                 ("jump_probabilities", {"clear": {"cloudy": 0.8, "rain": 0.2}, "cloudy": {"clear": 0.5, "rain": 0.5},
                                         "rain": {"clear": 0.3, "cloudy": 0.7}})),
     ('to replay a recorded trace instead: model = "trace", trace = "traces/storm-afternoon-weather.csv",',
      "and drop initial, mean_duration_s and jump_probabilities")),
    ("links.intra", (("latency_s", 0.02),), ("entity -> its edge twin",)),
    ("links.inter", (("latency_s", 0.03), ("jitter_s", 0.005)), ("edge twin -> core-cloud twin",)),
    ("links.decision", (("latency_s", 0.05), ("loss_probability", 0.0)), ("core-cloud twin -> transmitters",)),
    ("twin", (("precoding", "synergy"), ("fallback", "zf-all"), ("period_s", 10.0), ("csi_drift_threshold", 1.0),
              ("replan_on_weather_change", True), ("check_period_s", 1.0), ("solve_delay_s", 0.1)), ()),
    ("qkd", (("network", "qkd/xinglong.toml"), ("stations", {"NS": [43.475, 87.177, 2028.0]}), ("planning_period_s", 300.0),
             ("step_s", 10.0), ("report_period_s", 10.0), ("pool_initial_bits", 2.0e6)),
     ("the quantum-key layer; delete [qkd] and [qkd.demand] to run without it",)),
    ("qkd.demand", (("model", "random"), ("mean_bps", {"bj-tj": 30000.0, "xl-ns": 8000.0, "uav-cd": 15000.0}), ("cv", 0.3),
                    ("hold_s", 120.0)),
     ('or model = "trace" with trace = "traces/storm-afternoon-demand.csv" (rows: time_s, src, dst, rate_bps)',)),
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("init", help="write a commented starter scenario to edit", description=__doc__)
    p.add_argument("path", type=Path, metavar="PATH", help="the scenario file to create, e.g. my-scenario.toml (never overwritten)")
    p.set_defaults(func=init)


def _toml(value: object) -> str:
    """A TOML value (the subset the starter uses)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and abs(value) >= 1e5:
        return f"{value:.6g}"  # 2.4e+09, not 2400000000.0
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k if k.replace('-', '').replace('_', '').isalnum() else json.dumps(k)} = {_toml(v)}"
                                for k, v in value.items()) + " }"
    raise TypeError(type(value).__name__)


def _comment(row: dict) -> str:
    """One line from the schema: meaning, then the allowed range with its unit or the choices."""
    doc, allowed, unit = row["doc"], row["allowed"], row["unit"]
    if allowed.startswith(("[", "(")):
        return f"{doc}; {allowed} {unit}".rstrip()
    if allowed:
        return f"{doc}; one of {allowed}"
    return f"{doc} ({unit})" if unit else doc


def render(name: str = "scenario.toml") -> str:
    """The starter scenario's text."""
    from scenarios.config import Scenario
    from scenarios.schema import describe_fields

    rows = {}
    for row in describe_fields(Scenario):
        rows[row["field"]] = row
        if "{" in row["field"]:  # a table with fixed keys: qkd.{…}.field
            head, keys, tail = row["field"].replace("{", "|").replace("}", "|").split("|")
            for key in keys.split(","):
                rows[f"{head}{key}{tail}"] = row
    lines = [HEADER.format(name=name)]
    for section, fields, notes in SECTIONS:
        lines.append(f"[{section}]")
        lines.extend(f"# {note}" for note in notes)
        for field, value in fields:
            row = rows.get(f"{section}.{field}")
            head, _, key = section.rpartition(".")
            if row is None and head:
                row = rows.get(f"{head}.<name>.{field}")
            if row is None:
                raise KeyError(f"{section}.{field} is not a scenario field")  # the starter drifted from the schema
            lines.append(f"{field} = {_toml(value)}  # {_comment(row)}")
        lines.append("")
    return "\n".join(lines)


def init(args: argparse.Namespace) -> int:
    path: Path = args.path
    source = str(path)
    if "\x00" in source:
        raise InputError("path contains a NUL character", source=repr(source))
    if path.exists() or path.is_symlink():
        raise InputError("already exists; init never overwrites a file: choose another PATH", source=source)
    text = render(path.name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as stream:
            stream.write(text)
    except FileExistsError:
        raise InputError("already exists; init never overwrites a file: choose another PATH", source=source) from None
    except OSError as exc:
        raise InputError(f"cannot write the scenario: {exc.strerror or exc}", source=source) from None
    print(f"wrote {path}: edit it, then run  sagin-twin run {path}")
    return 0
