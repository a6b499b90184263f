"""The twin's channel predictor: mean and error covariance of every channel when a decision is used.

A decision designed at time t on reports measured at t₀ is judged on the channel at t₁ ≥ t (after
the compute delay, the decision link and until the next decision). The predictor carries each
report forward to t₁ with the twin's *models* — never the true channels (shared/DESIGN.md §8.1):

- satellite → r: ĥ(t₁) = c_S(τ)·[A(t₁)/A(t₀)]·h(t₀), C = A(t₁)²·P_S·(1 − c_S²)·I, with A the
  large-scale amplitude (free-space loss and spot-beam gain, Yin et al. eq. 1–2) from the twin's
  own ephemeris and the receivers' reported tracks, τ = t₁ − t₀;
- UAV → r (Rician, eq. 3): the report is split into its line of sight (known from the flight plan
  and the tracks, with its range phase) and the scattered part z = (a/s − k₁·a_LoS)/k₂; the line of
  sight is predicted exactly and z by c_U(τ)·z, C = s(t₁)²·k₂²·P_U·(1 − c_U²)·I;
- base station → r: ĝ(t₁) = c_B(τ)·[s(t₁)/s(t₀)]·g(t₀), C = s(t₁)²·P_B·(1 − c_B²)·I;
- Eve: the same, applied to the transmitters' *estimates*, plus the estimation error as a covariance
  γ²·Δ²·‖ĥ_e‖²/N·I, where γ is the predictor's gain on the report (Δ: the configured error bound).

c(τ) is the MMSE coefficient of each normalised fading process at lag τ, modelled as
exp(−τ/T) with T learned online from consecutive reports (the configured coherence time is the
prior); P is the learned mean power per element of the normalised process. Each report of a
transmitter also *scores* the forecast made for its measurement time: the ratio of the realised
squared error to the predicted one, tr-normalised (1 = calibrated). Its running mean scales the
covariances the predictor hands out, so the twin learns how wrong it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final, Mapping, Sequence

import numpy as np

from physical.channel_matrix import ChannelMatrix, Topology
from physical.channels import LargeScale, LinkGeometry, RadioParameters, TransmitterRadio, large_scale, rician_weights
from physical.mobility import WaypointTrajectory
from physical.reports import TransmitterReport

PRIOR_PAIRS: Final = 20.0  #: weight of the configured coherence time, in report pairs
MEMORY_PAIRS: Final = 300.0  #: the learned statistics forget with this time constant (report pairs)
CALIBRATION_MEMORY: Final = 100.0  #: the calibration ratio forgets with this time constant (scores)
CALIBRATION_RANGE: Final = (0.25, 4.0)  #: bounds of the covariance scale learned from the scores
CORRELATION_CLIP: Final = (1e-6, 1.0 - 1e-9)  #: a learned lag correlation is kept inside this range
EXPECTATION_DRAWS: Final = 256  #: Monte-Carlo draws per judged instant for expected rates
_EXPECTATION_SEED: Final = 20261127  #: fixed common random numbers of the expectation (a quadrature rule)
PLATFORM_MEMORY: Final = 64  #: instants whose satellite and transmitter positions the twin's geometry remembers


class SatelliteTrack:
    """The twin's ephemeris: satellite ENU position (m) and elevation (rad) at any time of the run.

    Built from the geometry the twin propagated from the public TLE at the run's ticks; positions
    between ticks are interpolated linearly (a LEO moves ≈ 7 km in a second on a nearly straight line).
    With a constellation the track is the serving satellite's, and ``serving`` names it per tick (the
    twin predicts it from the public elements and the declared rule); between two ticks served by
    different satellites the earlier tick's satellite holds (no interpolation across a handover).
    """

    def __init__(self, times_s: np.ndarray, enu_m: np.ndarray, elevation_rad: np.ndarray,
                 serving: Sequence[str | None] | None = None) -> None:
        self.times_s = np.asarray(times_s, float)
        self.enu_m = np.asarray(enu_m, float).reshape(-1, 3)
        self.elevation_rad = np.asarray(elevation_rad, float)
        self.serving = tuple(serving) if serving is not None else None
        if self.serving is not None and len(self.serving) != self.times_s.size:
            raise ValueError(f"serving names {len(self.serving)} ticks, the track {self.times_s.size}")

    @classmethod
    def from_geometry(cls, geometry, serving: Sequence[str | None] | None = None) -> "SatelliteTrack":
        """From a :class:`physical.orbit.SiteGeometry` (per-tick arrays) and, with a constellation, the serving satellite per tick."""
        n = len(geometry.t_s)
        return cls(geometry.t_s, np.array([geometry.satellite_enu_m(k) for k in range(n)]), geometry.elevation_rad, serving)

    def _tick(self, t_s: float) -> int:
        """Index of the last tick at or before ``t_s`` (clamped to the track)."""
        return int(np.clip(np.searchsorted(self.times_s, t_s + 1e-9, side="right") - 1, 0, self.times_s.size - 1))

    def serving_at(self, t_s: float) -> str | None:
        """The satellite serving at ``t_s`` (s) by the twin's prediction (None with one satellite, or when none serves)."""
        return None if self.serving is None else self.serving[self._tick(t_s)]

    def at(self, t_s: float) -> tuple[np.ndarray, float]:
        """(ENU position (m), elevation (rad)) at ``t_s`` (s), clamped to the tracked span."""
        t = float(np.clip(t_s, self.times_s[0], self.times_s[-1]))
        if self.serving is not None:
            k = self._tick(t)
            if k + 1 < self.times_s.size and self.serving[k] != self.serving[k + 1] and t > self.times_s[k]:
                return self.enu_m[k].copy(), float(self.elevation_rad[k])
        pos = np.array([np.interp(t, self.times_s, self.enu_m[:, i]) for i in range(3)])
        return pos, float(np.interp(t, self.times_s, self.elevation_rad))


@dataclass(frozen=True)
class TwinKnowledge:
    """What the twin knows besides its reports: models and plans, not the true state.

    Args:
        radio: the radio model (one per transmitter: gains, antenna counts, prior coherence times; noise).
        topology: who transmits to whom (transmitters, users, Eves by name).
        satellite: the twin's ephemeris of the (serving) satellite.
        beam_centre_m: where the satellite's beam is pointed (ENU, m).
        uav_plans: each UAV's flight plan, by transmitter name.
        bs_m: each base station's antenna position (ENU, m), by transmitter name.
        eve_error_bound: Δ, relative norm of the transmitters' error on Eve's channels (–).
    """

    radio: RadioParameters
    topology: Topology
    satellite: SatelliteTrack
    beam_centre_m: np.ndarray
    uav_plans: Mapping[str, WaypointTrajectory]
    bs_m: Mapping[str, np.ndarray]
    eve_error_bound: float
    _platforms: dict = field(default_factory=dict, init=False, repr=False, compare=False)  #: t → :meth:`_platforms_at`

    def _platforms_at(self, t_s: float) -> tuple[np.ndarray, float, dict[str, np.ndarray]]:
        """(satellite ENU (m), elevation (rad), transmitter positions (m)) at ``t_s`` (s), remembered for the
        last :data:`PLATFORM_MEMORY` instants (every forecast asks for the same few ticks; read-only arrays)."""
        out = self._platforms.get(t_s)
        if out is None:
            if len(self._platforms) >= PLATFORM_MEMORY:
                del self._platforms[next(iter(self._platforms))]
            sat_m, elevation = self.satellite.at(t_s)
            transmitters_m = {**{name: plan.position_m(t_s) for name, plan in self.uav_plans.items()},
                              **{name: np.asarray(p, dtype=float) for name, p in self.bs_m.items()}}
            out = self._platforms[t_s] = (sat_m, elevation, transmitters_m)
        return out

    def geometry(self, t_s: float, receivers_m: Mapping[str, np.ndarray], rain_fade_db: float) -> LinkGeometry:
        """The link geometry at ``t_s`` (s) on the twin's view."""
        sat_m, elevation, transmitters_m = self._platforms_at(t_s)
        return LinkGeometry(sat_m, elevation, self.beam_centre_m, transmitters_m, dict(receivers_m), rain_fade_db)


class LagCorrelation:
    """Lag correlation c(τ) = exp(−τ/T) and mean element power P of a normalised fading process.

    T is learned from pairs of consecutive normalised samples (u₀, u₁) a lag δ apart:
    ĉ(δ) = Σ Re(u₁·u₀*) / sqrt(Σ|u₀|²·Σ|u₁|²), T = −δ / ln ĉ(δ); the configured coherence time
    enters as :data:`PRIOR_PAIRS` pseudo-pairs.
    """

    def __init__(self, prior_coherence_s: float, prior_power: float = 1.0) -> None:
        self.prior_coherence_s = prior_coherence_s
        self._rate_weight = PRIOR_PAIRS
        self._rate_sum = PRIOR_PAIRS / prior_coherence_s  # Σ weight·(1/T)
        self._power_weight = PRIOR_PAIRS
        self._power_sum = PRIOR_PAIRS * prior_power
        self.pairs = 0

    def observe(self, before: np.ndarray, after: np.ndarray, lag_s: float) -> None:
        """Learn from one pair of normalised samples (any shape, elements iid) ``lag_s`` apart (s)."""
        if lag_s <= 0 or before.size == 0:
            return
        p0, p1 = float(np.sum(np.abs(before) ** 2)), float(np.sum(np.abs(after) ** 2))
        if p0 <= 0 or p1 <= 0:
            return
        c = float(np.sum((after * np.conj(before)).real)) / math.sqrt(p0 * p1)
        c = min(max(c, CORRELATION_CLIP[0]), CORRELATION_CLIP[1])
        keep = 1.0 - 1.0 / MEMORY_PAIRS
        self._rate_sum = keep * self._rate_sum + (-math.log(c) / lag_s)
        self._rate_weight = keep * self._rate_weight + 1.0
        self._power_sum = keep * self._power_sum + p1 / after.size
        self._power_weight = keep * self._power_weight + 1.0
        self.pairs += 1

    @property
    def coherence_s(self) -> float:
        """The learned coherence time T (s)."""
        return self._rate_weight / self._rate_sum

    @property
    def power(self) -> float:
        """Mean power per element of the normalised process (–)."""
        return self._power_sum / self._power_weight

    def correlation(self, tau_s: float) -> float:
        """c(τ) = exp(−τ/T) for a lag τ ≥ 0 (s)."""
        return math.exp(-max(tau_s, 0.0) / self.coherence_s)


@dataclass
class Calibration:
    """Running mean of realised / predicted squared error of a transmitter's forecasts (1 = calibrated)."""

    ratio: float = 1.0
    weight: float = 0.0
    scores: list[float] = field(default_factory=list)  # since the last :meth:`drain`

    def add(self, score: float) -> None:
        keep = 1.0 - 1.0 / CALIBRATION_MEMORY
        self.ratio = (keep * self.weight * self.ratio + score) / (keep * self.weight + 1.0)
        self.weight = keep * self.weight + 1.0
        self.scores.append(score)

    @property
    def scale(self) -> float:
        """Factor applied to this transmitter's predicted covariances."""
        return min(max(self.ratio, CALIBRATION_RANGE[0]), CALIBRATION_RANGE[1]) if self.weight > 0 else 1.0

    def drain(self) -> float:
        """Mean score since the last call (NaN if none) and reset that list."""
        out = float(np.mean(self.scores)) if self.scores else math.nan
        self.scores = []
        return out


@dataclass(frozen=True)
class Forecast:
    """Predicted channels at the instants a decision will be judged.

    Args:
        topology: who transmits to whom.
        times_s: the judged instants (s).
        means: per instant, (transmitter, receiver) → predicted mean (noise units).
        covariances: per instant, (transmitter, receiver) → error covariance (noise units).
        made_at_s: when the forecast was made (s).
    """

    topology: Topology
    times_s: tuple[float, ...]
    means: tuple[dict[tuple[str, str], np.ndarray], ...]
    covariances: tuple[dict[tuple[str, str], np.ndarray], ...]
    made_at_s: float

    def _pairs(self) -> list[tuple[str, str]]:
        top = self.topology
        return [(tx, r) for tx in top.transmitters for r in top.receivers]

    def design_matrix(self) -> ChannelMatrix:
        """The predicted mean channels at the first judged instant (for vector designs)."""
        return ChannelMatrix.from_vectors(self.topology, self.means[0])

    def second_moments(self) -> dict[tuple[str, str], np.ndarray]:
        """E[h·hᴴ] = m·mᴴ + C averaged over the judged instants, per (transmitter, receiver)."""
        out = {}
        for pair in self._pairs():
            out[pair] = sum(_outer(m[pair]) + c[pair] for m, c in zip(self.means, self.covariances)) / len(self.times_s)
        return out

    def _reachable(self, means: dict, covs: dict, user: str) -> bool:
        """Whether the forecast gives the user's own link a mean or a spread (the user can be served)."""
        pair = (self.topology.serving[user], user)
        return bool((means[pair] != 0).any() or covs[pair].trace().real > 0)

    def moment_min_rate(self, precoders: Mapping[str, np.ndarray]) -> float:
        """Min over the servable users of the moment-matched rates (bit/s/Hz), averaged over the instants.

        Every received power |hᴴx_k|² is replaced by its mean x_kᴴ·R·x_k — the objective the
        statistical designs maximise; a cheap closed form for trigger checks. ``precoders``: user → x_k.
        """
        top = self.topology
        receivers = top.receivers
        values = []
        for means, covs in zip(self.means, self.covariances):
            power = {}
            for user in top.users:
                x, tx = precoders[user], top.serving[user]
                m = np.array([means[tx, r] for r in receivers])  # (R, N): every receiver of the user's transmitter at once
                received = (m[:, :, None] * m.conj()[:, None, :] + np.array([covs[tx, r] for r in receivers])) @ x
                for r, y in zip(receivers, received):
                    power[user, r] = float(np.vdot(x, y).real)
            eve_total = {e: sum(power[u, e] for u in top.users) + 1.0 for e in top.eves}
            rates = []
            for user in top.users:
                if not self._reachable(means, covs, user):
                    continue
                total = sum(power[u, user] for u in top.users) + 1.0
                own = power[user, user]
                leak = max(math.log2(eve_total[e] / (eve_total[e] - power[user, e])) for e in top.eves)
                rates.append(max(0.0, math.log2(total / (total - own)) - leak))
            if rates:
                values.append(min(rates))
        return float(np.mean(values)) if values else math.nan

    def expected_rates(self, precoders: Mapping[str, np.ndarray]) -> tuple[dict[str, float], float]:
        """(E[R_k] per served user, E[min_k R_k]) over the forecast distribution (bit/s/Hz).

        Channels are drawn as m + C^½·ξ from fixed standard complex normal ξ, independent between
        links as the true fading is (common random numbers across instants and solves,
        :data:`EXPECTATION_DRAWS` per instant); rates are the clipped secrecy rates of
        Yin et al. eq. 14–16 against the strongest Eve and the min runs over the users the forecast
        can serve. ``precoders``: user → x_k.
        """
        top = self.topology
        per_user: dict[str, list[np.ndarray]] = {u: [] for u in top.users}
        minima = []
        for means, covs in zip(self.means, self.covariances):
            power = {}
            for t, tx in enumerate(top.transmitters):
                users = top.users_of(tx)
                if not users:
                    continue
                first = t * len(top.receivers)  # each (transmitter, receiver) link its own draws
                conj = _stacked_draws([means[tx, r] for r in top.receivers], [covs[tx, r] for r in top.receivers],
                                      range(first, first + len(top.receivers))).conj()
                for user in users:
                    received = np.abs(conj @ precoders[user]) ** 2  # (receivers, draws)
                    power.update(((user, r), row) for r, row in zip(top.receivers, received))
            served = [u for u in top.users if self._reachable(means, covs, u)]
            rates = {}
            eve_total = {e: sum(power[u, e] for u in top.users) + 1.0 for e in top.eves}
            for user in top.users:
                total = sum(power[u, user] for u in top.users) + 1.0
                own = power[user, user]
                leaks = [np.log2(eve_total[e] / (eve_total[e] - power[user, e])) for e in top.eves]
                leak = leaks[0] if len(leaks) == 1 else np.max(np.stack(leaks), axis=0)
                rates[user] = np.maximum(0.0, np.log2(total / (total - own)) - leak)
                if user in served:
                    per_user[user].append(rates[user])
            if served:
                minima.append(np.min(np.stack([rates[u] for u in served]), axis=0))
        expected = {u: float(np.mean(np.concatenate(r))) for u, r in per_user.items() if r}
        return expected, float(np.mean(np.concatenate(minima))) if minima else math.nan


def _outer(mean: np.ndarray) -> np.ndarray:
    """m·mᴴ (the floats of ``np.outer(m, m.conj())``, without its overhead)."""
    return mean[:, None] * mean.conj()[None, :]


_STILL = np.zeros(3)  #: the velocity of a receiver that reports none (m/s)
_STILL.flags.writeable = False
_EYE: dict[int, np.ndarray] = {}  #: read-only identity matrices by size


def _eye(n: int) -> np.ndarray:
    eye = _EYE.get(n)
    if eye is None:
        eye = _EYE[n] = np.eye(n)
        eye.flags.writeable = False
    return eye


_UNIT_DRAWS: dict[tuple[int, int], np.ndarray] = {}


def _unit_draws(n: int, link: int = 0) -> np.ndarray:
    """The fixed (EXPECTATION_DRAWS, n) standard complex normal draws of link number ``link`` (independent between links)."""
    key = (n, link)
    if key not in _UNIT_DRAWS:
        rng = np.random.default_rng(np.random.SeedSequence(_EXPECTATION_SEED, spawn_key=key))
        _UNIT_DRAWS[key] = (rng.standard_normal((EXPECTATION_DRAWS, n)) + 1j * rng.standard_normal((EXPECTATION_DRAWS, n))) / math.sqrt(2)
    return _UNIT_DRAWS[key]


_STACKED_UNIT_DRAWS: dict[tuple[int, tuple[int, ...]], np.ndarray] = {}


def _stacked_unit_draws(n: int, links: tuple[int, ...]) -> np.ndarray:
    """(links, EXPECTATION_DRAWS, n): :func:`_unit_draws` of each link, stacked once (read-only)."""
    key = (n, links)
    if key not in _STACKED_UNIT_DRAWS:
        stacked = np.stack([_unit_draws(n, link) for link in links])
        stacked.flags.writeable = False
        _STACKED_UNIT_DRAWS[key] = stacked
    return _STACKED_UNIT_DRAWS[key]


def _identity_scale(cov: np.ndarray) -> float | None:
    """v if ``cov`` is exactly v·I with v ≥ 0 (what the predictor hands out), else None."""
    v = cov[0, 0]
    if v.imag == 0.0 and v.real >= 0.0 and np.array_equal(cov, v.real * _eye(cov.shape[0])):
        return v.real
    return None


def _stacked_draws(means: Sequence[np.ndarray], covs: Sequence[np.ndarray], links: Sequence[int]) -> np.ndarray:
    """(links, EXPECTATION_DRAWS, N): :func:`_draws` of each (mean, cov, link), in one product when every C is v·I."""
    scales = [_identity_scale(cov) for cov in covs]
    if None in scales:
        return np.stack([_draws(m, c, link) for m, c, link in zip(means, covs, links)])
    unit = _stacked_unit_draws(means[0].size, tuple(links))
    return np.array(means)[:, None, :] + unit * np.sqrt(scales)[:, None, None]


def _draws(mean: np.ndarray, cov: np.ndarray, link: int = 0) -> np.ndarray:
    """(EXPECTATION_DRAWS, N) samples of CN(mean, cov) from link ``link``'s fixed standard draws.

    The square root of C is taken from its eigendecomposition; for C = v·I with v ≥ 0 (what the
    predictor hands out) it is sqrt(v)·I, and the draws are scaled directly (the same floats, up to
    the sign of a zero).
    """
    n = mean.size
    unit = _unit_draws(n, link)
    v = _identity_scale(cov)
    if v is not None:
        return mean[None, :] + unit * math.sqrt(v)
    vals, vecs = np.linalg.eigh((cov + cov.conj().T) / 2)
    root = (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.conj().T
    return mean[None, :] + unit @ root.T


class ChannelPredictor:
    """Forecasts the twin's channels from its latest reports and learns its own error statistics.

    Args:
        knowledge: the twin's models and plans.
    """

    def __init__(self, knowledge: TwinKnowledge) -> None:
        self.knowledge = knowledge
        radio = knowledge.radio
        self.topology = knowledge.topology
        # priors: the radio model's coherence times (under the Jakes model at a UAV's planned speed / the speed floor)
        self.fading = {}
        for name, tx in radio.transmitters.items():
            if tx.kind == "uav":
                self.fading[name] = LagCorrelation(radio.coherence_s(name, knowledge.uav_plans[name].speed_mps))
            elif tx.kind == "bs":
                self.fading[name] = LagCorrelation(radio.coherence_s(name, 0.0), prior_power=tx.nakagami_omega)
            else:
                self.fading[name] = LagCorrelation(radio.coherence_s(name, 0.0))
        self.calibration = {tx: Calibration() for tx in self.topology.transmitters}
        self._previous: dict[str, tuple[float, dict[str, np.ndarray], str | None]] = {}  # tx → (t, normalised user fading, satellite)
        self._pending: dict[tuple[str, float], dict[str, tuple[np.ndarray, np.ndarray]]] = {}
        self._at_report: dict[str, tuple[TransmitterReport, float, LargeScale]] = {}  # tx → (report, rain fade, model)

    def _radio(self, transmitter: str) -> TransmitterRadio:
        return self.knowledge.radio.transmitters[transmitter]

    # -- learning -------------------------------------------------------------------------------
    def _normalised(self, report: TransmitterReport, rain_fade_db: float) -> dict[str, np.ndarray]:
        """The small-scale part of each user channel in a report (unit mean power per element)."""
        tx = report.transmitter
        radio = self._radio(tx)
        big = self._large_scale_at_report(report, rain_fade_db)
        out = {}
        for user in self.topology.users:
            h = report.channels[user]
            if radio.kind == "satellite":
                magnitude = np.abs(h)
                if np.all(magnitude > 0):
                    out[user] = h / magnitude
            elif radio.kind == "uav":
                k1, k2 = rician_weights(radio.rician_k)
                out[user] = (h / big.amplitude[tx, user] - k1 * big.los[tx, user]) / k2
            else:
                out[user] = h / big.amplitude[tx, user]
        return out

    def observe(self, report: TransmitterReport, rain_fade_db: float) -> None:
        """Learn from a new report: score the forecast made for its time and update the fading statistics."""
        tx = report.transmitter
        pending = self._pending.pop((tx, report.measured_at_s), None)
        if pending is not None:
            errors = [np.sum(np.abs(report.channels[u] - m) ** 2) for u, (m, _) in pending.items()]
            predicted = [np.trace(c).real for _, (_, c) in pending.items()]
            if sum(predicted) > 0:
                self.calibration[tx].add(float(sum(errors) / sum(predicted)))
        self._pending = {k: v for k, v in self._pending.items() if k[1] > report.measured_at_s or k[0] != tx}
        current = self._normalised(report, rain_fade_db)
        previous = self._previous.get(tx)
        if previous is not None and previous[2] != report.serving_satellite:
            previous = None  # a handover between the two reports: another satellite's fading, no correlation to learn
        if previous is not None:
            t0, before, _ = previous
            pairs = [(before[u], current[u]) for u in self.topology.users if u in before and u in current]
            if pairs:
                self.fading[tx].observe(np.concatenate([b for b, _ in pairs]), np.concatenate([a for _, a in pairs]),
                                        report.measured_at_s - t0)
        self._previous[tx] = (report.measured_at_s, current, report.serving_satellite)

    # -- forecasting ----------------------------------------------------------------------------
    def handover_between(self, report: TransmitterReport, t1_s: float) -> bool:
        """Whether another satellite than the one that measured ``report`` serves at ``t1_s`` (s), by the twin's prediction.

        Its fading is then independent of the report's: the forecast is the large-scale amplitude
        with no mean (no correlation carried across the handover).
        """
        measured_by = report.serving_satellite
        serving = self.knowledge.satellite.serving_at(t1_s)
        return measured_by is not None and serving is not None and serving != measured_by

    def _large_scale_at(self, report: TransmitterReport, t_s: float, rain_fade_db: float):
        """The twin's large-scale model of the links of ``report``'s transmitter at ``t_s`` (s), the receivers moved
        on from ``report``'s positions at their reported velocities (at the report's own instant: the reported positions)."""
        know = self.knowledge
        tau = max(t_s - report.measured_at_s, 0.0)
        tracks = report.receivers_m if t_s == report.measured_at_s else {
            r: report.receivers_m[r] + report.receivers_velocity_mps.get(r, _STILL) * tau for r in report.receivers_m}
        return large_scale(know.radio, know.geometry(t_s, tracks, rain_fade_db), (report.transmitter,))

    def _large_scale_at_report(self, report: TransmitterReport, rain_fade_db: float):
        """:meth:`_large_scale_at` ``report``'s own instant, computed once per report and rain fade (learning from
        the report and every forecast made from it share it)."""
        cached = self._at_report.get(report.transmitter)
        if cached is None or cached[0] is not report or cached[1] != rain_fade_db:
            cached = self._at_report[report.transmitter] = (
                report, rain_fade_db, self._large_scale_at(report, report.measured_at_s, rain_fade_db))
        return cached[2]

    def _predict(self, report: TransmitterReport, t1_s: float, big0, big1) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Receiver → (mean, error covariance) of every link of ``report`` at ``t1_s`` (s) (Eves: from the
        transmitter's estimates), given the large-scale model ``big0`` at the report's instant and ``big1``
        at ``t1_s`` (``_large_scale_at``)."""
        tx = report.transmitter
        kind = self._radio(tx).kind
        tau = max(t1_s - report.measured_at_s, 0.0)
        fading = self.fading[tx]
        c, power = fading.correlation(tau), fading.power
        calibration = self.calibration[tx].scale
        bound = self.knowledge.eve_error_bound
        k1, k2 = rician_weights(self._radio(tx).rician_k) if kind == "uav" else (0.0, 0.0)
        handover = kind == "satellite" and self.handover_between(report, t1_s)
        links = [(r, report.channels[r], False) for r in self.topology.users]
        links += [(r, report.eve_estimates[r], True) for r in self.topology.eves]
        out = {}
        for receiver, channel, is_estimate in links:
            n = channel.size
            s0, s1 = big0.amplitude[tx, receiver], big1.amplitude[tx, receiver]
            if kind == "satellite":
                if s1 == 0.0:
                    out[receiver] = np.zeros(n, complex), np.zeros((n, n), complex)
                    continue
                measured = float(np.sqrt(np.mean(np.abs(channel) ** 2)))
                if s0 == 0.0 or measured == 0.0 or handover:
                    out[receiver] = np.zeros(n, complex), s1**2 * power * _eye(n)
                    continue
                ratio = s1 / s0
                gain = c * ratio
                mean = gain * channel
                variance = (ratio * measured) ** 2 * power * (1.0 - c * c)
            elif kind == "uav":
                z0 = (channel / s0 - k1 * big0.los[tx, receiver]) / k2
                gain = c * s1 / s0
                mean = s1 * (k1 * big1.los[tx, receiver] + k2 * c * z0)
                variance = s1**2 * k2**2 * power * (1.0 - c * c)
            else:
                gain = c * s1 / s0
                mean = gain * channel
                variance = s1**2 * power * (1.0 - c * c)
            variance *= calibration
            if is_estimate:  # the estimation error ‖Δ‖ = Δ·‖h_e‖ in a uniformly random direction
                variance += gain**2 * bound**2 * float(np.vdot(channel, channel).real) / n
            out[receiver] = mean, variance * _eye(n)
        return out

    def forecast(self, reports: Mapping[str, TransmitterReport], rain_fade_db: float, times_s: Sequence[float],
                 made_at_s: float) -> Forecast:
        """Predict every channel at ``times_s`` (s) from the latest ``reports`` (one per transmitter)."""
        top = self.topology
        means, covs = [], []
        # the large-scale model once per report and instant, shared by that transmitter's links
        at_report = {tx: self._large_scale_at_report(reports[tx], rain_fade_db) for tx in top.transmitters}
        for t1 in times_s:
            m_t, c_t = {}, {}
            for tx in top.transmitters:
                report = reports[tx]
                predicted = self._predict(report, t1, at_report[tx], self._large_scale_at(report, t1, rain_fade_db))
                for r, (mean, cov) in predicted.items():
                    m_t[tx, r], c_t[tx, r] = mean, cov
            means.append(m_t)
            covs.append(c_t)
        for tx in top.transmitters:  # remember what to score when the reports of those times arrive
            for k, t1 in enumerate(times_s):
                self._pending[(tx, t1)] = {u: (means[k][tx, u], covs[k][tx, u]) for u in top.users}
        return Forecast(top, tuple(times_s), tuple(means), tuple(covs), made_at_s)


def persistence_forecast(topology: Topology, reports: Mapping[str, TransmitterReport], times_s: Sequence[float],
                         made_at_s: float) -> Forecast:
    """The no-prediction view: the latest reports (Eve: the estimates) as exact channels at every judged instant."""
    m_t = {}
    for tx in topology.transmitters:
        for r in topology.users:
            m_t[tx, r] = reports[tx].channels[r]
        for r in topology.eves:
            m_t[tx, r] = reports[tx].eve_estimates[r]
    zeros = {pair: np.zeros((m.size, m.size), complex) for pair, m in m_t.items()}
    return Forecast(topology, tuple(times_s), tuple(m_t for _ in times_s), tuple(zeros for _ in times_s), made_at_s)
