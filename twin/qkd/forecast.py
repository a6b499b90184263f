"""The core-cloud twin's forecast for one planning epoch, turned into a two-stage planning instance.

Weather: the probability that the sky is clear during the epoch. With a Markov weather model it is
the chain's expected fraction of the epoch spent clear, starting from the observed state:
(1/E)·[∫₀ᴱ e^{Qt} dt]_{s,clear}, computed exactly with the augmented-matrix exponential
(Van Loan, IEEE TAC 23(3), 1978): expm([[Q, I], [0, 0]]·E) holds ∫₀ᴱ e^{Qt} dt in its top-right
block. With a weather trace the twin does not know the chain: it uses persistence (the observed
pattern with probability ``persistence``). The pattern is cloudy when the cloud cover blocks optical
links (``physical.weather.sky_pattern``, the rule the physics and the QKD network use).

Demand: per request a log-normal with mean = the last observed rate (persistence), or the
configured mean before any observation, and the configured coefficient of variation; ``samples``
joint draws per weather pattern, each scenario with probability p(weather)/samples.

Key rates: every link's key rate per QKD link the plan counts on (K_l) comes from the physics —
fiber and UAV links their constant rate, each satellite link the epoch-average clear-sky rate of its
ground station's pass geometry (the TLE is known to the twin); a link whose rate is zero over the
epoch (a satellite link without a dark pass of its station) is left out of the plan.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np
from scipy.linalg import expm

from physical.key_demand import sample_lognormal
from twin.qkd.instance import QkdInstance, Scenario


def markov_generator(states: tuple[str, ...], mean_duration_s: Mapping[str, float],
                     jump_probabilities: Mapping[str, Mapping[str, float]]) -> np.ndarray:
    """Generator matrix Q (1/s) of the weather chain: Q[i,j] = p_ij / T_i, Q[i,i] = −1/T_i."""
    n = len(states)
    q = np.zeros((n, n))
    for i, s in enumerate(states):
        rate = 1.0 / mean_duration_s[s]
        q[i, i] = -rate
        for j, target in enumerate(states):
            if target != s:
                q[i, j] = jump_probabilities[s].get(target, 0.0) * rate
    return q


def mean_occupancy(q: np.ndarray, start: int, horizon_s: float) -> np.ndarray:
    """Expected fraction of [0, horizon_s] spent in each state, starting in state ``start`` (rows sum to 1)."""
    n = q.shape[0]
    augmented = np.zeros((2 * n, 2 * n))
    augmented[:n, :n] = q
    augmented[:n, n:] = np.eye(n)
    integral = expm(augmented * horizon_s)[:n, n:]
    row = integral[start] / horizon_s
    return np.clip(row, 0.0, None) / np.clip(row, 0.0, None).sum()


def clear_probability_markov(q: np.ndarray, states: tuple[str, ...], observed: str, horizon_s: float) -> float:
    """Expected clear fraction of the next ``horizon_s`` (s) from the observed state (module docstring)."""
    return float(mean_occupancy(q, states.index(observed), horizon_s)[states.index("clear")])


def clear_probability_persistence(observed_pattern: str, persistence: float) -> float:
    """Persistence forecast: the observed pattern (clear / cloudy) keeps with probability ``persistence``."""
    return persistence if observed_pattern == "clear" else 1.0 - persistence


def planning_scenarios(p_clear: float, mean_bps: Mapping[str, float], cv: float, samples: int,
                       rng: np.random.Generator) -> tuple[Scenario, ...]:
    """Weather × demand scenarios (module docstring); patterns of probability 0 are left out."""
    scenarios = []
    for pattern, p in (("clear", p_clear), ("cloudy", 1.0 - p_clear)):
        if p <= 0.0:
            continue
        for k in range(samples):
            demand = {name: float(sample_lognormal(mean, cv, rng)) for name, mean in mean_bps.items()}
            scenarios.append(Scenario(f"{pattern}-{k}", p / samples, pattern, demand))
    return tuple(scenarios)


def planning_instance(network: QkdInstance, scenarios: tuple[Scenario, ...],
                      link_rates_bps: Mapping[str, float]) -> QkdInstance:
    """The network with the epoch's scenarios and each link's key rate per QKD link (link name → bit/s;
    a link not named keeps its own or its medium's); links with a zero rate are left out."""
    links = []
    for link in network.links:
        rate = link_rates_bps.get(link.name, network.key_rate_bps(link))
        if rate > 0.0:
            links.append(dataclasses.replace(link, key_rate_bps=float(rate)))
    return dataclasses.replace(network, links=tuple(links), scenarios=scenarios)
