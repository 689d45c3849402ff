"""Departments decide, the lists are state, communities decide whether to refuse (model v2)."""

import numpy as np
import pytest

from sim import DistrictModel, load_scenario
from sim.processes.departments import (
    DIRECT,
    FUND,
    ROUTINE,
    SERVICE,
    STREET,
    WITHDRAW,
    choice,
    refusal_odds,
)

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
