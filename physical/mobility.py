"""Positions of the UAV, the users and Eve in the site's local east-north-up (ENU) frame (m)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LinearMotion:
    """A point moving at constant velocity: p(t) = start + velocity·t.

    Args:
        start_m: ENU position at t = 0 (m), shape (3,).
        velocity_mps: ENU velocity (m/s), shape (3,); zero for a static node.
    """

    start_m: tuple[float, float, float]
    velocity_mps: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def position_m(self, t_s: float) -> np.ndarray:
        """ENU position at time ``t_s`` (s) after the run start (m)."""
        return np.asarray(self.start_m, dtype=float) + np.asarray(self.velocity_mps, dtype=float) * t_s

    def positions_m(self, t_s: np.ndarray) -> np.ndarray:
        """ENU positions (m), shape (len(t_s), 3), at the times ``t_s`` (s) — :meth:`position_m` vectorised."""
        t = np.asarray(t_s, dtype=float).reshape(-1, 1)
        return np.asarray(self.start_m, dtype=float) + np.asarray(self.velocity_mps, dtype=float) * t


class WaypointTrajectory:
    """A UAV flying straight legs between waypoints at constant ground speed.

    Args:
        waypoints_m: ENU waypoints (m), shape (K, 3), K ≥ 1; the z coordinate is the altitude above the site.
        speed_mps: speed along the path (m/s), > 0 unless there is a single waypoint.
        loop: after the last waypoint, fly back to the first and repeat; otherwise hover at the last.
    """

    def __init__(self, waypoints_m: np.ndarray, speed_mps: float, loop: bool = True) -> None:
        points = np.asarray(waypoints_m, dtype=float).reshape(-1, 3)
        if len(points) == 0:
            raise ValueError("a trajectory needs at least one waypoint")
        if len(points) > 1 and speed_mps <= 0:
            raise ValueError(f"speed_mps must be > 0 for a moving UAV, got {speed_mps}")
        if loop and len(points) > 1:
            points = np.vstack([points, points[:1]])
        self.points = points
        self.speed_mps = float(speed_mps)
        self.loop = loop
        legs = np.linalg.norm(np.diff(points, axis=0), axis=1)
        self._cumulative_m = np.concatenate([[0.0], np.cumsum(legs)])

    @property
    def path_length_m(self) -> float:
        """Length of one traversal of the path (m)."""
        return float(self._cumulative_m[-1])

    def position_m(self, t_s: float) -> np.ndarray:
        """ENU position (m) at time ``t_s`` (s) after the run start."""
        if self.path_length_m == 0.0:
            return self.points[0].copy()
        travelled = self.speed_mps * t_s
        travelled = travelled % self.path_length_m if self.loop else min(travelled, self.path_length_m)
        leg = int(np.searchsorted(self._cumulative_m, travelled, side="right") - 1)
        leg = min(leg, len(self.points) - 2)
        leg_length = self._cumulative_m[leg + 1] - self._cumulative_m[leg]
        fraction = 0.0 if leg_length == 0 else (travelled - self._cumulative_m[leg]) / leg_length
        return self.points[leg] + fraction * (self.points[leg + 1] - self.points[leg])

    def positions_m(self, t_s: np.ndarray) -> np.ndarray:
        """ENU positions (m), shape (len(t_s), 3), at the times ``t_s`` (s) — :meth:`position_m` vectorised."""
        t = np.asarray(t_s, dtype=float).reshape(-1)
        if self.path_length_m == 0.0:
            return np.repeat(self.points[:1], len(t), axis=0)
        travelled = self.speed_mps * t
        travelled = np.mod(travelled, self.path_length_m) if self.loop else np.minimum(travelled, self.path_length_m)
        leg = np.minimum(np.searchsorted(self._cumulative_m, travelled, side="right") - 1, len(self.points) - 2)
        leg_length = self._cumulative_m[leg + 1] - self._cumulative_m[leg]
        fraction = np.where(leg_length == 0, 0.0, (travelled - self._cumulative_m[leg]) / np.where(leg_length == 0, 1.0, leg_length))
        return self.points[leg] + fraction[:, None] * (self.points[leg + 1] - self.points[leg])

    def velocity_mps(self, t_s: float) -> np.ndarray:
        """ENU velocity (m/s) at time ``t_s`` (s): along the current leg at the set speed; zero when hovering."""
        if self.path_length_m == 0.0 or (not self.loop and self.speed_mps * t_s >= self.path_length_m):
            return np.zeros(3)
        travelled = (self.speed_mps * t_s) % self.path_length_m if self.loop else self.speed_mps * t_s
        leg = min(int(np.searchsorted(self._cumulative_m, travelled, side="right") - 1), len(self.points) - 2)
        direction = self.points[leg + 1] - self.points[leg]
        length = float(np.linalg.norm(direction))
        return np.zeros(3) if length == 0 else self.speed_mps * direction / length
