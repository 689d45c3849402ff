"""Process 7: social organizations live and die.

Money: income (contracts, projects, funded items, members' dues) minus costs (wages, overhead,
group running costs, the cost of staying registered) moves reserves; an organization whose reserves
stay negative for ``insolvency_months`` folds. Capacity grows with funded work, incubation, the
district base and working beside brand agencies, and decays in idle agencies. Grassroots groups form
where residents participate, faster in streets with service centres; they gain and lose members,
and register when they meet the threshold (members, capital, prior approval) and choose to.
Local agencies are founded when the announced budgets exceed what existing agencies can absorb.
Exits follow an age- and size-dependent hazard (B8) on top of insolvency and dissolution.
Registered organizations outside community services are counted as an aggregate stock.
"""

from __future__ import annotations

import numpy as np

from sim.params import Params, Policy
from sim.world import AGENCY, BRAND, GRASSROOTS, NEVER, World

B4_MEMBERS = Policy.model_fields["registration_members"].default
B4_CAPITAL = Policy.model_fields["registration_capital"].default


def settle_finances(world: World, policy: Policy, params: Params) -> None:
    p, o, w = params, world.orgs, world.workers
    n_o = len(o)
    employer = w.employer
    employed = employer >= 0
    employed &= w.alive
    # (workers without an employer summed into an extra bin: the same sums, no masked copies)
    by_emp = np.where(employed, employer, np.intp(n_o))
    wage_bill = np.bincount(by_emp, w.wage, n_o + 1)[:n_o] * p.employer_cost_factor
    group = o.kind == GRASSROOTS
    members = o.members
    supported = o.incubated_until > world.t
    supported |= o.hosted
    relief = np.where(supported, p.hosted_cost_factor, 1.0)
    running = np.where(group, members * p.group_activity_cost_per_member, p.agency_overhead)
    # Groups spend most of a micro-project grant on the activities it pays for.
    project_costs = np.where(group, o.project_income * (1 - p.project_overhead_share), 0.0)
    other = np.where(group, members * p.dues_per_member, p.agency_outside_income)
    income = np.add(o.contract_income, o.project_income, out=o.income)
    income += other
    running *= relief
    costs = np.add(wage_bill, running, out=o.costs)
    costs += project_costs
    costs += o.registered * p.registered_compliance_cost
    reserves, alive = o.reserves, o.alive
    settled = reserves + income
    settled -= costs
    np.copyto(reserves, settled, where=alive)
    neg_months = o.neg_months
    neg_months += 1
    neg_months *= alive & (reserves < 0)


def learn(world: World, policy: Policy, params: Params) -> None:
    """Capacity and reputation."""
    p, o, pol = params, world.orgs, policy
    kind, alive, capacity = o.kind, o.alive, o.capacity
    active = o.delivered_hours > 0
    incubated = o.incubated_until > world.t
    brand = kind == BRAND
    n_brand = np.bincount(o.street[alive & brand], None, len(world.streets))
    spill = (n_brand / (n_brand + 1.0))[o.street] * (kind == AGENCY)
    local_registered = o.registered & ~brand
    growth = p.capacity_learning * active
    growth += p.incubation_learning * incubated
    growth += p.base_learning * pol.incubation_base * local_registered
    growth += p.brand_spillover * spill
    idle = ~(active | incubated)
    idle &= kind != GRASSROOTS
    cap = growth * (1 - capacity)
    cap += capacity
    cap -= p.capacity_decay * capacity * idle
    np.maximum(cap, 0.0, out=cap)  # np.clip's values, without its wrapper's cost
    np.minimum(cap, 1.0, out=cap)
    np.copyto(capacity, cap, where=alive)
    # Reputation follows the quality delivered and the satisfaction of the residents served
    # (model v2): residents' judgement feeds back on who is trusted with the next contract.
    sat = world.communities.satisfaction
    lots = world.lots
    holder, delivered = lots.holder, lots.delivered
    has = holder >= 0
    n_o = len(o)
    # (lots without a holder summed into an extra bin: the same sums, no masked copies)
    by_holder = np.where(has, holder, np.intp(n_o))
    item_hours = np.bincount(by_holder, delivered, n_o + 1)[:n_o]
    item_sat = np.bincount(by_holder, delivered * sat[lots.community], n_o + 1)[:n_o]
    project_community = o.project_community
    project_hours = np.maximum(o.delivered_hours - item_hours, 0)
    project_hours *= project_community >= 0
    project_sat = project_hours * sat[np.maximum(project_community, 0)]
    served = item_hours + project_hours
    quality = o.quality
    judged = np.divide(item_sat + project_sat, served, out=quality.copy(), where=served > 0)
    wsat = p.reputation_satisfaction_weight * (p.satisfaction_feedback == "on")
    record = (1 - wsat) * quality
    record += wsat * judged
    reputation = o.reputation
    record -= reputation
    record *= p.reputation_smoothing
    record += reputation
    np.copyto(reputation, record, where=active)


def change_members(world: World, policy: Policy, params: Params) -> None:
    p, o, c = params, world.orgs, world.communities
    rng = world.streams.orgs
    group = o.alive & (o.kind == GRASSROOTS)
    rel = c.participation / max(p.participation_initial, 1e-9)
    home = np.maximum(o.community, 0)
    joins = rng.poisson(o.members * p.member_recruitment * rel[home])
    leaves = rng.binomial(o.members.astype(np.int64), p.member_attrition)
    members = o.members
    np.copyto(members, members + joins - leaves, where=group)


def form_groups(world: World, policy: Policy, params: Params) -> None:
    p, c = params, world.communities
    rng = world.streams.orgs
    centres = world.streets.service_centres[c.street]
    rate = p.group_formation_rate * c.residents * c.participation / 1000
    rate = rate * (1 + p.centre_formation_boost * centres)
    new = rng.poisson(rate)
    home = np.repeat(np.arange(len(c)), new)
    k = len(home)
    if k == 0:
        return
    members = 3 + rng.poisson(max(p.members_initial_mean - 3, 0), k)
    world.add_orgs(
        GRASSROOTS,
        k,
        community=home,
        street=c.street[home],
        members=members,
        capacity=rng.beta(2, 5, k),
        reputation=p.new_org_reputation,
        reserves=members * p.dues_per_member * rng.uniform(0, p.new_group_reserve_months, k),
    )
    world.month_stats["formed"] += k


def found_agencies(world: World, policy: Policy, params: Params) -> None:
    """New local agencies when announced budgets exceed what agencies can absorb."""
    p, o = params, world.orgs
    rng = world.streams.orgs
    horizon = range(world.t, world.t + p.agency_lookahead_months + 1)
    budget = max(q.purchase_budget + q.project_budget for q in map(world.schedule.at, horizon))
    pros = o.alive & (o.kind != GRASSROOTS)
    workers = world.workers_per_org()
    absorb = (workers + p.expansion_workers_per_capacity * o.capacity) * pros
    absorb_yuan = absorb.sum() * p.worker_hours_per_month * p.service_hour_price * 12
    gap = max(0.0, budget - absorb_yuan)
    k = rng.poisson(p.agency_entry_rate * gap / 1e7)
    if k == 0:
        return
    street_p = world.streets.population / world.streets.population.sum()
    world.add_orgs(
        AGENCY,
        k,
        street=rng.choice(len(street_p), k, p=street_p),
        capacity=rng.uniform(p.new_agency_capacity_min, p.new_agency_capacity_max, k),
        reserves=p.agency_initial_reserves * rng.uniform(0.5, 1.5, k),
        reputation=p.new_org_reputation,
    )
    world.month_stats["agencies_founded"] += k


def register(world: World, policy: Policy, params: Params) -> None:
    p, o, pol = params, world.orgs, policy
    rng = world.streams.orgs
    n = len(o)
    draws = rng.random((2, n))
    # Agencies register as 民办非企业单位 after a fixed delay; A12 concerns community groups only.
    registered, registered_step = o.registered, o.registered_step
    group = o.kind == GRASSROOTS
    unreg = ~registered
    unreg &= o.alive
    pro = unreg & ~group
    pro &= world.t - o.born_step >= p.agency_registration_delay
    if np.count_nonzero(pro):
        registered |= pro
        registered_step[pro] = world.t

    unreg &= group  # (pro has no groups: the unregistered groups are those before it)
    supported = (o.incubated_until > world.t) | o.hosted
    if pol.registration_prior_approval:
        boost = 1 + p.support_approval_boost * supported
        approved = o.approved
        approved |= unreg & (draws[0] < p.prior_approval_rate * boost)
    eligible = unreg & (o.members >= pol.registration_members)
    eligible &= o.reserves >= pol.registration_capital
    if pol.registration_prior_approval:
        eligible &= o.approved
    rate = p.registration_apply_rate
    applies = draws[1] < np.where(supported, rate * p.support_registration_multiplier, rate)
    applies &= eligible
    looser = (
        pol.registration_members < B4_MEMBERS
        or pol.registration_capital < B4_CAPITAL
        or not pol.registration_prior_approval
    )
    n_applied = np.count_nonzero(applies)
    if n_applied:
        registered |= applies
        registered_step[applies] = world.t
        if looser:
            new_rule = o.new_rule
            new_rule |= applies
    world.month_stats["registrations"] += n_applied
    world.month_stats["registrations_new_rule"] += n_applied if looser else 0


def support(world: World, policy: Policy, params: Params) -> None:
    """Incubation places and office space in service centres."""
    p, o, pol = params, world.orgs, policy
    rng = world.streams.orgs
    t = world.t
    slots = pol.incubation_centres * p.incubation_slots
    busy = np.count_nonzero(o.alive & (o.incubated_until > t))
    free = slots - busy
    if free > 0:
        young = (t - o.born_step) < p.incubation_max_age
        cand = (o.alive & (o.kind != BRAND) & (o.incubated_until == NEVER) & young).nonzero()[0]
        if len(cand):
            score = o.capacity[cand] + o.members[cand] / p.incubation_members_scale
            score = score + rng.uniform(0, p.incubation_score_noise, len(cand))
            chosen = cand[np.argsort(-score, kind="stable")[:free]]
            o.incubated_until[chosen] = t + p.incubation_months
            o.reserves[chosen] += p.incubation_grant
            world.year_books().incubation_grants += p.incubation_grant * len(chosen)
            world.month_stats["incubated"] += len(chosen)

    group = (o.alive & (o.kind == GRASSROOTS)).nonzero()[0]
    o.hosted.fill(False)
    if len(group) == 0 or not np.count_nonzero(world.streets.service_centres):
        return
    street = o.street[group]
    capacity = world.streets.service_centres * p.centre_slots
    # By street, registered first, then by members (most first), ties by row: the order of
    # np.lexsort((-members, -registered, street)). Members are whole numbers: with few enough
    # streets and members, one stable sort of a 16-bit key (street, unregistered, fewer members
    # than the most), which numpy radix-sorts; otherwise two stable sorts, the second on a small
    # integer key (lexsort cost about a tenth of process 7, and the sort of the members as floats
    # a third of this function; issue 12).
    members = o.members[group]
    whole = members.astype(np.uint16)  # (not equal to a member that is not a 16-bit whole number)
    top = int(whole.max())
    bits = top.bit_length()
    unregistered = ~o.registered[group]
    if (2 * len(capacity)) << bits <= 2**16 and np.array_equal(whole, members):
        key = street.astype(np.uint16)
        key *= 2
        key += unregistered
        key <<= bits
        key += top
        key -= whole
        order = np.argsort(key, kind="stable")
    else:
        order = np.argsort(-members, kind="stable")
        key = street.astype(np.int16 if len(capacity) < 2**14 else np.int64)
        key *= 2
        key += unregistered
        order = order[np.argsort(key[order], kind="stable")]
    s_sorted = street[order]
    rank = np.arange(len(order)) - np.searchsorted(s_sorted, s_sorted)
    o.hosted[group[order[rank < capacity[s_sorted]]]] = True


def exit_organizations(world: World, policy: Policy, params: Params) -> None:
    p, o = params, world.orgs
    rng = world.streams.orgs
    age = o.born_step - world.t
    h = p.group_exit_size_half
    group = o.kind == GRASSROOTS
    members = o.members
    size = np.where(group, 2 * h / (members + h), 1.0)
    youth = np.exp(age / p.exit_youth_decay_months)
    youth *= p.exit_youth_multiplier
    youth += 1
    hazard = p.exit_base_rate / 12 * youth
    hazard *= size
    draw = rng.random(len(o))
    dissolved = group & (members < p.min_members)
    insolvent = o.neg_months >= p.insolvency_months
    out = o.alive & ((draw < hazard) | dissolved | insolvent)
    rows = out.nonzero()[0]
    world.month_stats["exits"] += len(rows)
    world.month_stats["exits_registered"] += np.count_nonzero(o.registered[rows])
    world.remove_orgs(rows)

    # Organizations outside community services: an aggregate stock with B8's rates.
    entries = rng.poisson(world.other_orgs * p.other_orgs_entry / 12)
    leaving = rng.binomial(world.other_orgs, p.exit_base_rate / 12)
    world.other_orgs += int(entries) - int(leaving)


def organizations_month(world: World, policy: Policy, params: Params) -> None:
    """All of process 7, in order."""
    settle_finances(world, policy, params)
    learn(world, policy, params)
    change_members(world, policy, params)
    form_groups(world, policy, params)
    found_agencies(world, policy, params)
    register(world, policy, params)
    support(world, policy, params)
    exit_organizations(world, policy, params)
