"""The twin as a multi-agent environment (issue 14): a PettingZoo ParallelEnv, its baselines, evaluation and training."""

from environment.decisions import ActionSets
from environment.parallel_env import EnvConfig, SaginQkdEnv

__all__ = ["ActionSets", "EnvConfig", "SaginQkdEnv"]
