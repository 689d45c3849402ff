"""Departments decide, the lists are state, communities decide whether to refuse (model v2)."""

import numpy as np
import pytest
from scipy import stats

from sim import DistrictModel, load_scenario
from sim.needs import N_NEEDS
from sim.params import Params
from sim.processes.departments import (
    DIRECT,
    FUND,
    ROUTINE,
    SERVICE,
    STREET,
    WITHDRAW,
    campaign_multiplier,
    choice,
    departments_month,
    issuer_mix,
    refusal_odds,
)
from sim.tables import Table
from sim.world import NEVER, TYPE_SCHEMA, blank_world

from ..conftest import SCENARIOS, finished_run


def fresh(**overrides) -> DistrictModel:
    """A model after burn-in under the baseline, with levers and parameters overridden."""
    return DistrictModel(load_scenario(SCENARIOS / "baseline_2013.toml"), rng=5, **overrides)


def test_lists_are_cut_when_entry_control_starts_then_creep_back(reform):
    d = reform.results()["district"]
    before = d[d["month"] < "2013-10"]
    assert (before["n_listed_types"] == 537).all() and (before["n_purchasable_types"] == 0).all()
    cut = d[d["month"] == "2013-10"].iloc[0]
    assert cut["n_listed_types"] == 68 and cut["n_purchasable_types"] == 44  # B5
    listed = d.loc[d["month"] >= "2013-10", "n_listed_types"].to_numpy()
    assert (np.diff(listed) >= 0).all() and listed[-1] > 68  # creep, at reviews only
    reviews = d.loc[d["list_petitions"] > 0, "month"].tolist()
    assert reviews == ["2014-10", "2015-10", "2016-10"]


def test_no_review_means_no_creep_and_strict_review_admits_only_funded_types():
    never = finished_run("wuhou_reform", 1, ("policy.list_review_months=0",))
    d = never.results()["district"]
    assert (d.loc[d["month"] >= "2013-10", "n_listed_types"] == 68).all()
    strict = finished_run("wuhou_reform", 1, ("policy.list_review_strictness=1",))
    t = strict.world.item_types
    crept = t.crept_step > -(2**31)
    assert crept.any() and t.purchasable[crept].all()
    assert strict.results()["community"]["items_crept"].sum() == 0


def test_choice_is_the_same_per_issuer_whatever_the_order_of_the_issuers_rows():
    # choice closes the street action to streets by a slice when their rows are one block (every
    # built world) and by their row indices otherwise: issuers' rows reordered so the streets are
    # not one block give each issuer the same chances and the same expected cost.
    m = fresh(entry_control=True)
    iss = m.world.issuers
    pi, after = choice(m.world, m.policy, m.params)
    expected = iss.expected_cost.copy()
    streets = np.flatnonzero(iss.kind == 1)
    assert len(streets) > 2 and (np.diff(streets) == 1).all()  # one block here
    perm = np.arange(len(iss))
    perm[[0, streets[1]]] = perm[[streets[1], 0]]  # a street first, a department among streets
    for col in iss.columns:
        getattr(iss, col)[...] = getattr(iss, col)[perm].copy()
    assert not (np.diff(np.flatnonzero(iss.kind == 1)) == 1).all()
    pi2, after2 = choice(m.world, m.policy, m.params)
    assert pi2.tobytes() == pi[perm].tobytes() and after2.tobytes() == after[perm].tobytes()
    assert iss.expected_cost.tobytes() == expected[perm].tobytes()
    assert (pi2[iss.kind == 1, :, STREET] == 0).all() and (pi2[iss.kind != 1, :, STREET] > 0).all()


def test_issuers_choose_by_cost():
    m = fresh(entry_control=True)
    pi, _ = choice(m.world, m.policy, m.params)
    assert np.allclose(pi.sum(axis=2), 1)
    streets = m.issuers.kind == 1
    assert (pi[streets, :, STREET] == 0).all()  # a street cannot relay through itself
    dear = fresh(entry_control=True, funding_cost=10.0)
    pi_dear, _ = choice(dear.world, dear.policy, dear.params)
    assert pi_dear[:, ROUTINE, FUND].mean() < pi[:, ROUTINE, FUND].mean()
    # Issuers give up low-value service items more readily than routine tasks.
    assert (pi[:, SERVICE, WITHDRAW] > pi[:, ROUTINE, WITHDRAW]).all()
    # A strict review that audits relays makes relaying rarer.
    audited = fresh(entry_control=True, list_review_strictness=1.0)
    lax = fresh(entry_control=True, list_review_strictness=0.0)
    assert (
        choice(audited.world, audited.policy, audited.params)[0][~streets, :, STREET].mean()
        < choice(lax.world, lax.policy, lax.params)[0][~streets, :, STREET].mean()
    )
    # Issuers that expect refusals push less.
    m.issuers.belief_direct = np.ones(len(m.issuers))
    assert (
        choice(m.world, m.policy, m.params)[0][:, ROUTINE, DIRECT].mean()
        < pi[:, ROUTINE, DIRECT].mean()
    )


def test_community_refusal_reads_pressure_appraisal_veto_and_stance():
    m = fresh(entry_control=True)
    d0, s0 = refusal_odds(m.world, m.policy, m.params)
    assert (s0 < d0).all()  # the street's appraisal covers its own items more
    c = m.communities
    c.admin_demand = c.admin_demand + c.hours_regular  # one month's hours more of work
    d1, _ = refusal_odds(m.world, m.policy, m.params)
    assert (d1 > d0).all()
    c.refusal_stance = c.refusal_stance - 2.0
    assert (refusal_odds(m.world, m.policy, m.params)[0] < d1).all()
    veto = fresh(entry_control=True, one_vote_veto=True)
    assert (refusal_odds(veto.world, veto.policy, veto.params)[1] < s0).all()
    heavy = fresh(entry_control=True, appraisal_weight=1.0)
    assert (refusal_odds(heavy.world, heavy.policy, heavy.params)[1] < s0).all()
    none = fresh(entry_control=True, entry_enforcement=0.0)
    assert (np.r_[refusal_odds(none.world, none.policy, none.params)] == 0).all()


def test_reprisals_make_communities_refuse_less():
    kw = ("policy.entry_control=true", "policy.entry_enforcement=0.3")
    tolerant = finished_run("baseline_2013", 2, (*kw, "params.retaliation_mean=0.0"))
    punitive = finished_run("baseline_2013", 2, (*kw, "params.retaliation_mean=0.9"))
    assert punitive.communities.refusal_stance.mean() < tolerant.communities.refusal_stance.mean()
    ct, cp = tolerant.results()["community"], punitive.results()["community"]
    assert cp["items_retaliated"].sum() > 0 == ct["items_retaliated"].sum()
    assert cp["items_refused"].sum() < ct["items_refused"].sum()


def test_campaigns_raise_unlisted_flow_while_they_run():
    m = finished_run("baseline_2013", 3, ("params.campaigns_per_year=0",))
    d = m.results()["district"]
    assert (d["campaigns_active"] == 0).all()
    busy = finished_run("baseline_2013", 3, ("params.campaign_share=0.9",))
    a = busy.results()["district"]["items_unlisted_accepted"]
    b = d["items_unlisted_accepted"]
    assert a.std() > b.std()  # same mean flow, burstier
    assert a.mean() == pytest.approx(b.mean(), rel=0.1)


def test_unmet_service_hours_are_part_of_undone_hours(reform):
    c = reform.results()["community"]
    unmet = c[[col for col in c.columns if col.startswith("unmet_item_hours_")]]
    assert (unmet >= 0).all().all()
    assert (unmet.sum(axis=1) <= c["undone_item_hours"] + 1e-6).all()
    assert (reform.world.need_backlog.sum(axis=1) <= reform.communities.backlog + 1e-6).all()


def test_funded_items_without_a_lot_go_to_the_streets_agency_and_are_paid():
    m = finished_run("wuhou_reform", 1, ("policy.purchase_budget=0",))
    c = m.results()["community"]
    assert c["funded_org_hours"].sum() > 0 and c["org_item_hours"].sum() == 0
    books = m.budget_books()
    assert books["funded_item_spent"].sum() > 0 and books["purchase_spent"].sum() == 0


# -- departments' functions on small hand-built worlds -------------------------------------------


def typed_world(policy=None, **kw):
    """Two departments and one street; item types: one kept on the lists at the cut (owner -1),
    and unlisted types of department 0 (service to children, routine, service to low income,
    routine) and department 1 (service to the elderly)."""
    w = blank_world((0,), n_departments=2, policy=policy, **kw)
    w.item_types = Table(TYPE_SCHEMA, capacity=8)
    w.item_types.append(
        6,
        owner=[-1, 0, 0, 0, 0, 1],
        volume=[1.0, 0.2, 0.3, 0.1, 0.15, 0.5],
        need=[-1, 1, -1, 3, -1, 0],
        crept_step=NEVER,
    )
    return w


def test_issuer_mix_splits_each_issuers_unlisted_flow_by_the_state_of_its_types():
    w = typed_world()
    before = issuer_mix(w)  # before the cut every owned type is unlisted
    assert before["service"].tolist() == pytest.approx([0.3, 0.5, 0.0])
    assert before["admin"].tolist() == pytest.approx([0.7, 0.5, 1.0])
    assert before["crept"].sum() == before["crept_funded"].sum() == 0
    w.lists_cut_step = 0
    t = w.item_types
    t.listed = [True, False, False, True, True, False]  # types 3 and 4 listed at a review
    t.purchasable = [False, False, False, True, False, False]
    mix = issuer_mix(w)
    assert mix["service"].tolist() == pytest.approx([0.2, 0.5, 0.0])
    assert mix["crept"].tolist() == pytest.approx([0.15, 0.0, 0.0])
    assert mix["crept_funded"].tolist() == pytest.approx([0.1, 0.0, 0.0])
    assert mix["admin"].tolist() == pytest.approx([1 - 0.2 - 0.15 - 0.1, 0.5, 1.0])
    need = np.zeros((3, N_NEEDS))
    need[0, 1], need[1, 0] = 0.2, 0.5
    np.testing.assert_allclose(mix["need"], need)


def test_service_types_listed_at_a_review_keep_their_need_type_in_the_mix():
    # After the cut, department 1's service type (elderly, need type 0) and department 0's type 1
    # (children, need type 1) are listed at a review without funding, and type 3 (low income,
    # need type 3) with funding: each crept type counts under its own need type, whichever it is.
    w = typed_world()
    w.lists_cut_step = 0
    t = w.item_types
    t.listed = [True, True, False, True, False, True]
    t.purchasable = [False, False, False, True, False, False]
    mix = issuer_mix(w)
    crept = np.zeros((3, N_NEEDS))
    crept[0, 1], crept[1, 0] = 0.2, 0.5
    np.testing.assert_allclose(mix["crept_need"], crept)
    funded = np.zeros((3, N_NEEDS))
    funded[0, 3] = 0.1
    np.testing.assert_allclose(mix["crept_funded_need"], funded)
    assert mix["crept"].tolist() == pytest.approx([0.2, 0.5, 0.0])


def test_campaign_items_come_while_a_campaign_runs_and_keep_the_mean():
    params = Params(campaigns_per_year=3.0, campaign_months=2)
    w = typed_world()
    w.issuers.campaign_until = [5, 0, 1]
    w.t = 1
    a, d = 3 / 12, 2
    share = a * d / (a * d + 1 - a)  # months in a campaign, in the long run
    assert campaign_multiplier(w, params).tolist() == pytest.approx([1 / share, 0, 0])
    # Without campaigns, campaign items come with the steady flow.
    assert (campaign_multiplier(w, Params(campaigns_per_year=0.0)) == 1).all()
    # Every idle issuer starts a campaign when campaigns come monthly; running ones go on.
    monthly = Params(campaigns_per_year=12.0, campaign_months=4)
    departments_month(w, w.schedule.at(w.t), monthly)
    assert w.issuers.campaign_until.tolist() == [5, 5, 5]


def test_the_lists_are_cut_to_the_kept_types_and_reviews_admit_funded_petitions():
    params = Params(campaigns_per_year=0.0, purchasable_types_after_cut=1)
    policy = {"entry_control": True, "list_review_months": 3, "list_review_strictness": 1.0}
    w = typed_world(policy=policy)
    departments_month(w, w.schedule.at(w.t), params)
    t = w.item_types
    assert w.lists_cut_step == 0
    assert t.listed.tolist() == [True] + [False] * 5
    assert t.purchasable.tolist() == [True] + [False] * 5
    # A review every three months. Department 0 expects unlisted items to cost it a lot and
    # would fund them: its petitions come with funding and are admitted as purchasable types;
    # department 1 would not fund: it relabels, and a strict review admits none of those.
    w.issuers.expected_cost = [100.0, 100.0, 0.0]
    w.issuers.fund_share = [1.0, 0.0, 0.0]
    for month in (1, 2):
        w.t = month
        departments_month(w, w.schedule.at(w.t), params)
        assert w.list_stats == {"petitions": 0, "admitted": 0, "admitted_funded": 0}
    w.t = 3
    departments_month(w, w.schedule.at(w.t), params)
    assert t.listed.tolist() == [True, True, True, True, True, False]
    assert t.purchasable.tolist() == [True, True, True, True, True, False]
    assert t.crept_step.tolist() == [NEVER, 3, 3, 3, 3, NEVER]
    assert w.list_stats == {"petitions": 5, "admitted": 4, "admitted_funded": 4}
    # A lax review admits relabelled petitions, without funding.
    lax = typed_world(policy=policy | {"list_review_strictness": 0.0})
    departments_month(lax, lax.schedule.at(0), params)
    lax.issuers.expected_cost = [100.0, 100.0, 0.0]
    lax.issuers.fund_share = 0.0
    lax.t = 3
    departments_month(lax, lax.schedule.at(3), params)
    assert lax.item_types.listed.all() and not lax.item_types.purchasable[1:].any()
    assert lax.list_stats == {"petitions": 5, "admitted": 5, "admitted_funded": 0}


def test_refusal_odds_are_a_logistic_of_propensity_pressure_stance_appraisal_and_veto():
    p = Params(refusal_propensity=0.4)
    policy = {"entry_control": True, "entry_enforcement": 0.8, "appraisal_weight": 0.5}
    w = blank_world((0, 0, 0), policy=policy | {"one_vote_veto": True})
    c = w.communities
    c.hours_regular = [100.0, 100.0, 0.0]  # the third has no hours: pressure counts as 1
    c.hours_statutory = [20.0, 20.0, 0.0]
    c.admin_demand = [80.0, 130.0, 50.0]
    c.refusal_stance = [0.0, -0.5, 0.3]
    direct, street = refusal_odds(w, w.schedule.at(0), p)
    pressure = np.array([1.0, 1.5, 1.0])
    base = np.log(0.4 / 0.6) + p.refusal_pressure_weight * (pressure - 1) + c.refusal_stance
    shift = p.appraisal_refusal_weight * 0.5
    logistic = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    want_d = 0.8 * logistic(base - shift * p.department_appraisal_share)
    want_s = 0.8 * logistic(base - shift - p.veto_weight)
    assert direct.tolist() == pytest.approx(want_d.tolist())
    assert street.tolist() == pytest.approx(want_s.tolist())
    # The fixed-propensity variant reads neither pressure nor appraisal, only the stance.
    fixed = Params(refusal_propensity=0.4, refusal_rule="fixed_propensity")
    d, s = refusal_odds(w, w.schedule.at(0), fixed)
    want = 0.8 * logistic(np.log(0.4 / 0.6) + c.refusal_stance)
    assert d.tolist() == pytest.approx(want.tolist()) and s.tolist() == pytest.approx(want.tolist())


def test_choice_is_a_logit_over_the_costs_of_funding_withdrawing_pushing_and_relaying():
    p = Params(choice_temperature=0.7, push_sanction=2.0)
    policy = {"entry_control": True, "entry_enforcement": 0.6, "list_review_strictness": 0.5}
    w = blank_world((0,), n_departments=1, policy=policy | {"list_review_months": 12})
    iss = w.issuers  # a department and a street
    iss.funding = [0.2, 0.6]
    iss.compliance = [0.5, 0.1]
    iss.belief_direct = [0.3, 0.1]
    iss.belief_street = [0.2, 0.4]
    pi, after = choice(w, w.schedule.at(0), p)
    prio = np.array([p.service_item_priority, 1.0, p.campaign_priority])
    audit = 0.6 * 0.5 * p.relay_audit_cost
    for i in range(2):
        fund = p.funding_cost * (1 - iss.funding[i])
        refused = np.minimum(fund, prio)  # a refused item is then funded or given up
        assert after[i].tolist() == pytest.approx(refused.tolist())
        for k in range(3):
            costs = [
                fund,
                prio[k],
                iss.belief_direct[i] * refused[k] + 0.6 * p.push_sanction * iss.compliance[i],
                iss.belief_street[i] * refused[k] + p.street_relay_cost + audit,
            ]
            if i == 1:  # a street cannot hand its own items down to itself
                costs[STREET] = np.inf
            z = np.exp(-(np.array(costs) - min(costs)) / 0.7)
            assert pi[i, k].tolist() == pytest.approx((z / z.sum()).tolist()), (i, k)
            if k == ROUTINE:
                finite = np.where(np.isinf(costs), 0, costs)
                assert iss.expected_cost[i] == pytest.approx((z / z.sum()) @ finite)
                assert iss.fund_share[i] == pytest.approx(z[FUND] / z.sum())
    # Without reviews, relays are not audited.
    w2 = blank_world((0,), n_departments=1, policy=policy | {"list_review_months": 0})
    w2.issuers.funding, w2.issuers.compliance = iss.funding, iss.compliance
    w2.issuers.belief_direct, w2.issuers.belief_street = iss.belief_direct, iss.belief_street
    pi2, _ = choice(w2, w2.schedule.at(0), p)
    assert pi2[0, ROUTINE, STREET] > pi[0, ROUTINE, STREET]


def test_each_idle_issuer_starts_a_campaign_with_its_own_monthly_chance():
    params = Params(campaigns_per_year=6.0, campaign_months=3)  # a chance of 1/2 a month
    w = blank_world((0,), n_departments=2000)
    w.issuers.campaign_until[:1000] = 7  # running: they do not start another
    w.t = 2
    departments_month(w, w.schedule.at(w.t), params)
    until = w.issuers.campaign_until
    assert (until[:1000] == 7).all()
    started = int((until[1000:] == 2 + 3).sum())
    lo, hi = stats.binom.ppf([5e-7, 1 - 5e-7], len(until) - 1000, 0.5)
    assert lo <= started <= hi and ((until[1000:] == 5) | (until[1000:] == 0)).all()


def test_a_review_funds_petitions_then_relabels_others_on_separate_draws():
    # 4000 unlisted types of department 0, which expects unlisted items to cost it 10 and would
    # fund half of them: a type is petitioned with funding with chance min(1, 0.1 x 10 x 0.5) =
    # 1/2, else relabelled with chance min(1, 0.1 x 10 x (1 - 0.5)) = 1/2, so petitions are 3/4
    # of the types. Funded petitions are all admitted, relabelled ones at chance 1 - strictness
    # = 1/2: admitted 1/2 + 1/4 x 1/2 = 5/8, with funding 1/2 (binomial intervals).
    n = 4000
    params = Params(campaigns_per_year=0.0, purchasable_types_after_cut=1,
                    petition_propensity=0.1, relabel_propensity=0.1)  # fmt: skip
    policy = {"entry_control": True, "list_review_months": 3, "list_review_strictness": 0.5}
    w = blank_world((0,), n_departments=2, policy=policy)
    w.item_types = Table(TYPE_SCHEMA, capacity=n + 1)
    w.item_types.append(n + 1, owner=[-1] + [0] * n, volume=1.0 / n, need=-1, crept_step=NEVER)
    departments_month(w, w.schedule.at(w.t), params)  # the cut: type 0 kept
    w.issuers.expected_cost = 10.0
    w.issuers.fund_share = 0.5
    w.t = 3
    departments_month(w, w.schedule.at(w.t), params)
    stats_ = w.list_stats
    for key, share in (("petitions", 3 / 4), ("admitted", 5 / 8), ("admitted_funded", 1 / 2)):
        lo, hi = stats.binom.ppf([5e-7, 1 - 5e-7], n, share)
        assert lo <= stats_[key] <= hi, (key, stats_[key] / n)
    t = w.item_types
    crept = t.crept_step == 3
    assert crept.sum() == stats_["admitted"] == t.listed.sum() - 1
    assert t.purchasable[crept].sum() == stats_["admitted_funded"]


def test_no_list_review_comes_in_the_month_of_the_cut():
    # Reviews come every list_review_months after the cut, never in its month: called again in
    # that month (issuers eager to petition and fund), the process reviews nothing and keeps
    # the lists as cut.
    params = Params(campaigns_per_year=0.0, purchasable_types_after_cut=1)
    policy = {"entry_control": True, "list_review_months": 3, "list_review_strictness": 0.0}
    w = typed_world(policy=policy)
    departments_month(w, w.schedule.at(w.t), params)
    w.issuers.expected_cost = [100.0, 100.0, 0.0]
    w.issuers.fund_share = [1.0, 0.0, 0.0]
    departments_month(w, w.schedule.at(w.t), params)
    assert w.list_stats == {"petitions": 0, "admitted": 0, "admitted_funded": 0}
    assert w.item_types.listed.tolist() == [True] + [False] * 5
    assert (w.item_types.crept_step == NEVER).all()
