"""Process 4: purchase of services (政府购买服务) and public-interest projects, with the books.

Budgets are yearly appropriations. Each month one twelfth of the lever's value in force that month
is appropriated, so a year's appropriation follows the policy timeline exactly. Contracts are let
for the rest of the calendar year in January, at the first step, and whenever a lever that shapes
the letting changes.

A lot is one community's catalogue items of one category (A3); its fee is set by the expected
workload (以事定费, A7). Lots are bought, most burdened community first, while the money lasts.
A tender awards each lot to the best-value qualified bidder that can still staff it; a commission
awards it directly, preferring the incumbent and organizations from the lot's street. Money is paid
monthly for work actually delivered, so what organizations cannot absorb stays unspent.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.params import Params, Policy
from sim.processes.delivery import coordination_share
from sim.processes.labour import wages
from sim.world import BRAND, GRASSROOTS, World

PURCHASE_LEVERS = (
    "purchase_budget",
    "catalogue_size",
    "procurement_mode",
    "tender_min_capacity",
    "tender_lot_cap",
    "local_preference",
    "community_reserved_share",
)


def months_left_in_year(world: World) -> int:
    """Months from this one to the end of its calendar year (12 in January)."""
    return 12 - (world.month_index % 12)


def appropriate(world: World, policy: Policy, params: Params) -> None:
    """Add this month's twelfth of each budget line; plan, let and re-let when due."""
    books = world.year_books()
    pol = policy
    books.purchase_appropriated += pol.purchase_budget / 12
    books.project_appropriated += pol.project_budget / 12
    new_year = world.month_index % 12 == 0 or world.t in (0, world.first_t)
    quarter = world.month_index % params.retender_months == 0
    new_projects = new_year or world.schedule.changed(world.t, "project_budget")
    if new_projects:
        # last year's projects end before lots are weighed against them
        plan_projects(world, policy, params)
    if new_year or world.schedule.changed_any(world.t, PURCHASE_LEVERS):
        plan_lots(world, policy, params)
        award_lots(world, policy, params)
    elif quarter:
        award_lots(world, policy, params)  # lots still unlet, or left by a folded organization
    if new_projects or quarter:
        call_projects(world, policy, params)


def expected_lot_hours(world: World, policy: Policy, params: Params) -> np.ndarray:
    """Expected monthly hours of catalogue items in each lot (community x category, flattened)."""
    share = world.catalogue_share[policy.catalogue_size]
    listed = world.rates_product(1 - world.issuers.unlisted_share)
    return (np.outer(listed, share) * params.hours_per_item).ravel()


def org_headroom(world: World, params: Params) -> np.ndarray:
    """Hours per month each organization could staff if it won more work now (productive hours,
    after the coordination cost of the larger workforce)."""
    o, p, lots = world.orgs, params, world.lots
    workers = world.workers_per_org()
    has = lots.holder >= 0
    held = np.bincount(lots.holder[has], lots.hours[has], len(o))
    own_projects = np.where(o.kind != GRASSROOTS, o.project_hours, 0.0)
    size = workers + p.expansion_workers_per_capacity * o.capacity
    hours = size * p.worker_hours_per_month * (1 - coordination_share(size, p))
    return np.where(o.alive, hours - own_projects - held, 0.0)


def unit_costs(
    world: World, params: Params, bidders: np.ndarray, extra_workers: np.ndarray
) -> np.ndarray:
    """Cost per productive hour of each bidder (columns) if it took on work needing
    ``extra_workers`` more workers (rows): the wage of an uncertified worker at its capacity,
    employer costs, and the coordination cost of the larger workforce."""
    p = params
    wage = wages(world, params, bidders, np.zeros(len(bidders), bool)) * p.employer_cost_factor
    size = world.workers_per_org()[bidders][None, :] + extra_workers[:, None]
    productive = p.worker_hours_per_month * (1 - coordination_share(size, p))
    return wage[None, :] / productive


def plan_lots(world: World, policy: Policy, params: Params) -> None:
    """Close current contracts and decide which lots to buy for the rest of the year."""
    pol, p, lots = policy, params, world.lots
    books = world.year_books()
    lots.last_holder = np.where(lots.holder >= 0, lots.holder, lots.last_holder)
    lots.holder = -1
    lots.month_fee = 0.0
    lots.hours = 0.0
    lots.planned = False
    lots.awarded = False
    release_commitments(world, np.arange(len(lots)))
    left = months_left_in_year(world)
    money = pol.purchase_budget * left / 12
    hours = expected_lot_hours(world, policy, params)
    fees = hours * p.service_hour_price * left
    if money <= 0 or hours.sum() <= 0:
        return
    # Buy the lots of the most burdened communities (expected hours per staff member) first.
    burden = hours.reshape(len(world.communities), -1).sum(axis=1) / world.communities.staff
    order = np.lexsort((-hours, -burden[lots.community]))
    fits = np.cumsum(fees[order]) <= money
    chosen = order[fits & (fees[order] > 0)]
    lots.planned[chosen] = True
    books.lots_offered += len(chosen)
    # Reserved for community-based organizations: the smallest lots, up to the lever's share of
    # the money (small lots suit small organizations).
    lots.reserved = False
    if pol.community_reserved_share > 0 and len(chosen):
        by_fee = chosen[np.argsort(fees[chosen], kind="stable")]
        within = np.cumsum(fees[by_fee]) <= pol.community_reserved_share * fees[chosen].sum()
        lots.reserved[by_fee[within]] = True


def release_commitments(world: World, rows: np.ndarray) -> None:
    """Money promised under contracts that end early is no longer committed (in the books of the
    year the contract was let)."""
    lots = world.lots
    open_rows = rows[lots.remaining[rows] > 0]
    for year in np.unique(lots.year[open_rows]):
        mine = open_rows[lots.year[open_rows] == year]
        if int(year) in world.books:
            world.books[int(year)].purchase_committed -= float(lots.remaining[mine].sum())
    lots.remaining[rows] = 0.0


def award_lots(world: World, policy: Policy, params: Params) -> None:
    """Award planned lots that have no holder, for the months left in the year."""
    pol, p, lots, o = policy, params, world.lots, world.orgs
    rng = world.streams.procurement
    books = world.year_books()
    open_lots = np.flatnonzero(lots.planned & (lots.holder < 0))
    if len(open_lots) == 0:
        return
    release_commitments(world, open_lots)  # left by an organization that folded
    left = months_left_in_year(world)
    hours = expected_lot_hours(world, policy, params)
    fees = hours * p.service_hour_price * left
    local = o.alive & o.registered & (o.kind != BRAND)
    if pol.procurement_mode == "tender":
        eligible = o.alive & o.registered & (o.kind != GRASSROOTS)
        eligible &= o.capacity >= pol.tender_min_capacity
    else:
        eligible = o.alive & o.registered & (o.capacity >= p.commission_min_capacity)
    # Community-based organizations (local agencies and registered groups) may take reserved lots.
    community_based = local & (o.capacity >= p.commission_min_capacity)
    reserved = lots.reserved[open_lots]
    bidders = np.flatnonzero(eligible | (community_based & reserved.any()))
    if len(bidders) == 0:
        return
    headroom = org_headroom(world, params)[bidders]
    has = lots.holder >= 0
    held = np.bincount(lots.holder[has], None, len(o))[bidders]
    cap_lots = pol.tender_lot_cap if pol.tender_lot_cap > 0 else np.iinfo(np.int64).max
    same_street = o.street[bidders][None, :] == lots.street[open_lots][:, None]
    allowed = np.where(
        reserved[:, None],
        community_based[bidders][None, :] & same_street,
        eligible[bidders][None, :],
    )
    noise = rng.normal(0.0, p.procurement_score_noise, (len(open_lots), len(bidders)))
    markup = rng.uniform(0.0, 2 * p.bid_markup, (len(open_lots), len(bidders)))
    cap, rep = o.capacity[bidders], o.reputation[bidders]
    # Residents' satisfaction with the incumbent's work helps (or hurts) its renewal.
    incumbent = bidders[None, :] == lots.last_holder[open_lots][:, None]
    sat = world.communities.satisfaction[lots.community[open_lots]]
    w_renew = p.renewal_satisfaction_weight * (p.satisfaction_feedback == "on")
    renewal = incumbent * (w_renew * (sat - p.satisfaction_reference))[:, None]
    if pol.procurement_mode == "tender":
        # Bids follow costs: cost per productive hour plus a margin, at most the fee; a bidder
        # whose cost exceeds the fee does not bid; a discount beyond the floor is not accepted.
        extra = hours[open_lots] / p.worker_hours_per_month
        cost = unit_costs(world, params, bidders, extra)
        allowed &= cost <= p.service_hour_price
        bid = np.minimum(cost * (1 + markup), p.service_hour_price)
        discount = np.minimum(1 - bid / p.service_hour_price, p.tender_max_discount)
        rel = discount / p.tender_max_discount if p.tender_max_discount > 0 else 0 * discount
        score = p.tender_weight_capacity * cap + p.tender_weight_reputation * rep
        if p.tender_scoring == "quality_only":  # structural variant: no price competition
            discount = np.zeros_like(discount)  # every winner is paid the full fee
        else:
            score = score + p.tender_weight_price * rel
        score = score + p.tender_local_bonus * same_street + noise + renewal
        score = score + pol.local_preference * (o.kind[bidders] != BRAND)[None, :]
    else:
        favoured = incumbent & (rep >= p.commission_incumbent_min_reputation)
        score = p.commission_weight_incumbent * favoured + p.commission_weight_local * same_street
        score = score + p.commission_weight_capacity * cap + p.commission_weight_reputation * rep
        score = score + noise + renewal
        discount = np.zeros_like(markup)
    # Lots go one at a time in random order, each to the best allowed bidder that can still staff
    # it and is under the lot cap (a win uses up headroom), so the loop is sequential
    # (:func:`allocate_lots`).
    score = np.where(allowed, score, -np.inf)
    order = rng.permutation(len(open_lots))
    need = hours[open_lots]
    won_i, won_j = allocate_lots(order, score, allowed, need, headroom, held, cap_lots)
    if not len(won_i):
        return
    # The winners are paid their bids; the commitment is summed in the order the lots were let.
    price_of = fees[open_lots][won_i] * (1 - discount[won_i, won_j])
    committed = books.purchase_committed
    for price in price_of.tolist():
        committed += price
    books.purchase_committed = committed
    won = open_lots[won_i]
    lots.holder[won] = bidders[won_j]
    lots.month_fee[won] = price_of / left
    lots.hours[won] = hours[won]
    lots.remaining[won] = price_of
    lots.year[won] = world.month_index // 12
    again = lots.awarded[won]
    books.lots_relet += int(np.count_nonzero(again))
    books.lots_let += len(won) - int(np.count_nonzero(again))
    lots.awarded[won] = True


def allocate_lots(
    order: np.ndarray,
    score: np.ndarray,
    allowed: np.ndarray,
    need: np.ndarray,
    room: np.ndarray,
    held: np.ndarray,
    cap_lots: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Give lots (rows) to bidders (columns) one at a time, in ``order``: each to the bidder of
    highest ``score`` among those ``allowed`` that still have ``room`` for its ``need`` (hours)
    and hold fewer than ``cap_lots`` lots; ties go to the first such bidder, and a NaN score
    wins, as in ``np.argmax``. A win uses up the bidder's room and adds a lot to its ``held``.
    ``score`` must be ``-inf`` where not allowed. Returns the rows and columns of the wins, in
    the order they were made; ``room`` and ``held`` are not changed.

    Each row's bidders are ranked once (one stable sort of all rows, best first, ties by
    column); a lot then takes the first ranked bidder that qualifies, in Python steps on lists
    (a numpy search of the row when the favourite was full cost about 10 us a lot, and most
    lots of a January letting need it: issue 10). In the ranked rows a bidder that is not
    allowed is replaced by a column of its own, ``n`` (one past the last bidder), that holds the
    cap and so never qualifies: the steps check room and cap only (issue 12). With a NaN score
    the ranking would not follow ``np.argmax``, so such markets take the search
    (:func:`_allocate_searching`).
    """
    empty = np.zeros(0, np.int64)
    if score.size == 0:
        return empty, empty
    if np.isnan(score).any():
        return _allocate_searching(order, score, allowed, need, room, held, cap_lots)
    ranked = np.argsort(-score, axis=1, kind="stable")
    n = score.shape[1]
    ranked_ok = allowed.take(ranked + np.arange(0, score.size, n)[:, None])  # flat indices
    ranked = np.where(ranked_ok, ranked, n).tolist()
    room_of, held_of = np.array(room, float).tolist(), np.array(held, np.int64).tolist()
    room_of.append(0.0)
    held_of.append(cap_lots)  # column n: at the cap, never qualifies (and never wins)
    need_of = need.tolist()
    won_i: list[int] = []
    won_j: list[int] = []
    for i in order.tolist():
        need_i = need_of[i]
        row = ranked[i]
        j = row[0]  # the row's argmax
        if room_of[j] < need_i or held_of[j] >= cap_lots:
            # the favourite does not qualify (so it is not among those that do): the next
            # ranked that does, which is the argmax of the score over them
            for j in row:
                if room_of[j] >= need_i and held_of[j] < cap_lots:
                    break
            else:
                continue
        room_of[j] -= need_i
        held_of[j] += 1
        won_i.append(i)
        won_j.append(j)
    return np.array(won_i, np.int64), np.array(won_j, np.int64)


def _allocate_searching(
    order: np.ndarray,
    score: np.ndarray,
    allowed: np.ndarray,
    need: np.ndarray,
    room: np.ndarray,
    held: np.ndarray,
    cap_lots: int,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`allocate_lots` by ``np.argmax``: the row's best bidder when it qualifies, else the
    argmax over the bidders that do (a numpy search of the row)."""
    best = np.argmax(score, axis=1)
    best_ok = allowed[np.arange(len(score)), best].tolist()
    best_of = best.tolist()
    room_a, held_a = np.array(room, float), np.array(held, np.int64)
    room_of, held_of, need_of = room_a.tolist(), held_a.tolist(), need.tolist()
    won_i: list[int] = []
    won_j: list[int] = []
    for i in order.tolist():
        need_i = need_of[i]
        j = best_of[i]
        if not best_ok[i] or room_of[j] < need_i or held_of[j] >= cap_lots:
            fits = np.flatnonzero(allowed[i] & (room_a >= need_i) & (held_a < cap_lots))
            if len(fits) == 0:
                continue
            j = int(fits[np.argmax(score[i, fits])])
        room_of[j] -= need_i
        room_a[j] = room_of[j]
        held_of[j] += 1
        held_a[j] = held_of[j]
        won_i.append(i)
        won_j.append(j)
    return np.array(won_i, np.int64), np.array(won_j, np.int64)


def plan_projects(world: World, policy: Policy, params: Params) -> None:
    """End running projects and set aside the project money for the rest of the year."""
    o = world.orgs
    o.project_community = -1
    o.project_month_fee = 0.0
    o.project_hours = 0.0
    world.project_money = policy.project_budget * months_left_in_year(world) / 12


def call_projects(world: World, policy: Policy, params: Params) -> None:
    """Fund projects by competitive call from the money not yet committed this year."""
    p, o = params, world.orgs
    rng = world.streams.procurement
    books = world.year_books()
    left = months_left_in_year(world)
    # The smallest grant on offer: a kind whose grant is zero is offered none (and does not stop
    # the call for the other kind).
    offered = [g for g in (p.project_grant_group, p.project_grant_agency) if g > 0]
    smallest = min(offered, default=0.0) * left / 12
    if world.project_money < smallest or smallest <= 0:
        return  # no call without money for at least one grant
    # Registered organizations, and (model v2) grassroots groups whether registered or only
    # filed: micro-project calls are open to community self-organizations (B9).
    group = o.kind == GRASSROOTS
    candidates = np.flatnonzero(o.alive & (o.registered | group) & (o.project_community < 0))
    if len(candidates) == 0:
        return
    rate = np.where(group[candidates], p.group_project_apply_rate, p.project_apply_rate)
    applies = rng.random(len(candidates)) < rate
    score = o.capacity[candidates] + p.project_weight_reputation * o.reputation[candidates]
    score = score + rng.normal(0.0, p.project_score_noise, len(candidates))
    applicants = candidates[applies]
    books.projects_applied += len(applicants)
    is_group = group[applicants]
    # each kind's grant for the months left (the same product and quotient for every applicant)
    grant_group = p.project_grant_group * left / 12
    grant_agency = p.project_grant_agency * left / 12
    c = world.communities
    # An agency serves the least-covered community of its street not yet targeted by a project
    # (ties broken at random, so agencies in one street spread out).
    claimed = np.bincount(o.project_community[o.project_community >= 0], None, len(c))
    jitter = rng.random(len(c)) * 1e-6
    # Sequential (money and claims run down), on Python numbers: each community's rank
    # (coverage + claims + jitter, the same additions as on arrays) is kept in a list and
    # recomputed where a claim is added; a street's communities are listed once; the first
    # least rank of a street is np.argmin's (with a NaN rank, the first NaN: _least_rank).
    # The winners are written afterwards (issue 12).
    coverage = c.coverage_memory
    rank_of = (coverage + claimed + jitter).tolist()
    coverage_of, claimed_of, jitter_of = coverage.tolist(), claimed.tolist(), jitter.tolist()
    least = _least_rank(rank_of)
    streets: dict[int, list[int]] = {}
    street_of, home_of = o.street.tolist(), o.community.tolist()
    money = world.project_money
    committed = books.project_committed  # added to grant by grant, as the books would be
    won, targets, fees, hours = [], [], [], []
    merit = score[applies]
    order = np.argsort(-merit, kind="stable").tolist()
    merit_of, applicant_of, group_of = merit.tolist(), applicants.tolist(), is_group.tolist()
    bar = p.project_review_bar
    for k in order:
        if merit_of[k] < bar or money < smallest:
            break  # the review funds no proposal below its bar; no money, no more grants
        in_group = group_of[k]
        g = grant_group if in_group else grant_agency
        if g <= 0 or g > money:
            continue
        org = applicant_of[k]
        money -= g
        if in_group:
            target = home_of[org]
            hour_cost = p.project_group_hour_cost
        else:
            if not streets:
                for community, s in enumerate(c.street.tolist()):
                    streets.setdefault(s, []).append(community)
            target = least(streets[street_of[org]])
            hour_cost = p.service_hour_price
        claimed_of[target] += 1
        rank_of[target] = coverage_of[target] + claimed_of[target] + jitter_of[target]
        won.append(org)
        targets.append(target)
        fee = g / left
        fees.append(fee)
        hours.append(fee / hour_cost)
        committed += g
    books.project_committed = committed
    books.projects_funded += len(won)
    world.project_money = money
    o.project_community[won] = targets
    o.project_month_fee[won] = fees
    o.project_hours[won] = hours


def _least_rank(rank_of: list[float]) -> Callable[[list[int]], int]:
    """The member of a list of communities with the least ``rank_of``, the first of equals, as
    ``np.argmin`` over their ranks picks it (a NaN is least, the first NaN of the members)."""
    if all(r == r for r in rank_of):
        return lambda members: min(members, key=rank_of.__getitem__)
    return lambda members: min(members, key=lambda k: (rank_of[k] == rank_of[k], rank_of[k]))
