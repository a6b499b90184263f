"""SINRs and secrecy rates of the three-transmitter SAGIN downlink (Yin et al., eq. 8–16).

Conventions. All channel vectors are complex, 1-D, and already divided by the square root of the
receiver noise power, so every receiver's noise power is 1 (shared/DESIGN.md "noise
normalisation"). A transmitter with precoder ``x`` produces received amplitude ``h^H x`` at a
receiver whose channel is ``h`` (``np.vdot(h, x)``). The satellite serves SU with ``w``, the UAV
serves AU with ``f`` and the base station serves GU with ``v``; each user sees the other two
transmitters as interference, and so does the eavesdropper Eve for each message.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Mapping

import numpy as np

#: receivers in the order used throughout: satellite, aerial and ground users, then Eve
RECEIVERS: tuple[str, ...] = ("su", "au", "gu", "e")
#: transmitter channel-name prefixes: h = satellite, a = UAV, g = base station
TRANSMITTER_PREFIX: dict[str, str] = {"satellite": "h", "uav": "a", "bs": "g"}
#: the user each transmitter serves
SERVED_USER: dict[str, str] = {"satellite": "su", "uav": "au", "bs": "gu"}
USERS: tuple[str, ...] = ("su", "au", "gu")
CHANNEL_NAMES: tuple[str, ...] = tuple(p + "_" + r for p in "hag" for r in RECEIVERS)


@dataclass(frozen=True)
class ChannelSet:
    """The 12 noise-normalised channel vectors transmitter→receiver (dimensionless, shape (N_tx,)).

    ``h_*`` from the satellite (N_S antennas), ``a_*`` from the UAV (N_U), ``g_*`` from the base
    station (N_B), to SU, AU, GU and Eve (``*_e``).
    """

    h_su: np.ndarray
    h_au: np.ndarray
    h_gu: np.ndarray
    h_e: np.ndarray
    a_su: np.ndarray
    a_au: np.ndarray
    a_gu: np.ndarray
    a_e: np.ndarray
    g_su: np.ndarray
    g_au: np.ndarray
    g_gu: np.ndarray
    g_e: np.ndarray

    def __post_init__(self) -> None:
        for prefix in "hag":
            sizes = {getattr(self, f"{prefix}_{r}").shape for r in RECEIVERS}
            if len(sizes) != 1 or len(next(iter(sizes))) != 1:
                raise ValueError(f"channels {prefix}_*: expected four 1-D vectors of one length, got shapes {sorted(sizes)}")

    @classmethod
    def from_mapping(cls, arrays: Mapping[str, np.ndarray]) -> "ChannelSet":
        """Build from a mapping with the 12 keys ``h_su`` … ``g_e`` (extra keys are ignored)."""
        missing = [n for n in CHANNEL_NAMES if n not in arrays]
        if missing:
            raise KeyError(f"missing channel arrays: {', '.join(missing)}")
        return cls(**{n: np.asarray(arrays[n], dtype=complex).ravel() for n in CHANNEL_NAMES})

    def as_dict(self) -> dict[str, np.ndarray]:
        """The 12 vectors keyed by name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def with_eve(self, h_e: np.ndarray, a_e: np.ndarray, g_e: np.ndarray) -> "ChannelSet":
        """A copy with Eve's three channels replaced (e.g. by their estimates)."""
        return replace(self, h_e=np.asarray(h_e, complex), a_e=np.asarray(a_e, complex), g_e=np.asarray(g_e, complex))

    def antenna_counts(self) -> tuple[int, int, int]:
        """(N_S, N_U, N_B)."""
        return self.h_su.size, self.a_su.size, self.g_su.size


@dataclass(frozen=True)
class SecrecyRates:
    """Per-user SINRs (linear), Eve's SINR for each message, and secrecy rates (bit/s/Hz).

    ``served`` names the users that can be served (their transmitter reaches them); the max-min
    objective runs over those only, so a user out of coverage does not switch everybody off.
    """

    sinr: dict[str, float]
    eve_sinr: dict[str, float]
    rates: dict[str, float]
    served: tuple[str, ...] = USERS

    @property
    def min_rate(self) -> float:
        """min over the served users of R_k (bit/s/Hz), the objective of problem P1 (eq. 20); NaN if none."""
        served = [self.rates[u] for u in self.served]
        return min(served) if served else float("nan")


def received_powers(ch: ChannelSet, w: np.ndarray, f: np.ndarray, v: np.ndarray) -> dict[str, np.ndarray]:
    """|x^H p|² for each receiver from each transmitter: {receiver: [sat, uav, bs]} (noise units)."""
    out = {}
    for r in RECEIVERS:
        out[r] = np.array(
            [
                abs(np.vdot(getattr(ch, f"h_{r}"), w)) ** 2,
                abs(np.vdot(getattr(ch, f"a_{r}"), f)) ** 2,
                abs(np.vdot(getattr(ch, f"g_{r}"), v)) ** 2,
            ]
        )
    return out


def servable_users(ch: ChannelSet) -> tuple[str, ...]:
    """Users whose serving transmitter reaches them (a non-zero channel), in :data:`USERS` order."""
    return tuple(u for tx, u in SERVED_USER.items() if np.any(getattr(ch, f"{TRANSMITTER_PREFIX[tx]}_{u}") != 0))


def secrecy_rates(ch: ChannelSet, w: np.ndarray, f: np.ndarray, v: np.ndarray,
                  served: tuple[str, ...] | None = None) -> SecrecyRates:
    """SINRs (Yin et al. eq. 8–13) and secrecy rates R_k = [log2(1+γ_k) − log2(1+γ_ke)]⁺ (eq. 14–16).

    Args:
        ch: noise-normalised channels (dimensionless).
        w, f, v: satellite, UAV and base-station precoders (sqrt(W)/sqrt(noise) units: their squared
            norms are the transmit powers in W since noise is folded into ``ch``).
        served: the users the min rate runs over (default: :func:`servable_users` of ``ch``).
    """
    p = received_powers(ch, w, f, v)
    sinr, eve, rates = {}, {}, {}
    for idx, user in enumerate(USERS):
        sinr[user] = float(p[user][idx] / (p[user].sum() - p[user][idx] + 1.0))
        eve[user] = float(p["e"][idx] / (p["e"].sum() - p["e"][idx] + 1.0))
        rates[user] = max(0.0, float(np.log2(1.0 + sinr[user]) - np.log2(1.0 + eve[user])))
    return SecrecyRates(sinr=sinr, eve_sinr=eve, rates=rates, served=servable_users(ch) if served is None else served)
