"""Deterministic paper-like precoding instances for the precoding tests and benchmark (not a test).

Channels are noise-normalised (noise power 1). Magnitudes are set by the received SNR a full-power
matched beam would give at the paper's powers P_S = 10 dBW, P_U = 5 dBW, P_B = 15 dBW with N = 4
antennas per transmitter (``LINK_SNR_DB``); per-element gains are that SNR minus the power and the
6 dB array gain of four antennas, and stay fixed when N changes, so larger arrays gain more:

=========== ====== ====== ====== ======
from → to     SU     AU     GU    Eve
=========== ====== ====== ====== ======
satellite     45     45     45     45    (spot-beam "channel similarity": ±0.25 dB jitter)
UAV           55     70     60     57
BS            10     20     30     25    (Eve sits near GU)
=========== ====== ====== ====== ======

Satellite channels: equal per-element magnitudes, uniform random phases (Yin et al. eq. 1–2 with
similar geometry to all four receivers). UAV channels: Rician with K = 10 dB, line of sight from a
half-wavelength ULA toward a random angle (eq. 3). BS channels: Nakagami-m (m = 2, Ω = 1) amplitudes
with uniform phases. Eve-CSI errors are norm-bounded: ‖Δh_e‖ = Δ·‖h_e‖ exactly, random direction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import numpy as np

from physical.channel_matrix import ChannelMatrix, Topology
from physical.secrecy import RECEIVERS, ChannelSet
from twin.precoding.base import PrecodingProblem

PAPER_POWERS_W: Final = (10.0, 10 ** 0.5, 10 ** 1.5)  #: P_S = 10 dBW, P_U = 5 dBW, P_B = 15 dBW (W)
REFERENCE_ANTENNAS: Final = 4  #: the antenna count at which ``LINK_SNR_DB`` holds
#: received SNR (dB) of a full-power matched beam at N = 4, per transmitter prefix and receiver
LINK_SNR_DB: Final = {
    "h": {"su": 45.0, "au": 45.0, "gu": 45.0, "e": 45.0},
    "a": {"su": 55.0, "au": 70.0, "gu": 60.0, "e": 57.0},
    "g": {"su": 10.0, "au": 20.0, "gu": 30.0, "e": 25.0},
}
SATELLITE_JITTER_DB: Final = 0.25  #: half-width of the uniform per-receiver satellite gain jitter (dB)
RICIAN_K: Final = 10.0  #: UAV Rician factor K = 10 dB (linear)
NAKAGAMI_M: Final = 2.0  #: BS Nakagami shape m


def _element_gain(prefix: str, receiver: str, power_w: float) -> float:
    """Per-element power gain (linear) that gives ``LINK_SNR_DB`` with N = 4 at ``power_w``."""
    return 10 ** (LINK_SNR_DB[prefix][receiver] / 10) / (power_w * REFERENCE_ANTENNAS)


def paper_channels(seed: int, antennas: tuple[int, int, int] = (4, 4, 4)) -> ChannelSet:
    """True channels of one instance drawn from ``seed`` (see the module docstring for magnitudes)."""
    rng = np.random.default_rng(seed)
    n_s, n_u, n_b = antennas
    out: dict[str, np.ndarray] = {}
    for r in RECEIVERS:
        jitter_db = rng.uniform(-SATELLITE_JITTER_DB, SATELLITE_JITTER_DB)
        gain = _element_gain("h", r, PAPER_POWERS_W[0]) * 10 ** (jitter_db / 10)
        out[f"h_{r}"] = np.sqrt(gain) * np.exp(1j * rng.uniform(0, 2 * np.pi, n_s))
    for r in RECEIVERS:
        cos_angle = rng.uniform(-1.0, 1.0)
        los = np.exp(-1j * np.pi * np.arange(n_u) * cos_angle) * np.exp(1j * rng.uniform(0, 2 * np.pi))
        ray = (rng.standard_normal(n_u) + 1j * rng.standard_normal(n_u)) / np.sqrt(2)
        small = np.sqrt(RICIAN_K / (RICIAN_K + 1)) * los + np.sqrt(1 / (RICIAN_K + 1)) * ray
        out[f"a_{r}"] = np.sqrt(_element_gain("a", r, PAPER_POWERS_W[1])) * small
    for r in RECEIVERS:
        amplitude = np.sqrt(rng.gamma(NAKAGAMI_M, 1.0 / NAKAGAMI_M, n_b))
        small = amplitude * np.exp(1j * rng.uniform(0, 2 * np.pi, n_b))
        out[f"g_{r}"] = np.sqrt(_element_gain("g", r, PAPER_POWERS_W[2])) * small
    return ChannelSet.from_mapping(out)


def eve_estimates(ch: ChannelSet, delta: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimates ĥ_e = h_e − Δh_e with ‖Δh_e‖ = Δ·‖h_e‖ in a random complex direction, per transmitter."""
    out = []
    for true in (ch.h_e, ch.a_e, ch.g_e):
        err = rng.standard_normal(true.size) + 1j * rng.standard_normal(true.size)
        err *= delta * np.linalg.norm(true) / np.linalg.norm(err)
        out.append(true - err)
    return out[0], out[1], out[2]


def paper_problem(seed: int, antennas: tuple[int, int, int] = (4, 4, 4), delta: float = 0.0,
                  powers_w: tuple[float, float, float] = PAPER_POWERS_W) -> tuple[PrecodingProblem, ChannelSet]:
    """(design problem with Eve's estimates, true channels) for ``seed``; Δ = ``delta``."""
    truth = paper_channels(seed, antennas)
    if delta > 0:
        design = truth.with_eve(*eve_estimates(truth, delta, np.random.default_rng([seed, 1])))
    else:
        design = truth
    return PrecodingProblem.paper(design, *powers_w, eve_error_bound=delta), truth


def write_npz(path: Path, truth: ChannelSet, powers_w: tuple[float, float, float] = PAPER_POWERS_W,
              estimates: ChannelSet | None = None, **extra: np.ndarray) -> Path:
    """Write a ``sagin-twin precode`` input file: the 12 true channels, optional estimates, powers."""
    arrays: dict[str, np.ndarray] = dict(truth.as_dict())
    if estimates is not None:
        arrays.update(h_e_est=estimates.h_e, a_e_est=estimates.a_e, g_e_est=estimates.g_e)
    arrays.update(p_s_w=np.float64(powers_w[0]), p_u_w=np.float64(powers_w[1]), p_b_w=np.float64(powers_w[2]))
    arrays.update(extra)
    np.savez(path, **arrays)
    return Path(path)


#: the multi-node instance: one satellite, two UAVs, two base stations; three users per tier; two Eves
MULTI_TRANSMITTERS: Final = ("satellite", "uav1", "uav2", "bs1", "bs2")
MULTI_SERVING: Final = {"su1": "satellite", "su2": "satellite", "su3": "satellite",
                        "au1": "uav1", "au2": "uav1", "au3": "uav2",
                        "gu1": "bs1", "gu2": "bs1", "gu3": "bs2"}
MULTI_EVES: Final = ("e1", "e2")
#: each transmitter's tier: the channel-name prefix whose ``LINK_SNR_DB`` row and power it uses
_TIER: Final = {"satellite": "h", "uav1": "a", "uav2": "a", "bs1": "g", "bs2": "g"}
_PAPER_POWER: Final = dict(zip("hag", PAPER_POWERS_W))


def _receiver_tier(receiver: str) -> str:
    """``su``, ``au``, ``gu`` or ``e``: the paper receiver whose link budget a receiver shares."""
    return "e" if receiver.startswith("e") else receiver[:2]


def multi_node_topology(antennas: int | dict[str, int] = 4) -> Topology:
    """5 transmitters (satellite, 2 UAVs, 2 BSs), 9 users (3 per tier), 2 Eves; N antennas each (or per transmitter)."""
    counts = dict(antennas) if isinstance(antennas, dict) else {tx: antennas for tx in MULTI_TRANSMITTERS}
    return Topology(MULTI_TRANSMITTERS, tuple(MULTI_SERVING), MULTI_EVES, MULTI_SERVING, counts)


def multi_node_problem(seed: int, antennas: int | dict[str, int] = 4,
                       delta: float = 0.0) -> tuple[PrecodingProblem, ChannelMatrix]:
    """(design problem with Eve estimates at error Δ, true channels) of the multi-node instance.

    Each link draws its per-element gain from the paper's table for the transmitter's tier and the
    receiver's tier (``LINK_SNR_DB``, ±1 dB uniform jitter per link so that users of one tier
    differ), with the paper's small-scale models: equal magnitudes and random phases from the
    satellite, Rician K = 10 dB from a UAV, Nakagami-m from a BS. Powers are the paper's per tier.
    """
    rng = np.random.default_rng([seed, 13])
    top = multi_node_topology(antennas)
    truth = {}
    for tx in top.transmitters:
        tier, n = _TIER[tx], top.antennas[tx]
        for rx in top.receivers:
            gain_db = LINK_SNR_DB[tier][_receiver_tier(rx)] + rng.uniform(-1.0, 1.0)
            gain = 10 ** (gain_db / 10) / (_PAPER_POWER[tier] * REFERENCE_ANTENNAS)
            if tier == "h":
                small = np.exp(1j * rng.uniform(0, 2 * np.pi, n))
            elif tier == "a":
                los = np.exp(-1j * np.pi * np.arange(n) * rng.uniform(-1.0, 1.0)) * np.exp(1j * rng.uniform(0, 2 * np.pi))
                ray = (rng.standard_normal(n) + 1j * rng.standard_normal(n)) / np.sqrt(2)
                small = np.sqrt(RICIAN_K / (RICIAN_K + 1)) * los + np.sqrt(1 / (RICIAN_K + 1)) * ray
            else:
                small = np.sqrt(rng.gamma(NAKAGAMI_M, 1.0 / NAKAGAMI_M, n)) * np.exp(1j * rng.uniform(0, 2 * np.pi, n))
            truth[(tx, rx)] = np.sqrt(gain) * small
    design = dict(truth)
    for tx in top.transmitters:
        for eve in top.eves:
            true = truth[(tx, eve)]
            err = rng.standard_normal(true.size) + 1j * rng.standard_normal(true.size)
            design[(tx, eve)] = true - err * delta * np.linalg.norm(true) / np.linalg.norm(err)
    limits = {tx: _PAPER_POWER[_TIER[tx]] for tx in top.transmitters}
    problem = PrecodingProblem(ChannelMatrix.from_vectors(top, design), limits, eve_error_bound=delta)
    return problem, ChannelMatrix.from_vectors(top, truth)
