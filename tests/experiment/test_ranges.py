"""Sensitivity ranges from a posterior sample (issue 11: `sanshe sensitivity-ranges`)."""

import tomllib

import numpy as np
import pytest

from sim.cli import main
from sim.experiment.posterior import read_posterior
from sim.experiment.ranges import (
    BLOCK_START,
    ranges_from_posterior,
    round_out,
    weighted_quantiles,
)
from sim.experiment.spec import load_experiment
from sim.params import Params

from ..conftest import ROOT
from .helpers import experiment_file, posterior_file, short_scenarios

DEFAULT_RATE = Params().group_formation_rate
DEFAULT_PRICE = Params().service_hour_price


def morris_file(tmp, method="morris"):
    ref, base = (p.name for p in short_scenarios(tmp))
    body = (
        f'name = "x"\nreplications = 1\nroot_seed = 1\n[design]\nmethod = "{method}"\n'
        f'base = "{base}"\ncounterfactual = "{ref}"\nsamples = 2\n'
        "# a comment that must survive\n"
        '[design.factors."params.group_formation_rate"]   # the prior\nmin = 0.01\nmax = 0.9\n\n'
        '[design.factors."params.service_hour_price"]\nmin = 30.0\nmax = 60.0\n\n'
        '[design.factors."params.hours_per_item"]\nmin = 7.0\nmax = 11.0\n\n'
        '[design.factors."policy.purchase_budget"]\nmin = 0.5\nmax = 1.5\nscale = true\n'
    )
    return experiment_file(tmp, body)


def test_weighted_quantiles_follow_the_weights():
    v = np.array([3.0, 1.0, 4.0, 2.0])
    # equal weights: the Hazen quantile
    qs = [0.05, 0.3, 0.5, 0.95]
    assert np.allclose(weighted_quantiles(v, np.ones(4), qs), np.quantile(v, qs, method="hazen"))
    # a zero weight removes a value; a heavy one pulls the median to it
    assert weighted_quantiles(v, [0, 1, 0, 1], [0.5])[0] == pytest.approx(1.5)
    heavy = [0.01, 0.01, 0.97, 0.01]  # 4.0 holds the cumulative weight 0.03-1.00, midpoint 0.515
    assert weighted_quantiles(v, heavy, [0.6])[0] == 4.0
    assert 3.0 < weighted_quantiles(v, heavy, [0.5])[0] < 4.0
    # quantiles of a weight split 1:3 between two values
    assert weighted_quantiles([0.0, 1.0], [0.25, 0.75], [0.125, 0.625])[0] == 0.0
    assert weighted_quantiles([0.0, 1.0], [0.25, 0.75], [0.625])[0] == 1.0


def test_round_out_moves_away_from_the_inside_of_the_range():
    assert round_out(0.043529, up=False) == 0.0435
    assert round_out(0.043529, up=True) == 0.0436
    assert round_out(136.25, up=True) == 137.0
    assert round_out(41.07, up=False) == 41.0
    assert round_out(0.0435, up=False) == 0.0435  # already three digits: unchanged
    assert round_out(2.4, up=True, integer=True) == 3.0
    assert round_out(0.0, up=False) == 0.0


def test_ranges_hold_the_posterior_quantiles_median_and_default(tmp_path):
    rates = [0.30, 0.32, 0.35, 0.40, 0.60]  # all above the default rate (0.16): widened down
    prices = [40.0, 42.0, 44.0, 46.0, 48.0]  # around the default price (47)
    weights = [0.15, 0.2, 0.4, 0.2, 0.05]  # midpoints 0.075, 0.25, 0.55, 0.85, 0.975
    post = posterior_file(
        tmp_path,
        {"params.group_formation_rate": rates, "params.service_hour_price": prices},
        weights=weights,
    )
    path = morris_file(tmp_path)
    result = ranges_from_posterior(path, post)
    by_key = {r.key: r for r in result.ranges}
    assert set(by_key) == {"params.group_formation_rate", "params.service_hour_price"}
    assert result.kept == ("params.hours_per_item", "policy.purchase_budget")
    rate, price = by_key["params.group_formation_rate"], by_key["params.service_hour_price"]
    assert rate.median == pytest.approx(0.32 + 0.03 * 0.25 / 0.3)  # between the 2nd and 3rd
    assert price.median == pytest.approx(42.0 + 2.0 * 0.25 / 0.3)
    for r in (rate, price):
        assert r.low <= r.q_low <= r.median <= r.q_high <= r.high
        assert r.low <= r.default <= r.high
        # rounded outward, never more than one step of the third digit beyond the values held
        assert r.high - max(r.q_high, r.default) < 0.01 * r.high
    assert rate.widened and rate.low == round_out(DEFAULT_RATE, up=False) < rate.q_low
    assert rate.high < 0.6  # the 95% quantile, not the largest particle
    assert not price.widened and price.high < 48.0

    # the file: new ranges, other factors and comments kept, one generated block naming the file
    assert result.changed
    written = tomllib.loads(result.text)["design"]["factors"]
    assert (written["params.group_formation_rate"]["min"], written["params.group_formation_rate"]
            ["max"]) == (rate.low, rate.high)  # fmt: skip
    assert written["params.hours_per_item"] == {"min": 7.0, "max": 11.0}
    assert written["policy.purchase_budget"] == {"min": 0.5, "max": 1.5, "scale": True}
    assert "# a comment that must survive" in result.text
    assert result.text.count(BLOCK_START) == 1 and post.name in result.text
    assert "# posterior, widened to hold the default" in result.text

    # the command writes it; a second run changes nothing; --check agrees
    assert main(["sensitivity-ranges", str(post), str(path), "--quiet"]) == 0
    exp = load_experiment(path)
    assert {f.key: (f.low, f.high) for f in exp.factors}["params.service_hour_price"] == (
        price.low,
        price.high,
    )
    again = ranges_from_posterior(path, post)
    assert not again.changed and again.text.count(BLOCK_START) == 1
    assert main(["sensitivity-ranges", str(post), str(path), "--check", "--quiet"]) == 0


def test_check_fails_on_ranges_that_differ_and_quantiles_change_them(tmp_path, capsys):
    post = posterior_file(tmp_path, {"params.service_hour_price": [40.0, 44.0, 45.0, 50.0]})
    path = morris_file(tmp_path)
    before = path.read_text()
    assert main(["sensitivity-ranges", str(post), str(path), "--check", "--quiet"]) == 1
    assert path.read_text() == before  # --check writes nothing
    assert "differ" in capsys.readouterr().err
    narrow = ranges_from_posterior(path, post, 0.25, 0.75).ranges[0]
    wide = ranges_from_posterior(path, post, 0.0, 1.0).ranges[0]
    assert wide.low <= narrow.low and narrow.high < wide.high == 50.0


BAD = [
    ("missing file", lambda tmp: tmp / "absent.parquet", "not found"),
    ("not parquet", lambda tmp: _text(tmp / "p.parquet", "not parquet"), "not a readable Parquet"),
    ("no weights", lambda tmp: _drop_weight(posterior_file(tmp)), "weight"),
    (
        "no screened parameter",
        lambda tmp: posterior_file(tmp, {"params.petition_propensity": [0.1, 0.2]}),
        "no factor is a parameter of the posterior",
    ),
]


def _text(path, text):
    path.write_text(text)
    return path


def _drop_weight(path):
    import pyarrow.parquet as pq

    pq.write_table(pq.read_table(path).drop_columns(["weight"]), path)
    return path


@pytest.mark.parametrize(("case", "make", "expect"), BAD, ids=[b[0] for b in BAD])
def test_bad_posterior_gives_one_line_and_exit_2(tmp_path, capsys, case, make, expect):
    path = morris_file(tmp_path)
    before = path.read_text()
    post = make(tmp_path)
    assert main(["sensitivity-ranges", str(post), str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and expect in err, err
    assert path.read_text() == before


def test_bad_experiment_or_quantiles_give_one_line_and_exit_2(tmp_path, capsys):
    post = posterior_file(tmp_path)
    listed = experiment_file(
        tmp_path,
        'name = "l"\nreplications = 1\nroot_seed = 1\nscenarios = ["'
        + short_scenarios(tmp_path)[0].name
        + '"]\n',
        name="listed",
    )
    assert main(["sensitivity-ranges", str(post), str(listed)]) == 2
    assert "a morris or sobol experiment" in capsys.readouterr().err
    path = morris_file(tmp_path)
    assert main(["sensitivity-ranges", str(post), str(path), "--quantiles", "0.6", "0.9"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--quantiles" in err


def test_shipped_sensitivity_ranges_hold_the_kept_posteriors_median_and_the_default():
    """The shipped Morris and Sobol experiments screen each posterior parameter over a range that
    holds the kept posterior's weighted median and the default (issue 11)."""
    sample = read_posterior(ROOT / "scenarios/calibrated/wuhou/posterior.parquet", "test")
    fix = (
        "a new kept posterior? run `sanshe sensitivity-ranges scenarios/calibrated/wuhou/"
        "posterior.parquet experiments/sensitivity.toml experiments/sensitivity_effects.toml "
        "experiments/sensitivity_sobol.toml` (docs/experiments.md)"
    )
    weights = [p.weight for p in sample.particles]
    screened = 0
    for name in ("sensitivity", "sensitivity_effects", "sensitivity_sobol"):
        exp = load_experiment(ROOT / "experiments" / f"{name}.toml")
        base = exp.base_scenario().params
        for f in exp.factors:
            if f.key not in sample.keys or f.scale:
                continue
            values = [dict(p.values)[f.key] for p in sample.particles]
            median = weighted_quantiles(values, weights, [0.5])[0]
            assert f.low <= median <= f.high, (name, f.key, median, fix)
            assert f.low <= getattr(base, f.name) <= f.high, (name, f.key)
            screened += 1
    assert screened >= 10
