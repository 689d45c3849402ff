"""The one place for defaults: policy levers and model parameters.

Every field carries its default, unit, bounds and source (a FACTS id, a citation, or the word
"assumption"). ``docs/parameters.md`` is generated from these classes (``make docs``), and
scenario files are validated against them, so nothing here is written twice.

Two groups:

* :class:`Policy` — the levers a government can pull. Each lever may change at a given month
  (see :mod:`sim.schedule`). Defaults are the pre-reform status quo (no entry control, no purchase,
  the 1998 registration threshold B4), so ``DistrictModel()`` with no scenario is the no-reform
  district.
* :class:`Params` — behavioural and structural parameters of the model, constant over a run.
  Most are assumptions; calibration (issue 5) fits some of them.
"""

from __future__ import annotations

import re
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.errors import as_python

# How a district-wide quantity follows the size of the district when a scenario is applied to a
# district other than the Wuhou reference (see sim/scaling.py): in proportion to its residents,
# its communities or its streets. Fields without a scale are per unit (per community, per
# organization, per hour) or rules, and mean the same in any district.
SCALES = ("residents", "communities", "streets")


def param(
    default: Any,
    *,
    unit: str,
    source: str,
    doc: str,
    ge: float | None = None,
    le: float | None = None,
    scale: str | None = None,
    scale_note: str = "",
) -> Any:
    """A pydantic field that also records its unit, source and scaling for the generated docs.

    ``scale`` (one of :data:`SCALES`) marks a district-wide quantity whose value is Wuhou's and
    scales with the district's residents, communities or streets; ``scale_note`` says why a
    district-wide quantity does not scale.
    """
    if scale is not None and scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, not {scale!r}")
    extra: dict[str, Any] = {"unit": unit, "source": source}
    if scale:
        extra["scale"] = scale
    if scale_note:
        extra["scale_note"] = scale_note
    return Field(default, ge=ge, le=le, description=doc, json_schema_extra=extra)


def _field_kinds(cls: type[BaseModel]) -> dict[str, type]:
    kinds = _KINDS.get(cls)
    if kinds is None:
        kinds = {n: f.annotation for n, f in cls.model_fields.items()}  # type: ignore[misc]
        _KINDS[cls] = kinds
    return kinds


_KINDS: dict[type, dict[str, type]] = {}


def plain_number(kind: Any, value: Any) -> Any:
    """Numbers from Python tools as the plain values a field takes.

    numpy scalars become Python numbers (``np.int64(5)`` -> 5, ``np.bool_(True)`` -> True);
    an integral float is a whole number for an int field (5.0 -> 5; 5.5 stays and is refused);
    the integers 0 and 1 are false and true for an on/off lever (EMA Workbench and Mesa's
    batch_run sweep booleans as 0/1). Anything else is left for validation to judge.
    """
    value = as_python(value)
    if kind is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind is bool and type(value) is int and value in (0, 1):
        return bool(value)
    return value


class _Frozen(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, validate_default=True, allow_inf_nan=False
    )

    @model_validator(mode="before")
    @classmethod
    def _plain_numbers(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        kinds = _field_kinds(cls)
        return {k: plain_number(kinds.get(k), v) for k, v in data.items()}


class Policy(_Frozen):
    """Policy levers (治理改革的政策工具). Defaults: the district before October 2013."""

    # --- entry control (社区准入) -------------------------------------------------------------
    entry_control: bool = param(
        False,
        unit="on/off",
        source="A9 (in force from 2013-10; absent before)",
        doc="Entry control: items not on the three lists (A8) may be refused by communities.",
    )
    entry_enforcement: float = param(
        0.8,
        unit="share 0-1",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Enforcement strength of entry control: scales how often issuers comply and how "
        "often communities dare refuse an unlisted item.",
    )
    list_review_months: int = param(
        12,
        unit="months",
        source="assumption (B5: Chengdu revised its lists in 2015; B19: Beijing reviewed its items "
        "in 2016 and again by 2018-19, so reviews every year or two)",
        ge=0,
        le=120,
        doc="Interval between reviews of the lists under entry control; at a review, departments' "
        "petitions to list their unlisted item types are decided (list creep). 0: no review, the "
        "lists stay as cut.",
    )
    list_review_strictness: float = param(
        0.5,
        unit="share 0-1",
        source="assumption (B19: lists cut hard, yet departments kept sending tasks down)",
        ge=0.0,
        le=1.0,
        doc="How strict a list review is: the chance it rejects a petition that comes without "
        "funding (funded petitions meet 费随事转 and are admitted), and how hard it audits items "
        "that streets relay for departments.",
    )
    appraisal_weight: float = param(
        0.5,
        unit="share 0-1",
        source="assumption (考核: streets appraise communities on the tasks they hand down)",
        ge=0.0,
        le=1.0,
        doc="Weight of the street's appraisal (考核) on a community's completion of the items the "
        "street hands down: the higher it is, the less a community dares refuse them.",
    )
    one_vote_veto: bool = param(
        False,
        unit="on/off",
        source="assumption (一票否决: failing one appraised task voids the whole appraisal)",
        doc="One-vote veto in the street's appraisal: refusing an item the street hands down "
        "risks the community's whole appraisal.",
    )
    # --- purchase of services (政府购买服务) -----------------------------------------------------
    purchase_budget: float = param(
        0.0,
        unit="yuan/year",
        source="A5 (none before 2014; 30.85 M 2014, 37.31 M 2015, 37.53 M 2016)",
        ge=0.0,
        le=5e8,
        doc="Appropriation per calendar year for buying catalogue items from social "
        "organizations. A change mid-year applies pro rata to the rest of that year.",
        scale="residents",
    )
    catalogue_size: int = param(
        139,
        unit="item types",
        source="A4",
        ge=0,
        le=400,
        doc="Number of listed assisting-government item types in the purchase catalogue. "
        "Cannot exceed Params.n_assist_item_types.",
    )
    project_budget: float = param(
        0.0,
        unit="yuan/year",
        source="A6 (about 4 M yuan beyond the 139 items in 2014)",
        ge=0.0,
        le=5e8,
        doc="Second budget line: public-interest service projects (公益项目) for needs beyond "
        "the lists, awarded by competitive call.",
        scale="residents",
    )
    procurement_mode: Literal["tender", "commission"] = param(
        "tender",
        unit="mode",
        source="A7 (both used: 委托 commission and 采购 tender); tender as default is an "
        "assumption",
        doc="How catalogue contracts are let: 'tender' (best value among qualified bidders, "
        "with price competition) or 'commission' (the street awards directly, preferring "
        "incumbents and local organizations).",
    )
    tender_min_capacity: float = param(
        0.3,
        unit="capacity 0-1",
        source="assumption (A7: an entry standard for bidding agencies exists; level unknown)",
        ge=0.0,
        le=1.0,
        doc="Minimum organizational capacity to bid in a tender.",
    )
    tender_lot_cap: int = param(
        0,
        unit="lots per organization (0 = no cap)",
        source="assumption (model v2 lever; B18: big agencies open branches and take many "
        "contracts)",
        ge=0,
        le=10_000,
        doc="Most purchase lots one organization may hold at once; a bidder at the cap is not "
        "considered for further lots. 0: no cap.",
    )
    local_preference: float = param(
        0.0,
        unit="score points",
        source="assumption (model v2 lever)",
        ge=0.0,
        le=5.0,
        doc="Tender score bonus for organizations based in the district (local agencies), "
        "against imported brand agencies (a local-content preference).",
    )
    community_reserved_share: float = param(
        0.0,
        unit="share of lots",
        source="assumption (model v2 lever)",
        ge=0.0,
        le=1.0,
        doc="Share of the purchase lots bought each year that are reserved for community-based "
        "organizations (local agencies and registered grassroots groups of the lot's street); a "
        "reserved lot no such organization can staff stays unlet.",
    )
    # --- registration threshold (登记门槛) --------------------------------------------------------
    registration_members: int = param(
        50,
        unit="members",
        source="B4 (1998 rule: 50 individual members); A12 lowers it to 5",
        ge=1,
        le=500,
        doc="Members a community organization needs to register.",
    )
    registration_capital: float = param(
        30_000.0,
        unit="yuan",
        source="B4 (30,000 yuan of activity funds); A12 lowers it to 3,000",
        ge=0.0,
        le=1e6,
        doc="Registered capital (reserves) a community organization needs to register.",
    )
    registration_prior_approval: bool = param(
        True,
        unit="on/off",
        source="B4 (approval by a sponsoring unit); A12 removes it",
        doc="Whether registration first needs approval by a sponsoring unit (前置审批).",
    )
    # --- support infrastructure ---------------------------------------------------------------
    service_centres: int = param(
        0,
        unit="centres",
        source="A11 (9 after the reform; none before)",
        ge=0,
        le=87,
        doc="Resident service centres for community social organizations (居民服务中心).",
        scale="communities",
    )
    service_centre_streets: int = param(
        8,
        unit="streets",
        source="A11 (9 centres in 8 streets)",
        ge=1,
        le=13,
        doc="Number of streets the service centres are spread over (most populous first).",
        scale="streets",
    )
    incubation_centres: int = param(
        0,
        unit="centres",
        source="A11 (1 after the reform)",
        ge=0,
        le=20,
        doc="Community social-organization incubation centres (孵化中心).",
        scale="residents",
    )
    incubation_base: bool = param(
        False,
        unit="on/off",
        source="A11 (district incubation base 社会治理创新服务园)",
        doc="District capacity-building base: faster capacity growth for all registered local "
        "organizations.",
    )
    brand_agencies: int = param(
        0,
        unit="agencies (cumulative)",
        source="A14 (8 brought in from Beijing, Shanghai, Nanjing)",
        ge=0,
        le=60,
        doc="Cumulative number of imported brand social-work agencies invited; when it rises, "
        "that many new agencies arrive that month.",
        scale="residents",
    )


class Params(_Frozen):
    """Behavioural and structural parameters (constant over a run)."""

    burn_in_months: int = param(
        12,
        unit="months",
        source="assumption (spin-up: long enough for participation, satisfaction and burnout to "
        "settle)",
        ge=0,
        le=240,
        doc="Months simulated before the first recorded month, under the first month's policy, "
        "so the run starts from the district's own steady state rather than from its initial "
        "values. Not recorded; money spent in them is not booked.",
    )

    # --- structural variants (issue 11; docs/ODD.md, "Structural variants") -------------------
    # Alternative submodels for the mechanisms the results depend on most. The default of each is
    # model v2's own rule; the others are real alternative mechanisms, run side by side by
    # experiments/structural.toml to see which conclusions survive a change of submodel.
    refusal_rule: Literal["pressure_appraisal", "fixed_propensity"] = param(
        "pressure_appraisal",
        unit="submodel",
        source="assumption (model v2's rule; the alternative is a structural variant, issue 11)",
        doc="How a community decides to refuse a pushed unlisted item. 'pressure_appraisal': a "
        "logit that rises with its work pressure and falls with the street's appraisal weight "
        "and one-vote veto; 'fixed_propensity': a fixed disposition (refusal_propensity and the "
        "community's own stance) that responds to neither workload nor appraisal.",
    )
    tender_scoring: Literal["best_value", "quality_only"] = param(
        "best_value",
        unit="submodel",
        source="A7 (best value); the alternative is a structural variant (issue 11)",
        doc="How a tender scores bids. 'best_value': capacity, reputation and price (the "
        "discount offered, up to tender_max_discount); 'quality_only': capacity and reputation "
        "only, every winner paid the full fee (以事定费, A7, with no price competition).",
    )
    satisfaction_feedback: Literal["on", "off"] = param(
        "on",
        unit="submodel",
        source="assumption (model v2's loop; 'off' is a structural variant, issue 11)",
        doc="Whether residents' satisfaction feeds back on the system. 'on': it scales "
        "participation, enters providers' reputation and moves incumbents' contract renewal; "
        "'off': satisfaction is only measured (participation follows self-governance effort "
        "alone, reputation follows quality delivered, renewal has no bonus).",
    )

    # --- community staff time -----------------------------------------------------------------
    staff_hours_per_month: float = param(
        174.0,
        unit="hours/staff/month",
        source="State Council 1995 working-hours rule (40 h/week x 52/12)",
        ge=40.0,
        le=300.0,
        doc="Regular working hours per community staff member.",
    )
    overtime_cap: float = param(
        0.15,
        unit="share of regular hours",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Extra hours staff can work on administrative items when work piles up.",
    )
    statutory_share: float = param(
        0.2,
        unit="share of regular hours",
        source="assumption (A8 lists the duties; their time share is not reported)",
        ge=0.0,
        le=0.8,
        doc="Time for Party and residents'-committee statutory duties, done first.",
    )
    self_governance_share: float = param(
        0.5,
        unit="share of free hours",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Share of staff hours left after duties and items spent on self-governance "
        "(mobilising residents); the rest goes to direct services.",
    )
    supervision_share: float = param(
        0.1,
        unit="hours per delivered hour",
        source="assumption (A10: the community supervises purchased items)",
        ge=0.0,
        le=1.0,
        doc="Community staff hours spent supervising each hour an organization delivers on "
        "purchased items.",
    )
    backlog_expiry: float = param(
        0.34,
        unit="share per month",
        source="assumption (items have deadlines of about 3 months)",
        ge=0.0,
        le=1.0,
        doc="Share of the administrative backlog abandoned each month (left undone).",
    )
    burnout_rate: float = param(
        0.15,
        unit="per month",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Speed at which staff burnout moves toward the level set by work pressure.",
    )
    burnout_pressure_onset: float = param(
        0.7,
        unit="demand / regular hours",
        source="assumption",
        ge=0.0,
        le=2.0,
        doc="Work pressure above which burnout builds up; its target reaches 1 at onset + "
        "staff_burnout_ramp.",
    )
    burnout_absence: float = param(
        0.1,
        unit="share of hours at burnout 1",
        source="assumption",
        ge=0.0,
        le=0.5,
        doc="Hours lost to sick leave and absence at full burnout (staff and social workers).",
    )
    burnout_quality_penalty: float = param(
        0.4,
        unit="share of quality at burnout 1",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Quality lost at full burnout (staff and social workers).",
    )
    staff_base_quality: float = param(
        0.55,
        unit="quality 0-1",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Quality of services delivered by community staff who are not burnt out.",
    )
    initial_staff_burnout: float = param(
        0.3,
        unit="burnout 0-1",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Staff burnout at the start of the run.",
    )
    # --- administrative items -----------------------------------------------------------------
    n_departments: int = param(
        30,
        unit="departments",
        source="assumption (MODEL_BRIEF)",
        ge=1,
        le=200,
        doc="District departments (区级职能部门) that issue items to communities.",
        scale_note="a district of any size has its full set of functional departments; "
        "items per community already follow residents",
    )
    item_rate_per_10k: float = param(
        106.0,
        unit="items per 10,000 residents per month",
        source="B6 (about 1,850 tasks a year per community) scaled by C (14,500 residents)",
        ge=0.0,
        le=1000.0,
        doc="Administrative items flowing down to a community, before any entry control.",
    )
    street_item_share: float = param(
        0.2,
        unit="share of items",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Share of items that the street adds itself rather than relays from departments.",
    )
    hours_per_item: float = param(
        9.5,
        unit="staff hours per item",
        source="assumption (sets the pre-reform burden; calibrated)",
        ge=0.1,
        le=100.0,
        doc="Average workload of one administrative item.",
    )
    unlisted_share: float = param(
        0.25,
        unit="share of items",
        source="B6 ('other administrative affairs' 22-27% of tasks)",
        ge=0.0,
        le=1.0,
        doc="Average share of items that are not on the three lists.",
    )
    issuer_heterogeneity: float = param(
        10.0,
        unit="beta concentration",
        source="assumption",
        ge=1.0,
        le=1000.0,
        doc="Concentration of the beta distributions from which each issuer's unlisted share, "
        "compliance and funding propensity are drawn (higher = more alike).",
    )
    item_categories: int = param(
        4,
        unit="categories",
        source="A3 (government services sunk to communities sorted into 4 categories)",
        ge=1,
        le=20,
        doc="Categories of listed items; a purchase lot is one community's catalogue items of one "
        "category.",
    )
    n_assist_item_types: int = param(
        200,
        unit="item types",
        source="assumption (A4: 139 purchasable; B5 suggests about 56 more not purchasable)",
        ge=1,
        le=400,
        doc="Listed assisting-government item types (协助政府工作事项).",
    )
    item_type_volume_sigma: float = param(
        1.0,
        unit="log-sd",
        source="assumption",
        ge=0.0,
        le=3.0,
        doc="Spread of volume across item types (lognormal).",
    )
    resident_facing_share: float = param(
        0.5,
        unit="share of item hours",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Share of administrative item hours, other than the unlisted service items for "
        "vulnerable residents (need of their own type, service_item_share), that are services to "
        "residents (certificates and the like); undone, they are unmet needs in the community's "
        "proportions of need types.",
    )
    compliance_mean: float = param(
        0.5,
        unit="probability",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Mean issuer propensity to comply with entry control at full enforcement.",
    )
    compliance_learning: float = param(
        0.05,
        unit="per month per refusal rate",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="How fast issuers learn to comply after communities refuse their items.",
    )
    funding_mean: float = param(
        0.3,
        unit="probability",
        source="assumption (A9: 权随责走、费随事转)",
        ge=0.0,
        le=1.0,
        doc="Mean share of a complying issuer's unlisted items that it re-sends with funding "
        "attached (then admitted); the rest are withdrawn.",
    )
    refusal_propensity: float = param(
        0.7,
        unit="probability",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Chance a community refuses a pushed unlisted item at full enforcement.",
    )
    # --- departments, item types and lists (model v2) -----------------------------------------
    n_item_types: int = param(
        537,
        unit="item types",
        source="B5 (537 community work items listed before entry control, Chengdu 2015)",
        ge=1,
        le=5000,
        doc="Types of work item that issuers sent down to communities before the lists were cut.",
    )
    listed_types_after_cut: int = param(
        68,
        unit="item types",
        source="B5 (56 assisting-government + 12 self-governance items after entry control)",
        ge=1,
        le=5000,
        doc="Item types left on the lists when entry control first cuts them; the rest are "
        "unlisted. Must be below n_item_types.",
    )
    purchasable_types_after_cut: int = param(
        44,
        unit="item types",
        source="B5 (44 purchasable items)",
        ge=0,
        le=5000,
        doc="Listed item types that are purchasable right after the cut (the coarse count of "
        "B5; the volume bought is still set by catalogue_size, A4).",
    )
    service_item_share: float = param(
        0.3,
        unit="share of unlisted item types",
        source="assumption (B19: ledgers and checks remain; allowances and checks of vulnerable "
        "residents are among unlisted items)",
        ge=0.0,
        le=1.0,
        doc="Share of unlisted item types that are services to vulnerable residents "
        "(allowances, checks, visits), each for one need type (sim/needs.py).",
    )
    campaigns_per_year: float = param(
        1.0,
        unit="campaigns per issuer per year",
        source="assumption (B19: new tasks from above keep arriving; 创卫、创文 and similar "
        "campaigns)",
        ge=0.0,
        le=12.0,
        doc="Rate at which an idle issuer starts a campaign (new tasks from above).",
    )
    campaign_months: int = param(
        3,
        unit="months",
        source="assumption",
        ge=1,
        le=24,
        doc="Length of a campaign.",
    )
    campaign_share: float = param(
        0.3,
        unit="share of unlisted administrative items",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Share of an issuer's unlisted administrative items (over time) that come in "
        "campaigns; the rest is a steady base flow. The mean flow does not change.",
    )
    campaign_priority: float = param(
        2.0,
        unit="task value",
        source="assumption (campaign tasks are appraised from above)",
        ge=0.0,
        le=20.0,
        doc="Cost to an issuer of leaving a campaign item undone (a routine item costs 1).",
    )
    service_item_priority: float = param(
        0.6,
        unit="task value",
        source="assumption",
        ge=0.0,
        le=20.0,
        doc="Cost to an issuer of leaving a service item for vulnerable residents undone.",
    )
    funding_cost: float = param(
        1.5,
        unit="task value",
        source="assumption (A9: 权随责走、费随事转 makes the issuer pay)",
        ge=0.0,
        le=20.0,
        doc="Cost to an issuer with no fiscal slack of sending an unlisted item with funding; "
        "scaled by (1 - funding), its slack.",
    )
    push_sanction: float = param(
        1.0,
        unit="task value at full enforcement",
        source="assumption",
        ge=0.0,
        le=20.0,
        doc="Expected sanction for pushing an unlisted item on a community, at full enforcement "
        "and full compliance norm (scaled by entry_enforcement and the issuer's compliance).",
    )
    street_relay_cost: float = param(
        0.2,
        unit="task value",
        source="assumption (B19: tasks keep coming down through other channels)",
        ge=0.0,
        le=20.0,
        doc="Cost to a department of getting the street to hand its unlisted item down as a "
        "street task.",
    )
    relay_audit_cost: float = param(
        2.0,
        unit="task value at strictness 1",
        source="assumption",
        ge=0.0,
        le=20.0,
        doc="Expected sanction for a relayed item found by a strict list review (scaled by "
        "list_review_strictness and entry_enforcement; zero when there are no reviews).",
    )
    choice_temperature: float = param(
        0.5,
        unit="task value",
        source="assumption",
        ge=0.01,
        le=10.0,
        doc="Noise of issuers' choices (logit scale): low = issuers pick the cheapest response.",
    )
    belief_adjust: float = param(
        0.2,
        unit="per month",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Speed at which an issuer's expected refusal rate (direct and via the street) moves "
        "toward what it has seen.",
    )
    petition_propensity: float = param(
        0.0364379,
        unit="petitions per unlisted type per unit of expected cost",
        source="calibrated: ABC posterior weighted median, scenarios/calibrated/wuhou (fit "
        "targets A13, B8, A12, A5, B5; docs/validation.md)",
        ge=0.0,
        le=10.0,
        doc="Chance (per review, per unit of expected cost of an item being unlisted, times the "
        "issuer's funding share) that an issuer asks to list an unlisted item type with funding "
        "attached (费随事转); such petitions are admitted.",
    )
    relabel_propensity: float = param(
        0.0333095,
        unit="petitions per unlisted type per unit of expected cost",
        source="calibrated: ABC posterior weighted median, scenarios/calibrated/wuhou (fit "
        "targets A13, B8, A12, A5, B5; docs/validation.md); prior note: B19: relabelled tasks "
        "kept coming down",
        ge=0.0,
        le=10.0,
        doc="Chance (per review, per unit of expected cost, times one minus the funding share) "
        "that an issuer asks to have an unlisted type listed without funding (relabelling); "
        "admitted unless the review is strict.",
    )
    refusal_pressure_weight: float = param(
        2.0,
        unit="logit per unit of work pressure",
        source="assumption",
        ge=0.0,
        le=20.0,
        doc="How much a community's refusal odds rise with its work pressure (item demand and "
        "backlog over regular hours, relative to 1).",
    )
    appraisal_refusal_weight: float = param(
        3.0,
        unit="logit at appraisal weight 1",
        source="assumption",
        ge=0.0,
        le=20.0,
        doc="How much the street's appraisal weight lowers a community's refusal odds for the "
        "items the street hands down.",
    )
    department_appraisal_share: float = param(
        0.3,
        unit="share",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Share of the street's appraisal pressure that also covers items departments send "
        "directly.",
    )
    veto_weight: float = param(
        3.0,
        unit="logit",
        source="assumption",
        ge=0.0,
        le=20.0,
        doc="Extra fall in refusal odds for street-handed items under a one-vote veto.",
    )
    retaliation_mean: float = param(
        0.3,
        unit="probability at no enforcement",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Mean chance an issuer retaliates against a refusal (through the appraisal); "
        "scaled by (1 - entry_enforcement).",
    )
    refusal_boldness: float = param(
        1.0,
        unit="logit",
        source="assumption",
        ge=0.0,
        le=10.0,
        doc="Refusal odds a community gains after refusals that went unpunished.",
    )
    retaliation_fear: float = param(
        3.0,
        unit="logit",
        source="assumption",
        ge=0.0,
        le=20.0,
        doc="Refusal odds a community loses when all its refusals were punished.",
    )
    stance_adjust: float = param(
        0.1,
        unit="per month",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Speed at which a community's stance toward refusing moves after a month with "
        "refusals.",
    )
    # --- residents ----------------------------------------------------------------------------
    need_hours_per_resident: float = param(
        0.15,
        unit="hours/month per resident-equivalent",
        source="assumption",
        ge=0.0,
        le=5.0,
        doc="Scale of resident demand for community services beyond administrative items: the "
        "hours a month one resident-equivalent of need asks for (the need weights say how many "
        "resident-equivalents a household with each need counts for).",
    )
    need_weight_elderly: float = param(
        1.9,
        unit="resident-equivalents per household with the need",
        source="assumption (home visits, day care, health checks; no data by service type)",
        ge=0.0,
        le=100.0,
        doc="Need of a household with a member aged 60+.",
    )
    need_weight_children: float = param(
        1.15,
        unit="resident-equivalents per household with the need",
        source="assumption (after-school care, child protection)",
        ge=0.0,
        le=100.0,
        doc="Need of a household with a child aged 0-14.",
    )
    need_weight_disabled: float = param(
        2.9,
        unit="resident-equivalents per household with the need",
        source="assumption (rehabilitation, assistance)",
        ge=0.0,
        le=100.0,
        doc="Need of a household with a disabled member.",
    )
    need_weight_low_income: float = param(
        5.8,
        unit="resident-equivalents per household with the need",
        source="assumption (means tests, allowances, job help)",
        ge=0.0,
        le=100.0,
        doc="Need of a household on or near minimum-living support (低保).",
    )
    need_weight_migrants: float = param(
        1.15,
        unit="resident-equivalents per household with the need",
        source="assumption (registration, schooling, integration)",
        ge=0.0,
        le=100.0,
        doc="Need of a household without local registration (floating population).",
    )
    service_fit_spread: float = param(
        1.0,
        unit="share of the fit profile",
        source="assumption (sim/needs.py SERVICE_FIT)",
        ge=0.0,
        le=1.0,
        doc="How much services fit some needs better than others: 1 applies the fit profile of "
        "each source (staff, groups, agencies, brand agencies) in full, 0 makes every hour fit "
        "every need.",
    )
    migrant_participation_gap: float = param(
        0.5,
        unit="share of participation",
        source="assumption (migrants without local registration take less part in community "
        "life; B14)",
        ge=0.0,
        le=1.0,
        doc="Participation lost per unit of migrant share: participation scales with "
        "1 - gap x migrant share.",
    )
    participation_satisfaction_elasticity: float = param(
        1.0,
        unit="elasticity",
        source="assumption",
        ge=0.0,
        le=5.0,
        doc="Elasticity of residents' participation to their satisfaction (relative to "
        "satisfaction_reference): satisfied residents join in, dissatisfied ones withdraw.",
    )
    satisfaction_reference: float = param(
        0.4,
        unit="satisfaction 0-1",
        source="assumption",
        ge=0.01,
        le=1.0,
        doc="Satisfaction at which participation and contract renewal are neutral.",
    )
    reputation_satisfaction_weight: float = param(
        0.5,
        unit="weight",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Weight of the satisfaction of the residents it serves in a provider's reputation "
        "(the rest is the quality it delivers).",
    )
    renewal_satisfaction_weight: float = param(
        1.0,
        unit="score points per unit of satisfaction",
        source="assumption",
        ge=0.0,
        le=10.0,
        doc="Bonus (or malus) in contract letting for the incumbent of a lot, per unit of its "
        "residents' satisfaction above (below) satisfaction_reference.",
    )
    satisfaction_adjust: float = param(
        0.15,
        unit="per month",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Speed at which satisfaction moves toward what residents experience.",
    )
    satisfaction_weight_coverage: float = param(
        0.5,
        unit="weight",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Weight of coverage in satisfaction (the rest is quality).",
    )
    participation_initial: float = param(
        0.03,
        unit="share of residents",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Mean share of residents active in community life at the start.",
    )
    participation_max: float = param(
        0.141464,
        unit="share of residents",
        source="calibrated: ABC posterior weighted median, scenarios/calibrated/wuhou (fit "
        "targets A13, B8, A12, A5, B5; docs/validation.md)",
        ge=0.0,
        le=1.0,
        doc="Participation approached when self-governance effort is very high.",
    )
    participation_half_hours: float = param(
        30.0,
        unit="hours per 1,000 residents per month",
        source="assumption",
        ge=0.1,
        le=10_000.0,
        doc="Self-governance hours per 1,000 residents at which participation settles at half of "
        "participation_max.",
    )
    participation_adjust: float = param(
        0.05,
        unit="per month",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Speed at which participation moves toward its target.",
    )
    # --- social organizations: grassroots groups -------------------------------------------
    initial_groups_per_community: float = param(
        5.0,
        unit="groups per 14,500 residents",
        source="assumption",
        ge=0.0,
        le=100.0,
        doc="Grassroots groups (filed or registered) at the start, scaled by population.",
    )
    group_formation_rate: float = param(
        0.0654403,
        unit="groups per 1,000 participants per month",
        source="calibrated: ABC posterior weighted median, scenarios/calibrated/wuhou (fit "
        "targets A13, B8, A12, A5, B5; docs/validation.md); prior note: B8: nonprofit entry 4-5% "
        "a year as an order of magnitude",
        ge=0.0,
        le=20.0,
        doc="Formation rate of grassroots groups, proportional to active residents.",
    )
    centre_formation_boost: float = param(
        1.54003,
        unit="relative increase per centre",
        source="calibrated: ABC posterior weighted median, scenarios/calibrated/wuhou (fit "
        "targets A13, B8, A12, A5, B5; docs/validation.md)",
        ge=0.0,
        le=10.0,
        doc="Extra formation in a street per resident service centre it hosts.",
    )
    members_initial_mean: float = param(
        9.0,
        unit="members",
        source="assumption",
        ge=1.0,
        le=200.0,
        doc="Mean members of a new grassroots group (at least 3).",
    )
    member_attrition: float = param(
        0.02,
        unit="share per month",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Members leaving a group each month.",
    )
    member_recruitment: float = param(
        0.025,
        unit="share per month at initial participation",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Members recruited each month, scaled by participation relative to its start.",
    )
    min_members: int = param(
        3,
        unit="members",
        source="assumption",
        ge=1,
        le=50,
        doc="A group with fewer members dissolves.",
    )
    dues_per_member: float = param(
        15.0,
        unit="yuan/member/month",
        source="assumption",
        ge=0.0,
        le=1000.0,
        doc="Dues and small donations a grassroots group raises per member.",
    )
    group_activity_cost_per_member: float = param(
        8.0,
        unit="yuan/member/month",
        source="assumption",
        ge=0.0,
        le=1000.0,
        doc="Running costs of a grassroots group per member.",
    )
    volunteer_hours_per_member: float = param(
        3.0,
        unit="hours/member/month",
        source="assumption",
        ge=0.0,
        le=100.0,
        doc="Volunteer service hours a group member gives to residents.",
    )
    registration_apply_rate: float = param(
        0.0121783,
        unit="probability per month",
        source="calibrated: ABC posterior weighted median, scenarios/calibrated/wuhou (fit "
        "targets A13, B8, A12, A5, B5; docs/validation.md); prior note: calibrated to A12",
        ge=0.0,
        le=1.0,
        doc="Chance an eligible unregistered group applies to register in a month.",
    )
    prior_approval_rate: float = param(
        0.02,
        unit="probability per month",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Chance a group finds a sponsoring unit in a month, when prior approval is required.",
    )
    registered_compliance_cost: float = param(
        250.0,
        unit="yuan/month",
        source="assumption (annual inspection, accounts, reporting)",
        ge=0.0,
        le=1e5,
        doc="Monthly cost of keeping a registered organization in good standing.",
    )
    # --- social organizations: agencies -------------------------------------------------------
    initial_agencies: int = param(
        12,
        unit="agencies",
        source="calibrated: ABC posterior weighted median, scenarios/calibrated/wuhou (fit "
        "targets A13, B8, A12, A5, B5; docs/validation.md)",
        ge=0,
        le=500,
        doc="Local professional social-work agencies at the start.",
        scale="residents",
    )
    initial_agency_workers: int = param(
        5,
        unit="workers per agency",
        source="assumption",
        ge=0,
        le=200,
        doc="Social workers employed by each initial agency.",
    )
    agency_entry_rate: float = param(
        1.29746,
        unit="new agencies per month per 10 M yuan of unabsorbed budget",
        source="calibrated: ABC posterior weighted median, scenarios/calibrated/wuhou (fit "
        "targets A13, B8, A12, A5, B5; docs/validation.md)",
        ge=0.0,
        le=100.0,
        doc="Founding of new local agencies, driven by budget that existing agencies cannot "
        "absorb.",
    )
    agency_lookahead_months: int = param(
        3,
        unit="months",
        source="calibrated: ABC posterior weighted median, scenarios/calibrated/wuhou (fit "
        "targets A13, B8, A12, A5, B5; docs/validation.md); prior note: the reform was announced "
        "in 2013-10, A1, before money flowed",
        ge=0,
        le=36,
        doc="How far ahead would-be founders see announced budgets.",
    )
    agency_registration_delay: int = param(
        3,
        unit="months",
        source="assumption",
        ge=0,
        le=36,
        doc="Months from founding until a new agency is registered (as 民办非企业单位).",
    )
    agency_overhead: float = param(
        6000.0,
        unit="yuan/month",
        source="assumption",
        ge=0.0,
        le=1e6,
        doc="Rent and administration of an agency.",
    )
    agency_outside_income: float = param(
        12_000.0,
        unit="yuan/month",
        source="assumption (foundation and city-level programmes outside the district budget)",
        ge=0.0,
        le=1e7,
        doc="Income a professional agency earns outside the district's purchases and projects.",
    )
    agency_core_workers: int = param(
        2,
        unit="workers",
        source="assumption",
        ge=0,
        le=50,
        doc="Workers an agency keeps without contracts while its reserves last.",
    )
    agency_initial_reserves: float = param(
        120_000.0,
        unit="yuan",
        source="assumption",
        ge=0.0,
        le=1e8,
        doc="Mean reserves of a local agency at founding.",
    )
    insolvency_months: int = param(
        6,
        unit="months",
        source="assumption",
        ge=1,
        le=60,
        doc="Consecutive months with negative reserves after which an organization folds.",
    )
    exit_base_rate: float = param(
        0.015,
        unit="per year",
        source="B8 (exit 1-2% a year)",
        ge=0.0,
        le=1.0,
        doc="Baseline exit hazard of an established organization.",
    )
    exit_youth_multiplier: float = param(
        3.0,
        unit="multiplier at age 0",
        source="B8 (exit risk falls with age); size assumption",
        ge=0.0,
        le=50.0,
        doc="Extra exit hazard of young organizations, decaying with a 2-year scale.",
    )
    brand_capacity: float = param(
        0.8,
        unit="capacity 0-1",
        source="assumption (A14: brand agencies brought in to raise professionalism)",
        ge=0.0,
        le=1.0,
        doc="Mean capacity of an imported brand agency.",
    )
    brand_imported_workers: int = param(
        4,
        unit="workers",
        source="assumption",
        ge=0,
        le=100,
        doc="Experienced social workers a brand agency brings with it.",
    )
    brand_reserves: float = param(
        600_000.0,
        unit="yuan",
        source="assumption",
        ge=0.0,
        le=1e9,
        doc="Reserves a brand agency arrives with.",
    )
    # --- capacity and learning ------------------------------------------------------------------
    capacity_learning: float = param(
        0.004,
        unit="per month",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Capacity growth from delivering contracts or projects.",
    )
    incubation_learning: float = param(
        0.02,
        unit="per month",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Extra capacity growth while incubated.",
    )
    base_learning: float = param(
        0.004,
        unit="per month",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Extra capacity growth for registered local organizations while the incubation base "
        "runs.",
    )
    brand_spillover: float = param(
        0.004,
        unit="per month at saturation",
        source="assumption (A14: brand and local agencies 'promote each other')",
        ge=0.0,
        le=1.0,
        doc="Capacity growth of local agencies from working beside brand agencies in the same "
        "street.",
    )
    capacity_decay: float = param(
        0.003,
        unit="per month",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Capacity lost each month by an agency (local or brand) with no funded work and no "
        "incubation.",
    )
    incubation_slots: int = param(
        40,
        unit="organizations per centre",
        source="A11 (10 centres host 100+ organizations); assumption for an incubation centre",
        ge=0,
        le=1000,
        doc="Organizations an incubation centre hosts at once.",
    )
    incubation_months: int = param(
        18,
        unit="months",
        source="assumption",
        ge=1,
        le=120,
        doc="Length of incubation.",
    )
    incubation_max_age: int = param(
        36,
        unit="months",
        source="assumption",
        ge=0,
        le=600,
        doc="Organizations younger than this may enter incubation.",
    )
    incubation_grant: float = param(
        3000.0,
        unit="yuan",
        source="assumption",
        ge=0.0,
        le=1e6,
        doc="Seed grant on entering incubation.",
    )
    centre_slots: int = param(
        12,
        unit="organizations per centre",
        source="A11 (100+ organizations in 10 centres)",
        ge=0,
        le=1000,
        doc="Organizations a resident service centre hosts (free office space).",
    )
    hosted_cost_factor: float = param(
        0.3,
        unit="share of running costs",
        source="assumption (A12: office space may be provided by the community)",
        ge=0.0,
        le=1.0,
        doc="Running costs of an organization hosted in a service centre or incubated, relative "
        "to one that is not.",
    )
    # --- procurement and projects -------------------------------------------------------------
    service_hour_price: float = param(
        45.6237,
        unit="yuan per delivered hour",
        source="calibrated: ABC posterior weighted median, scenarios/calibrated/wuhou (fit "
        "targets A13, B8, A12, A5, B5; docs/validation.md); prior note: C: worker wages of a few "
        "thousand yuan a month); 以事定费 A7",
        ge=1.0,
        le=1000.0,
        doc="Unit fee used to price a lot from its expected workload.",
    )
    retender_months: int = param(
        3,
        unit="months",
        source="assumption",
        ge=1,
        le=12,
        doc="Interval at which unlet lots and uncommitted project money are offered again.",
    )
    tender_max_discount: float = param(
        0.195514,
        unit="share of fee",
        source="calibrated: ABC posterior weighted median, scenarios/calibrated/wuhou (fit "
        "targets A13, B8, A12, A5, B5; docs/validation.md); prior note: model v2: bids follow "
        "costs; the v1 calibrated 0.00124 meant no price competition",
        ge=0.0,
        le=0.9,
        doc="Largest discount on the fee a tender accepts (bids below (1 - d) x fee are "
        "abnormally low and raised to it); also the discount that earns the full price score.",
    )
    tender_weight_price: float = param(
        1.0,
        unit="score weight",
        source="assumption (A7: best value)",
        ge=0.0,
        le=5.0,
        doc="Weight of price in the tender score (capacity and reputation weigh 1 and 0.5): the "
        "score gains weight x discount / tender_max_discount.",
    )
    tender_local_bonus: float = param(
        0.1,
        unit="score points",
        source="assumption",
        ge=0.0,
        le=5.0,
        doc="Tender score bonus for an organization based in the lot's street.",
    )
    supervision_span: float = param(
        8.0,
        unit="workers per supervisor",
        source="assumption (social-work supervision ratios of about 1:6 to 1:10 are common in "
        "Guangdong and Shenzhen)",
        ge=1.0,
        le=100.0,
        doc="Workers one experienced worker can supervise. Beyond it an organization needs "
        "layers of management, and new workers learn less.",
    )
    coordination_cost: float = param(
        0.05,
        unit="share of hours per doubling",
        source="assumption",
        ge=0.0,
        le=0.5,
        doc="Share of workers' hours lost to management and coordination per doubling of the "
        "workforce beyond one supervision span (log2(1 + workers / span)), capped at 0.5: the "
        "cost of growing.",
    )
    growth_quality_dilution: float = param(
        0.3,
        unit="share of quality at an all-new workforce",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Quality lost in proportion to the share of an organization's workers hired in the "
        "last new_worker_months months.",
    )
    new_worker_months: int = param(
        6,
        unit="months",
        source="assumption",
        ge=1,
        le=60,
        doc="Tenure below which a worker counts as new (dilutes quality, needs supervision).",
    )
    bid_markup: float = param(
        0.15,
        unit="share of unit cost",
        source="assumption",
        ge=0.0,
        le=2.0,
        doc="Mean margin a bidder adds to its cost per productive hour (drawn U(0, 2 x markup) "
        "per bid).",
    )
    commission_min_capacity: float = param(
        0.15,
        unit="capacity 0-1",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Minimum capacity for a direct award (commission).",
    )
    expansion_workers_per_capacity: float = param(
        39.3805,
        unit="workers at capacity 1",
        source="calibrated: ABC posterior weighted median, scenarios/calibrated/wuhou (fit "
        "targets A13, B8, A12, A5, B5; docs/validation.md)",
        ge=0.0,
        le=1000.0,
        doc="How many workers an organization can add in one letting round, at capacity 1 "
        "(scaled by capacity): limits how much work it can take on.",
    )
    project_grant_agency: float = param(
        150_000.0,
        unit="yuan/year",
        source="assumption (B10: 2 M yuan a year for a large centre; projects are smaller)",
        ge=0.0,
        le=1e8,
        doc="Size of a public-interest project grant to an agency.",
    )
    project_grant_group: float = param(
        10_000.0,
        unit="yuan/year",
        source="B9 (about 10,000 yuan per micro-project)",
        ge=0.0,
        le=1e7,
        doc="Size of a micro-project grant to a registered grassroots group.",
    )
    project_group_hour_cost: float = param(
        15.0,
        unit="yuan per hour",
        source="assumption",
        ge=0.1,
        le=1000.0,
        doc="Cost of an hour of a group's funded activity (stipends, materials).",
    )
    project_overhead_share: float = param(
        0.15,
        unit="share of grant",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Share of a grassroots group's micro-project grant left over for its running costs "
        "(the rest pays for the funded activities).",
    )
    member_project_hours: float = param(
        8.0,
        unit="hours/member/month",
        source="assumption",
        ge=0.0,
        le=200.0,
        doc="Hours a group member can put into a funded micro-project: bounds what a small group "
        "delivers whatever its grant.",
    )
    project_apply_rate: float = param(
        0.6,
        unit="probability",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Chance a registered organization applies in a project call.",
    )
    group_project_apply_rate: float = param(
        0.8,
        unit="probability",
        source="assumption (model v2; with the project budget it sets how competitive calls are: "
        "B9, 12 of 58 applications funded)",
        ge=0.0,
        le=1.0,
        doc="Chance a grassroots group (registered or only filed) without a project applies in a "
        "project call.",
    )
    project_review_bar: float = param(
        0.6,
        unit="score",
        source="assumption (model v2; with the applicants' capacities and the budget it sets the "
        "funded share: B9, 12 of 58 applications funded)",
        ge=0.0,
        le=5.0,
        doc="Lowest review score (capacity + 0.5 x reputation + noise) a project proposal needs "
        "to be funded; money not awarded stays unspent until the next call.",
    )
    project_score_noise: float = param(
        0.15,
        unit="score sd",
        source="assumption",
        ge=0.0,
        le=5.0,
        doc="Noise in project review (B9: 21% of applications funded).",
    )
    # --- service quality ----------------------------------------------------------------------
    org_quality_capacity_exponent: float = param(
        0.5,
        unit="exponent",
        source="assumption",
        ge=0.0,
        le=5.0,
        doc="Elasticity of delivered quality to organizational capacity.",
    )
    local_quality_bonus: float = param(
        0.1,
        unit="relative quality",
        source="assumption (local knowledge; A14 notes local groups complement brand agencies)",
        ge=0.0,
        le=1.0,
        doc="Quality bonus for an organization serving a community in its own street.",
    )
    overload_quality_penalty: float = param(
        0.5,
        unit="quality lost per unit of overload",
        source="assumption",
        ge=0.0,
        le=5.0,
        doc="Quality lost when an organization's work exceeds its workers' hours.",
    )
    volunteer_quality: float = param(
        0.3,
        unit="quality 0-1",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Quality of volunteer activity by a group of capacity 0 (rises by "
        "volunteer_quality_capacity at capacity 1).",
    )
    # --- social workers -------------------------------------------------------------------------
    worker_hours_per_month: float = param(
        150.0,
        unit="productive hours/month",
        source="assumption (174 regular hours less training, travel and records)",
        ge=10.0,
        le=300.0,
        doc="Service hours a social worker delivers per month.",
    )
    wage_base: float = param(
        3500.0,
        unit="yuan/month",
        source="assumption (C: a few thousand yuan a month in Chengdu c. 2014)",
        ge=0.0,
        le=1e5,
        doc="Wage at a local agency of capacity 0.",
    )
    wage_capacity_premium: float = param(
        0.4,
        unit="relative wage at capacity 1",
        source="assumption",
        ge=0.0,
        le=5.0,
        doc="Wage premium paid by higher-capacity organizations.",
    )
    wage_certified_premium: float = param(
        0.1,
        unit="relative wage",
        source="assumption",
        ge=0.0,
        le=5.0,
        doc="Wage premium for a certified social worker.",
    )
    employer_cost_factor: float = param(
        1.35,
        unit="cost per yuan of wage",
        source="assumption (social insurance and housing fund)",
        ge=1.0,
        le=3.0,
        doc="Employer's cost per yuan of wages.",
    )
    outside_wage: float = param(
        4200.0,
        unit="yuan/month",
        source="assumption",
        ge=0.0,
        le=1e5,
        doc="What a social worker could earn outside the sector.",
    )
    quit_base: float = param(
        0.005,
        unit="per month",
        source="assumption (model v2: lowered so turnover emerges from pay, burnout and tenure; "
        "B20: 17.6-22.2% a year in Shenzhen)",
        ge=0.0,
        le=1.0,
        doc="Baseline monthly quit probability.",
    )
    quit_newcomer: float = param(
        0.008,
        unit="per month at tenure 0",
        source="assumption (B20: average tenure 1.7 years; early leaving)",
        ge=0.0,
        le=1.0,
        doc="Extra quitting of workers new to their employer, decaying with a 12-month scale.",
    )
    quit_pay_sensitivity: float = param(
        0.06,
        unit="per month per relative pay gap",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Extra quitting when pay is below the outside wage.",
    )
    quit_burnout_sensitivity: float = param(
        0.04,
        unit="per month at burnout 1",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Extra quitting from burnout.",
    )
    leave_sector_share: float = param(
        0.5,
        unit="share",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Share of quitting workers who leave the sector (the rest join the local pool).",
    )
    pool_exit_rate: float = param(
        0.04,
        unit="per month",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Unemployed social workers leaving the sector each month.",
    )
    initial_pool: int = param(
        40,
        unit="workers",
        source="assumption",
        ge=0,
        le=100_000,
        doc="Trained social workers without a post in the district at the start.",
        scale="residents",
    )
    graduates_per_year: float = param(
        80.0,
        unit="workers/year (July)",
        source="assumption (B7: national licensed workforce grew about 50,000 a year)",
        ge=0.0,
        le=100_000.0,
        doc="New social-work graduates entering the district pool each July.",
        scale="residents",
    )
    switchers_per_month: float = param(
        34.3269,
        unit="workers/month",
        source="calibrated: ABC posterior weighted median, scenarios/calibrated/wuhou (fit "
        "targets A13, B8, A12, A5, B5; docs/validation.md)",
        ge=0.0,
        le=10_000.0,
        doc="Untrained career switchers available to hire each month once the pool is empty.",
        scale="residents",
    )
    skill_growth: float = param(
        0.03,
        unit="per month",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Skill growth toward 1 from a month of full practice under average supervision.",
    )
    skill_decay: float = param(
        0.005,
        unit="per month",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Skill lost per month without practice.",
    )
    certification_base: float = param(
        0.05,
        unit="pass probability",
        source="assumption (B7: the certified workforce grows about 35% a year)",
        ge=0.0,
        le=1.0,
        doc="Pass rate of the June certification exam at skill 0 (rises by "
        "certification_skill_slope at skill 1).",
    )
    worker_burnout_rate: float = param(
        0.2,
        unit="per month",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Speed at which a social worker's burnout follows the employer's load.",
    )
    other_orgs_initial: float = param(
        300.0,
        unit="organizations",
        source="assumption (registered organizations outside community services: trade "
        "associations, private schools, clinics)",
        ge=0.0,
        le=100_000.0,
        doc="Registered organizations the model does not simulate in detail, counted in n_orgs.",
        scale="residents",
    )
    other_orgs_entry: float = param(
        0.045,
        unit="per year",
        source="B8 (entry 4-5% a year)",
        ge=0.0,
        le=1.0,
        doc="Entry rate of organizations outside community services.",
    )

    # --- tender, commission and project scores (formerly fixed in code; ODD 7.11) --------------
    tender_weight_capacity: float = param(
        1.0,
        unit="score per unit capacity",
        source="assumption (A7: best value)",
        ge=0.0,
        le=5.0,
        doc="Weight of a bidder's capacity in the tender score (with tender_weight_reputation, "
        "tender_weight_price and tender_local_bonus).",
    )
    tender_weight_reputation: float = param(
        0.5,
        unit="score per unit reputation",
        source="assumption",
        ge=0.0,
        le=5.0,
        doc="Weight of a bidder's reputation in the tender score.",
    )
    procurement_score_noise: float = param(
        0.05,
        unit="score sd",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Standard deviation of the noise in each tender or commission score (what the "
        "scores do not capture).",
    )
    commission_weight_incumbent: float = param(
        1.0,
        unit="score",
        source="assumption (A7: commissions favour the incumbent)",
        ge=0.0,
        le=5.0,
        doc="Commission score of the lot's incumbent, if its reputation is at least "
        "commission_incumbent_min_reputation.",
    )
    commission_incumbent_min_reputation: float = param(
        0.4,
        unit="reputation 0-1",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Reputation an incumbent needs to be favoured in a commission.",
    )
    commission_weight_local: float = param(
        0.5,
        unit="score",
        source="assumption (A7: streets commission their own organizations)",
        ge=0.0,
        le=5.0,
        doc="Commission score of an organization from the lot's street.",
    )
    commission_weight_capacity: float = param(
        0.3,
        unit="score per unit capacity",
        source="assumption",
        ge=0.0,
        le=5.0,
        doc="Weight of capacity in the commission score.",
    )
    commission_weight_reputation: float = param(
        0.2,
        unit="score per unit reputation",
        source="assumption",
        ge=0.0,
        le=5.0,
        doc="Weight of reputation in the commission score.",
    )
    project_weight_reputation: float = param(
        0.5,
        unit="score per unit reputation",
        source="assumption",
        ge=0.0,
        le=5.0,
        doc="Weight of reputation, next to capacity (weight 1), in the review score of a "
        "project application.",
    )

    # --- delivery quality and burnout (formerly fixed in code; ODD 7.11) -----------------------
    quality_skill_base: float = param(
        0.4,
        unit="quality factor",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Professional quality factor of an organization whose workers have skill 0; it "
        "rises by quality_skill_slope per unit of mean worker skill.",
    )
    quality_skill_slope: float = param(
        0.6,
        unit="quality factor per unit skill",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Rise of the professional quality factor with the mean skill of the workers.",
    )
    volunteer_quality_capacity: float = param(
        0.4,
        unit="quality per unit capacity",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Rise of a grassroots group's volunteer quality with its capacity (above "
        "volunteer_quality; capped at 1).",
    )
    staff_burnout_ramp: float = param(
        0.5,
        unit="pressure (hours demanded / regular hours)",
        source="assumption",
        ge=0.01,
        le=5.0,
        doc="Width of the ramp over which community staff's burnout target rises from 0 (at "
        "burnout_pressure_onset) to 1.",
    )
    worker_burnout_onset: float = param(
        0.9,
        unit="load (work / staff hours)",
        source="assumption",
        ge=0.0,
        le=2.0,
        doc="Employer load above which a social worker's burnout target rises from 0.",
    )
    worker_burnout_ramp: float = param(
        0.5,
        unit="load",
        source="assumption",
        ge=0.01,
        le=5.0,
        doc="Width of the load ramp over which a social worker's burnout target rises to 1.",
    )
    reputation_smoothing: float = param(
        0.2,
        unit="per month",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Speed at which an active organization's reputation follows the quality it delivered.",
    )

    # --- organizations' lives (formerly fixed in code; ODD 7.11) --------------------------------
    new_org_reputation: float = param(
        0.5,
        unit="reputation 0-1",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Reputation of a new local organization (group or agency) with no track record.",
    )
    new_agency_capacity_min: float = param(
        0.2,
        unit="capacity 0-1",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Lower end of the uniform capacity of a newly founded local agency.",
    )
    new_agency_capacity_max: float = param(
        0.45,
        unit="capacity 0-1",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Upper end of the uniform capacity of a newly founded local agency.",
    )
    new_group_reserve_months: float = param(
        3.0,
        unit="months of dues",
        source="assumption",
        ge=0.0,
        le=60.0,
        doc="A new grassroots group starts with uniform(0, this) months of members' dues.",
    )
    support_approval_boost: float = param(
        1.0,
        unit="relative increase",
        source="assumption (A12: support eases finding a sponsoring unit)",
        ge=0.0,
        le=10.0,
        doc="Relative increase of the monthly prior-approval rate for a group that is incubated "
        "or hosted in a service centre.",
    )
    support_registration_multiplier: float = param(
        3.0,
        unit="multiplier",
        source="assumption",
        ge=1.0,
        le=20.0,
        doc="Multiplier of the monthly registration application rate for an eligible group "
        "that is incubated or hosted.",
    )
    incubation_members_scale: float = param(
        50.0,
        unit="members per unit score",
        source="assumption",
        ge=1.0,
        le=1000.0,
        doc="In the incubation selection score (capacity + members / this + noise), the "
        "members worth one unit of capacity.",
    )
    incubation_score_noise: float = param(
        0.2,
        unit="score",
        source="assumption",
        ge=0.0,
        le=2.0,
        doc="Upper end of the uniform noise in the incubation selection score.",
    )
    exit_youth_decay_months: float = param(
        24.0,
        unit="months",
        source="assumption (B8: exits are most frequent among young organizations)",
        ge=1.0,
        le=240.0,
        doc="Time constant of the exponential decay of the extra exit hazard of young "
        "organizations (exit_youth_multiplier).",
    )
    group_exit_size_half: float = param(
        5.0,
        unit="members",
        source="assumption (B8: small organizations exit more often)",
        ge=0.1,
        le=1000.0,
        doc="Size factor of a grassroots group's exit hazard, 2h / (members + h) with h this "
        "value: 1 at h members, higher for smaller groups, lower for larger ones.",
    )
    brand_capacity_sd: float = param(
        0.05,
        unit="capacity sd",
        source="assumption",
        ge=0.0,
        le=0.5,
        doc="Spread of the capacity of arriving brand agencies around brand_capacity.",
    )
    brand_reputation: float = param(
        0.7,
        unit="reputation 0-1",
        source="assumption (A14: established agencies from Beijing, Shanghai, Nanjing)",
        ge=0.0,
        le=1.0,
        doc="Reputation of an arriving brand agency (a track record elsewhere).",
    )

    # --- social workers' skills and certification (formerly fixed in code; ODD 7.11) ------------
    switcher_skill_min: float = param(
        0.05,
        unit="skill 0-1",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Lower end of the uniform skill of a career switcher hired without training.",
    )
    switcher_skill_max: float = param(
        0.2,
        unit="skill 0-1",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Upper end of the uniform skill of a career switcher.",
    )
    graduate_skill_min: float = param(
        0.2,
        unit="skill 0-1",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Lower end of the uniform skill of a July graduate joining the pool.",
    )
    graduate_skill_max: float = param(
        0.35,
        unit="skill 0-1",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Upper end of the uniform skill of a graduate.",
    )
    brand_worker_skill_min: float = param(
        0.6,
        unit="skill 0-1",
        source="assumption (A14: brand agencies bring experienced, certified staff)",
        ge=0.0,
        le=1.0,
        doc="Lower end of the uniform skill of the workers a brand agency brings (all certified).",
    )
    brand_worker_skill_max: float = param(
        0.8,
        unit="skill 0-1",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Upper end of the uniform skill of the workers a brand agency brings.",
    )
    supervision_base: float = param(
        0.5,
        unit="multiplier",
        source="assumption",
        ge=0.0,
        le=5.0,
        doc="Skill growth multiplier from supervision at employer capacity 0; the multiplier is "
        "this plus the employer's capacity.",
    )
    certification_sit_rate: float = param(
        0.5,
        unit="probability",
        source="assumption",
        ge=0.0,
        le=1.0,
        doc="Probability that an uncertified social worker sits the June exam.",
    )
    certification_skill_slope: float = param(
        0.45,
        unit="pass probability per unit skill",
        source="assumption (B7: the certified workforce grows about 35% a year)",
        ge=0.0,
        le=1.0,
        doc="Rise of the exam pass rate from certification_base at skill 0 to skill 1.",
    )


def field_label(cls: type[BaseModel], name: str, width: int = 80) -> str:
    """A parameter's or lever's label for readers: the first clause of its description (e.g.
    ``Policy.entry_enforcement`` -> 'Enforcement strength of entry control'), cut to ``width``
    characters; the field's name when it has no description or does not exist."""
    field = cls.model_fields.get(name)
    if field is None:
        return name
    text = re.split(r"(?<=[.;:])\s|\s\(", (field.description or name).strip())[0]
    text = text.rstrip(".;:, ")
    if len(text) > width:
        text = text[: width - 1].rsplit(" ", 1)[0] + "…"
    return text


def field_table(cls: type[BaseModel]) -> list[dict[str, Any]]:
    """Rows describing every field of a parameter class (for docs and the dashboard)."""
    rows = []
    for name, info in cls.model_fields.items():
        extra = info.json_schema_extra or {}
        lo = hi = None
        for meta in info.metadata:
            lo = getattr(meta, "ge", lo)
            hi = getattr(meta, "le", hi)
        ann = info.annotation
        choices = get_args(ann) if get_origin(ann) is Literal else ()
        rows.append(
            {
                "name": name,
                "default": info.default,
                "type": "Literal" if choices else getattr(ann, "__name__", str(ann)),
                "choices": choices,
                "unit": extra.get("unit", ""),
                "min": lo,
                "max": hi,
                "source": extra.get("source", ""),
                "doc": info.description or "",
                "label": field_label(cls, name),
                "scale": extra.get("scale"),
                "scale_note": extra.get("scale_note", ""),
            }
        )
    return rows
