"""Serving satellite per tick and the handovers between satellites (pure functions on geometry arrays).

A ground user is served by at most one satellite per tick, chosen among the satellites at or above
the minimum elevation by a declared rule:

- ``highest_elevation``: the satellite highest in the sky (shortest path, least rain fade);
- ``longest_visibility``: the satellite whose current visibility lasts longest, i.e. whose set
  time (the instant its elevation falls below the minimum) is latest — the "maximum service time"
  criterion that keeps the number of handovers low.

Hysteresis (optional, default off): the serving satellite stays while it is visible unless the best
other satellite beats it by more than the margin (``hysteresis_rad`` in elevation for
``highest_elevation``, ``hysteresis_s`` in set time for ``longest_visibility``). Without it two
satellites at nearly equal elevation near a crossing can only swap once at the sampled crossing
(the curves cross once), so it is not needed for correctness; it suppresses handovers for small
gains, and a very large ``hysteresis_s`` turns ``longest_visibility`` into "stay until the
satellite sets, then take the one that stays longest". Ties keep the serving satellite; among new
candidates the lowest row (first name) wins, so the result is deterministic.

Set times are found at sub-tick resolution by linear interpolation of the elevation between the
last tick at or above the minimum and the first tick below it. A satellite still visible at the
last tick gets the last tick's time as its set time (the window censors it): to rank satellites
near the end of a run correctly, compute the geometry over the run plus the longest pass and keep
the timeline's first ticks. All angles in rad, times in s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Sequence

import numpy as np

from common.errors import InputError

RULES: Final = ("highest_elevation", "longest_visibility")  #: serving rules a scenario may declare
NONE: Final = -1  #: ``ServingTimeline.serving`` value of a tick with no satellite above the minimum elevation


@dataclass(frozen=True)
class ServingRule:
    """How the serving satellite is chosen.

    Args:
        rule: one of :data:`RULES`.
        min_elevation_rad: satellites below this elevation cannot serve (rad, [0, π/2)).
        hysteresis_rad: ``highest_elevation`` only: margin another satellite must beat the serving one by (rad, ≥ 0).
        hysteresis_s: ``longest_visibility`` only: margin in set time (s, ≥ 0).
    """

    rule: str
    min_elevation_rad: float
    hysteresis_rad: float = 0.0
    hysteresis_s: float = 0.0

    def __post_init__(self) -> None:
        source = "serving rule"
        if self.rule not in RULES:
            raise InputError(f"{self.rule!r} is not one of {', '.join(RULES)}", source=source, field="rule")
        if not 0.0 <= self.min_elevation_rad < math.pi / 2:
            raise InputError(f"{self.min_elevation_rad:g} rad is out of range; allowed [0, π/2) rad", source=source, field="min_elevation_rad")
        for field in ("hysteresis_rad", "hysteresis_s"):
            value = getattr(self, field)
            if not (math.isfinite(value) or value == math.inf) or value < 0.0:
                raise InputError(f"{value:g} is out of range; allowed ≥ 0", source=source, field=field)
        unused = "hysteresis_s" if self.rule == "highest_elevation" else "hysteresis_rad"
        if getattr(self, unused) != 0.0:
            raise InputError(f"does not apply to the {self.rule} rule (leave it 0)", source=source, field=unused)

    @property
    def hysteresis(self) -> float:
        """The margin of this rule, in its metric's unit (rad or s)."""
        return self.hysteresis_rad if self.rule == "highest_elevation" else self.hysteresis_s


@dataclass(frozen=True)
class ServiceChange:
    """A change of serving satellite at tick ``tick`` (time ``t_s``, s): the first tick ``new`` serves.

    ``old``/``new`` are satellite names or None (no service); the elevations (rad) are both taken at
    ``tick`` (NaN for None). ``kind`` is ``handover`` (satellite → satellite), ``acquired``
    (none → satellite) or ``lost`` (satellite → none).
    """

    tick: int
    t_s: float
    old: str | None
    new: str | None
    old_elevation_rad: float
    new_elevation_rad: float

    @property
    def kind(self) -> str:
        if self.old is None:
            return "acquired"
        return "lost" if self.new is None else "handover"


@dataclass(frozen=True)
class ServingTimeline:
    """The serving satellite at every tick.

    Args:
        names: satellite names (rows of the geometry).
        t_s: tick times (s), shape (n_ticks,).
        serving: row of the serving satellite per tick, :data:`NONE` (−1) when none is visible; int32.
        serving_elevation_rad: its elevation per tick (rad; NaN when none).
        changes: every change of serving satellite, in time order (handovers, acquisitions, losses).
    """

    names: tuple[str, ...]
    t_s: np.ndarray
    serving: np.ndarray
    serving_elevation_rad: np.ndarray
    changes: tuple[ServiceChange, ...]

    @property
    def handovers(self) -> tuple[ServiceChange, ...]:
        """The satellite-to-satellite changes only."""
        return tuple(c for c in self.changes if c.kind == "handover")

    def serving_name(self, tick: int) -> str | None:
        """Name of the satellite serving at ``tick`` (None if none)."""
        row = int(self.serving[tick])
        return None if row == NONE else self.names[row]


def set_times_s(elevation_rad: np.ndarray, t_s: np.ndarray, min_elevation_rad: float) -> np.ndarray:
    """Set time (s) of each satellite's current visibility at each tick, shape (n_sat, n_ticks); NaN where not visible.

    Visible means elevation ≥ ``min_elevation_rad``. The set time is the linearly interpolated
    instant the elevation crosses the minimum after the last visible tick of the current run of
    visible ticks, or ``t_s[-1]`` if the satellite is still visible at the last tick (censored).
    """
    elevation = np.asarray(elevation_rad, dtype=float)
    t_s = np.asarray(t_s, dtype=float)
    n_sat, n_t = elevation.shape
    visible = elevation >= min_elevation_rad
    ticks = np.arange(n_t)
    # first invisible tick at or after each tick (n_t if none)
    next_invisible = np.minimum.accumulate(np.where(visible, n_t, ticks)[:, ::-1], axis=1)[:, ::-1]
    # interpolated crossing time at each tick j that follows a visible tick j-1 (column n_t: censored end)
    crossing = np.full((n_sat, n_t + 1), t_s[-1])
    before, after = elevation[:, :-1], elevation[:, 1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.clip((before - min_elevation_rad) / (before - after), 0.0, 1.0)
    crossing[:, 1:n_t] = t_s[:-1] + fraction * np.diff(t_s)
    out = np.take_along_axis(crossing, next_invisible, axis=1)
    out[~visible] = np.nan
    return out


def serving_timeline(elevation_rad: np.ndarray, t_s: np.ndarray, names: Sequence[str], rule: ServingRule) -> ServingTimeline:
    """The serving satellite per tick and every change of it, under ``rule``.

    Args:
        elevation_rad: satellite elevations seen by the user (rad), shape (n_sat, n_ticks)
            (e.g. ``ConstellationGeometry.elevation_rad``).
        t_s: tick times (s), shape (n_ticks,).
        names: satellite names, one per row.
        rule: the declared :class:`ServingRule`.
    """
    elevation = np.asarray(elevation_rad, dtype=float)
    t_s = np.asarray(t_s, dtype=float)
    names = tuple(names)
    if elevation.ndim != 2 or elevation.shape != (len(names), t_s.size):
        raise ValueError(f"elevation_rad must have shape (n_sat, n_ticks) = ({len(names)}, {t_s.size}), found {elevation.shape}")
    visible = elevation >= rule.min_elevation_rad
    metric = elevation if rule.rule == "highest_elevation" else set_times_s(elevation, t_s, rule.min_elevation_rad)
    metric = np.where(visible, metric, -np.inf)
    best = np.argmax(metric, axis=0)                     # lowest row among equals
    best_value = metric[best, np.arange(t_s.size)]
    margin = rule.hysteresis

    serving = np.full(t_s.size, NONE, dtype=np.int32)
    changes: list[ServiceChange] = []
    current = NONE
    for k in range(t_s.size):
        if best_value[k] == -np.inf:
            chosen = NONE
        elif current != NONE and visible[current, k] and not best_value[k] > metric[current, k] + margin:
            chosen = current
        else:
            chosen = int(best[k])
        if chosen != current:
            changes.append(ServiceChange(
                k, float(t_s[k]),
                None if current == NONE else names[current], None if chosen == NONE else names[chosen],
                math.nan if current == NONE else float(elevation[current, k]),
                math.nan if chosen == NONE else float(elevation[chosen, k]),
            ))
            current = chosen
        serving[k] = current
    serving_elevation = np.where(serving == NONE, np.nan, elevation[np.maximum(serving, 0), np.arange(t_s.size)])
    return ServingTimeline(names, t_s, serving, serving_elevation, tuple(changes))
