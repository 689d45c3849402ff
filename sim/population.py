"""Building a scenario's world at the start of a run: tables, structure and the first agents.

:func:`build_world` draws the district's issuers, item flows, catalogue, purchase lots, grassroots
groups, agencies and social workers from the ``init`` stream and returns a
:class:`~sim.world.World`. The Mesa agent objects are made by the model from the world's tables
and its recorded row changes (see :mod:`sim.world`).
"""

from __future__ import annotations

import numpy as np

from sim.district import District
from sim.needs import N_NEEDS, NEED_INDEX, NEED_TYPES, fit_matrix, need_hours
from sim.params import Params, Policy
from sim.schedule import PolicySchedule
from sim.tables import Table
from sim.world import (
    AGENCY,
    COMMUNITY_SCHEMA,
    DEPARTMENT,
    GRASSROOTS,
    ISSUER_SCHEMA,
    LOT_SCHEMA,
    NEVER,
    ORG_SCHEMA,
    STREET_ISSUER,
    STREET_SCHEMA,
    TYPE_SCHEMA,
    WORKER_SCHEMA,
    Streams,
    World,
)


def build_world(
    params: Params,
    district: District,
    schedule: PolicySchedule,
    streams: Streams,
    *,
    start: int,
    first_t: int,
) -> World:
    """The district's world at month ``first_t`` (the first burn-in month), before any process.

    Args:
        params: model parameters.
        district: the district's structure (communities, streets, residents, staff).
        schedule: the policy timeline; the registration threshold of month 0 decides which of
            the existing groups are registered.
        streams: the run's random streams; only ``streams.init`` is drawn from here.
        start: month index of run month 0.
        first_t: the first simulated month (``-params.burn_in_months``).
    """
    p, d, rng = params, district, streams.init
    policy: Policy = schedule.at(0)
    n_c, n_s, n_d = d.n_communities, d.n_streets, p.n_departments

    # Communities and their residents
    communities = Table(COMMUNITY_SCHEMA, capacity=n_c)
    communities.append(
        n_c,
        street=d.community_street,
        residents=d.residents,
        households=d.households,
        staff=d.staff,
        need_index=d.need_index,
        migrant_share=d.covariates[:, NEED_INDEX["migrants"]],
        participation=np.clip(rng.beta(20, 20 / p.participation_initial - 20, n_c), 0, 1)
        if 0 < p.participation_initial < 1
        else p.participation_initial,
        satisfaction=0.0,  # set to what residents experience in the first month (process 6)
        burnout=p.initial_staff_burnout,
    )

    # Migrants take less part in community life (participation keeps its district mean).
    c = communities
    engaged = 1 - p.migrant_participation_gap * c.migrant_share
    mean_engaged = np.average(engaged, weights=c.residents)
    c.participation = np.clip(c.participation * engaged / mean_engaged, 0, 1)
    # Need for services by type: households with each need (from household size and the
    # community's covariates) times their weight, in hours a month (constant over the run).
    weights = np.array([getattr(p, f"need_weight_{t}") for t in NEED_TYPES])
    base_need = need_hours(
        d.covariates, d.households, d.residents, d.need_index, weights, p.need_hours_per_resident
    )

    # Streets (facilities) and issuers (departments first, then streets)
    streets = Table(STREET_SCHEMA, capacity=n_s)
    streets.append(n_s, population=np.bincount(d.community_street, d.residents, n_s))
    conc = p.issuer_heterogeneity
    n_i = n_d + n_s
    issuers = Table(ISSUER_SCHEMA, capacity=n_i)
    weights = rng.lognormal(0.0, 0.6, n_d)
    issuers.append(
        n_i,
        kind=np.r_[np.full(n_d, DEPARTMENT), np.full(n_s, STREET_ISSUER)],
        street=np.r_[np.full(n_d, -1), np.arange(n_s)],
        item_weight=np.r_[weights / weights.sum(), np.ones(n_s)],
        unlisted_share=_beta(rng, p.unlisted_share, conc, n_i),
        compliance=_beta(rng, p.compliance_mean, conc, n_i),
        funding=_beta(rng, p.funding_mean, conc, n_i),
    )

    # Expected items per community and issuer per month (rates scale with population)
    per_c = p.item_rate_per_10k * d.residents / 1e4
    rates = np.zeros((n_c, n_i))
    rates[:, :n_d] = np.outer(per_c * (1 - p.street_item_share), weights / weights.sum())
    rates[np.arange(n_c), n_d + d.community_street] = per_c * p.street_item_share
    rates.flags.writeable = False  # fixed for the run (World.item_pairs relies on it)
    # Volume of listed assisting-government item types, each in one of the A3 categories; the
    # catalogue is the first k types. catalogue_share[k, j]: volume share of category j among
    # the first k types (of all listed volume).
    volume = rng.lognormal(0.0, p.item_type_volume_sigma, p.n_assist_item_types)
    category = rng.integers(0, p.item_categories, p.n_assist_item_types)
    by_category = np.zeros((p.n_assist_item_types, p.item_categories))
    by_category[np.arange(p.n_assist_item_types), category] = volume / volume.sum()
    catalogue_share = np.vstack([np.zeros(p.item_categories), np.cumsum(by_category, axis=0)])

    # Purchase lots: one per community and category
    k = p.item_categories
    lots = Table(LOT_SCHEMA, capacity=n_c * k)
    lots.append(
        n_c * k,
        community=np.repeat(np.arange(n_c), k),
        category=np.tile(np.arange(k), n_c),
        street=np.repeat(d.community_street, k),
        holder=-1,
        last_holder=-1,
    )

    world = World(
        communities=communities,
        streets=streets,
        issuers=issuers,
        lots=lots,
        orgs=Table(ORG_SCHEMA, capacity=4096),
        workers=Table(WORKER_SCHEMA, capacity=2048),
        item_rates=rates,
        catalogue_share=catalogue_share,
        schedule=schedule,
        start=start,
        first_t=first_t,
        t=first_t,
        streams=streams,
        base_need=base_need,
        service_fit=fit_matrix(p.service_fit_spread),
    )

    # Social organizations and workers
    scale = d.residents / 14_500  # C: residents per community
    n_groups = rng.poisson(p.initial_groups_per_community * scale)
    home = np.repeat(np.arange(n_c), n_groups)
    g = len(home)
    members = 3 + rng.poisson(max(p.members_initial_mean - 3, 0), g)
    orgs = world.orgs
    rows = world.add_orgs(
        GRASSROOTS,
        g,
        community=home,
        street=d.community_street[home],
        born_step=first_t - rng.integers(1, 120, g),
        members=members,
        capacity=rng.beta(2, 5, g),
        reputation=p.new_org_reputation,
        reserves=members * p.dues_per_member * rng.uniform(0, 12, g),
    )
    meets = (orgs.members[rows] >= policy.registration_members) & (
        orgs.reserves[rows] >= policy.registration_capital
    )
    orgs.registered[rows[meets]] = True
    orgs.approved[rows[meets]] = True

    k = p.initial_agencies
    street_p = streets.population / streets.population.sum()
    arows = world.add_orgs(
        AGENCY,
        k,
        street=rng.choice(n_s, k, p=street_p),
        born_step=first_t - rng.integers(12, 60, k),
        capacity=rng.uniform(0.3, 0.55, k),
        reserves=rng.uniform(0.5, 1.5, k) * p.agency_initial_reserves,
        reputation=p.new_org_reputation,
        registered=True,
        approved=True,
        registered_step=NEVER,
    )
    n_w = k * p.initial_agency_workers
    world.add_workers(
        n_w,
        employer=np.repeat(arows, p.initial_agency_workers),
        skill=rng.beta(3, 4, n_w),
        certified=rng.random(n_w) < 0.3,
        tenure=rng.integers(0, 36, n_w),
        born_step=first_t - 1,
    )
    world.add_workers(
        p.initial_pool,
        skill=rng.beta(2, 5, p.initial_pool),
        certified=rng.random(p.initial_pool) < 0.15,
        born_step=first_t - 1,
    )
    world.other_orgs = round(p.other_orgs_initial)
    build_item_types(world, p)  # model v2: item types, issuers' beliefs (departments stream)
    world.org_load = np.zeros(len(orgs))
    return world


def build_item_types(world: World, params: Params) -> None:
    """Item types, their owners and need types; campaign and belief state of the issuers.

    Draws from the ``departments`` stream, so the rest of the initial population is as in v1.
    """
    p, iss = params, world.issuers
    rng = world.streams.departments
    n_i = len(iss)
    n_unlisted = p.n_item_types - p.listed_types_after_cut
    # Unlisted types: one per issuer first, the rest in proportion to the issuer's unlisted flow.
    flow = world.item_rates.sum(axis=0) * iss.unlisted_share
    extra = rng.choice(n_i, max(n_unlisted - n_i, 0), p=flow / flow.sum())
    owner = np.r_[np.arange(min(n_i, n_unlisted)), extra].astype(np.int32)
    volume = rng.lognormal(0.0, p.item_type_volume_sigma, n_unlisted)
    volume /= np.bincount(owner, volume, n_i)[owner]
    service = rng.random(n_unlisted) < p.service_item_share
    need = np.where(service, rng.integers(0, N_NEEDS, n_unlisted), -1)
    n_listed = p.listed_types_after_cut
    world.item_types = Table(TYPE_SCHEMA, capacity=p.n_item_types)
    world.item_types.append(
        p.n_item_types,
        owner=np.r_[np.full(n_listed, -1), owner],
        volume=np.r_[np.zeros(n_listed), volume],
        need=np.r_[np.full(n_listed, -1), need],
        listed=True,  # before the cut every type is on the old list of community work
        purchasable=False,
        crept_step=NEVER,
    )
    world.lists_cut_step = NEVER
    iss.retaliation = _beta(rng, p.retaliation_mean, p.issuer_heterogeneity, n_i)
    iss.belief_direct = np.full(n_i, p.refusal_propensity)
    iss.belief_street = np.full(n_i, p.refusal_propensity)
    iss.campaign_until = np.full(n_i, NEVER, np.int32)
    iss.expected_cost = np.zeros(n_i)
    iss.fund_share = np.zeros(n_i)


def _beta(rng: np.random.Generator, mean: float, conc: float, n: int) -> np.ndarray:
    """Beta draws with a given mean and concentration (degenerate at 0 or 1)."""
    if mean <= 0 or mean >= 1:
        return np.full(n, float(mean))
    return rng.beta(mean * conc, (1 - mean) * conc, n)
