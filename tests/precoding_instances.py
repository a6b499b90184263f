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
    return PrecodingProblem(design, *powers_w, eve_error_bound=delta), truth


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
