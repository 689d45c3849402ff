"""Model v2, items 1-2 of issue 10: departments decide, communities decide whether to refuse.

Claims tested as paired differences over 10 shared seeds (common random numbers), with 95%
confidence intervals, and as mechanisms: what makes an effect bigger, smaller or reverse. None of
these can pass by a ledger identity of the inputs: each compares runs in which only agents'
options or incentives differ, and the sign or size of the difference comes from what departments
and communities then choose (and from how overloaded the communities are).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from sim.needs import NEED_TYPES

from .conftest import EARLIER_POINT, finished_run

SEEDS = range(10)

EC = ("policy.entry_control=true",)
LAX = ("policy.list_review_months=6", "policy.list_review_strictness=0")
STRICT = ("policy.list_review_months=6", "policy.list_review_strictness=1")
# Departments' evasive responses switched off: relaying through the street becomes prohibitively
# costly and no department asks for relabelling; funding, withdrawing and pushing remain.
NO_RESPONSES = ("params.street_relay_cost=20", "params.relabel_propensity=0")
UNMET = tuple(f"unmet_item_hours_{n}" for n in NEED_TYPES)


def final_year(scenario: str, seed: int, overrides: tuple[str, ...] = ()) -> dict[str, float]:
    m = finished_run(scenario, seed, overrides)
    r = m.results()
    d, c = r["district"], r["community"]
    last = d[d["year"] == 2016]
    keys = ("admin_burden", "items_received", "service_coverage")
    out = {k: float(last[k].mean()) for k in keys}
    out["items_via_street"] = float(last["items_via_street"].mean())
    out["n_listed_types"] = float(last["n_listed_types"].iloc[-1])
    cl = c[c["year"] == 2016]
    for col in UNMET:
        out[col] = float(cl[col].sum() / 12)  # hours per month, district
    return out


def diffs(a: tuple, b: tuple, key: str) -> np.ndarray:
    """Per seed, (b - a) for ``key``; a and b are (scenario, overrides)."""
    (sa, oa), (sb, ob) = a, b
    return np.array([final_year(sb, s, ob)[key] - final_year(sa, s, oa)[key] for s in SEEDS])


def ci(x: np.ndarray) -> tuple[float, float, float]:
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return x.mean(), x.mean() - half, x.mean() + half


def eaten(review: tuple[str, ...]) -> np.ndarray:
    """Burden that departments' responses add back under entry control, per seed."""
    with_responses = ("baseline_2013", EC + review)
    without = ("baseline_2013", EC + review + NO_RESPONSES)
    return diffs(without, with_responses, "admin_burden")


def test_responses_eat_entry_controls_effect_when_review_is_lax_not_when_strict():
    lax, strict = eaten(LAX), eaten(STRICT)
    mean, lo, hi = ci(lax)
    assert lo > 0.01, ("lax", mean, lo, hi)
    mean, lo, hi = ci(strict)
    assert lo > -0.01 and hi < 0.01, ("strict", mean, lo, hi)
    mean, lo, hi = ci(lax - strict)
    assert lo > 0.01, ("lax - strict", mean, lo, hi)
    # ... yet entry control still lowers burden under either review, against no entry control.
    for review in (LAX, STRICT):
        mean, lo, hi = ci(
            diffs(("baseline_2013", ()), ("baseline_2013", EC + review), "admin_burden")
        )
        assert hi < 0, (review, mean, lo, hi)


def test_lax_review_lets_the_lists_creep_back_and_work_keeps_coming_down():
    # B5: the list is cut to a few dozen types; under a lax review it creeps back. B19: under a
    # lax review the work items reaching communities do not fall; under a strict one they do.
    # Kept at the earlier defaults (EARLIER_POINT, set here: list-creep propensities 0.3 and 0.3).
    # At the calibrated defaults (the ABC posterior's weighted median, propensities 0.033 and
    # 0.036, fitted to B5's 56-136 types in 2015-10) the lists still creep back more under a lax
    # review, but the work reaching communities falls under it too: items received -570 [-734,
    # -406] a month against no entry control (seeds 0-9), so B19's "work items did not fall"
    # does not show there (a finding, docs/validation.md).
    at = EARLIER_POINT
    base = ("baseline_2013", at)
    lax, strict = ("baseline_2013", EC + LAX + at), ("baseline_2013", EC + STRICT + at)
    mean, lo, hi = ci(diffs(strict, lax, "n_listed_types"))
    assert lo > 50, (mean, lo, hi)
    mean, lo, hi = ci(diffs(base, lax, "items_received"))
    assert abs(mean) < 200 and lo < 0 < hi + 150, (mean, lo, hi)
    mean, lo, hi = ci(diffs(base, strict, "items_received"))
    assert hi < -100, (mean, lo, hi)
    # Streets relay more when no strict review audits the relays.
    mean, lo, hi = ci(diffs(strict, lax, "items_via_street"))
    assert lo > 0, (mean, lo, hi)


REFORM_MINUS_PURCHASE = ("wuhou_reform", ("policy.purchase_budget=0",))
BASELINE_PLUS_EC = ("baseline_2013", ("policy.entry_control.2013-10=true",))


def test_reform_minus_purchase_and_baseline_plus_entry_control_differ_in_burden():
    # In v1 the two gave the same burden to every digit. Now funded items (费随事转) are bought
    # from a registered agency of the street: where the reform's other levers (brand agencies,
    # projects) have put agencies, funded items leave community staff.
    gap = diffs(REFORM_MINUS_PURCHASE, BASELINE_PLUS_EC, "admin_burden")
    mean, lo, hi = ci(gap)
    assert lo > 0.005, (mean, lo, hi)
    # Mechanism: without brand agencies and project money there are few agencies to buy from,
    # and the gap shrinks.
    bare = (
        "wuhou_reform",
        ("policy.purchase_budget=0", "policy.brand_agencies=0", "policy.project_budget=0"),
    )
    smaller = diffs(bare, BASELINE_PLUS_EC, "admin_burden")
    mean, lo, hi = ci(gap - smaller)
    assert lo > 0, (mean, lo, hi)


# Overloaded communities (so that, without entry control, service items also go undone when the
# backlog expires) with most unlisted item types being services to vulnerable residents.
OVERLOADED = ("params.hours_per_item=15", "params.service_item_share=0.9")
# Departments that withdraw rather than fund, and care little about service items ...
WITHDRAWING = ("params.funding_cost=5", "params.service_item_priority=0.3")
# ... against departments that fund service items and drop routine ones.
FUNDING = ("params.funding_cost=0.5", "params.service_item_priority=3")
STRICT_EC = (*EC, "policy.entry_enforcement=1.0", "policy.list_review_strictness=1")


def unmet_effect(regime: tuple[str, ...], key: str) -> np.ndarray:
    return diffs(("baseline_2013", regime), ("baseline_2013", regime + STRICT_EC), key)


def test_entry_control_harms_vulnerable_households_when_departments_withdraw():
    regime = OVERLOADED + WITHDRAWING
    for key in UNMET:
        # Without entry control these households already lose service to the expiring backlog,
        # so the difference is not an identity: it is what refusals and withdrawals add.
        assert np.mean([final_year("baseline_2013", s, regime)[key] for s in SEEDS]) > 0, key
        mean, lo, hi = ci(unmet_effect(regime, key))
        assert lo > 0, (key, mean, lo, hi)
    # ... and the services of the district as a whole fall too.
    mean, lo, hi = ci(unmet_effect(regime, "service_coverage"))
    assert hi < 0, (mean, lo, hi)


def test_the_harm_reverses_when_departments_fund_services_and_grows_with_their_share():
    # Departments that fund service items and withdraw routine ones relieve the backlog, and the
    # same strict entry control then lowers unmet service need.
    for key in UNMET:
        mean, lo, hi = ci(unmet_effect(OVERLOADED + FUNDING, key))
        assert hi < 0, (key, mean, lo, hi)
    # The harm is larger the larger the share of unlisted items that are services.
    fewer = ("params.hours_per_item=15", "params.service_item_share=0.3", *WITHDRAWING)
    total = sum(unmet_effect(OVERLOADED + WITHDRAWING, k) for k in UNMET)
    total_fewer = sum(unmet_effect(fewer, k) for k in UNMET)
    mean, lo, hi = ci(total - total_fewer)
    assert lo > 0, (mean, lo, hi)


VETO = ("policy.one_vote_veto=true",)


def test_a_one_vote_veto_lets_departments_route_around_entry_control():
    # Under a veto communities dare not refuse what the street hands down; departments learn it
    # and relay more of their unlisted items through the street, and burden rises. A strict list
    # review, which audits relays, takes most of the extra relaying away.
    def veto_effect(review: tuple[str, ...], key: str) -> np.ndarray:
        return diffs(("baseline_2013", review), ("baseline_2013", review + VETO), key)

    lax_review = (*EC, "policy.list_review_strictness=0")
    strict_review = (*EC, "policy.list_review_strictness=1")
    relayed_lax = veto_effect(lax_review, "items_via_street")
    mean, lo, hi = ci(relayed_lax)
    assert lo > 0, (mean, lo, hi)
    mean, lo, hi = ci(veto_effect(lax_review, "admin_burden"))
    assert lo > 0, (mean, lo, hi)
    mean, lo, hi = ci(relayed_lax - veto_effect(strict_review, "items_via_street"))
    assert lo > 0, (mean, lo, hi)
