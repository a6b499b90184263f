"""Weather at the ground site: a Markov chain over clear / cloudy / rain, and the rain fade.

The chain is a continuous-time Markov chain sampled at each step: a state with mean duration T
is left within Δt with probability 1 − exp(−Δt/T), to a next state drawn from its jump
probabilities. In rain the satellite links suffer the log-normal fade of Yin et al. (eq. 1):
ln(β_dB) ~ N(μ, σ²), with temporal memory through an AR(1) process on the underlying Gaussian
(correlation exp(−Δt/T_rain)). Clear and cloudy skies add no RF fade.

Clouds and optical links (the one rule, used by the QKD physics, the QKD network and its planner):
a free-space optical QKD link (satellite downlink or UAV link, ``OPTICAL_MEDIA``) is blocked when the
cloud cover at the site (fraction of the sky, 0–1) is above ``cloud_block_fraction`` (default
``DEFAULT_CLOUD_BLOCK_FRACTION`` = 0.5: a mostly overcast sky puts a cloud on the line of sight);
fiber is never blocked. The planner's weather patterns follow the same rule (``sky_pattern``). The
Markov chain assigns cover 0 to clear and 1 to cloudy and rain, so its states block for every
fraction below 1; a recorded trace gives the cover itself.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Final, Mapping

import numpy as np

WEATHER_STATES: Final = ("clear", "cloudy", "rain")  #: the chain's states


@dataclass(frozen=True)
class WeatherModel:
    """Parameters of the weather chain.

    Args:
        initial: the state at t = 0.
        mean_duration_s: mean sojourn time per state (s).
        jump_probabilities: for each state, the probabilities of the next state (summing to 1, no self-jumps).
        rain_fade_mu, rain_fade_variance: μ and σ² of ln(β_dB) in rain (Yin et al.: −3.152 and 1.6).
        rain_fade_correlation_s: memory of the fade process (s).
    """

    initial: str
    mean_duration_s: Mapping[str, float]
    jump_probabilities: Mapping[str, Mapping[str, float]]
    rain_fade_mu: float = -3.152
    rain_fade_variance: float = 1.6
    rain_fade_correlation_s: float = 60.0


#: cloud cover the Markov chain assigns to each state (fraction of sky)
CLOUD_COVER: Final = {"clear": 0.0, "cloudy": 1.0, "rain": 1.0}
#: QKD media that are free-space optical links, blocked by clouds (fiber is not)
OPTICAL_MEDIA: Final = frozenset({"satellite", "uav"})
#: cloud cover (fraction of sky, 0–1) above which optical QKD links are blocked
DEFAULT_CLOUD_BLOCK_FRACTION: Final = 0.5


def optical_link_blocked(cloud_cover: float, cloud_block_fraction: float = DEFAULT_CLOUD_BLOCK_FRACTION) -> bool:
    """True if a cloud cover of ``cloud_cover`` (0–1) blocks free-space optical links: cover > ``cloud_block_fraction`` (0–1)."""
    return cloud_cover > cloud_block_fraction


def sky_pattern(cloud_cover: float, cloud_block_fraction: float = DEFAULT_CLOUD_BLOCK_FRACTION) -> str:
    """The planner's weather pattern of a cloud cover (0–1): ``cloudy`` if it blocks optical links, else ``clear``."""
    return "cloudy" if optical_link_blocked(cloud_cover, cloud_block_fraction) else "clear"


@dataclass(frozen=True)
class WeatherSample:
    """The weather at one instant: state, rain fade on satellite RF links (dB), cloud cover (0–1), and the previous state if it just changed."""

    state: str
    rain_fade_db: float
    changed_from: str | None
    cloud_cover: float = 0.0


@dataclass(frozen=True)
class WeatherRecord:
    """One row of a recorded weather trace: from ``t_s`` (s) on, this state, fade (dB) and cloud cover (0–1)."""

    t_s: float
    state: str
    rain_fade_db: float
    cloud_cover: float


class WeatherTrace:
    """Replays recorded weather: the record in force at time t is the last one with ``t_s <= t``.

    Changes are announced by the world's replay process at the exact recorded times, so
    :meth:`step` never reports ``changed_from``.
    """

    def __init__(self, records: tuple[WeatherRecord, ...]) -> None:
        if not records or records[0].t_s != 0.0:
            raise ValueError("a weather trace needs a first record at t = 0")
        self.records = records
        self._times = [r.t_s for r in records]

    def at(self, t_s: float) -> WeatherRecord:
        """The record in force at ``t_s`` (s)."""
        return self.records[bisect.bisect_right(self._times, t_s) - 1]

    def step(self, t_s: float) -> WeatherSample:
        record = self.at(t_s)
        return WeatherSample(record.state, record.rain_fade_db, None, record.cloud_cover)


class Weather:
    """Advances the weather chain and the rain fade with its own seeded generator."""

    def __init__(self, model: WeatherModel, rng: np.random.Generator) -> None:
        self.model = model
        self._rng = rng
        self.state = model.initial
        self._fade_x = rng.standard_normal()
        self._last_t_s: float | None = None

    def _fade_db(self) -> float:
        if self.state != "rain":
            return 0.0
        return math.exp(self.model.rain_fade_mu + math.sqrt(self.model.rain_fade_variance) * self._fade_x)

    def step(self, t_s: float) -> WeatherSample:
        """Advance to ``t_s`` (s) and return the weather there."""
        dt = 0.0 if self._last_t_s is None else t_s - self._last_t_s
        self._last_t_s = t_s
        previous = self.state
        if dt > 0:
            leave = 1.0 - math.exp(-dt / self.model.mean_duration_s[self.state])
            if self._rng.random() < leave:
                jumps = self.model.jump_probabilities[self.state]
                targets = sorted(jumps)
                probabilities = np.array([jumps[s] for s in targets], dtype=float)
                self.state = targets[int(self._rng.choice(len(targets), p=probabilities / probabilities.sum()))]
            rho = math.exp(-dt / self.model.rain_fade_correlation_s)
            self._fade_x = rho * self._fade_x + math.sqrt(1.0 - rho * rho) * self._rng.standard_normal()
        return WeatherSample(self.state, self._fade_db(), previous if self.state != previous else None, CLOUD_COVER[self.state])
