"""Radio channels of every transmitter (satellite, UAVs, base stations) to every user and Eve (Yin et al., eq. 1–3).

Large-scale gains follow the geometry at every tick. Small-scale fading evolves with a correlation
ρ(Δt) = exp(−Δt/T_c) over a step Δt for a coherence time T_c (shared/DESIGN.md section 3), and each
process honours it exactly:

- satellite phases θ (eq. 1) and the base station's Nakagami phases are random walks with Gaussian
  steps of variance −2·ln ρ, so E[e^{j(θ(t+τ)−θ(t))}] = ρ(τ) at every lag (a phase taken as the
  angle of a complex AR(1) process slips by up to π when the process passes near zero, which made
  the effective coherence ≈ 2.7× shorter than configured);
- the UAV's scattered component is a complex Gauss-Markov process z ← ρ·z + sqrt(1−ρ²)·n;
- the base station's Nakagami-m amplitude is a Gaussian-copula AR(1) process (exact marginal);
- the UAV's line-of-sight term carries its range phase e^{−j2πd/λ} (the Doppler of the flight),
  deterministic given the flight plan and the receivers' tracks.

Every vector is divided by sqrt(N0) of the receiver noise, so the secrecy maths sees unit noise
(the "noise normalisation" of the README).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from typing import Final, Mapping, Sequence

import numpy as np
from scipy import special, stats

from physical.channel_matrix import ChannelMatrix, Topology
from physical.units import db_to_linear, noise_power_w, wavelength_m

COHERENCE_MODELS: Final = ("configured", "jakes")  #: where the small-scale coherence times come from
JAKES_FACTOR: Final = 0.423  #: Clarke/Jakes coherence time T_c = 0.423·λ/v (Rappaport, Wireless Communications, eq. 5.40.c)
BEAM_U_FACTOR: Final = 2.07123  #: u = 2.07123·sin α / sin α_3dB in the ITU spot-beam pattern (Yin et al. eq. 2)
ULA_SPACING_WAVELENGTHS: Final = 0.5  #: half-wavelength uniform linear arrays


def _norm(vector: np.ndarray) -> float:
    """‖v‖ of a real 1-D vector: exactly ``np.linalg.norm`` (sqrt of the BLAS dot), without its overhead."""
    return math.sqrt(vector.dot(vector))


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = _norm(vector)
    return vector / norm if norm > 0 else vector


def free_space_gain(wavelength: float, range_m: np.ndarray | float) -> np.ndarray | float:
    """Free-space power gain C_L = (λ / 4πr)² (Yin et al. eq. 1 with d² + h_sat² = r²) (–)."""
    return (wavelength / (4.0 * math.pi * np.asarray(range_m, dtype=float))) ** 2


def spot_beam_gain(off_axis_rad: np.ndarray | float, beam_3db_rad: float, max_gain: float) -> np.ndarray | float:
    """Satellite spot-beam gain b = G_max·(J1(u)/(2u) + 36·J3(u)/u³)² (Yin et al. eq. 2, ITU form).

    Args:
        off_axis_rad: angle between the beam boresight and the receiver, seen from the satellite (rad).
        beam_3db_rad: 3-dB angle α_3dB (rad).
        max_gain: G_max (linear). At α = 0 the bracket tends to 1/4 + 36/48 = 1, so b(0) = G_max.
    """
    u = BEAM_U_FACTOR * np.sin(np.asarray(off_axis_rad, dtype=float)) / math.sin(beam_3db_rad)
    u_safe = np.where(np.abs(u) < 1e-6, 1e-6, u)
    pattern = special.jv(1, u_safe) / (2.0 * u_safe) + 36.0 * special.jv(3, u_safe) / u_safe**3
    out = max_gain * pattern**2
    return float(out) if np.ndim(out) == 0 else out


def uav_large_scale_gain(ref_gain: float, distance_m: np.ndarray | float) -> np.ndarray | float:
    """UAV path gain G_L = g0 / (U_d² + U_h²) with the 3-D distance (Yin et al. eq. 3) (–)."""
    return ref_gain / np.asarray(distance_m, dtype=float) ** 2


def bs_large_scale_gain(ref_gain: float, distance_m: np.ndarray | float) -> np.ndarray | float:
    """Base-station path gain C0·r⁻⁴ (Yin et al., terrestrial channel) (–)."""
    return ref_gain * np.asarray(distance_m, dtype=float) ** -4.0


_ULA_RAMP: dict[int, np.ndarray] = {}  #: −j2π·(d/λ)·n of each array size (the factor of cos(angle) in the ULA's phases)


def ula_response(antennas: int, direction: np.ndarray) -> np.ndarray:
    """Line-of-sight response of a half-wavelength ULA along the east axis toward a unit ``direction``."""
    cos_angle = min(max(float(direction[0]), -1.0), 1.0)
    ramp = _ULA_RAMP.get(antennas)
    if ramp is None:
        ramp = _ULA_RAMP[antennas] = -2j * math.pi * ULA_SPACING_WAVELENGTHS * np.arange(antennas)
    return np.exp(ramp * cos_angle)


def line_of_sight(antennas: int, wavelength: float, tx_to_rx_m: np.ndarray) -> np.ndarray:
    """Line-of-sight array response with its range phase: e^{−j2πd/λ}·(ULA response), d = ‖tx_to_rx_m‖ (m)."""
    distance = _norm(tx_to_rx_m)
    return np.exp(-2j * math.pi * distance / wavelength) * ula_response(antennas, _unit(tx_to_rx_m))


def rician_weights(k_factor: float) -> tuple[float, float]:
    """(sqrt(K/(K+1)), sqrt(1/(K+1))): the line-of-sight and scattered weights of eq. 3 (–)."""
    return math.sqrt(k_factor / (k_factor + 1.0)), math.sqrt(1.0 / (k_factor + 1.0))


def gauss_markov_rho(dt_s: float, coherence_time_s: float) -> float:
    """Correlation ρ = exp(−Δt / T_c) of a first-order Gauss-Markov process over Δt (s)."""
    if dt_s <= 0:
        return 1.0
    return math.exp(-dt_s / coherence_time_s)


class GaussMarkov:
    """Circularly-symmetric complex Gaussian process with unit variance per element and AR(1) memory."""

    def __init__(self, size: int, rng: np.random.Generator) -> None:
        self._rng = rng
        self.value = self._draw(size)

    def _draw(self, size: int) -> np.ndarray:
        return (self._rng.standard_normal(size) + 1j * self._rng.standard_normal(size)) / math.sqrt(2.0)

    def step(self, rho: float) -> np.ndarray:
        """Advance by one step of correlation ``rho`` and return the new value (stationary CN(0, 1))."""
        self.value = rho * self.value + math.sqrt(max(0.0, 1.0 - rho * rho)) * self._draw(self.value.size)
        return self.value


class PhaseRandomWalk:
    """Unit-modulus phasors e^{jθ} whose phases θ follow a Gaussian random walk.

    A step of correlation ρ adds N(0, −2·ln ρ) to each θ, so E[e^{jΔθ}] = exp(−σ²/2) = ρ and the
    lag-τ correlation of the phasors is exactly ρ(τ) (Wiener phase noise). The initial phases are
    uniform (the angle of a circular complex Gaussian draw).
    """

    def __init__(self, size: int, rng: np.random.Generator) -> None:
        self._rng = rng
        self.phase = np.angle(rng.standard_normal(size) + 1j * rng.standard_normal(size))

    @property
    def value(self) -> np.ndarray:
        """Current phasors e^{jθ} (–)."""
        return np.exp(1j * self.phase)

    def restart(self) -> None:
        """Forget the phases: draw new uniform ones, independent of the old (a different satellite's channel)."""
        self.phase = np.angle(self._rng.standard_normal(self.phase.size) + 1j * self._rng.standard_normal(self.phase.size))

    def step(self, rho: float) -> np.ndarray:
        """Advance by one step of correlation ``rho`` in (0, 1] and return the new phasors."""
        if rho < 1.0:
            sigma = math.sqrt(-2.0 * math.log(max(rho, 1e-300)))
            self.phase = np.angle(np.exp(1j * (self.phase + sigma * self._rng.standard_normal(self.phase.size))))
        return self.value


def nakagami_amplitude_correlation(m: float, rho: float, nodes: int = 40) -> float:
    """E[a(t)·a(t+τ)]/Ω of the Gaussian-copula Nakagami-m amplitude whose Gaussian has correlation ρ.

    Gauss-Hermite quadrature over the bivariate standard normal; equals 1 at ρ = 1 and
    (E a)²/Ω = Γ(m+½)²/(m·Γ(m)²) at ρ = 0 (Ω cancels).
    """
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    dist = stats.nakagami(m)
    u = x[:, None]
    v = rho * x[:, None] + math.sqrt(max(0.0, 1 - rho * rho)) * x[None, :]
    a_u = dist.ppf(np.clip(stats.norm.cdf(u), 1e-15, 1 - 1e-15))
    a_v = dist.ppf(np.clip(stats.norm.cdf(v), 1e-15, 1 - 1e-15))
    return float(np.sum(w[:, None] * w[None, :] * a_u * a_v))


def nakagami_correlation(m: float, rho: float) -> float:
    """Lag correlation E[g(t+τ)·g(t)*]/Ω of :class:`NakagamiFading` for a step correlation ρ (–).

    The phase random walk contributes ρ and the amplitude copula E[a a']/Ω (both independent).
    """
    return rho * nakagami_amplitude_correlation(m, rho)


class NakagamiFading:
    """Nakagami-m amplitudes with uniform phases and Gauss-Markov memory (Gaussian copula).

    The amplitude is F⁻¹(Φ(x)) with x a real AR(1) N(0, 1) process, so each element's marginal is
    exactly Nakagami(m, Ω): E[|g|²] = Ω. The phase is a :class:`PhaseRandomWalk`; the complex
    lag correlation is :func:`nakagami_correlation`. F⁻¹(q) = sqrt(Ω)·sqrt(P⁻¹(m, q)/m) with P⁻¹ the
    inverse regularised lower incomplete gamma function (the floats of ``scipy.stats.nakagami.ppf``,
    without its per-call argument checks).
    """

    def __init__(self, size: int, m: float, omega: float, rng: np.random.Generator) -> None:
        self._rng = rng
        self._m, self._scale = m, math.sqrt(omega)
        self._x = rng.standard_normal(size)
        self._phase = PhaseRandomWalk(size, rng)

    def value(self) -> np.ndarray:
        """Current complex fading vector."""
        q = np.clip(special.ndtr(self._x), 1e-15, 1 - 1e-15)
        amplitude = np.sqrt(1.0 / self._m * special.gammaincinv(self._m, q)) * self._scale
        return amplitude * self._phase.value

    def step(self, rho: float) -> np.ndarray:
        """Advance one step of correlation ``rho`` and return the new fading vector."""
        self._x = rho * self._x + math.sqrt(max(0.0, 1.0 - rho * rho)) * self._rng.standard_normal(self._x.size)
        self._phase.step(rho)
        return self.value()


TRANSMITTER_KINDS: Final = ("satellite", "uav", "bs")  #: what a transmitter is: the serving satellite, a UAV, a base station
SATELLITE: Final = "satellite"  #: the name of the (serving) satellite transmitter


@dataclass(frozen=True)
class TransmitterRadio:
    """One transmitter's radio model (Yin et al. eq. 1–3), in SI/linear units.

    Args:
        kind: ``satellite``, ``uav`` or ``bs`` (:data:`TRANSMITTER_KINDS`).
        antennas: N_t ≥ 1.
        coherence_s: configured small-scale coherence time (s).
        ref_gain: UAV g0 at 1 m (eq. 3) or base-station C0 of C0·r⁻⁴ (linear; unused for the satellite).
        rician_k: UAV Rician K factor (linear).
        nakagami_m, nakagami_omega: base-station Nakagami shape m and spread Ω = E|g|².
    """

    kind: str
    antennas: int
    coherence_s: float
    ref_gain: float = 1.0
    rician_k: float = 0.0
    nakagami_m: float = 1.0
    nakagami_omega: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in TRANSMITTER_KINDS:
            raise ValueError(f"transmitter kind must be one of {TRANSMITTER_KINDS}, got {self.kind!r}")
        if self.antennas < 1:
            raise ValueError(f"antennas must be >= 1, got {self.antennas}")


@dataclass(frozen=True)
class RadioParameters:
    """Radio parameters in SI/linear units (converted from the scenario's dB values at load).

    Args:
        carrier_freq_hz: shared carrier (Hz).
        bandwidth_hz, noise_figure_db: receiver noise N0 = −174 dBm/Hz + 10·log10(B) + NF.
        sat_max_gain: G_max (linear); sat_beam_3db_rad: α_3dB (rad) of the satellite's spot beam.
        sat_min_elevation_rad: below this elevation the satellite does not serve the site (rad).
        transmitters: every transmitter's radio model by name, in the order arrays use; exactly one
            of kind ``satellite``, named :data:`SATELLITE`.
        coherence_model: ``configured`` (each transmitter's ``coherence_s``) or ``jakes`` (per link,
            T_c = 0.423·λ/v from the relative speed v of its ends, at least ``jakes_min_speed_mps``).
        jakes_min_speed_mps: speed floor of a link under the Jakes model (m/s).

    :meth:`paper` builds Yin et al.'s three transmitters (``satellite``, ``uav``, ``bs``).
    """

    carrier_freq_hz: float
    bandwidth_hz: float
    noise_figure_db: float
    sat_max_gain: float
    sat_beam_3db_rad: float
    sat_min_elevation_rad: float
    transmitters: Mapping[str, TransmitterRadio]
    coherence_model: str = "configured"
    jakes_min_speed_mps: float = 0.5

    def __post_init__(self) -> None:
        object.__setattr__(self, "transmitters", dict(self.transmitters))
        satellites = [name for name, tx in self.transmitters.items() if tx.kind == "satellite"]
        if satellites != [SATELLITE]:
            raise ValueError(f"exactly one transmitter of kind 'satellite', named {SATELLITE!r}, is expected; got {satellites}")

    @classmethod
    def paper(cls, *, carrier_freq_hz: float, bandwidth_hz: float, noise_figure_db: float, sat_antennas: int, uav_antennas: int,
              bs_antennas: int, sat_max_gain: float, sat_beam_3db_rad: float, uav_ref_gain: float, uav_rician_k: float,
              bs_ref_gain: float, bs_nakagami_m: float, bs_nakagami_omega: float, sat_coherence_s: float, uav_coherence_s: float,
              bs_coherence_s: float, sat_min_elevation_rad: float, coherence_model: str = "configured",
              jakes_min_speed_mps: float = 0.5) -> "RadioParameters":
        """Yin et al.'s system: one satellite, one UAV (``uav``) and one base station (``bs``)."""
        return cls(carrier_freq_hz, bandwidth_hz, noise_figure_db, sat_max_gain, sat_beam_3db_rad, sat_min_elevation_rad, {
            SATELLITE: TransmitterRadio("satellite", sat_antennas, sat_coherence_s),
            "uav": TransmitterRadio("uav", uav_antennas, uav_coherence_s, ref_gain=uav_ref_gain, rician_k=uav_rician_k),
            "bs": TransmitterRadio("bs", bs_antennas, bs_coherence_s, ref_gain=bs_ref_gain, nakagami_m=bs_nakagami_m,
                                   nakagami_omega=bs_nakagami_omega),
        }, coherence_model, jakes_min_speed_mps)

    def with_antennas(self, antennas: int) -> "RadioParameters":
        """A copy with every transmitter's antenna count set to ``antennas``."""
        return replace(self, transmitters={name: replace(tx, antennas=antennas) for name, tx in self.transmitters.items()})

    def antenna_counts(self) -> tuple[int, ...]:
        """N_t in transmitter order."""
        return tuple(tx.antennas for tx in self.transmitters.values())

    def coherence_s(self, transmitter: str, relative_speed_mps: float) -> float:
        """Coherence time (s) of a link of ``transmitter`` whose ends move apart at ``relative_speed_mps``."""
        if self.coherence_model == "jakes":
            return JAKES_FACTOR * wavelength_m(self.carrier_freq_hz) / max(relative_speed_mps, self.jakes_min_speed_mps)
        return self.transmitters[transmitter].coherence_s

    @cached_property
    def noise_w(self) -> float:
        """Receiver noise power N0 (W)."""
        return noise_power_w(self.bandwidth_hz, self.noise_figure_db)


@dataclass(frozen=True)
class LinkGeometry:
    """What the channels need from the world at one instant (ENU metres, radians, dB).

    Args:
        satellite_m: satellite ENU position (m).
        satellite_elevation_rad: satellite elevation at the site (rad).
        beam_centre_m: ENU point the satellite beam is aimed at (m).
        transmitters_m: antenna position of every UAV and base station, by transmitter name (m).
        receivers_m: ENU positions of every receiver (users and Eves), by name (m).
        rain_fade_db: rain attenuation β on the satellite links (dB, ≥ 0).
        transmitters_velocity_mps, receivers_velocity_mps: velocities (ENU, m/s) of moving
            transmitters (UAVs) and receivers, for the Jakes coherence model (zero when not given).
    """

    satellite_m: np.ndarray
    satellite_elevation_rad: float
    beam_centre_m: np.ndarray
    transmitters_m: Mapping[str, np.ndarray]
    receivers_m: Mapping[str, np.ndarray]
    rain_fade_db: float
    transmitters_velocity_mps: Mapping[str, np.ndarray] | None = None
    receivers_velocity_mps: Mapping[str, np.ndarray] | None = None

    def link_speed_mps(self, transmitter: str, receiver: str) -> float:
        """Relative speed of a link's ends (m/s); the satellite's own motion is excluded (compensated Doppler)."""
        rx = np.zeros(3) if self.receivers_velocity_mps is None else np.asarray(self.receivers_velocity_mps.get(receiver, np.zeros(3)))
        moving = self.transmitters_velocity_mps or {}
        if transmitter in moving:
            return _norm(np.asarray(moving[transmitter], dtype=float) - rx)
        return _norm(np.asarray(rx, dtype=float))


@dataclass(frozen=True)
class LargeScale:
    """The deterministic parts of every channel at one instant (noise-normalised), by (transmitter, receiver).

    Args:
        amplitude: sqrt(C_L·b·β / N0) of a satellite link (0 below the minimum elevation),
            sqrt(G_L / N0) of a UAV link, sqrt(C0·r⁻⁴ / N0) of a base-station link.
        los: unit-modulus line-of-sight vector of each UAV link, with its range phase.
    """

    amplitude: dict[tuple[str, str], float]
    los: dict[tuple[str, str], np.ndarray]


def large_scale(params: RadioParameters, geo: LinkGeometry, transmitters: Sequence[str] | None = None) -> LargeScale:
    """Path gains (eq. 1–3), beam gain (eq. 2), rain fade and UAV line of sight for every link of ``geo``.

    Shared by the physical channel model and the twin's predictor (which evaluates it on its own
    view of the geometry: orbit, flight plans and the receivers' reported tracks, one transmitter's
    links at a time: ``transmitters`` limits the links to theirs; default all). The satellite's
    gains are evaluated for all receivers at once (the same element-wise floats as one at a time).
    """
    wavelength = wavelength_m(params.carrier_freq_hz)
    scale = 1.0 / math.sqrt(params.noise_w)
    amplitude, los = {}, {}
    for name in params.transmitters if transmitters is None else transmitters:
        tx = params.transmitters[name]
        if tx.kind == "satellite":
            amplitude.update(((name, r), a) for r, a in _satellite_amplitudes(params, geo, wavelength, scale).items())
        elif tx.kind == "uav":
            uav_m = geo.transmitters_m[name]
            for r, rx in geo.receivers_m.items():
                uav_vec = rx - uav_m
                amplitude[name, r] = scale * math.sqrt(uav_large_scale_gain(tx.ref_gain, _norm(uav_vec)))
                los[name, r] = line_of_sight(tx.antennas, wavelength, uav_vec)
        else:
            bs_m = geo.transmitters_m[name]
            distances = np.array([_norm(rx - bs_m) for rx in geo.receivers_m.values()])
            gains = bs_large_scale_gain(tx.ref_gain, distances).tolist()
            amplitude.update(((name, r), scale * math.sqrt(gain)) for r, gain in zip(geo.receivers_m, gains))
    return LargeScale(amplitude, los)


@lru_cache(maxsize=64)
def _rain_factor(rain_fade_db: float) -> float:
    """β as a power ratio, 10^(−β_dB/10) (–); the weather holds a fade for many ticks."""
    return float(db_to_linear(-rain_fade_db))


def _satellite_amplitudes(params: RadioParameters, geo: LinkGeometry, wavelength: float, scale: float) -> dict[str, float]:
    """sqrt(C_L·b·β / N0) of the satellite's link to each receiver (0 below the minimum elevation) (Yin et al. eq. 1–2)."""
    receivers = list(geo.receivers_m)
    if geo.satellite_elevation_rad < params.sat_min_elevation_rad:
        return dict.fromkeys(receivers, 0.0)
    boresight = _unit(geo.beam_centre_m - geo.satellite_m)
    rain_factor = _rain_factor(geo.rain_fade_db)
    off_axis, distances = np.empty(len(receivers)), np.empty(len(receivers))
    for i, r in enumerate(receivers):
        to_rx = geo.receivers_m[r] - geo.satellite_m
        distance = _norm(to_rx)
        off_axis[i] = math.acos(min(max(float(boresight.dot(_unit(to_rx))), -1.0), 1.0))
        distances[i] = distance
    gains = free_space_gain(wavelength, distances) * spot_beam_gain(off_axis, params.sat_beam_3db_rad, params.sat_max_gain)
    return {r: scale * math.sqrt(gain * rain_factor) for r, gain in zip(receivers, gains.tolist())}


def interference_to_noise(params: RadioParameters, power_w: float, satellites_m: np.ndarray, geocentre_m: np.ndarray,
                          receivers_m: Mapping[str, np.ndarray], rain_fade_db: float) -> dict[str, float]:
    """I_r/N0 at each receiver from satellites that each radiate ``power_w`` (W) with a spot beam at their own nadir.

    Args:
        params: the radio model (carrier, noise, G_max, α_3dB).
        power_w: each interferer's transmit power (W).
        satellites_m: interferers' ENU positions (m), shape (n, 3).
        geocentre_m: the Earth's centre in the same ENU frame (m): each beam's boresight points at it.
        receivers_m: receiver name → ENU position (m).
        rain_fade_db: rain attenuation β on every satellite path (dB).

    I_r = P·Σ_s C_L(r_s)·b(α_s)·β (Yin et al. eq. 1–2, the same gain formulas as the serving
    satellite): the mean power of a satellite's signal whatever its precoder, since the element
    phases are independent and uniform. α_s is the angle at satellite s between its nadir and the receiver.
    """
    satellites_m = np.asarray(satellites_m, dtype=float).reshape(-1, 3)
    if satellites_m.shape[0] == 0:
        return {r: 0.0 for r in receivers_m}
    wavelength = wavelength_m(params.carrier_freq_hz)
    nadir = np.asarray(geocentre_m, dtype=float) - satellites_m
    nadir /= np.linalg.norm(nadir, axis=1, keepdims=True)
    rain_factor = float(db_to_linear(-rain_fade_db))
    out = {}
    for r, rx in receivers_m.items():
        to_rx = np.asarray(rx, dtype=float) - satellites_m
        distance = np.linalg.norm(to_rx, axis=1)
        off_axis = np.arccos(np.clip(np.einsum("ij,ij->i", nadir, to_rx) / distance, -1.0, 1.0))
        gain = free_space_gain(wavelength, distance) * spot_beam_gain(off_axis, params.sat_beam_3db_rad, params.sat_max_gain)
        out[r] = float(power_w * rain_factor * np.sum(gain) / params.noise_w)
    return out


def with_interference(channels: ChannelMatrix, interference_to_noise: Mapping[str, float]) -> ChannelMatrix:
    """The channels with each receiver's noise raised by its interference: every vector to r divided by sqrt(1 + I_r/N0).

    The channels are noise-normalised, so this keeps the secrecy maths (unit noise) unchanged.
    """
    values = channels.values.copy()
    for r, receiver in enumerate(channels.topology.receivers):
        values[:, r, :] = values[:, r, :] / math.sqrt(1.0 + interference_to_noise.get(receiver, 0.0))
    return ChannelMatrix(channels.topology, values)


def fading_stream(transmitter: str, kind: str, receiver: str) -> str:
    """Name of the seeded generator of one link's small-scale fading (``fading.sat.<r>`` for the satellite)."""
    return f"fading.{'sat' if kind == 'satellite' else transmitter}.{receiver}"


class ChannelModel:
    """Every transmitter→receiver channel of a topology, with geometry-driven gains and evolving fading.

    Args:
        params: radio parameters (one model per transmitter, in the topology's transmitter order).
        topology: who transmits, the receivers (users, then Eves) and the antenna counts.
        rng_for: a function giving the seeded generator of a named component.
    """

    def __init__(self, params: RadioParameters, topology: Topology, rng_for) -> None:
        if tuple(params.transmitters) != topology.transmitters:
            raise ValueError(f"radio transmitters {tuple(params.transmitters)} differ from the topology's {topology.transmitters}")
        self.params = params
        self.topology = topology
        self._fading: dict[tuple[str, str], object] = {}
        for name, tx in params.transmitters.items():
            for r in topology.receivers:
                rng = rng_for(fading_stream(name, tx.kind, r))
                if tx.kind == "satellite":
                    self._fading[name, r] = PhaseRandomWalk(tx.antennas, rng)
                elif tx.kind == "uav":
                    self._fading[name, r] = GaussMarkov(tx.antennas, rng)
                else:
                    self._fading[name, r] = NakagamiFading(tx.antennas, tx.nakagami_m, tx.nakagami_omega, rng)
        self._last_t_s: float | None = None

    def restart_satellite_fading(self) -> None:
        """Another satellite now serves: its small-scale fading is independent of the previous one's (new phases)."""
        for r in self.topology.receivers:
            self._fading[SATELLITE, r].restart()

    def step(self, t_s: float, geo: LinkGeometry) -> ChannelMatrix:
        """Advance the fading to ``t_s`` (s) and return the noise-normalised channels for ``geo``."""
        p = self.params
        top = self.topology
        dt = 0.0 if self._last_t_s is None else t_s - self._last_t_s
        self._last_t_s = t_s
        big = large_scale(p, geo)
        values = np.zeros((len(top.transmitters), len(top.receivers), max(top.antennas.values())), dtype=complex)
        for r, receiver in enumerate(top.receivers):
            for t, (name, tx) in enumerate(p.transmitters.items()):
                speed = geo.link_speed_mps(name, receiver) if p.coherence_model == "jakes" else 0.0  # only Jakes uses it
                rho = gauss_markov_rho(dt, p.coherence_s(name, speed))
                fading = self._fading[name, receiver]
                amplitude = big.amplitude[name, receiver]
                if tx.kind == "satellite":  # eq. 1–2: h = sqrt(C_L·b·β)·exp(−jθ), θ uniform (a phase random walk)
                    vector = amplitude * np.conj(fading.step(rho))
                elif tx.kind == "uav":  # eq. 3: Rician, line of sight with its range phase plus a Gauss-Markov scattered part
                    k1, k2 = rician_weights(tx.rician_k)
                    vector = amplitude * (k1 * big.los[name, receiver] + k2 * fading.step(rho))
                else:  # base station: sqrt(C0·r⁻⁴)·g0 with Nakagami-m small-scale fading
                    vector = amplitude * fading.step(rho)
                values[t, r, : tx.antennas] = vector
        return ChannelMatrix(top, values)


def estimate_with_error(channel: np.ndarray, relative_error: float, rng: np.random.Generator) -> np.ndarray:
    """A channel estimate ĥ = h − Δh with ‖Δh‖ = Δ·‖h‖ in a uniformly random complex direction.

    The error sits on the boundary of the norm ball ‖Δh‖ ≤ Δ‖h‖ (shared/DESIGN.md section 2).
    """
    if relative_error == 0:
        return channel.copy()
    direction = rng.standard_normal(channel.size) + 1j * rng.standard_normal(channel.size)
    direction /= np.linalg.norm(direction)
    return channel - relative_error * np.linalg.norm(channel) * direction
