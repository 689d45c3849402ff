"""Creating agents: table rows plus their Mesa agent objects, in bulk.

All creation goes through :func:`add_orgs` and :func:`add_workers`, so a table row and its Mesa
agent are always made (and removed, :func:`remove_orgs`, :func:`remove_workers`) together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sim.agents import (
    AGENCY,
    DEPARTMENT,
    GRASSROOTS,
    ORG_CLASSES,
    STREET_ISSUER,
    Community,
    Department,
    Residents,
    SocialWorker,
    Street,
)
from sim.tables import Table

if TYPE_CHECKING:
    from sim.model import DistrictModel

# "Never" for step columns: months can be negative (burn-in), so -1 cannot mean never.
NEVER = np.iinfo(np.int32).min

ORG_SCHEMA: dict[str, Any] = {
    "kind": np.int8,
    "alive": bool,
    "registered": bool,
    "registered_step": np.int32,  # NEVER if never registered in the simulation
    "new_rule": bool,  # registered under a threshold below the 1998 rule (B4)
    "approved": bool,  # has prior approval from a sponsoring unit
    "born_step": np.int32,  # negative for organizations older than the run
    "exit_step": np.int32,
    "street": np.int32,
    "community": np.int32,  # home community (grassroots); -1 for agencies
    "capacity": float,
    "reputation": float,
    "reserves": float,
    "members": float,
    "incubated_until": np.int32,  # NEVER if never incubated
    "hosted": bool,  # hosted in a resident service centre
    "neg_months": np.int32,  # consecutive months with negative reserves
    # this month's work and money
    "expected_hours": float,  # contract + project hours it staffs for
    "demand_hours": float,
    "delivered_hours": float,
    "quality": float,  # quality of what it delivered this month
    "income": float,
    "costs": float,
    "contract_income": float,
    "project_income": float,
    # public-interest project
    "project_community": np.int32,  # -1 if no project
    "project_month_fee": float,
    "project_hours": float,  # hours per month the project pays for
}

WORKER_SCHEMA: dict[str, Any] = {
    "alive": bool,
    "employer": np.int32,  # -1: in the pool
    "skill": float,
    "certified": bool,
    "wage": float,
    "tenure": np.int32,
    "burnout": float,
    "hours": float,  # hours worked this month
    "born_step": np.int32,
    "exit_step": np.int32,
}


def add_orgs(model: DistrictModel, kind: int, n: int, **cols: Any) -> np.ndarray:
    """Create ``n`` organizations of one kind; returns their rows."""
    if n <= 0:
        return np.empty(0, dtype=np.int64)
    defaults = {
        "alive": True,
        "registered_step": NEVER,
        "born_step": model.t,
        "exit_step": NEVER,
        "community": -1,
        "incubated_until": NEVER,
        "project_community": -1,
        "reputation": 0.5,
    }
    rows = model.orgs.append(n, kind=kind, **{**defaults, **cols})
    agents = ORG_CLASSES[kind].create_agents(model, n, row=rows)
    model.org_agents.extend(agents)
    return rows


def add_workers(model: DistrictModel, n: int, **cols: Any) -> np.ndarray:
    """Create ``n`` social workers; returns their rows."""
    if n <= 0:
        return np.empty(0, dtype=np.int64)
    defaults = {"alive": True, "employer": -1, "born_step": model.t, "exit_step": NEVER}
    rows = model.workers.append(n, **{**defaults, **cols})
    model.worker_agents.extend(SocialWorker.create_agents(model, n, row=rows))
    return rows


def remove_orgs(model: DistrictModel, rows: np.ndarray) -> None:
    """Organizations fold: their workers go to the pool and their Mesa agents are removed."""
    if len(rows) == 0:
        return
    orgs, workers = model.orgs, model.workers
    orgs.alive[rows] = False
    orgs.exit_step[rows] = model.t
    orgs.project_community[rows] = -1
    gone = np.zeros(len(orgs), bool)
    gone[rows] = True
    emp = workers.employer
    laid_off = (emp >= 0) & workers.alive
    laid_off &= gone[np.maximum(emp, 0)]
    workers.employer[laid_off] = -1
    workers.tenure[laid_off] = 0
    holder = model.lots.holder
    ended = (holder >= 0) & gone[np.maximum(holder, 0)]
    holder[ended] = -1
    for r in rows:
        model.org_agents[r].remove()


def remove_workers(model: DistrictModel, rows: np.ndarray) -> None:
    """Social workers leave the sector in this district."""
    if len(rows) == 0:
        return
    model.workers.alive[rows] = False
    model.workers.employer[rows] = -1
    model.workers.exit_step[rows] = model.t
    for r in rows:
        model.worker_agents[r].remove()


def build_world(model: DistrictModel) -> None:
    """Create the district's agents at the start of the run."""
    p, d, rng = model.params, model.district, model.streams["init"]
    n_c, n_s, n_d = d.n_communities, d.n_streets, p.n_departments

    # Communities and their residents
    model.communities = Table(
        {name: float for name in COMMUNITY_FLOATS} | {"street": np.int32},
        capacity=n_c,
    )
    c = model.communities
    c.append(
        n_c,
        street=d.community_street,
        residents=d.residents,
        households=d.households,
        staff=d.staff,
        need_index=d.need_index,
        participation=np.clip(rng.beta(20, 20 / p.participation_initial - 20, n_c), 0, 1)
        if 0 < p.participation_initial < 1
        else p.participation_initial,
        satisfaction=0.0,  # set to what residents experience in the first month (process 6)
        burnout=p.initial_staff_burnout,
    )
    Community.create_agents(model, n_c, row=np.arange(n_c))
    Residents.create_agents(model, n_c, row=np.arange(n_c))

    # Streets (facilities) and issuers (departments first, then streets)
    model.streets = Table({"service_centres": np.int32, "population": float}, capacity=n_s)
    model.streets.append(n_s, population=np.bincount(d.community_street, d.residents, n_s))
    conc = p.issuer_heterogeneity
    n_i = n_d + n_s
    model.issuers = Table(
        {
            "kind": np.int8,
            "street": np.int32,
            "item_weight": float,
            "unlisted_share": float,
            "compliance": float,
            "funding": float,
        },
        capacity=n_i,
    )
    weights = rng.lognormal(0.0, 0.6, n_d)
    model.issuers.append(
        n_i,
        kind=np.r_[np.full(n_d, DEPARTMENT), np.full(n_s, STREET_ISSUER)],
        street=np.r_[np.full(n_d, -1), np.arange(n_s)],
        item_weight=np.r_[weights / weights.sum(), np.ones(n_s)],
        unlisted_share=_beta(rng, p.unlisted_share, conc, n_i),
        compliance=_beta(rng, p.compliance_mean, conc, n_i),
        funding=_beta(rng, p.funding_mean, conc, n_i),
    )
    Department.create_agents(model, n_d, row=np.arange(n_d))
    Street.create_agents(model, n_s, row=np.arange(n_s), issuer_row=np.arange(n_d, n_i))

    # Expected items per community and issuer per month (rates scale with population)
    per_c = p.item_rate_per_10k * d.residents / 1e4
    rates = np.zeros((n_c, n_i))
    rates[:, :n_d] = np.outer(per_c * (1 - p.street_item_share), weights / weights.sum())
    rates[np.arange(n_c), n_d + d.community_street] = per_c * p.street_item_share
    model.item_rates = rates
    # Volume of listed assisting-government item types, each in one of the A3 categories; the
    # catalogue is the first k types. catalogue_share[k, j]: volume share of category j among
    # the first k types (of all listed volume).
    volume = rng.lognormal(0.0, p.item_type_volume_sigma, p.n_assist_item_types)
    category = rng.integers(0, p.item_categories, p.n_assist_item_types)
    by_category = np.zeros((p.n_assist_item_types, p.item_categories))
    by_category[np.arange(p.n_assist_item_types), category] = volume / volume.sum()
    model.catalogue_share = np.vstack([np.zeros(p.item_categories), np.cumsum(by_category, axis=0)])

    # Purchase lots: one per community and category
    k = p.item_categories
    model.lots = Table(LOT_SCHEMA, capacity=n_c * k)
    model.lots.append(
        n_c * k,
        community=np.repeat(np.arange(n_c), k),
        category=np.tile(np.arange(k), n_c),
        street=np.repeat(d.community_street, k),
        holder=-1,
        last_holder=-1,
    )

    # Social organizations and workers
    model.orgs = Table(ORG_SCHEMA, capacity=4096)
    model.workers = Table(WORKER_SCHEMA, capacity=2048)
    scale = d.residents / 14_500  # C: residents per community
    n_groups = rng.poisson(p.initial_groups_per_community * scale)
    home = np.repeat(np.arange(n_c), n_groups)
    g = len(home)
    members = 3 + rng.poisson(max(p.members_initial_mean - 3, 0), g)
    rows = add_orgs(
        model,
        GRASSROOTS,
        g,
        community=home,
        street=d.community_street[home],
        born_step=model.t - rng.integers(1, 120, g),
        members=members,
        capacity=rng.beta(2, 5, g),
        reserves=members * p.dues_per_member * rng.uniform(0, 12, g),
    )
    meets = (model.orgs.members[rows] >= model.policy.registration_members) & (
        model.orgs.reserves[rows] >= model.policy.registration_capital
    )
    model.orgs.registered[rows[meets]] = True
    model.orgs.approved[rows[meets]] = True

    k = p.initial_agencies
    street_p = model.streets.population / model.streets.population.sum()
    arows = add_orgs(
        model,
        AGENCY,
        k,
        street=rng.choice(n_s, k, p=street_p),
        born_step=model.t - rng.integers(12, 60, k),
        capacity=rng.uniform(0.3, 0.55, k),
        reserves=rng.uniform(0.5, 1.5, k) * p.agency_initial_reserves,
        registered=True,
        approved=True,
        registered_step=NEVER,
    )
    n_w = k * p.initial_agency_workers
    add_workers(
        model,
        n_w,
        employer=np.repeat(arows, p.initial_agency_workers),
        skill=rng.beta(3, 4, n_w),
        certified=rng.random(n_w) < 0.3,
        tenure=rng.integers(0, 36, n_w),
        born_step=model.t - 1,
    )
    add_workers(
        model,
        p.initial_pool,
        skill=rng.beta(2, 5, p.initial_pool),
        certified=rng.random(p.initial_pool) < 0.15,
        born_step=model.t - 1,
    )
    model.other_orgs = round(p.other_orgs_initial)


COMMUNITY_FLOATS = (
    # structure
    "residents",
    "households",
    "staff",
    "need_index",
    # state carried from month to month
    "participation",
    "satisfaction",
    "burnout",
    "backlog",
    "coverage_memory",
    # this month's item flow (counts)
    "items_issued",
    "items_received",
    "items_refused",
    "items_withheld",
    "items_funded",
    "items_unlisted_accepted",
    # this month's hours
    "staff_item_hours",  # items landing on staff this month
    "org_item_hours",  # items handed to the contract holder this month
    "org_item_delivered",
    "org_item_quality",
    "undone_hours",  # refused, withdrawn, expired or returned-and-dropped item hours
    "hours_regular",
    "hours_available",
    "hours_statutory",
    "hours_admin",
    "hours_self_governance",
    "hours_services",
    "hours_used",
    "admin_demand",
    "staff_items_done",
    "admin_burden",
    "volunteer_hours",
    "volunteer_quality_hours",
    "project_hours",
    "project_quality_hours",
    "need_hours",
    "served_hours",
    "delivered_hours",
    "service_coverage",
    "service_quality",
    "purchase_spend",
    "lots_held",
)

LOT_SCHEMA: dict[str, Any] = {
    "community": np.int32,
    "category": np.int32,
    "street": np.int32,
    "holder": np.int32,  # row of the organization holding the lot, or -1
    "last_holder": np.int32,  # holder before the last planning (incumbent)
    "planned": bool,  # bought this budget year
    "awarded": bool,  # awarded at least once this budget year
    "month_fee": float,  # yuan per month under the current contract
    "hours": float,  # expected catalogue hours per month (以事定费)
    "remaining": float,  # committed contract money not yet paid
    "year": np.int32,  # calendar year of the current contract (whose books hold its commitment)
    "item_hours": float,  # catalogue and funded item hours handed to the holder this month
    "funded_items": float,  # funded items among them
    "delivered": float,
    "quality": float,
    "pay": float,
}


def _beta(rng: np.random.Generator, mean: float, conc: float, n: int) -> np.ndarray:
    """Beta draws with a given mean and concentration (degenerate at 0 or 1)."""
    if mean <= 0 or mean >= 1:
        return np.full(n, float(mean))
    return rng.beta(mean * conc, (1 - mean) * conc, n)
