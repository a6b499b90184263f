"""What the physical entities report to their twins, and the commands they accept back.

Reports are immutable and stamped with ``measured_at_s`` (simulated time of the measurement), so
the age of any twin's information is always known. Commands are plain data the builder's twins
construct; the physical layer never imports the twins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class TransmitterReport:
    """CSI measured by a transmitter (satellite, uav or bs).

    Args:
        transmitter: ``satellite``, ``uav`` or ``bs``.
        measured_at_s: simulated time of the measurement (s).
        channels: noise-normalised channels to ``su``, ``au``, ``gu`` (true at measurement time).
        eve_estimate: the transmitter's estimate of Eve's channel (norm-bounded error).
        power_limit_w: the transmitter's power limit (W).
        position_m: the transmitter's ENU position (m).
        scalars: extra measured scalars with unit-suffixed names (e.g. ``elevation_deg``).
    """

    transmitter: str
    measured_at_s: float
    channels: dict[str, np.ndarray]
    eve_estimate: np.ndarray
    power_limit_w: float
    position_m: np.ndarray
    scalars: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class WeatherReport:
    """The site's weather station: state and rain fade (dB) at ``measured_at_s`` (s)."""

    measured_at_s: float
    state: str
    rain_fade_db: float


@dataclass(frozen=True)
class PrecoderCommand:
    """A precoder for one transmitter, decided by the core-cloud twin.

    Args:
        transmitter: ``satellite``, ``uav`` or ``bs``.
        precoder: complex vector (sqrt(W)); ‖precoder‖² is the transmit power (W).
        solve_id: the re-solve that produced it.
        method: the policy name.
        planned_rate_bps_hz: the secrecy rate the twin planned for this transmitter's user (bit/s/Hz).
        decided_at_s: simulated time the decision was made (s).
        oldest_input_s: measurement time of the oldest input the decision used (s).
    """

    transmitter: str
    precoder: np.ndarray
    solve_id: int
    method: str
    planned_rate_bps_hz: float
    decided_at_s: float
    oldest_input_s: float
