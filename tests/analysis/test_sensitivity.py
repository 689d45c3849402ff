import numpy as np
import pytest
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from sim.analysis.results import ResultSet
from sim.analysis.sensitivity import (
    design_matrix,
    salib_problem,
    sensitivity_table,
    top_factors,
    write_sensitivity,
)
from sim.errors import UserError

from .helpers import make_store

FACTORS = [
    {"key": "params.a", "column": "design_a", "values": [], "min": 0.0, "max": 1.0, "scale": False},
    {"key": "params.b", "column": "design_b", "values": [], "min": 0.0, "max": 2.0, "scale": False},
    {
        "key": "policy.c",
        "column": "design_c_scale",
        "values": [],
        "min": 1,
        "max": 3,
        "scale": True,
    },
]


def model(x: np.ndarray) -> np.ndarray:
    """An analytic test function: a matters most, b a little, c not at all."""
    return 0.2 + 0.5 * x[:, 0] + 0.05 * x[:, 1] + 0.0 * x[:, 2]


def _store(root, X, reps, method, noise=0.0):
    y = model(X)
    values, design = {}, {}
    for i, row in enumerate(X):
        name = f"pt{i}"
        # replication noise that averages out exactly over the two replications
        values[name] = y[i] + (np.array([noise, -noise]) if reps == 2 else np.zeros(1))
        design[name] = [{f["column"]: float(v) for f, v in zip(FACTORS, row, strict=True)}]
    make_store(
        root,
        values,
        months=["2016-11", "2016-12"],  # short runs keep the store small
        levels=("district",),
        frequency="yearly",
        method=method,
        design=design,
        factors=FACTORS,
    )
    return ResultSet(root)


def test_problem_and_design_matrix(tmp_path):
    problem = salib_problem(FACTORS)
    X = morris_sample.sample(problem, 4, num_levels=4, seed=1)
    rs = _store(tmp_path, X, 1, "morris")
    assert problem["bounds"] == [[0.0, 1.0], [0.0, 2.0], [1.0, 3.0]]
    np.testing.assert_array_equal(design_matrix(rs), X)


def test_morris_matches_salib_and_ranks_the_known_answer(tmp_path):
    problem = salib_problem(FACTORS)
    X = morris_sample.sample(problem, 10, num_levels=4, seed=7)
    rs = _store(tmp_path, X, 2, "morris", noise=0.03)
    table = sensitivity_table(rs, at="final", outcomes=["admin_burden"], num_resamples=200)
    expected = morris_analyze.analyze(problem, X, model(X), num_resamples=200, num_levels=4, seed=7)
    got = table.set_index("factor")
    for k, name in enumerate(problem["names"]):
        assert got.loc[name, "mu_star"] == pytest.approx(expected["mu_star"][k], abs=1e-12)
        assert got.loc[name, "mu_star_conf"] == pytest.approx(expected["mu_star_conf"][k])
    assert list(table["factor"]) == ["params.a", "params.b", "policy.c_scale"]
    assert list(table["rank"]) == [1, 2, 3]
    assert got.loc["params.a", "mu_star"] == pytest.approx(0.5)  # its coefficient x its range
    assert got.loc["policy.c_scale", "mu_star"] == pytest.approx(0.0, abs=1e-12)
    assert "averaged over 2 replications" in table.attrs["note"]
    assert list(top_factors(table, k=1)["factor"]) == ["params.a"]
    paths = write_sensitivity(rs, table)
    assert paths["csv"].name == "sensitivity_morris_final.csv"
    assert "params.a" in paths["markdown"].read_text(encoding="utf-8")


def test_sobol_finds_the_known_answer(tmp_path):
    problem = salib_problem(FACTORS)
    X = sobol_sample.sample(problem, 32, calc_second_order=False, seed=3)
    rs = _store(tmp_path, X, 1, "sobol")
    table = sensitivity_table(rs, at="final", outcomes=["admin_burden"], num_resamples=100)
    expected = sobol_analyze.analyze(
        problem, model(X), calc_second_order=False, num_resamples=100, seed=7
    )
    got = table.set_index("factor")
    for k, name in enumerate(problem["names"]):
        assert got.loc[name, "ST"] == pytest.approx(expected["ST"][k])
        assert got.loc[name, "S1"] == pytest.approx(expected["S1"][k])
    # analytic: Var = 0.25/12 + 0.0025*4/12; S_a ~ 0.954, S_b ~ 0.046, S_c = 0
    assert got.loc["params.a", "ST"] == pytest.approx(0.954, abs=0.1)
    assert table["factor"].iloc[0] == "params.a"


def test_sensitivity_needs_a_morris_or_sobol_design(tmp_path):
    make_store(tmp_path, {"a": np.array([0.5, 0.6])}, levels=("district",))
    with pytest.raises(UserError, match="sensitivity indices need a morris or sobol design"):
        sensitivity_table(tmp_path)


def test_missing_points_are_a_user_error(tmp_path):
    problem = salib_problem(FACTORS)
    X = morris_sample.sample(problem, 4, num_levels=4, seed=1)
    rs = _store(tmp_path, X, 1, "morris")
    (tmp_path / "status" / "p00003-r00000.json").unlink()
    with pytest.raises(UserError, match="1 of 16 design points have no finished run"):
        sensitivity_table(ResultSet(rs.path))
