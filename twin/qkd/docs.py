"""Render docs/qkd-instances.md, the reference of the QKD instance format, from the loader's own field table.

``python -m twin.qkd.docs > docs/qkd-instances.md`` regenerates it; a test fails when it is stale.
"""

from __future__ import annotations

import sys

from common.input_files import MAX_BYTES, MAX_TOML_DEPTH
from twin.qkd.instance import (
    COST_KEYS, FIELDS, MAX_WAVELENGTH_PRICE, MEDIA, PROBABILITY_TOLERANCE, WEATHERS, Field,
)

HEADER = f"""# QKD instance files

A QKD instance describes a QKD network and its uncertainty for the two-stage stochastic planner of
Kaewpuang et al. (`twin/qkd/formulation.py`): the media with their Table I costs, the nodes, links and
requests, and the weather × demand scenarios. It is what `sagin-twin plan-qkd INSTANCE.toml` solves
and what a scenario's `[qkd] network` names (in a simulation the `[[scenarios]]` are replaced by the
core-cloud twin's forecast and every link's key rate by the physics: see the README's QKD section).
Shipped examples: `scenarios/qkd/nsfnet.toml`, `scenarios/qkd/xinglong.toml`,
`scenarios/qkd/kaewpuang-small.toml`, `scenarios/qkd/kaewpuang-deterministic.toml`.

The file is TOML (data only). Every key below is checked on load: a missing required key, an
unknown key, a wrong type or a value outside the allowed range is a one-line error naming the file
and the field (`plan-qkd` exits with status 2). Further rules:

- media: one table per medium used, named one of {", ".join(MEDIA)}; `cost` is an inline table with
  exactly the keys {", ".join(COST_KEYS)}.
- nodes: unique names; links join two different known nodes, at most one link per pair, over a
  medium that has a `[media.<m>]` table; requests join two different known nodes.
- scenarios: unique names; `weather` one of {", ".join(WEATHERS)}; `demand_bps` keys must be request
  names; the probabilities sum to 1 within {PROBABILITY_TOLERANCE:g}.
- prices: a wavelength's reservation price (from the component counts and Table I, `twin/qkd/pricing.py`)
  times max(1, `ondemand_factor`, `utilisation_factor`) may not exceed {MAX_WAVELENGTH_PRICE:g} cost
  units; the error names the link.
- the file is read by the project's guarded reader (`common/input_files.py`): a regular file of
  at most {MAX_BYTES["QKD network"] // 2**20} MiB, UTF-8, TOML nested at most {MAX_TOML_DEPTH} levels.

Modelling, in one paragraph: a link of length e over a medium with span Θ has n = ceil(e/Θ)
segments; a request with demand k needs P = ceil(k/K) parallel QKD links (3 wavelengths each) on
every link of its route, K being the link's `key_rate_bps` or else its medium's; key management
takes 1 wavelength per request and route link, or P of them with `km_per_qkd_link = true`
(Kaewpuang eq. 35). A cloudy scenario takes every satellite and UAV (free-space optical) link down;
a request that no path of links still up can serve in a scenario is left unserved there (the plan
reports it), while a request that no path can serve even with every link up makes the instance
infeasible.

This page is generated from `twin/qkd/instance.py` by `python -m twin.qkd.docs`; a test keeps the
two in sync.

| table | key | type | unit | default | allowed | meaning |
|---|---|---|---|---|---|---|
"""

TYPES = {"number": "number", "integer": "integer", "bool": "boolean", "name": "string", "choice": "string",
         "cost": "table of numbers", "rates": "table of numbers"}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _row(f: Field) -> str:
    default = "required" if f.required else (f.default if f.default not in ("medium",) else "the medium's")
    if isinstance(default, bool):
        default = str(default).lower()
    table = f"[{f.table}]" if not f.table.endswith("[]") else f"[[{f.table[:-2]}]]"
    return (f"| `{table}` | `{f.key}` | {TYPES[f.kind]} | {_cell(f.unit)} | {_cell(default)} | {_cell(f.allowed())} "
            f"| {_cell(f.doc)} |")


def render() -> str:
    """The whole Markdown page."""
    return HEADER + "\n".join(_row(f) for f in FIELDS) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
