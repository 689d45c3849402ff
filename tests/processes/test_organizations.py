import numpy as np
import pytest
from scipy import stats

from sim.params import Params
from sim.processes.organizations import (
    change_members,
    exit_organizations,
    form_groups,
    found_agencies,
    learn,
    register,
    settle_finances,
    support,
)
from sim.world import AGENCY, BRAND, GRASSROOTS, NEVER, blank_world

P = Params()


def interval(n, p, alpha=1e-6):
    return stats.binom.ppf([alpha / 2, 1 - alpha / 2], n, p)


def pol(w):
    return w.schedule.at(w.t)


def test_reserves_move_by_income_less_costs():
    w = blank_world((0,))
    a = w.add_orgs(AGENCY, 1, street=0, registered=True, reserves=1000.0)[0]
    g = w.add_orgs(GRASSROOTS, 1, street=0, community=0, members=20.0, reserves=50.0)[0]
    h = w.add_orgs(GRASSROOTS, 1, street=0, community=0, members=20.0, hosted=True)[0]
    w.add_workers(2, employer=a, wage=4000.0)
    o = w.orgs
    o.contract_income[a], o.project_income[[a, g]] = 9000.0, [3000.0, 800.0]
    settle_finances(w, pol(w), P)
    agency_costs = (
        2 * 4000 * P.employer_cost_factor + P.agency_overhead + P.registered_compliance_cost
    )
    assert o.income[a] == pytest.approx(12000.0 + P.agency_outside_income)
    assert o.costs[a] == pytest.approx(agency_costs)
    assert o.reserves[a] == pytest.approx(1000 + 12000 + P.agency_outside_income - agency_costs)
    group_running = 20 * P.group_activity_cost_per_member
    assert o.income[g] == pytest.approx(800.0 + 20 * P.dues_per_member)
    assert o.costs[g] == pytest.approx(group_running + 800 * (1 - P.project_overhead_share))
    # A group hosted in a service centre pays only part of its running costs.
    assert o.costs[h] == pytest.approx(group_running * P.hosted_cost_factor)


def test_negative_reserves_count_months_and_insolvency_closes_the_organization():
    w = blank_world((0,))
    w.add_orgs(AGENCY, 2, street=0, reserves=[-1e9, 1e9], neg_months=[P.insolvency_months - 2, 3])
    w.add_workers(2, employer=[0, 1])
    w.lots.holder[0] = 0
    params = Params(exit_base_rate=0.0)
    settle_finances(w, pol(w), params)
    assert w.orgs.neg_months.tolist() == [P.insolvency_months - 1, 0]
    exit_organizations(w, pol(w), params)
    assert w.orgs.alive.all()
    settle_finances(w, pol(w), params)
    exit_organizations(w, pol(w), params)
    assert w.orgs.alive.tolist() == [False, True]
    assert w.month_stats["exits"] == 1 and w.lots.holder[0] == -1
    assert w.workers.employer.tolist() == [-1, 1]


def test_groups_below_the_minimum_membership_dissolve():
    w = blank_world((0,))
    w.add_orgs(GRASSROOTS, 2, street=0, community=0, members=[P.min_members - 1, P.min_members],
               registered=[True, False])  # fmt: skip
    exit_organizations(w, pol(w), Params(exit_base_rate=0.0))
    assert w.orgs.alive.tolist() == [False, True]
    assert w.month_stats["exits_registered"] == 1


def test_the_exit_hazard_is_higher_for_young_and_small_organizations():
    params = Params(exit_base_rate=0.6)
    n = 4000
    w = blank_world((0,), t=0)
    w.add_orgs(AGENCY, n, street=0, born_step=-1000)  # old
    w.add_orgs(AGENCY, n, street=0, born_step=0)  # new
    w.add_orgs(GRASSROOTS, n, street=0, community=0, members=5.0, born_step=-1000)  # small, old
    w.add_orgs(GRASSROOTS, n, street=0, community=0, members=35.0, born_step=-1000)  # large, old
    exit_organizations(w, pol(w), params)
    gone = (~w.orgs.alive.reshape(4, n)).sum(axis=1)
    base = params.exit_base_rate / 12
    young = base * (1 + params.exit_youth_multiplier)
    # a group's hazard scales with 10 / (members + 5): 1 at 5 members, 1/4 at 35
    for share, k in zip((base, young, base, base / 4), gone, strict=True):
        lo, hi = interval(n, share)
        assert lo <= k <= hi, (share, k / n)


def test_organizations_outside_community_services_enter_and_leave_at_their_rates():
    # Ten million, so the intervals (about +-0.07% of the mean) tell a twelfth from a thirteenth.
    n = 10_000_000
    w = blank_world((0,))
    w.other_orgs = n
    exit_organizations(w, pol(w), Params(exit_base_rate=0.6, other_orgs_entry=0.0))
    lo, hi = interval(n, 0.6 / 12)
    assert lo <= n - w.other_orgs <= hi
    w.other_orgs = n
    exit_organizations(w, pol(w), Params(exit_base_rate=0.0, other_orgs_entry=0.6))
    lo, hi = stats.poisson.ppf([5e-7, 1 - 5e-7], n * 0.6 / 12)
    assert lo <= w.other_orgs - n <= hi


def test_capacity_grows_with_work_incubation_and_brand_neighbours_and_decays_when_idle():
    w = blank_world((0, 1), t=0, policy={"incubation_base": True})
    w.add_orgs(BRAND, 1, street=0, registered=True)
    rows = w.add_orgs(AGENCY, 5, street=[0, 1, 1, 1, 1], capacity=0.5, registered=True, reputation=0.5,
                      delivered_hours=[10.0, 10.0, 0.0, 0.0, 0.0],
                      quality=0.9, incubated_until=[NEVER, NEVER, 5, NEVER, NEVER])  # fmt: skip
    w.orgs.alive[rows[4]] = False
    learn(w, pol(w), P)
    cap = w.orgs.capacity[rows]
    base = P.base_learning
    expect_beside_brand = 0.5 + (P.capacity_learning + base + P.brand_spillover * 0.5) * 0.5
    assert cap[0] == pytest.approx(expect_beside_brand)
    assert cap[1] == pytest.approx(0.5 + (P.capacity_learning + base) * 0.5)
    assert cap[2] == pytest.approx(0.5 + (P.incubation_learning + base) * 0.5)
    assert cap[3] == pytest.approx(0.5 + base * 0.5 - P.capacity_decay * 0.5)
    assert cap[4] == 0.5  # folded: unchanged
    rep = w.orgs.reputation[rows]
    moved = 0.5 + P.reputation_smoothing * (0.9 - 0.5)  # toward the quality delivered
    assert rep[:2].tolist() == pytest.approx([moved] * 2) and rep[2] == 0.5


def test_members_join_with_participation_and_leave_at_the_attrition_rate():
    n = 2000
    w = blank_world((0, 0), participation=[P.participation_initial, 2 * P.participation_initial])
    w.add_orgs(GRASSROOTS, 2 * n, street=0, community=np.repeat([0, 1], n), members=10.0)
    change_members(w, pol(w), Params(member_attrition=0.0))
    joined = w.orgs.members.reshape(2, n).sum(axis=1) - 10 * n
    for k, rel in zip(joined, (1, 2), strict=True):
        lo, hi = stats.poisson.ppf([5e-7, 1 - 5e-7], 10 * n * P.member_recruitment * rel)
        assert lo <= k <= hi
    w = blank_world((0,))
    w.add_orgs(GRASSROOTS, n, street=0, community=0, members=10.0)
    change_members(w, pol(w), Params(member_recruitment=0.0, member_attrition=0.2))
    lo, hi = interval(10 * n, 0.2)
    assert lo <= 10 * n - w.orgs.members.sum() <= hi


def test_groups_form_with_participation_and_faster_beside_service_centres():
    months = 30
    w = blank_world((0, 1), residents=10000.0, participation=0.2)
    w.streets.service_centres = [0, 2]
    for _ in range(months):
        form_groups(w, pol(w), P)
    formed = np.bincount(w.orgs.community, minlength=2)
    rate = P.group_formation_rate * 10000 * 0.2 / 1000 * months
    for k, boost in zip(formed, (1, 1 + 2 * P.centre_formation_boost), strict=True):
        lo, hi = stats.poisson.ppf([5e-7, 1 - 5e-7], rate * boost)
        assert lo <= k <= hi
    o = w.orgs
    assert (o.kind == GRASSROOTS).all() and (o.members >= 3).all()
    assert (o.street == o.community).all() and w.month_stats["formed"] == len(o)
    # A new group has three founders plus Poisson(members_initial_mean - 3) more members.
    mean = (P.members_initial_mean - 3) * len(o)
    lo, hi = stats.poisson.ppf([5e-7, 1 - 5e-7], mean)
    assert lo <= (o.members - 3).sum() <= hi


def test_agencies_are_founded_when_announced_budgets_exceed_what_agencies_can_absorb():
    big = {"purchase_budget": 8e7, "project_budget": 0.0}
    # No agency yet: the whole budget (8 x 10 million) is the gap, in 20 fresh districts.
    founded = 0
    for seed in range(20):
        w = blank_world((0,), policy=big, seed=seed)
        found_agencies(w, pol(w), P)
        founded += len(w.orgs)
        assert w.month_stats["agencies_founded"] == len(w.orgs)
        assert ((w.orgs.kind == AGENCY) & ~w.orgs.registered).all()
    lo, hi = stats.poisson.ppf([5e-7, 1 - 5e-7], 20 * P.agency_entry_rate * 8)
    assert lo <= founded <= hi
    # Agencies able to absorb the budget: none is founded.
    w = blank_world((0,), policy=big)
    w.add_orgs(AGENCY, 1, street=0, capacity=1.0)
    w.add_workers(1000, employer=0)  # 88 million yuan a year of hours
    found_agencies(w, pol(w), P)
    assert len(w.orgs) == 1


def test_groups_register_only_when_they_meet_the_threshold():
    n = 3000
    rule = {"registration_members": 10, "registration_capital": 2000.0,
            "registration_prior_approval": False}  # fmt: skip
    w = blank_world((0,), policy=rule)
    w.add_orgs(GRASSROOTS, n, street=0, community=0, members=10.0, reserves=2000.0)
    w.add_orgs(GRASSROOTS, n, street=0, community=0, members=9.0, reserves=1e6)
    w.add_orgs(GRASSROOTS, n, street=0, community=0, members=50.0, reserves=1999.0)
    params = Params(registration_apply_rate=0.2)
    register(w, pol(w), params)
    reg = w.orgs.registered.reshape(3, n).sum(axis=1)
    lo, hi = interval(n, 0.2)
    assert lo <= reg[0] <= hi and reg[1] == 0 and reg[2] == 0
    assert w.orgs.new_rule.sum() == reg[0] == w.month_stats["registrations_new_rule"]
    # Groups incubated or hosted in a service centre apply three times as often.
    w = blank_world((0,), policy=rule)
    w.add_orgs(GRASSROOTS, n, street=0, community=0, members=10.0, reserves=2000.0, hosted=True)
    register(w, pol(w), Params(registration_apply_rate=0.1))
    lo, hi = interval(n, 0.3)
    assert lo <= w.orgs.registered.sum() <= hi
    # Agencies register after the delay, without a threshold.
    w = blank_world((0,), t=10)
    w.add_orgs(AGENCY, 2, street=0, born_step=[10 - P.agency_registration_delay, 9])
    register(w, pol(w), P)
    assert w.orgs.registered.tolist() == [True, False]


def test_only_living_unregistered_organizations_register_and_a_registration_keeps_its_month():
    # Everyone meets the threshold and applies (rate 1): the living unregistered groups and the
    # agencies past the delay register now; those registered before keep the month they did;
    # organizations that exited never register.
    n = 50
    rule = {"registration_members": 10, "registration_capital": 0.0,
            "registration_prior_approval": False}  # fmt: skip
    w = blank_world((0,), t=40, policy=rule)
    group = {"street": 0, "community": 0, "members": 50.0, "reserves": 1e6}
    agency = {"street": 0, "born_step": -100}
    w.add_orgs(GRASSROOTS, n, **group)
    w.add_orgs(GRASSROOTS, n, registered=True, registered_step=5, **group)
    w.remove_orgs(w.add_orgs(GRASSROOTS, n, **group))
    w.add_orgs(AGENCY, n, **agency)
    w.add_orgs(AGENCY, n, registered=True, registered_step=7, **agency)
    w.remove_orgs(w.add_orgs(AGENCY, n, **agency))
    register(w, pol(w), Params(registration_apply_rate=1.0))
    o = w.orgs
    assert o.registered.reshape(6, n).all(axis=1).tolist() == [True, True, False] * 2
    assert not o.registered.reshape(6, n)[[2, 5]].any()
    steps = o.registered_step.reshape(6, n)
    assert (steps == np.array([[40], [5], [NEVER], [40], [7], [NEVER]])).all()
    assert w.month_stats["registrations"] == n


def test_incubation_takes_the_strongest_young_organizations_up_to_its_places():
    w = blank_world((0,), t=0, policy={"incubation_centres": 1})
    slots = P.incubation_slots
    w.add_orgs(AGENCY, slots + 5, street=0, capacity=np.linspace(0, 1, slots + 5))
    w.add_orgs(AGENCY, 1, street=0, capacity=1.0, born_step=-P.incubation_max_age)  # too old
    support(w, pol(w), P)
    inc = w.orgs.incubated_until > 0
    assert inc.sum() == slots and not inc[-1] and not inc[:3].any()
    assert w.year_books().incubation_grants == pytest.approx(slots * P.incubation_grant)
    support(w, pol(w), P)  # full: nobody else comes in
    assert (w.orgs.incubated_until > 0).sum() == slots


def test_service_centres_host_groups_up_to_their_places_registered_and_largest_first():
    w = blank_world((0, 1))
    w.streets.service_centres = [1, 0]
    n = P.centre_slots + 3
    w.add_orgs(GRASSROOTS, n, street=0, community=0, members=np.arange(n, dtype=float))
    w.add_orgs(GRASSROOTS, 1, street=0, community=0, members=1.0, registered=True)
    w.add_orgs(GRASSROOTS, 1, street=1, community=1, members=99.0)
    support(w, pol(w), P)
    hosted = w.orgs.hosted
    assert hosted.sum() == P.centre_slots and hosted[n] and not hosted[n + 1]
    assert not hosted[:4].any()  # the smallest unregistered groups wait


def test_hosting_ranks_by_street_registration_members_and_row_however_members_are_stored():
    # Whole memberships, the same plus a half, and beyond 16 bits rank the same way: by street,
    # registered first, most members first, then by row (the order of np.lexsort).
    rng = np.random.default_rng(3)
    n = 90
    street = rng.integers(0, 3, n)
    members = rng.integers(3, 9, n).astype(float)  # many ties
    registered = rng.random(n) < 0.3
    places = np.array([1, 2, 1]) * P.centre_slots
    order = np.lexsort((np.arange(n), -members, ~registered, street))
    rank = np.empty(n, int)
    rank[order] = np.arange(n) - np.searchsorted(street[order], street[order])
    want = rank < places[street]
    assert 0 < want.sum() < n
    for m in (members, members + 0.5, members + 70_000.0):
        w = blank_world((0, 1, 2))
        w.streets.service_centres = [1, 2, 1]
        w.add_orgs(GRASSROOTS, n, street=street, community=street, members=m, registered=registered)
        support(w, pol(w), P)
        assert (w.orgs.hosted == want).all()
    # A registered group without members comes before full unregistered ones.
    w = blank_world((0,))
    w.streets.service_centres = [1]
    w.add_orgs(GRASSROOTS, P.centre_slots, street=0, community=0, members=8.0)
    w.add_orgs(GRASSROOTS, 1, street=0, community=0, members=0.0, registered=True)
    support(w, pol(w), P)
    assert w.orgs.hosted[-1] and w.orgs.hosted.sum() == P.centre_slots


def test_reputation_follows_quality_and_the_satisfaction_of_the_residents_served():
    # Agency 0 delivered 30 lot hours in community 0 and 10 project hours in community 1; its
    # record mixes its quality with the residents' satisfaction, weighted by hours.
    p = Params(reputation_satisfaction_weight=0.4, reputation_smoothing=0.5)
    w = blank_world((0, 0), item_categories=1)
    w.add_orgs(AGENCY, 2, street=0, registered=True, capacity=0.5, reputation=0.5,
               quality=0.9, delivered_hours=[40.0, 0.0], project_community=[1, -1])  # fmt: skip
    w.communities.satisfaction = [0.2, 0.8]
    w.lots.holder[0] = 0
    w.lots.delivered[0] = 30.0
    learn(w, pol(w), p)
    judged = (30 * 0.2 + 10 * 0.8) / 40
    record = 0.6 * 0.9 + 0.4 * judged
    assert w.orgs.reputation.tolist() == pytest.approx([0.5 + 0.5 * (record - 0.5), 0.5])
    # Without the satisfaction feedback (structural variant), only quality counts.
    w.orgs.reputation = 0.5
    learn(w, pol(w), p.model_copy(update={"satisfaction_feedback": "off"}))
    assert w.orgs.reputation[0] == pytest.approx(0.5 + 0.5 * (0.9 - 0.5))


def test_incubation_grants_add_to_reserves():
    w = blank_world((0,), t=0, policy={"incubation_centres": 1})
    w.add_orgs(AGENCY, 1, street=0, capacity=0.5, reserves=1234.0)
    support(w, pol(w), P)
    assert w.orgs.reserves[0] == pytest.approx(1234.0 + P.incubation_grant)


def test_prior_approval_and_the_decision_to_apply_are_separate_chances():
    # Unapproved groups that meet the threshold: in one month a group registers only if it is
    # approved and then applies, with probability approval x application.
    n = 4000
    p = Params(prior_approval_rate=0.5, registration_apply_rate=0.4)
    w = blank_world((0,), policy={"registration_prior_approval": True})
    w.add_orgs(GRASSROOTS, n, street=0, community=0, members=1000.0, reserves=1e9)
    register(w, pol(w), p)
    lo, hi = interval(n, 0.5)
    assert lo <= w.orgs.approved.sum() <= hi
    lo, hi = interval(n, 0.5 * 0.4)
    assert lo <= w.orgs.registered.sum() <= hi


def test_agencies_founded_follow_the_poisson_count_when_it_is_small():
    # A gap whose expected count of new agencies is 1/2 a month: over 400 fresh months the total
    # is Poisson(200), months with one new agency included.
    budget = 0.5e7 / P.agency_entry_rate
    w = blank_world((0,), policy={"purchase_budget": budget, "project_budget": 0.0})
    founded, ones = 0, 0
    for _ in range(400):
        w.orgs.alive[:] = False  # the agencies of earlier months absorb nothing
        before = len(w.orgs)
        found_agencies(w, pol(w), P)
        new = len(w.orgs) - before
        founded += new
        ones += new == 1
    lo, hi = stats.poisson.ppf([5e-7, 1 - 5e-7], 200)
    assert lo <= founded <= hi and ones > 0
    assert w.month_stats["agencies_founded"] == founded


def test_new_agencies_settle_in_streets_in_proportion_to_their_population():
    # Streets of 1, 2 and 3 communities of equal residents: 1/6, 2/6 and 3/6 of the new agencies,
    # within binomial intervals, over many districts.
    big = {"purchase_budget": 4e8, "project_budget": 0.0}
    streets = []
    for seed in range(20):
        w = blank_world((0, 1, 1, 2, 2, 2), policy=big, seed=seed)
        assert (w.streets.population == np.array([1, 2, 3]) * w.communities.residents[0]).all()
        found_agencies(w, pol(w), P)
        streets.extend(w.orgs.street.tolist())
    n = len(streets)
    assert n > 300
    counts = np.bincount(streets, minlength=3)
    for s, share in enumerate((1 / 6, 2 / 6, 3 / 6)):
        lo, hi = interval(n, share)
        assert lo <= counts[s] <= hi, (s, counts)


def test_registrations_count_under_the_new_rule_when_any_part_of_the_1998_rule_is_eased():
    # Groups that meet the 1998 thresholds (50 members, 30,000 yuan) and hold prior approval.
    # Under the full 1998 rule their registrations are not new-rule ones; dropping only the
    # prior approval makes every registration a new-rule one.
    def registered(prior_approval):
        rule = {"registration_members": 50, "registration_capital": 30_000.0,
                "registration_prior_approval": prior_approval}  # fmt: skip
        w = blank_world((0,), policy=rule)
        w.add_orgs(GRASSROOTS, 200, street=0, community=0, members=60.0, reserves=40_000.0,
                   approved=True)  # fmt: skip
        register(w, pol(w), Params(registration_apply_rate=0.5))
        return w

    w = registered(True)
    assert w.orgs.registered.sum() > 0
    assert w.orgs.new_rule.sum() == w.month_stats["registrations_new_rule"] == 0
    w = registered(False)
    assert w.orgs.registered.sum() > 0
    assert w.orgs.new_rule.sum() == w.month_stats["registrations_new_rule"]
    assert w.orgs.new_rule.sum() == w.orgs.registered.sum()


def test_new_groups_have_three_founders_plus_a_poisson_count_of_members():
    # With members_initial_mean 3 every new group is its three founders; with 5, the members
    # beyond them are Poisson with mean 2 a group (their total within its interval). Each draws
    # its capacity.
    for mean, extra in ((3.0, 0.0), (5.0, 2.0)):
        w = blank_world((0,), residents=1e7, participation=0.5)
        for _ in range(3):
            form_groups(w, pol(w), Params(members_initial_mean=mean))
        k = len(w.orgs)
        assert k > 500 and w.month_stats["formed"] == k
        assert (w.orgs.members >= 3).all()
        lo, hi = stats.poisson.ppf([5e-7, 1 - 5e-7], extra * k)
        assert lo <= (w.orgs.members - 3).sum() <= hi
        # each draws its capacity from Beta(2, 5) (Kolmogorov-Smirnov)
        assert stats.kstest(w.orgs.capacity, stats.beta(2, 5).cdf).pvalue > 1e-6


def test_new_agencies_draw_their_capacities_and_reserves_independently_and_uniformly():
    # Capacity uniform between its bounds and reserves the initial reserves times a uniform in
    # [0.5, 1.5], each agency its own draw: Kolmogorov-Smirnov against those distributions.
    w = blank_world((0,), policy={"purchase_budget": 4e8, "project_budget": 0.0})
    found_agencies(w, pol(w), Params(agency_entry_rate=10.0))  # about 400 new agencies
    o = w.orgs
    assert len(o) > 300
    lo, width = P.new_agency_capacity_min, P.new_agency_capacity_max - P.new_agency_capacity_min
    assert stats.kstest(o.capacity, stats.uniform(lo, width).cdf).pvalue > 1e-6
    share = o.reserves / P.agency_initial_reserves
    assert stats.kstest(share, stats.uniform(0.5, 1.0).cdf).pvalue > 1e-6
    assert (o.reputation == P.new_org_reputation).all()


def test_incubation_ranks_candidates_by_score_plus_uniform_noise():
    # One place, two young agencies whose scores differ by 0.1, half the noise (0.2): the weaker
    # gets the place when its noise beats the other's by more than 0.1, with chance
    # (0.2 - 0.1)^2 / (2 x 0.2^2) = 1/8. A lead of 0.25, beyond the noise, is never overturned.
    p = Params(incubation_slots=1, incubation_score_noise=0.2)
    for capacity, chance in (([0.5, 0.6], 1 / 8), ([0.5, 0.75], 0.0)):
        w = blank_world((0,), t=0, policy={"incubation_centres": 1})
        w.add_orgs(AGENCY, 2, street=0, capacity=capacity)
        n, weaker = 1000, 0
        for _ in range(n):
            w.orgs.incubated_until[:] = NEVER
            support(w, pol(w), p)
            assert (w.orgs.incubated_until != NEVER).sum() == 1
            weaker += w.orgs.incubated_until[0] != NEVER
        lo, hi = interval(n, chance)
        assert lo <= weaker <= hi, (capacity, weaker / n)


def test_a_month_counts_as_negative_only_when_reserves_end_below_zero():
    # Three unregistered agencies without workers or income but their outside income, paying
    # their overhead (whole yuan: exact sums): reserves end at exactly 0, at half a yuan and at
    # minus half a yuan. Only the last counts another month in the red; the others start over.
    w = blank_world((0,))
    net = P.agency_outside_income - P.agency_overhead
    w.add_orgs(AGENCY, 3, street=0, reserves=[0.0 - net, 0.5 - net, -0.5 - net], neg_months=2)
    settle_finances(w, pol(w), P)
    assert w.orgs.reserves.tolist() == [0.0, 0.5, -0.5]
    assert w.orgs.neg_months.tolist() == [0, 0, 3]


def test_hosting_ranks_right_at_the_largest_members_its_16_bit_key_holds():
    # Eight streets of one centre place each and a group of 4095 members (12 bits): the 16-bit
    # sort key (street, unregistered, fewer members than the most) is full, and the order is still
    # by street, registered first, most members first, then by row (np.lexsort's).
    # (registered groups in streets 2 and 7: a key one bit wider would wrap street 7's past 2's)
    street = np.array([s for s in range(8) for _ in range(2)] + [7, 7, 2])
    members = np.array([5.0, 9.0] * 8 + [4095.0, 3.0, 100.0])
    registered = np.zeros(len(street), bool)
    registered[-2:] = True
    order = np.lexsort((np.arange(len(street)), -members, ~registered, street))
    rank = np.empty(len(street), int)
    rank[order] = np.arange(len(street)) - np.searchsorted(street[order], street[order])
    w = blank_world(tuple(range(8)))
    w.streets.service_centres = [1] * 8
    w.add_orgs(GRASSROOTS, len(street), street=street, community=street, members=members,
               registered=registered)  # fmt: skip
    support(w, pol(w), Params(centre_slots=1))
    assert (w.orgs.hosted == (rank < 1)).all()
    hosted = [False, True] * 8 + [False, True, True]
    hosted[5] = hosted[15] = False  # streets 2 and 7: their registered groups come first
    assert w.orgs.hosted.tolist() == hosted


def test_capacity_is_capped_at_one_however_fast_it_grows():
    # Learning from work and incubation at their largest rates, 1 each: an active incubated agency
    # at capacity 0.5 would reach 0.5 + 2 x 0.5 = 1.5; it is capped at 1.
    p = Params(capacity_learning=1.0, incubation_learning=1.0)
    w = blank_world((0,), t=0)
    w.add_orgs(AGENCY, 1, street=0, capacity=0.5, delivered_hours=10.0, incubated_until=5)
    learn(w, pol(w), p)
    assert w.orgs.capacity.tolist() == [1.0]


def test_hosting_ranks_by_street_first_up_to_the_most_streets_its_small_key_holds():
    # Members that are not whole numbers take the two-sort path, whose street key is 16 bits
    # below 2**14 streets: a district of 10,924 streets (centres in the first and the last), the
    # last street's groups still rank among themselves, registered first, then by members.
    w = blank_world((0, 10923))
    centres = np.zeros(len(w.streets.population), int)
    centres[[0, 10923]] = 1
    w.streets.service_centres = centres
    w.add_orgs(GRASSROOTS, 4, street=[0, 0, 10923, 10923], community=[0, 0, 1, 1],
               members=[5.5, 9.5, 5.5, 9.5], registered=[False, False, True, False])  # fmt: skip
    support(w, pol(w), Params(centre_slots=1))
    assert w.orgs.hosted.tolist() == [False, True, True, False]
