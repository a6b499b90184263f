"""Statistical SLNR beams with max-min-optimised powers: the cheap statistical baseline (``slnr-stat``).

Each user k is beamed by its transmitter t along the principal generalised eigenvector of

    maximise  uᴴ·R_tk·u / uᴴ·(Σ_{r≠k} R_tr + I·K_t/P_t)·u,

the signal-to-leakage-plus-noise ratio (Sadek, Tarighat and Sayed, "A leakage-based precoding
scheme for downlink multi-user MIMO channels", IEEE Trans. Wireless Commun. 6(5), 2007) with the
second moments R = m·mᴴ + C of the twin's forecast in place of known channels, every Eve counted
as one more leakage target besides the other users, and the transmitter's power P_t split equally
over its K_t users in the noise term. The users' powers are then optimised for max-min secrecy
(Yin et al. eq. 20) on the mean gains uᴴ·R·u, as for the MRT/ZF baselines. With exact channels (R = h·hᴴ) it is the
classic SLNR beamformer.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import linalg

from twin.precoding.base import PrecodingProblem, PrecodingResult
from twin.precoding.baselines import served_mask, with_optimised_powers


def slnr_direction(signal: np.ndarray, leakage: np.ndarray, limit_w: float) -> np.ndarray:
    """Unit beam maximising uᴴ·signal·u / uᴴ·(leakage + I/limit_w)·u (zero if there is no power or signal)."""
    n = signal.shape[0]
    if limit_w <= 0 or not np.any(signal):
        return np.zeros(n, complex)
    b = (leakage + leakage.conj().T) / 2 + np.eye(n) / limit_w
    a = (signal + signal.conj().T) / 2
    _, vecs = linalg.eigh(a, b)
    u = vecs[:, -1]
    return u / np.linalg.norm(u)


class StatisticalSlnr:
    """SLNR beams on the forecast's second moments, powers optimised for max-min secrecy."""

    name = "slnr-stat"

    def solve(self, problem: PrecodingProblem) -> PrecodingResult:
        """Generalised-eigenvector beams, then max-min powers on their mean gains."""
        start = time.perf_counter()
        top = problem.topology
        directions = []
        gains = np.empty((len(top.users), len(top.receivers)))
        for k, (user, served) in enumerate(zip(top.users, served_mask(problem))):
            tx = top.serving[user]
            moments = {r: problem.moment(tx, r) for r in top.receivers}
            leakage = sum(moments[r] for r in top.receivers if r != user)
            share_w = problem.power_limits_w[tx] / len(top.users_of(tx))
            u = slnr_direction(moments[user], leakage, share_w if served else 0.0)
            directions.append(u)
            gains[k] = [float(np.real(np.vdot(u, moments[r] @ u))) for r in top.receivers]
        return with_optimised_powers(self.name, problem, directions, gains, start)
