"""Policies an episode can be run with: the twin's stochastic program and the baselines, all on the same env.

- ``sp``: the core-cloud twin's two-stage stochastic program (Kaewpuang et al.) decides with its own
  triggers (the environment is built with ``planner = "sp"``; actions are ignored);
- ``shortest-path``: the shortest route, nothing reserved, every provider offers all its on-demand
  capacity — everything bought on demand (the twin's own fallback before any plan);
- ``greedy``: the shortest route, a reservation for the forecast mean demand (level 1), all on-demand
  capacity for the rest — the expected-value decision;
- ``random``: every agent's action drawn uniformly, from a generator seeded by the episode's seed;
- a checkpoint of a learned policy (:mod:`environment.train`, needs the ``[train]`` extra).
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol

import numpy as np

from environment.parallel_env import PLANNER, SaginQkdEnv

BASELINES = ("sp", "shortest-path", "greedy", "random")  #: the policies that need no learning


class Policy(Protocol):
    """Maps the agents' observations to their actions; ``planner`` says who decides in the env."""

    name: str
    planner: str  # "agents" or "sp"

    def begin(self, env: SaginQkdEnv, seed: int) -> None: ...

    def act(self, env: SaginQkdEnv, observations: Mapping[str, np.ndarray]) -> dict[str, Any]: ...


class StochasticProgram:
    """``sp``: the twin's own planner decides; the agents' actions are not used."""

    name = "sp"
    planner = "sp"

    def begin(self, env: SaginQkdEnv, seed: int) -> None:
        pass

    def act(self, env: SaginQkdEnv, observations: Mapping[str, np.ndarray]) -> dict[str, Any]:
        return {}


class FixedLevels:
    """The shortest route, one reservation level for every request, full on-demand capacity."""

    planner = "agents"

    def __init__(self, name: str, level: float) -> None:
        self.name = name
        self.level = level

    def begin(self, env: SaginQkdEnv, seed: int) -> None:
        levels = env.config.sets.reservation_levels
        if self.level not in levels:
            raise ValueError(f"{self.name}: reservation level {self.level} is not among {levels}")

    def act(self, env: SaginQkdEnv, observations: Mapping[str, np.ndarray]) -> dict[str, Any]:
        sets = env.config.sets
        index = sets.reservation_levels.index(self.level)
        actions: dict[str, Any] = {PLANNER: np.array([index] * len(env.requests) + [0] * len(env.requests))}
        full = int(np.argmax(sets.ondemand_levels))  # the largest share of on-demand capacity
        actions.update({agent: full for agent in env.agents if agent != PLANNER})
        return actions


class UniformRandom:
    """``random``: each agent's action uniformly from its space (seeded by the episode)."""

    name = "random"
    planner = "agents"

    def begin(self, env: SaginQkdEnv, seed: int) -> None:
        for index, agent in enumerate(env.possible_agents):
            env.action_space(agent).seed(seed * 1_000 + index)

    def act(self, env: SaginQkdEnv, observations: Mapping[str, np.ndarray]) -> dict[str, Any]:
        return {agent: env.action_space(agent).sample() for agent in env.agents}


def baseline(name: str) -> Policy:
    """One of :data:`BASELINES`."""
    if name == "sp":
        return StochasticProgram()
    if name == "shortest-path":
        return FixedLevels("shortest-path", 0.0)
    if name == "greedy":
        return FixedLevels("greedy", 1.0)
    if name == "random":
        return UniformRandom()
    raise ValueError(f"unknown policy {name!r}; baselines: {', '.join(BASELINES)} (or a checkpoint file)")
