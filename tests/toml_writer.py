"""A minimal TOML writer for the tests (the standard library only reads TOML)."""

from __future__ import annotations

import json
import math


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def dumps(table: dict, prefix: str = "") -> str:
    """TOML text of a nested dict: scalars and arrays as key = value, sub-dicts as [tables]."""
    scalars = [f"{json.dumps(k)} = {_value(v)}" for k, v in table.items() if not isinstance(v, dict)]
    out = ""
    if scalars:
        out += (f"[{prefix}]\n" if prefix else "") + "\n".join(scalars) + "\n"
    for k, v in table.items():
        if isinstance(v, dict):
            out += dumps(v, f"{prefix}.{json.dumps(k)}" if prefix else json.dumps(k))
    return out
