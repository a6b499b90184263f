"""Paper-figure and sweep plots: one panel per user, readable titles with units."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from studies import yin  # noqa: E402
from sweeps.metrics import FIGURE_METRICS, INSTANCE_METRICS, SCENARIO_METRICS  # noqa: E402
from sweeps.results import axis_label, metric_title, plot_metric  # noqa: E402


def _table(spec: yin.FigureSpec) -> pd.DataFrame:
    """A synthetic aggregated table with the columns yin.aggregate produces (a distinct value per series)."""
    deltas = (None,) if spec.parameter == "delta" else spec.deltas
    rows = []
    for k, (value, delta, method) in enumerate(itertools.product(spec.values, deltas, spec.methods)):
        row = {"value": value, "delta": value if delta is None else delta, "method": method, "draws": 7}
        for column in ("rate_su_bps_hz", "rate_au_bps_hz", "rate_gu_bps_hz", "min_rate_bps_hz", "planned_min_rate_bps_hz"):
            row[f"{column}_mean"], row[f"{column}_sem"] = float(k), 0.1
        rows.append(row)
    return pd.DataFrame(rows)


@pytest.mark.parametrize("name", sorted(yin.FIGURES))
def test_yin_figures_split_users_into_panels(name):
    spec = yin.FIGURES[name]
    fig = yin.figure(spec, _table(spec))
    try:
        axes = [ax for ax in fig.axes if ax.get_visible()]
        expected_titles = ["SU", "AU", "GU"] if spec.per_user else ["minimum over SU, AU, GU"]
        assert [ax.get_title() for ax in axes] == expected_titles
        series = len(spec.methods) * (1 if spec.parameter == "delta" else len(spec.deltas))
        for ax in axes:  # each panel holds exactly one line per (method, Δ), never the other users' lines
            assert len(ax.containers) == series  # one ErrorbarContainer per series
        labels = axes[-1].get_legend_handles_labels()[1]
        assert len(set(labels)) == series and not any(u in label for label in labels for u in ("SU", "AU", "GU"))
        assert "7 draws per point" in fig._suptitle.get_text()
    finally:
        plt.close(fig)


@pytest.mark.parametrize("metric", SCENARIO_METRICS + FIGURE_METRICS + INSTANCE_METRICS)
def test_every_sweep_metric_has_a_readable_title_and_unit(metric):
    title, unit = metric_title(metric)
    assert "_" not in title and title[0].isupper()
    assert unit  # bit/s/Hz, s, count, fraction or cost units
    if metric.endswith("_bps_hz"):
        assert unit == "bit/s/Hz"
    elif metric.endswith("_s"):
        assert unit == "s"


def test_axis_labels_put_the_unit_suffix_in_parentheses():
    assert axis_label("links.decision.latency_s") == "links.decision.latency (s)"
    assert axis_label("satellite.power_dbw") == "satellite.power (dBW)"
    assert axis_label("uav.speed_mps") == "uav.speed (m/s)"
    assert axis_label("replicate") == "replicate"


def test_sweep_png_uses_the_readable_title(tmp_path, monkeypatch):
    seen = {}
    original = plt.Figure.savefig

    def spy(fig, path, **kwargs):
        seen["title"] = fig.axes[0].get_title()
        seen["ylabel"] = fig.axes[0].get_ylabel()
        seen["xlabel"] = fig.axes[0].get_xlabel()
        return original(fig, path, **kwargs)

    monkeypatch.setattr(plt.Figure, "savefig", spy)
    table = pd.DataFrame({"twin.period_s": np.repeat([5.0, 20.0], 3), "status": "ok", "gap_au_mean_bps_hz": np.arange(6.0)})
    plot_metric(table, "gap_au_mean_bps_hz", "twin.period_s", [], tmp_path / "m.png")
    assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"
    assert seen["title"].startswith("Planned − achieved secrecy rate (AU)") and "gap_au" not in seen["title"]
    assert seen["ylabel"] == "bit/s/Hz" and seen["xlabel"] == "twin.period (s)"
