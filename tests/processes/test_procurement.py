import copy

import numpy as np
import pytest

from sim import DistrictModel, load_scenario
from sim.params import Params
from sim.processes.procurement import (
    _least_rank,
    allocate_lots,
    appropriate,
    award_lots,
    call_projects,
    expected_lot_hours,
    months_left_in_year,
    org_headroom,
    plan_lots,
    plan_projects,
)
from sim.world import AGENCY, BRAND, GRASSROOTS, blank_world

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


# -- the procurement functions on small hand-built worlds ---------------------------------------


def market(staff=(10.0, 10.0, 10.0, 10.0), rate=20.0, policy=None, start=2014 * 12, t=0):
    """Communities (one street) whose items are all listed and half in the catalogue, in two
    categories; no organizations yet."""
    w = blank_world(
        (0,) * len(staff),
        staff=list(staff),
        start=start,
        t=t,
        policy={"purchase_budget": 1e7} | (policy or {}),
    )
    w.item_rates[:] = rate / w.item_rates.shape[1]
    w.catalogue_share[:] = [0.3, 0.2]
    return w


def add_agency(w, n_workers=5, kind=AGENCY, **cols):
    cols = {"street": 0, "capacity": 0.6, "reputation": 0.6, "registered": True} | cols
    row = int(w.add_orgs(kind, 1, **cols)[0])
    w.add_workers(n_workers, employer=row, skill=0.5)
    return row


def policy_of(w):
    return w.schedule.at(w.t)


def test_months_left_in_year_runs_from_twelve_in_january_to_one_in_december():
    w = blank_world(start=2014 * 12 + 6)  # July
    left = []
    for t in range(-6, 6):
        w.t = t
        left.append(months_left_in_year(w))
    assert left == list(range(12, 0, -1))


def test_a_binding_budget_buys_the_lots_of_the_most_burdened_communities_first():
    # Equal items everywhere, so the communities with fewer staff carry more items per head.
    staff = (20.0, 5.0, 10.0, 40.0, 8.0)
    params = Params()
    w = market(staff)
    pol = policy_of(w)
    fees = expected_lot_hours(w, pol, params) * params.service_hour_price * 12
    w = market(staff, policy={"purchase_budget": float(fees.sum() * 0.5)})
    plan_lots(w, policy_of(w), params)
    planned = w.lots.planned
    assert 0 < planned.sum() < len(planned)  # the budget binds
    assert fees[planned].sum() <= 0.5 * fees.sum()
    burden = 1 / np.asarray(staff)[w.lots.community]
    assert burden[planned].min() >= burden[~planned].max()
    assert w.year_books().lots_offered == planned.sum()


def tender_world(mode="tender"):
    w = market(policy={"procurement_mode": mode, "tender_min_capacity": 0.5})
    rows = {
        "group": add_agency(w, kind=GRASSROOTS, community=0, capacity=0.9, reputation=0.9),
        "below floor": add_agency(w, capacity=0.45, reputation=0.9),
        "unregistered": add_agency(w, capacity=0.9, reputation=0.9, registered=False),
        "eligible": add_agency(w, capacity=0.55, reputation=0.5, street=1),
        "brand": add_agency(w, kind=BRAND, capacity=0.55, reputation=0.5, street=1),
    }
    return w, rows


def test_in_tender_mode_no_group_and_no_organization_below_the_floor_holds_a_lot():
    params = Params()
    w, rows = tender_world("tender")
    plan_lots(w, policy_of(w), params)
    award_lots(w, policy_of(w), params)
    holders = set(w.lots.holder[w.lots.planned].tolist())
    assert holders and holders <= {rows["eligible"], rows["brand"]}
    # Under commission the same strong local group is eligible, and wins lots.
    w, rows = tender_world("commission")
    plan_lots(w, policy_of(w), params)
    award_lots(w, policy_of(w), params)
    assert rows["group"] in set(w.lots.holder.tolist())
    assert rows["unregistered"] not in set(w.lots.holder.tolist())


def hand_unit_cost(params, capacity, workers):
    """Cost per productive hour of an uncertified worker at ``capacity`` in a workforce of
    ``workers``, by hand: wage with employer costs over the hours left after coordination."""
    p = params
    wage = p.wage_base * (1 + p.wage_capacity_premium * capacity) * p.employer_cost_factor
    lost = np.minimum(0.5, p.coordination_cost * np.log2(1 + workers / p.supervision_span))
    return wage / (p.worker_hours_per_month * (1 - lost))


def test_with_equal_capacity_and_reputation_the_cheapest_bid_wins():
    # Four bidders of equal capacity and reputation in the lots' street, no scoring noise. Bids
    # follow costs (model v2): a larger workforce costs more per productive hour (coordination),
    # and each bidder adds a random margin; the bid with the largest discount wins every lot, and
    # the bidder of 200 workers, whose cost exceeds the fee, does not bid at all.
    params = Params(procurement_score_noise=0.0, tender_max_discount=0.5)
    w = market(staff=(10.0,) * 40, rate=4.0)
    sizes = [5, 20, 40, 200]
    bidders = [add_agency(w, n_workers=n, capacity=0.6, reputation=0.6) for n in sizes]
    pol = policy_of(w)
    plan_lots(w, pol, params)
    draws = copy.deepcopy(w.streams.procurement)  # the stream award_lots will draw from
    award_lots(w, pol, params)
    lots = w.lots
    assert (lots.holder >= 0).all()
    n_lots = len(lots)
    draws.normal(0.0, 0.0, (n_lots, len(sizes)))  # the (zero) scoring noise
    markup = draws.uniform(0.0, 2 * params.bid_markup, (n_lots, len(sizes)))
    hours = expected_lot_hours(w, pol, params)
    price = params.service_hour_price
    extra = hours[:, None] / params.worker_hours_per_month
    cost = hand_unit_cost(params, 0.6, np.array(sizes)[None, :] + extra)
    assert (cost[:, :3] < price).all() and (cost[:, 3] > price).all()
    bid = np.minimum(cost * (1 + markup), price)
    discount = np.minimum(1 - bid / price, params.tender_max_discount)
    discount[:, 3] = -np.inf
    won = np.searchsorted(bidders, lots.holder)
    assert (discount[np.arange(n_lots), won] == discount.max(axis=1)).all()
    assert len(set(won.tolist())) > 1 and 3 not in won  # the margins, not size alone, decide
    # The winner is paid its bid: the fee less its discount, for the months left.
    fees = hours * price * 12
    assert lots.remaining == pytest.approx(fees * (1 - discount.max(axis=1)))
    assert lots.month_fee * 12 == pytest.approx(lots.remaining)


def test_no_holder_gets_more_lot_hours_than_it_can_staff():
    params = Params()
    w = market(staff=(10.0,) * 30, rate=400.0, policy={"purchase_budget": 3e7})
    for capacity in (0.3, 0.6, 0.9):
        add_agency(w, n_workers=2, capacity=capacity)
    pol = policy_of(w)
    plan_lots(w, pol, params)
    room = org_headroom(w, params)
    award_lots(w, pol, params)
    lots = w.lots
    held = np.bincount(lots.holder[lots.holder >= 0], lots.hours[lots.holder >= 0], len(w.orgs))
    assert (held <= room + 1e-9).all()
    assert (lots.planned & (lots.holder < 0)).any()  # headroom binds: some lots stay unlet
    assert (held > 0).sum() == 3
    # The books commit exactly the money of the lots let.
    assert w.year_books().purchase_committed == pytest.approx(lots.remaining.sum())
    assert w.year_books().lots_let == (lots.holder >= 0).sum()


def test_headroom_counts_workers_expansion_coordination_projects_and_lots_held():
    params = Params()
    w = market()
    a = add_agency(w, n_workers=3, capacity=0.4)
    g = add_agency(w, n_workers=0, kind=GRASSROOTS, community=0, capacity=0.4)
    w.orgs.project_hours[[a, g]] = 50.0
    w.lots.holder[0] = a
    w.lots.hours[0] = 70.0
    room = org_headroom(w, params)
    per, p = params.worker_hours_per_month, params
    expansion = params.expansion_workers_per_capacity * 0.4

    def productive(size):  # hours of a workforce of that size after coordination (model v2)
        return size * per * (1 - min(0.5, p.coordination_cost * np.log2(1 + size / 8.0)))

    assert p.supervision_span == 8.0
    assert room[a] == pytest.approx(productive(3 + expansion) - 50.0 - 70.0)
    assert room[g] == pytest.approx(productive(expansion))  # a group's project uses volunteers
    assert productive(3 + expansion) < (3 + expansion) * per
    w.orgs.alive[a] = False
    assert org_headroom(w, params)[a] == 0


def test_a_project_call_spends_the_money_on_the_least_covered_communities_first():
    # Money for five agency grants and one group grant; every organization applies.
    params = Params(project_apply_rate=1.0, group_project_apply_rate=1.0)
    budget = 5 * params.project_grant_agency + params.project_grant_group
    w = market(policy={"project_budget": budget})
    w.communities.coverage_memory = [0.9, 0.2, 0.5, 0.4]
    for _ in range(6):
        add_agency(w, n_workers=2)
    group = add_agency(w, kind=GRASSROOTS, community=2, n_workers=0)
    pol = policy_of(w)
    plan_projects(w, pol, params)
    assert w.project_money == pytest.approx(budget)  # January: the whole year's money
    call_projects(w, pol, params)
    o, books = w.orgs, w.year_books()
    funded = o.project_community >= 0
    assert books.projects_applied == 7 and books.projects_funded == funded.sum() == 6
    assert books.project_committed == pytest.approx(budget) and w.project_money == pytest.approx(0)
    assert (o.project_month_fee[funded] * 12).sum() == pytest.approx(books.project_committed)
    assert o.project_hours[group] * params.project_group_hour_cost * 12 == pytest.approx(
        params.project_grant_group
    )
    # Agencies spread over their street, the least-covered community getting the second one;
    # the group works in its own community.
    agencies = funded & (o.kind == AGENCY)
    assert np.bincount(o.project_community[agencies], minlength=4).tolist() == [1, 2, 1, 1]
    assert o.project_community[group] == 2


@pytest.mark.parametrize("seed", range(30))
def test_an_agencys_project_community_is_the_first_least_ranked_as_argmin_picks_it(seed):
    # call_projects picks an agency's community on Python numbers; it must be np.argmin's pick
    # over the street's ranks: the least, the first of equal ranks, the first NaN if any.
    rng = np.random.default_rng(seed)
    rank = rng.integers(0, 4, 12).astype(float)  # many ties
    rank[rng.random(12) < 0.2] = -0.0
    if seed % 3 == 0:
        rank[rng.random(12) < 0.15] = np.nan
    least = _least_rank(rank.tolist())
    for members in (sorted(rng.choice(12, k, replace=False).tolist()) for k in (1, 3, 5, 12)):
        assert least(members) == members[int(np.argmin(rank[members]))]


def test_projects_from_an_earlier_call_count_as_much_as_this_calls_in_spreading_agencies():
    # An agency's project goes to the community of its street with the fewest projects running,
    # the least covered among them, and a project from an earlier call counts as one like a
    # project funded in this call. A first call funds one project, in the then least-covered
    # community 0; coverage then changes, and a second call funds four: one in each of the other
    # three, and the fifth where coverage is now lowest (community 1), not where the older
    # project runs (community 0, now the best covered).
    params = Params(project_apply_rate=1.0)
    grant = params.project_grant_agency
    w = market(policy={"project_budget": grant})
    w.communities.coverage_memory = [0.1, 0.5, 0.5, 0.5]
    for _ in range(5):
        add_agency(w, n_workers=2)
    pol = policy_of(w)
    plan_projects(w, pol, params)
    call_projects(w, pol, params)
    o = w.orgs
    assert np.bincount(o.project_community[o.project_community >= 0], minlength=4).tolist() == [
        1, 0, 0, 0,
    ]  # fmt: skip
    w.communities.coverage_memory = [0.9, 0.2, 0.5, 0.4]
    w.project_money = 4 * grant
    call_projects(w, pol, params)
    running = np.bincount(o.project_community[o.project_community >= 0], minlength=4)
    assert running.tolist() == [1, 2, 1, 1] and w.year_books().projects_funded == 5
    # Every candidate applied (rate 1): five in the first call, the four left in the second; the
    # year's books count the applications of both calls.
    assert w.year_books().projects_applied == 5 + 4


def test_a_call_without_money_for_one_grant_takes_no_applications_and_draws_nothing():
    # Money just short of the smallest grant for the months left (agencies' only: groups are
    # offered none): no call (nobody applies, the books count no application, the procurement
    # stream is untouched); with the full grant, one project is funded.
    params = Params(project_apply_rate=1.0, project_grant_group=0.0)
    grant = params.project_grant_agency
    w = market(policy={"project_budget": grant})
    for _ in range(3):
        add_agency(w, n_workers=2)
    pol = policy_of(w)
    plan_projects(w, pol, params)
    w.project_money = grant * 0.999
    state = w.streams.procurement.bit_generator.state
    call_projects(w, pol, params)
    assert w.year_books().projects_applied == 0 and w.year_books().projects_funded == 0
    assert w.streams.procurement.bit_generator.state == state
    w.project_money = grant
    call_projects(w, pol, params)
    assert w.year_books().projects_applied == 3 and w.year_books().projects_funded == 1


def test_applicants_of_equal_merit_are_funded_in_row_order():
    # Four agencies without score noise, two of capacity 0.5 and then two of 0.7 (rows 2 and 3),
    # money for one grant: the first of the two best (row 2) gets it, as a stable ranking of
    # merit puts it first (an unstable sort may put row 3 first).
    params = Params(project_apply_rate=1.0, project_score_noise=0.0, project_weight_reputation=0.0)
    w = market(policy={"project_budget": params.project_grant_agency})
    rows = [add_agency(w, n_workers=2, capacity=cap) for cap in (0.5, 0.5, 0.7, 0.7)]
    pol = policy_of(w)
    plan_projects(w, pol, params)
    call_projects(w, pol, params)
    assert (w.orgs.project_community[rows] >= 0).tolist() == [False, False, True, False]


def test_project_money_goes_to_the_stronger_applicant_and_never_as_an_empty_grant():
    # Money for one agency grant, two applicants of equal capacity: the better reputation wins.
    # Groups' grants set to zero: no group gets a project, though it applies with the best score.
    params = Params(
        project_apply_rate=1.0,
        group_project_apply_rate=1.0,
        project_score_noise=0.0,
        project_grant_group=0.0,
    )
    w = market(policy={"project_budget": params.project_grant_agency})
    weak = add_agency(w, n_workers=2, capacity=0.5, reputation=0.2)
    strong = add_agency(w, n_workers=2, capacity=0.5, reputation=0.8)
    group = add_agency(w, kind=GRASSROOTS, community=0, n_workers=0, capacity=0.9, reputation=0.9)
    pol = policy_of(w)
    plan_projects(w, pol, params)
    call_projects(w, pol, params)
    o = w.orgs
    assert o.project_community[strong] >= 0 and o.project_community[weak] == -1
    assert o.project_community[group] == -1 and w.year_books().projects_funded == 1


def test_without_price_competition_capacity_decides_and_winners_get_the_full_fee():
    # tender_max_discount 0: no discount is accepted, so the price term is zero for everyone.
    params = Params(procurement_score_noise=0.0, tender_max_discount=0.0)
    w = market(staff=(10.0,) * 8, rate=4.0)
    add_agency(w, n_workers=5, capacity=0.55, reputation=0.6)
    strong = add_agency(w, n_workers=5, capacity=0.9, reputation=0.6)
    pol = policy_of(w)
    plan_lots(w, pol, params)
    award_lots(w, pol, params)
    assert (w.lots.holder == strong).all()
    fees = expected_lot_hours(w, pol, params) * params.service_hour_price * 12
    assert w.lots.remaining.tolist() == pytest.approx(fees.tolist())


def quality_tender(reputed_edge, incumbent=None, satisfaction=None):
    """A quality-only tender (no price term, no noise) between two agencies of the lots' street:
    "capable" (capacity 0.7, reputation 0.5) and "reputed" (capacity 0.6, reputation 0.5 plus
    ``reputed_edge``), optionally with one of them the lots' incumbent and the communities'
    satisfaction set. Returns the planned lots' holders and the two rows."""
    params = Params(procurement_score_noise=0.0, tender_scoring="quality_only")
    w = market(rate=4.0)
    rows = {
        "capable": add_agency(w, n_workers=20, capacity=0.7, reputation=0.5),
        "reputed": add_agency(w, n_workers=20, capacity=0.6, reputation=0.5 + reputed_edge),
    }
    if satisfaction is not None:
        w.communities.satisfaction = satisfaction
    pol = policy_of(w)
    plan_lots(w, pol, params)
    if incumbent is not None:
        w.lots.last_holder[:] = rows[incumbent]
    award_lots(w, pol, params)
    lots = w.lots
    assert lots.planned.any()
    return lots.holder[lots.planned], rows


def test_a_quality_tender_weighs_capacity_and_reputation_by_their_weights():
    # Score = w_capacity x capacity + w_reputation x reputation (+ equal local bonus): a capacity
    # edge of 0.1 beats a reputation edge just under 0.1 x w_capacity / w_reputation and loses
    # to one just over it, on every lot.
    p = Params()
    even = 0.1 * p.tender_weight_capacity / p.tender_weight_reputation
    holders, rows = quality_tender(0.98 * even)
    assert (holders == rows["capable"]).all()
    holders, rows = quality_tender(1.02 * even)
    assert (holders == rows["reputed"]).all()


def test_an_incumbents_renewal_term_is_the_weight_times_satisfaction_above_the_reference():
    # The incumbent ("capable") trails by w_reputation x 0.3 - w_capacity x 0.1 on score; residents'
    # satisfaction above the reference adds w_renew x (satisfaction - reference) to its score, so
    # it keeps its lots when that exceeds the gap and loses them when it falls just short, and
    # satisfaction below the reference counts against it.
    p = Params()
    gap = p.tender_weight_reputation * 0.3 - p.tender_weight_capacity * 0.1
    assert gap > 0
    even = p.satisfaction_reference + gap / p.renewal_satisfaction_weight
    for sat, keeps in ((even + 0.05 * gap, True), (even - 0.05 * gap, False)):
        holders, rows = quality_tender(0.3, incumbent="capable", satisfaction=sat)
        assert (holders == rows["capable" if keeps else "reputed"]).all(), sat
    # The reputed incumbent, well ahead, loses its lots once satisfaction is far enough below.
    below = p.satisfaction_reference - 1.05 * gap / p.renewal_satisfaction_weight
    holders, rows = quality_tender(0.3, incumbent="reputed", satisfaction=below)
    assert (holders == rows["capable"]).all()


def test_a_commission_prefers_the_better_reputation_among_equal_local_agencies():
    params = Params(procurement_score_noise=0.0)
    w = market(staff=(10.0,) * 8, rate=4.0, policy={"procurement_mode": "commission"})
    add_agency(w, n_workers=5, capacity=0.6, reputation=0.3)
    trusted = add_agency(w, n_workers=5, capacity=0.6, reputation=0.7)
    pol = policy_of(w)
    plan_lots(w, pol, params)
    award_lots(w, pol, params)
    assert (w.lots.holder == trusted).all()
    assert w.lots.remaining.sum() == pytest.approx(w.year_books().purchase_committed)


def test_lots_without_expected_work_are_not_bought():
    params = Params()
    w = market(staff=(10.0,) * 4)
    w.catalogue_share[:] = [0.5, 0.0]  # nothing of the second category is in the catalogue
    plan_lots(w, policy_of(w), params)
    assert w.lots.planned.tolist() == [True, False] * 4
    assert w.year_books().lots_offered == 4


def test_the_smallest_lots_are_reserved_for_community_based_organizations_up_to_the_share():
    # Ample money: every lot is bought. Lots of the second category are the smaller (catalogue
    # shares 0.3 and 0.2); a quarter of the money reserves the two smallest lots.
    params = Params()
    w = market(staff=(10.0,) * 4, policy={"community_reserved_share": 0.25})
    plan_lots(w, policy_of(w), params)
    lots = w.lots
    assert lots.planned.all()
    fees = expected_lot_hours(w, policy_of(w), params) * params.service_hour_price * 12
    assert lots.reserved.sum() == 2 and (lots.category[lots.reserved] == 1).all()
    assert fees[lots.reserved].sum() <= 0.25 * fees.sum()
    w = market(staff=(10.0,) * 4)  # no reserved share: nothing reserved
    plan_lots(w, policy_of(w), params)
    assert not w.lots.reserved.any()


def test_lots_let_again_after_their_holders_fold_are_counted_over_the_year():
    # Four agencies share the lots; three times in the year the largest holder folds and its lots
    # are let again. The year's books count every award once: first awards as let, later awards
    # of the same lots as relet, summed over the year (not only the last round's).
    params = Params()
    w = market(staff=(10.0,) * 6)
    for _ in range(4):
        add_agency(w, n_workers=20)
    pol = policy_of(w)
    plan_lots(w, pol, params)
    award_lots(w, pol, params)
    books = w.year_books()
    assert (w.lots.holder >= 0).all()
    assert (books.lots_let, books.lots_relet) == (len(w.lots), 0)
    awards = len(w.lots)
    for _ in range(3):
        holder = w.lots.holder
        largest = np.bincount(holder[holder >= 0]).argmax()
        lost = int((holder == largest).sum())
        w.remove_orgs(np.array([largest]))
        award_lots(w, pol, params)
        assert (w.lots.holder >= 0).all()  # the others take them over
        awards += lost
        assert books.lots_let == len(w.lots)  # no lot counts as newly let twice
        assert books.lots_let + books.lots_relet == awards
    assert books.lots_relet > len(w.lots)  # more re-awards than lots: counted over rounds


def test_a_budget_of_exactly_the_fees_buys_every_lot_and_one_yuan_less_does_not():
    # Whole-number fees (one item type's rate 4 per issuer, catalogue shares 1/2 and 1/4, two
    # hours per item at 50 an hour), so sums of fees are exact: a budget equal to their total
    # covers every lot; a yuan less leaves out the last lot in burden order (the smaller lot of
    # the community with the most staff).
    params = Params(hours_per_item=2.0, service_hour_price=50.0)
    staff = (10.0, 20.0, 5.0, 8.0)

    def planned(budget):
        w = market(staff, policy={"purchase_budget": budget})
        w.item_rates[:] = 4.0
        w.catalogue_share[:] = [0.5, 0.25]
        plan_lots(w, policy_of(w), params)
        return w, w.lots.planned.copy()

    w, _ = planned(1e7)
    fees = expected_lot_hours(w, policy_of(w), params) * params.service_hour_price * 12
    assert (fees == np.round(fees)).all() and fees.min() > 1
    total = float(fees.sum())
    _, every = planned(total)
    assert every.all()
    w, short = planned(total - 1)
    assert short.sum() == len(short) - 1
    left_out = np.flatnonzero(~short)[0]
    assert w.lots.community[left_out] == 1 and w.lots.category[left_out] == 1


def test_the_tenders_local_bonus_gives_the_lots_to_the_bidder_of_their_street():
    # Two bidders alike but for their street, no scoring noise and no price competition: with a
    # local bonus the one in the lots' street wins every lot; without one, neither is favoured,
    # and ties in score go to the first bidder, the one of the other street.
    def holders(bonus):
        params = Params(
            procurement_score_noise=0.0, tender_scoring="quality_only", tender_local_bonus=bonus
        )
        w = market(policy={"procurement_mode": "tender"})
        away = add_agency(w, street=1, n_workers=40)
        home = add_agency(w, street=0, n_workers=40)
        plan_lots(w, policy_of(w), params)
        award_lots(w, policy_of(w), params)
        assert (w.lots.holder >= 0).all()
        return set(w.lots.holder.tolist()), away, home

    held, _, home = holders(0.5)
    assert held == {home}
    held, away, _ = holders(0.0)
    assert held == {away}


def test_reserved_lots_go_only_to_community_based_organizations_of_the_lots_street():
    # Half the money reserved, lots commissioned. A strong brand agency in the lots' street and a
    # strong local agency of another street may not take reserved lots; the weaker local agency
    # of the street takes every one of them, though the brand agency outscores it elsewhere.
    params = Params(procurement_score_noise=0.0)
    rules = {"community_reserved_share": 0.5, "procurement_mode": "commission"}
    w = market(staff=(10.0,) * 4, policy=rules)
    strong = {"capacity": 0.9, "reputation": 0.9, "n_workers": 40}
    brand = add_agency(w, kind=BRAND, street=0, **strong)
    other_street = add_agency(w, street=1, **strong)
    local = add_agency(w, street=0, capacity=0.2, reputation=0.2, n_workers=40)
    plan_lots(w, policy_of(w), params)
    award_lots(w, policy_of(w), params)
    lots = w.lots
    assert lots.reserved.any() and (lots.holder >= 0).all()
    assert set(lots.holder[lots.reserved].tolist()) == {local}
    assert brand in set(lots.holder[~lots.reserved].tolist())
    assert other_street not in set(lots.holder[lots.reserved].tolist())


def test_lots_left_by_a_folded_holder_are_let_again_only_at_the_next_retendering():
    # Lots are let in January; one holder folds in February. Its lots stay unlet until the next
    # re-tendering month (every retender_months from January), then go to the other agency.
    params = Params(retender_months=3)
    w = market(staff=(10.0,) * 4)
    agencies = [add_agency(w, n_workers=40) for _ in range(2)]
    appropriate(w, policy_of(w), params)
    assert (w.lots.holder >= 0).all()
    folded = int(w.lots.holder[0])
    (other,) = set(agencies) - {folded}
    left = w.lots.holder == folded
    let = []
    for t in range(1, 6):
        w.t = t
        if t == 1:
            w.remove_orgs(np.array([folded]))
        appropriate(w, policy_of(w), params)
        now = w.lots.holder[left]
        assert (now < 0).all() or (now == other).all()
        let.append(bool((now == other).all()))
    assert let == [False, False, True, True, True]


# -- allocate_lots: the sequential award, against a plain scan of every bidder -------------------


def scan_allocation(order, score, allowed, need, room, held, cap_lots):
    """The award by its definition: each lot in turn scans every bidder, keeping the first
    highest score (a NaN wins) among the allowed bidders with room and under the cap."""
    room, held = list(room), list(held)
    won_i, won_j = [], []
    for i in order:
        j, top = -1, -np.inf
        for b in range(score.shape[1]):
            if allowed[i, b] and room[b] >= need[i] and held[b] < cap_lots:
                x = score[i, b]
                if j < 0 or x > top or (x != x and top == top):
                    j, top = b, x
        if j >= 0:
            room[j] -= need[i]
            held[j] += 1
            won_i.append(i)
            won_j.append(j)
    return won_i, won_j


@pytest.mark.parametrize("seed", range(40))
def test_allocate_lots_gives_each_lot_to_the_first_best_bidder_that_qualifies(seed):
    # Random markets where favourites fill up, hit the cap, tie and are not allowed; a few NaN
    # scores. The award must match the plain scan lot for lot.
    rng = np.random.default_rng(seed)
    n_lots, n_bidders = rng.integers(1, 40), rng.integers(1, 12)
    score = rng.integers(0, 4, (n_lots, n_bidders)).astype(float)  # many ties
    if seed % 4 == 0:
        score[rng.random(score.shape) < 0.05] = np.nan
    allowed = rng.random(score.shape) < 0.7
    score = np.where(allowed, score, -np.inf)
    need = rng.uniform(0.5, 3.0, n_lots)
    room = rng.uniform(0.0, 10.0, n_bidders)
    held = rng.integers(0, 3, n_bidders)
    cap = int(rng.integers(1, 5)) if seed % 2 else np.iinfo(np.int64).max
    order = rng.permutation(n_lots)
    room0, held0 = room.copy(), held.copy()
    won_i, won_j = allocate_lots(order, score, allowed, need, room, held, cap)
    want_i, want_j = scan_allocation(order, score, allowed, need, room, held, cap)
    assert won_i.tolist() == want_i and won_j.tolist() == want_j
    assert (room == room0).all() and (held == held0).all()  # inputs are not changed


def test_allocate_lots_passes_a_lot_on_when_its_favourite_is_full_or_capped():
    # Bidder 0 scores best on every lot but has room for one lot only; bidder 1, next best, is
    # capped at two lots; bidder 2 takes the rest, and a lot nobody may take stays unlet.
    score = np.array([[3.0, 2.0, 1.0]] * 4 + [[-np.inf] * 3])
    allowed = np.isfinite(score)
    won_i, won_j = allocate_lots(
        np.arange(5), score, allowed, np.ones(5), np.array([1.0, 9, 9]), np.zeros(3), 2
    )
    assert won_i.tolist() == [0, 1, 2, 3] and won_j.tolist() == [0, 1, 1, 2]
    # Without the cap, bidder 1 takes every lot its better rival cannot.
    _, won_j = allocate_lots(
        np.arange(5), score, allowed, np.ones(5), np.array([1.0, 9, 9]), np.zeros(3), 9
    )
    assert won_j.tolist() == [0, 1, 1, 1]
    # No bidders: nothing is let.
    won_i, _ = allocate_lots(
        np.arange(2),
        np.zeros((2, 0)),
        np.zeros((2, 0), bool),
        np.ones(2),
        np.zeros(0),
        np.zeros(0),
        1,
    )
    assert len(won_i) == 0
    # ... and the empty rows and columns are still indices, as every result is.
    won_i, won_j = allocate_lots(
        np.zeros(0, np.int64), np.zeros((0, 3)), np.zeros((0, 3), bool), np.zeros(0),
        np.ones(3), np.zeros(3), 1,
    )  # fmt: skip
    assert won_i.dtype.kind == won_j.dtype.kind == "i"
    assert np.arange(4)[won_i].size == np.arange(3)[won_j].size == 0
    # ... also when bidders are there but none has room for any lot.
    won_i, won_j = allocate_lots(
        np.arange(2), np.ones((2, 2)), np.ones((2, 2), bool), np.full(2, 5.0), np.zeros(2),
        np.zeros(2), 9,
    )  # fmt: skip
    assert len(won_i) == 0 and won_i.dtype.kind == won_j.dtype.kind == "i"
