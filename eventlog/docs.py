"""``docs/events.md``, generated from the kinds and columns declared in :mod:`eventlog.kinds`."""

from __future__ import annotations

from eventlog.kinds import COLUMNS, KINDS, PLACEHOLDERS, unit_of


def render() -> str:
    """``docs/events.md``: every kind, what its row means, and its columns with their units."""
    lines = ["# Event reference", "",
             "Generated from `eventlog/kinds.py` (`python -m eventlog.docs > docs/events.md`; a test keeps it current).",
             "Every row of `events.jsonl` starts with `t_s` (simulated time, s), `seq` (global counter), `source`",
             "(who logged it) and `kind`; the columns below follow. A column may be absent or null where it does not",
             "apply (e.g. `planned_*` before the first decision). Arrays are in `arrays.jsonl`, referenced by `*_array_id`.",
             "A column with a placeholder is one column per entity of the run: " + "; ".join(
                 f"`{p}` {meaning}" for p, meaning in PLACEHOLDERS.items()) + " (e.g. `achieved_su_bps_hz`, `gain_e_est_db`).",
             ""]
    for kind, meaning in KINDS.items():
        lines += [f"## `{kind}`", "", meaning[0].upper() + meaning[1:] + ".", "", "| column | unit |", "|---|---|"]
        lines += [f"| `{column}` | {unit_of(column) or '—'} |" for column in COLUMNS[kind]]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
