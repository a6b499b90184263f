"""Static paper geometry draws and the figure harness (method-independent parts)."""

import numpy as np
import pandas as pd
import pytest

from physical.snapshot import Snapshot, paper_radio
from physical.units import linear_to_db
from sagin_twin.cli import main


def _gain_db(v):
    return linear_to_db(float(np.vdot(v, v).real))


def test_paper_snapshot_link_budgets():
    truth, _ = Snapshot(paper_radio()).draw(seed=1, draw=0, eve_error=0.0)
    # satellite at 600 km zenith, 2.4 GHz, G_max 46 dB, 4 antennas, N0 = -139 dBW:
    # -155.6 + 46 + 6 + 139 = 35.4 dB per watt, equal for every nearby receiver (channel similarity)
    for r in ("su", "au", "gu", "e"):
        assert _gain_db(getattr(truth, f"h_{r}")) == pytest.approx(35.4, abs=0.1)


def test_draws_are_reproducible_and_share_fading_across_deltas():
    snap = Snapshot(paper_radio())
    t1, d1 = snap.draw(3, 7, 0.1)
    t2, d2 = snap.draw(3, 7, 0.2)
    assert np.array_equal(t1.a_au, t2.a_au)  # common random numbers: same truth for every Δ
    err1 = np.linalg.norm(t1.g_e - d1.g_e) / np.linalg.norm(t1.g_e)
    err2 = np.linalg.norm(t2.g_e - d2.g_e) / np.linalg.norm(t2.g_e)
    assert (err1, err2) == (pytest.approx(0.1), pytest.approx(0.2))
    t3, _ = snap.draw(3, 8, 0.1)
    assert not np.allclose(t1.a_au, t3.a_au)


def test_figure_command_writes_csv_and_png(tmp_path, capsys):
    assert main(["figure", "yin-fig2", "--out", str(tmp_path), "--draws", "2", "--methods", "mrt-full"]) == 0
    table = pd.read_csv(tmp_path / "yin-fig2.csv")
    assert len(table) == 5 * 3 and (table["draws"] == 2).all()
    assert (tmp_path / "yin-fig2.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(pd.read_csv(tmp_path / "yin-fig2-draws.csv")) == 5 * 3 * 2
    assert not list(tmp_path.glob("*.partial"))


def test_figure_command_rejects_unknown_methods(tmp_path, capsys):
    assert main(["figure", "yin-fig2", "--out", str(tmp_path), "--methods", "telepathy"]) == 2
    assert "telepathy" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
