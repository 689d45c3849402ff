"""Accounting identities of the monthly processes, on every month and community.

Three runs, each stepped month by month with the state checked after every step: the pre-reform
baseline, the reform, and an overload (the reform with items at ten times their workload, so staff
work the overtime cap and contract holders cannot staff what arrives). The identities hold
whatever the mechanisms' parameters are; where a process is stochastic, the counts over the run
are checked against the Poisson interval of their expected total, computed from the state right
before items flow each month (the issuers' choice and communities' refusal odds of model v2,
written out with Poisson thinning; ``sim.model.MONTH`` is patched to compute them there).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from scipy import stats

import sim.model
from sim import DistrictModel, load_scenario
from sim.needs import NEED_TYPES
from sim.params import Params, Policy
from sim.processes.departments import (
    DIRECT,
    FUND,
    STREET,
    WITHDRAW,
    campaign_multiplier,
    choice,
    issuer_mix,
    refusal_odds,
)
from sim.processes.items import flow_items
from sim.world import STREET_ISSUER, World

from ..conftest import SCENARIOS

RUNS = {
    "baseline": ("baseline_2013", ()),
    "reform": ("wuhou_reform", ()),
    "overload": ("wuhou_reform", ("params.hours_per_item=95",)),
}
TOL = 1e-9

COMMUNITY_HOURS = (
    "hours_regular",
    "hours_available",
    "hours_statutory",
    "hours_admin",
    "hours_self_governance",
    "hours_services",
    "hours_used",
    "admin_demand",
    "backlog",
    "undone_hours",
    "staff_item_hours",
    "staff_items_done",
    "org_item_hours",
    "org_item_delivered",
    "volunteer_hours",
    "project_hours",
    "need_hours",
    "served_hours",
    "delivered_hours",
    "purchase_spend",
)
ORG_FLOWS = (
    "contract_income",
    "project_income",
    "costs",
    "expected_hours",
    "demand_hours",
    "delivered_hours",
    "project_hours",
    "project_month_fee",
)
NEED_ARRAYS = ("base_need", "need_backlog", "need_staff_new", "need_undone", "need_unmet")
LOT_FLOWS = ("item_hours", "hours", "delivered", "month_fee", "pay", "remaining", "funded_items")


def close(a, b) -> bool:
    return np.allclose(a, b, rtol=1e-9, atol=1e-7)


def poisson_ok(count: float, expected: float, alpha: float = 1e-6) -> bool:
    """Whether ``count`` lies in the central (1 - alpha) interval of Poisson(expected)."""
    lo, hi = stats.poisson.ppf([alpha / 2, 1 - alpha / 2], expected)
    return lo <= count <= hi


@dataclass
class Expected:
    """Expected totals of the stochastic item flows over the run, from each month's start state."""

    counts: dict[str, float] = field(default_factory=dict)
    means: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, count: float, mean: float) -> None:
        self.counts[name] = self.counts.get(name, 0.0) + float(count)
        self.means[name] = self.means.get(name, 0.0) + float(mean)


def expected_item_rates(world: World, pol: Policy, p: Params) -> dict[str, np.ndarray]:
    """Expected items per community this month, by outcome, from the state right before items
    flow (after departments decided on campaigns and lists): the issuers' response probabilities
    (:func:`choice`), communities' refusal odds, and Poisson thinning, written out here."""
    rates, iss = world.item_rates, world.issuers
    u = iss.unlisted_share
    mix, camp, cs = issuer_mix(world), campaign_multiplier(world, p), p.campaign_share
    # unlisted flow by class (service, routine, campaign), relative to each issuer's base rate
    w = u[:, None] * np.stack(
        [mix["service"], mix["admin"] * (1 - cs), mix["admin"] * cs * camp], axis=1
    )
    listed = rates @ (1 - u)
    zero = np.zeros(len(world.communities))
    if not pol.entry_control:
        unlisted = w.sum(axis=1) + u * (mix["crept"] + mix["crept_funded"])
        return dict(listed=listed, funded=zero, withheld=zero, accepted=rates @ unlisted,
                    refused=zero, refunded=zero, relayed=zero)  # fmt: skip
    pi, _ = choice(world, pol, p)
    rho_d, rho_s = refusal_odds(world, pol, p)
    street = (iss.kind == STREET_ISSUER)[:, None]
    push_d = np.where(street, 0.0, pi[:, :, DIRECT])  # a street hands its own items down
    push_s = pi[:, :, STREET] + np.where(street, pi[:, :, DIRECT], 0.0)
    d_i, s_i = (w * push_d).sum(axis=1), (w * push_s).sum(axis=1)
    # a refused item is then funded with the issuer's odds of funding over withdrawing
    pushed = w * (push_d + push_s)
    f_k = pi[:, :, FUND] / (pi[:, :, FUND] + pi[:, :, WITHDRAW])
    f_i = np.divide((pushed * f_k).sum(axis=1), pushed.sum(axis=1),
                    out=np.zeros(len(u)), where=pushed.sum(axis=1) > 0)  # fmt: skip
    refused_ci = rates * (d_i[None, :] * rho_d[:, None] + s_i[None, :] * rho_s[:, None])
    relay_i = np.where(street[:, 0], 0.0, s_i)
    return {
        "listed": listed + rates @ (u * mix["crept"]),
        "funded": rates @ (w * pi[:, :, FUND]).sum(axis=1)
        + refused_ci @ f_i
        + rates @ (u * mix["crept_funded"]),
        "withheld": rates @ (w * pi[:, :, WITHDRAW]).sum(axis=1),
        "accepted": (rates @ d_i) * (1 - rho_d) + (rates @ s_i) * (1 - rho_s),
        "refused": refused_ci.sum(axis=1),
        "refunded": refused_ci @ f_i,
        "relayed": (rates @ relay_i) * (1 - rho_s) + (rates @ relay_i) * rho_s,
    }


def check_month(m: DistrictModel, before: dict[str, np.ndarray]) -> None:
    """Every identity of one month, for every community (``before``: state before the month)."""
    p, c, o, lots, w = m.params, m.communities, m.orgs, m.lots, m.workers
    world = m.world
    h = p.hours_per_item

    # Every hour and money column is non-negative.
    for name in COMMUNITY_HOURS:
        assert (getattr(c, name) >= -TOL).all(), name
    for name in ORG_FLOWS:
        assert (getattr(o, name) >= -TOL).all(), name
    for name in LOT_FLOWS:
        assert (getattr(lots, name) >= -TOL).all(), name
    for name in NEED_ARRAYS:
        assert (getattr(world, name) >= -TOL).all(), name
    assert (w.hours >= 0).all() and (w.wage >= 0).all()
    for name, value in vars(m.year_books()).items():
        if isinstance(value, float | int):
            assert value >= -1e-6, name

    # Staff time: regular hours fall with last month's burnout; hours used add up.
    full = c.staff * p.staff_hours_per_month
    assert close(c.hours_regular, full * (1 - p.burnout_absence * before["burnout"]))
    assert (c.hours_regular <= full + TOL).all()
    assert close(c.hours_available, c.hours_regular * (1 + p.overtime_cap))
    assert close(c.hours_statutory, p.statutory_share * c.hours_regular)
    parts = c.hours_statutory + c.hours_admin + c.hours_self_governance + c.hours_services
    assert close(c.hours_used, parts)
    assert (c.hours_used <= c.hours_available + TOL).all()
    assert (c.hours_admin <= c.admin_demand + TOL).all()
    # Free regular hours (none if items took overtime) go to self-governance and services.
    free = np.maximum(0, c.hours_regular - c.hours_statutory - c.hours_admin)
    assert close(c.hours_self_governance + c.hours_services, free)
    assert close(c.hours_self_governance, p.self_governance_share * free)
    assert close(c.admin_burden, c.hours_admin / c.hours_used)
    # Admin demand: items carried and arriving, plus supervising what organizations delivered.
    supervision = p.supervision_share * (c.org_item_delivered + c.funded_org_delivered)
    assert close(c.admin_demand, before["backlog"] + c.staff_item_hours + supervision)

    # Items: each item issued is counted once, as listed, funded, withdrawn, accepted unlisted or
    # refused and given up (a refused item its issuer then funds counts in items_refunded, and
    # once as funded); those handled (all but withdrawn and given up) are worked by staff or
    # delivered by organizations.
    assert (c.items_refunded <= np.minimum(c.items_refused, c.items_funded)).all()
    handled = c.items_issued - c.items_withheld - (c.items_refused - c.items_refunded)
    assert close(c.items_received, c.items_issued - c.items_withheld)
    listed = handled - c.items_funded - c.items_unlisted_accepted
    assert (listed >= c.items_crept).all()  # types listed at a review are listed items
    assert (c.items_via_street <= c.items_unlisted_accepted + c.items_refused).all()
    assert (c.items_retaliated <= c.items_refused).all()
    delivered = c.org_item_delivered + c.funded_org_delivered
    assert close(c.staff_item_hours + delivered, handled * h)
    assert close(np.bincount(lots.community, lots.item_hours, len(c)), c.org_item_hours)
    assert (lots.delivered <= lots.item_hours + TOL).all()
    assert (c.funded_org_delivered <= c.funded_org_hours + TOL).all()
    assert close(np.bincount(lots.community, lots.delivered, len(c)), c.org_item_delivered)

    # Backlog: items carried in plus items arriving = items done + items expiring + items carried
    # out. Undone items are the withdrawn ones, refused ones given up (not funded afterwards)
    # and expired ones.
    expired = before["backlog"] + c.staff_item_hours - c.staff_items_done - c.backlog
    assert (expired >= -1e-7).all()
    assert close(expired, p.backlog_expiry * (c.backlog + expired))
    given_up = (c.undone_hours - expired) / h - c.items_withheld
    assert close(given_up, c.items_refused - c.items_refunded)
    assert (c.staff_items_done <= c.hours_admin + TOL).all()
    # Service items by need type are part of all staff items, and their unmet hours part of
    # all undone hours.
    assert (world.need_backlog.sum(axis=1) <= c.backlog + 1e-7).all()
    assert (world.need_unmet.sum(axis=1) <= c.undone_hours + 1e-7).all()

    # Burnout moves toward a target between 0 and 1 that rises with work pressure and is zero
    # below the onset.
    target = before["burnout"] + (c.burnout - before["burnout"]) / p.burnout_rate
    assert (target >= -1e-7).all() and (target <= 1 + 1e-7).all()
    pressure = (c.hours_statutory + c.admin_demand) / c.hours_regular
    assert (np.abs(target[pressure <= p.burnout_pressure_onset]) < 1e-7).all()
    order = np.argsort(pressure)
    assert (np.diff(target[order]) >= -1e-7).all()

    # Need, by type: residents' base need, plus the service items for vulnerable residents as
    # need of their own type, plus the resident-facing part of every other item issued, in the
    # community's proportions of need types; served plus unmet is need, and what is served never
    # exceeds need or what was delivered.
    base = world.base_need
    typed = world.need_issued
    assert (typed >= -TOL).all() and (typed.sum(axis=1) <= c.items_issued * h + TOL).all()
    assert (world.need_staff_done >= -TOL).all() and (world.need_org_done >= -TOL).all()
    items = p.resident_facing_share * (c.items_issued * h - typed.sum(axis=1))
    need = np.column_stack([getattr(c, f"need_{t}") for t in NEED_TYPES])
    served = np.column_stack([getattr(c, f"served_{t}") for t in NEED_TYPES])
    unmet = np.column_stack([getattr(c, f"unmet_{t}") for t in NEED_TYPES])
    coverage = np.column_stack([getattr(c, f"coverage_{t}") for t in NEED_TYPES])
    assert close(need, base + items[:, None] * base / base.sum(axis=1, keepdims=True) + typed)
    assert close(c.need_hours, need.sum(axis=1))
    assert close(c.served_hours, served.sum(axis=1))
    assert close(served + unmet, need) and (unmet >= -TOL).all()
    assert close(coverage, served / need)
    assert (c.served_hours <= c.delivered_hours + TOL).all()
    assert close(c.service_coverage, c.served_hours / c.need_hours)
    assert (c.service_quality <= c.service_coverage + TOL).all()
    # Services by source add up to what each source delivered.
    assert close(c.service_supply_staff, c.hours_services)
    assert (c.service_supply_groups >= c.volunteer_hours - TOL).all()
    assert close(
        c.service_supply_groups + c.service_supply_agencies + c.service_supply_brand,
        c.volunteer_hours + c.project_hours,
    )

    # Contracts pay no more than their monthly fee, from money still committed.
    assert (lots.pay <= lots.month_fee + TOL).all()
    assert close(np.bincount(lots.community, lots.pay, len(c)), c.purchase_spend)


def checked_run(scenario: str, overrides: tuple[str, ...], monkeypatch, seed: int = 1):
    """Step a run to its end, checking every month; returns the model and the item totals."""
    rates: list[dict[str, np.ndarray]] = []

    def flow_and_expect(world: World, policy: Policy, params: Params) -> None:
        rates.append(expected_item_rates(world, policy, params))
        flow_items(world, policy, params)

    month = tuple(flow_and_expect if f is flow_items else f for f in sim.model.MONTH)
    monkeypatch.setattr(sim.model, "MONTH", month)
    m = DistrictModel(load_scenario(SCENARIOS / f"{scenario}.toml", list(overrides)), rng=seed)
    expected = Expected()
    snapshots = []
    while m.running:
        before = {"burnout": m.communities.burnout.copy(), "backlog": m.communities.backlog.copy()}
        m.step()
        check_month(m, before)
        c = m.communities
        handled = c.items_issued - c.items_withheld - (c.items_refused - c.items_refunded)
        counts = {
            "listed": handled - c.items_funded - c.items_unlisted_accepted,
            "funded": c.items_funded,
            "withheld": c.items_withheld,
            "accepted": c.items_unlisted_accepted,
            "refused": c.items_refused,
            "refunded": c.items_refunded,
            "relayed": c.items_via_street,
        }
        for name, count in counts.items():
            expected.add(name, count.sum(), rates[-1][name].sum())
        snapshots.append(
            {
                "admin_hours": c.hours_admin.copy(),
                "staff_hours_used": c.hours_used.copy(),
                "items_issued": c.items_issued.copy(),
                "items_refused": c.items_refused.copy(),
                "served_hours": c.served_hours.copy(),
                "service_need_hours": c.need_hours.copy(),
                "staff_burnout": c.burnout.copy(),
            }
        )
    return m, expected, snapshots


@pytest.mark.parametrize("run", sorted(RUNS))
def test_identities_hold_every_month_in_every_community(run, monkeypatch):
    scenario, overrides = RUNS[run]
    m, expected, snapshots = checked_run(scenario, overrides, monkeypatch)
    assert m.steps == 48

    # Item flows: each outcome's total over the run is within its Poisson interval.
    for name, count in expected.counts.items():
        assert poisson_ok(count, expected.means[name]), (name, count, expected.means[name])
    if run == "baseline":
        assert expected.counts["refused"] == 0 and expected.counts["funded"] == 0
    else:
        for name in ("refused", "refunded", "funded", "withheld", "relayed"):
            assert expected.counts[name] > 0, name

    # The result tables record these months: community rows as they were, shares as ratios of
    # sums at every level.
    res = m.results()
    community = res["community"]
    for name in snapshots[0]:
        recorded = community[name].to_numpy().reshape(48, -1)
        assert close(recorded, np.array([s[name] for s in snapshots])), name
    for level in ("community", "street", "district"):
        t = res[level]
        assert close(t["admin_burden"], t["admin_hours"] / t["staff_hours_used"]), level
        assert close(t["service_coverage"], t["served_hours"] / t["service_need_hours"]), level
        assert close(
            t.groupby("step")["admin_hours"].sum(), community.groupby("step")["admin_hours"].sum()
        )
    if run == "overload":
        # Staff work the overtime cap, and holders return what they cannot staff.
        c = community
        assert (np.isclose(c["staff_hours_used"], c["staff_hours_available"])).mean() > 0.9
        assert (c["org_item_hours"] > 0).any()


def test_burnout_target_is_zero_somewhere_and_one_somewhere():
    # The burnout checks above are not vacuous: the reform has months and communities below the
    # onset (target 0) and the overload has them at the top (target 1).
    for scenario, overrides, want in (
        ("wuhou_reform", (), "low"),
        ("wuhou_reform", ("params.hours_per_item=95",), "high"),
    ):
        m = DistrictModel(load_scenario(SCENARIOS / f"{scenario}.toml", list(overrides)), rng=1)
        p, seen = m.params, []
        for _ in range(24):
            m.step()
            c = m.communities
            seen.append((c.hours_statutory + c.admin_demand) / c.hours_regular)
        pressure = np.concatenate(seen)
        if want == "low":
            assert (pressure <= p.burnout_pressure_onset).mean() > 0.1
        else:
            assert (pressure >= p.burnout_pressure_onset + 0.5).mean() > 0.5
