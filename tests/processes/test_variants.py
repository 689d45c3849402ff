"""Structural variants (issue 11): each alternative submodel does what docs/ODD.md says it does.

These are mechanism tests: each checks that the variant removes (or replaces) the causal path it
names, on a small hand-built world, and that the default rule still has that path. The defaults'
trajectories are pinned by tests/test_golden.py, which must pass unchanged.
"""

import numpy as np
import pytest

from sim import DistrictModel, load_scenario
from sim.needs import N_NEEDS
from sim.params import Params
from sim.processes.departments import refusal_odds
from sim.processes.organizations import learn
from sim.processes.procurement import award_lots, expected_lot_hours, plan_lots
from sim.processes.residents import serve_residents
from sim.world import AGENCY, blank_world

from ..conftest import SCENARIOS
from .test_procurement import add_agency, market, policy_of


def test_defaults_are_model_v2s_own_rules():
    p = Params()
    assert (p.refusal_rule, p.tender_scoring, p.satisfaction_feedback) == (
        "pressure_appraisal",
        "best_value",
        "on",
    )


# -- refusal rule ---------------------------------------------------------------------------------


def refusal_model(**overrides) -> DistrictModel:
    scenario = load_scenario(SCENARIOS / "baseline_2013.toml")
    return DistrictModel(scenario, rng=5, entry_control=True, **overrides)


def odds_under(m: DistrictModel, extra_demand: float = 0.0, **policy) -> np.ndarray:
    c = m.communities
    saved = c.admin_demand.copy()
    c.admin_demand = saved + extra_demand * c.hours_regular
    pol = m.policy.model_copy(update=policy)
    out = np.r_[refusal_odds(m.world, pol, m.params)]
    c.admin_demand = saved
    return out


def test_fixed_propensity_refusal_ignores_pressure_appraisal_and_veto_but_keeps_stance():
    fixed = refusal_model(refusal_rule="fixed_propensity")
    base = odds_under(fixed)
    c, p = fixed.communities, fixed.params
    rp = p.refusal_propensity
    expect = fixed.policy.entry_enforcement / (
        1 + np.exp(-(np.log(rp / (1 - rp)) + c.refusal_stance))
    )
    assert base == pytest.approx(np.r_[expect, expect])  # both routes, the same disposition
    assert (odds_under(fixed, extra_demand=1.0) == base).all()  # work pressure: no effect
    assert (odds_under(fixed, appraisal_weight=1.0, one_vote_veto=True) == base).all()
    assert (odds_under(fixed, entry_enforcement=0.0) == 0).all()
    c.refusal_stance = c.refusal_stance - 2.0  # a community's own stance still counts
    assert (odds_under(fixed) < base).all()
    # The default rule has both paths the variant removes.
    default = refusal_model()
    d0 = odds_under(default)
    assert (odds_under(default, extra_demand=1.0) > d0).all()
    n = len(default.communities)
    assert (odds_under(default, appraisal_weight=1.0)[n:] < d0[n:]).all()


# -- tender scoring -------------------------------------------------------------------------------


def two_bidders(params: Params):
    """Room for every lot with both bidders; the stronger one is also dearer (higher capacity
    pays higher wages), and scoring noise is off."""
    w = market(staff=(10.0,) * 30, rate=4.0)
    strong = add_agency(w, n_workers=20, capacity=0.7, reputation=0.9)
    weak = add_agency(w, n_workers=20, capacity=0.3, reputation=0.3)
    pol = policy_of(w)
    plan_lots(w, pol, params)
    award_lots(w, pol, params)
    fees = expected_lot_hours(w, pol, params) * params.service_hour_price * 12
    return w, strong, weak, fees


def test_quality_only_tender_ignores_price_and_pays_the_full_fee():
    kw = dict(tender_weight_price=5.0, tender_max_discount=0.3, procurement_score_noise=0.0)
    w, strong, weak, fees = two_bidders(Params(tender_scoring="quality_only", **kw))
    let = w.lots.holder >= 0
    assert let.all()
    assert (w.lots.holder[let] == strong).all()  # capacity and reputation decide alone
    assert w.lots.remaining[let] == pytest.approx(fees[let])  # no discount
    # Best value on the same market: price counts, so the cheaper, weaker bidder wins some lots
    # and winners give discounts.
    w, strong, weak, fees = two_bidders(Params(**kw))
    let = w.lots.holder >= 0
    assert (w.lots.holder[let] == weak).any()
    assert (w.lots.remaining[let] < fees[let] - 1e-6).any()


# -- satisfaction feedback ------------------------------------------------------------------------


def participation_after(feedback: str, satisfaction: float) -> float:
    params = Params(satisfaction_feedback=feedback)
    w = blank_world((0,), t=5, hours_self_governance=100.0, participation=0.05)
    w.first_t = 0
    w.base_need = np.full((1, N_NEEDS), 20.0)
    w.communities.satisfaction = np.array([satisfaction])
    serve_residents(w, w.schedule.at(w.t), params)
    return float(w.communities.participation[0])


def test_without_feedback_participation_does_not_read_satisfaction():
    # Satisfaction is still measured (it moves toward what residents get) in both variants.
    on = [participation_after("on", s) for s in (0.1, 0.9)]
    off = [participation_after("off", s) for s in (0.1, 0.9)]
    assert on[0] < on[1]
    assert off[0] == off[1]
    P = Params()
    goal = P.participation_max * 100 / (100 + P.participation_half_hours)
    assert off[0] == pytest.approx(0.05 + P.participation_adjust * (goal - 0.05))


def reputation_after(feedback: str) -> float:
    w = blank_world((0,), t=0, satisfaction=0.1)
    row = w.add_orgs(
        AGENCY, 1, street=0, registered=True, capacity=0.5, reputation=0.5,
        delivered_hours=10.0, quality=0.9, project_community=0,
    )[0]  # fmt: skip
    params = Params(satisfaction_feedback=feedback)
    learn(w, w.schedule.at(w.t), params)
    return float(w.orgs.reputation[row])


def test_without_feedback_reputation_follows_quality_delivered_only():
    P = Params()
    judged = (1 - P.reputation_satisfaction_weight) * 0.9 + P.reputation_satisfaction_weight * 0.1
    assert reputation_after("on") == pytest.approx(0.5 + P.reputation_smoothing * (judged - 0.5))
    assert reputation_after("off") == pytest.approx(0.5 + P.reputation_smoothing * (0.9 - 0.5))


def renewal_winner(feedback: str, satisfaction: float) -> tuple[int, int, np.ndarray]:
    params = Params(
        satisfaction_feedback=feedback, tender_scoring="quality_only", procurement_score_noise=0.0
    )
    w = market(staff=(10.0,) * 4, rate=4.0)
    w.communities.satisfaction = np.full(4, satisfaction)
    incumbent = add_agency(w, n_workers=20, capacity=0.5, reputation=0.6)
    rival = add_agency(w, n_workers=20, capacity=0.6, reputation=0.6)
    w.lots.last_holder[:] = incumbent
    pol = policy_of(w)
    plan_lots(w, pol, params)
    w.lots.last_holder[:] = incumbent  # plan_lots keeps last holders; set them after as well
    award_lots(w, pol, params)
    return incumbent, rival, w.lots.holder[w.lots.holder >= 0]


def test_without_feedback_satisfied_residents_do_not_renew_the_incumbents_contract():
    incumbent, _, holders = renewal_winner("on", 0.9)  # +0.5 x weight 1 beats 0.1 of capacity
    assert len(holders) and (holders == incumbent).all()
    incumbent, rival, holders = renewal_winner("off", 0.9)
    assert len(holders) and (holders == rival).all()


def test_an_unknown_variant_is_one_line_naming_file_key_and_choices(tmp_path):
    from sim.errors import ScenarioError

    bad = tmp_path / "bad.toml"
    bad.write_text(
        f'name = "bad"\nextends = "{SCENARIOS / "wuhou_reform.toml"}"\n'
        '[params]\nrefusal_rule = "quota"\n'
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(bad)
    text = str(info.value)
    assert "\n" not in text and str(bad) in text and "params.refusal_rule" in text
    assert '"pressure_appraisal"' in text and '"fixed_propensity"' in text
