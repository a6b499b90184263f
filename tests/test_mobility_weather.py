"""UAV trajectory geometry and the weather chain's statistics."""

import math

import numpy as np
import pytest

from physical.mobility import LinearMotion, WaypointTrajectory
from physical.weather import Weather, WeatherModel


def test_waypoint_positions_on_a_square_loop():
    path = WaypointTrajectory(np.array([[0, 0, 100], [100, 0, 100], [100, 100, 100]]), speed_mps=10.0, loop=True)
    assert path.path_length_m == pytest.approx(200 + math.sqrt(2) * 100)
    assert np.allclose(path.position_m(5.0), [50, 0, 100])
    assert np.allclose(path.position_m(15.0), [100, 50, 100])
    assert np.allclose(path.position_m(path.path_length_m / 10.0), [0, 0, 100])  # back at the start


def test_waypoint_without_loop_hovers_at_the_end():
    path = WaypointTrajectory(np.array([[0, 0, 50], [30, 40, 50]]), speed_mps=5.0, loop=False)
    assert np.allclose(path.position_m(1000.0), [30, 40, 50])


def test_linear_motion():
    assert np.allclose(LinearMotion((1, 2, 3), (0.5, 0, -0.1)).position_m(10.0), [6, 2, 2])


def _model(**kw):
    base = dict(
        initial="clear",
        mean_duration_s={"clear": 100.0, "cloudy": 50.0, "rain": 20.0},
        jump_probabilities={"clear": {"cloudy": 1.0}, "cloudy": {"rain": 1.0}, "rain": {"clear": 1.0}},
    )
    base.update(kw)
    return WeatherModel(**base)


def test_weather_sojourn_times_match_the_means():
    weather = Weather(_model(), np.random.default_rng(4))
    dt = 1.0
    states = [weather.step(k * dt).state for k in range(200_000)]
    share = {s: states.count(s) / len(states) for s in ("clear", "cloudy", "rain")}
    # a cyclic chain spends time in proportion to the mean durations (discretisation adds ≈ dt/2 each)
    total = 100.5 + 50.5 + 20.5
    assert share["clear"] == pytest.approx(100.5 / total, abs=0.02)
    assert share["rain"] == pytest.approx(20.5 / total, abs=0.02)


def test_rain_fade_is_lognormal_with_the_paper_parameters():
    model = _model(initial="rain", mean_duration_s={"clear": 1.0, "cloudy": 1.0, "rain": 1e12}, rain_fade_correlation_s=0.01)
    weather = Weather(model, np.random.default_rng(5))
    fades = np.array([weather.step(float(k)).rain_fade_db for k in range(20_000)])
    logs = np.log(fades)
    assert logs.mean() == pytest.approx(-3.152, abs=0.03)
    assert logs.var() == pytest.approx(1.6, rel=0.05)


def test_clear_sky_has_no_fade_and_changes_are_reported():
    weather = Weather(_model(mean_duration_s={"clear": 1.0, "cloudy": 1e12, "rain": 1.0}), np.random.default_rng(6))
    first = weather.step(0.0)
    assert first.state == "clear" and first.rain_fade_db == 0.0 and first.changed_from is None
    samples = [weather.step(float(k)) for k in range(1, 50)]
    changes = [s for s in samples if s.changed_from is not None]
    assert len(changes) == 1 and changes[0].changed_from == "clear" and changes[0].state == "cloudy"
