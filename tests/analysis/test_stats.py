import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from sim.analysis.stats import (
    cohens_dz,
    mean_ci,
    paired_difference,
    summarize,
    summarize_paired,
    welch_bounds,
    welch_interval,
)


@pytest.fixture
def correlated():
    """Two scenarios sharing a large per-replication component (common random numbers)."""
    rng = np.random.default_rng(42)
    shared = rng.normal(0, 1.0, 20)
    x = 10 + shared + rng.normal(0, 0.1, 20)
    y = 10.5 + shared + rng.normal(0, 0.1, 20)
    return pd.Series(x), pd.Series(y)


def test_mean_ci_matches_scipy():
    x = np.array([1.0, 2.5, 3.1, 4.8, 2.2, 3.3])
    ci = mean_ci(x)
    low, high = sps.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=sps.sem(x))
    assert ci.n == 6 and ci.mean == pytest.approx(x.mean())
    assert (ci.low, ci.high) == pytest.approx((low, high), rel=1e-12)
    assert ci.sd == pytest.approx(x.std(ddof=1))
    ci90 = mean_ci(x, confidence=0.90)
    assert ci90.high - ci90.low < ci.high - ci.low


def test_known_answer_constant_plus_symmetric_noise():
    # mean 5 exactly; sd 1 exactly; n 4: CI = 5 ± t(0.975, 3) / 2
    x = [4.0, 6.0, 4.0, 6.0]
    sd = np.std(x, ddof=1)
    ci = mean_ci(x)
    half = sps.t.ppf(0.975, 3) * sd / 2
    assert (ci.low, ci.high) == pytest.approx((5 - half, 5 + half))


def test_nan_dropped_and_single_value_gives_nan_interval():
    ci = mean_ci([np.nan, 3.0, np.nan])
    assert ci.n == 1 and ci.mean == 3.0
    assert np.isnan(ci.low) and np.isnan(ci.high) and np.isnan(ci.sd)
    empty = mean_ci([np.nan])
    assert empty.n == 0 and np.isnan(empty.mean)


def test_paired_difference_matches_scipy_ttest_rel(correlated):
    x, y = correlated
    d = paired_difference(y, x)
    res = sps.ttest_rel(y, x)
    ci = res.confidence_interval(0.95)
    assert d.n_pairs == 20
    assert d.mean == pytest.approx((y - x).mean())
    assert (d.low, d.high) == pytest.approx((ci.low, ci.high), rel=1e-10)
    assert d.p_value == pytest.approx(res.pvalue, rel=1e-8)
    assert d.d_z == pytest.approx((y - x).mean() / (y - x).std(ddof=1))


def test_unpaired_interval_matches_scipy_welch(correlated):
    x, y = correlated
    low, high = welch_interval(y, x)
    ci = sps.ttest_ind(y, x, equal_var=False).confidence_interval(0.95)
    assert (low, high) == pytest.approx((ci.low, ci.high), rel=1e-10)


def test_crn_pairing_is_narrower_than_unpaired_when_runs_correlate(correlated):
    x, y = correlated
    d = paired_difference(y, x)
    paired_width = d.high - d.low
    unpaired_width = d.unpaired_high - d.unpaired_low
    assert paired_width < unpaired_width / 5
    # ...and both cover the true difference 0.5
    assert d.low < 0.5 < d.high and d.unpaired_low < 0.5 < d.unpaired_high


def test_independent_runs_gain_nothing_from_pairing():
    rng = np.random.default_rng(3)
    x, y = pd.Series(rng.normal(0, 1, 400)), pd.Series(rng.normal(0, 1, 400))
    d = paired_difference(y, x)
    ratio = (d.high - d.low) / (d.unpaired_high - d.unpaired_low)
    assert 0.85 < ratio < 1.15


def test_pairing_is_on_the_replication_index():
    x = pd.Series([1.0, 2.0, 3.0, 100.0], index=[0, 1, 2, 3])
    y = pd.Series([2.0, 4.0, 4.0], index=[2, 0, 1])  # replication 3 missing, order shuffled
    d = paired_difference(y, x)
    assert d.n_pairs == 3
    assert d.mean == pytest.approx(np.mean([4 - 1, 4 - 2, 2 - 3]))


def test_cohens_dz_edge_cases():
    assert np.isnan(cohens_dz([0.0, 0.0, 0.0]))
    assert cohens_dz([1.0, 1.0]) == np.inf
    assert cohens_dz([-2.0, -2.0]) == -np.inf
    assert np.isnan(cohens_dz([1.0]))
    assert cohens_dz([1.0, 2.0, 3.0]) == pytest.approx(2.0)


def test_vectorised_summaries_equal_scalar_functions(correlated):
    x, y = correlated
    frame = pd.DataFrame(
        {
            "g": ["a"] * 20 + ["b"] * 20,
            "v": np.r_[x, y],
            "ref": np.r_[x, x],
        }
    )
    s = summarize(frame, ["g"], "v").set_index("g")
    for g, values in (("a", x), ("b", y)):
        ci = mean_ci(values)
        assert s.loc[g, "n"] == 20
        assert (s.loc[g, "ci_low"], s.loc[g, "ci_high"]) == pytest.approx((ci.low, ci.high))
    p = summarize_paired(frame, ["g"], "v", "ref").set_index("g")
    d = paired_difference(y, x)
    assert p.loc["b", "diff"] == pytest.approx(d.mean)
    assert (p.loc["b", "diff_ci_low"], p.loc["b", "diff_ci_high"]) == pytest.approx((d.low, d.high))
    assert p.loc["b", "d_z"] == pytest.approx(d.d_z)
    assert p.loc["b", "p_value"] == pytest.approx(d.p_value)
    # a setting against itself: difference 0, CI [0, 0], no effect size
    assert p.loc["a", "diff"] == 0 and p.loc["a", "diff_ci_low"] == 0
    assert np.isnan(p.loc["a", "d_z"]) and np.isnan(p.loc["a", "p_value"])


def test_vectorised_single_replication_has_nan_interval():
    frame = pd.DataFrame({"g": ["a"], "v": [1.0], "ref": [0.5]})
    s = summarize(frame, ["g"], "v")
    assert s["n"].iloc[0] == 1 and np.isnan(s["ci_low"].iloc[0])
    p = summarize_paired(frame, ["g"], "v", "ref")
    assert p["diff"].iloc[0] == 0.5 and np.isnan(p["diff_ci_low"].iloc[0])
    assert np.isnan(p["d_z"].iloc[0])


def test_a_constant_difference_is_its_own_interval_with_an_infinite_effect_size_and_no_p_value():
    # y − x = 1.5 in every replication: mean 1.5, sd 0, so the CI is [1.5, 1.5], d_z = +inf, and
    # the t statistic is not defined (p NaN), in the scalar and the vectorised forms alike; −1.5
    # gives −inf
    x = pd.Series([1.0, 4.0, 2.0])
    d = paired_difference(x + 1.5, x)
    assert (d.n_pairs, d.mean, d.sd, d.low, d.high) == (3, 1.5, 0.0, 1.5, 1.5)
    assert d.d_z == np.inf and np.isnan(d.p_value)
    frame = pd.DataFrame(
        {"g": ["up"] * 3 + ["down"] * 3, "v": np.r_[x + 1.5, x - 1.5], "ref": np.r_[x, x]}
    )
    p = summarize_paired(frame, ["g"], "v", "ref").set_index("g")
    assert list(p["diff"]) == [1.5, -1.5] and list(p["diff_ci_low"]) == [1.5, -1.5]
    assert list(p["d_z"]) == [np.inf, -np.inf] and p["p_value"].isna().all()


def test_two_constant_samples_have_a_welch_interval_of_their_difference_alone():
    # no spread on either side: the unpaired interval of 3 − 1 is [2, 2]
    assert welch_interval([3.0, 3.0, 3.0], [1.0, 1.0]) == (2.0, 2.0)
    d = paired_difference(pd.Series([3.0, 3.0]), pd.Series([1.0, 1.0]))
    assert (d.unpaired_low, d.unpaired_high) == (2.0, 2.0)


def test_summaries_use_the_confidence_they_are_given():
    # values 1, 2, 3, 4: mean 2.5, sd √(5/3); 90%: t(0.95, 3) = 2.3533634348 (tables), so the
    # half-width is 2.3533634348 · √(5/3) / 2 = 1.5190904...
    t90 = 2.3533634348
    assert sps.t.ppf(0.95, 3) == pytest.approx(t90, abs=1e-10)
    half = t90 * np.sqrt(5 / 3) / 2
    frame = pd.DataFrame({"g": "a", "v": [1.0, 2.0, 3.0, 4.0], "ref": [0.0, 0.0, 0.0, 0.0]})
    s = summarize(frame, ["g"], "v", confidence=0.90).iloc[0]
    assert (s["ci_low"], s["ci_high"]) == pytest.approx((2.5 - half, 2.5 + half), abs=1e-9)
    p = summarize_paired(frame, ["g"], "v", "ref", confidence=0.90).iloc[0]
    assert (p["diff_ci_low"], p["diff_ci_high"]) == pytest.approx(
        (2.5 - half, 2.5 + half), abs=1e-9
    )
    ci = mean_ci([1.0, 2.0, 3.0, 4.0], confidence=0.90)
    assert (ci.low, ci.high) == pytest.approx((2.5 - half, 2.5 + half), abs=1e-9)


def test_summaries_keep_the_groups_in_the_order_they_first_appear():
    # the tables list settings in the experiment's order, not alphabetically
    frame = pd.DataFrame(
        {"g": ["reform", "base", "reform", "base"], "v": [3.0, 1.0, 5.0, 2.0], "ref": 1.0}
    )
    s = summarize(frame, ["g"], "v")
    assert list(s["g"]) == ["reform", "base"] and list(s["mean"]) == [4.0, 1.5]
    p = summarize_paired(frame, ["g"], "v", "ref")
    assert list(p["g"]) == ["reform", "base"] and list(p["diff"]) == [3.0, 0.5]


def test_welch_bounds_of_summaries_by_hand_and_nan_where_a_side_has_one_value():
    # 1 − 0 with sds 1 and 1 over 3 and 3 values: se² = 1/3 + 1/3, Welch ν = (2/3)² / (2 · (1/3)²
    # / 2) = 4, half-width t(0.975, 4) · √(2/3) with t(0.975, 4) = 2.7764451052 (tables); the
    # second pair has one reference value: no interval, NaN on both sides (a float array)
    low, high = welch_bounds([1.0, 1.0], [1.0, 1.0], [3, 3], [0.0, 0.0], [1.0, np.nan], [3, 1])
    half = 2.7764451052 * np.sqrt(2 / 3)
    assert (low[0], high[0]) == pytest.approx((1 - half, 1 + half), abs=1e-9)
    assert low.dtype == high.dtype == np.float64
    assert np.isnan(low[1]) and np.isnan(high[1])
