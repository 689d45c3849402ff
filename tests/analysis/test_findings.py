import numpy as np
import pandas as pd
import pytest

from sim.analysis import findings as f
from sim.analysis.compare import compare
from sim.analysis.results import ResultSet

from .helpers import MONTHS, crn_values, make_store


@pytest.fixture(scope="module")
def rs(tmp_path_factory):
    root = tmp_path_factory.mktemp("findings")
    # every outcome of a run equals its level: lower levels lower burden (better) but also lower
    # coverage, quality and satisfaction (worse): a trade-off. "same" equals the reference.
    means = {"ref": 0.60, "lower": 0.40, "same": 0.60}
    make_store(
        root,
        crn_values(means, n=6),
        street_offsets={"lower": {"浆洗街": -0.05, "望江路": 0.0, "玉林": 0.05}},
        trend=0.002,
        roles={"reference": "ref", "focus": "lower"},
    )
    return ResultSet(root)


def test_tradeoffs_need_one_outcome_surely_better_and_another_surely_worse(rs):
    cmp = compare(rs, "ref", "district", "final-year", f.KEY_OUTCOMES)
    table = f.tradeoffs(cmp)
    assert list(table["setting"]) == ["lower"]  # "same" differs by noise only
    (row,) = table.itertuples()
    assert [g[0] for g in row.improves] == ["admin_burden"]
    assert {g[0] for g in row.worsens} == {"service_coverage", "service_quality", "satisfaction"}
    burden = row.improves[0]
    assert burden[1] == pytest.approx(20.0, abs=1.0) and burden[2] > 0  # +20 pp, CI above 0
    # read the other way round (the reference as the setting's lever), the signs swap
    flipped = f.tradeoffs(cmp, flip=True).iloc[0]
    assert [g[0] for g in flipped.worsens] == ["admin_burden"]
    text = f.tradeoff_sentences(table, str)[0]
    assert (
        text.startswith("lower: improves admin burden +") and "but worsens service coverage" in text
    )


def test_dips_find_a_fall_and_recovery_larger_than_seed_noise():
    months = [f"{y}-{m:02d}" for y in (2014, 2015) for m in range(1, 13)]
    base = np.full(len(months), 0.5)
    base[6:12] -= np.array([0.02, 0.05, 0.08, 0.08, 0.05, 0.02])  # a dip, then back
    rng = np.random.default_rng(1)
    rows = [
        {"replication": r, "month": m, "service_quality": b + rng.normal(0, 0.002)}
        for r in range(5)
        for m, b in zip(months, base, strict=True)
    ]
    values = pd.DataFrame(rows)
    table = f.dips(values, ["service_quality"])
    (dip,) = table.itertuples()
    assert dip.trough_month in ("2014-09", "2014-10") and dip.depth > 5  # points (0-100)
    assert dip.recovered_by <= "2015-01"
    # the same series without the recovery is a decline, not a dip
    values.loc[values["month"] >= "2014-10", "service_quality"] = 0.42
    assert f.dips(values, ["service_quality"]).empty
    # a dip inside the seed noise is not reported
    noisy = values.copy()
    noisy["service_quality"] = 0.5 + rng.normal(0, 0.05, len(noisy))
    assert f.dips(noisy, ["service_quality"]).empty


def test_levelling_tells_a_trend_from_a_plateau(rs):
    rising = f.levelling(f.monthly_values(rs, rs.setting("lower"), ["service_coverage"]))
    (r,) = rising.itertuples()
    assert r.trend_per_year == pytest.approx(0.002 * 12 * 100, rel=0.01)  # 2.4 pp a year
    assert not r.levelled and r.last_month == MONTHS[-1]
    assert "is still rising" in f.levelling_sentences(rising)[0]
    months = sorted(set(MONTHS))
    flat = pd.DataFrame(
        [{"replication": k, "month": m, "service_coverage": 0.5 + 0.001 * ((i + k) % 3 - 1)}
         for k in range(6) for i, m in enumerate(months)]
    )  # fmt: skip
    (r,) = f.levelling(flat, ["service_coverage"]).itertuples()
    assert r.levelled
    assert "has levelled off" in f.levelling_sentences(f.levelling(flat, ["service_coverage"]))[0]
    assert not rising["swings"].iloc[0] and "runs disagree" not in f.levelling_sentences(rising)[0]
    assert "runs disagree" not in f.levelling_sentences(f.levelling(flat, ["service_coverage"]))[0]


def test_levelling_says_when_runs_swing_rather_than_trend():
    # Replications in different phases of a cycle (as the provider market after 2016): most fall
    # steeply, some rise; the mean trend is negative, but no run follows it.
    months = [f"2020-{m:02d}" for m in range(1, 13)]
    slopes = [-0.03] * 12 + [0.02] * 5  # per month, as shares
    swing = pd.DataFrame(
        [{"replication": k, "month": m, "admin_burden": 0.4 + s * i}
         for k, s in enumerate(slopes) for i, m in enumerate(months)]
    )  # fmt: skip
    (r,) = f.levelling(swing, ["admin_burden"]).itertuples()
    assert not r.levelled and r.swings and (r.n_falling, r.n_rising) == (12, 5)
    assert r.slope_min == pytest.approx(-36.0) and r.slope_max == pytest.approx(24.0)
    text = f.levelling_sentences(f.levelling(swing, ["admin_burden"]))[0]
    assert "is still falling" in text and "the runs disagree: 12 of 17 replications fall" in text
    # a quarter of the runs against the mean is needed: one rising run is not a swing
    steady = swing[swing["replication"] <= 12]
    assert not f.levelling(steady, ["admin_burden"])["swings"].iloc[0]


def test_street_variation_names_streets_only_where_they_really_differ(rs):
    table = f.street_variation(rs, rs.setting("lower"), rs.setting("ref"), "final-year")
    burden = table.set_index("outcome").loc["admin_burden"]
    assert burden["real"] and burden["best_street"] == "浆洗街"  # its burden falls 5 pp more
    assert burden["spread"] == pytest.approx(10.0, abs=0.5)
    assert burden["rank_stability"] == pytest.approx(1.0)  # offsets are the same in every seed
    text = f.street_sentences(table, "lower", str)[0]
    assert "differ in the effect of lower beyond seed noise" in text and "浆洗街 gains most" in text
    same = f.street_variation(rs, rs.setting("same"), rs.setting("ref"), "final-year")
    assert not same["real"].any()
    assert "no street is named" in f.street_sentences(same, "same", str)[0]
    assert "cannot be told apart" in f.street_sentences(same, "same", str)[0]
    assert burden["ranked"] and burden["ranking"][0] == "浆洗街"
    assert "rank correlation between the two halves of the seeds 1.00" in text
    assert "Ranking by gain: 浆洗街 > " in text


def test_streets_that_differ_but_rank_unstably_are_not_ranked(rs):
    # Streets may differ beyond noise as a group while two halves of the seeds order them
    # differently: then no street is named and no ranking is shown.
    table = f.street_variation(rs, rs.setting("lower"), rs.setting("ref"), "final-year")
    unstable = table.assign(rank_stability=0.62, ranked=False)
    text = f.street_sentences(unstable, "lower", str)[0]
    assert "differ in the effect of lower beyond seed noise" in text
    assert (
        "not stable across seeds (rank correlation between the two halves of the seeds 0.62" in text
    )
    assert "cannot be ranked" in text and "gains most" not in text and "Ranking" not in text


def test_cost_per_unit_is_extra_spend_over_improvement(rs):
    cmp = compare(rs, "ref", "district", "final-year", [*f.KEY_OUTCOMES, "spend"])
    table = f.cost_per_unit(cmp, "lower")
    # "lower" pays less than the reference (spend scales with the level), so no cost per unit
    assert table.empty
    cmp = compare(rs, "lower", "district", "final-year", [*f.KEY_OUTCOMES, "spend"])
    table = f.cost_per_unit(cmp, "ref").set_index("outcome")
    # ref pays 12 x 1.1 M x 0.2 more a year for 20 pp more coverage (its quality etc. are higher)
    extra = 12 * 1.1e6 * 0.2 * 1e-6
    assert table.loc["service_coverage", "extra_spend"] == pytest.approx(extra, rel=0.05)
    assert table.loc["service_coverage", "per_unit"] == pytest.approx(extra / 20, rel=0.05)
    assert "admin_burden" not in table.index  # burden is worse under ref: no cost per unit


def test_january_steps_are_told_from_ordinary_months():
    months = [f"{y}-{m:02d}" for y in (2014, 2015, 2016) for m in range(1, 13)]
    level = np.linspace(0.30, 0.25, len(months))  # a slow fall of about 0.14 pp a month
    jump = np.array([0.02 if m.endswith("-01") else 0.0 for m in months])  # +2 pp each January
    values = pd.DataFrame(
        [{"replication": r, "month": m, "admin_burden": v}
         for r in range(3) for m, v in zip(months, level + jump, strict=True)]
    )  # fmt: skip
    table = f.january_steps(values, ["admin_burden"], after="2014-02").set_index("outcome")
    row = table.loc["admin_burden"]
    assert row["step"] and row["years"] == 2
    assert row["january"] == pytest.approx(2.0 - 0.14, abs=0.02)
    assert row["february"] == pytest.approx(-2.0 - 0.14, abs=0.02)
    assert "contract year" in f.january_sentences(table.reset_index(), "x")[0]
    smooth = values.assign(admin_burden=level.tolist() * 3)
    assert not f.january_steps(smooth, ["admin_burden"]).loc[0, "step"]
