"""inspect, report and sweep metrics on the QKD layer of a run (the default scenario, run once)."""

from __future__ import annotations

import pytest

from eventlog.reader import load_events
from eventlog.summary import summarize
from sagin_twin.cli import main
from sweeps.metrics import QKD_METRICS, scenario_metrics
from tests.conftest import ROOT, copy_scenario
from twin.qkd.instance import QkdInstance


@pytest.fixture(scope="module")
def events(default_run):
    return load_events(default_run)


def test_summary_accounts_for_every_bit_and_every_cost(events):
    q = summarize(events)["qkd"]
    costs = events[events.kind == "qkd_plan_cost"]
    unmet = events[events.kind == "key_demand_unmet"]
    # the plans' own ledgers and the unmet rows agree on what went unmet while a plan was in force
    in_plans = unmet[unmet.reason != "no_plan"].unmet_bits.sum()
    assert costs.unmet_bits.sum() == pytest.approx(in_plans, abs=1e-6)
    assert q["requested_bits"] == pytest.approx(costs.requested_bits.sum() + unmet[unmet.reason == "no_plan"].unmet_bits.sum())
    assert q["unmet_by_reason_bits"].get("no_plan", 0.0) > 0  # demand before the first plan arrives is unmet
    assert q["total_cost"] == pytest.approx(costs.first_stage_cost.sum() + costs.second_stage_cost.sum())
    assert q["plans"] == (events.kind == "qkd_plan").sum() >= 2
    assert sum(q["plans_by_trigger"].values()) == q["plans"]


def test_inspect_prints_qkd_tables_with_every_link(default_run, capsys):
    assert main(["inspect", str(default_run)]) == 0
    out = capsys.readouterr().out
    for title in ("QKD plans", "QKD plan costs", "key pools", "QKD: "):
        assert title in out
    network = QkdInstance.from_toml(ROOT / "scenarios" / "qkd" / "xinglong.toml")
    for link in network.links:
        assert link.name in out


def test_report_draws_key_pools_and_qkd_cost(default_run, tmp_path):
    assert main(["report", str(default_run), "--out", str(tmp_path)]) == 0
    for name in ("key_pools.png", "qkd_cost.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def test_sweep_metrics_carry_the_qkd_figures(events):
    metrics = scenario_metrics(summarize(events))
    assert metrics["qkd_plans"] >= 2 and metrics["qkd_total_cost"] > 0
    assert 0.0 <= metrics["qkd_unmet_fraction"] < 1.0


def test_run_without_qkd_has_no_qkd_tables_plots_or_metrics(tmp_path, capsys):
    scenario = copy_scenario(tmp_path)
    text = scenario.read_text()
    scenario.write_text(text[:text.index("[qkd]")])
    out = tmp_path / "run"
    assert main(["run", str(scenario), "--out", str(out), "--duration", "20", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["inspect", str(out)]) == 0
    assert "QKD" not in capsys.readouterr().out
    assert main(["report", str(out), "--out", str(tmp_path / "report")]) == 0
    assert not (tmp_path / "report" / "key_pools.png").exists()
    metrics = scenario_metrics(summarize(load_events(out)))
    assert all(metrics[name] != metrics[name] for name in QKD_METRICS)  # NaN
