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

import weakref

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
    campaign_levels,
    choice,
    issuer_mix,
    refusal_odds,
)
from sim.world import GRASSROOTS, STREET_ISSUER, World


def flow_items(world: World, policy: Policy, params: Params) -> None:
    """Draw this month's items and route them to community staff or contract holders."""
    p, pol, c, iss = params, policy, world.communities, world.issuers
    rates = world.item_rates  # communities x issuers, items per month
    n_c, n_i = rates.shape
    # What moves only at list reviews (and the run's fixed structure), kept (see _Static).
    s = _static(world, pol, p)
    k = s.k
    # Catalogue items by category (communities x categories), then other listed items: one draw.
    draws = world.streams.items.poisson(s.listed_lam)
    catalogue_ck = draws[: n_c * k].reshape(n_c, k)
    other_listed = draws[n_c * k :]
    catalogue = catalogue_ck.sum(axis=1)

    # Unlisted flow by class, relative to each issuer's base rate (campaigns keep the mean).
    w = s.w.copy()  # issuers x classes; campaign items as without a campaign
    np.copyto(w[:, CAMPAIGN], s.camp_on, where=iss.campaign_until > world.t)
    entry = world.streams.entry

    if pol.entry_control:
        pi, _ = choice(world, pol, p)
        pi_fund, pi_withdraw = pi[:, :, FUND], pi[:, :, WITHDRAW]
        rho_d, rho_s = refusal_odds(world, pol, p)
        is_street, is_street_col = s.is_street, s.is_street_col
        # A street's own pushed items are handed down by the street, like relayed ones.
        push_d = np.where(is_street_col, 0.0, pi[:, :, DIRECT])
        push_s = pi[:, :, STREET] + np.where(is_street_col, pi[:, :, DIRECT], 0.0)
        direct_i, street_i = (w * push_d).sum(axis=1), (w * push_s).sum(axis=1)
        relay_i = np.where(is_street, 0.0, street_i)
        # Means of one Poisson draw (crept, funded, withdrawn, accepted and refused items).
        lam = np.empty(7 * n_c + 1)
        lam[: 2 * n_c] = s.crept_lams
        fund_lam = np.matmul(rates, (w * pi_fund).sum(axis=1), out=lam[2 * n_c : 3 * n_c])
        withdraw_lam = np.matmul(rates, (w * pi_withdraw).sum(axis=1), out=lam[3 * n_c : 4 * n_c])
        accept_d, accept_s = 1 - rho_d, 1 - rho_s
        acc_d_lam = np.multiply(rates @ direct_i, accept_d, out=lam[4 * n_c : 5 * n_c])
        np.multiply(rates @ relay_i, accept_s, out=lam[5 * n_c : 6 * n_c])
        np.multiply(rates @ (street_i - relay_i), accept_s, out=lam[6 * n_c : 7 * n_c])
        # Refusals by route, community and issuer: independent Poisson flows, drawn as their total
        # and then placed item by item, each in a cell with probability proportional to the cell's
        # mean (the same distribution; refusals are sparse, a few hundred items a month against
        # thousands of cells). Cells are the community-issuer pairs the issuer sends items to
        # (not communities x issuers, which grows as the square of the district), by route.
        pair_c, pair_i, pair_rate = s.pair_c, s.pair_i, s.pair_rate
        n_p = len(pair_c)
        cum = np.empty(2 * n_p)
        d_mean, s_mean = cum[:n_p], cum[n_p:]
        np.multiply(pair_rate, direct_i[pair_i], out=d_mean)
        np.multiply(d_mean, rho_d[pair_c], out=d_mean)
        np.multiply(pair_rate, street_i[pair_i], out=s_mean)
        np.multiply(s_mean, rho_s[pair_c], out=s_mean)
        np.add.accumulate(cum, out=cum)  # np.cumsum's sums, without its wrapper
        lam[-1] = cum[-1] if n_p else 0.0
        draws = entry.poisson(lam)
        crept, crept_funded, fund_first, withdrawn, acc_d, acc_relay, acc_own = draws[
            : 7 * n_c
        ].reshape(7, n_c)
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
            int(draws[-1]),
            cum,
            f_i,
            iss.retaliation * (1 - pol.entry_enforcement),
            by=pair_i,
        )
        comm, issuer = pair_c[pair], pair_i[pair]
        refused = np.bincount(comm, None, n_c)
        refunded = _total(comm, refunds, n_c)
        retaliated = _total(comm, retaliates, n_c)
        given_up = refused - refunded
        relayed = acc_relay + _total(comm, via_street & ~is_street[issuer], n_c)
        refused_by_s = _total(issuer, via_street, n_i)
        refused_by_i = np.bincount(issuer, None, n_i)
        routes = np.array((direct_i, street_i))  # pushed: directly (row 0), via the street (1)
        refused_routes = np.array((refused_by_i - refused_by_s, refused_by_s))
        _learn(world, p, s, routes, refused_routes, refused_by_i)
        _stance(world, p, refused, retaliated)

        # Expected composition by need type of what is given up and of what staff accept, and of
        # what is funded (sent with funding first, or funded after a refusal).
        need_w = s.need_w
        f_c = 1 - f_i
        svc_d, svc_s = push_d[:, SERVICE], push_s[:, SERVICE]
        rho_d_c, rho_s_c = rho_d[:, None], rho_s[:, None]
        # by need type: given up (0) and accepted (1), then the rest of their flows (2, 3)
        by_need = np.empty((2, n_c, N_NEEDS))
        total = np.empty((2, n_c))
        undone_need = np.add(
            rates @ (need_w * pi_withdraw[:, SERVICE, None]),
            (rates @ (need_w * (svc_d * f_c)[:, None])) * rho_d_c,
            out=by_need[0],
        )
        undone_need += (rates @ (need_w * (svc_s * f_c)[:, None])) * rho_s_c
        np.add(
            withdraw_lam + (rates @ (direct_i * f_c)) * rho_d,
            (rates @ (street_i * f_c)) * rho_s,
            out=total[0],
        )
        np.add(
            (rates @ (need_w * svc_d[:, None])) * accept_d[:, None],
            (rates @ (need_w * svc_s[:, None])) * accept_s[:, None],
            out=by_need[1],
        )
        np.add(acc_d_lam, (rates @ street_i) * accept_s, out=total[1])
        counts = np.empty(2 * n_c, np.int64)
        np.add(withdrawn, given_up, out=counts[:n_c])
        counts[n_c:] = accepted
        undone_by_need, accepted_by_need = _split(
            entry, counts, by_need.reshape(2 * n_c, N_NEEDS), total.reshape(2 * n_c)
        ).reshape(2, n_c, N_NEEDS)
        funded_need = (
            rates @ (need_w * pi_fund[:, SERVICE, None])
            + (rates @ (need_w * (svc_d * f_i)[:, None])) * rho_d_c
            + (rates @ (need_w * (svc_s * f_i)[:, None])) * rho_s_c
        )
        funded_all = (
            fund_lam
            + (rates @ (direct_i * f_i)) * rho_d
            + (rates @ (street_i * f_i)) * rho_s
            + s.crept_funded_lam
        )
        funded_need += s.crept_funded_need
        crept_by_need = crept[:, None] * s.crept_share
    else:
        unlisted_lam = rates @ (w.sum(axis=1) + s.crept_u)  # used twice below
        lam = np.empty(3 * n_c)
        lam[: 2 * n_c] = s.crept_lams
        lam[2 * n_c :] = unlisted_lam
        # crept items are drawn and dropped: without entry control nothing is refusable, so all
        # unlisted items are accepted
        accepted = entry.poisson(lam)[2 * n_c :]
        crept = crept_funded = fund_first = withdrawn = refused = refunded = given_up = s.zeros
        retaliated = relayed = s.zeros
        undone_by_need = s.zeros_need
        accepted_by_need = _split(entry, accepted, s.free_need, unlisted_lam)
        funded_need = funded_all = None
        crept_by_need = s.zeros_need

    funded = fund_first + refunded + crept_funded
    # Funded items fall in the categories evenly; catalogue and funded items of a category go to
    # the holder of that lot, if there is one. Funded items without a lot holder are bought from
    # the best registered agency of the street (费随事转: the money buys the task), if any.
    lots = world.lots
    # Only communities with funded items draw (a multinomial of 0 draws nothing from the stream,
    # so this is the same sequence as drawing for every community, without 87 calls, issue 12).
    some = funded.nonzero()[0]
    held = (lots.holder >= 0).reshape(-1, k)
    to_org_ck = np.where(held, catalogue_ck, 0)
    if k and len(some):
        funded_ck = np.zeros((n_c, k), np.int64)
        funded_ck[some] = entry.multinomial(funded[some], s.even)
        funded_held = np.where(held, funded_ck, 0)
        to_org_ck += funded_held
        funded_held_c = funded_held.sum(axis=1)
        funded_unheld = funded - funded_held_c  # (each row of funded_ck adds up to funded)
        provider = street_providers(world)[c.street]
        funded_org = np.where(provider >= 0, funded_unheld, 0)
        funded_provider = np.where(funded_org > 0, provider, -1)
    else:  # nothing funded (so always without entry control): no agency is looked for
        funded_held = np.zeros((n_c, k), np.int64)
        funded_held_c = funded_org = s.zeros
        funded_provider = np.full(n_c, -1)
    to_org = to_org_ck.sum(axis=1)
    issued = catalogue + other_listed
    issued += crept
    issued += funded
    to_staff = issued + accepted
    to_staff -= to_org
    to_staff -= funded_org

    h = p.hours_per_item
    np.multiply(to_org_ck.ravel(), h, out=lots.item_hours)
    lots.funded_items[...] = funded_held.ravel()
    # Each item counts once: a refused item its issuer then funds is in `funded` (and refused).
    undone = withdrawn + given_up
    np.add(issued, accepted, out=c.items_issued)
    np.add(c.items_issued, undone, out=c.items_issued)
    np.subtract(c.items_issued, withdrawn, out=c.items_received)
    c.items_refused[...] = refused
    c.items_withheld[...] = withdrawn
    c.items_funded[...] = funded
    c.items_refunded[...] = refunded
    c.items_unlisted_accepted[...] = accepted
    c.items_via_street[...] = relayed
    c.items_crept[...] = crept
    c.items_retaliated[...] = retaliated
    np.multiply(to_staff, h, out=c.staff_item_hours)
    np.multiply(to_org, h, out=c.org_item_hours)
    np.multiply(funded_org, h, out=c.funded_org_hours)
    world.funded_provider = funded_provider
    np.multiply(undone, h, out=c.undone_hours)
    # Service items by need type (model v2): funded ones in their expected proportions (no draw,
    # so nothing else in the run changes), then routed as all funded items were.
    # Service types listed at a review keep their need type (crept items land on staff).
    to_org_funded = funded_held_c + funded_org
    org_share = np.divide(to_org_funded, funded, out=np.zeros(n_c), where=funded > 0)
    if funded_need is None:
        staff_by_need = accepted_by_need + crept_by_need
        world.need_funded_org = s.zeros_need.copy()
        world.need_issued = (undone_by_need + accepted_by_need + crept_by_need) * h
    else:
        funded_by_need = funded[:, None] * _shares(funded_need, funded_all)
        staff_by_need = accepted_by_need + crept_by_need
        staff_by_need += funded_by_need * (1 - org_share)[:, None]
        world.need_funded_org = funded_by_need * h * org_share[:, None]
        issued_need = undone_by_need + accepted_by_need
        issued_need += crept_by_need
        issued_need += funded_by_need
        issued_need *= h
        world.need_issued = issued_need
    world.need_undone = undone_by_need * h
    staff_by_need *= h
    world.need_staff_new = staff_by_need


class _Static:
    """What :func:`flow_items` reads that moves only at list reviews (the issuers' item-type mix,
    :func:`~sim.processes.departments.issuer_mix`) or not at all in a run (the item rates, the
    issuers, the catalogue, the parameters): computed once per state and kept while it holds
    (issue 12). Every array is computed by the same operations as when it was computed monthly,
    so the numbers, and the draws made with them, are the same."""

    def __init__(self, world: World, policy: Policy, params: Params, mix: dict[str, np.ndarray]):
        rates, iss = world.item_rates, world.issuers
        n_c, n_i = rates.shape
        self.rates, self.mix, self.params = rates, mix, params
        self.catalogue_size = policy.catalogue_size
        self.catalogue_shares = world.catalogue_share
        u = self.u = iss.unlisted_share.copy()
        self.u_bytes = u.tobytes()
        cat_share = world.catalogue_share[policy.catalogue_size]  # by category (A3)
        self.cat_bytes = cat_share.tobytes()
        self.k = cat_share.size
        self.even = np.full(self.k, 1 / self.k) if self.k else np.zeros(0)
        listed_rate = world.rates_product(1 - u)
        self.listed_lam = np.concatenate(
            ((listed_rate[:, None] * cat_share).ravel(), listed_rate * (1 - cat_share.sum()))
        )
        cs = params.campaign_share
        self.w = np.zeros((n_i, N_CLASSES))
        self.w[:, SERVICE] = u * mix["service"]
        self.w[:, ROUTINE] = u * (mix["admin"] * (1 - cs))
        admin_cs = mix["admin"] * cs
        # campaign items, u * (admin_cs * campaign_multiplier), in a campaign and without one
        on, off = campaign_levels(params)
        self.camp_on = u * (admin_cs * on)
        self.w[:, CAMPAIGN] = u * (admin_cs * off)
        self.need_w = u[:, None] * mix["need"]  # issuers x need types (service class)
        self.crept_lams = np.concatenate(
            (world.rates_product(u * mix["crept"]), world.rates_product(u * mix["crept_funded"]))
        )
        self.crept_lam, self.crept_funded_lam = self.crept_lams[:n_c], self.crept_lams[n_c:]
        self.crept_u = u * (mix["crept"] + mix["crept_funded"])
        self.crept_funded_need = world.rates_product(u[:, None] * mix["crept_funded_need"])
        self.crept_share = _shares(
            world.rates_product(u[:, None] * mix["crept_need"]), self.crept_lam
        )
        crept_need = u[:, None] * (mix["crept_need"] + mix["crept_funded_need"])
        self.free_need = world.rates_product(self.need_w + crept_need)
        self.is_street = iss.kind == STREET_ISSUER
        self.is_street_col = self.is_street[:, None]
        self.pair_c, self.pair_i = world.item_pairs()
        self.pair_rate = rates[self.pair_c, self.pair_i]
        self.rate_i = rates.sum(axis=0)  # items per month from each issuer
        self.sent_i = self.rate_i * u  # expected unlisted items per issuer
        self.some_sent = self.sent_i > 0
        self.zeros = np.zeros(n_c, np.int64)
        self.zeros_need = np.zeros((n_c, N_NEEDS))
        for value in vars(self).values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    def holds(self, world: World, policy: Policy, params: Params, mix: object) -> bool:
        """Whether the state this was computed for is still the world's."""
        rates = world.item_rates
        return (
            self.mix is mix
            and self.rates is rates
            and not rates.flags.writeable
            and self.params is params
            and self.catalogue_size == policy.catalogue_size
            and self.catalogue_shares is world.catalogue_share
            and self.u_bytes == world.issuers.unlisted_share.tobytes()
            and self.cat_bytes == world.catalogue_share[policy.catalogue_size].tobytes()
        )


_STATIC: weakref.WeakKeyDictionary[World, _Static] = weakref.WeakKeyDictionary()


def _static(world: World, policy: Policy, params: Params) -> _Static:
    """The kept :class:`_Static` of the world's state, or a new one."""
    mix = issuer_mix(world)
    kept = _STATIC.get(world)
    if kept is not None and kept.holds(world, policy, params, mix):
        return kept
    kept = _Static(world, policy, params, mix)
    _STATIC[world] = kept
    return kept


def street_providers(world: World) -> np.ndarray:
    """Per street, the alive registered agency (local or brand) of highest capacity, or -1; of
    agencies of equal capacity the last row (as a stable sort by capacity would rank them)."""
    o, n_s = world.orgs, len(world.streets)
    rows = (o.alive & o.registered & (o.kind != GRASSROOTS)).nonzero()[0]
    if len(rows) > _FEW_AGENCIES:
        return _street_providers_sorted(rows, o.street[rows], o.capacity[rows], n_s)
    # Few agencies (a few dozen in Wuhou): a scan in row order costs less than the sort's numpy
    # calls. A later row wins unless its capacity is lower (NaN sorts last, as in argsort).
    best, top = [-1] * n_s, [0.0] * n_s
    streets, caps = o.street[rows].tolist(), o.capacity[rows].tolist()
    for row, street, cap in zip(rows.tolist(), streets, caps, strict=True):
        held = top[street]
        if best[street] < 0 or not (cap < held or (held != held and cap == cap)):
            best[street], top[street] = row, cap
    return np.array(best, np.int64)


_FEW_AGENCIES = 128


def _street_providers_sorted(
    rows: np.ndarray, street: np.ndarray, capacity: np.ndarray, n_s: int
) -> np.ndarray:
    """:func:`street_providers` by a stable sort of the agencies by capacity."""
    order = np.argsort(capacity, kind="stable")
    rows = rows[order]
    rank = np.full(n_s, -1)
    np.maximum.at(rank, street[order], np.arange(len(rows)))
    return np.where(rank >= 0, rows[np.maximum(rank, 0)], -1)


def _split(
    rng: np.random.Generator, counts: np.ndarray, by_need: np.ndarray, total: np.ndarray
) -> np.ndarray:
    """Split item counts per community into need types (and the rest) by expected shares."""
    n = by_need.shape[1]
    weights = np.empty((len(total), n + 1))
    weights[:, :n] = by_need
    need_sum = np.add.reduce(by_need, 1)
    rest = weights[:, n]
    np.subtract(total, need_sum, out=rest)
    np.maximum(rest, 0.0, out=rest)
    # numpy adds a row of fewer than 8 values in order, so the row's sum is the need types' sum
    # plus the rest (the same number as weights.sum(axis=1): a test checks it; issue 12)
    s = np.add(need_sum, rest, out=need_sum)[:, None]
    if len(s) and s.min() > 0:  # every row has a flow (False if any is NaN)
        probs = np.divide(weights, s, out=weights)
    else:
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
    by: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``n`` refused items placed in cells (the pairs directly, then the pairs via the street)
    whose Poisson means have the cumulative sum ``cum``, each then refunded and punished with its
    pair's chances (``refund``, ``retaliation``: per pair, or per issuer if ``by`` gives each
    pair's issuer). Returns per item whether it came via the street, its pair, and whether it is
    refunded and whether it meets a reprisal."""
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
    of = pair if by is None else by[pair]
    return via_street, pair, u[1] < refund[of], u[2] < retaliation[of]


def _learn(
    world: World,
    p: Params,
    s: _Static,
    routes: np.ndarray,
    refused_routes: np.ndarray,
    refused_i: np.ndarray,
) -> None:
    """Issuers update their expected refusal rate by route and their compliance norm, from the
    items each refused (rows of ``routes`` and ``refused_routes``: directly sent, handed down by
    the street) and all it refused (``refused_i``)."""
    iss = world.issuers
    # Both routes in one update (it is elementwise), written where items were sent.
    sent = s.rate_i * routes  # items per month from each issuer, by route
    some = sent > 0
    beliefs = np.array((iss.belief_direct, iss.belief_street))
    _belief_step(beliefs, p.belief_adjust, sent, refused_routes, some)
    np.copyto(iss.belief_direct, beliefs[0], where=some[0])
    np.copyto(iss.belief_street, beliefs[1], where=some[1])
    # compliance + learning * min(refused / sent, 1) * (1 - compliance), in place
    compliance = iss.compliance
    rate = np.divide(refused_i, s.sent_i, out=np.zeros(len(compliance)), where=s.some_sent)
    np.minimum(rate, 1, out=rate)
    rate *= p.compliance_learning
    rate *= 1 - compliance
    np.add(compliance, rate, out=compliance)


def _belief(old: np.ndarray, a: float, sent: np.ndarray, refused: np.ndarray) -> np.ndarray:
    """An expected refusal rate moved by ``a`` toward the refusals seen, where items were sent."""
    some = sent > 0
    new = old.copy()
    _belief_step(new, a, sent, refused, some)
    return np.where(some, new, old)


def _belief_step(
    belief: np.ndarray, a: float, sent: np.ndarray, refused: np.ndarray, some: np.ndarray
) -> None:
    """:func:`_belief`'s step, ``belief + a * (min(refused / sent, 1) - belief)``, in place where
    ``some`` (sent > 0); elsewhere ``belief`` is left with a value that is not to be used."""
    seen = np.divide(refused, sent, out=np.zeros(sent.shape), where=some)
    np.minimum(seen, 1, out=seen)
    seen -= belief
    seen *= a
    np.add(belief, seen, out=belief)


def _stance(world: World, p: Params, refused: np.ndarray, retaliated: np.ndarray) -> None:
    """Communities grow bolder after unpunished refusals and warier after reprisals."""
    c = world.communities
    some = refused > 0
    punished = np.divide(retaliated, refused, out=np.zeros(len(c)), where=some)
    target = p.refusal_boldness * (1 - punished) - p.retaliation_fear * punished
    np.copyto(
        c.refusal_stance,
        c.refusal_stance + p.stance_adjust * (target - c.refusal_stance),
        where=some,
    )
