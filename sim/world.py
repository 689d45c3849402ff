"""The model's state: one declared dataclass, :class:`World`, that the monthly processes act on.

Every process in :mod:`sim.processes` has the signature ``process(world, policy, params)``: the
world it reads and changes, the policy in force this month (a :class:`~sim.params.Policy`) and the
model parameters (:class:`~sim.params.Params`). Processes never see the Mesa model.

The world holds

- the agent tables (:mod:`sim.tables`; one row per agent, rows never reused): ``communities``,
  ``streets``, ``issuers`` (departments, then streets), ``lots`` (purchase lots), ``orgs`` and
  ``workers``;
- the fixed structure drawn at the start: ``item_rates`` and ``catalogue_share``;
- the books (one :class:`YearBooks` per calendar year) and this month's counters;
- the clock (``t``, ``first_t``, ``start``), the policy timeline (``schedule``, for processes that
  look ahead or ask what changed), and the random streams (:class:`Streams`).

Mesa agent objects are not in the world: they belong to the model layer (:mod:`sim.model`,
:mod:`sim.agents`). Rows are created and removed only through :meth:`World.add_orgs`,
:meth:`World.add_workers`, :meth:`World.remove_orgs` and :meth:`World.remove_workers`, which
record each change in ``world.changes`` (in order); the model takes them with
:meth:`World.take_changes` and creates or removes the matching Mesa agents. A world built for a
unit test simply lets them pile up (or ignores them).

For tests, :func:`blank_world` builds a small world by hand (see its docstring); the full world of
a scenario comes from :func:`sim.population.build_world`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import numpy as np

from sim.needs import DEFAULT_SHARES, N_NEEDS, NEED_TYPES, SOURCES, fit_matrix, need_hours
from sim.params import Params, Policy
from sim.schedule import PolicySchedule
from sim.tables import Table

# Organization kinds (codes stored in world.orgs.kind)
GRASSROOTS, AGENCY, BRAND = 0, 1, 2
KIND_NAMES = {GRASSROOTS: "grassroots", AGENCY: "agency", BRAND: "brand"}

# Issuer kinds (world.issuers.kind)
DEPARTMENT, STREET_ISSUER = 0, 1

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

COMMUNITY_FLOATS = (
    # structure
    "residents",
    "households",
    "staff",
    "need_index",
    "migrant_share",
    # state carried from month to month
    "participation",
    "satisfaction",
    "burnout",
    "backlog",
    "coverage_memory",
    "refusal_stance",  # model v2: log-odds a community adds to refusing, from its experience
    # this month's item flow (counts)
    "items_issued",
    "items_received",
    "items_refused",
    "items_withheld",
    "items_funded",
    "items_refunded",  # refused items then sent with funding (in refused and in funded, v2)
    "items_unlisted_accepted",
    "items_via_street",  # unlisted department items the street handed down (v2)
    "items_crept",  # items of types listed at a review without funding (list creep, v2)
    "items_retaliated",  # refusals the issuer punished through the appraisal (v2)
    # this month's hours
    "staff_item_hours",  # items landing on staff this month
    "org_item_hours",  # items handed to the contract holder this month
    "org_item_delivered",
    "org_item_quality",
    "funded_org_hours",  # funded items bought from a street agency without a lot (v2)
    "funded_org_delivered",
    "funded_org_quality",
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
    "delivered_quality",  # v1's service_quality: mean quality per delivered hour
    *(f"need_{t}" for t in NEED_TYPES),  # need for services and resident-facing items, hours
    *(f"served_{t}" for t in NEED_TYPES),  # need met, hours
    *(f"unmet_{t}" for t in NEED_TYPES),  # need not met, hours
    *(f"coverage_{t}" for t in NEED_TYPES),  # share of need met
    *(f"service_supply_{s}" for s in SOURCES),  # service hours delivered, by source
    *(f"service_quality_hours_{s}" for s in SOURCES),
    "purchase_spend",
    "lots_held",
)
COMMUNITY_SCHEMA: dict[str, Any] = {name: float for name in COMMUNITY_FLOATS} | {"street": np.int32}

STREET_SCHEMA: dict[str, Any] = {"service_centres": np.int32, "population": float}

ISSUER_SCHEMA: dict[str, Any] = {
    "kind": np.int8,
    "street": np.int32,
    "item_weight": float,
    "unlisted_share": float,
    "compliance": float,
    "funding": float,
    # model v2: issuers decide (sim/processes/departments.py)
    "retaliation": float,  # chance it punishes a refusal, at no enforcement
    "belief_direct": float,  # expected refusal rate of items it pushes directly
    "belief_street": float,  # expected refusal rate of items the street hands down
    "campaign_until": np.int32,  # a campaign runs while t < campaign_until
    "expected_cost": float,  # expected cost to it of a routine unlisted item
    "fund_share": float,  # chance it sends a routine unlisted item with funding
}

# Item types of the lists (model v2): the lists are state (sim/processes/departments.py)
TYPE_SCHEMA: dict[str, Any] = {
    "owner": np.int32,  # issuer row; -1 for the types kept on the lists at the cut
    "volume": float,  # share of its owner's unlisted item flow
    "need": np.int32,  # need type it serves (sim.needs order), or -1 for a routine task
    "listed": bool,
    "purchasable": bool,
    "crept_step": np.int32,  # month it was listed at a review; NEVER if never
}

LOT_SCHEMA: dict[str, Any] = {
    "community": np.int32,
    "category": np.int32,
    "street": np.int32,
    "holder": np.int32,  # row of the organization holding the lot, or -1
    "last_holder": np.int32,  # holder before the last planning (incumbent)
    "planned": bool,  # bought this budget year
    "reserved": bool,  # reserved for community-based organizations this budget year
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


@dataclass
class YearBooks:
    """Money of one calendar year, by budget line (yuan)."""

    purchase_appropriated: float = 0.0
    purchase_committed: float = 0.0
    purchase_spent: float = 0.0
    project_appropriated: float = 0.0
    project_committed: float = 0.0
    project_spent: float = 0.0
    funded_item_spent: float = 0.0  # paid by issuers with funded items (费随事转)
    incubation_grants: float = 0.0  # seed grants to organizations entering incubation
    lots_offered: int = 0
    lots_let: int = 0  # planned lots awarded this year
    lots_relet: int = 0  # lots awarded again after their holder folded
    projects_applied: int = 0
    projects_funded: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Streams:
    """Independent random streams, one per process family.

    A lever that changes how often one process draws does not shift the draws of the others, so
    scenarios compared on the same seed share as much randomness as possible (common random
    numbers).
    """

    init: np.random.Generator  # building the world
    items: np.random.Generator  # item flow (process 2)
    entry: np.random.Generator  # entry control (process 3)
    procurement: np.random.Generator  # tenders, commissions, project calls (process 4)
    orgs: np.random.Generator  # organizations' lives, brand arrivals (processes 1, 7)
    labour: np.random.Generator  # the labour market (process 8)
    departments: np.random.Generator  # item types, campaigns, list reviews (process 2a, v2)

    @classmethod
    def from_seeds(cls, seeds: Sequence[np.random.SeedSequence]) -> Streams:
        """One generator per stream, from seeds in the order of :data:`STREAMS`."""
        return cls(*(np.random.default_rng(s) for s in seeds))

    @classmethod
    def from_seed(cls, seed: int | np.random.SeedSequence) -> Streams:
        """All streams spawned from one seed (handy for tests)."""
        seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        return cls.from_seeds(seq.spawn(len(STREAMS)))


STREAMS = tuple(f.name for f in fields(Streams))


@dataclass(frozen=True, slots=True)
class RowChange:
    """Rows added to or removed from an agent table (``orgs`` or ``workers``)."""

    table: Literal["orgs", "workers"]
    rows: np.ndarray
    added: bool


@dataclass(eq=False)
class World:
    """Everything a run's processes read and change. See the module docstring."""

    # tables (sim.tables.Table), one row per agent
    communities: Table  # COMMUNITY_SCHEMA
    streets: Table  # STREET_SCHEMA
    issuers: Table  # ISSUER_SCHEMA: departments first, then one per street
    lots: Table  # LOT_SCHEMA: one per community and item category
    orgs: Table  # ORG_SCHEMA
    workers: Table  # WORKER_SCHEMA
    # structure drawn at the start
    item_rates: np.ndarray  # communities x issuers: expected items per month
    catalogue_share: np.ndarray  # (types + 1) x categories: listed volume of the first k types
    # the clock and the policy timeline
    schedule: PolicySchedule
    start: int  # month index (months since year 0) of run month 0
    first_t: int  # first simulated month (negative: burn-in)
    t: int  # current month of the run, 0-based (negative in burn-in)
    streams: Streams
    # books and counters
    books: dict[int, YearBooks] = field(default_factory=dict)
    month_stats: Counter[str] = field(default_factory=Counter)
    brand_invited: int = 0  # brand agencies brought in so far
    project_money: float = 0.0  # project money not yet committed this budget year
    other_orgs: int = 0  # registered organizations outside community services (a stock)
    org_load: np.ndarray = field(default_factory=lambda: np.zeros(0))  # work / staff hours
    # residents' need for services, communities x need types (hours a month; sim.needs), and
    # the fit of each source's services to each need type (sources x need types)
    base_need: np.ndarray | None = None  # None: no need (zeros)
    service_fit: np.ndarray = field(default_factory=lambda: np.ones((len(SOURCES), N_NEEDS)))
    changes: list[RowChange] = field(default_factory=list)  # see take_changes
    # the lists as state and service items by need type (model v2, sim/processes/departments.py)
    item_types: Table = field(default_factory=lambda: Table(TYPE_SCHEMA, capacity=1))
    lists_cut_step: int = NEVER  # month entry control first cut the lists
    list_stats: dict[str, int] = field(default_factory=dict)  # this month's review
    # communities x need types (sim.needs): staff hours of service items in the backlog; this
    # month's new ones landing on staff, given up under entry control, and left unmet in all
    need_backlog: np.ndarray | None = None
    need_staff_new: np.ndarray | None = None
    need_undone: np.ndarray | None = None
    need_unmet: np.ndarray | None = None
    # ... and (hours) all issued this month (landed, funded or given up), funded ones bound for a
    # contract holder, what holders delivered of them, and what staff did (7.3, 7.5-7.7)
    need_issued: np.ndarray | None = None
    need_funded_org: np.ndarray | None = None
    need_org_done: np.ndarray | None = None
    need_staff_done: np.ndarray | None = None
    funded_provider: np.ndarray | None = None  # per community: agency doing its funded items
    # item_pairs' cache: (item_rates, communities, issuers), kept while item_rates is read-only
    _pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(
        default=None, init=False, repr=False
    )
    # rates_product's cache: (item_rates, {operand: product}), kept while item_rates is read-only
    _products: tuple[np.ndarray, dict[tuple[Any, ...], np.ndarray]] | None = field(
        default=None, init=False, repr=False
    )

    def __post_init__(self) -> None:
        n_c = len(self.communities)
        for name in (
            "base_need",
            "need_backlog",
            "need_staff_new",
            "need_undone",
            "need_unmet",
            "need_issued",
            "need_funded_org",
            "need_org_done",
            "need_staff_done",
        ):
            if getattr(self, name) is None:
                setattr(self, name, np.zeros((n_c, N_NEEDS)))
            elif np.shape(getattr(self, name)) != (n_c, N_NEEDS):
                raise ValueError(
                    f"World.{name} must have one row per community and one column per need "
                    f"type, shape ({n_c}, {N_NEEDS}); got {np.shape(getattr(self, name))}"
                )
        if self.funded_provider is None:
            self.funded_provider = np.full(n_c, -1)
        if not self.list_stats:
            self.list_stats = {"petitions": 0, "admitted": 0, "admitted_funded": 0}

    # -- time and books -------------------------------------------------------------------------
    @property
    def month_index(self) -> int:
        """Calendar month of ``t`` (months since year 0; ``% 12 == 0`` is January)."""
        return self.start + self.t

    def year_books(self) -> YearBooks:
        """The books of the current calendar year."""
        year = (self.start + self.t) // 12
        books = self.books.get(year)
        if books is None:
            books = self.books[year] = YearBooks()
        return books

    def workers_per_org(self) -> np.ndarray:
        """Employed social workers of each organization row."""
        w = self.workers
        employed = w.alive & (w.employer >= 0)
        return np.bincount(w.employer[employed], None, len(self.orgs))

    def item_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Communities and issuers (row and column indices, in row order) of the nonzero
        ``item_rates``: the pairs that items flow between.

        The rates are fixed for a run and :func:`sim.population.build_world` makes them
        read-only, so the pairs are found once; a writeable matrix (a hand-built world that a test
        edits) is searched on every call (issue 12: the search is a pass over communities x
        issuers, which grows as the square of the district).
        """
        rates, cached = self.item_rates, self._pairs
        if cached is not None and cached[0] is rates and not rates.flags.writeable:
            return cached[1], cached[2]
        rows, cols = np.nonzero(rates)
        if not rates.flags.writeable:
            self._pairs = (rates, rows, cols)
        return rows, cols

    def rates_product(self, x: np.ndarray) -> np.ndarray:
        """``item_rates @ x`` (read-only) for an operand that seldom changes, such as the issuers'
        unlisted shares and item-type mix, which move only at list reviews.

        While ``item_rates`` is read-only (a run's), the product of each operand (by its shape,
        type and bytes) is computed once and kept; the same product from the same arrays gives
        the same numbers, so results do not change (issue 12: the products grow as communities x
        issuers, the square of the district). A writeable matrix is multiplied on every call.
        """
        rates = self.item_rates
        if rates.flags.writeable:
            return rates @ x
        if self._products is None or self._products[0] is not rates:
            self._products = (rates, {})
        cache = self._products[1]
        key = (x.shape, x.dtype.str, x.tobytes())
        product = cache.get(key)
        if product is None:
            if len(cache) >= 16:  # operands of past reviews (or campaigns) are not needed again
                cache.clear()
            product = rates @ x
            product.flags.writeable = False
            cache[key] = product
        return product

    # -- rows come and go -----------------------------------------------------------------------
    def add_orgs(self, kind: int, n: int, **cols: Any) -> np.ndarray:
        """Create ``n`` organizations of one kind; returns their rows.

        Alive, never registered, incubated or exited, born now, with no home community and no
        project unless ``cols`` says otherwise; other columns not given (reputation, capacity,
        reserves, ...) are zero.
        """
        if n <= 0:
            return np.empty(0, dtype=np.int64)
        defaults = {
            "alive": True,
            "registered_step": NEVER,
            "born_step": self.t,
            "exit_step": NEVER,
            "community": -1,
            "incubated_until": NEVER,
            "project_community": -1,
        }
        rows = self.orgs.append(n, kind=kind, **{**defaults, **cols})
        self.changes.append(RowChange("orgs", rows, added=True))
        return rows

    def add_workers(self, n: int, **cols: Any) -> np.ndarray:
        """Create ``n`` social workers; returns their rows."""
        if n <= 0:
            return np.empty(0, dtype=np.int64)
        defaults = {"alive": True, "employer": -1, "born_step": self.t, "exit_step": NEVER}
        rows = self.workers.append(n, **{**defaults, **cols})
        self.changes.append(RowChange("workers", rows, added=True))
        return rows

    def remove_orgs(self, rows: np.ndarray) -> None:
        """Organizations fold: their workers go to the pool and their lots lose their holder."""
        if len(rows) == 0:
            return
        orgs, workers = self.orgs, self.workers
        orgs.alive[rows] = False
        orgs.exit_step[rows] = self.t
        orgs.project_community[rows] = -1
        gone = np.zeros(len(orgs), bool)
        gone[rows] = True
        emp = workers.employer
        laid_off = (emp >= 0) & workers.alive
        laid_off &= gone[np.maximum(emp, 0)]
        workers.employer[laid_off] = -1
        workers.tenure[laid_off] = 0
        holder = self.lots.holder
        ended = (holder >= 0) & gone[np.maximum(holder, 0)]
        holder[ended] = -1
        self.changes.append(RowChange("orgs", np.asarray(rows), added=False))

    def remove_workers(self, rows: np.ndarray) -> None:
        """Social workers leave the sector in this district."""
        if len(rows) == 0:
            return
        self.workers.alive[rows] = False
        self.workers.employer[rows] = -1
        self.workers.exit_step[rows] = self.t
        self.changes.append(RowChange("workers", np.asarray(rows), added=False))

    def take_changes(self) -> list[RowChange]:
        """The row changes since the last call, in order (and forget them)."""
        changes, self.changes = self.changes, []
        return changes


def at_rows(values: np.ndarray, rows: np.ndarray, fill: float = 0) -> np.ndarray:
    """``values[rows]``, with ``fill`` where a row is -1 (no organization, say), also when
    ``values`` is empty (a world without organizations)."""
    padded = np.concatenate((values, np.array([fill], np.result_type(values, fill))))
    return padded[np.maximum(rows, -1)]  # every negative row reads the fill


Process = Callable[[World, Policy, Params], None]
"""A monthly process: reads and changes the world under this month's policy and the parameters."""


def blank_world(
    community_street: Sequence[int] = (0, 0, 1),
    *,
    n_departments: int = 2,
    item_categories: int = 2,
    n_item_types: int = 200,
    start: int = 2013 * 12,
    months: int = 12,
    t: int = 0,
    policy: dict[str, Any] | None = None,
    seed: int = 0,
    need: Any = None,
    params: Params | None = None,
    **community_cols: Any,
) -> World:
    """A small hand-built world for unit tests of single processes.

    Communities (one per entry of ``community_street``, giving its street) with 1000 residents,
    400 households, 10 staff and need index 1, unless ``community_cols`` gives other values for
    any community column (scalars or one value per community). Streets and their issuer rows,
    ``n_departments`` department issuers (equal weights, no unlisted items, compliance and
    funding 0.5), one empty lot per community and category, no organizations and no workers.
    Residents' need (``world.base_need``, hours a month by need type) is built as a scenario's
    is (:func:`sim.needs.need_hours`), from the households, residents and need index with the
    Wuhou mean covariates (``sim.needs.DEFAULT_SHARES``) and the need weights and service fit of
    ``params`` (default ``Params()``); ``need`` replaces it (one row per community, or one row
    for all). Item rates and the catalogue are zero: set ``world.item_rates`` and
    ``world.catalogue_share`` if the test needs items. The policy timeline is ``policy`` (lever
    -> value, held constant) for ``months`` months from ``start``; the clock is at month ``t``,
    with no burn-in.

    Add agents with :meth:`World.add_orgs` and :meth:`World.add_workers`, e.g.::

        w = blank_world((0, 1))
        w.add_orgs(AGENCY, 1, street=0, capacity=0.6, registered=True)
        w.add_workers(3, employer=0, skill=0.5)
        deliver(w, w.schedule.at(w.t), Params())
    """
    street_of = np.asarray(community_street, dtype=np.int32)
    n_c = len(street_of)
    n_s = int(street_of.max()) + 1 if n_c else 0
    n_i = n_departments + n_s
    structure = {"residents": 1000.0, "households": 400.0, "staff": 10.0, "need_index": 1.0}
    communities = Table(COMMUNITY_SCHEMA, capacity=max(n_c, 1))
    communities.append(n_c, street=street_of, **(structure | community_cols))
    streets = Table(STREET_SCHEMA, capacity=max(n_s, 1))
    streets.append(n_s, population=np.bincount(street_of, communities.residents, n_s))
    issuers = Table(ISSUER_SCHEMA, capacity=max(n_i, 1))
    issuers.append(
        n_i,
        kind=np.r_[np.full(n_departments, DEPARTMENT), np.full(n_s, STREET_ISSUER)],
        street=np.r_[np.full(n_departments, -1), np.arange(n_s)],
        item_weight=np.r_[np.full(n_departments, 1 / max(n_departments, 1)), np.ones(n_s)],
        compliance=0.5,
        funding=0.5,
    )
    k = item_categories
    lots = Table(LOT_SCHEMA, capacity=max(n_c * k, 1))
    lots.append(
        n_c * k,
        community=np.repeat(np.arange(n_c), k),
        category=np.tile(np.arange(k), n_c),
        street=np.repeat(street_of, k),
        holder=-1,
        last_holder=-1,
    )
    p = params if params is not None else Params()
    if need is None:
        weights = np.array([getattr(p, f"need_weight_{t}") for t in NEED_TYPES])
        c = communities
        shares = np.tile(DEFAULT_SHARES, (n_c, 1))
        need = need_hours(
            shares, c.households, c.residents, c.need_index, weights, p.need_hours_per_resident
        )
    base_need = np.array(np.broadcast_to(np.asarray(need, float), (n_c, N_NEEDS)))
    return World(
        base_need=base_need,
        service_fit=fit_matrix(p.service_fit_spread),
        communities=communities,
        streets=streets,
        issuers=issuers,
        lots=lots,
        orgs=Table(ORG_SCHEMA, capacity=16),
        workers=Table(WORKER_SCHEMA, capacity=16),
        item_rates=np.zeros((n_c, n_i)),
        catalogue_share=np.zeros((n_item_types + 1, k)),
        schedule=PolicySchedule.build(policy or {}, start, months),
        start=start,
        first_t=t,
        t=t,
        streams=Streams.from_seed(seed),
    )
