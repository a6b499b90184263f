"""Numbers and words for printouts: significant digits, thousands separators, SI prefixes, plurals, UTC times."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Mapping

#: SI prefixes for quantities printed with a unit (k, M, G, T)
_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def sig(value: Any, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits without float noise: 20960.47 → ``20,960``, 0.054937 → ``0.05494``.

    Integers print in full with thousands separators; floats from 1e-3 to 1e15 in positional notation
    (trailing zeros dropped), others in scientific notation; None and NaN print as ``—``.
    """
    if _missing(value):
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if not 1e-3 <= magnitude < 1e15:
        return f"{value:.{digits - 1}e}"
    places = digits - 1 - math.floor(math.log10(magnitude))  # decimal places of the last significant digit (< 0: tens, …)
    rounded = round(value, places)
    text = f"{rounded:,.{max(places, 0)}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def with_unit(value: Any, unit: str, digits: int = 4) -> str:
    """``value`` with an SI prefix on ``unit``: 28_610_000 bit → ``28.61 Mbit``; below 1000 no prefix."""
    if _missing(value):
        return "—"
    for factor, prefix in _PREFIXES:
        if abs(value) >= factor:
            return f"{sig(value / factor, digits)} {prefix}{unit}"
    return f"{sig(float(value), digits)} {unit}"


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    """``1 plan``, ``3 plans`` (``plural_word`` for irregular plurals)."""
    return f"{count:,} {word if count == 1 else (plural_word or word + 's')}"


def counts(mapping: Mapping[str, Any], *, unit: str | None = None, empty: str = "none") -> str:
    """``csi_drift 176, initial 1`` (values with :func:`sig`, or :func:`with_unit` given ``unit``); ``empty`` if none."""
    if not mapping:
        return empty
    return ", ".join(f"{key} {with_unit(value, unit) if unit else sig(value)}" for key, value in mapping.items())


def utc(value: Any) -> str:
    """One format for every UTC instant printed: ``2026-11-16 13:40:17 UTC`` (to the second)."""
    if _missing(value):
        return "—"
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
