import copy
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from sim import DistrictModel, load_scenario
from sim.needs import N_NEEDS
from sim.params import Params
from sim.processes.departments import DIRECT, ROUTINE, STREET, choice
from sim.processes.items import (
    _belief,
    _poisson,
    _refusals,
    _split,
    _stance,
    _street_providers_sorted,
    _total,
    flow_items,
    street_providers,
)
from sim.processes.residents import serve_residents
from sim.tables import Table
from sim.world import GRASSROOTS, NEVER, TYPE_SCHEMA, blank_world

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


def poisson_ok(count: float, mean: float, alpha: float = 1e-6) -> bool:
    """Whether ``count`` lies in the central (1 - alpha) interval of Poisson(``mean``)."""
    lo, hi = stats.poisson.ppf([alpha / 2, 1 - alpha / 2], mean)
    return lo <= count <= hi


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
        for name in (
            "items_unlisted_accepted",
            "items_refused",
            "items_received",
            "items_refunded",
        ):
            totals[name] = totals.get(name, 0) + getattr(c, name).sum()
        totals["items_via_street"] = totals.get("items_via_street", 0) + c.items_via_street.sum()
        undone = c.undone_hours.sum() / params.hours_per_item
        totals["undone"] = totals.get("undone", 0) + undone
    return totals


# Issuers' choice and communities' refusals held still (no learning), one routine class only.
STILL = dict(compliance_learning=0.0, belief_adjust=0.0, stance_adjust=0.0, campaign_share=0.0)


def logit_choice(costs, temperature):
    """Response probabilities of a logit over costs, computed by hand."""
    z = np.exp(-(np.asarray(costs) - min(costs)) / temperature)
    return z / z.sum()


def test_the_refused_share_of_pushed_items_is_enforcement_times_refusal_propensity():
    # Communities at no work pressure, no stance and no appraisal weight refuse a pushed item
    # with probability enforcement x refusal propensity, by either route.
    params = Params(refusal_propensity=0.7, **STILL)
    policy = {"entry_control": True, "entry_enforcement": 0.6, "appraisal_weight": 0.0}
    w = item_world(compliance=0.0, policy=policy)
    n = draw_months(w, params)
    pushed = n["items_unlisted_accepted"] + n["items_refused"]
    assert pushed > 0.5 * n["items_issued"]
    assert binomial_ok(n["items_refused"], pushed, 0.6 * 0.7), n["items_refused"] / pushed
    # The street's appraisal weighs on refusals: with appraisal weight the share falls.
    w = item_world(compliance=0.0, policy=policy | {"appraisal_weight": 1.0})
    m = draw_months(w, params)
    pushed_m = m["items_unlisted_accepted"] + m["items_refused"]
    logit = np.log(0.7 / 0.3) - params.appraisal_refusal_weight * params.department_appraisal_share
    direct = 0.6 / (1 + np.exp(-logit))
    # The department pushes directly or relays through the street, whose appraisal weighs more:
    # the refused share lies below the direct route's chance.
    assert m["items_refused"] / pushed_m < direct < 0.6 * 0.7


def test_entry_outcomes_split_the_unlisted_items_by_the_issuers_logit_choice_and_refusal():
    # Each unlisted (routine) item: the issuer sends it funded, withdraws it, pushes it directly
    # or has the street hand it down, by a logit over their costs; a pushed item is refused
    # (enforcement x propensity here) or accepted; a refused one is then funded or given up,
    # as the issuer chooses between those two.
    e, comp, fund, refuse = 0.8, 0.5, 0.25, 0.4
    params = Params(refusal_propensity=refuse, **STILL)
    policy = {"entry_control": True, "entry_enforcement": e, "appraisal_weight": 0.0}
    policy |= {"list_review_months": 0}  # no review, so relays are not audited
    w = item_world(compliance=comp, funding=fund, policy=policy)
    p = params
    fund_cost = p.funding_cost * (1 - fund)
    costs = [
        fund_cost,  # fund
        1.0,  # withdraw: the value of a routine task
        e * p.push_sanction * comp,  # push directly: no refusal expected yet
        p.street_relay_cost,  # have the street hand it down
    ]
    pi = logit_choice(costs, p.choice_temperature)
    push, rho = pi[2] + pi[3], e * refuse
    f = pi[0] / (pi[0] + pi[1])
    n = draw_months(w, params)
    sent = 6 * 4 * 500  # expected unlisted items (all items are unlisted)
    expected = {
        "items_funded": sent * (pi[0] + push * rho * f),
        "items_withheld": sent * pi[1],
        "items_unlisted_accepted": sent * push * (1 - rho),
        "items_refused": sent * push * rho,
        "items_refunded": sent * push * rho * f,
        "undone": sent * (pi[1] + push * rho * (1 - f)),
        "items_via_street": sent * pi[3],
    }
    for name, mean in expected.items():
        assert poisson_ok(n[name], mean), (name, n[name], mean)
    # A refused item that its issuer then funds comes back: it counts once in the items issued,
    # as funded; the refusal is in items_refused and items_refunded.
    assert 0 < n["items_refunded"] < min(n["items_refused"], n["items_funded"])
    outcomes = sum(n[k] for k in list(expected)[:4])
    assert n["items_issued"] == outcomes - n["items_refunded"]
    assert n["items_received"] == n["items_issued"] - n["items_withheld"]


def test_without_entry_control_every_unlisted_item_is_accepted_campaigns_included():
    params = Params()
    w = item_world(unlisted=0.5, compliance=1.0)
    w.issuers.campaign_until[0] = 10**6  # the department runs a campaign
    n = draw_months(w, params)
    assert n["items_funded"] == n["items_withheld"] == n["items_refused"] == 0
    a, d = min(params.campaigns_per_year / 12, 1), params.campaign_months
    boost = (a * d + 1 - a) / (a * d)  # campaign items per steady-state campaign item
    cs = params.campaign_share
    unlisted = 6 * 4 * 500 * 0.5 * (1 - cs + cs * boost)
    assert poisson_ok(n["items_unlisted_accepted"], unlisted), (n, unlisted)
    listed = n["items_issued"] - n["items_unlisted_accepted"]
    assert poisson_ok(listed, 6 * 4 * 500 * 0.5)
    # Without a campaign running, its items do not come: the campaign share is missing.
    w = item_world(unlisted=0.5, compliance=1.0)
    n = draw_months(w, params)
    assert poisson_ok(n["items_unlisted_accepted"], 6 * 4 * 500 * 0.5 * (1 - cs))


def test_an_issuers_beliefs_by_route_account_for_each_of_its_refusals_once():
    # With a full step (belief_adjust 1) an issuer's expected refusal rate by route becomes the
    # refusals it met on that route per item it pushed there, so belief x items pushed, summed
    # over the two routes, gives back every refusal it met, each counted once (neither belief
    # reaches its cap of 1 here). Items pushed by route: the department's response
    # probabilities, computed from the state before items flow.
    params = Params(**STILL | dict(belief_adjust=1.0, refusal_propensity=0.7))
    w = item_world(compliance=0.5, policy=ENTRY)
    pol = w.schedule.at(w.t)
    pi, _ = choice(w, pol, params)
    sent = 4 * 500 * pi[0, ROUTINE, [DIRECT, STREET]]  # all items unlisted and routine
    assert (sent > 100).all()  # both routes used
    flow_items(w, pol, params)
    iss = w.issuers
    beliefs = np.array([iss.belief_direct[0], iss.belief_street[0]])
    assert ((beliefs > 0) & (beliefs < 1)).all()
    assert beliefs @ sent == pytest.approx(w.communities.items_refused.sum(), rel=1e-9)


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
    # Funding costs the issuer nothing here, so it funds most unlisted items.
    params = Params(**STILL)
    w = item_world(
        compliance=1.0, funding=1.0, policy={"entry_control": True, "entry_enforcement": 1.0}, n=1
    )
    w.catalogue_share[:] = [0.0, 0.0]
    w.lots.holder[:] = [0, -1]
    flow_items(w, w.schedule.at(w.t), params)
    c, lots = w.communities, w.lots
    funded = c.items_funded[0]
    assert funded > 0.5 * c.items_issued[0]
    assert lots.funded_items.sum() == lots.item_hours.sum() / params.hours_per_item
    assert c.org_item_hours[0] == lots.item_hours.sum()
    assert binomial_ok(lots.funded_items[0], funded, 0.5)  # categories evenly
    assert lots.funded_items[1] == 0
    # No registered agency in the street: the unheld category's funded items stay with staff.
    given_up = c.items_refused[0] - c.items_refunded[0]
    handled = c.items_issued[0] - c.items_withheld[0] - given_up
    h = params.hours_per_item
    assert c.staff_item_hours[0] == pytest.approx((handled - lots.funded_items[0]) * h)
    assert c.funded_org_hours[0] == 0


def test_communities_grow_bolder_after_unpunished_refusals_and_warier_after_reprisals():
    p = Params(refusal_boldness=1.0, retaliation_fear=2.0, stance_adjust=0.25)
    w = blank_world((0, 0, 0, 0))
    w.communities.refusal_stance = [0.5, 0.5, 0.5, 0.5]
    _stance(w, p, np.array([4, 4, 1, 0]), np.array([0, 1, 0, 0]))
    target = np.array([1.0, 1.0 * 0.75 - 2.0 * 0.25, 1.0])  # one refusal is enough
    want = 0.5 + 0.25 * (target - 0.5)
    assert w.communities.refusal_stance.tolist() == pytest.approx([*want, 0.5])  # no refusal


# -- need types of the items' outcomes (model v2) ------------------------------------------------

# Entry control with refusals by either route, and the issuer treating service and routine items
# alike (the same priority), so every outcome of its unlisted items has the same composition.
ALIKE = STILL | dict(service_item_priority=1.0, refusal_propensity=0.7)
ENTRY = {"entry_control": True, "entry_enforcement": 1.0, "appraisal_weight": 0.0}
ENTRY |= {"list_review_months": 0}


def service_world(service, need=2, n=4):
    """:func:`item_world` with every item unlisted, the department's unlisted items of two types:
    a service to need type ``need`` (share ``service`` of them) and a routine task; every lot held,
    so every funded item goes to a lot holder. Pushing directly costs more than relaying through
    the street (compliance 1), so refusals come by both routes, most of them via the street."""
    w = item_world(compliance=1.0, funding=0.5, policy=ENTRY, n=n)
    w.item_types = Table(TYPE_SCHEMA, capacity=2)
    w.item_types.append(
        2, owner=[0, 0], volume=[service, 1 - service], need=[need, -1], crept_step=NEVER
    )
    w.lots.holder[:] = 0
    return w


def test_when_every_item_serves_one_need_type_each_outcomes_need_hours_are_its_hours():
    # Composition identity: the need-type hours of each outcome are its expected share of service
    # items times its items, so when all unlisted items are services of one need type, the shares
    # are 1 and the need-type hours equal the hours of every outcome, per community: what is
    # issued, given up or withdrawn, accepted by staff, and funded (here all to lot holders).
    params = Params(**ALIKE)
    h = params.hours_per_item
    w = service_world(1.0)
    seen = dict(refused=0, refunded=0, funded=0, via_street=0, withheld=0)
    for _ in range(3):
        flow_items(w, w.schedule.at(w.t), params)
        c = w.communities
        for name in seen:
            seen[name] += getattr(c, f"items_{name}").sum()
        others = np.delete(np.arange(N_NEEDS), 2)
        for arr in (w.need_issued, w.need_undone, w.need_staff_new, w.need_funded_org):
            assert (arr[:, others] == 0).all()
        np.testing.assert_allclose(w.need_issued.sum(axis=1), c.items_issued * h, rtol=1e-12)
        np.testing.assert_allclose(w.need_undone.sum(axis=1), c.undone_hours, rtol=1e-12)
        np.testing.assert_allclose(w.need_staff_new.sum(axis=1), c.staff_item_hours, rtol=1e-12)
        np.testing.assert_allclose(
            w.need_funded_org.sum(axis=1), c.org_item_hours + c.funded_org_hours, rtol=1e-12
        )
        np.testing.assert_allclose(w.need_funded_org.sum(axis=1), c.items_funded * h, rtol=1e-12)
    # Every outcome and both routes occurred, refused items both funded and given up.
    assert seen["withheld"] > 0 and seen["via_street"] > 0
    assert 0 < seen["refunded"] < seen["refused"] and seen["funded"] > seen["refunded"]


def test_each_outcome_has_the_service_share_of_the_items_when_classes_are_treated_alike():
    # Composition identity with a mixed flow: half of the unlisted items are services, and the
    # issuer and the communities treat them as routine items, so every outcome (funded, given up
    # or withdrawn, accepted) is half service items. Funded items are split by their expected
    # shares (exactly half); given-up and accepted ones are drawn (binomial with one half).
    params = Params(**ALIKE)
    h = params.hours_per_item
    w = service_world(0.5)
    undone = undone_svc = accepted = accepted_svc = 0.0
    for _ in range(6):
        flow_items(w, w.schedule.at(w.t), params)
        c = w.communities
        assert c.items_funded.sum() > 0
        np.testing.assert_allclose(
            w.need_funded_org.sum(axis=1), 0.5 * c.items_funded * h, rtol=1e-12
        )
        undone += c.undone_hours.sum() / h
        undone_svc += w.need_undone.sum() / h
        accepted += c.items_unlisted_accepted.sum()
        accepted_svc += w.need_staff_new.sum() / h  # funded items all go to lot holders
    given_up = undone - c.items_withheld.sum()
    assert given_up > 0 and undone > 200 and accepted > 200
    assert binomial_ok(round(undone_svc), undone, 0.5), undone_svc / undone
    assert binomial_ok(round(accepted_svc), accepted, 0.5), accepted_svc / accepted


# -- draws by community and issuer pair (issue 12: no communities x issuers arrays) -------------


def sparse_counts(seed, n_c=30, n_i=12):
    """A communities x issuers matrix of means that is zero off a few pairs, like item rates with
    one issuer per street, and its nonzero pairs in row order."""
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.0, 3.0, (n_c, n_i)) * (rng.random((n_c, n_i)) < 0.3)
    lam[:, 0] = 0.5  # a department sending to every community
    return lam, *np.nonzero(lam)


@pytest.mark.parametrize("seed", range(5))
def test_drawing_only_the_pairs_with_items_gives_the_numbers_of_a_draw_for_every_pair(seed):
    # flow_items draws refusals only where an issuer sends items: a Poisson mean of 0 takes
    # nothing from the stream, so the pairs' draws are the full matrix's, and the stream is left
    # in the same state.
    lam, r, i = sparse_counts(seed)
    before = np.random.default_rng([seed, 1])
    dense = copy.deepcopy(before)
    head, full, tail = _poisson(dense, np.full(5, 2.0), lam, np.full(3, 1.0))
    head2, pairs, tail2 = _poisson(before, np.full(5, 2.0), lam[r, i], np.full(3, 1.0))
    assert (pairs == full[r, i]).all() and (full[lam == 0] == 0).all()
    assert (head == head2).all() and (tail == tail2).all()
    assert dense.random() == before.random()


@pytest.mark.parametrize("seed", range(3))
def test_refused_items_fall_in_cells_in_proportion_to_their_means_and_are_thinned_per_item(seed):
    # Refusals are drawn as a Poisson total, then placed item by item: a cell (route, pair) is hit
    # with probability mean / sum, never when its mean is 0, and each item is refunded and
    # punished with its pair's chances. Counts per cell then have the cells' Poisson means.
    lam, r, i = sparse_counts(seed)
    means = np.concatenate([lam[r, i], 0.5 * lam[r, i]])  # direct, then via the street
    means[[3, len(r) + 5]] = 0.0  # a pair that sends nothing by one route
    cum = np.cumsum(means)
    refund, punish = np.linspace(0.1, 0.9, len(r)), np.full(len(r), 0.25)
    n = 200_000
    via, pair, refunded, punished = _refusals(np.random.default_rng(seed), n, cum, refund, punish)
    cell = pair + len(r) * via
    hits = np.bincount(cell, None, len(means))
    assert hits[means == 0].sum() == 0
    expected = n * means / means.sum()
    chi2 = (((hits - expected) ** 2)[means > 0] / expected[means > 0]).sum()
    assert chi2 < stats.chi2.ppf(1 - 1e-6, np.count_nonzero(means) - 1), chi2
    assert binomial_ok(via.sum(), n, means[len(r) :].sum() / means.sum())
    low, high = pair < len(r) // 2, pair >= len(r) // 2
    for rows in (low, high):
        assert binomial_ok(refunded[rows].sum(), rows.sum(), refund[pair[rows]].mean(), 1e-9)
    assert binomial_ok(punished.sum(), n, 0.25)
    # Summed per community by bincount: exact integers.
    assert _total(r[pair], refunded, len(lam)).sum() == refunded.sum()


def test_no_refusal_draws_nothing_and_rounding_never_passes_the_last_cell_with_a_mean():
    cum = np.cumsum([1.0, 0.0, 2.0, 0.0, 0.0, 0.0])  # 3 pairs, two routes; the end has mean 0
    via, pair, refunded, punished = _refusals(
        np.random.default_rng(1), 0, cum, np.ones(3), np.ones(3)
    )
    assert len(via) == len(pair) == len(refunded) == len(punished) == 0

    class AtTheEnd:  # a point at the very end of the sum, as rounding could give
        def random(self, shape):
            return np.ones(shape)

    via, pair, _, _ = _refusals(AtTheEnd(), 4, cum, np.ones(3), np.ones(3))
    assert (pair == 2).all() and not via.any()  # the last cell with a mean: pair 2, direct


class _Pvals:
    """A stand-in for a random stream that keeps the probabilities a multinomial is drawn with."""

    def multinomial(self, n: np.ndarray, pvals: np.ndarray) -> np.ndarray:
        self.pvals = pvals.copy()
        return np.zeros(pvals.shape, np.int64)


def test_the_need_split_draws_with_each_rows_flows_over_the_rows_whole_sum():
    # Each row's weights are its need types' expected flows and the rest of its flow (total less
    # their sum, not below 0), divided by the row's sum and normalised once more. _split takes
    # the row's sum as the need types' sum plus the rest: the same number to the bit as summing
    # the six weights (numpy adds a short row in order), so the draws' probabilities are those
    # of the definition, computed here directly. Rows whose flow is all need (rest 0), mostly
    # rest, of very different magnitudes, and one without any flow (all of it "rest") included.
    gen = np.random.default_rng(3)
    by_need = gen.random((300, N_NEEDS)) * 10.0 ** gen.integers(-6, 6, (300, N_NEEDS))
    total = by_need.sum(axis=1) * gen.choice([0.5, 1.0, 1.7, 40.0], 300)
    by_need[7], total[7] = 0.0, 0.0
    weights = np.empty((300, N_NEEDS + 1))
    weights[:, :N_NEEDS] = by_need
    weights[:, N_NEEDS] = np.maximum(total - by_need.sum(axis=1), 0.0)
    s = weights.sum(axis=1, keepdims=True)
    want = np.divide(weights, s, out=np.zeros(weights.shape), where=s > 0)
    want[7, N_NEEDS] = 1.0
    want /= want.sum(axis=1, keepdims=True)
    stream = _Pvals()
    got = _split(stream, np.ones(300, np.int64), by_need, total)
    assert got.shape == (300, N_NEEDS) and got.dtype == float
    assert stream.pvals.tobytes() == want.tobytes()
    assert stream.pvals[7].tolist() == [0.0] * N_NEEDS + [1.0]
    # the split's rows are what the stream drew, need types only
    drawn = _split(np.random.default_rng(5), np.full(300, 40), by_need, total)
    full = np.random.default_rng(5).multinomial(np.full(300, 40), want)
    assert (drawn == full[:, :N_NEEDS]).all() and (drawn.sum(axis=1) <= 40).all()


def test_belief_moves_a_share_a_toward_the_refusals_seen_only_where_items_were_sent():
    # The update is old + a * (min(refused / sent, 1) - old) where sent > 0, else old: a single
    # item sent (sent == 1) counts, a larger step moves further, and more than all refused caps at 1.
    old = np.array([0.2, 0.2, 0.2, 0.5])
    sent = np.array([1, 4, 0, 2])
    refused = np.array([1, 1, 0, 5])
    got = _belief(old, 0.25, sent, refused)
    np.testing.assert_allclose(got, [0.2 + 0.25 * 0.8, 0.2 + 0.25 * 0.05, 0.2, 0.5 + 0.25 * 0.5])
    bigger = _belief(old, 0.5, sent, refused)
    assert np.all(np.abs(bigger - old) >= np.abs(got - old))


@pytest.mark.parametrize("seed", range(4))
def test_street_providers_by_scan_and_by_sort_pick_the_same_agency(seed):
    # Few agencies are scanned in row order, many sorted by capacity: both pick per street the
    # agency of highest capacity and, among equal capacities, the last row (NaN ranks highest, as
    # in a sort); grassroots groups, dead and unregistered organizations never.
    rng = np.random.default_rng(seed)
    for n in (0, 1, 40, 127, 128, 129, 600):
        n_s = int(rng.integers(1, 15))
        caps = rng.choice([0.0, -0.0, 0.5, 1.0, np.inf, np.nan], n)
        cap = caps if seed % 2 else rng.random(n).round(1)
        orgs = SimpleNamespace(
            alive=rng.random(n) < 0.8,
            registered=rng.random(n) < 0.7,
            kind=rng.integers(0, 3, n),
            street=rng.integers(0, n_s, n).astype(np.int32),
            capacity=cap,
        )
        world = SimpleNamespace(orgs=orgs, streets=range(n_s))
        rows = np.flatnonzero(orgs.alive & orgs.registered & (orgs.kind != GRASSROOTS))
        got = street_providers(world)
        want = np.full(n_s, -1)
        for s in range(n_s):  # by definition: the last of the street's rows of highest rank
            mine = rows[orgs.street[rows] == s]
            if len(mine):
                want[s] = mine[np.argsort(cap[mine], kind="stable")][-1]
        assert got.tolist() == want.tolist()
        if len(rows):
            by_sort = _street_providers_sorted(rows, orgs.street[rows], cap[rows], n_s)
            assert by_sort.tolist() == want.tolist()


def test_kept_operands_follow_the_state_they_were_computed_for():
    # flow_items, choice and serve_residents keep what moves only at list reviews or not at all
    # (per world); a kept value must not outlive a change of what it was computed from: after
    # each change, a world that has kept values gives what a fresh copy of it gives.
    m = DistrictModel(load_scenario("scenarios/wuhou_reform.toml"), rng=3)
    m.run_for(30)
    w, pol, p = m.world, m.policy, m.params
    assert pol.entry_control
    changes = (
        lambda w: w.issuers.unlisted_share.__imul__(0.5),
        lambda w: w.issuers.funding.__imul__(0.5),
        lambda w: w.item_types.listed.__setitem__(slice(None), True),
        lambda w: w.base_need[:, 0].__imul__(3.0),
    )
    for change in changes:
        flow_items(w, pol, p)
        serve_residents(w, pol, p)
        change(w)
        fresh = copy.deepcopy(w)
        for world in (w, fresh):
            flow_items(world, pol, p)
            serve_residents(world, pol, p)
        for col in ("items_issued", "items_refused", "items_funded", "service_quality"):
            assert getattr(w.communities, col).tolist() == getattr(fresh.communities, col).tolist()
        assert w.issuers.expected_cost.tolist() == fresh.issuers.expected_cost.tolist()
        assert np.array_equal(w.need_issued, fresh.need_issued)
