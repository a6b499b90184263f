"""A small, strict TOML-table → frozen-dataclass validator.

Each dataclass field declares its constraints with :func:`spec` (range, choices, unit, doc). The
loader rejects unknown keys, wrong types, non-finite numbers and out-of-range values with an
:class:`InputError` naming the file, the dotted field and what is allowed. Supported field types:
``float``, ``int``, ``bool``, ``str``, ``Vec3``, ``tuple[Vec3, ...]``, nested dataclasses and
``dict[str, X]`` of any of these.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any

from common.errors import InputError

Vec3 = tuple[float, float, float]


def spec(default: Any = dataclasses.MISSING, *, min: float | None = None, max: float | None = None,
         min_exclusive: bool = False, choices: tuple[str, ...] | None = None, keys: tuple[str, ...] | None = None,
         unit: str = "", doc: str = "") -> Any:
    """A dataclass field with validation metadata (``keys`` restricts the keys of a dict field)."""
    metadata = {"min": min, "max": max, "min_exclusive": min_exclusive, "choices": choices, "keys": keys, "unit": unit, "doc": doc}
    if isinstance(default, (list, dict)):
        raise TypeError("use immutable defaults")
    return dataclasses.field(default=default, metadata=metadata)


def _bound(x: float) -> str:
    """A range bound as text: integers exactly (2**63 - 1 must not print as 9.22337e+18), floats with %g."""
    return str(x) if isinstance(x, int) and not isinstance(x, bool) else f"{x:g}"


def _type_name(tp: Any) -> str:
    return {float: "a number", int: "an integer", bool: "true or false", str: "a string"}.get(tp, str(tp))


class _Loader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> typing.NoReturn:
        raise InputError(message, source=self.source, field=where)

    def number(self, value: Any, tp: type, where: str, meta: dict) -> float | int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (tp is int and not isinstance(value, int)):
            self.fail(where, f"must be {_type_name(tp)}, got {type(value).__name__} {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(where, f"must be finite, got {value!r}")
        low, high = meta.get("min"), meta.get("max")
        unit = f" {meta['unit']}" if meta.get("unit") else ""
        too_low = low is not None and (value <= low if meta.get("min_exclusive") else value < low)
        too_high = high is not None and value > high
        if too_low or too_high:
            left = "(" if meta.get("min_exclusive") else "["
            lo = "-inf" if low is None else _bound(low)
            hi = "inf" if high is None else _bound(high)
            self.fail(where, f"{value!r}{unit} is out of range; allowed {left}{lo}, {hi}]{unit}")
        return float(value) if tp is float else value

    def value(self, value: Any, tp: Any, where: str, meta: dict) -> Any:
        origin = typing.get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(options) != 1:
                raise TypeError(f"unsupported union {tp!r} at {where}")
            return self.value(value, options[0], where, meta)
        if tp in (float, int):
            return self.number(value, tp, where, meta)
        if tp is bool:
            if not isinstance(value, bool):
                self.fail(where, f"must be true or false, got {value!r}")
            return value
        if tp is str:
            if not isinstance(value, str):
                self.fail(where, f"must be a string, got {type(value).__name__} {value!r}")
            choices = meta.get("choices")
            if choices and value not in choices:
                self.fail(where, f"{value!r} is not allowed; choose one of {', '.join(map(repr, choices))}")
            return value
        if dataclasses.is_dataclass(tp):
            return self.table(tp, value, where)
        if origin is tuple:
            args = typing.get_args(tp)
            if not isinstance(value, list):
                self.fail(where, f"must be an array, got {type(value).__name__}")
            if len(args) == 2 and args[1] is Ellipsis:
                if not value:
                    self.fail(where, "must not be empty")
                return tuple(self.value(v, args[0], f"{where}[{i}]", meta) for i, v in enumerate(value))
            if len(value) != len(args):
                self.fail(where, f"must have {len(args)} elements, got {len(value)}")
            return tuple(self.value(v, a, f"{where}[{i}]", meta) for i, (v, a) in enumerate(zip(value, args)))
        if origin is dict:
            _, value_tp = typing.get_args(tp)
            if not isinstance(value, dict):
                self.fail(where, f"must be a table, got {type(value).__name__}")
            keys = meta.get("keys")
            if keys:
                unknown = sorted(set(value) - set(keys))
                if unknown:
                    self.fail(f"{where}.{unknown[0]}", f"unknown key; allowed keys: {', '.join(keys)}")
                missing = [k for k in keys if k not in value]
                if missing:
                    self.fail(f"{where}.{missing[0]}", "missing required key")
            inner_meta = {k: v for k, v in meta.items() if k != "keys"}
            return {k: self.value(v, value_tp, f"{where}.{k}", inner_meta) for k, v in value.items()}
        raise TypeError(f"unsupported schema type {tp!r} at {where}")

    def table(self, cls: type, table: Any, where: str) -> Any:
        if not isinstance(table, dict):
            self.fail(where or "<top>", f"must be a table, got {type(table).__name__}")
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
        prefix = f"{where}." if where else ""
        unknown = sorted(set(table) - set(fields))
        if unknown:
            self.fail(f"{prefix}{unknown[0]}", f"unknown key; allowed keys here: {', '.join(fields)}")
        kwargs = {}
        for name, f in fields.items():
            path = f"{prefix}{name}"
            if name not in table:
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    self.fail(path, "missing required field")
                continue
            kwargs[name] = self.value(table[name], hints[name], path, dict(f.metadata))
        try:
            return cls(**kwargs)
        except ValueError as exc:  # cross-field checks in __post_init__
            self.fail(where or "<top>", str(exc))


def load_table(cls: type, table: dict, source: str, where: str = "") -> Any:
    """Validate ``table`` (parsed TOML) into dataclass ``cls``; errors name ``source`` and the (``where``-prefixed) field."""
    return _Loader(source).table(cls, table, where)


def _unwrap_optional(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return next(a for a in typing.get_args(tp) if a is not type(None))
    return tp


def field_path_error(cls: type, dotted: str) -> tuple[str, str] | None:
    """Why ``dotted`` does not name one settable field of dataclass ``cls`` — (where, message) — or None if it does.

    A settable field is a value (number, string, bool, vector, list) or a table-valued field such as
    ``weather.mean_duration_s``, or one key inside such a table (``qkd.demand.mean_bps.bj-tj``);
    a section (``run``, ``links.intra``) is not: it has fields of its own.
    """
    parts = dotted.split(".")
    if not all(parts):
        return dotted, "empty key in the dotted name; write it as section.field, e.g. run.duration_s"
    tp: Any = cls
    meta: dict = {}
    for depth, part in enumerate(parts):
        here = ".".join(parts[:depth + 1])
        parent = ".".join(parts[:depth]) or "<top>"
        if dataclasses.is_dataclass(tp):
            fields = {f.name: f for f in dataclasses.fields(tp) if f.init}
            if part not in fields:
                return here, f"unknown key; allowed keys here: {', '.join(fields)}"
            meta = dict(fields[part].metadata)
            tp = _unwrap_optional(typing.get_type_hints(tp)[part])
        elif typing.get_origin(tp) is dict:
            keys = meta.get("keys")
            if keys and part not in keys:
                return here, f"unknown key; allowed keys: {', '.join(keys)}"
            tp = _unwrap_optional(typing.get_args(tp)[1])
            meta = {}
        else:
            return here, f"{parent} is a single value; it has no field {part!r}"
    if dataclasses.is_dataclass(tp):
        fields = [f.name for f in dataclasses.fields(tp) if f.init]
        return dotted, f"names the whole table [{dotted}]; name one of its fields: {', '.join(f'{dotted}.{f}' for f in fields)}"
    return None


def describe_fields(cls: type, prefix: str = "") -> list[dict[str, Any]]:
    """Flat list of every field (dotted name, type, unit, default, range, doc) for documentation."""
    rows = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        tp = hints[f.name]
        if typing.get_origin(tp) in (typing.Union, types.UnionType):
            tp = next(a for a in typing.get_args(tp) if a is not type(None))
        name = f"{prefix}{f.name}"
        meta = dict(f.metadata)
        if dataclasses.is_dataclass(tp):
            rows.extend(describe_fields(tp, name + "."))
            continue
        value_tp = typing.get_args(tp)[1] if typing.get_origin(tp) is dict else None
        if value_tp is not None and dataclasses.is_dataclass(value_tp):
            keys = f"{{{','.join(meta['keys'])}}}" if meta.get("keys") else "<name>"
            rows.extend(describe_fields(value_tp, f"{name}.{keys}."))
            continue
        rows.append({
            "field": name,
            "type": _describe_type(tp, meta),
            "unit": meta.get("unit", ""),
            "default": "required" if f.default is dataclasses.MISSING else f.default,
            "allowed": _describe_range(meta),
            "doc": meta.get("doc", ""),
        })
    return rows


def _describe_type(tp: Any, meta: dict) -> str:
    if tp is Vec3:
        return "[x, y, z]"
    origin = typing.get_origin(tp)
    if origin is tuple:
        return "list of [x, y, z]"
    if origin is dict:
        keys = meta.get("keys")
        inner = _describe_type(typing.get_args(tp)[1], {})
        return f"table {{{', '.join(keys)}}} of {inner}" if keys else f"table of {inner}"
    return {float: "float", int: "int", bool: "bool", str: "string"}.get(tp, str(tp))


def _describe_range(meta: dict) -> str:
    if meta.get("choices"):
        return " | ".join(meta["choices"])
    low, high = meta.get("min"), meta.get("max")
    if low is None and high is None:
        return ""
    left = "(" if meta.get("min_exclusive") else "["
    return f"{left}{'-inf' if low is None else _bound(low)}, {'inf' if high is None else _bound(high)}]"
