import mesa
import numpy as np
import pandas as pd
import pytest

from sim import DistrictModel, load_scenario
from sim.agents import BrandAgency, GrassrootsGroup, SocialWorkAgency, SocialWorker, Street
from sim.metrics import aggregate, district_record, gini, local_share_and_hhi
from sim.outputs import aggregated_outputs, district_measured
from sim.tables import Table
from sim.world import AGENCY, BRAND, GRASSROOTS, ORG_SCHEMA

from .conftest import SCENARIOS


def test_district_record_measures_every_declared_district_output(reform):
    declared = {o.name for o in district_measured() if o.measure is None}
    assert set(district_record(reform)) == declared


def test_gini():
    assert gini([1, 1, 1, 1]) == 0
    assert gini([0, 0, 0, 4]) == 0.75  # (n - 1) / n for one holder of everything
    assert gini([]) == 0


def test_mesa_batch_run_drives_the_model_by_keyword():
    rows = mesa.batch_run(
        DistrictModel,
        parameters={"entry_control": [False, True]},
        max_steps=12,
        number_processes=1,
        display_progress=False,
        rng=[5],
    )
    df = pd.DataFrame(rows).set_index("entry_control")
    assert {"admin_burden", "service_quality", "items_refused", "n_orgs"} <= set(df.columns)
    # every district output, each a scalar (no community array column in batch_run rows)
    assert {"participation", "staff_burnout", "admin_hours", "n_social_workers"} <= set(df.columns)
    assert "community" not in df.columns
    assert all(np.isscalar(v) for row in rows for v in row.values())
    assert df.loc[False, "items_refused"] == 0 and df.loc[True, "items_refused"] > 0


def test_district_columns_match_the_communities_month_by_month():
    # Mesa's DataCollector and results() both read the monthly records, so each is checked
    # against sums over the community table taken right after each step, not against the other.
    m = DistrictModel(load_scenario(SCENARIOS / "wuhou_reform.toml"), rng=2)
    expected = []
    for _ in range(14):
        m.step()
        c = m.communities
        served, need = c.served_hours.sum(), c.need_hours.sum()
        expected.append(
            {
                "admin_burden": c.hours_admin.sum() / c.hours_used.sum(),
                "service_coverage": served / need,
                # quality against need (model v2) is weighted by need; v1's quality per
                # delivered hour is kept as delivered_quality, weighted by the hours
                "service_quality": (c.service_quality * c.need_hours).sum() / need,
                "delivered_quality": (c.delivered_quality * c.delivered_hours).sum()
                / c.delivered_hours.sum(),
                "service_need_hours": need,
                "unmet_hours_elderly": c.unmet_elderly.sum(),
                "satisfaction": (c.satisfaction * c.residents).sum() / c.residents.sum(),
                "items_refused": c.items_refused.sum(),
                "purchase_spend": c.purchase_spend.sum(),
                "n_social_workers": (m.workers.alive & (m.workers.employer >= 0)).sum(),
            }
        )
    expected = pd.DataFrame(expected)
    assert expected["items_refused"].iloc[-1] > 0 and expected["purchase_spend"].iloc[-1] > 0
    frame = m.datacollector.get_model_vars_dataframe()
    district = m.results()["district"]
    assert len(frame) == len(district) == 14
    for name in expected:
        assert frame[name].to_numpy() == pytest.approx(expected[name].to_numpy()), name
        assert district[name].to_numpy() == pytest.approx(expected[name].to_numpy()), name


def test_gini_does_not_depend_on_the_unit():
    # Shares, not sizes: an allocation summing to less than 1 has the Gini of the same allocation
    # in larger units.
    for x in ([0.0, 0.0, 0.5], [0.1, 0.2, 0.3, 0.0]):
        assert gini(np.array(x)) == pytest.approx(gini(np.array(x) * 1000))
    assert gini(np.array([0.0, 0.0, 0.5])) == pytest.approx(2 / 3)


def test_gini_of_known_allocations():
    assert gini([1, 2, 3, 4]) == pytest.approx(0.25)  # sum of (2i - n - 1) x_i / (n sum x)
    assert gini([4, 0, 0, 0]) == pytest.approx(0.75)  # order of the input does not matter
    assert gini([0, 0]) == 0  # nothing to share


def test_aggregate_sums_counts_and_takes_shares_as_ratios_of_sums():
    # Two months, three communities: the first two in group 0, the third alone in group 1.
    groups = np.array([0, 0, 1])
    month = {
        "residents": [1000.0, 3000.0, 2000.0],
        "staff": [2.0, 6.0, 4.0],
        "admin_hours": [10.0, 30.0, 5.0],
        "staff_hours_used": [100.0, 100.0, 0.0],  # group 1: no hours, burden undefined
        "served_hours": [5.0, 15.0, 8.0],
        "service_need_hours": [10.0, 10.0, 8.0],
        "service_quality": [0.2, 0.6, 0.5],
        "delivered_quality": [0.3, 0.7, 0.5],
        "delivered_hours": [10.0, 30.0, 8.0],
        "satisfaction": [0.4, 0.8, 0.5],
        "participation": [0.1, 0.3, 0.2],
        "staff_burnout": [0.5, 0.1, 0.0],
    }
    cols = {o.name: np.zeros((2, 3)) for o in aggregated_outputs()}
    for name, values in month.items():
        cols[name] = np.array([values, values])
    cols["items_issued"] = np.array([[1.0, 2.0, 4.0], [8.0, 16.0, 32.0]])
    out = aggregate(cols, groups, 2)
    assert out["items_issued"].tolist() == [[3.0, 4.0], [24.0, 32.0]]
    assert out["residents"][0].tolist() == [4000.0, 2000.0]
    assert out["admin_burden"][0, 0] == pytest.approx(40 / 200)
    assert np.isnan(out["admin_burden"][0, 1])  # no hours used: no burden (not 0, not inf)
    assert out["service_coverage"][0].tolist() == pytest.approx([20 / 20, 8 / 8])
    # Quality against need is weighted by need hours, quality per hour by delivered hours.
    assert out["service_quality"][0, 0] == pytest.approx((0.2 * 10 + 0.6 * 10) / 20)
    assert out["delivered_quality"][0, 0] == pytest.approx((0.3 * 10 + 0.7 * 30) / 40)
    assert out["satisfaction"][0, 0] == pytest.approx((0.4 * 1000 + 0.8 * 3000) / 4000)
    assert out["participation"][0, 0] == pytest.approx((0.1 * 1000 + 0.3 * 3000) / 4000)
    assert out["staff_burnout"][0, 0] == pytest.approx((0.5 * 2 + 0.1 * 6) / 8)
    assert out["admin_hours_per_staff"][0].tolist() == pytest.approx([40 / 8, 5 / 4])
    assert out["n_communities"][1].tolist() == [2, 1]


def test_local_share_and_hhi_of_a_known_allocation():
    orgs = Table(ORG_SCHEMA)
    orgs.append(4, kind=[GRASSROOTS, AGENCY, BRAND, BRAND])
    orgs.contract_income = [0.0, 30.0, 50.0, 0.0]
    orgs.project_income = [10.0, 10.0, 0.0, 0.0]
    local, hhi = local_share_and_hhi(orgs)
    assert local == pytest.approx(0.5)
    assert hhi == pytest.approx(0.1**2 + 0.4**2 + 0.5**2)
    orgs.contract_income = 0.0
    orgs.project_income = 0.0
    assert all(np.isnan(local_share_and_hhi(orgs)))


def test_district_columns_are_what_the_agents_and_books_say_month_by_month():
    # Each district column after each month, from the Mesa agents, the tables and the books; org
    # counts are also checked as a stock: last month's, plus entries, less exits.
    m = DistrictModel(load_scenario(SCENARIOS / "wuhou_reform.toml"), rng=3)
    alive_before = int(m.orgs.alive.sum())
    spent_before = (0.0, 0.0, 0.0)
    brands_before = m.world.brand_invited
    totals = {}
    for _ in range(15):
        m.step()
        r, o, c, lots = district_record(m), m.orgs, m.communities, m.lots
        kinds = {k: len(m.agents_by_type.get(cls, [])) for k, cls in
                 (("grassroots", GrassrootsGroup), ("agency", SocialWorkAgency), ("brand", BrandAgency))}  # fmt: skip
        orgs = [a for cls in (GrassrootsGroup, SocialWorkAgency, BrandAgency)
                for a in m.agents_by_type.get(cls, [])]  # fmt: skip
        alive = sum(kinds.values())
        assert [r[f"n_orgs_{k}"] for k in kinds] == list(kinds.values())
        assert r["n_orgs"] == alive + m.other_orgs and r["n_orgs_other"] == m.other_orgs
        assert r["n_registered"] == sum(a.registered for a in orgs) + m.other_orgs
        arrived = m.world.brand_invited - brands_before
        entries = r["orgs_formed"] + r["agencies_founded"]
        assert alive == alive_before + entries + arrived - r["org_exits"]
        assert r["org_entry_rate"] == pytest.approx(12 * entries / alive)
        assert r["org_exit_rate"] == pytest.approx(12 * r["org_exits"] / (alive + r["org_exits"]))
        for name, key in (("registrations", "registrations"), ("hires", "hires"),
                          ("layoffs", "layoffs"), ("switchers_hired", "switchers_hired"),
                          ("org_exits_registered", "exits_registered"),
                          ("registrations_new_rule", "registrations_new_rule")):  # fmt: skip
            assert r[name] == m.month_stats[key], name
            totals[name] = totals.get(name, 0) + r[name]
        assert r["n_incubated"] == sum(a.incubated_until > m.t for a in orgs)
        assert r["mean_capacity"] == pytest.approx(np.mean([a.capacity for a in orgs]))
        pros = [a.capacity for a in orgs if not isinstance(a, GrassrootsGroup)]
        assert r["mean_capacity_professional"] == pytest.approx(np.mean(pros))
        assert r["n_hosted"] == int((o.alive & o.hosted).sum())

        workers = list(m.agents_by_type[SocialWorker])
        employed = [a for a in workers if a.employer >= 0]
        assert r["n_social_workers"] == len(employed)
        assert r["social_workers_pool"] == len(workers) - len(employed)
        assert r["mean_skill"] == pytest.approx(np.mean([a.skill for a in employed]))
        assert r["certified_share"] == pytest.approx(np.mean([a.certified for a in employed]))
        assert r["turnover"] == pytest.approx(m.month_stats["quits"] / len(employed))

        b = m.year_books()
        if m.month_index % 12 == 0:
            spent_before = (0.0, 0.0, 0.0)
        spent = (b.purchase_spent, b.project_spent, b.funded_item_spent)
        month = [x - y for x, y in zip(spent, spent_before, strict=True)]
        assert [r["purchase_spend"], r["project_spend"], r["funded_item_spend"]] == pytest.approx(
            month, abs=1e-6
        )
        # hours organizations delivered: lot items, funded items bought from a street agency
        # outside any lot (model v2), and projects
        hours = c.org_item_delivered.sum() + c.funded_org_delivered.sum() + c.project_hours.sum()
        if hours > 0:
            assert r["cost_per_service_hour"] == pytest.approx(sum(month) / hours)
        assert r["purchase_appropriated_ytd"] == b.purchase_appropriated
        assert r["purchase_spent_ytd"] == b.purchase_spent
        assert r["project_appropriated_ytd"] == b.project_appropriated
        assert r["project_spent_ytd"] == b.project_spent
        assert r["contracts_active"] == int((lots.holder >= 0).sum())
        assert r["projects_active"] == int((o.alive & (o.project_community >= 0)).sum())
        q10, q90 = np.quantile(c.service_quality, [0.1, 0.9])
        assert r["quality_p10_p90"] == pytest.approx(q10 / q90)
        assert r["coverage_gini"] == pytest.approx(gini(c.service_coverage))
        # Equity (model v2): street values as ratios of sums, best minus worst street.
        for short, num, den in (
            ("burden", c.hours_admin, c.hours_used),
            ("coverage", c.served_hours, c.need_hours),
            ("quality", c.service_quality * c.need_hours, c.need_hours),
        ):
            by_street = np.bincount(c.street, num) / np.bincount(c.street, den)
            assert r[f"{short}_street_gap"] == pytest.approx(by_street.max() - by_street.min())
        for short, col in (("burden", c.admin_burden), ("coverage", c.service_coverage)):
            q10, q90 = np.quantile(col, [0.1, 0.9])
            assert r[f"{short}_p10_p90"] == pytest.approx(q10 / q90), short
        assert r["burden_gini"] == pytest.approx(gini(c.admin_burden))
        assert r["quality_gini"] == pytest.approx(gini(c.service_quality))
        # The lists as state and what issuers do (model v2).
        types, iss, world = m.world.item_types, m.issuers, m.world
        cut = world.lists_cut_step > -(2**31)
        assert r["n_listed_types"] == types.listed.sum()
        assert r["n_purchasable_types"] == (types.purchasable.sum() if cut else 0)
        assert r["n_crept_types"] == (types.crept_step > -(2**31)).sum()
        assert r["list_petitions"] == world.list_stats["petitions"]
        assert r["list_admitted"] == world.list_stats["admitted"]
        assert r["campaigns_active"] == (iss.campaign_until > m.t).sum()
        assert r["issuer_fund_share"] == pytest.approx(iss.fund_share.mean())
        assert r["issuer_expected_refusal"] == pytest.approx(iss.belief_direct.mean())
        # The largest provider: its share of the month's money and its workers.
        money = o.contract_income + o.project_income
        top = int(np.argmax(money))
        if money.sum() > 0:
            assert r["largest_provider_share"] == pytest.approx(money[top] / money.sum())
            workers = (m.workers.alive & (m.workers.employer == top)).sum()
            assert r["largest_provider_workers"] == workers > 0
        else:  # no money paid this month
            assert np.isnan(r["largest_provider_share"]) and r["largest_provider_workers"] == 0
        centres = [a.service_centres for a in m.agents_by_type[Street]]
        assert r["service_centres"] == sum(centres)
        assert r["streets_with_centres"] == sum(k > 0 for k in centres)
        pol = m.schedule.at(m.t)
        assert r["entry_control"] == pol.entry_control
        assert r["incubation_centres"] == pol.incubation_centres
        assert (r["purchase_budget"], r["project_budget"]) == (
            pol.purchase_budget,
            pol.project_budget,
        )
        alive_before, spent_before, brands_before = alive, spent, m.world.brand_invited
    assert r["contracts_active"] > 0 and r["n_orgs_brand"] > 0 and r["projects_active"] > 0
    assert totals["registrations"] > 0 and totals["hires"] > 0 and totals["layoffs"] > 0


def test_result_columns_keep_their_declared_types_at_every_level(reform_results):
    from sim.outputs import at_level

    for level, table in reform_results.items():
        for o in at_level(level):
            assert str(table[o.name].dtype) == o.dtype_at(level), (level, o.name)
    assert str(reform_results["street"]["items_issued"].dtype) == "int64"  # not all float64


def test_results_are_the_result_columns_as_data_frames(reform):
    # results() builds its tables from a few 2-D blocks; they are the tables pandas makes column
    # by column from result_columns (same columns in the same order, types, values, index).
    from sim.metrics import TEXT_COLUMNS, result_columns

    frames = reform.results()
    columns = result_columns(reform)
    assert list(frames) == list(columns) == ["district", "street", "community"]
    for level, cols in columns.items():
        plain = pd.DataFrame(
            {k: pd.array(v, dtype="str") if k in TEXT_COLUMNS else v for k, v in cols.items()}
        )
        pd.testing.assert_frame_equal(frames[level], plain, check_exact=True)
        assert frames[level].equals(plain)
    # numeric columns are rows of their type's block: distinct columns, not one row twice
    c = columns["community"]
    assert not np.array_equal(c["admin_hours"], c["staff_hours_used"])
    assert (c["step"] == np.repeat(np.arange(1, 49), reform.district.n_communities)).all()


def test_result_arrow_is_the_result_columns_in_arrow(reform):
    # The runner's Arrow arrays (one conversion per type's block, sliced into columns) are the
    # result columns converted one by one: same names in order, types, values and nulls (the
    # district's ratios without a denominator are NaN, so nulls occur), distinct columns.
    import pyarrow as pa

    from sim.metrics import result_arrow, result_columns
    from sim.outputs import arrow_arrays

    arrays = result_arrow(reform)
    columns = result_columns(reform, arrow_text=True)
    assert list(arrays) == list(columns)
    nulls = 0
    for level, cols in columns.items():
        one_by_one = arrow_arrays(cols, level)
        assert list(arrays[level]) == list(one_by_one)
        for name, expected in one_by_one.items():
            got = arrays[level][name]
            assert got.type == expected.type and got.equals(expected), (level, name)
            nulls += got.null_count
        assert pa.table(arrays[level]).equals(pa.table(one_by_one))
    assert nulls > 0
    c = arrays["community"]
    assert not c["admin_hours"].equals(c["staff_hours_used"])
    # before any month: every level, no columns, in both forms
    empty = DistrictModel(load_scenario(SCENARIOS / "wuhou_reform.toml"), rng=4)
    no_columns = {"district": {}, "street": {}, "community": {}}
    assert result_arrow(empty) == no_columns
    assert result_columns(empty) == result_columns(empty, arrow_text=True) == no_columns


def test_results_are_copies_that_later_months_leave_alone():
    m = DistrictModel(load_scenario(SCENARIOS / "wuhou_reform.toml"), rng=4)
    assert all(df.empty for df in m.results().values())
    m.step()
    m.step()
    early = m.results()
    kept = {level: df.copy(deep=True) for level, df in early.items()}
    m.step()
    later = m.results()
    for level, df in early.items():
        pd.testing.assert_frame_equal(df, kept[level], check_exact=True)
        assert len(later[level]) == len(df) * 3 // 2
        pd.testing.assert_frame_equal(later[level].iloc[: len(df)], df, check_exact=True)


def test_the_collectors_reporters_give_the_last_recorded_month():
    m = DistrictModel(load_scenario(SCENARIOS / "wuhou_reform.toml"), rng=2)
    reporters = m.datacollector.model_reporters
    assert reporters["admin_burden"](m) is None  # nothing recorded yet
    for _ in range(3):
        m.step()
    district = m.results()["district"]
    for name in ("admin_burden", "items_refused", "n_social_workers", "entry_control"):
        assert reporters[name](m) == pytest.approx(district[name].iloc[-1]), name


def test_each_street_row_names_its_street_and_sums_that_streets_communities(reform):
    # The street table, keyed by month and street name, holds for each street the sum of its
    # communities' rows of the same month (counts and hours), and every street every month.
    res = reform.results()
    c, s = res["community"], res["street"]
    d = reform.district
    assert (s.groupby("step")["street"].agg(tuple) == d.street_names).all()
    assert (c["street"] == np.array(d.street_names)[np.tile(d.community_street, 48)]).all()
    cols = ["admin_hours", "staff_hours_used", "items_issued", "served_hours", "residents"]
    by_street = c.groupby(["step", "street"])[cols].sum()
    mine = s.set_index(["step", "street"])[cols].loc[by_street.index]
    assert len(mine) == len(s)
    np.testing.assert_allclose(mine.to_numpy(float), by_street.to_numpy(float), rtol=1e-12)
    # Streets differ, so a street's row cannot be another street's.
    assert s[s["step"] == 48]["admin_hours"].nunique() == d.n_streets


def test_a_worker_hired_by_the_first_organization_leaves_the_pool():
    # The pool is the workers without an employer: hiring one, into the organization of row 0,
    # moves it from the pool to the employed.
    m = DistrictModel(load_scenario(SCENARIOS / "wuhou_reform.toml"), rng=3)
    m.step()
    row = int(m.world.add_workers(1, skill=0.5)[0])
    before = district_record(m)
    m.world.workers.employer[row] = 0
    after = district_record(m)
    assert after["social_workers_pool"] == before["social_workers_pool"] - 1
    assert after["n_social_workers"] == before["n_social_workers"] + 1


def test_the_records_memos_are_bounded_and_what_they_forget_is_recomputed_the_same():
    # The record keeps a few values computed from inputs that rarely change (rank weights by
    # length, percentile positions, street bins, centre counts, table layouts). A long-lived
    # sweep worker meets many lengths and districts: each memo keeps at most _MEMO entries, and a
    # forgotten entry comes back equal to the definition. The kept arrays are read-only.
    from sim import metrics

    memos = metrics.MEMOS
    rng = np.random.default_rng(3)
    for n in [*range(1, 3 * metrics._MEMO), 1, 2]:  # 1 and 2 again, after they were forgotten
        x = rng.random(n)
        xs = np.sort(x)
        i = np.arange(1, n + 1)
        assert gini(x) == pytest.approx(((2 * i - n - 1) * xs).sum() / (n * xs.sum()), abs=1e-12)
        assert metrics._p10_p90_rows(xs[None, :])[0] == pytest.approx(
            tuple(np.quantile(x, [0.1, 0.9])), abs=1e-12
        )
        street = rng.integers(0, 5, n)
        assert np.array_equal(
            metrics._street_index(street, 5), (street + 5 * np.arange(6)[:, None]).ravel()
        )
        centres = rng.integers(0, 3, n)
        assert metrics._centres(centres) == (centres.sum(), np.count_nonzero(centres))
    for memo in memos:
        assert memo.cache_info().maxsize == metrics._MEMO
    for memo in memos[:4]:  # filled above, past their bound
        assert memo.cache_info().currsize == metrics._MEMO
    with pytest.raises(ValueError):
        metrics._gini_weights(5)[0] = 1.0
    with pytest.raises(ValueError):
        metrics._street_index(np.array([0, 1]), 2)[0] = 7
