"""QKD key rates from physics: asymptotic decoy-state BB84 over fiber and free-space links.

Key-rate model (shared/DESIGN.md section 3): the GLLP formula (Gottesman, Lo, Lütkenhaus, Preskill,
QIC 4, 325 (2004)) with the infinite-decoy estimates of Lo, Ma & Chen, PRL 94, 230504 (2005)
(notation of Ma, Qi, Zhao & Lo, PRA 72, 012326 (2005), eq. 1–12):

    η      = η_channel · η_detector                       total transmittance
    Y_0    = dark/background count probability per pulse
    Q_μ    = Y_0 + 1 − exp(−η μ)                          signal gain
    E_μ Q_μ = e_0 Y_0 + e_d (1 − exp(−η μ)),  e_0 = 1/2   signal QBER
    Y_1    = Y_0 + η,  Q_1 = Y_1 μ e^(−μ)                 single-photon yield and gain
    e_1    = (e_0 Y_0 + e_d η) / Y_1                      single-photon error rate
    R      = s · q · [Q_1 (1 − H2(e_1)) − f Q_μ H2(E_μ)]  secret bits per pulse

q is the sifting factor (1/2 for standard BB84; close to 1 for efficient BB84 with biased basis
choice, Lo, Chau & Ardehali, J. Cryptology 18, 133 (2005)), f the error-correction inefficiency and
s the fraction of pulses sent at the signal intensity (a three-intensity source spends the rest on
decoy and vacuum states, which give no key; s = 1 is the infinite-decoy idealisation of Ma et al.).
The signal intensity μ is optimised numerically per transmittance (bounded scalar minimisation).
The key rate in bit/s is clock_hz · R, zero where R < 0, and capped at q × the detector's maximum
count rate (no more sifted bits than detections). With the GYS parameters of Ma et al. (Table I:
α = 0.21 dB/km, η_Bob = 4.5 %, Y_0 = 1.7e-6, e_d = 3.3 %, f = 1.22, q = 1/2) the key vanishes at
≈ 142 km, their infinite-decoy limit (tested).

Loss models:
- fiber: 0.2 dB/km (standard single-mode fiber at 1550 nm);
- free space (satellite downlink, UAV link): Gaussian-beam diffraction from the transmit aperture
  (waist w0 = D_tx/2, far-field radius w(L) = w0·sqrt(1 + (λL/(π w0²))²)), pointing jitter of
  per-axis rms σ widening the mean spot to w_eff² = w² + 4(σL)², capture fraction of the receive
  aperture 1 − exp(−2 a²/w_eff²) (a = D_rx/2), receiver optics efficiency, and atmospheric
  transmittance T0^(1/sin(elevation)) (plane-parallel atmosphere); a cloud on the line of sight
  (cloud cover above the blocking fraction, ``physical.weather.optical_link_blocked``) blocks the
  link (transmittance 0).

Calibration of the satellite link against Micius (Liao et al., "Satellite-to-ground quantum key
distribution", Nature 549, 43–47 (2017); reference points with their source in
``tests/data/micius_liao2017.csv``): the default terminal's loss excluding the detector is 30.1 dB at
645 km and 38.1 dB at 1,190 km slant range (published ≈ 30 and ≈ 38 dB), and the default
scenario's Micius-like pass (the 274 s with slant range ≤ 1,200 km) yields ≈ 455 kbit against the
published 300,939 bit over 273 s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from scipy.optimize import minimize_scalar

from physical.units import db_to_linear
from physical.weather import DEFAULT_CLOUD_BLOCK_FRACTION, optical_link_blocked

FIBER_ATTENUATION_DB_PER_KM: Final = 0.2  #: standard single-mode fiber loss at 1550 nm (dB/km)
BACKGROUND_ERROR: Final = 0.5  #: e_0, error probability of a dark or background count (–)
MU_BOUNDS: Final = (1e-4, 1.5)  #: search interval of the signal intensity μ (mean photons per pulse)
MU_TOLERANCE: Final = 1e-7  #: absolute tolerance of the μ optimisation (photons per pulse)


@dataclass(frozen=True)
class QkdHardware:
    """Decoy-state BB84 source and detector parameters.

    Args:
        clock_hz: pulse repetition rate of the source (Hz).
        detector_efficiency: η_D, detector efficiency including the receiver's internal loss (–).
        dark_count_probability: Y_0, probability of a dark or background click per pulse (–).
        misalignment_error: e_d, probability that a photon hits the wrong detector (–).
        ec_inefficiency: f ≥ 1, error-correction inefficiency relative to the Shannon limit (–).
        sifting_factor: q, fraction of detections kept after basis sifting (1/2 for standard
            BB84, ≈1 for efficient BB84 with biased basis choice) (–).
        max_count_rate_hz: the detector's maximum count rate (counts/s); the key rate is capped at
            sifting_factor × this.
        signal_fraction: s, fraction of pulses sent at the signal intensity (the others are decoy
            or vacuum states and give no key) (–); 1 is the infinite-decoy idealisation.
    """

    clock_hz: float
    detector_efficiency: float
    dark_count_probability: float
    misalignment_error: float
    ec_inefficiency: float = 1.16
    sifting_factor: float = 0.5
    max_count_rate_hz: float = 1e8
    signal_fraction: float = 1.0

    def __post_init__(self) -> None:
        checks = {
            "clock_hz": self.clock_hz > 0,
            "detector_efficiency": 0 < self.detector_efficiency <= 1,
            "dark_count_probability": 0 <= self.dark_count_probability < 1,
            "misalignment_error": 0 <= self.misalignment_error < 0.5,
            "ec_inefficiency": self.ec_inefficiency >= 1,
            "sifting_factor": 0 < self.sifting_factor <= 1,
            "max_count_rate_hz": self.max_count_rate_hz > 0,
            "signal_fraction": 0 < self.signal_fraction <= 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"QkdHardware.{name} out of range: {getattr(self, name)}")


@dataclass(frozen=True)
class FreeSpaceTerminal:
    """Optical terminals and atmosphere of a free-space QKD link.

    Args:
        wavelength_m: optical wavelength (m).
        tx_aperture_m: transmit telescope diameter (m); the Gaussian beam waist is half of it.
        rx_aperture_m: receive telescope diameter (m).
        pointing_jitter_rad: per-axis rms pointing error of the transmitter (rad).
        rx_optics_efficiency: transmission of the receiver's optics up to the detector (–).
        zenith_transmittance: T0, clear-sky atmospheric transmittance at zenith (–), or of the
            whole path when ``atmosphere`` is False.
        atmosphere: True if the path crosses the whole atmosphere (satellite); False for a short
            horizontal path (UAV), where ``zenith_transmittance`` is used once, without the
            1/sin(elevation) air-mass factor.
    """

    wavelength_m: float
    tx_aperture_m: float
    rx_aperture_m: float
    pointing_jitter_rad: float
    rx_optics_efficiency: float
    zenith_transmittance: float
    atmosphere: bool = True

    def __post_init__(self) -> None:
        for name in ("wavelength_m", "tx_aperture_m", "rx_aperture_m"):
            if not getattr(self, name) > 0:
                raise ValueError(f"FreeSpaceTerminal.{name} must be > 0, got {getattr(self, name)}")
        if self.pointing_jitter_rad < 0:
            raise ValueError(f"FreeSpaceTerminal.pointing_jitter_rad must be >= 0, got {self.pointing_jitter_rad}")
        for name in ("rx_optics_efficiency", "zenith_transmittance"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"FreeSpaceTerminal.{name} must be in (0, 1], got {getattr(self, name)}")


#: metro/long-haul fiber link: GHz-clocked source, superconducting detectors (this model: 2.6 Mbit/s
#: at 50 km, 255 kbit/s at 100 km, 16 kbit/s at 160 km, zero beyond ≈ 280 km; cf. Boaron et al.,
#: PRL 121, 190502 (2018): 6.5 Mbit/s at 10 km)
FIBER_HARDWARE: Final = QkdHardware(
    clock_hz=1e9, detector_efficiency=0.2, dark_count_probability=1e-7, misalignment_error=0.01,
    ec_inefficiency=1.16, sifting_factor=0.5, max_count_rate_hz=1e8,
)

#: Micius-like satellite downlink source and ground detectors (Liao et al. 2017): a 100 MHz
#: three-intensity decoy source sending the signal state on half of the pulses (the rest decoy and
#: vacuum; the split is this model's assumption), Si APDs of 50 % efficiency with a night-time
#: background of 1e-6 clicks per pulse, 1 % misalignment, f = 1.16
SATELLITE_HARDWARE: Final = QkdHardware(
    clock_hz=1e8, detector_efficiency=0.5, dark_count_probability=1e-6, misalignment_error=0.01,
    ec_inefficiency=1.16, sifting_factor=0.5, max_count_rate_hz=2e7, signal_fraction=0.5,
)

#: UAV-borne source (100 MHz) and ground receiver with Si APDs (this model: 2.16 Mbit/s over a 1 km
#: link, 6.5 dB loss including the detector)
UAV_HARDWARE: Final = QkdHardware(
    clock_hz=1e8, detector_efficiency=0.5, dark_count_probability=1e-6, misalignment_error=0.02,
    ec_inefficiency=1.16, sifting_factor=0.5, max_count_rate_hz=2e7,
)

#: Micius downlink terminals, calibrated to the published link loss excluding the detector (≈ 30 dB
#: at 645 km, ≈ 38 dB at 1,190 km; tests/data/micius_liao2017.csv): 850 nm; an effective 11 cm
#: diffraction-limited transmit aperture reproduces the ≈ 10 µrad full divergence of its 30 cm
#: telescope; 1 m ground telescope (Xinglong); 2 µrad rms pointing jitter. Two parameters are fitted
#: to the two published points: the zenith transmittance T0 = 0.67 (an aerosol-laden north-China
#: sky, optical depth ≈ 0.4 at 850 nm, which also absorbs the extra turbulence losses at low
#: elevation; it sets the 8 dB rise from 645 to 1,190 km beyond the 5.3 dB of diffraction) and the
#: receive-chain efficiency 0.057 (−12.4 dB: telescope with central obscuration, relay optics,
#: polarisation analysis and coupling of the turbulence-broadened spot into the detectors' field
#: of view, up to the detector)
SATELLITE_TERMINAL: Final = FreeSpaceTerminal(
    wavelength_m=850e-9, tx_aperture_m=0.11, rx_aperture_m=1.0, pointing_jitter_rad=2e-6,
    rx_optics_efficiency=0.057, zenith_transmittance=0.67, atmosphere=True,
)

#: UAV link terminals: 850 nm, 5 cm transmitter, 20 cm receiver, 20 µrad jitter from the airframe,
#: 1 km near-horizontal path with 0.9 transmittance
UAV_TERMINAL: Final = FreeSpaceTerminal(
    wavelength_m=850e-9, tx_aperture_m=0.05, rx_aperture_m=0.2, pointing_jitter_rad=20e-6,
    rx_optics_efficiency=0.5, zenith_transmittance=0.9, atmosphere=False,
)


def binary_entropy(p: float) -> float:
    """Shannon binary entropy H2(p) (bit); H2(0) = H2(1) = 0."""
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -p * math.log2(p) - (1.0 - p) * math.log2(1.0 - p)


def decoy_bb84_rate_per_pulse(transmittance: float, mu: float, hardware: QkdHardware) -> float:
    """GLLP secret key per pulse with infinite-decoy estimates; may be negative (Ma et al. 2005, eq. 1–12).

    Args:
        transmittance: η_channel, channel transmittance excluding the detector (–).
        mu: signal intensity (mean photon number per pulse).
        hardware: source and detector parameters.
    """
    eta = transmittance * hardware.detector_efficiency
    y0 = hardware.dark_count_probability
    ed = hardware.misalignment_error
    detected = -math.expm1(-eta * mu)  # 1 − exp(−ημ) without cancellation at small ημ
    q_mu = y0 + detected
    if q_mu <= 0.0:
        return 0.0
    e_mu = (BACKGROUND_ERROR * y0 + ed * detected) / q_mu
    y1 = y0 + eta
    q1 = y1 * mu * math.exp(-mu)
    e1 = (BACKGROUND_ERROR * y0 + ed * eta) / y1 if y1 > 0 else BACKGROUND_ERROR
    return hardware.signal_fraction * hardware.sifting_factor * (
        q1 * (1.0 - binary_entropy(e1)) - hardware.ec_inefficiency * q_mu * binary_entropy(e_mu))


@dataclass(frozen=True)
class KeyRate:
    """A key-rate evaluation: secret key rate (bit/s), optimal μ (photons/pulse), per-pulse rate (bit)."""

    rate_bps: float
    mu: float
    per_pulse: float
    capped: bool


def optimal_key_rate(transmittance: float, hardware: QkdHardware) -> KeyRate:
    """Secret key rate with μ optimised over ``MU_BOUNDS`` (bounded Brent search), zero if negative, count-rate capped.

    Args:
        transmittance: η_channel, channel transmittance excluding the detector (–), in [0, 1].
        hardware: source and detector parameters.
    """
    if not 0.0 <= transmittance <= 1.0 or math.isnan(transmittance):
        raise ValueError(f"transmittance must be in [0, 1], got {transmittance}")
    if transmittance == 0.0:
        return KeyRate(0.0, 0.0, 0.0, False)
    result = minimize_scalar(lambda mu: -decoy_bb84_rate_per_pulse(transmittance, mu, hardware),
                             bounds=MU_BOUNDS, method="bounded", options={"xatol": MU_TOLERANCE})
    mu = float(result.x)
    per_pulse = max(0.0, -float(result.fun))
    if per_pulse <= 0.0:
        return KeyRate(0.0, mu, 0.0, False)
    rate = hardware.clock_hz * per_pulse
    cap = hardware.sifting_factor * hardware.max_count_rate_hz
    return KeyRate(min(rate, cap), mu, per_pulse, rate > cap)


def secret_key_rate_bps(transmittance: float, hardware: QkdHardware) -> float:
    """Secret key rate (bit/s) of decoy-state BB84 at a channel transmittance (–); see ``optimal_key_rate``."""
    return optimal_key_rate(transmittance, hardware).rate_bps


def fiber_loss_db(length_m: float, attenuation_db_per_km: float = FIBER_ATTENUATION_DB_PER_KM) -> float:
    """Fiber loss (dB) over ``length_m`` (m) at ``attenuation_db_per_km`` (dB/km)."""
    if length_m < 0:
        raise ValueError(f"length_m must be >= 0, got {length_m}")
    return attenuation_db_per_km * length_m / 1000.0


def fiber_transmittance(length_m: float, attenuation_db_per_km: float = FIBER_ATTENUATION_DB_PER_KM) -> float:
    """Fiber transmittance 10^(−α·L/10) (–) over ``length_m`` (m)."""
    return float(db_to_linear(-fiber_loss_db(length_m, attenuation_db_per_km)))


def fiber_key_rate_bps(length_m: float, hardware: QkdHardware = FIBER_HARDWARE) -> float:
    """Decoy-state BB84 key rate (bit/s) over ``length_m`` (m) of 0.2 dB/km fiber."""
    return secret_key_rate_bps(fiber_transmittance(length_m), hardware)


def beam_radius_m(range_m: float, terminal: FreeSpaceTerminal) -> float:
    """Gaussian beam radius w(L) (m) at ``range_m`` (m) from a waist w0 = D_tx/2 (diffraction-limited)."""
    w0 = terminal.tx_aperture_m / 2.0
    rayleigh_m = math.pi * w0 ** 2 / terminal.wavelength_m
    return w0 * math.sqrt(1.0 + (range_m / rayleigh_m) ** 2)


def capture_fraction(beam_radius: float, rx_aperture_m: float) -> float:
    """Fraction of a centred Gaussian beam of radius ``beam_radius`` (m) collected by an aperture of diameter ``rx_aperture_m`` (m)."""
    a = rx_aperture_m / 2.0
    return -math.expm1(-2.0 * a * a / (beam_radius * beam_radius))


def pointing_transmittance(range_m: float, terminal: FreeSpaceTerminal) -> float:
    """Mean capture with pointing jitter over capture without it (–): w_eff² = w² + 4(σL)²."""
    w = beam_radius_m(range_m, terminal)
    w_eff = math.sqrt(w * w + 4.0 * (terminal.pointing_jitter_rad * range_m) ** 2)
    return capture_fraction(w_eff, terminal.rx_aperture_m) / capture_fraction(w, terminal.rx_aperture_m)


def atmospheric_transmittance(elevation_rad: float, zenith_transmittance: float) -> float:
    """Clear-sky transmittance T0^(1/sin(elevation)) (–) of a plane-parallel atmosphere; 0 at or below the horizon."""
    s = math.sin(elevation_rad)
    if s <= 0.0:
        return 0.0
    return zenith_transmittance ** (1.0 / s)


def free_space_transmittance(range_m: float, elevation_rad: float, terminal: FreeSpaceTerminal,
                             cloudy: bool = False) -> float:
    """Channel transmittance (–) of a free-space optical link, excluding the detector.

    Args:
        range_m: transmitter–receiver distance (m).
        elevation_rad: elevation of the transmitter seen from the receiver (rad); used only when
            ``terminal.atmosphere`` is True.
        terminal: optics, pointing and atmosphere parameters.
        cloudy: a cloud on the line of sight blocks the link entirely.
    """
    if range_m <= 0:
        raise ValueError(f"range_m must be > 0, got {range_m}")
    if cloudy:
        return 0.0
    atmosphere = (atmospheric_transmittance(elevation_rad, terminal.zenith_transmittance)
                  if terminal.atmosphere else terminal.zenith_transmittance)
    w = beam_radius_m(range_m, terminal)
    w_eff = math.sqrt(w * w + 4.0 * (terminal.pointing_jitter_rad * range_m) ** 2)
    return capture_fraction(w_eff, terminal.rx_aperture_m) * terminal.rx_optics_efficiency * atmosphere


def free_space_loss_db(range_m: float, elevation_rad: float, terminal: FreeSpaceTerminal) -> float:
    """Clear-sky free-space link loss (dB), excluding the detector; +inf if blocked by the horizon."""
    t = free_space_transmittance(range_m, elevation_rad, terminal)
    return math.inf if t <= 0 else -10.0 * math.log10(t)


def satellite_key_rate_bps(range_m: float, elevation_rad: float, cloudy: bool = False,
                           terminal: FreeSpaceTerminal = SATELLITE_TERMINAL,
                           hardware: QkdHardware = SATELLITE_HARDWARE) -> float:
    """Satellite-to-ground decoy-state BB84 key rate (bit/s) at night; 0 under cloud.

    Args:
        range_m: slant range (m). elevation_rad: satellite elevation at the ground site (rad).
        cloudy: cloud on the line of sight. terminal, hardware: link parameters.
    """
    return secret_key_rate_bps(free_space_transmittance(range_m, elevation_rad, terminal, cloudy), hardware)


def uav_key_rate_bps(range_m: float, elevation_rad: float = math.pi / 2, cloudy: bool = False,
                     terminal: FreeSpaceTerminal = UAV_TERMINAL, hardware: QkdHardware = UAV_HARDWARE) -> float:
    """UAV-to-ground decoy-state BB84 key rate (bit/s) over a ≈1 km optical link; 0 if blocked.

    Args:
        range_m: link distance (m). elevation_rad: UAV elevation (rad; used only if the terminal
        has ``atmosphere`` True). cloudy: cloud (or fog) on the line of sight.
    """
    return secret_key_rate_bps(free_space_transmittance(range_m, elevation_rad, terminal, cloudy), hardware)


DEFAULT_MIN_ELEVATION_RAD: Final = math.radians(10.0)  #: lowest satellite elevation usable for QKD (rad)
DEFAULT_MAX_SUN_ALTITUDE_RAD: Final = math.radians(-12.0)  #: the site is dark below this sun altitude (nautical dusk) (rad)


def satellite_qkd_available(elevation_rad: float | np.ndarray, sun_altitude_rad: float | np.ndarray,
                            cloud_cover: float | np.ndarray = 0.0,
                            min_elevation_rad: float = DEFAULT_MIN_ELEVATION_RAD,
                            max_sun_altitude_rad: float = DEFAULT_MAX_SUN_ALTITUDE_RAD,
                            cloud_block_fraction: float = DEFAULT_CLOUD_BLOCK_FRACTION) -> bool | np.ndarray:
    """Whether satellite QKD can run (shared/DESIGN.md section 3): elevation ≥ min, site dark, sky clear.

    Args:
        elevation_rad: satellite elevation at the site (rad). sun_altitude_rad: the Sun's altitude (rad).
        cloud_cover: fraction of sky covered (0–1); above ``cloud_block_fraction`` it blocks the
            optical link (``physical.weather.optical_link_blocked``).
        min_elevation_rad, max_sun_altitude_rad: thresholds (rad).
    Works element-wise on arrays.
    """
    ok = ((np.asarray(elevation_rad) >= min_elevation_rad) & (np.asarray(sun_altitude_rad) <= max_sun_altitude_rad)
          & ~np.asarray(optical_link_blocked(np.asarray(cloud_cover), cloud_block_fraction)))
    return bool(ok) if ok.ndim == 0 else ok


EARTH_RADIUS_M: Final = 6_371e3  #: mean Earth radius of the spherical-Earth pass geometry (m)
MICIUS_ALTITUDE_M: Final = 500e3  #: Micius's orbit altitude, ≈ 500 km (Liao et al. 2017) (m)


def elevation_at_range_rad(range_m: float, altitude_m: float = MICIUS_ALTITUDE_M) -> float:
    """Elevation (rad) at which a satellite ``altitude_m`` (m) up is ``range_m`` (m) away (spherical Earth, law of cosines).

    Raises ValueError when no elevation in [0, 90] deg gives that range (closer than the altitude or
    beyond the horizon).
    """
    r = EARTH_RADIUS_M
    sine = ((r + altitude_m) ** 2 - r * r - range_m * range_m) / (2.0 * r * range_m) if range_m > 0 else math.inf
    if not 0.0 <= sine <= 1.0:
        horizon_km = math.sqrt((r + altitude_m) ** 2 - r * r) / 1e3
        raise ValueError(f"a satellite {altitude_m / 1e3:g} km up is between {altitude_m / 1e3:g} and {horizon_km:.0f} km "
                         f"away, not {range_m / 1e3:g} km")
    return math.asin(sine)


MEDIA_HARDWARE: Final = {"fiber": FIBER_HARDWARE, "uav": UAV_HARDWARE, "satellite": SATELLITE_HARDWARE}  #: default hardware per medium


@dataclass(frozen=True)
class LinkBudget:
    """One QKD link's budget (``link_budget``).

    Args:
        medium: ``fiber``, ``uav`` or ``satellite``.
        transmittance: channel transmittance excluding the detector (–); 0 when blocked.
        loss_db: channel loss excluding the detector (dB); inf when blocked (cloud or horizon).
        loss_with_detector_db: the same with the detector efficiency (dB).
        key: the optimal key rate evaluation (rate, μ, per-pulse key, whether the count-rate cap binds).
        cap_bps: the count-rate cap q × max count rate (bit/s).
        hardware: the source and detector parameters used.
    """

    medium: str
    transmittance: float
    loss_db: float
    loss_with_detector_db: float
    key: KeyRate
    cap_bps: float
    hardware: QkdHardware

    @property
    def zero_key(self) -> bool:
        """True if no secret key can be distilled (blocked, or too lossy / too noisy)."""
        return self.key.rate_bps <= 0.0


def link_budget(medium: str, *, length_m: float | None = None, range_m: float | None = None,
                elevation_rad: float | None = None, cloudy: bool = False) -> LinkBudget:
    """Loss, optimal μ and secret key rate of one QKD link with the default terminals and hardware.

    Args:
        medium: ``fiber`` (needs ``length_m``), ``uav`` (needs ``range_m``; a short horizontal path)
            or ``satellite`` (needs ``range_m`` and ``elevation_rad``).
        length_m: fiber length (m). range_m: free-space link distance (m).
        elevation_rad: satellite elevation at the ground station (rad).
        cloudy: a cloud on the line of sight (optical media only) blocks the link.
    """
    if medium not in MEDIA_HARDWARE:
        raise ValueError(f"medium must be one of {', '.join(MEDIA_HARDWARE)}, got {medium!r}")
    hardware = MEDIA_HARDWARE[medium]
    if medium == "fiber":
        if length_m is None:
            raise ValueError("fiber needs length_m")
        transmittance = fiber_transmittance(length_m)
    elif medium == "uav":
        if range_m is None:
            raise ValueError("uav needs range_m")
        transmittance = free_space_transmittance(range_m, math.pi / 2, UAV_TERMINAL, cloudy)
    else:
        if range_m is None or elevation_rad is None:
            raise ValueError("satellite needs range_m and elevation_rad")
        transmittance = free_space_transmittance(range_m, elevation_rad, SATELLITE_TERMINAL, cloudy)
    loss_db = math.inf if transmittance <= 0.0 else -10.0 * math.log10(transmittance)
    return LinkBudget(
        medium=medium, transmittance=transmittance, loss_db=loss_db,
        loss_with_detector_db=loss_db - 10.0 * math.log10(hardware.detector_efficiency),
        key=optimal_key_rate(transmittance, hardware),
        cap_bps=hardware.sifting_factor * hardware.max_count_rate_hz, hardware=hardware,
    )
