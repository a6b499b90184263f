"""A constellation seen as one serving satellite per tick: its geometry, the handovers, the others' positions.

:func:`serving_satellites` propagates the whole constellation once over the run
(``Constellation.geometry``, float32), picks the serving satellite per tick with
``physical.handover.serving_timeline`` and builds the serving satellite's
:class:`physical.orbit.SiteGeometry` in float64 (the few satellites that ever serve are propagated
again in float64), so the World and the twin's ephemeris use it exactly as they use a single
satellite's geometry. At a tick with no satellite at or above the minimum elevation the geometry is
that of the highest satellite, which is below the minimum, so the satellite user is unserved as
with one satellite. With ``keep_others`` the other satellites' positions and elevations stay in
memory (float32) for the interference of non-serving satellites. SI inside (m, s, rad).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from physical.constellation import Constellation, geocentre_enu_m
from physical.handover import NONE, ServiceChange, ServingRule, serving_timeline
from physical.orbit import GroundSite, SiteGeometry


@dataclass(frozen=True)
class ServingSatellites:
    """The serving satellite of every tick of a run and what the World needs of the others.

    Args:
        names: every satellite's name (rows of the constellation).
        rule: the serving rule's name (``highest_elevation`` or ``longest_visibility``).
        serving: row of the serving satellite per tick, ``handover.NONE`` (−1) when none; int32.
        geometry_row: row whose geometry :attr:`geometry` holds per tick (the serving one, else the highest).
        geometry: that satellite's geometry per tick (float64).
        changes: changes of serving satellite inside the run (handovers, acquisitions, losses), in time order.
        others_enu_m: every satellite's ENU position (m), shape (n_sat, n_ticks, 3), float32; None unless kept.
        others_elevation_rad: every satellite's elevation (rad), shape (n_sat, n_ticks), float32; None unless kept.
        geocentre_m: the Earth's centre in the site's ENU frame (m).
    """

    names: tuple[str, ...]
    rule: str
    serving: np.ndarray
    geometry_row: np.ndarray
    geometry: SiteGeometry
    changes: tuple[ServiceChange, ...]
    others_enu_m: np.ndarray | None
    others_elevation_rad: np.ndarray | None
    geocentre_m: np.ndarray

    def serving_name(self, tick: int) -> str | None:
        """Name of the satellite serving at ``tick`` (None when none is above the minimum elevation)."""
        row = int(self.serving[tick])
        return None if row == NONE else self.names[row]

    def changes_at(self, tick: int) -> tuple[ServiceChange, ...]:
        """The changes of serving satellite that take effect at ``tick``."""
        return tuple(c for c in self.changes if c.tick == tick)

    def serving_names(self) -> tuple[str | None, ...]:
        """The serving satellite's name at every tick."""
        return tuple(None if row == NONE else self.names[row] for row in self.serving.tolist())

    def interferers_m(self, tick: int) -> np.ndarray:
        """ENU positions (m), shape (n, 3), of the satellites above the horizon at ``tick`` other than the serving one."""
        if self.others_enu_m is None or self.others_elevation_rad is None:
            raise ValueError("the other satellites were not kept (keep_others=False)")
        above = self.others_elevation_rad[:, tick] > 0.0
        row = int(self.serving[tick])
        if row != NONE:
            above[row] = False
        return self.others_enu_m[above, tick].astype(float)


def serving_satellites(constellation: Constellation, site: GroundSite, start_utc: datetime, t_s: np.ndarray, rule: ServingRule,
                       lookahead_s: float = 0.0, keep_others: bool = False) -> ServingSatellites:
    """Propagate ``constellation`` over ticks ``t_s`` (s after ``start_utc``) and choose the serving satellite per tick.

    Args:
        constellation: the satellites.
        site: the ground site the users are at.
        start_utc: the run's start.
        t_s: the run's ticks (s), evenly spaced.
        rule: the serving rule (``physical.handover.ServingRule``).
        lookahead_s: extra time (s) propagated beyond the last tick so ``longest_visibility`` does not
            see set times cut off at the run's end; the timeline is then cut to ``t_s``.
        keep_others: keep every satellite's positions and elevations over the run (float32) for the
            interference of non-serving satellites.
    """
    t_s = np.asarray(t_s, dtype=float)
    n = t_s.size
    step = float(t_s[1] - t_s[0]) if n > 1 else 1.0
    extra = int(np.ceil(lookahead_s / step - 1e-9)) if lookahead_s > 0 else 0
    t_all = np.concatenate([t_s, t_s[-1] + step * np.arange(1, extra + 1)]) if extra else t_s
    whole = constellation.geometry(site, start_utc, t_all)
    timeline = serving_timeline(whole.elevation_rad, t_all, whole.names, rule)
    serving = timeline.serving[:n].copy()
    ticks = np.arange(n)
    highest = np.argmax(whole.elevation_rad[:, :n], axis=0)
    geometry_row = np.where(serving == NONE, highest, serving).astype(np.int32)
    rows = np.unique(geometry_row)
    exact = constellation.subset(rows.tolist()).geometry(site, start_utc, t_s, dtype=np.float64)
    index = np.searchsorted(rows, geometry_row)
    geometry = SiteGeometry(
        t_s=t_s,
        elevation_rad=exact.elevation_rad[index, ticks],
        azimuth_rad=exact.azimuth_rad[index, ticks],
        range_m=exact.range_m[index, ticks],
        sat_sunlit=exact.sat_sunlit[index, ticks],
        sun_elevation_rad=exact.sun_elevation_rad,
    )
    changes = tuple(c for c in timeline.changes if c.tick < n)
    others_enu = np.ascontiguousarray(whole.enu_m[:, :n]) if keep_others else None
    others_elevation = np.ascontiguousarray(whole.elevation_rad[:, :n]) if keep_others else None
    return ServingSatellites(whole.names, rule.rule, serving, geometry_row, geometry, changes, others_enu, others_elevation,
                             geocentre_enu_m(site))
