"""``sagin-twin precode``: JSON output consistent with the secrecy maths on the true channels, and
one-line errors (exit 2) for bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from physical.secrecy import secrecy_rates
from precoding_instances import paper_channels, paper_problem, write_npz
from sagin_twin.cli import main

JSON_KEYS = {"method", "status", "iterations", "w", "f", "v", "rates", "min_rate", "planned_min_rate", "solve_s"}


def _vector(pairs) -> np.ndarray:
    return np.array([complex(re, im) for re, im in pairs])


@pytest.mark.parametrize("method", ["synergy", "synergy-sdp", "mrt", "zf", "zf-all"])
def test_json_output_matches_true_channels(tmp_path, capfd, method):
    problem, truth = paper_problem(2, delta=0.1)
    path = write_npz(tmp_path / "ch.npz", truth, estimates=problem.channels)
    assert main(["precode", str(path), "--method", method, "--json"]) == 0
    out = json.loads(capfd.readouterr().out)
    assert JSON_KEYS <= set(out)
    assert out["method"] == method and out["status"] == "ok"
    w, f, v = (_vector(out[k]) for k in "wfv")
    expected = secrecy_rates(truth, w, f, v)  # rates are on the TRUE channels
    assert out["rates"] == pytest.approx(expected.rates, abs=1e-9)
    assert out["min_rate"] == pytest.approx(expected.min_rate, abs=1e-9)
    planned = secrecy_rates(problem.channels, w, f, v)  # the decision used Eve's estimates
    assert out["planned_min_rate"] == pytest.approx(planned.min_rate, abs=1e-9)
    assert np.vdot(w, w).real <= problem.p_s_w * (1 + 1e-6)


def test_robust_and_table_output(tmp_path, capfd):
    problem, truth = paper_problem(3, delta=0.1)
    path = write_npz(tmp_path / "ch.npz", truth, estimates=problem.channels, delta=np.float64(0.1))
    assert main(["precode", str(path), "--robust", "--epsilon", "1e-2"]) == 0
    out = capfd.readouterr().out
    assert "synergy-robust" in out and "min" in out and "achieved" in out


def test_the_default_vector_method_notes_that_it_ignores_epsilon(tmp_path, capfd):
    path = write_npz(tmp_path / "ch.npz", paper_channels(5))
    assert main(["precode", str(path), "--epsilon", "1e-2", "--json"]) == 0
    captured = capfd.readouterr()
    assert json.loads(captured.out)["method"] == "synergy"
    assert "ignores it" in captured.err


def test_estimates_default_to_truth(tmp_path, capfd):
    path = write_npz(tmp_path / "ch.npz", paper_channels(4))
    assert main(["precode", str(path), "--method", "zf", "--json"]) == 0
    out = json.loads(capfd.readouterr().out)
    assert out["min_rate"] == pytest.approx(out["planned_min_rate"], abs=1e-12)


def _bad_file(tmp_path, case: str):
    truth = paper_channels(1)
    path = tmp_path / f"{case}.npz"
    if case == "missing":
        return path, "file not found"
    if case == "not-npz":
        path.write_text("hello")
        return path, "not a numpy .npz"
    arrays = dict(truth.as_dict())
    powers = {"p_s_w": 10.0, "p_u_w": 3.0, "p_b_w": 30.0}
    if case == "no-array":
        del arrays["a_gu"]
        field = "a_gu"
    elif case == "bad-shape":
        arrays["g_e"] = np.ones((4, 2), complex)
        field = "g_e"
    elif case == "mismatch":
        arrays["h_au"] = arrays["h_au"][:3]
        field = "h_su"
    elif case == "nan":
        arrays["a_e"] = arrays["a_e"].copy()
        arrays["a_e"][0] = np.nan
        field = "a_e"
    elif case == "negative-power":
        powers["p_u_w"] = -1.0
        field = "p_u_w"
    elif case == "estimate-length":
        arrays["g_e_est"] = np.ones(7, complex)
        field = "g_su"
    else:
        raise AssertionError(case)
    np.savez(path, **arrays, **powers)
    return path, field


@pytest.mark.parametrize("case", ["missing", "not-npz", "no-array", "bad-shape", "mismatch", "nan",
                                  "negative-power", "estimate-length"])
def test_bad_files_exit_2_with_file_name(tmp_path, capfd, case):
    path, fragment = _bad_file(tmp_path, case)
    assert main(["precode", str(path), "--method", "mrt"]) == 2
    err = capfd.readouterr().err.strip()
    assert err.startswith("error: ") and str(path) in err and fragment in err
    assert "\n" not in err and "Traceback" not in err


def test_object_array_is_refused_without_pickle(tmp_path, capfd):
    truth = paper_channels(1)
    arrays = dict(truth.as_dict())
    arrays["h_su"] = np.array([object()] * 4, dtype=object)
    path = tmp_path / "obj.npz"
    np.savez(path, **arrays, p_s_w=1.0, p_u_w=1.0, p_b_w=1.0)
    assert main(["precode", str(path), "--method", "mrt"]) == 2
    assert "h_su" in capfd.readouterr().err
