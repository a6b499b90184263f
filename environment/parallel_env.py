"""The twin as a multi-agent environment: a PettingZoo ``ParallelEnv`` over the real simulator (issue 14).

One episode is one run of a scenario with a ``[qkd]`` layer — the same world, traces, weather, key
pools and costs as ``sagin-twin run`` (the scenario is built by :func:`scenarios.build.build`);
``reset(seed=s)`` sets ``run.seed = s``, so every named random stream (mobility, fading, weather,
demand) is the one of ``sagin-twin run --seed s``. One step is ``step_s`` of simulated time (a
multiple of the QKD report period); the agents act at the QKD planner's trigger check that starts
it (k·step_s + check offset) and the step ends just before the next one.

Agents (the hierarchy of Seid et al., ICC 2025, on this simulator):

- ``planner`` (high level): per planning epoch (every ``planning_period_s / step_s`` steps; its
  action is ignored in between, and its observation says whose turn it is), per request a route
  among the k shortest and a reservation level — :mod:`environment.decisions`;
- ``<medium>_provider`` (low level, one per QKD medium of the network: fiber, uav, satellite):
  every step, the share of its on-demand capacity it makes available.

Observations are the core-cloud twin's view (the QKD network's last pool report, the weather
station's last report, the forecast's clear-sky probability and the epoch's key rates), never the
truth; :meth:`SaginQkdEnv.state` adds the truth (weather pattern, demand, pools) for a centralised
critic. The reward, shared by every agent, is in the log's units:
−(reservation cost + second-stage cost accrued in the step) − ``unmet_penalty_per_bit`` × key not
delivered in the step (Table I cost units; the network's own accounting, ``QkdNetwork.totals``,
up to its last step inside the env step). With ``planner = "sp"`` the twin's two-stage stochastic
program decides (its own triggers) and the actions are ignored: the same episode, scored the same way.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from common.errors import InputError
from environment.agent_planner import AgentQkdPlanner, Pending
from environment.decisions import ActionSets, media_of, plan_choice, requests_of
from environment.tap import TapLog
from physical.key_pool import EMPTY, WARNING
from physical.qkd_network import QkdTotals
from scenarios.build import Simulation, build, prepare
from scenarios.config import Override, Scenario, load_scenario, parse_set
from twin.qkd_planner import QkdPlanner

PLANNERS = ("agents", "sp")  #: who decides: the agents' actions, or the two-stage stochastic program
STEPS_PER_EPOCH = 5  #: default: a planning epoch is this many environment steps
PLANNER = "planner"  #: the high-level agent's name
OBS_HIGH = 10.0  #: every observation entry is clipped to [0, OBS_HIGH]


@dataclass(frozen=True)
class EnvConfig:
    """How the environment is cut into steps, what the agents choose, and how they are scored.

    Args:
        step_s: simulated time per step (s); a multiple of ``qkd.report_period_s`` that divides
            ``qkd.planning_period_s``; None: the planning epoch over :data:`STEPS_PER_EPOCH`.
        sets: the agents' discrete choices.
        unmet_penalty_per_bit: reward penalty per bit of key asked for and not delivered (cost units per bit).
        planner: ``agents`` or ``sp`` (:data:`PLANNERS`).
        log_dir: write each episode's event log there (``<log_dir>/seed<N>``); None: checked and dropped.
    """

    step_s: float | None = None
    sets: ActionSets = ActionSets()
    unmet_penalty_per_bit: float = 0.1
    planner: str = "agents"
    log_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.planner not in PLANNERS:
            raise ValueError(f"planner must be one of {PLANNERS}, got {self.planner!r}")
        if self.unmet_penalty_per_bit < 0:
            raise ValueError(f"unmet_penalty_per_bit must be >= 0, got {self.unmet_penalty_per_bit}")


def _scenario(scenario: Scenario | Path | str, overrides: Sequence[str | Override]) -> Scenario:
    if isinstance(scenario, Scenario):
        if overrides:
            raise ValueError("overrides apply to a scenario file; pass the path")
        return scenario
    return load_scenario(Path(scenario), [o if isinstance(o, Override) else parse_set(o) for o in overrides])


class SaginQkdEnv(ParallelEnv):
    """The QKD planning hierarchy as a PettingZoo parallel environment (module docstring).

    Args:
        scenario: a scenario (or its file) with a ``[qkd]`` section.
        config: steps, action sets, reward, who decides.
        overrides: ``KEY=VALUE`` overrides of the scenario file (as ``run --set``).
    """

    metadata = {"name": "sagin_twin_qkd_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, scenario: Scenario | Path | str, config: EnvConfig = EnvConfig(), overrides: Sequence[str | Override] = ()) -> None:
        self.scenario = _scenario(scenario, overrides)
        if self.scenario.qkd is None:
            raise InputError("the environment needs a scenario with a [qkd] section", source=str(self.scenario.path), field="qkd")
        self.config = config
        qkd = self.scenario.qkd
        self.step_s = config.step_s if config.step_s is not None else qkd.planning_period_s / STEPS_PER_EPOCH
        periods = self.step_s / qkd.report_period_s
        per_epoch = qkd.planning_period_s / self.step_s
        if periods < 1 - 1e-9 or abs(periods - round(periods)) > 1e-9 or abs(per_epoch - round(per_epoch)) > 1e-9:
            raise InputError(f"step_s = {self.step_s:g} s must be a multiple of qkd.report_period_s = {qkd.report_period_s:g} s "
                             f"that divides qkd.planning_period_s = {qkd.planning_period_s:g} s", source=str(self.scenario.path),
                             field="qkd.planning_period_s")
        self.steps_per_epoch = int(round(per_epoch))
        self.n_steps = max(1, math.ceil(self.scenario.run.duration_s / self.step_s - 1e-9))
        self._prepared = prepare(self.scenario)  # geometry and passes do not depend on the seed
        network = self.scenario.qkd_network
        self.network = network
        self.requests = requests_of(network)
        self.media = media_of(network)
        self.links = tuple(l.name for l in network.links)
        self.possible_agents = [PLANNER] + [f"{m}_provider" for m in self.media]
        self.agents: list[str] = []
        sets = config.sets
        common = 4 + 2 * len(self.requests) + 5 * len(self.links)
        self._obs_size = common + len(self.possible_agents)
        self._observation_spaces = {a: spaces.Box(0.0, OBS_HIGH, (self._obs_size,), np.float32) for a in self.possible_agents}
        self._action_spaces = {PLANNER: spaces.MultiDiscrete([len(sets.reservation_levels)] * len(self.requests)
                                                             + [sets.k_routes] * len(self.requests))}
        self._action_spaces.update({f"{m}_provider": spaces.Discrete(len(sets.ondemand_levels)) for m in self.media})
        self._state_space = spaces.Box(0.0, OBS_HIGH, (common + 2 + len(self.requests) + len(self.links),), np.float32)
        self._next_seed = self.scenario.run.seed
        self.sim: Simulation | None = None
        self.tap: TapLog | None = None
        self.seed: int | None = None
        self._step = 0
        self._totals = QkdTotals(0.0, 0.0, 0.0, 0.0)

    # -- spaces ---------------------------------------------------------------------------------
    def observation_space(self, agent: str) -> spaces.Box:
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self._action_spaces[agent]

    @property
    def state_space(self) -> spaces.Box:
        """The centralised critic's view (:meth:`state`)."""
        return self._state_space

    # -- episode --------------------------------------------------------------------------------
    @property
    def planner(self) -> QkdPlanner:
        """The core-cloud twin's QKD planner of this episode."""
        return self.sim.core.planners["qkd"]

    def _offset_s(self) -> float:
        return self.planner.check_offset_s

    def reset(self, seed: int | None = None, options: dict | None = None):
        """Start an episode: the scenario with ``run.seed = seed`` (unseeded: the file's seed, then +1 per reset)."""
        self.close()
        if seed is None:
            seed = self._next_seed
        self._next_seed = int(seed) + 1
        self.seed = int(seed)
        scenario = self.scenario.with_overrides(seed=self.seed)
        prepared = dataclasses.replace(self._prepared, scenario=scenario)
        directory = None
        if self.config.log_dir is not None:
            directory = Path(self.config.log_dir) / f"seed{self.seed}"
            directory.mkdir(parents=True, exist_ok=True)
        self.tap = TapLog(directory)
        planner = functools.partial(AgentQkdPlanner, sets=self.config.sets) if self.config.planner == "agents" else QkdPlanner
        self.sim = build(prepared, self.tap, qkd_planner=planner)
        self.sim.env.run(until=self._offset_s())  # up to (not including) the first trigger check
        self._step = 0
        self._totals = self.sim.qkd.totals()
        self.agents = list(self.possible_agents)
        observation = self._observations()
        return observation, {a: self._info(a) for a in self.agents}

    def planner_turn(self) -> bool:
        """Whether the planning agent's action of the coming step is used."""
        return self._step % self.steps_per_epoch == 0

    def step(self, actions: dict[str, Any]):
        """Hand the actions to the twin, run ``step_s`` of the simulation, score it."""
        if not self.agents:
            raise RuntimeError("step() after the episode ended: call reset()")
        if self.config.planner == "agents":
            plan = None
            if self.planner_turn():
                vector = np.asarray(actions.get(PLANNER, np.zeros(2 * len(self.requests), int)), dtype=int).ravel()
                plan = plan_choice(self.requests, vector[len(self.requests):], vector[:len(self.requests)])
            ondemand = {m: int(np.asarray(actions[f"{m}_provider"]).item()) for m in self.media if f"{m}_provider" in actions}
            self.planner.hand_over(Pending(plan, ondemand))
        self._step += 1
        duration = self.scenario.run.duration_s
        last = self._step >= self.n_steps
        until = duration if last else self._step * self.step_s + self._offset_s()
        self.sim.env.run(until=min(until, duration))
        if last:
            self._finish()
        totals = self.sim.qkd.totals()
        cost = totals.total_cost - self._totals.total_cost
        unmet = totals.unmet_bits - self._totals.unmet_bits
        self._totals = totals
        reward = -cost - self.config.unmet_penalty_per_bit * unmet
        agents = list(self.agents)
        observations = self._observations()
        rewards = {a: float(reward) for a in agents}
        terminations = {a: False for a in agents}
        truncations = {a: last for a in agents}
        infos = {a: self._info(a) for a in agents}
        if last:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def _finish(self) -> None:
        sim = self.sim
        sim.finish()
        self.tap.log(sim.env.now, "run", "run_finished", status="completed", ticks=sim.world.ticks_done)

    def close(self) -> None:
        if self.tap is not None:
            self.tap.close()
            self.tap = None

    # -- what the agents see ----------------------------------------------------------------------
    def totals(self) -> QkdTotals:
        """The episode's QKD cost and key so far."""
        return self._totals

    def _info(self, agent: str) -> dict[str, Any]:
        return {"planner_turn": self.planner_turn(), "step": self._step}

    def _twin_view(self) -> np.ndarray:
        """The core-cloud twin's view as one vector (module docstring), every entry in [0, OBS_HIGH]."""
        planner = self.planner
        now = self.sim.env.now
        qkd = self.scenario.qkd
        weather = planner.weather()
        p_clear = planner.forecaster.clear_probability(weather, qkd.planning_period_s)
        cloudy = 0.0 if weather is None or weather.cloud_cover <= qkd.cloud_block_fraction else 1.0
        means = self.scenario.qkd.demand.mean_bps
        observed = planner.forecast_means_bps()
        report = planner.report
        rates = planner.forecaster.link_rates_bps(now, now + qkd.planning_period_s)
        command = self.sim.qkd.plan
        values = [now / self.scenario.run.duration_s, float(self.planner_turn()), p_clear, cloudy]
        for name in self.requests:
            scale = max(means.get(name, 0.0), 1.0)
            values.append(observed.get(name, 0.0) / scale)
            unmet = report.unmet_bits.get(name, 0.0) if report is not None else 0.0
            values.append(unmet / (scale * qkd.report_period_s))
        capacity = math.log10(1.0 + qkd.pool_capacity_bits)
        for link in self.network.links:
            stock = report.stock_bits.get(link.name, 0.0) if report is not None else 0.0
            state = report.states.get(link.name) if report is not None else None
            medium = self.network.media[link.medium]
            reserved = command.reserved_qkd.get(link.name, 0) if command is not None else 0
            values += [math.log10(1.0 + stock) / capacity, float(state == WARNING), float(state == EMPTY),
                       math.log10(1.0 + rates.get(link.name, 0.0)) / 7.0, reserved / max(medium.capacity_qkd, 1)]
        return np.clip(np.asarray(values, dtype=np.float32), 0.0, OBS_HIGH)

    def _observations(self) -> dict[str, np.ndarray]:
        view = self._twin_view()
        out = {}
        for index, agent in enumerate(self.possible_agents):
            if agent in self.agents:
                one_hot = np.zeros(len(self.possible_agents), np.float32)
                one_hot[index] = 1.0
                out[agent] = np.concatenate([view, one_hot])
        return out

    def state(self) -> np.ndarray:
        """The centralised critic's view: the twin's, then the truth (sky pattern, demand, pool stocks)."""
        network = self.sim.qkd
        means = self.scenario.qkd.demand.mean_bps
        capacity = math.log10(1.0 + self.scenario.qkd.pool_capacity_bits)
        truth = [self.sim.env.now / self.scenario.run.duration_s, float(network.weather_pattern() == "cloudy")]
        truth += [network.demand_bps[name] / max(means.get(name, 0.0), 1.0) for name in self.requests]
        truth += [math.log10(1.0 + network.pools[name].stock_bits) / capacity for name in self.links]
        return np.clip(np.concatenate([self._twin_view(), np.asarray(truth, np.float32)]), 0.0, OBS_HIGH).astype(np.float32)
