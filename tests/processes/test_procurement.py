import numpy as np
import pytest

from sim import DistrictModel, load_scenario

from ..conftest import SCENARIOS, finished_run

MID_YEAR = ("policy.purchase_budget.2015-07=12000000",)


@pytest.mark.parametrize(
    ("scenario", "overrides"),
    [("wuhou_reform", ()), ("baseline_2013", ()), ("baseline_2013", MID_YEAR)],
    ids=["reform", "baseline", "budget-from-july"],
)
def test_money_paid_never_exceeds_budget_and_books_balance(scenario, overrides):
    # A budget that starts in July lets contracts for the six months left in the year only.
    m = finished_run(scenario, 1, overrides)
    books = m.budget_books()
    for line in ("purchase", "project"):
        spent, approp = books[f"{line}_spent"], books[f"{line}_appropriated"]
        assert (spent <= approp + 1e-6).all()
        assert (books[f"{line}_committed"] <= approp * 1.0000001 + 1e-6).all()
        assert (spent <= books[f"{line}_committed"] + 1e-6).all()
        assert np.allclose(approp, spent + books[f"{line}_unspent"])
    d = m.results()["district"]
    assert (d["purchase_spent_ytd"] <= d["purchase_appropriated_ytd"] + 1e-6).all()
    by_year = d.groupby("year")["purchase_spend"].sum()
    assert np.allclose(by_year.to_numpy(), books.set_index("year")["purchase_spent"].to_numpy())


def test_appropriation_follows_the_timeline(reform):
    books = reform.budget_books().set_index("year")
    assert books.loc[2013, "purchase_appropriated"] == 0
    assert books.loc[2014, "purchase_appropriated"] == pytest.approx(30.85e6)  # A5
    assert books.loc[2016, "purchase_appropriated"] == pytest.approx(37.53e6)


def test_zero_purchase_budget_means_no_contract():
    m = finished_run("wuhou_reform", 1, ("policy.purchase_budget=0",))
    d = m.results()["district"]
    assert d["contracts_active"].sum() == 0 and d["purchase_spend"].sum() == 0
    assert (m.lots.holder < 0).all() and (m.communities.lots_held == 0).all()
    assert m.results()["community"]["org_item_hours"].sum() == 0


def test_organizations_receive_exactly_what_the_books_record():
    # Money is conserved month by month: what organizations book as contract and project income
    # equals what the district's ledgers record as spent (purchase, project, funded items).
    m = DistrictModel(load_scenario(SCENARIOS / "wuhou_reform.toml"), rng=4)
    before = (0.0, 0.0, 0.0)
    for _ in range(30):
        m.step()
        b = m.year_books()
        if m.month_index % 12 == 0:
            before = (0.0, 0.0, 0.0)
        now = (b.purchase_spent, b.project_spent, b.funded_item_spent)
        d_purchase, d_project, d_funded = (x - y for x, y in zip(now, before, strict=True))
        assert m.communities.purchase_spend.sum() == pytest.approx(d_purchase)
        assert m.orgs.contract_income.sum() == pytest.approx(d_purchase + d_funded)
        assert m.orgs.project_income.sum() == pytest.approx(d_project)
        before = now
    assert before[0] > 0 and before[1] > 0


def test_mid_year_budget_change_is_pro_rata():
    m = finished_run("baseline_2013", 1, MID_YEAR)
    books = m.budget_books().set_index("year")
    assert books.loc[2015, "purchase_appropriated"] == pytest.approx(6e6)
    assert books.loc[2016, "purchase_appropriated"] == pytest.approx(12e6)
    d = m.results()["district"]
    assert d.loc[d["month"] < "2015-07", "contracts_active"].sum() == 0
