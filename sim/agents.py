"""Mesa agents of the district: who they are and what state they hold.

Every agent is a ``mesa.Agent`` registered with the model (so ``model.agents_by_type``,
``AgentSet.select`` and ``groupby`` work as usual), and its state lives in a row of a table of the
model's world (:mod:`sim.world`, :mod:`sim.tables`). Behaviour is written once per population in
:mod:`sim.processes`, as numpy operations over the tables: a month touches thousands of agents,
and per-agent Python would dominate the run time (see ``benchmarks/``).

The model creates and removes these objects (:meth:`sim.model.DistrictModel.sync_agents`) from
the world's recorded row changes, when they are looked at (``model.agents`` and Mesa's other
views); processes never see them.
"""

from __future__ import annotations

from typing import Protocol

import mesa

from sim.district import District
from sim.tables import Column
from sim.world import (  # noqa: F401  (kind codes, re-exported for users of sim.agents)
    AGENCY,
    BRAND,
    DEPARTMENT,
    GRASSROOTS,
    KIND_NAMES,
    STREET_ISSUER,
    World,
)


class WorldModel(Protocol):
    """What an agent needs of its model: the world its row lives in, and the district."""

    world: World
    district: District


class _RowAgent(mesa.Agent):
    """An agent whose state is one row of a table of the model's world."""

    model: WorldModel  # a sim.model.DistrictModel

    def __init__(self, model: WorldModel, row: int) -> None:
        super().__init__(model)
        self.row = int(row)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(row={self.row})"


class Department(_RowAgent):
    """District functional department (区级职能部门): issues administrative items and, under entry
    control, decides what to do with its unlisted ones (sim/processes/departments.py)."""

    item_weight = Column("issuers", "share of department-issued items that come from it")
    unlisted_share = Column("issuers", "share of its items that are not on the lists as cut")
    compliance = Column("issuers", "its norm of complying with entry control (prices pushing)")
    funding = Column("issuers", "its fiscal slack for sending items with funding (0-1)")
    retaliation = Column("issuers", "chance it punishes a refusal, at no enforcement")
    belief_direct = Column("issuers", "refusal rate it expects for items it pushes directly")
    belief_street = Column("issuers", "refusal rate it expects for items the street hands down")
    campaign_until = Column("issuers", "a campaign runs while the month is below this")
    fund_share = Column("issuers", "this month's chance it funds a routine unlisted item")


class Street(_RowAgent):
    """Street office (街道): relays and adds items; hosts service centres.

    Its issuing behaviour is a row of ``world.issuers`` (``issuer_row``); its facilities are a row
    of ``world.streets``.
    """

    service_centres = Column("streets", "resident service centres in the street")

    def __init__(self, model: WorldModel, row: int, issuer_row: int) -> None:
        super().__init__(model, row)
        self.issuer_row = int(issuer_row)

    @property
    def name(self) -> str:
        return self.model.district.street_names[self.row]

    @property
    def compliance(self) -> float:
        return float(self.model.world.issuers.compliance[self.issuer_row])


class Community(_RowAgent):
    """Community (社区: the 两委 and its service station), with its staff's time."""

    street = Column("communities", "index of its street")
    staff = Column("communities", "community staff")
    burnout = Column("communities", "staff burnout 0-1")
    backlog = Column("communities", "administrative backlog in staff hours")
    admin_burden = Column("communities", "share of staff hours on administrative items")
    lots_held = Column("communities", "its purchase lots (one per item category) held this month")
    refusal_stance = Column("communities", "log-odds it adds to refusing, from its experience")

    @property
    def lot_holders(self) -> list[int]:
        """Rows of the organizations holding its lots (-1 where a lot has no holder)."""
        lots = self.model.world.lots
        return lots.holder[lots.community == self.row].tolist()

    @property
    def name(self) -> str:
        return self.model.district.community_names[self.row]


class Residents(_RowAgent):
    """The residents of one community, aggregated (not one agent per person)."""

    residents = Column("communities", "number of residents")
    participation = Column("communities", "share of residents active in community life")
    satisfaction = Column("communities", "resident satisfaction 0-1")
    service_coverage = Column("communities", "share of resident needs met this month")
    service_quality = Column("communities", "quality of services received this month")


class SocialOrganization(_RowAgent):
    """Social organization (社会组织). Subclasses give the kind."""

    kind_code: int = -1
    alive = Column("orgs", "still operating")
    registered = Column("orgs", "registered as a legal person")
    capacity = Column("orgs", "professional competence 0-1")
    reputation = Column("orgs", "track record 0-1 (moving average of delivered quality)")
    reserves = Column("orgs", "reserves in yuan")
    members = Column("orgs", "members (grassroots groups)")
    street = Column("orgs", "home street")
    community = Column("orgs", "home community, or -1 for agencies")
    incubated_until = Column("orgs", "step at which incubation ends (NEVER if never incubated)")

    @property
    def workers(self) -> int:
        """Social workers it employs."""
        w = self.model.world.workers
        return int(((w.employer == self.row) & w.alive).sum())


class GrassrootsGroup(SocialOrganization):
    """Grassroots community group (社区社会组织): volunteers, filed or registered."""

    kind_code = GRASSROOTS


class SocialWorkAgency(SocialOrganization):
    """Local professional social-work agency (社会工作服务机构)."""

    kind_code = AGENCY


class BrandAgency(SocialOrganization):
    """Imported brand social-work agency (品牌社工机构) from Beijing, Shanghai or Nanjing (A14)."""

    kind_code = BRAND


ORG_CLASSES: dict[int, type[SocialOrganization]] = {
    GRASSROOTS: GrassrootsGroup,
    AGENCY: SocialWorkAgency,
    BRAND: BrandAgency,
}


class SocialWorker(_RowAgent):
    """Social worker (社工), employed by an organization or in the district's pool."""

    alive = Column("workers", "still in the sector in this district")
    employer = Column("workers", "row of the employing organization, or -1 if in the pool")
    skill = Column("workers", "professional skill 0-1")
    certified = Column("workers", "holds the national social-work certificate")
    wage = Column("workers", "monthly wage in yuan")
    tenure = Column("workers", "months with the current employer")
    burnout = Column("workers", "burnout 0-1")
