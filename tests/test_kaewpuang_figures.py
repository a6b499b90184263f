"""Kaewpuang et al. figures (studies/kaewpuang.py, ``sagin-twin figure kaewpuang-*``): the published
trends on the shipped small instance, and the command line. The MILP itself (newsvendor, VSS/EVPI,
formulations) is tested in test_qkd_planning.py."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from sagin_twin.cli import main
from studies import kaewpuang
from twin.qkd.instance import QkdInstance
from twin.qkd.plan import PlanOptions

EXACT = PlanOptions(mip_rel_gap=0.0)
COST_REL_TOL = 1e-9  #: relative tolerance between exact optima


@pytest.fixture(scope="module")
def small() -> QkdInstance:
    return kaewpuang.load_instance(None)


@pytest.fixture(scope="module")
def reservation_sweep(small):
    """(tasks, solved plans) of the Fig. 2 reservation sweep, solved in this process."""
    tasks = kaewpuang.tasks(kaewpuang.FIGURES["kaewpuang-fig2a"], small, EXACT)
    return tasks, [kaewpuang.solve_task(t)[1] for t in tasks]


@pytest.fixture(scope="module")
def price_rows(small):
    tasks = kaewpuang.tasks(kaewpuang.FIGURES["kaewpuang-fig3d"], small, EXACT)
    return pd.DataFrame([kaewpuang.run_task(t) for t in tasks]).sort_values("value").reset_index(drop=True)


def _grid(reservation_sweep):
    tasks, plans = reservation_sweep
    pairs = sorted((t.value, p) for t, p in zip(tasks, plans) if t.kind == "grid")
    assert all(p.status == "optimal" for _, p in pairs)
    return np.array([q for q, _ in pairs]), np.array([p.objective for _, p in pairs]), [p for _, p in pairs]


def test_sweep_fixes_the_free_routes_and_reserves_on_the_first_requests_route(small, reservation_sweep):
    tasks, plans = reservation_sweep
    free_task, free = tasks[0], plans[0]
    assert free_task.kind == "free" and free_task.request == small.requests[0].name == "r1"
    assert free_task.route == ("A", "B", "C") and free_task.route_links == ("A-B", "B-C")
    for task, plan in zip(tasks[1:], plans[1:]):
        assert plan.routes == free.routes  # every request keeps the free optimum's route
        assert [plan.reserved.get(n, {}).get("qkd", 0) for n in task.route_links] == [task.value] * 2


def test_total_cost_against_reservation_is_u_shaped(reservation_sweep):
    q, cost, plans = _grid(reservation_sweep)
    k = int(np.argmin(cost))
    assert 0 < k < len(q) - 1
    assert cost[0] > cost[k] * (1 + 1e-6) and cost[-1] > cost[k] * (1 + 1e-6)
    first = np.array([p.first_stage_cost for p in plans])
    second = np.array([p.expected_second_stage_cost for p in plans])
    assert np.all(np.diff(first) > 0) and np.all(np.diff(second) <= 1e-6)  # the two stages trade off


def test_free_milp_optimum_is_the_grid_minimum(reservation_sweep):
    tasks, plans = reservation_sweep
    free = plans[0]
    q, cost, _ = _grid(reservation_sweep)
    assert free.status == "optimal"
    assert free.objective == pytest.approx(cost.min(), rel=COST_REL_TOL)
    reserved = {free.reserved[n]["qkd"] for n in tasks[0].route_links}
    assert reserved == {q[int(np.argmin(cost))]} == {9}  # uniform on the route, at the grid's argmin


def test_ondemand_only_below_the_largest_need(reservation_sweep):
    tasks, plans = reservation_sweep
    route = list(tasks[0].route_links)
    for task, plan in zip(tasks, plans):
        cols = [plan.link_names.index(n) for n in route]
        need, od = plan.need_qkd[:, cols], plan.ondemand_qkd[:, cols]
        largest = need.max()
        assert largest == 24  # r1 peaks at 8 parallel QKD links × 3 wavelengths
        # per scenario and link: on demand exactly where the need exceeds the reservation
        np.testing.assert_allclose(od, np.maximum(need - task.value, 0.0), atol=1e-9)
        if task.value >= largest:
            assert od.sum() == 0
        else:
            assert od.max() > 0
    rows = [kaewpuang.run_task(t) for t in tasks]
    expected_od = {r["value"]: r["expected_ondemand_qkd"] for r in rows if r["kind"] == "grid"}
    assert all(v == 0.0 for q, v in expected_od.items() if q >= 24)
    assert all(v > 0 for q, v in expected_od.items() if q < 24)


def test_price_multiplier_moves_requests_onto_the_satellite(price_rows):
    rows = price_rows
    assert rows["status"].eq("optimal").all()
    via = rows["requests_via_satellite"].to_numpy()
    assert via[0] == 0 and via[-1] >= 1
    assert np.all(np.diff(via) >= 0)
    assert np.all(np.diff(rows["satellite_demand_share"]) >= -1e-12)
    assert np.all(np.diff(rows["total_cost"]) > 0)
    assert "S1" in rows["routes"].iloc[-1] and "S1" not in rows["routes"].iloc[0]


def test_scale_prices_multiplies_fiber_and_uav_only(small):
    scaled = kaewpuang.scale_prices(small, 3.0)
    for name in ("fiber", "uav"):
        assert dataclasses.asdict(scaled.media[name].cost) == {k: 3.0 * v for k, v in dataclasses.asdict(small.media[name].cost).items()}
    assert scaled.media["satellite"] == small.media["satellite"]
    assert scaled.links == small.links and scaled.scenarios == small.scenarios


def test_reservation_grid_covers_breakpoints_and_the_free_values():
    assert kaewpuang.reservation_grid(24, [9], 150) == list(range(0, 37, 3))
    grid = kaewpuang.reservation_grid(120, [7], 150)
    assert grid[0] == 0 and grid[-1] == 150 and 7 in grid and all(q % 3 == 0 for q in grid if q != 7)
    assert len(grid) <= kaewpuang.GRID_POINTS + 3


def test_figure_command_writes_kaewpuang_csv_and_png(tmp_path, capsys):
    assert main(["figure", "kaewpuang-fig2a", "--out", str(tmp_path), "--workers", "1"]) == 0
    table = pd.read_csv(tmp_path / "kaewpuang-fig2a.csv")
    free = table[table["kind"] == "free"].iloc[0]
    grid = table[table["kind"] == "grid"]
    assert free["reserved_qkd_per_link"] == 9 and free["total_cost"] == pytest.approx(grid["total_cost"].min())
    draws = pd.read_csv(tmp_path / "kaewpuang-fig2a-draws.csv")
    assert len(draws) == len(table) and (draws["status"] == "ok").all()
    assert (tmp_path / "kaewpuang-fig2a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob("*.partial"))
    assert "kaewpuang-fig2a: 14 solves" in capsys.readouterr().out


@pytest.mark.parametrize("extra, flag", [(["--draws", "3"], "--draws"), (["--methods", "zf"], "--methods"),
                                         (["--seed", "2"], "--seed")])
def test_yin_options_are_rejected_for_kaewpuang_figures(tmp_path, capsys, extra, flag):
    assert main(["figure", "kaewpuang-fig3d", "--out", str(tmp_path), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert flag in err and "Kaewpuang" in err and len(err.splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_instance_option_is_rejected_for_yin_figures(tmp_path, capsys):
    assert main(["figure", "yin-fig2", "--out", str(tmp_path), "--instance", str(kaewpuang.DEFAULT_INSTANCE)]) == 2
    assert "--instance" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_bad_instance_file_is_one_line_input_error(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(kaewpuang.DEFAULT_INSTANCE.read_text().replace('weather = "cloudy"', 'weather = "foggy"', 1))
    out = tmp_path / "out"
    assert main(["figure", "kaewpuang-fig2b", "--out", str(out), "--instance", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bad.toml" in err and "weather" in err and "foggy" in err
    assert main(["figure", "kaewpuang-fig2b", "--out", str(out), "--instance", str(tmp_path / "missing.toml")]) == 2
    assert "missing.toml: file not found" in capsys.readouterr().err
    assert not out.exists()


# --- Fig. 2a with deterministic demand: the paper's V ------------------------------------------


def test_deterministic_fig2a_is_a_v_with_zero_second_stage_at_the_need():
    """One clear scenario: r1's expected 54.5 kbit/s needs ceil(54500/15000) = 4 QKD links = 12 wavelengths
    per route link; the total cost falls linearly to 12 reserved and rises linearly after, with no
    second stage from 12 on (every need is reserved, nothing bought on demand)."""
    spec = kaewpuang.FIGURES["kaewpuang-fig2a-deterministic"]
    instance = kaewpuang.load_instance(None, spec)
    assert len(instance.scenarios) == 1
    tasks = kaewpuang.tasks(spec, instance, EXACT)
    plans = [kaewpuang.solve_task(t)[1] for t in tasks]
    free = plans[0]
    grid = sorted((t.value, p) for t, p in zip(tasks, plans) if t.kind == "grid")
    q = np.array([v for v, _ in grid])
    cost = np.array([p.objective for _, p in grid])
    second = np.array([p.expected_second_stage_cost for _, p in grid])
    k = int(np.argmin(cost))
    assert q[k] == 12 and {free.reserved[n]["qkd"] for n in tasks[0].route_links} == {12}
    assert free.objective == pytest.approx(cost[k], rel=COST_REL_TOL) and free.expected_second_stage_cost == 0.0
    assert np.all(second[q >= 12] == 0.0) and np.all(second[q < 12] > 0)
    slopes = np.diff(cost) / np.diff(q)
    assert np.all(slopes[: k] < 0) and np.all(slopes[k:] > 0)  # a V
    assert np.allclose(slopes[: k], slopes[0]) and np.allclose(slopes[k:], slopes[-1])  # with straight arms


# --- Fig. 2b: KM saturation under eq. 35 ------------------------------------------------------


@pytest.fixture(scope="module")
def saturation_rows(small):
    spec = kaewpuang.FIGURES["kaewpuang-fig2b"]
    return pd.DataFrame([kaewpuang.run_task(t) for t in kaewpuang.tasks(spec, small, EXACT)])


def test_fig2b_reservations_follow_the_closed_form_and_km_saturates_first(small, saturation_rows):
    rows = saturation_rows
    assert rows["status"].eq("optimal").all()
    k = 15000.0  # fiber K on r1's route A-B-C
    capacity_qkd, capacity_km = small.media["fiber"].capacity_qkd, small.media["fiber"].capacity_km
    for _, row in rows.iterrows():
        p = math.ceil(row["demand_bps"] / k - 1e-9) if row["demand_bps"] > 0 else 0
        assert row["reserved_qkd"] == min(3 * p, capacity_qkd)
        assert row["ondemand_qkd"] == max(3 * p - capacity_qkd, 0)
        if row["km_rule"] == "eq35":
            assert row["reserved_km"] == min(p, capacity_km) and row["ondemand_km"] == max(p - capacity_km, 0)
        else:
            assert row["reserved_km"] == 1 and row["ondemand_km"] == 0
    eq35 = rows[rows["km_rule"] == "eq35"].sort_values("demand_bps")
    km_full = eq35.loc[eq35["reserved_km"] >= capacity_km, "demand_bps"].min()
    qkd_full = eq35.loc[eq35["reserved_qkd"] >= capacity_qkd, "demand_bps"].min()
    assert km_full == 30 * k and qkd_full == 50 * k  # KM saturates at 450 kbit/s, QKD at 750 kbit/s
    assert eq35["reserved_km_key_bps"].max() == pytest.approx(30 * k)
    assert eq35["reserved_qkd_key_bps"].max() == pytest.approx(50 * k)


def test_fig2b_figure_command(tmp_path):
    assert main(["figure", "kaewpuang-fig2b", "--out", str(tmp_path), "--workers", "1"]) == 0
    table = pd.read_csv(tmp_path / "kaewpuang-fig2b.csv")
    assert set(table["km_rule"]) == {"eq35", "eq6"} and (table["solver_status"] == "optimal").all()
    assert (tmp_path / "kaewpuang-fig2b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
