"""Maximum-ratio transmission (MRT): each transmitter beams along its own user's channel."""

from __future__ import annotations

import time

import numpy as np

from twin.precoding.base import STATUS_OK, PrecodingProblem, PrecodingResult, evaluate


def mrt_direction(channel: np.ndarray) -> np.ndarray:
    """Unit-norm MRT direction h/‖h‖ for a channel vector ``h`` (zero vector if ``h`` is zero)."""
    norm = np.linalg.norm(channel)
    return channel / norm if norm > 0 else np.zeros_like(channel)


class MrtFullPower:
    """MRT at full power: w = sqrt(P_S)·h_su/‖h_su‖, f = sqrt(P_U)·a_au/‖a_au‖, v = sqrt(P_B)·g_gu/‖g_gu‖."""

    name = "mrt-full"

    def solve(self, problem: PrecodingProblem) -> PrecodingResult:
        """Closed-form MRT decision; planned rates are evaluated on the design channels."""
        start = time.perf_counter()
        ch = problem.channels
        w = np.sqrt(problem.p_s_w) * mrt_direction(ch.h_su)
        f = np.sqrt(problem.p_u_w) * mrt_direction(ch.a_au)
        v = np.sqrt(problem.p_b_w) * mrt_direction(ch.g_gu)
        planned = evaluate(problem, w, f, v)
        return PrecodingResult(
            method=self.name, status=STATUS_OK, w=w, f=f, v=v, planned=planned,
            wall_s=time.perf_counter() - start,
        )
