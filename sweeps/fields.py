"""Dotted field names of a parsed TOML table (a scenario or a QKD instance), as sweep parameters name them."""

from __future__ import annotations

import re

#: one segment of a dotted name: a key, optionally an array index (``links[3]``)
SEGMENT = re.compile(r"^(?P<key>[A-Za-z0-9_-]+)(?:\[(?P<index>[0-9]+)\])?$")


def set_field(table: dict, dotted: str, value: object) -> None:
    """Set ``dotted`` (``uav.power_dbw``, ``planning.ondemand_factor``, ``links[3].length_km``) in a parsed
    table; missing tables are created, array entries must exist. Raises ValueError saying what does not fit."""
    keys = dotted.split(".")
    node: object = table
    for depth, part in enumerate(keys):
        match = SEGMENT.match(part)
        if not match:
            raise ValueError(f"{part!r} is not a key or key[index]; write e.g. planning.ondemand_factor or links[0].length_km")
        key, index = match["key"], match["index"]
        here, parent = ".".join(keys[:depth] + [key]), ".".join(keys[:depth])
        if isinstance(node, list):
            raise ValueError(f"{parent} is an array of tables; name one entry, e.g. {parent}[0].{key}")
        if not isinstance(node, dict):
            raise ValueError(f"{parent} is a single value; it has no field {key!r}")
        last = depth == len(keys) - 1
        if index is None:
            if last:
                node[key] = value
                return
            node = node.setdefault(key, {})
            continue
        array = node.get(key)
        if not isinstance(array, list):
            raise ValueError(f"{here} is not an array of the instance")
        if int(index) >= len(array):
            raise ValueError(f"{here} has {len(array)} entries (indices 0 to {len(array) - 1}), not {index}")
        if last:
            array[int(index)] = value
            return
        node = array[int(index)]
