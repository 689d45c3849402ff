"""Processes 2-3: items flow down; issuers and communities decide under entry control.

Departments and streets ("issuers") send items to communities as Poisson flows whose rates scale
with population. An item is listed (on the three lists, A8) or not; a listed item may be in the
purchase catalogue (A4). An issuer's unlisted items belong to its item types and come in three
classes: services to vulnerable residents (of one need type), routine tasks, and campaign tasks
(:mod:`sim.processes.departments`). Types listed at a list review (list creep) arrive as listed
items, with funding if the petition brought it.

Under entry control (A9) each issuer chooses a response per class of unlisted item (a logit over
expected costs, :func:`~sim.processes.departments.choice`): send it with funding (费随事转, then it
is admitted), withdraw it, push it on the community, or, for a department, have the street hand it
down. The community refuses a pushed item with a probability that rises with its work pressure
and its stance (past refusals and the issuer's reprisals) and falls with the street's appraisal
pressure on street-handed items (:func:`~sim.processes.departments.refusal_odds`). A refused item
is then funded or given up, as its issuer would choose between those two; given up, it is undone,
and if it was a service item its need type's households go without. Issuers update their expected
refusal rates by route, and their compliance norm, from their own refusals; communities update
their stance from the reprisals their refusals met.

Each item meets these chances independently, so by Poisson thinning every outcome is itself an
independent Poisson flow. Refused items are drawn one by one, each with its route, community and
issuer, because both sides learn from them (their total is Poisson, and each falls in a cell with
probability proportional to the cell's mean: the same distribution as a Poisson draw per cell);
each is then funded or given up, and punished or not, by its issuer's chances. Undone and accepted
items are split by need type in proportion to their expected flows.
Without entry control every unlisted item lands on the community.
"""

from __future__ import annotations

import numpy as np

from sim.needs import N_NEEDS
from sim.params import Params, Policy
from sim.processes.departments import (
    CAMPAIGN,
    DIRECT,
    FUND,
    N_CLASSES,
    ROUTINE,
    SERVICE,
    STREET,
    WITHDRAW,
    campaign_multiplier,
    choice,
    issuer_mix,
    refusal_odds,
)
from sim.world import GRASSROOTS, STREET_ISSUER, World


def flow_items(world: World, policy: Policy, params: Params) -> None:
    """Draw this month's items and route them to community staff or contract holders."""
    p, pol, c, iss = params, policy, world.communities, world.issuers
    rates = world.item_rates  # communities x issuers, items per month
    u = iss.unlisted_share
    cat_share = world.catalogue_share[pol.catalogue_size]  # by category (A3)
    # Products with operands that move only at list reviews are kept (World.rates_product).
    listed_rate = world.rates_product(1 - u)
    rng = world.streams.items
    n_c, n_i = rates.shape
    # Catalogue items by category (communities x categories), then other listed items: one draw.
    catalogue_ck, other_listed = _poisson(
        rng, listed_rate[:, None] * cat_share, listed_rate * (1 - cat_share.sum())
    )
    catalogue = catalogue_ck.sum(axis=1)

    # Unlisted flow by class, relative to each issuer's base rate (campaigns keep the mean).
    mix = issuer_mix(world)
    camp = campaign_multiplier(world, p)
    cs = p.campaign_share
    w = np.empty((n_i, N_CLASSES))
    w[:, SERVICE] = u * mix["service"]
    w[:, ROUTINE] = u * (mix["admin"] * (1 - cs))
    w[:, CAMPAIGN] = u * (mix["admin"] * cs * camp)
    need_w = u[:, None] * mix["need"]  # issuers x need types (service class)
    entry = world.streams.entry
    zeros = np.zeros(n_c, np.int64)
    crept_lam = world.rates_product(u * mix["crept"])
    crept_funded_lam = world.rates_product(u * mix["crept_funded"])

    if pol.entry_control:
        pi, _ = choice(world, pol, p)
        pi_fund, pi_withdraw = pi[:, :, FUND], pi[:, :, WITHDRAW]
        rho_d, rho_s = refusal_odds(world, pol, p)
        is_street = iss.kind == STREET_ISSUER
        # A street's own pushed items are handed down by the street, like relayed ones.
        push_d = np.where(is_street[:, None], 0.0, pi[:, :, DIRECT])
        push_s = pi[:, :, STREET] + np.where(is_street[:, None], pi[:, :, DIRECT], 0.0)
        direct_i, street_i = (w * push_d).sum(axis=1), (w * push_s).sum(axis=1)
        relay_i = np.where(is_street, 0.0, street_i)
        fund_lam = rates @ (w * pi_fund).sum(axis=1)
        withdraw_lam = rates @ (w * pi_withdraw).sum(axis=1)
        accept_d, accept_s = 1 - rho_d, 1 - rho_s
        acc_d_lam = (rates @ direct_i) * accept_d
        # Refusals by route, community and issuer: independent Poisson flows, drawn as their total
        # and then placed item by item, each in a cell with probability proportional to the cell's
        # mean (the same distribution; refusals are sparse, a few hundred items a month against
        # thousands of cells). Cells are the community-issuer pairs the issuer sends items to
        # (not communities x issuers, which grows as the square of the district), by route.
        pair_c, pair_i = world.item_pairs()
        pair_rate = rates[pair_c, pair_i]
        cum = np.cumsum(
            np.concatenate(
                (
                    pair_rate * direct_i[pair_i] * rho_d[pair_c],
                    pair_rate * street_i[pair_i] * rho_s[pair_c],
                )
            )
        )
        total = cum[-1:] if len(cum) else np.zeros(1)
        # Crept, funded, withdrawn, accepted and refused (in all) items: one Poisson draw.
        (crept, crept_funded, fund_first, withdrawn, acc_d, acc_relay, acc_own, n_refused) = (
            _poisson(
                entry,
                crept_lam,
                crept_funded_lam,
                fund_lam,
                withdraw_lam,
                acc_d_lam,
                (rates @ relay_i) * accept_s,
                (rates @ (street_i - relay_i)) * accept_s,
                total,
            )
        )
        accepted = acc_d + acc_relay + acc_own
        # A refused item is then funded or given up, as the issuer would choose between the two,
        # and punished or not: chances per item (so binomial per community and issuer).
        pushed_k = w * (push_d + push_s)
        fund_or_withdraw = pi_fund + pi_withdraw
        f_k = np.divide(
            pi_fund, fund_or_withdraw, out=np.zeros(w.shape), where=fund_or_withdraw > 0
        )
        pushed = pushed_k.sum(axis=1)
        f_i = np.divide((pushed_k * f_k).sum(axis=1), pushed, out=np.zeros(n_i), where=pushed > 0)
        via_street, pair, refunds, retaliates = _refusals(
            entry,
            int(n_refused[0]),
            cum,
            f_i[pair_i],
            iss.retaliation[pair_i] * (1 - pol.entry_enforcement),
        )
        comm, issuer = pair_c[pair], pair_i[pair]
        refused = np.bincount(comm, None, n_c)
        refunded = _total(comm, refunds, n_c)
        retaliated = _total(comm, retaliates, n_c)
        given_up = refused - refunded
        relayed = acc_relay + _total(comm, via_street & ~is_street[issuer], n_c)
        refused_by_s = _total(issuer, via_street, n_i)
        refused_by_i = np.bincount(issuer, None, n_i)
        _learn(
            world,
            p,
            rates,
            u,
            direct_i,
            street_i,
            refused_by_i - refused_by_s,
            refused_by_s,
            refused_by_i,
        )
        _stance(world, p, refused, retaliated)

        # Expected composition by need type of what is given up and of what staff accept.
        f_c = 1 - f_i
        svc_d, svc_s = push_d[:, SERVICE], push_s[:, SERVICE]
        rho_d_c, rho_s_c = rho_d[:, None], rho_s[:, None]
        undone_need = (
            rates @ (need_w * pi_withdraw[:, SERVICE, None])
            + (rates @ (need_w * (svc_d * f_c)[:, None])) * rho_d_c
            + (rates @ (need_w * (svc_s * f_c)[:, None])) * rho_s_c
        )
        undone_all = (
            withdraw_lam + (rates @ (direct_i * f_c)) * rho_d + (rates @ (street_i * f_c)) * rho_s
        )
        accepted_need = (rates @ (need_w * svc_d[:, None])) * accept_d[:, None] + (
            rates @ (need_w * svc_s[:, None])
        ) * accept_s[:, None]
        accepted_all = acc_d_lam + (rates @ street_i) * accept_s
        undone_items = withdrawn + given_up
        undone_by_need, accepted_by_need = _split(
            entry,
            np.concatenate([undone_items, accepted]),
            np.concatenate([undone_need, accepted_need]),
            np.concatenate([undone_all, accepted_all]),
        ).reshape(2, n_c, N_NEEDS)
        # ... and of what is funded (sent with funding first, or funded after a refusal).
        funded_need = (
            rates @ (need_w * pi_fund[:, SERVICE, None])
            + (rates @ (need_w * (svc_d * f_i)[:, None])) * rho_d_c
            + (rates @ (need_w * (svc_s * f_i)[:, None])) * rho_s_c
        )
        funded_all = (
            fund_lam
            + (rates @ (direct_i * f_i)) * rho_d
            + (rates @ (street_i * f_i)) * rho_s
            + crept_funded_lam
        )
        funded_need = funded_need + world.rates_product(u[:, None] * mix["crept_funded_need"])
        crept_by_need = crept[:, None] * _shares(
            world.rates_product(u[:, None] * mix["crept_need"]), crept_lam
        )
    else:
        unlisted = w.sum(axis=1) + u * (mix["crept"] + mix["crept_funded"])
        unlisted_lam = rates @ unlisted  # used twice below
        crept, crept_funded, accepted = _poisson(entry, crept_lam, crept_funded_lam, unlisted_lam)
        crept = crept_funded = zeros  # without entry control nothing is refusable: all accepted
        fund_first = withdrawn = refused = refunded = given_up = zeros
        retaliated = relayed = zeros
        undone_by_need = np.zeros((n_c, N_NEEDS))
        crept_need = u[:, None] * (mix["crept_need"] + mix["crept_funded_need"])
        accepted_by_need = _split(
            entry, accepted, world.rates_product(need_w + crept_need), unlisted_lam
        )
        funded_need = funded_all = None
        crept_by_need = np.zeros((n_c, N_NEEDS))

    funded = fund_first + refunded + crept_funded
    # Funded items fall in the categories evenly; catalogue and funded items of a category go to
    # the holder of that lot, if there is one. Funded items without a lot holder are bought from
    # the best registered agency of the street (费随事转: the money buys the task), if any.
    lots = world.lots
    k = cat_share.size
    # Only communities with funded items draw (a multinomial of 0 draws nothing from the stream,
    # so this is the same sequence as drawing for every community, without 87 calls, issue 12).
    funded_ck = np.zeros((n_c, k), np.int64)
    some = np.flatnonzero(funded)
    if k and len(some):
        funded_ck[some] = entry.multinomial(funded[some], np.full(k, 1 / k))
    held = (lots.holder >= 0).reshape(-1, k)
    funded_held = np.where(held, funded_ck, 0)
    to_org_ck = np.where(held, catalogue_ck, 0) + funded_held
    to_org = to_org_ck.sum(axis=1)
    funded_held_c = funded_held.sum(axis=1)
    funded_unheld = funded_ck.sum(axis=1) - funded_held_c
    provider = street_providers(world)[c.street]
    funded_org = np.where(provider >= 0, funded_unheld, 0)
    issued = catalogue + other_listed + crept + funded
    to_staff = issued + accepted - to_org - funded_org

    h = p.hours_per_item
    lots.item_hours[...] = (to_org_ck * h).ravel()
    lots.funded_items[...] = funded_held.ravel()
    # Each item counts once: a refused item its issuer then funds is in `funded` (and refused).
    c.items_issued[...] = issued + withdrawn + accepted + given_up
    c.items_received[...] = c.items_issued - withdrawn
    c.items_refused[...] = refused
    c.items_withheld[...] = withdrawn
    c.items_funded[...] = funded
    c.items_refunded[...] = refunded
    c.items_unlisted_accepted[...] = accepted
    c.items_via_street[...] = relayed
    c.items_crept[...] = crept
    c.items_retaliated[...] = retaliated
    c.staff_item_hours[...] = to_staff * h
    c.org_item_hours[...] = to_org * h
    c.funded_org_hours[...] = funded_org * h
    world.funded_provider = np.where(funded_org > 0, provider, -1)
    c.undone_hours[...] = (withdrawn + given_up) * h
    # Service items by need type (model v2): funded ones in their expected proportions (no draw,
    # so nothing else in the run changes), then routed as all funded items were.
    # Service types listed at a review keep their need type (crept items land on staff).
    if funded_need is None:
        funded_by_need = np.zeros((n_c, N_NEEDS))
    else:
        funded_by_need = funded[:, None] * _shares(funded_need, funded_all)
    to_org_funded = funded_held_c + funded_org
    org_share = np.divide(to_org_funded, funded, out=np.zeros(n_c), where=funded > 0)
    staff_by_need = accepted_by_need + crept_by_need + funded_by_need * (1 - org_share)[:, None]
    world.need_undone = undone_by_need * h
    world.need_funded_org = funded_by_need * h * org_share[:, None]
    world.need_staff_new = staff_by_need * h
    world.need_issued = (undone_by_need + accepted_by_need + crept_by_need + funded_by_need) * h


def street_providers(world: World) -> np.ndarray:
    """Per street, the alive registered agency (local or brand) of highest capacity, or -1."""
    o, n_s = world.orgs, len(world.streets)
    rows = np.flatnonzero(o.alive & o.registered & (o.kind != GRASSROOTS))
    best = np.full(n_s, -1)
    if len(rows):
        rows = rows[np.argsort(o.capacity[rows], kind="stable")]
        rank = np.full(n_s, -1)
        np.maximum.at(rank, o.street[rows], np.arange(len(rows)))
        best = np.where(rank >= 0, rows[np.maximum(rank, 0)], -1)
    return best


def _split(
    rng: np.random.Generator, counts: np.ndarray, by_need: np.ndarray, total: np.ndarray
) -> np.ndarray:
    """Split item counts per community into need types (and the rest) by expected shares."""
    n = by_need.shape[1]
    weights = np.empty((len(total), n + 1))
    weights[:, :n] = by_need
    weights[:, n] = np.maximum(total - by_need.sum(axis=1), 0.0)
    s = weights.sum(axis=1, keepdims=True)
    probs = np.divide(weights, s, out=np.zeros(weights.shape), where=s > 0)
    probs[s[:, 0] <= 0, -1] = 1.0
    probs /= probs.sum(axis=1, keepdims=True)
    return rng.multinomial(counts, probs)[:, :N_NEEDS].astype(float)


def _poisson(rng: np.random.Generator, *lams: np.ndarray) -> list[np.ndarray]:
    """Poisson draws for several arrays of means in one call, in order (the same numbers as one
    call per array: each draw takes the stream's next numbers), shaped as the means."""
    draws = rng.poisson(np.concatenate([lam.ravel() for lam in lams]))
    out, at = [], 0
    for lam in lams:
        n = lam.size
        out.append(draws[at : at + n].reshape(lam.shape))
        at += n
    return out


def _shares(by_need: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Expected shares of need types in a flow, communities x need types (0 where none)."""
    return np.divide(by_need, total[:, None], out=np.zeros(by_need.shape), where=total[:, None] > 0)


def _total(group: np.ndarray, counts: np.ndarray, n: int) -> np.ndarray:
    """Integer (or boolean) counts summed by group (0 to n - 1), as int64. Counts are integers
    far below 2**53, so summing them as floats is exact."""
    return np.bincount(group, counts, n).astype(np.int64)


def _refusals(
    rng: np.random.Generator,
    n: int,
    cum: np.ndarray,
    refund: np.ndarray,
    retaliation: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``n`` refused items placed in cells (the pairs directly, then the pairs via the street)
    whose Poisson means have the cumulative sum ``cum``, each then refunded and punished with its
    pair's chances (``refund``, ``retaliation``, per pair). Returns per item whether it came via
    the street, its pair, and whether it is refunded and whether it meets a reprisal."""
    u = rng.random((3, n))
    if n == 0:
        empty = np.zeros(0, bool)
        return empty, np.zeros(0, np.int64), empty, empty
    total = cum[-1]
    # The first cell whose cumulative mean exceeds the point, so a cell of zero mean is never hit
    # (and never one past the last cell with a mean, should rounding put the point at the end).
    cell = np.searchsorted(cum, u[0] * total, side="right")
    np.minimum(cell, np.searchsorted(cum, total, side="left"), out=cell)
    n_pairs = len(cum) // 2
    via_street = cell >= n_pairs
    pair = cell - n_pairs * via_street
    return via_street, pair, u[1] < refund[pair], u[2] < retaliation[pair]


def _learn(
    world: World,
    p: Params,
    rates: np.ndarray,
    u: np.ndarray,
    direct_i: np.ndarray,
    street_i: np.ndarray,
    refused_d: np.ndarray,
    refused_s: np.ndarray,
    refused_i: np.ndarray,
) -> None:
    """Issuers update their expected refusal rate by route and their compliance norm, from the
    items each refused (directly sent, handed down by the street, and both)."""
    iss = world.issuers
    a = p.belief_adjust
    rate_i = rates.sum(axis=0)  # items per month from each issuer
    iss.belief_direct[...] = _belief(iss.belief_direct, a, rate_i * direct_i, refused_d)
    iss.belief_street[...] = _belief(iss.belief_street, a, rate_i * street_i, refused_s)
    sent_i = rate_i * u  # expected unlisted items per issuer
    rate = np.divide(refused_i, sent_i, out=np.zeros(len(u)), where=sent_i > 0)
    iss.compliance[...] = iss.compliance + p.compliance_learning * np.minimum(rate, 1) * (
        1 - iss.compliance
    )


def _belief(old: np.ndarray, a: float, sent: np.ndarray, refused: np.ndarray) -> np.ndarray:
    """An expected refusal rate moved by ``a`` toward the refusals seen, where items were sent."""
    seen = np.divide(refused, sent, out=np.zeros(len(sent)), where=sent > 0)
    return np.where(sent > 0, old + a * (np.minimum(seen, 1) - old), old)


def _stance(world: World, p: Params, refused: np.ndarray, retaliated: np.ndarray) -> None:
    """Communities grow bolder after unpunished refusals and warier after reprisals."""
    c = world.communities
    some = refused > 0
    punished = np.divide(retaliated, refused, out=np.zeros(len(c)), where=some)
    target = p.refusal_boldness * (1 - punished) - p.retaliation_fear * punished
    c.refusal_stance[...] = np.where(
        some, c.refusal_stance + p.stance_adjust * (target - c.refusal_stance), c.refusal_stance
    )
