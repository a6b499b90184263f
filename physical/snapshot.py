"""Independent channel draws for a static geometry: the instances of the paper's Monte-Carlo figures.

A :class:`Snapshot` fixes where the satellite, UAV, base station, users and Eve are; each
:meth:`Snapshot.draw` builds fresh fading from a seed and returns the true channels and the
transmitters' estimates of Eve's channels (norm-bounded error Δ, shared/DESIGN.md section 2).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field, replace

import numpy as np

from physical.channel_matrix import PAPER_TRANSMITTERS, ChannelSet, Topology
from physical.channels import ChannelModel, LinkGeometry, RadioParameters, estimate_with_error
from physical.units import db_to_linear


def _default_receivers() -> dict[str, tuple[float, float, float]]:
    return {"su": (250.0, 150.0, 2.0), "au": (-80.0, 120.0, 60.0), "gu": (80.0, -60.0, 1.5), "e": (180.0, -150.0, 1.5)}


@dataclass(frozen=True)
class Snapshot:
    """A static SAGIN geometry (site ENU frame, m) and its radio parameters.

    Args:
        radio: radio parameters (antenna counts, gains, noise).
        satellite_altitude_m: satellite straight above the site at this height (m); 600 km gives the
            −155.6 dB free-space loss at 2.4 GHz of DESIGN.md.
        uav_m, bs_m: UAV and base-station positions (m).
        receivers_m: ``su``, ``au``, ``gu``, ``e`` positions (m).
        rain_fade_db: satellite rain fade β (dB).
    """

    radio: RadioParameters
    satellite_altitude_m: float = 600e3
    uav_m: tuple[float, float, float] = (0.0, 0.0, 100.0)
    bs_m: tuple[float, float, float] = (0.0, 0.0, 25.0)
    receivers_m: dict[str, tuple[float, float, float]] = field(default_factory=_default_receivers)
    rain_fade_db: float = 0.0

    def with_uav_altitude(self, altitude_m: float) -> "Snapshot":
        return replace(self, uav_m=(self.uav_m[0], self.uav_m[1], altitude_m))

    def with_antennas(self, n: int) -> "Snapshot":
        return replace(self, radio=self.radio.with_antennas(n))

    def geometry(self) -> LinkGeometry:
        return LinkGeometry(
            satellite_m=np.array([0.0, 0.0, self.satellite_altitude_m]),
            satellite_elevation_rad=math.pi / 2,
            beam_centre_m=np.zeros(3),
            transmitters_m={"uav": np.asarray(self.uav_m, dtype=float), "bs": np.asarray(self.bs_m, dtype=float)},
            receivers_m={k: np.asarray(v, dtype=float) for k, v in self.receivers_m.items()},
            rain_fade_db=self.rain_fade_db,
        )

    def draw(self, seed: int, draw: int, eve_error: float) -> tuple[ChannelSet, ChannelSet]:
        """(true channels, design channels with Eve's estimates) for draw number ``draw`` of ``seed``."""

        def rng_for(name: str) -> np.random.Generator:
            key = (draw, zlib.crc32(name.encode("utf-8")))
            return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))

        matrix = ChannelModel(self.radio, Topology.paper(self.radio.antenna_counts()), rng_for).step(0.0, self.geometry())
        rng = rng_for("estimation")
        estimates = [estimate_with_error(matrix[tx, "e"], eve_error, rng) for tx in PAPER_TRANSMITTERS]
        truth = matrix.to_channel_set()
        return truth, truth.with_eve(*estimates)


def paper_radio(antennas: int = 4) -> RadioParameters:
    """Radio parameters of Yin et al. with the simulator's noise normalisation (B = 1 MHz, NF = 5 dB)."""
    return RadioParameters.paper(
        carrier_freq_hz=2.4e9, bandwidth_hz=1e6, noise_figure_db=5.0,
        sat_antennas=antennas, uav_antennas=antennas, bs_antennas=antennas,
        sat_max_gain=float(db_to_linear(46.0)), sat_beam_3db_rad=math.radians(0.4),
        uav_ref_gain=float(db_to_linear(-40.0)), uav_rician_k=float(db_to_linear(10.0)),
        bs_ref_gain=float(db_to_linear(-38.46)), bs_nakagami_m=2.0, bs_nakagami_omega=1.0,
        sat_coherence_s=1.0, uav_coherence_s=1.0, bs_coherence_s=1.0,
        sat_min_elevation_rad=0.0,
    )
