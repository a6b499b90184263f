"""What the physical entities report to their twins, and the commands they accept back.

Reports are immutable and stamped with ``measured_at_s`` (simulated time of the measurement), so
the age of any twin's information is always known. Commands are plain data the builder's twins
construct; the physical layer never imports the twins.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np


@dataclass(frozen=True)
class TransmitterReport:
    """CSI measured by a transmitter (the satellite, a UAV or a base station).

    Args:
        transmitter: the transmitter's name.
        measured_at_s: simulated time of the measurement (s).
        channels: noise-normalised channels to every user, by name (true at measurement time).
        eve_estimates: the transmitter's estimate of each Eve's channel, by name (norm-bounded error).
        power_limit_w: the transmitter's power limit (W).
        position_m: the transmitter's ENU position (m).
        scalars: extra measured scalars with unit-suffixed names (e.g. ``elevation_deg``).
        receivers_m: the receivers' positions as reported with the CSI (users and Eves) (ENU, m).
        receivers_velocity_mps: the receivers' reported velocities (ENU, m/s).
        serving_satellite: with a constellation, the name of the satellite that measured the CSI
            (the one serving at ``measured_at_s``; None when none serves, or with one satellite).
    """

    transmitter: str
    measured_at_s: float
    channels: dict[str, np.ndarray]
    eve_estimates: dict[str, np.ndarray]
    power_limit_w: float
    position_m: np.ndarray
    scalars: dict[str, float] = field(default_factory=dict)
    receivers_m: dict[str, np.ndarray] = field(default_factory=dict)
    receivers_velocity_mps: dict[str, np.ndarray] = field(default_factory=dict)
    serving_satellite: str | None = None


@dataclass(frozen=True)
class WeatherReport:
    """The site's weather station: state, rain fade (dB) and cloud cover (0–1) at ``measured_at_s`` (s)."""

    measured_at_s: float
    state: str
    rain_fade_db: float
    cloud_cover: float = 0.0


@dataclass(frozen=True)
class PrecoderCommand:
    """The precoders of one transmitter, decided by the core-cloud twin.

    Args:
        transmitter: the transmitter's name.
        precoders: user → complex precoder of that user's message (sqrt(W)), for every user the
            transmitter serves, in user order; Σ ‖x_k‖² is the transmit power (W).
        solve_id: the re-solve that produced it.
        method: the policy name.
        planned_rates_bps_hz: user → the secrecy rate the twin planned for it (bit/s/Hz; NaN if the
            twin expects the user to be out of reach).
        decided_at_s: simulated time the decision was made (s).
        oldest_input_s: measurement time of the oldest input the decision used (s).
        planned_min_rate_bps_hz: the min over the served users the twin planned for the whole
            decision (bit/s/Hz; with a predicting twin the expectation E[min_k R_k]).
    """

    transmitter: str
    precoders: dict[str, np.ndarray]
    solve_id: int
    method: str
    planned_rates_bps_hz: dict[str, float]
    decided_at_s: float
    oldest_input_s: float
    planned_min_rate_bps_hz: float = float("nan")

    @property
    def power_w(self) -> float:
        """Total transmit power Σ_k ‖x_k‖² (W)."""
        powers = [float(np.vdot(x, x).real) for x in self.precoders.values()]
        return powers[0] if len(powers) == 1 else float(sum(powers))

    def stacked(self) -> np.ndarray:
        """The precoders as one array: the vector (N_t,) for one user, rows in user order (K_t, N_t) for several."""
        vectors = list(self.precoders.values())
        return vectors[0] if len(vectors) == 1 else np.stack(vectors)

    def scaled(self, factor: float) -> "PrecoderCommand":
        """A copy with every precoder multiplied by ``factor`` (–)."""
        return replace(self, precoders={u: x * factor for u, x in self.precoders.items()})


@dataclass(frozen=True)
class KeyPoolReport:
    """The QKD network's key-management report.

    Args:
        measured_at_s: simulated time of the measurement (s).
        stock_bits: link name → key in its pool (bit).
        states: link name → READY / WARNING / EMPTY.
        demand_bps: request name → key-rate demand in force (bit/s).
        unmet_bits: request name → key asked for but not served since the previous report (bit).
    """

    measured_at_s: float
    stock_bits: dict[str, float]
    states: dict[str, str]
    demand_bps: dict[str, float]
    unmet_bits: dict[str, float]


@dataclass(frozen=True)
class QkdPlanCommand:
    """A QKD provisioning plan, decided by the core-cloud twin for one planning epoch.

    Args:
        plan_id: the plan's number.
        routes: weather ("clear" / "cloudy") → request → node list; a request missing for a
            weather has no route in it.
        reserved_qkd, reserved_km: link name → reserved QKD / KM wavelengths.
        key_rate_bps: link name → key rate per QKD link K_l the plan assumed (bit/s); the network
            runs P = ceil(demand / K_l) QKD links per request on each link l of its route.
        ondemand_capacity_qkd, ondemand_capacity_km: link name → on-demand wavelengths available.
        price_qkd, price_km: link name → price of one wavelength for one epoch (cost units).
        ondemand_factor, utilisation_factor: second-stage price factors (–).
        epoch_s: the planning epoch the prices refer to (s).
        km_per_qkd_link: P KM wavelengths per request and route link (Kaewpuang eq. 35) instead of 1 (eq. 6).
        first_stage_cost: the reservation cost of the plan (cost units).
        decided_at_s, oldest_input_s: when it was decided and the measurement time of its oldest input (s).
    """

    plan_id: int
    routes: dict[str, dict[str, tuple[str, ...]]]
    reserved_qkd: dict[str, int]
    reserved_km: dict[str, int]
    key_rate_bps: dict[str, float]
    ondemand_capacity_qkd: dict[str, int]
    ondemand_capacity_km: dict[str, int]
    price_qkd: dict[str, float]
    price_km: dict[str, float]
    ondemand_factor: float
    utilisation_factor: float
    epoch_s: float
    first_stage_cost: float
    decided_at_s: float
    oldest_input_s: float
    km_per_qkd_link: bool = False
