"""SINRs and secrecy rates of a multi-transmitter downlink with eavesdroppers (Yin et al., eq. 8–16).

Conventions. All channel vectors are complex, 1-D, and already divided by the square root of the
receiver noise power, so every receiver's noise power is 1 (shared/DESIGN.md "noise
normalisation"). A transmitter with precoder ``x`` produces received amplitude ``h^H x`` at a
receiver whose channel is ``h`` (``np.vdot(h, x)``).

General form (issue 13): user k's message leaves its serving transmitter t(k) with precoder x_k;
its power at receiver r is P_{k,r} = |H[t(k), r]^H x_k|². User k's SINR is
γ_k = P_{k,k} / (Σ_{j≠k} P_{j,k} + 1), Eve e's SINR for message k is
γ_{k,e} = P_{k,e} / (Σ_{j≠k} P_{j,e} + 1), and the secrecy rate is taken against the strongest
Eve: R_k = [log2(1+γ_k) − log2(1+max_e γ_{k,e})]⁺. Yin et al.'s system (satellite w → SU, UAV f →
AU, base station v → GU, one Eve) is the case :meth:`Topology.paper`; :func:`secrecy_rates` is
its named-argument form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from physical.channel_matrix import (  # noqa: F401  (the paper's names are re-exported from here)
    CHANNEL_NAMES,
    RECEIVERS,
    SERVED_USER,
    TRANSMITTER_PREFIX,
    USERS,
    ChannelMatrix,
    ChannelSet,
)


@dataclass(frozen=True)
class SecrecyRates:
    """Per-user SINRs (linear), the worst Eve's SINR for each message, and secrecy rates (bit/s/Hz).

    ``served`` names the users that can be served (their transmitter reaches them); the max-min
    objective runs over those only, so a user out of coverage does not switch everybody off.
    ``worst_eve`` names, per user, the Eve with the highest SINR for its message.
    """

    sinr: dict[str, float]
    eve_sinr: dict[str, float]
    rates: dict[str, float]
    served: tuple[str, ...] = USERS
    worst_eve: dict[str, str] = field(default_factory=dict)

    @property
    def min_rate(self) -> float:
        """min over the served users of R_k (bit/s/Hz), the objective of problem P1 (eq. 20); NaN if none."""
        served = [self.rates[u] for u in self.served]
        return min(served) if served else float("nan")


def received_powers(channels: ChannelMatrix, precoders: Mapping[str, np.ndarray]) -> np.ndarray:
    """P[r, k] = |H[t(k), r]^H x_k|², message k's power at receiver r (noise units, shape (R, K)).

    Receivers are the topology's users, then its Eves; messages are in user order.
    """
    top = channels.topology
    return np.array([[abs(np.vdot(channels[top.serving[u], r], precoders[u])) ** 2 for u in top.users]
                     for r in top.receivers])


def servable_users(channels: ChannelMatrix) -> tuple[str, ...]:
    """Users whose serving transmitter reaches them (a non-zero channel), in user order."""
    top = channels.topology
    return tuple(u for u in top.users if np.any(channels[top.serving[u], u] != 0))


def secrecy_rates_of(channels: ChannelMatrix, precoders: Mapping[str, np.ndarray],
                     served: tuple[str, ...] | None = None) -> SecrecyRates:
    """SINRs (Yin et al. eq. 8–13) and secrecy rates against the strongest Eve (eq. 14–16, issue 13).

    Args:
        channels: noise-normalised channels (dimensionless).
        precoders: user → precoder x_k of its serving transmitter (sqrt(W)/sqrt(noise) units: squared
            norms are transmit powers in W since noise is folded into ``channels``).
        served: the users the min rate runs over (default: :func:`servable_users` of ``channels``).
    """
    top = channels.topology
    p = received_powers(channels, precoders)
    eves = p[len(top.users):]
    sinr, eve, worst, rates = {}, {}, {}, {}
    for idx, user in enumerate(top.users):
        sinr[user] = float(p[idx][idx] / (p[idx].sum() - p[idx][idx] + 1.0))
        at_eves = [float(row[idx] / (row.sum() - row[idx] + 1.0)) for row in eves]
        strongest = int(np.argmax(at_eves))
        eve[user], worst[user] = at_eves[strongest], top.eves[strongest]
        rates[user] = max(0.0, float(np.log2(1.0 + sinr[user]) - np.log2(1.0 + eve[user])))
    return SecrecyRates(sinr=sinr, eve_sinr=eve, rates=rates, served=servable_users(channels) if served is None else served,
                        worst_eve=worst)


def secrecy_rates(ch: ChannelSet, w: np.ndarray, f: np.ndarray, v: np.ndarray,
                  served: tuple[str, ...] | None = None) -> SecrecyRates:
    """:func:`secrecy_rates_of` for the paper's system: satellite ``w`` → SU, UAV ``f`` → AU, base station ``v`` → GU.

    Args:
        ch: the 12 noise-normalised channels (dimensionless).
        w, f, v: satellite, UAV and base-station precoders (sqrt(W)/sqrt(noise) units).
        served: the users the min rate runs over (default: those their transmitter reaches).
    """
    return secrecy_rates_of(ChannelMatrix.from_channel_set(ch), dict(zip(USERS, (w, f, v))), served)
