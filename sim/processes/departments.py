"""Process 2a (model v2): departments decide, and the lists are state.

Issuers (district departments and street offices) send items that arise from their tasks: a steady
base flow plus campaigns (new tasks from above) that start at random times. Every issuer's unlisted
items belong to item types it owns; a type is a routine administrative task or a service to
vulnerable residents of one need type (:mod:`sim.needs`).

The lists are state. When entry control first comes into force, the lists are cut from
``n_item_types`` types to ``listed_types_after_cut`` (B5), ``purchasable_types_after_cut`` of them
purchasable. At every list review (``list_review_months``) issuers petition to get their unlisted
types listed (list creep). A petition that comes with funding meets 费随事转 and is admitted as a
purchasable type; one without funding is admitted with probability ``1 - list_review_strictness``.

Under entry control an issuer chooses, for each unlisted item, among four responses: send it with
funding (费随事转), withdraw it, push it on the community directly, or have the street hand it down
as a street task (departments only). The choice is a logit over the expected cost of each response
to the issuer, computed for all issuers and item classes at once (:func:`choice`). The costs read
what refusals and the street's appraisal do: the issuer's expected refusal rate by route (a belief
that follows its own refusals), the value of the task, its fiscal slack, the sanction for pushing
(entry enforcement), and the audit of relayed items by a strict list review.
"""

from __future__ import annotations

import weakref

import numpy as np

from sim.needs import N_NEEDS
from sim.params import Params, Policy
from sim.world import NEVER, STREET_ISSUER, World

# Item classes of unlisted items and issuers' responses (axes of the choice array)
SERVICE, ROUTINE, CAMPAIGN = 0, 1, 2
FUND, WITHDRAW, DIRECT, STREET = 0, 1, 2, 3
N_CLASSES, N_ACTIONS = 3, 4


def departments_month(world: World, policy: Policy, params: Params) -> None:
    """Campaigns start and end; the lists are cut when entry control first applies; reviews."""
    p, pol, iss, t = params, policy, world.issuers, world.t
    rng = world.streams.departments
    start = rng.random(len(iss)) < p.campaigns_per_year / 12
    start &= iss.campaign_until <= t  # idle issuers only
    iss.campaign_until[start] = t + p.campaign_months

    types = world.item_types
    world.list_stats = {"petitions": 0, "admitted": 0, "admitted_funded": 0}
    if pol.entry_control and world.lists_cut_step == NEVER:
        world.lists_cut_step = t
        types.listed[...] = types.owner < 0
        types.purchasable[...] = np.arange(len(types)) < p.purchasable_types_after_cut
        return
    since = t - world.lists_cut_step
    if not (
        pol.entry_control
        and world.lists_cut_step != NEVER
        and pol.list_review_months > 0
        and since > 0
        and since % pol.list_review_months == 0
    ):
        return
    # A list review: issuers petition for their unlisted types, in proportion to what being
    # unlisted costs them; funded petitions are admitted, unfunded ones unless the review is strict.
    cand = np.flatnonzero(~types.listed & (types.owner >= 0))
    owner = types.owner[cand]
    cost, fund = iss.expected_cost[owner], iss.fund_share[owner]
    draw = rng.random((3, len(cand)))
    funded = draw[0] < np.minimum(1.0, p.petition_propensity * cost * fund)
    relabel = ~funded & (draw[1] < np.minimum(1.0, p.relabel_propensity * cost * (1 - fund)))
    petition = funded | relabel
    admitted = funded | (relabel & (draw[2] >= pol.list_review_strictness))
    rows = cand[admitted]
    types.listed[rows] = True
    types.purchasable[rows] = funded[admitted]
    types.crept_step[rows] = t
    world.list_stats = {
        "petitions": int(petition.sum()),
        "admitted": int(admitted.sum()),
        "admitted_funded": int((admitted & funded).sum()),
    }


def issuer_mix(world: World) -> dict[str, np.ndarray]:
    """Each issuer's unlisted flow split by the state of its item types (shares of ``u_i``).

    Returns per issuer: ``service`` and ``admin`` (still unlisted), ``need`` (issuers x need
    types, still unlisted service types), ``crept`` (listed at a review, not purchasable) and
    ``crept_funded`` (listed with funding), and ``crept_need``/``crept_funded_need`` (issuers x
    need types, the service types among them). Before the cut nothing is crept.

    The lists change only at the cut and at reviews, so the split is kept and recomputed only
    when the item types' state differs from the one it was computed for (the arrays returned
    are read-only, shared by the calls that see the same state).
    """
    types = world.item_types
    key = (
        len(world.issuers),
        world.lists_cut_step != NEVER,
        types.owner.tobytes(),
        types.volume.tobytes(),
        types.need.tobytes(),
        types.listed.tobytes(),
        types.purchasable.tobytes(),
    )
    cached = _MIX_CACHE.get(world)
    if cached is not None and cached[0] == key:
        return cached[1]
    mix = _issuer_mix(world)
    for arr in mix.values():
        arr.flags.writeable = False
    _MIX_CACHE[world] = (key, mix)
    return mix


_MIX_CACHE: weakref.WeakKeyDictionary[World, tuple[tuple[object, ...], dict[str, np.ndarray]]] = (
    weakref.WeakKeyDictionary()
)


def _issuer_mix(world: World) -> dict[str, np.ndarray]:
    """:func:`issuer_mix`, computed."""
    types, n_i = world.item_types, len(world.issuers)
    own = types.owner >= 0
    owner, vol = types.owner[own], types.volume[own]
    listed, purch, need = types.listed[own], types.purchasable[own], types.need[own]
    cut = world.lists_cut_step != NEVER
    unl = ~listed if cut else np.ones(len(owner), bool)
    svc = unl & (need >= 0)
    out = {
        "service": np.bincount(owner[svc], vol[svc], n_i),
        "crept": np.bincount(owner, vol * (~unl & ~purch), n_i),
        "crept_funded": np.bincount(owner, vol * (~unl & purch), n_i),
        "need": np.zeros((n_i, N_NEEDS)),
    }
    np.add.at(out["need"], (owner[svc], need[svc]), vol[svc])
    for key, rows in (
        ("crept_need", ~unl & ~purch & (need >= 0)),
        ("crept_funded_need", ~unl & purch & (need >= 0)),
    ):
        out[key] = np.zeros((n_i, N_NEEDS))
        np.add.at(out[key], (owner[rows], need[rows]), vol[rows])
    out["admin"] = np.maximum(0.0, 1.0 - out["service"] - out["crept"] - out["crept_funded"])
    return out


def campaign_multiplier(world: World, params: Params) -> np.ndarray:
    """Per issuer, campaign items per steady-state campaign item this month (mean about 1)."""
    on, off = campaign_levels(params)
    return np.where(world.issuers.campaign_until > world.t, on, off)


def campaign_levels(params: Params) -> tuple[float, float]:
    """:func:`campaign_multiplier` of an issuer in a campaign and of one without."""
    p = params
    a = min(p.campaigns_per_year / 12, 1.0)
    if a <= 0:  # no campaigns: campaign items come as part of the steady flow
        return 1.0, 1.0
    # Stationary share of months in a campaign: D active months, then on average (1 - a) / a
    # idle months before the next one starts.
    d = p.campaign_months
    active_share = a * d / (a * d + 1 - a)
    return 1 / active_share, 0 / active_share


def choice(world: World, policy: Policy, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """Issuers' response probabilities (issuers x classes x actions) and each class's cost of a
    refused item (issuers x classes)."""
    p, pol, iss = params, policy, world.issuers
    # Cost of each response (issuers x classes x actions): fund it, withdraw it (its priority),
    # push it directly, have the street hand it down (not open to streets). Funding and
    # withdrawing cost what the issuer's funding and the parameters say: kept (_fixed_costs).
    fixed, after_refusal, streets = _fixed_costs(world, p)
    cost = fixed.copy()
    enf = pol.entry_enforcement
    np.add(
        iss.belief_direct[:, None] * after_refusal,
        (enf * p.push_sanction * iss.compliance)[:, None],
        out=cost[:, :, DIRECT],
    )
    audit = enf * pol.list_review_strictness * p.relay_audit_cost * (pol.list_review_months > 0)
    np.add(
        iss.belief_street[:, None] * after_refusal + p.street_relay_cost,
        audit,
        out=cost[:, :, STREET],
    )
    cost[streets, :, STREET] = np.inf
    # -(cost - least) as least - cost, the least by elementwise minima over the four actions:
    # the same numbers (a rounded difference changes sign with its operands; the minimum is
    # exact; a zero's sign does not survive exp). A reduction over a short last axis costs more
    # than three elementwise calls (issue 12).
    least = np.minimum(cost[:, :, FUND], cost[:, :, WITHDRAW])
    np.minimum(least, cost[:, :, DIRECT], out=least)
    np.minimum(least, cost[:, :, STREET], out=least)
    z = np.subtract(least[:, :, None], cost)
    z /= p.choice_temperature
    pi = np.exp(z, out=z)
    pi /= pi.sum(axis=2, keepdims=True)
    routine = cost[:, ROUTINE]
    expected = (pi[:, ROUTINE] * np.where(np.isinf(routine), 0.0, routine)).sum(axis=1)
    iss.expected_cost[...] = expected
    iss.fund_share[...] = pi[:, ROUTINE, FUND]
    return pi, after_refusal


def _fixed_costs(world: World, params: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray | slice]:
    """The parts of :func:`choice`'s costs that do not move in a run (read-only, kept while the
    issuers' funding and kinds and the parameters are the same): the cost array with funding and
    withdrawing filled in, the cost of a refused item (the cheaper of the two), and the rows of
    the streets (a slice when they are one block, as in every built world)."""
    p, iss = params, world.issuers
    key = (params, iss.funding.tobytes(), iss.kind.tobytes())
    kept = _COST_CACHE.get(world)
    if kept is not None and kept[0][0] is params and kept[0][1:] == key[1:]:
        return kept[1]
    prio = np.array([p.service_item_priority, 1.0, p.campaign_priority])
    cost = np.zeros((len(iss), N_CLASSES, N_ACTIONS))
    cost[:, :, FUND] = (p.funding_cost * (1 - iss.funding))[:, None]
    cost[:, :, WITHDRAW] = prio
    after_refusal = np.minimum(cost[:, :, FUND], prio)  # a refused item is funded or given up
    rows = np.flatnonzero(iss.kind == STREET_ISSUER)
    rows.flags.writeable = False
    streets: np.ndarray | slice = rows
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        # one block of rows (departments first, then the streets): a slice writes faster
        streets = slice(int(rows[0]), int(rows[-1]) + 1)
    cost.flags.writeable = False
    after_refusal.flags.writeable = False
    out = (cost, after_refusal, streets)
    _COST_CACHE[world] = (key, out)
    return out


_COST_CACHE: weakref.WeakKeyDictionary[
    World, tuple[tuple[object, ...], tuple[np.ndarray, np.ndarray, np.ndarray | slice]]
] = weakref.WeakKeyDictionary()


def refusal_odds(world: World, policy: Policy, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """Each community's chance of refusing a pushed unlisted item: sent directly by a department,
    and handed down by the street (its own or a relayed item)."""
    p, pol, c = params, policy, world.communities
    rp = min(max(p.refusal_propensity, 1e-6), 1 - 1e-6)
    enf = pol.entry_enforcement
    if p.refusal_rule == "fixed_propensity":  # structural variant: a fixed disposition
        fixed = enf / (1 + np.exp(-(np.log(rp / (1 - rp)) + c.refusal_stance)))
        return fixed, fixed.copy()
    regular = c.hours_regular
    if len(regular) and regular.min() > 0:  # the usual case: a plain division, same numbers
        pressure = (c.hours_statutory + c.admin_demand) / regular
    else:
        pressure = np.divide(
            c.hours_statutory + c.admin_demand, regular, out=np.ones(len(c)), where=regular > 0
        )
    pressure -= 1
    pressure *= p.refusal_pressure_weight
    base = np.add(np.log(rp / (1 - rp)), pressure, out=pressure)
    base += c.refusal_stance
    shift = p.appraisal_refusal_weight * pol.appraisal_weight
    # log-odds, then chances, of the direct (row 0) and the street's (row 1) items
    odds = np.empty((2, len(c)))
    np.subtract(base, shift * p.department_appraisal_share, out=odds[0])
    np.subtract(base - shift, p.veto_weight * pol.one_vote_veto, out=odds[1])
    np.negative(odds, out=odds)
    np.exp(odds, out=odds)
    odds += 1
    np.divide(enf, odds, out=odds)
    return odds[0], odds[1]
