import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from sim.analysis.compare import (
    compare,
    compare_long,
    compare_table,
    fmt,
    markdown,
    street_extremes,
    write_comparison,
)
from sim.analysis.outcomes import DEFAULT_OUTCOMES, OUTCOMES
from sim.errors import UserError
from sim.io import write_parquet

from .helpers import crn_values, make_store

MEANS = {"baseline_2013": 0.60, "wuhou_reform": 0.30, "reform_minus_entry_control": 0.40}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    values = crn_values(MEANS, n=8)
    offsets = {
        "wuhou_reform": {"浆洗街": -0.05, "望江路": 0.0, "玉林": 0.04},
        "reform_minus_entry_control": {"浆洗街": 0.02, "望江路": 0.0, "玉林": -0.02},
    }
    make_store(root, values, street_offsets=offsets)
    return root, values


def test_table_shape_columns_and_reference(store):
    root, _ = store
    table = compare_table(root)
    assert list(table["setting"]) == list(MEANS)
    assert table["is_reference"].tolist() == [True, False, False]
    for o in DEFAULT_OUTCOMES["district"]:
        for stat in ("mean", "ci_low", "ci_high", "diff", "diff_ci_low", "diff_ci_high", "d_z"):
            assert f"{o}_{stat}" in table.columns
    assert table.attrs["reference"] == "baseline_2013"
    assert set(table.attrs["columns"]) >= set(table.columns)
    assert table.attrs["at"] == "final-year"  # the default window everywhere


def test_means_and_paired_differences_have_known_answers(store):
    root, values = store
    table = compare_table(root, at="final").set_index("setting")
    for scenario, v in values.items():
        low, high = sps.t.interval(0.95, len(v) - 1, loc=v.mean(), scale=sps.sem(v))
        row = table.loc[scenario]
        assert row["admin_burden_mean"] == pytest.approx(v.mean())
        assert (row["admin_burden_ci_low"], row["admin_burden_ci_high"]) == pytest.approx(
            (low, high)
        )
    ref = values["baseline_2013"]
    for scenario in ("wuhou_reform", "reform_minus_entry_control"):
        res = sps.ttest_rel(values[scenario], ref)
        ci = res.confidence_interval(0.95)
        row = table.loc[scenario]
        d = values[scenario] - ref
        assert row["service_quality_diff"] == pytest.approx(d.mean())
        assert (row["service_quality_diff_ci_low"], row["service_quality_diff_ci_high"]) == (
            pytest.approx((ci.low, ci.high))
        )
        assert row["service_quality_d_z"] == pytest.approx(d.mean() / d.std(ddof=1))
        assert row["service_quality_p_value"] == pytest.approx(res.pvalue)


def test_paired_ci_narrower_than_unpaired_in_long_table(store):
    root, _ = store
    long = compare_long(root, outcomes=["admin_burden"])
    row = long[long["setting"] == "wuhou_reform"].iloc[0]
    paired = row["diff_ci_high"] - row["diff_ci_low"]
    unpaired = row["diff_unpaired_ci_high"] - row["diff_unpaired_ci_low"]
    assert paired < unpaired / 3


def test_other_reference(store):
    root, values = store
    table = compare_table(root, reference="wuhou_reform").set_index("setting")
    assert table.loc["wuhou_reform", "is_reference"]
    d = values["baseline_2013"] - values["wuhou_reform"]
    assert table.loc["baseline_2013", "admin_burden_diff"] == pytest.approx(d.mean())
    # a point id works too
    assert compare_table(root, reference="p00001").attrs["reference"] == "wuhou_reform"


def test_spend_is_annualised_and_cost_a_ratio_of_sums(store):
    root, values = store
    table = compare_table(root, at="final-year").set_index("setting")
    v = values["wuhou_reform"]
    # helpers: monthly purchase 1e6 v, project 1e5 v, funded 0; hours 1e4 v + 1e3 v
    assert table.loc["wuhou_reform", "spend_mean"] == pytest.approx(12 * 1.1e6 * v.mean())
    assert table.loc["wuhou_reform", "cost_per_service_hour_mean"] == pytest.approx(100.0)


def test_windows(tmp_path):
    # value rises by 0.01 a month to the final level: final month vs year means differ by known
    # amounts (helpers: trend × (step − last step))
    values = {"baseline_2013": np.array([0.5, 0.52]), "wuhou_reform": np.array([0.3, 0.31])}
    make_store(tmp_path, values, levels=("district",), trend=0.01)
    final = compare_table(tmp_path, at="final").set_index("setting")
    year = compare_table(tmp_path, at="final-year").set_index("setting")
    y2013 = compare_table(tmp_path, at="2013").set_index("setting")
    month = compare_table(tmp_path, at="2014-06").set_index("setting")
    base = values["wuhou_reform"].mean()
    assert final.loc["wuhou_reform", "admin_burden_mean"] == pytest.approx(base)
    # 2014 is steps 13..24: mean shift = 0.01 × mean(-11..0) = -0.055
    assert year.loc["wuhou_reform", "admin_burden_mean"] == pytest.approx(base - 0.055)
    assert y2013.loc["wuhou_reform", "admin_burden_mean"] == pytest.approx(base - 0.175)
    assert month.loc["wuhou_reform", "admin_burden_mean"] == pytest.approx(base - 0.06)
    assert year.attrs["at"] == "final-year" and month.attrs["at"] == "2014-06"


def test_yearly_and_final_frequency_stores(tmp_path):
    values = {"baseline_2013": np.array([0.5, 0.52]), "wuhou_reform": np.array([0.3, 0.31])}
    make_store(tmp_path / "y", values, levels=("district",), frequency="yearly", trend=0.01)
    year = compare_table(tmp_path / "y", at="final-year").set_index("setting")
    final = compare_table(tmp_path / "y", at="final").set_index("setting")
    assert year.loc["wuhou_reform", "admin_burden_mean"] == pytest.approx(0.305 - 0.055)
    assert final.loc["wuhou_reform", "admin_burden_mean"] == pytest.approx(0.305 - 0.055)
    with pytest.raises(UserError, match="stores yearly rows, not months"):
        compare_table(tmp_path / "y", at="2014-06")
    make_store(tmp_path / "f", values, levels=("district",), frequency="final")
    assert compare_table(tmp_path / "f").loc[1, "admin_burden_mean"] == pytest.approx(0.305)
    with pytest.raises(UserError, match="only each run's final month"):
        compare_table(tmp_path / "f", at="2014")


def test_street_level_rows_and_extremes(store):
    root, values = store
    cmp = compare(root, level="street", at="final-year")
    table = cmp.wide
    assert len(table) == 3 * 3 and {"setting", "street"} <= set(table.columns)
    row = table[(table["setting"] == "wuhou_reform") & (table["street"] == "玉林")].iloc[0]
    d = values["wuhou_reform"] - values["baseline_2013"]
    assert row["admin_burden_diff"] == pytest.approx(d.mean() + 0.04)
    ext = street_extremes(cmp.long, cmp.outcomes).set_index(["setting", "outcome"])
    burden = ext.loc[("wuhou_reform", "admin_burden")]
    assert burden["most_gain_street"] == "浆洗街"  # lowest burden change = largest gain
    assert burden["least_gain_street"] == "玉林"
    quality = ext.loc[("wuhou_reform", "service_quality")]
    assert quality["most_gain_street"] == "玉林"  # higher is better for quality
    assert quality["n_streets_better"] == 0 and quality["n_streets_worse"] == 3
    text = markdown(cmp)
    assert "Which streets gain or lose most" in text and "浆洗街 (Jiangxijie)" in text


def test_community_level(store):
    root, _ = store
    table = compare_table(root, level="community")
    assert len(table) == 3 * 6 and {"street", "community"} <= set(table.columns)


def test_single_replication_gives_nan_intervals_and_a_note(tmp_path):
    make_store(tmp_path, {"baseline_2013": np.array([0.5]), "x": np.array([0.4])})
    table = compare_table(tmp_path, outcomes=["admin_burden"])
    row = table.set_index("setting").loc["x"]
    assert row["admin_burden_mean"] == pytest.approx(0.4)
    assert row["admin_burden_diff"] == pytest.approx(-0.1)
    assert np.isnan(row["admin_burden_ci_low"]) and np.isnan(row["admin_burden_diff_ci_low"])
    assert any("fewer than 2 replications" in n for n in table.attrs["notes"])


def test_default_reference_is_first_without_baseline(tmp_path):
    make_store(tmp_path, {"a": np.array([0.5, 0.6]), "b": np.array([0.4, 0.45])})
    assert compare_table(tmp_path).attrs["reference"] == "a"


def test_any_stored_column_can_be_an_outcome(store):
    root, _ = store
    table = compare_table(root, outcomes=["purchase_spend"])
    assert "purchase_spend_mean" in table.columns


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reference": "nope"}, "scenario 'nope' is not in .*allowed: baseline_2013"),
        ({"outcomes": ["nope"]}, "outcome 'nope' is not known .*allowed: admin_burden"),
        ({"level": "street", "outcomes": ["n_orgs"]}, "only stored at district level"),
        ({"level": "county"}, "'county' is not a level .*district, street, community"),
        ({"at": "2016-13"}, "not a time window .*final-year"),
        ({"at": "2030"}, "no results in that window .*2013-01 to 2014-12"),
    ],
)
def test_user_errors(store, kwargs, message):
    root, _ = store
    with pytest.raises(UserError, match=message):
        compare_table(root, **kwargs)


def test_missing_directory_and_level(tmp_path):
    with pytest.raises(UserError, match="no such results directory"):
        compare_table(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match=r"no manifest\.json"):
        compare_table(tmp_path / "empty")
    make_store(tmp_path / "d", {"a": np.array([0.5, 0.6])}, levels=("district",))
    with pytest.raises(UserError, match=r"level 'street' is not stored .*stored: district"):
        compare_table(tmp_path / "d", level="street")


def test_write_comparison_files(store):
    root, _ = store
    cmp = compare(root, at="final-year")
    paths = write_comparison(cmp)
    assert paths["csv"].name == "compare_district_final-year.csv"
    wide = pd.read_csv(paths["csv"])
    assert list(wide["setting"]) == list(MEANS)
    md = paths["markdown"].read_text(encoding="utf-8")
    assert "| wuhou_reform |" in md and "(reference)" in md
    cols = pd.read_csv(paths["columns"])
    assert "admin_burden_d_z" in set(cols["column"])
    other = write_comparison(compare(root, reference="wuhou_reform", at="final-year"))
    assert other["csv"].name == "compare_district_final-year_vs_wuhou_reform.csv"


def test_fmt_shows_small_differences_and_no_negative_zero():
    o = OUTCOMES["admin_burden"]
    assert fmt(-0.0004, o, signed=True) == "-0.04"
    assert fmt(-0.0, o, signed=True) == "0.0"
    assert fmt(0.25, o) == "25.0"
    assert fmt(np.nan, o) == "n/a"


def test_a_stored_column_without_a_declared_unit_is_described_as_stored(tmp_path):
    # a column that is no declared output (here 2 × admin burden) has no unit: "as stored"
    make_store(tmp_path, {"a": np.array([0.5, 0.25]), "b": np.array([0.75, 0.25])},
               levels=("district",))  # fmt: skip
    for path in sorted((tmp_path / "data" / "district").glob("*.parquet")):
        frame = pd.read_parquet(path)
        frame["twice_burden"] = 2 * frame["admin_burden"]
        write_parquet(frame, path)
    table = compare_table(tmp_path, outcomes=["twice_burden"], at="final")
    assert table.attrs["columns"]["twice_burden_mean"] == (
        "twice burden [as stored; twice_burden (window mean)]: mean across replications"
    )
    assert list(table["twice_burden_mean"]) == [0.75, 1.0]
    assert list(table["twice_burden_diff"]) == [0.0, 0.25]


def test_write_comparison_at_street_level_writes_the_streets_that_gain_and_lose_most(store):
    root, _ = store
    cmp = compare(root, level="street", at="final-year")
    paths = write_comparison(cmp)
    assert paths["extremes"].name == "compare_street_final-year_extremes.csv"
    written = pd.read_csv(paths["extremes"])
    expect = street_extremes(cmp.long, cmp.outcomes)
    assert len(written) == len(expect) > 0
    pd.testing.assert_frame_equal(written, expect, check_dtype=False)
