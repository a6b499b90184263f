"""Training smoke test (``make test-train``; needs the [train] extra, skipped without torch): a short MAPPO run writes
its policy, learning curve and checkpoint, resumes where it stopped, and the learned policy evaluates deterministically."""

from __future__ import annotations

import csv

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("skrl")

from environment import EnvConfig  # noqa: E402
from environment.evaluate import evaluate  # noqa: E402
from environment.train import TrainConfig, load_checkpoint, train  # noqa: E402
from tests.conftest import DEFAULT_SCENARIO  # noqa: E402

pytestmark = pytest.mark.train

SHORT = ("twin.precoding=mrt-full", "run.duration_s=120", "qkd.planning_period_s=60")
CONFIG = EnvConfig(step_s=20.0)


@pytest.mark.parametrize("algo", ["mappo", "ippo"])
def test_a_short_training_writes_a_policy_resumes_and_evaluates_deterministically(tmp_path, algo):
    out = tmp_path / algo
    settings = dict(algo=algo, steps=36, rollouts=12, checkpoint_every=12)
    policy = train(DEFAULT_SCENARIO, out, TrainConfig(**settings), CONFIG, SHORT, progress=False)
    assert policy.is_file() and (out / "checkpoint.pt").is_file() and (out / "policy.json").is_file()
    rows = list(csv.DictReader(open(out / "learning_curve.csv", encoding="utf-8")))
    assert [int(r["episode"]) for r in rows] == list(range(6))  # 6 steps per episode
    assert all(float(r["return_cost_units"]) < 0 for r in rows)
    learned = load_checkpoint(policy)
    first = evaluate(DEFAULT_SCENARIO, [learned], [10_000], CONFIG, SHORT)
    again = evaluate(DEFAULT_SCENARIO, [load_checkpoint(policy)], [10_000], CONFIG, SHORT)
    assert first.drop(columns="decision_wall_s").equals(again.drop(columns="decision_wall_s"))


def test_resuming_continues_the_count_and_the_curve(tmp_path):
    out = tmp_path / "run"
    base = dict(steps=24, rollouts=12, checkpoint_every=12)
    train(DEFAULT_SCENARIO, out, TrainConfig(**base), CONFIG, SHORT, progress=False)
    checkpoint = torch.load(out / "checkpoint.pt", weights_only=False)
    assert checkpoint["timestep"] == 24 and checkpoint["episode"] == 4
    train(DEFAULT_SCENARIO, out, TrainConfig(**{**base, "steps": 36}), CONFIG, SHORT, resume=True, progress=False)
    rows = list(csv.DictReader(open(out / "learning_curve.csv", encoding="utf-8")))
    assert [int(r["episode"]) for r in rows] == list(range(6)) and [int(r["timestep"]) for r in rows] == list(range(6, 37, 6))
    assert torch.load(out / "checkpoint.pt", weights_only=False)["timestep"] == 36
    with pytest.raises(ValueError, match="other settings"):  # only the step count may change on a resume
        train(DEFAULT_SCENARIO, out, TrainConfig(**{**base, "steps": 48, "hidden": 32}), CONFIG, SHORT, resume=True, progress=False)
    with pytest.raises(FileNotFoundError):
        train(DEFAULT_SCENARIO, tmp_path / "empty", TrainConfig(**base), CONFIG, SHORT, resume=True, progress=False)
