"""Learned QKD allocation policies: MAPPO / IPPO with skrl on :class:`environment.parallel_env.SaginQkdEnv` (``sagin-twin train``).

Needs the optional ``[train]`` extra (torch's CPU build, skrl); nothing in the core imports this module.

Each agent has its own policy, a two-layer tanh MLP over its observation giving categorical logits
(a multi-categorical head for the planner's per-request choices), and its own value network: on
the environment's global :meth:`~SaginQkdEnv.state` for MAPPO (centralised critic, Yu et al. 2022),
on its own observation for IPPO. The team reward is scaled by ``reward_scale`` (cost units → order
one) and the value targets are standardised (skrl's running scaler). Training runs episode after
episode on the training seeds ``run.seed, run.seed + 1, …`` (evaluation uses the held-out seeds
from 10000). The loop is the skrl trainer's (act → step → record_transition → post_interaction,
a PPO update every ``rollouts`` steps) written out so that it can show progress, write the
learning curve (``learning_curve.csv``: episode, timestep, return in cost units, wall time) and
a checkpoint every ``checkpoint_every`` steps, and resume from the last one (``--resume``): the
agents' modules, the step count and every random generator state are in the checkpoint.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import json
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
from gymnasium import spaces
from skrl.memories.torch import RandomMemory
from skrl.models.torch import CategoricalMixin, DeterministicMixin, Model, MultiCategoricalMixin
from skrl.multi_agents.torch import ExperimentCfg
from skrl.multi_agents.torch.ippo import IPPO, IPPO_CFG
from skrl.multi_agents.torch.mappo import MAPPO, MAPPO_CFG
from skrl.resources.preprocessors.torch import RunningStandardScaler

from environment.parallel_env import EnvConfig, SaginQkdEnv

ALGORITHMS = ("mappo", "ippo")
CHECKPOINT = "checkpoint.pt"  #: the latest checkpoint in the output folder
POLICY = "policy.pt"  #: the final policy (what ``sagin-twin evaluate --policy`` loads)
CURVE = "learning_curve.csv"


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of a training run (the defaults were tried on ``scenarios/qkd-agents.toml``).

    Args:
        algo: ``mappo`` or ``ippo``. steps: environment steps in all. seed: torch's and the episodes' base seed.
        hidden: units per hidden layer. rollouts: steps between PPO updates. epochs, mini_batches: per update.
        learning_rate, discount, gae_lambda, entropy: PPO's. reward_scale: the team reward is multiplied by this.
        checkpoint_every: steps between checkpoints.
    """

    algo: str = "mappo"
    steps: int = 6_000
    seed: int = 1
    hidden: int = 64
    rollouts: int = 40
    epochs: int = 8
    mini_batches: int = 2
    learning_rate: float = 1e-3
    discount: float = 0.95
    gae_lambda: float = 0.95
    entropy: float = 0.01
    reward_scale: float = 1e-5
    checkpoint_every: int = 1_000

    def __post_init__(self) -> None:
        if self.algo not in ALGORITHMS:
            raise ValueError(f"algo must be one of {ALGORITHMS}, got {self.algo!r}")
        if self.steps < 1 or self.rollouts < 1 or self.checkpoint_every < 1:
            raise ValueError("steps, rollouts and checkpoint_every must be >= 1")


class _Policy(Model):
    """Logits of an agent's action from its observation (categorical or multi-categorical)."""

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space, hidden: int) -> None:
        Model.__init__(self, observation_space=observation_space, action_space=action_space, device="cpu")
        outputs = int(action_space.n) if isinstance(action_space, spaces.Discrete) else int(np.sum(action_space.nvec))
        self.net = torch.nn.Sequential(torch.nn.Linear(self.num_observations, hidden), torch.nn.Tanh(),
                                       torch.nn.Linear(hidden, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, outputs))

    def compute(self, inputs: dict[str, Any], role: str = "") -> tuple[torch.Tensor, dict[str, Any]]:
        return self.net(inputs["observations"]), {}


class _CategoricalPolicy(CategoricalMixin, _Policy):
    def __init__(self, observation_space, action_space, hidden: int) -> None:
        _Policy.__init__(self, observation_space, action_space, hidden)
        CategoricalMixin.__init__(self, unnormalized_log_prob=True)


class _MultiCategoricalPolicy(MultiCategoricalMixin, _Policy):
    def __init__(self, observation_space, action_space, hidden: int) -> None:
        _Policy.__init__(self, observation_space, action_space, hidden)
        MultiCategoricalMixin.__init__(self, unnormalized_log_prob=True, reduction="sum")


class _Value(DeterministicMixin, Model):
    """A state value from the global state (MAPPO) or the agent's observation (IPPO)."""

    def __init__(self, observation_space, state_space, hidden: int, centralised: bool) -> None:
        Model.__init__(self, observation_space=observation_space, state_space=state_space, action_space=spaces.Box(-1, 1, (1,)),
                       device="cpu")
        DeterministicMixin.__init__(self, clip_actions=False)
        self.key = "states" if centralised else "observations"
        size = self.num_states if centralised else self.num_observations
        self.net = torch.nn.Sequential(torch.nn.Linear(size, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, hidden), torch.nn.Tanh(),
                                       torch.nn.Linear(hidden, 1))

    def compute(self, inputs: dict[str, Any], role: str = "") -> tuple[torch.Tensor, dict[str, Any]]:
        return self.net(inputs[self.key]), {}


def make_agents(env: SaginQkdEnv, config: TrainConfig, directory: Path):
    """The skrl multi-agent (MAPPO or IPPO) with one policy and one value network per agent."""
    torch.manual_seed(config.seed)
    centralised = config.algo == "mappo"
    agents = env.possible_agents
    observation_spaces = {a: env.observation_space(a) for a in agents}
    action_spaces = {a: env.action_space(a) for a in agents}
    state_spaces = {a: env.state_space for a in agents}
    models = {}
    for a in agents:
        head = _MultiCategoricalPolicy if isinstance(action_spaces[a], spaces.MultiDiscrete) else _CategoricalPolicy
        models[a] = {"policy": head(observation_spaces[a], action_spaces[a], config.hidden),
                     "value": _Value(observation_spaces[a], env.state_space, config.hidden, centralised)}
    memories = {a: RandomMemory(memory_size=config.rollouts, num_envs=1, device="cpu") for a in agents}
    scale = config.reward_scale
    cfg_class, agent_class = (MAPPO_CFG, MAPPO) if centralised else (IPPO_CFG, IPPO)
    cfg = cfg_class(rollouts=config.rollouts, learning_epochs=config.epochs, mini_batches=config.mini_batches,
                    discount_factor=config.discount, gae_lambda=config.gae_lambda, learning_rate=config.learning_rate,
                    entropy_loss_scale=config.entropy, value_preprocessor=RunningStandardScaler,
                    value_preprocessor_kwargs={"size": 1, "device": "cpu"},
                    rewards_shaper=lambda rewards, timestep, timesteps: rewards * scale,
                    experiment=ExperimentCfg(directory=str(directory), experiment_name="skrl", write_interval=0, checkpoint_interval=0))
    for field in dataclasses.fields(cfg):  # skrl wants every table-valued setting per agent (an empty default included)
        value = getattr(cfg, field.name)
        if field.name != "experiment" and isinstance(value, dict) and not set(value) >= set(agents):
            setattr(cfg, field.name, {a: copy.deepcopy(value) for a in agents})
    agent = agent_class(possible_agents=agents, models=models, memories=memories, observation_spaces=observation_spaces,
                        state_spaces=state_spaces, action_spaces=action_spaces, device="cpu", cfg=cfg)
    agent.init()
    return agent


def _tensors(observations: Mapping[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {a: torch.as_tensor(np.asarray(o, dtype=np.float32)).view(1, -1) for a, o in observations.items()}


def _numpy_actions(env: SaginQkdEnv, actions: Mapping[str, torch.Tensor]) -> dict[str, Any]:
    out = {}
    for a, value in actions.items():
        flat = value.detach().cpu().numpy().astype(int).ravel()
        out[a] = flat if isinstance(env.action_space(a), spaces.MultiDiscrete) else int(flat[0])
    return out


def train(scenario, out: Path, config: TrainConfig = TrainConfig(), env_config: EnvConfig = EnvConfig(), overrides=(),
          resume: bool = False, progress: bool = True) -> Path:
    """Train on ``scenario`` (module docstring); returns the final policy file ``out/policy.pt``."""
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    env = SaginQkdEnv(scenario, env_config, overrides)
    agent = make_agents(env, config, out)
    start, episode, curve_mode = 0, 0, "w"
    checkpoint = out / CHECKPOINT
    if resume:
        if not checkpoint.is_file():
            raise FileNotFoundError(f"nothing to resume: no {checkpoint}")
        state = torch.load(checkpoint, weights_only=False)
        if {k: v for k, v in state["config"].items() if k != "steps"} != {k: v for k, v in asdict(config).items() if k != "steps"}:
            raise ValueError(f"{checkpoint} was written with other settings: {state['config']} (only steps may change)")
        agent.load(str(out / state["modules"]))
        start, episode = state["timestep"], state["episode"]
        torch.set_rng_state(state["torch_rng"])
        np.random.set_state(state["numpy_rng"])
        random.setstate(state["python_rng"])
        curve_mode = "a"
    else:
        np.random.seed(config.seed)
        random.seed(config.seed)
    base_seed = env.scenario.run.seed
    observations, _ = env.reset(seed=base_seed + episode)
    states = env.state()
    episode_return, started = 0.0, time.perf_counter()
    next_checkpoint = (start // config.checkpoint_every + 1) * config.checkpoint_every
    agent.enable_training_mode(True)
    with open(out / CURVE, curve_mode, newline="", encoding="utf-8") as curve_file:
        curve = csv.writer(curve_file)
        if curve_mode == "w":
            curve.writerow(["episode", "timestep", "return_cost_units", "wall_s"])
        for timestep in range(start, config.steps):
            agent.pre_interaction(timestep=timestep, timesteps=config.steps)
            obs_t = _tensors(observations)
            state_t = {a: torch.as_tensor(states).view(1, -1) for a in env.possible_agents}
            with torch.no_grad():
                actions, _ = agent.act(obs_t, state_t, timestep=timestep, timesteps=config.steps)
            next_obs, rewards, terminations, truncations, infos = env.step(_numpy_actions(env, actions))
            done = not env.agents
            next_states = env.state()
            episode_return += float(next(iter(rewards.values())))
            with torch.no_grad():
                agent.record_transition(
                    observations=obs_t, states=state_t, actions=actions,
                    rewards={a: torch.tensor([[rewards[a]]], dtype=torch.float32) for a in env.possible_agents},
                    next_observations=_tensors(next_obs), next_states={a: torch.as_tensor(next_states).view(1, -1) for a in env.possible_agents},
                    terminated={a: torch.tensor([[terminations[a]]]) for a in env.possible_agents},
                    truncated={a: torch.tensor([[truncations[a]]]) for a in env.possible_agents},
                    infos=infos, timestep=timestep, timesteps=config.steps)
            agent.post_interaction(timestep=timestep, timesteps=config.steps)
            if done:
                curve.writerow([episode, timestep + 1, episode_return, round(time.perf_counter() - started, 3)])
                curve_file.flush()
                if progress:
                    print(f"\repisode {episode + 1}  step {timestep + 1:,}/{config.steps:,}  return {episode_return:,.0f}",
                          end="", file=sys.stderr, flush=True)
                episode += 1
                episode_return = 0.0
                observations, _ = env.reset(seed=base_seed + episode)
            else:
                observations = next_obs
            states = env.state()
            if done and timestep + 1 >= next_checkpoint:  # at the first episode end after each checkpoint_every steps
                _checkpoint(agent, out, config, env_config, env, timestep + 1, episode)
                next_checkpoint += config.checkpoint_every
        if progress:
            print(file=sys.stderr)
    # the last checkpoint is at an episode boundary, so a resumed run starts a fresh episode
    _checkpoint(agent, out, config, env_config, env, config.steps, episode)
    env.close()
    return out / POLICY


def _checkpoint(agent, out: Path, config: TrainConfig, env_config: EnvConfig, env: SaginQkdEnv, timestep: int, episode: int) -> None:
    agent.save(str(out / "modules.pt"))
    agent.save(str(out / POLICY))
    torch.save({"config": asdict(config), "timestep": timestep, "episode": episode, "modules": "modules.pt",
                "torch_rng": torch.get_rng_state(), "numpy_rng": np.random.get_state(), "python_rng": random.getstate()},
               out / CHECKPOINT)
    meta = {"train": asdict(config), "env": {"step_s": env.step_s, "sets": asdict(env_config.sets),
                                             "unmet_penalty_per_bit": env_config.unmet_penalty_per_bit},
            "scenario": str(env.scenario.path), "agents": env.possible_agents}
    (out / "policy.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


class LearnedPolicy:
    """A trained policy as an evaluation policy: each agent's most probable action (deterministic)."""

    planner = "agents"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        meta_path = self.path.with_name("policy.json")
        if not meta_path.is_file():
            raise FileNotFoundError(f"{meta_path} (written beside the policy by sagin-twin train) is missing")
        self.meta = json.loads(meta_path.read_text(encoding="utf-8"))
        self.name = f"learned:{self.path.parent.name}"
        self._agent = None

    def begin(self, env: SaginQkdEnv, seed: int) -> None:
        if env.possible_agents != self.meta["agents"]:
            raise ValueError(f"{self.path}: trained for agents {self.meta['agents']}, the scenario has {env.possible_agents}")
        if self._agent is None:
            config = TrainConfig(**self.meta["train"])
            self._agent = make_agents(env, config, self.path.parent / "eval")
            self._agent.load(str(self.path))
            self._agent.enable_training_mode(False)

    def act(self, env: SaginQkdEnv, observations: Mapping[str, np.ndarray]) -> dict[str, Any]:
        actions = {}
        with torch.no_grad():
            for agent, obs in _tensors(observations).items():
                policy = self._agent.policies[agent]
                logits, _ = policy.compute({"observations": obs})
                space = env.action_space(agent)
                if isinstance(space, spaces.MultiDiscrete):
                    parts = torch.split(logits, space.nvec.tolist(), dim=-1)
                    actions[agent] = np.array([int(torch.argmax(p)) for p in parts])
                else:
                    actions[agent] = int(torch.argmax(logits))
        return actions


def load_checkpoint(path: Path) -> LearnedPolicy:
    """A policy file written by :func:`train` (``policy.pt``, with its ``policy.json``)."""
    return LearnedPolicy(path)


def env_config_of(path: Path) -> dict:
    """The environment settings a policy was trained with (step, action sets, penalty)."""
    return json.loads(Path(path).with_name("policy.json").read_text(encoding="utf-8"))["env"]



def plot_curve(curve: Path, path: Path, window: int = 10) -> None:
    """The learning curve: each episode's return (cost units) and its running mean over ``window`` episodes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    rows = pd.read_csv(curve)
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    ax.plot(rows["timestep"], rows["return_cost_units"], lw=0.6, alpha=0.4, color="#1f4e9c", label="episode return")
    ax.plot(rows["timestep"], rows["return_cost_units"].rolling(window, min_periods=1).mean(), lw=1.8, color="#1f4e9c",
            label=f"mean of the last {window} episodes")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("return = −(cost + unmet-key penalty) (Table I units)")
    ax.set_title("Learning curve")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
