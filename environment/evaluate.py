"""Run policies on the same held-out seeds and tabulate what each costs: ``sagin-twin evaluate``.

Every (policy, seed) is one episode of :class:`environment.parallel_env.SaginQkdEnv` with
``reset(seed)``: the same exogenous world (weather, demand, positions, channels) for every policy.
One tidy row per episode: policy, seed, first- and second-stage cost, total cost (Table I units),
key requested and unmet (bit), the unmet-key penalty and the objective (total cost + penalty, the
negative of the episode's summed reward), the mean achieved min secrecy rate (bit/s/Hz; the
physical layer is the scenario's own and does not depend on the QKD policy), the number of QKD
decisions and their mean wall time (s: one policy step of the agents, one MILP solve of ``sp``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from environment.parallel_env import EnvConfig, SaginQkdEnv
from environment.policies import Policy

HELD_OUT_FIRST_SEED = 10_000  #: evaluation seeds start here (training uses the scenario's seed and up)
COLUMNS = ("policy", "seed", "total_cost", "first_stage_cost", "second_stage_cost", "requested_bits", "unmet_bits",
           "unmet_penalty", "objective", "min_secrecy_bps_hz", "decisions", "decision_wall_s")


def run_episode(env: SaginQkdEnv, policy: Policy, seed: int) -> dict[str, object]:
    """One episode of ``policy`` on ``env`` with ``seed``; its row (module docstring)."""
    observations, _ = env.reset(seed=seed)
    policy.begin(env, seed)
    act_wall, decisions, reward = [], 0, 0.0
    while env.agents:
        started = time.perf_counter()
        actions = policy.act(env, observations)
        elapsed = time.perf_counter() - started
        if policy.planner == "agents":
            act_wall.append(elapsed)
            decisions += 1
        observations, rewards, _, _, _ = env.step(actions)
        reward += next(iter(rewards.values()))
    if policy.planner == "sp":
        act_wall = list(env.tap.plan_wall_s)
        decisions = len(act_wall)
    totals = env.totals()
    secrecy = env.tap.min_secrecy_bps_hz
    penalty = env.config.unmet_penalty_per_bit * totals.unmet_bits
    row = {
        "policy": policy.name, "seed": seed, "total_cost": totals.total_cost, "first_stage_cost": totals.first_stage_cost,
        "second_stage_cost": totals.second_stage_cost, "requested_bits": totals.requested_bits, "unmet_bits": totals.unmet_bits,
        "unmet_penalty": penalty, "objective": totals.total_cost + penalty,
        "min_secrecy_bps_hz": float(np.mean(secrecy)) if secrecy else float("nan"),
        "decisions": decisions, "decision_wall_s": float(np.mean(act_wall)) if act_wall else float("nan"),
    }
    assert abs(row["objective"] + reward) <= 1e-6 * max(1.0, abs(reward)), "the rewards must add up to the episode's objective"
    return row


def evaluate(scenario, policies: Sequence[Policy], seeds: Iterable[int], config: EnvConfig = EnvConfig(), overrides: Sequence = (),
             progress: Callable[[str, int], None] | None = None, log_root: Path | None = None) -> pd.DataFrame:
    """Every policy on every seed (the same seeds for all); one row per episode (:data:`COLUMNS`).

    ``log_root``: write each episode's event log under ``<log_root>/<policy>/seed<N>``.
    """
    seeds = list(seeds)
    rows = []
    for policy in policies:
        log_dir = None if log_root is None else log_root / policy.name
        env = SaginQkdEnv(scenario, replace(config, planner=policy.planner, log_dir=log_dir), overrides)
        for seed in seeds:
            if progress is not None:
                progress(policy.name, seed)
            rows.append(run_episode(env, policy, seed))
        env.close()
    return pd.DataFrame(rows, columns=list(COLUMNS))


def summary_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard error of the objective and its parts per policy, sorted by mean objective."""
    grouped = rows.groupby("policy", sort=False)
    out = grouped[["objective", "total_cost", "first_stage_cost", "second_stage_cost", "unmet_bits", "min_secrecy_bps_hz",
                   "decision_wall_s"]].mean()
    out["objective_sem"] = grouped["objective"].std(ddof=1) / np.sqrt(grouped.size())
    out["seeds"] = grouped.size()
    return out.sort_values("objective").reset_index()


def plot(rows: pd.DataFrame, path: Path) -> None:
    """Mean objective per policy split into reservation, second stage and unmet penalty (error bar: standard
    error over seeds), and the decision wall time per policy (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = summary_table(rows)
    means = rows.groupby("policy", sort=False)[["first_stage_cost", "second_stage_cost", "unmet_penalty"]].mean().loc[table["policy"]]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2), dpi=120, gridspec_kw={"width_ratios": [2, 1]})
    x = np.arange(len(table))
    bottom = np.zeros(len(table))
    for column, label, colour in (("first_stage_cost", "reservation", "#1f4e9c"), ("second_stage_cost", "second stage", "#d98b00"),
                                  ("unmet_penalty", "unmet-key penalty", "#b22222")):
        left.bar(x, means[column].to_numpy(), bottom=bottom, label=label, color=colour)
        bottom += means[column].to_numpy()
    left.errorbar(x, table["objective"], yerr=table["objective_sem"], fmt="none", ecolor="black", capsize=4)
    left.set_xticks(x, table["policy"], rotation=15)
    left.set_ylabel("mean cost per episode (Table I units)")
    left.set_title(f"Total cost + unmet-key penalty over {int(table['seeds'].min())} held-out seeds")
    left.legend(fontsize=8)
    left.grid(alpha=0.3, axis="y")
    right.bar(x, table["decision_wall_s"], color="#555555")
    right.set_yscale("log")
    right.set_xticks(x, table["policy"], rotation=15)
    right.set_ylabel("wall time per decision (s)")
    right.set_title("Decision latency")
    right.grid(alpha=0.3, axis="y")
    for ax in (left, right):
        ax.title.set_fontsize(9)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
