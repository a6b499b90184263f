"""inspect's filters: completion read from the whole log, unknown sources refused, finite times, lean Parquet exports."""

from __future__ import annotations

import pandas as pd
import pytest

from eventlog.reader import load_events
from sagin_twin.cli import main


def test_filtered_inspect_still_knows_the_run_finished(default_run, capfd):
    assert main(["inspect", str(default_run), "--kind", "resolve", "--from", "100", "--to", "200"]) == 0
    out = capfd.readouterr().out
    assert "finished: completed" in out and "simulated time 100.5 … 199.5 s" in out


def test_unknown_source_is_rejected_listing_the_sources_present(default_run, capfd):
    assert main(["inspect", str(default_run), "--source", "sat"]) == 2
    err = capfd.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unknown source 'sat'" in err
    sources = set(load_events(default_run)["source"])
    assert all(source in err for source in sources)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
@pytest.mark.parametrize("option", ["--from", "--to"])
def test_non_finite_times_are_rejected(default_run, capfd, option, value):
    assert main(["inspect", str(default_run), f"{option}={value}"]) == 2
    assert f"{option}: must be a finite time" in capfd.readouterr().err


def test_filtered_parquet_keeps_only_columns_with_values(default_run, tmp_path, capfd):
    parquet = tmp_path / "part.parquet"
    assert main(["inspect", str(default_run), "--kind", "resolve", "--from", "100", "--to", "200", "--parquet", str(parquet)]) == 0
    part = pd.read_parquet(parquet)
    events = load_events(default_run)
    expected = events[(events["kind"] == "resolve") & events["t_s"].between(100, 200)].dropna(axis=1, how="all")
    assert part["seq"].tolist() == expected["seq"].tolist()
    assert set(part.columns) == set(expected.columns)  # not the ~110 columns of the whole log
    assert part.notna().any().all()
    assert len(part.columns) < len(events.columns) / 2
    assert not list(tmp_path.glob("*.partial"))


def test_parquet_into_a_folder_that_cannot_be_written_is_one_line(default_run, tmp_path, capfd, monkeypatch):
    import pyarrow.parquet as pq

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq, "write_table", full_disk)
    target = tmp_path / "part.parquet"
    assert main(["inspect", str(default_run), "--kind", "resolve", "--parquet", str(target)]) == 2
    err = capfd.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "No space left on device" in err and str(target) in err
    assert not list(tmp_path.iterdir())  # no partial file left behind
