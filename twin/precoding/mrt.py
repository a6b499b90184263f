"""Maximum-ratio transmission (MRT): each transmitter beams each of its users along that user's channel."""

from __future__ import annotations

import time

import numpy as np

from twin.precoding.base import STATUS_OK, PrecodingProblem, PrecodingResult, evaluate


def mrt_direction(channel: np.ndarray) -> np.ndarray:
    """Unit-norm MRT direction h/‖h‖ for a channel vector ``h`` (zero vector if ``h`` is zero)."""
    norm = np.linalg.norm(channel)
    return channel / norm if norm > 0 else np.zeros_like(channel)


class MrtFullPower:
    """MRT at full power: x_k = sqrt(P_t / K_t)·h_{t,k}/‖h_{t,k}‖, transmitter t's power split equally over its K_t users.

    In the paper's system: w = sqrt(P_S)·h_su/‖h_su‖, f = sqrt(P_U)·a_au/‖a_au‖, v = sqrt(P_B)·g_gu/‖g_gu‖.
    """

    name = "mrt-full"

    def solve(self, problem: PrecodingProblem) -> PrecodingResult:
        """Closed-form MRT decision; planned rates are evaluated on the design channels."""
        start = time.perf_counter()
        top = problem.topology
        precoders = {}
        for user in top.users:
            tx = top.serving[user]
            share_w = problem.power_limits_w[tx] / len(top.users_of(tx))
            precoders[user] = np.sqrt(share_w) * mrt_direction(problem.matrix[tx, user])
        return PrecodingResult(
            method=self.name, status=STATUS_OK, precoders=precoders, planned=evaluate(problem, precoders),
            wall_s=time.perf_counter() - start,
        )
