"""Process 9: measure. Monthly records and the tidy result tables.

Community rows are recorded as arrays each month; street and district outcomes are aggregated
from them by one function (:func:`aggregate`), so the three levels always agree: shares are ratios
of sums (hours), and satisfaction and participation are weighted by residents. Every column is
documented in ``docs/outputs.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.agents import AGENCY, BRAND, GRASSROOTS
from sim.processes.procurement import local_share_and_hhi
from sim.schedule import format_month

if TYPE_CHECKING:
    from sim.model import DistrictModel

# community column -> table column
COMMUNITY_COLUMNS = {
    "residents": "residents",
    "staff": "staff",
    "admin_burden": "admin_burden",
    "admin_hours": "hours_admin",
    "staff_hours_available": "hours_available",
    "staff_hours_used": "hours_used",
    "self_governance_hours": "hours_self_governance",
    "staff_service_hours": "hours_services",
    "items_issued": "items_issued",
    "items_received": "items_received",
    "items_refused": "items_refused",
    "items_withheld": "items_withheld",
    "items_funded": "items_funded",
    "items_unlisted_accepted": "items_unlisted_accepted",
    "backlog_hours": "backlog",
    "undone_item_hours": "undone_hours",
    "org_item_hours": "org_item_delivered",
    "volunteer_hours": "volunteer_hours",
    "project_hours": "project_hours",
    "service_need_hours": "need_hours",
    "served_hours": "served_hours",
    "service_coverage": "service_coverage",
    "service_quality": "service_quality",
    "satisfaction": "satisfaction",
    "participation": "participation",
    "staff_burnout": "burnout",
    "purchase_spend": "purchase_spend",
}
SUMMED = (
    "residents",
    "staff",
    "admin_hours",
    "staff_hours_available",
    "staff_hours_used",
    "self_governance_hours",
    "staff_service_hours",
    "items_issued",
    "items_received",
    "items_refused",
    "items_withheld",
    "items_funded",
    "items_unlisted_accepted",
    "backlog_hours",
    "undone_item_hours",
    "org_item_hours",
    "volunteer_hours",
    "project_hours",
    "service_need_hours",
    "served_hours",
    "purchase_spend",
    "contracted",
    "n_groups",
)
OUTCOMES = ("admin_burden", "service_coverage", "service_quality", "satisfaction")


COMMUNITY_RECORD = (*COMMUNITY_COLUMNS, "n_groups", "contracted")


def community_record(model: DistrictModel) -> np.ndarray:
    """This month's community columns as one array (rows in ``COMMUNITY_RECORD`` order).

    One array rather than a dict of arrays keeps Mesa's per-step deepcopy to a single memcpy.
    """
    c, o = model.communities, model.orgs
    groups = o.alive & (o.kind == GRASSROOTS)
    return np.vstack(
        [getattr(c, col) for col in COMMUNITY_COLUMNS.values()]
        + [
            np.bincount(o.community[groups], None, len(c)),
            c.contract_org >= 0,
        ]
    ).astype(float)


def district_record(model: DistrictModel) -> dict[str, Any]:
    """This month's district-only columns: organizations, workers, money, inequality."""
    o, w, c, s = model.orgs, model.workers, model.communities, model.month_stats
    books = model.year_books()
    alive = o.alive
    by_kind = {k: int((alive & (o.kind == k)).sum()) for k in (GRASSROOTS, AGENCY, BRAND)}
    employed = w.alive & (w.employer >= 0)
    n_emp = int(employed.sum())
    local, hhi = local_share_and_hhi(model)
    pro = alive & (o.kind != GRASSROOTS)
    spend = float(c.purchase_spend.sum() + o.project_income.sum())
    service_delivered = float(c.org_item_delivered.sum() + c.project_hours.sum())
    q10, q90 = np.quantile(c.service_quality, [0.1, 0.9])
    pol = model.policy
    return {
        "n_orgs": int(alive.sum()) + model.other_orgs,
        "n_orgs_grassroots": by_kind[GRASSROOTS],
        "n_orgs_agency": by_kind[AGENCY],
        "n_orgs_brand": by_kind[BRAND],
        "n_orgs_other": model.other_orgs,
        "n_registered": int((alive & o.registered).sum()) + model.other_orgs,
        "n_registered_new_rule": int((alive & o.new_rule).sum()),
        "registrations": s["registrations"],
        "registrations_new_rule": s["registrations_new_rule"],
        "orgs_formed": s["formed"],
        "agencies_founded": s["agencies_founded"],
        "org_exits": s["exits"],
        "org_exits_registered": s["exits_registered"],
        "n_incubated": int((alive & (o.incubated_until > model.t)).sum()),
        "n_hosted": int((alive & o.hosted).sum()),
        "mean_capacity": _mean(o.capacity[alive]),
        "mean_capacity_professional": _mean(o.capacity[pro]),
        "contracts_active": int((c.contract_org >= 0).sum()),
        "projects_active": int((alive & (o.project_community >= 0)).sum()),
        "contract_hhi": hhi,
        "local_money_share": local,
        "n_social_workers": n_emp,
        "social_workers_pool": int((w.alive & (w.employer < 0)).sum()),
        "mean_skill": _mean(w.skill[employed]),
        "certified_share": _mean(w.certified[employed].astype(float)),
        "turnover": s["quits"] / n_emp if n_emp else 0.0,
        "hires": s["hires"],
        "switchers_hired": s["switchers_hired"],
        "layoffs": s["layoffs"],
        "purchase_spend": float(c.purchase_spend.sum()),
        "project_spend": float(o.project_income.sum()),
        "funded_item_spend": float(o.contract_income.sum() - c.purchase_spend.sum()),
        "cost_per_service_hour": spend / service_delivered if service_delivered > 0 else np.nan,
        "purchase_appropriated_ytd": books.purchase_appropriated,
        "purchase_spent_ytd": books.purchase_spent,
        "project_appropriated_ytd": books.project_appropriated,
        "project_spent_ytd": books.project_spent,
        "coverage_gini": gini(c.service_coverage),
        "quality_p10_p90": float(q10 / q90) if q90 > 0 else np.nan,
        "entry_control": bool(pol.entry_control),
        "purchase_budget": pol.purchase_budget,
        "project_budget": pol.project_budget,
    }


def gini(x: np.ndarray) -> float:
    """Gini coefficient of a non-negative array (0 = equal)."""
    x = np.sort(np.asarray(x, float))
    n, total = len(x), x.sum()
    if n == 0 or total <= 0:
        return 0.0
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * total))


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if len(x) else np.nan


def aggregate(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sum community rows by ``by`` and recompute the shares from the sums."""
    f = frame.assign(
        _quality_hours=frame["service_quality"] * frame["served_hours"],
        _sat=frame["satisfaction"] * frame["residents"],
        _part=frame["participation"] * frame["residents"],
        _burn=frame["staff_burnout"] * frame["staff"],
    )
    cols = [*SUMMED, "_quality_hours", "_sat", "_part", "_burn"]
    g = f.groupby(by, sort=False, observed=True)[cols].sum().reset_index()
    g["admin_burden"] = _ratio(g["admin_hours"], g["staff_hours_used"])
    g["service_coverage"] = _ratio(g["served_hours"], g["service_need_hours"])
    g["service_quality"] = _ratio(g["_quality_hours"], g["served_hours"])
    g["satisfaction"] = _ratio(g["_sat"], g["residents"])
    g["participation"] = _ratio(g["_part"], g["residents"])
    g["staff_burnout"] = _ratio(g["_burn"], g["staff"])
    g["admin_hours_per_staff"] = _ratio(g["admin_hours"], g["staff"])
    g["n_communities"] = f.groupby(by, sort=False, observed=True).size().to_numpy()
    return g.drop(columns=["_quality_hours", "_sat", "_part", "_burn"])


def _ratio(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a / b.where(b > 0)).astype(float)


def build_results(model: DistrictModel) -> dict[str, pd.DataFrame]:
    """Tidy tables keyed 'district', 'street' and 'community', one row per month (and unit)."""
    d = model.district
    records = model.datacollector.model_vars
    steps = np.arange(1, len(records["community"]) + 1)
    months = [format_month(model.spec.start + s - 1) for s in steps]
    n_c = d.n_communities
    if not len(steps):
        empty = pd.DataFrame()
        return {"district": empty, "street": empty, "community": empty}
    stacked = np.concatenate(records["community"], axis=1)  # columns x (steps * communities)
    community = pd.DataFrame(dict(zip(COMMUNITY_RECORD, stacked, strict=True)))
    community.insert(0, "step", np.repeat(steps, n_c))
    community.insert(1, "month", np.repeat(np.array(months, dtype=object), n_c))
    community.insert(2, "community", np.tile(np.array(d.community_names, dtype=object), len(steps)))
    street_idx = np.tile(d.community_street, len(steps))
    community.insert(3, "street", np.array(d.street_names, dtype=object)[street_idx])
    community.insert(2, "year", community["month"].str.slice(0, 4).astype(int))
    community["admin_hours_per_staff"] = community["admin_hours"] / community["staff"]
    community["contracted"] = community["contracted"].astype(bool)
    community["n_groups"] = community["n_groups"].astype(int)

    street = aggregate(community, ["step", "month", "year", "street"])
    district = aggregate(community, ["step", "month", "year"])
    district = district.drop(columns=["purchase_spend"])
    extra = pd.DataFrame(records["district"])
    district = pd.concat([district.reset_index(drop=True), extra], axis=1)
    district.insert(3, "district", d.name)
    assert len(community) == len(steps) * n_c
    return {"district": district, "street": street, "community": community}
