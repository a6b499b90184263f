"""inspect and report on any log: every shipped scenario, a window with no pass, logs cut a few lines in, filters."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from eventlog.plots import REPORT_COLUMNS, plot_geometry, plot_key_pools, plot_qkd_cost  # noqa: E402
from eventlog.reader import load_by_kind, load_events  # noqa: E402
from eventlog.text import with_unit  # noqa: E402
from sagin_twin.cli import main  # noqa: E402
from scenarios.config import load_scenario  # noqa: E402
from tests.conftest import ROOT  # noqa: E402

SHIPPED = sorted((ROOT / "scenarios").glob("*.toml"))
STORMY = ROOT / "scenarios" / "stormy-afternoon.toml"
REPORT_PNGS = ("geometry.png", "secrecy.png", "information_age.png", "solver.png")


def _frames(run):
    return load_by_kind(run, REPORT_COLUMNS)


def _hlines(ax) -> list[float]:
    """y of every horizontal line in an axis."""
    out = []
    for line in ax.get_lines():
        y = np.asarray(line.get_ydata(), dtype=float)
        if len(y) == 2 and y[0] == y[1] and list(line.get_xdata()) == [0, 1]:
            out.append(float(y[0]))
    return out


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_inspect_and_report_work_on_every_shipped_scenario(tmp_path, capfd, path):
    scenario = load_scenario(path)
    duration = str(min(scenario.run.duration_s, 30 * scenario.run.tick_s))
    run = tmp_path / "run"
    assert main(["run", str(path), "--out", str(run), "--duration", duration, "--quiet"]) == 0
    capfd.readouterr()
    assert main(["inspect", str(run)]) == 0
    out = capfd.readouterr().out
    assert "finished: completed" in out and "re-solves:" in out
    assert main(["report", str(run)]) == 0
    for name in REPORT_PNGS + (("key_pools.png", "qkd_cost.png") if scenario.qkd else ()):
        assert (run / "report" / name).read_bytes()[:4] == b"\x89PNG", name
    assert not list((run / "report").glob("*.partial"))


@pytest.fixture(scope="module")
def stormy_120(tmp_path_factory):
    """The issue's case: stormy-afternoon for 120 s, a window with no satellite pass and no weather change."""
    run = tmp_path_factory.mktemp("stormy") / "run"
    assert main(["run", str(STORMY), "--duration", "120", "--out", str(run), "--quiet"]) == 0
    return run


def test_report_of_a_window_without_a_pass(stormy_120, capfd):
    capfd.readouterr()
    assert main(["report", str(stormy_120)]) == 0
    assert "KeyError" not in capfd.readouterr().err
    for name in REPORT_PNGS + ("key_pools.png", "qkd_cost.png"):
        assert (stormy_120 / "report" / name).is_file(), name
    fig = plot_geometry(_frames(stormy_120))
    try:
        ax = fig.axes[0]
        assert 10.0 in _hlines(ax)  # the minimum elevation, although the satellite stays far below it
        low, high = ax.get_ylim()
        assert low < 10.0 < high
        assert "never serves" in ax.get_title()
    finally:
        plt.close(fig)


@pytest.mark.parametrize("lines", [1, 2, 4, 9, 13, 40, 400])
def test_report_and_inspect_of_a_log_cut_after_a_few_lines(stormy_120, tmp_path, capfd, lines):
    """A run killed a few seconds in: no pass, maybe no decision, no plan; the cut may fall mid-line."""
    text = (stormy_120 / "events.jsonl").read_text().splitlines(keepends=True)
    cut = tmp_path / "cut"
    cut.mkdir()
    (cut / "events.jsonl").write_text("".join(text[:lines]) + text[lines][: len(text[lines]) // 2])
    assert main(["inspect", str(cut)]) == 0
    assert "finished: incomplete" in capfd.readouterr().out
    status = main(["report", str(cut), "--out", str(tmp_path / "report")])
    captured = capfd.readouterr()
    assert status == 0, captured.err
    drawn = sorted(p.name for p in (tmp_path / "report").glob("*.png")) if (tmp_path / "report").exists() else []
    kinds = {json.loads(line)["kind"] for line in text[:lines]}
    assert ("geometry.png" in drawn) == ("satellite_state" in kinds)
    assert ("key_pools.png" in drawn) == ("key_pool_state" in kinds)
    if not drawn:
        assert not (tmp_path / "report").exists()


def test_key_pools_draw_every_link_and_its_threshold_without_any_crossing(default_run):
    frames = _frames(default_run)
    states = frames["key_pool_state"]
    assert "key_pool_crossing" not in frames  # the default run never crosses a threshold
    fig = plot_key_pools(frames)
    try:
        panels = [ax for ax in fig.axes if ax.get_visible()]
        links = list(dict.fromkeys(states["link"]))
        assert [ax.get_title() for ax in panels] == [f"{link} ({states[states['link'] == link]['medium'].iloc[0]})" for link in links]
        for ax in panels:
            assert float(states["warning_bits"].iloc[0]) in _hlines(ax)
            assert len([line for line in ax.get_lines() if len(line.get_xdata()) > 2]) == 1  # one stock line per panel
        assert not any(ax.get_legend() for ax in panels)  # one figure legend, outside the panels
    finally:
        plt.close(fig)


def test_qkd_cost_shows_the_key_unmet_before_the_first_plan(default_run):
    events = load_events(default_run)
    unmet = events[events["kind"] == "key_demand_unmet"]
    costs = events[events["kind"] == "qkd_plan_cost"]
    applied = events[events["kind"] == "qkd_plan_applied"]
    first_plan_s = applied["t_s"].min()
    before = unmet[unmet["t_s"] <= first_plan_s]
    assert len(before) and (before["reason"] == "no_plan").all() and before["unmet_bits"].sum() > 0
    # the per-plan cost rows count only the key unmet while a plan was in force: the old panel missed the rest
    assert costs["unmet_bits"].sum() == pytest.approx(unmet[unmet["t_s"] > first_plan_s]["unmet_bits"].sum(), rel=1e-9)
    fig = plot_qkd_cost(_frames(default_run))
    try:
        bottom = fig.axes[1]
        tops = sorted(float(np.nanmax(line.get_ydata())) for line in bottom.get_lines() if len(line.get_xdata()) > 2)
        per_reason = sorted(unmet.groupby("reason")["unmet_bits"].sum())  # one cumulative curve per reason
        assert tops == pytest.approx(per_reason, rel=1e-9)
        assert bottom.get_title() == f"Key demand left unmet: {with_unit(sum(per_reason), 'bit')} in all"
    finally:
        plt.close(fig)
