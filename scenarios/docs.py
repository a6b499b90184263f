"""Render docs/scenarios.md, the reference of every scenario field, from the loader's own schema.

``python -m scenarios.docs > docs/scenarios.md`` regenerates it; a test fails when it is stale.
"""

from __future__ import annotations

import sys

from scenarios.config import Scenario
from scenarios.entities import RESERVED_NAMES
from scenarios.schema import describe_fields

HEADER = """# Scenario files

A scenario is a TOML file (see `scenarios/*.toml`, each commented; `sagin-twin init PATH` writes a
commented starter). Every key below is checked on load: an unknown key, a wrong type or a value
outside the allowed range is an error naming the file and the field (exit status 2, nothing
written). Units are in the key names; powers in dBW, angles in degrees, times in seconds.

**Files a scenario names** (`satellite.tle`, `constellation.tle`, `weather.trace`, `qkd.network`, `qkd.demand.trace`)
are relative paths: first next to the scenario (they may not leave its folder: no absolute paths,
no `..` or links out of it), else a name in the shipped library, the repository's `scenarios/`
folder: `tle/micius-like.tle`, `tle/leo-53deg.tle`, `traces/storm-afternoon-weather.csv`,
`traces/storm-afternoon-demand.csv`, `qkd/xinglong.toml`, `qkd/nsfnet.toml`,
`qkd/kaewpuang-small.toml`. `run.json` records which file was used (`scenario.input_files`: name,
origin `scenario folder` or `library`, path).

**Overrides.** `sagin-twin run SCENARIO --set KEY=VALUE` (repeatable) sets any field below by its
dotted name, or one key of a table-valued field (`--set weather.mean_duration_s.rain=600`); VALUE
is a TOML value (`true`, `1.5`, `"x"`, `[1, 2, 3]`, `{ a = 1 }`) and anything else (a bare word
such as `zf-all`, a date-time) is taken as a string. The result is validated like the file; an
error names `--set KEY`. `--seed N` and `--duration S` are short for `--set run.seed=N` and
`--set run.duration_s=S`, applied after every `--set`. `run.json` records the overrides
(`scenario.overrides`).

**Entities.** The satellite is `satellite` (with `[constellation]`, whichever satellite serves). One
UAV is `[uav]` (named `uav`) and one base station `[base_station]` (named `bs`); several are
`[uavs.<name>]` and `[base_stations.<name>]` instead (not both forms). Every user is
`[users.<name>]`, served by the one transmitter its `served_by` names (`su`, `au` and `gu` default
to `satellite`, `uav` and `bs`, the paper's topology); `users.eve` is the paper's eavesdropper
(named `e` in the log: `gain_e_est_db`), further ones `[eavesdroppers.<name>]`. A name is lowercase
letters and digits starting with a letter, unique across transmitters, users and eavesdroppers, and
none of RESERVED (the log uses them); at least one user and one eavesdropper. Each user's secrecy rate is taken against the
strongest eavesdropper; the twin maximises the minimum over the users. The site's weather station
reports to the first base station's twin. `scenarios/multi-uav.toml` has 2 UAVs, 2 base stations,
3 users per tier and 2 eavesdroppers.

**Checks across fields**, besides each field's range:

- the run (with `align = "culmination"`: the pass search window too, widened by half the run) lies
  within 1899-07-30 … 2053-10-08, the span of the shipped JPL DE421 ephemeris less a day;
- the TLE's epoch is within 30 days of every instant it is propagated to (the pass search, the run);
  with `[constellation]`, every satellite's (a Walker shell's `epoch_utc`, or the run's start);
- `[constellation]` gives exactly one of `tle` and `[constellation.walker]` (whose `planes` divide
  `total` and `phasing` < `planes`), replaces `satellite.tle` (leave it out), needs
  `run.align = "start"` (with `[qkd]`, the network's satellite node is the whole constellation:
  each station keys with its best usable satellite at every tick); its
  geometry (satellites × ticks, plus `visibility_lookahead_s` for `longest_visibility`) is at most
  30,000,000 samples unless `run --allow-large`;
- no user or Eve comes within 1 m of any UAV or base station at any tick;
- the job is at most 5,000,000 simulation steps (world ticks + trigger checks + the QKD layer's
  pool steps, reports, planner checks, pool log rows and demand changes + weather-trace rows), unless
  `run --allow-large`.

**TLE files** (two or three lines) are checked field by field before SGP4 reads them: printable
ASCII only (no tabs, no non-breaking spaces, no non-ASCII digits), 69 characters per line, spaces
at the standard columns, each field's layout (digits, decimal point, signs), epoch day in
[1, 366) (367 in a leap year), inclination in [0, 180] deg, the other angles in [0, 360) deg,
mean motion > 0, both checksums; then the orbit must be a LEO (perigee ≥ 150 km, apogee ≤ 2,000 km).
An error names the line, the columns and the field. A **TLE catalogue** (`constellation.tle`)
holds many such sets: CelesTrak 2-line or 3-line, or Space-Track 3LE (name lines `0 NAME`), mixed
freely; each set gets the same checks and an error names the file line and the satellite; names
and catalogue numbers must be unique (a set without a name line is `SAT-<catalogue number>`).

**Traces** are CSV files with a header; numbers are plain ASCII decimals (`240`, `2.4e2`; not
`2_40`), a field may not hold a line break, at most 1,000,000 rows:

- weather (`weather.model = "trace"`): `time_s,state,rain_fade_db,cloud_cover` — first row at 0 s,
  strictly increasing times, state in clear/cloudy/rain, fade ≥ 0 dB, cloud cover in [0, 1].
  Each row takes effect at its exact time.
- key demand: `time_s,src,dst,rate_bps` — non-decreasing times, rate ≥ 0, no duplicate
  (time, src, dst).

**Every input file** must be a regular file (not a folder, FIFO or device) of at most: scenario
1 MiB, TLE 64 KiB, TLE catalogue 16 MiB (≈ 100,000 satellites in 3-line format), trace 64 MiB, QKD network 16 MiB; TOML may nest at most 32 levels.

This page is generated from `scenarios/config.py` by `python -m scenarios.docs`; a test keeps the
two in sync.

| field | type | unit | default | allowed | meaning |
|---|---|---|---|---|---|
"""


def _cell(value: object) -> str:
    if isinstance(value, tuple):
        value = list(value)
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    """The whole Markdown page."""
    rows = describe_fields(Scenario)
    lines = [
        f"| `{r['field']}` | {_cell(r['type'])} | {_cell(r['unit'])} | {_cell(r['default'])} | {_cell(r['allowed'])} | {_cell(r['doc'])} |"
        for r in rows
    ]
    reserved = ", ".join(f"`{name}`" for name in RESERVED_NAMES)
    return HEADER.replace("RESERVED", reserved, 1) + "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
