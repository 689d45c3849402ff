import json

import numpy as np
import pandas as pd
import pytest
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from sim.analysis.results import ResultSet
from sim.analysis.sensitivity import (
    design_matrix,
    factor_label,
    markdown,
    salib_problem,
    sensitivity_table,
    stability_warnings,
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


# -- paired designs: indices of the effect, not only of the level (issue 11) ---------------------


def focus_model(x: np.ndarray) -> np.ndarray:
    """The reform's level: c moves it most, a and b are the reform's own effect."""
    return 0.2 + 0.5 * x[:, 0] + 0.05 * x[:, 1] + 0.3 * x[:, 2]


def counterfactual_model(x: np.ndarray) -> np.ndarray:
    """The counterfactual's level: c moves it as much, so c moves no effect."""
    return 0.2 + 0.3 * x[:, 2]


def _paired_store(root, X, method, shared_sd=0.2):
    """Sample i as points 2i (focus) and 2i + 1 (counterfactual); replication r adds the same
    noise to both arms (common random numbers), which the paired effect removes exactly."""
    shared = np.random.default_rng(3).normal(0, shared_sd, (len(X), 2))
    yf, yc = focus_model(X), counterfactual_model(X)
    values, design = {}, {}
    for i, row in enumerate(X):
        d = [{f["column"]: float(v) for f, v in zip(FACTORS, row, strict=True)}]
        values[f"f{i}"], design[f"f{i}"] = yf[i] + shared[i], d
        values[f"c{i}"], design[f"c{i}"] = yc[i] + shared[i], d
    make_store(root, values, months=["2016-11", "2016-12"], levels=("district",),
               frequency="yearly", method=method, design=design, factors=FACTORS)  # fmt: skip
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["counterfactual"] = "/somewhere/baseline.toml"
    for k, p in enumerate(manifest["points"]):
        p["arm"], p["sample"] = ("focus", "counterfactual")[k % 2], k // 2
    (root / "manifest.json").write_text(json.dumps(manifest))
    return ResultSet(root)


def test_a_paired_design_ranks_what_moves_the_effect_apart_from_what_moves_the_level(tmp_path):
    problem = salib_problem(FACTORS)
    X = morris_sample.sample(problem, 10, num_levels=4, seed=7)
    rs = _paired_store(tmp_path, X, "morris")
    np.testing.assert_array_equal(design_matrix(rs), X)
    effect = sensitivity_table(rs, at="final", outcomes=["admin_burden"], num_resamples=100)
    assert effect.attrs["quantity"] == "effect" and set(effect["quantity"]) == {"effect"}
    got = effect.set_index("factor")
    # The common noise cancels in the paired effect: a's elementary effect is exactly 0.5.
    assert got.loc["params.a", "mu_star"] == pytest.approx(0.5)
    assert got.loc["policy.c_scale", "mu_star"] == pytest.approx(0.0, abs=1e-12)
    assert effect["factor"].iloc[0] == "params.a"
    both = sensitivity_table(rs, at="final", outcomes=["admin_burden"], num_resamples=100,
                             quantity="both")  # fmt: skip
    level = both[both["quantity"] == "level"].set_index("factor")
    assert level["rank"].idxmin() == "policy.c_scale"  # c (range 2 x 0.3) moves the level most
    assert level.loc["policy.c_scale", "mu_star"] > 0.5
    assert set(both.groupby("quantity")["rank"].max()) == {3}  # ranked within each quantity


def test_effects_need_a_paired_design(tmp_path):
    problem = salib_problem(FACTORS)
    X = morris_sample.sample(problem, 4, num_levels=4, seed=1)
    rs = _store(tmp_path, X, 1, "morris")
    with pytest.raises(UserError, match="effects need a paired design"):
        sensitivity_table(rs, at="final", quantity="effect")


def test_factors_carry_their_label_from_the_parameter_table():
    assert factor_label("params.refusal_propensity") == (
        "Chance a community refuses a pushed unlisted item at full enforcement"
    )
    assert factor_label("policy.purchase_budget_scale").endswith("(× the scenario's value)")
    assert factor_label("params.no_such_thing") == "params.no_such_thing"


def test_a_small_sobol_sample_warns_and_a_large_one_does_not(tmp_path):
    problem = salib_problem(FACTORS)
    X = sobol_sample.sample(problem, 8, calc_second_order=False, seed=3)
    rs = _store(tmp_path, X, 1, "sobol")
    small = sensitivity_table(rs, at="final", outcomes=["admin_burden"], num_resamples=100)
    assert len(small.attrs["warnings"]) == 1
    assert "too few samples (8)" in small.attrs["warnings"][0]
    assert "Warning: the sample is too small" in markdown(rs, small)
    # The same function with 4,096 base samples: the estimates are stable, no warning.
    X = sobol_sample.sample(problem, 4096, calc_second_order=False, seed=3)
    res = sobol_analyze.analyze(problem, model(X), calc_second_order=False, num_resamples=100,
                                seed=7)  # fmt: skip
    big = pd.DataFrame({"outcome": "y", "factor": problem["names"], "rank": [1, 2, 3],
                        **{k: res[k] for k in ("S1", "S1_conf", "ST", "ST_conf")}})  # fmt: skip
    assert stability_warnings(big, "sobol", 4096) == []
    # Each symptom alone is caught.
    for column, value, text in (
        ("S1_conf", 0.3, "95% CIs up to ±0.30"),
        ("S1", -0.5, "negative S1 beyond its CI"),
        ("S1", 1.5, "S1 above ST"),
    ):
        bad = big.copy()
        bad.loc[1, column] = value
        assert text in stability_warnings(bad, "sobol", 4096)[0]


def test_an_unresolved_morris_ranking_warns(tmp_path):
    problem = salib_problem(FACTORS)
    X = morris_sample.sample(problem, 4, num_levels=4, seed=1)
    rs = _store(tmp_path, X, 2, "morris", noise=0.0)
    table = sensitivity_table(rs, at="final", outcomes=["admin_burden"], num_resamples=100)
    assert table.attrs["warnings"] == []  # a linear function: every elementary effect agrees
    table.loc[table["rank"] == 1, "mu_star_conf"] = table["mu_star"].max()
    assert "not resolved" in stability_warnings(table, "morris", 4)[0]


def test_sensitivity_for_some_outcomes_writes_its_own_file_and_says_so(tmp_path, capsys):
    from sim.cli import main

    problem = salib_problem(FACTORS)
    X = morris_sample.sample(problem, 4, num_levels=4, seed=1)
    rs = _store(tmp_path, X, 1, "morris")
    assert main(["sensitivity", str(rs.path), "--at", "final", "--quiet"]) == 0
    default = rs.path / "tables" / "sensitivity_morris_final.csv"
    before = default.read_bytes()
    capsys.readouterr()
    assert main(["sensitivity", str(rs.path), "--at", "final", "--outcomes",
                 "admin_burden,satisfaction", "--quiet"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    own = rs.path / "tables" / "sensitivity_morris_final_admin_burden+satisfaction.csv"
    assert own.is_file() and str(own) in out
    assert "sensitivity_morris_final.csv, is left as it was" in out
    assert default.read_bytes() == before
    assert set(pd.read_csv(own)["outcome"]) == {"admin_burden", "satisfaction"}


def test_the_reports_sensitivity_section_says_whether_it_shows_effects_or_levels(tmp_path):
    from types import SimpleNamespace

    from sim.analysis.report.sections import sensitivity_html

    problem = salib_problem(FACTORS)
    X = morris_sample.sample(problem, 10, num_levels=4, seed=7)
    rs = _paired_store(tmp_path, X, "morris")
    for quantity, words in (("effect", "the reform's <i>effect</i> (reform minus"),
                            ("level", "outcome <i>levels</i> under the screened")):  # fmt: skip
        table = sensitivity_table(rs, at="final", outcomes=["admin_burden"], num_resamples=100,
                                  quantity=quantity)  # fmt: skip
        html = sensitivity_html(SimpleNamespace(sensitivity=table, sensitivity_rs=rs))
        assert words in html
        assert ("too small for stable indices" in html) == bool(table.attrs["warnings"])
