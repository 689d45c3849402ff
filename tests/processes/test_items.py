import pytest
from scipy import stats

from sim.params import Params
from sim.processes.items import flow_items
from sim.world import blank_world

from ..conftest import finished_run


def test_without_entry_control_no_item_is_refused_or_withheld(baseline):
    c = baseline.results()["community"]
    assert c["items_refused"].sum() == 0 and c["items_withheld"].sum() == 0
    assert c["items_funded"].sum() == 0


def test_entry_control_refuses_only_from_its_start(reform):
    d = reform.results()["district"]
    assert d.loc[d["month"] < "2013-10", "items_refused"].sum() == 0
    assert (d.loc[d["month"] >= "2013-10", "items_refused"] > 0).all()


def test_issuers_learn_to_comply_under_entry_control(reform, baseline):
    assert reform.issuers.compliance.mean() > baseline.issuers.compliance.mean()


def test_stronger_enforcement_refuses_more_and_lowers_burden():
    weak = finished_run(
        "baseline_2013", 3, ("policy.entry_control=true", "policy.entry_enforcement=0.2")
    )
    strong = finished_run(
        "baseline_2013", 3, ("policy.entry_control=true", "policy.entry_enforcement=1.0")
    )
    dw, ds = weak.results()["district"], strong.results()["district"]
    assert ds["items_refused"].sum() > dw["items_refused"].sum()
    assert ds["admin_burden"].iloc[-12:].mean() < dw["admin_burden"].iloc[-12:].mean()


# -- flow_items on small hand-built worlds ------------------------------------------------------


def binomial_ok(k: float, n: float, p: float, alpha: float = 1e-6) -> bool:
    """Whether ``k`` successes of ``n`` lie in the central (1 - alpha) binomial interval."""
    lo, hi = stats.binom.ppf([alpha / 2, 1 - alpha / 2], int(n), p)
    return lo <= k <= hi


def item_world(unlisted=1.0, compliance=0.0, funding=0.5, rate=500.0, policy=None, n=4):
    """``n`` communities in one street, one department sending ``rate`` items a month to each."""
    w = blank_world((0,) * n, n_departments=1, policy=policy)
    w.item_rates[:, 0] = rate
    w.issuers.unlisted_share = unlisted
    w.issuers.compliance = compliance
    w.issuers.funding = funding
    return w


def draw_months(w, params, months=6):
    totals = {}
    for _ in range(months):
        flow_items(w, w.schedule.at(w.t), params)
        c = w.communities
        for name in ("items_issued", "items_funded", "items_withheld"):
            totals[name] = totals.get(name, 0) + getattr(c, name).sum()
        for name in ("items_unlisted_accepted", "items_refused", "items_received"):
            totals[name] = totals.get(name, 0) + getattr(c, name).sum()
    return totals


def test_at_compliance_zero_the_refused_share_is_enforcement_times_refusal_propensity():
    params = Params(compliance_learning=0.0, refusal_propensity=0.7)
    w = item_world(compliance=0.0, policy={"entry_control": True, "entry_enforcement": 0.6})
    n = draw_months(w, params)
    assert n["items_funded"] == 0 and n["items_withheld"] == 0  # nobody complies
    unlisted = n["items_unlisted_accepted"] + n["items_refused"]
    assert unlisted == n["items_issued"]  # every item is unlisted here
    assert binomial_ok(n["items_refused"], unlisted, 0.6 * 0.7), n["items_refused"] / unlisted


def test_entry_outcomes_split_the_unlisted_items_by_compliance_funding_and_refusal():
    # Each unlisted item: the issuer complies (enforcement x compliance) and re-sends it funded
    # (funding) or withdraws it; otherwise the community refuses it (enforcement x propensity)
    # or accepts it. The shares add up to one, and the totals to the items sent.
    e, comp, fund, refuse = 0.8, 0.5, 0.25, 0.4
    params = Params(compliance_learning=0.0, refusal_propensity=refuse)
    w = item_world(
        compliance=comp, funding=fund, policy={"entry_control": True, "entry_enforcement": e}
    )
    n = draw_months(w, params)
    sent = n["items_issued"]
    assert stats.poisson.ppf(1e-6, 6 * 4 * 500) <= sent <= stats.poisson.ppf(1 - 1e-6, 6 * 4 * 500)
    shares = {
        "items_funded": e * comp * fund,
        "items_withheld": e * comp * (1 - fund),
        "items_unlisted_accepted": (1 - e * comp) * (1 - e * refuse),
        "items_refused": (1 - e * comp) * e * refuse,
    }
    assert sum(shares.values()) == pytest.approx(1)
    assert sum(n[k] for k in shares) == sent
    for name, share in shares.items():
        assert binomial_ok(n[name], sent, share), (name, n[name] / sent, share)
    assert n["items_received"] == sent - n["items_withheld"]


def test_without_entry_control_every_unlisted_item_is_accepted():
    w = item_world(unlisted=0.5, compliance=1.0)
    n = draw_months(w, Params())
    assert n["items_funded"] == n["items_withheld"] == n["items_refused"] == 0
    assert binomial_ok(n["items_unlisted_accepted"], n["items_issued"], 0.5)


def test_issuers_learn_from_refusals_in_proportion_to_their_refusal_rate():
    params = Params(compliance_learning=0.3, refusal_propensity=1.0)
    w = item_world(compliance=0.2, policy={"entry_control": True, "entry_enforcement": 1.0}, n=1)
    flow_items(w, w.schedule.at(w.t), params)
    refused = w.communities.items_refused[0]
    assert refused > 0
    # The department sent 500 unlisted items (expected); the street issuer sent none.
    expected = 0.2 + 0.3 * min(refused / 500, 1) * (1 - 0.2)
    assert w.issuers.compliance.tolist() == pytest.approx([expected, 0.2])


def test_catalogue_items_go_to_the_lot_holder_and_the_rest_to_staff():
    # All items listed; 30% and 20% of them are in the two catalogue categories. Only the first
    # category's lot has a holder.
    params = Params()
    w = item_world(unlisted=0.0, n=1)
    w.catalogue_share[:] = [0.3, 0.2]
    w.lots.holder[0] = 0
    h = params.hours_per_item
    to_org = handled = 0.0
    for _ in range(6):
        flow_items(w, w.schedule.at(w.t), params)
        c, lots = w.communities, w.lots
        assert lots.item_hours[1] == 0 and lots.item_hours[0] == c.org_item_hours[0]
        assert c.staff_item_hours[0] + c.org_item_hours[0] == pytest.approx(c.items_issued[0] * h)
        assert c.undone_hours[0] == 0
        to_org += c.org_item_hours[0] / h
        handled += c.items_issued[0]
    assert binomial_ok(to_org, handled, 0.3), to_org / handled


def test_funded_items_in_a_held_category_go_to_its_holder_and_are_counted_as_funded():
    params = Params(compliance_learning=0.0)
    w = item_world(
        compliance=1.0, funding=1.0, policy={"entry_control": True, "entry_enforcement": 1.0}, n=1
    )
    w.catalogue_share[:] = [0.0, 0.0]
    w.lots.holder[:] = [0, -1]
    flow_items(w, w.schedule.at(w.t), params)
    c, lots = w.communities, w.lots
    funded = c.items_funded[0]
    assert funded == c.items_issued[0] > 0  # every item is re-sent with funding
    assert lots.funded_items.sum() == lots.item_hours.sum() / params.hours_per_item
    assert binomial_ok(lots.funded_items[0], funded, 0.5)  # categories evenly
    assert lots.funded_items[1] == 0
