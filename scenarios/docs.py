"""Render docs/scenarios.md, the reference of every scenario field, from the loader's own schema.

``python -m scenarios.docs > docs/scenarios.md`` regenerates it; a test fails when it is stale.
"""

from __future__ import annotations

import sys

from scenarios.config import Scenario
from scenarios.schema import describe_fields

HEADER = """# Scenario files

A scenario is a TOML file (see `scenarios/*.toml`, each commented). Every key below is checked on
load: an unknown key, a wrong type or a value outside the allowed range is an error naming the file
and the field (exit status 2, nothing written). Paths (`satellite.tle`, `weather.trace`) are
relative to the scenario's folder and may not leave it. Units are in the key names; powers in dBW,
angles in degrees, times in seconds.

Traces are CSV files with a header:

- weather (`weather.model = "trace"`): `time_s,state,rain_fade_db,cloud_cover` — first row at 0 s,
  strictly increasing times, state in clear/cloudy/rain, fade ≥ 0 dB, cloud cover in [0, 1].
  Each row takes effect at its exact time.
- key demand: `time_s,src,dst,rate_bps` — non-decreasing times, rate ≥ 0, no duplicate
  (time, src, dst).

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
    return HEADER + "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
