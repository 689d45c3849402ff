"""Process 9: measure. Monthly records and the tidy result tables.

Community rows are recorded as arrays each month; street and district outcomes are aggregated
from them by one function (:func:`aggregate`), so the three levels always agree: shares are ratios
of sums (hours), and satisfaction and participation are weighted by residents. Every column is
documented in ``docs/outputs.md``.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.agents import AGENCY, BRAND, GRASSROOTS
from sim.schedule import format_month
from sim.tables import Table

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
    "delivered_hours": "delivered_hours",
    "service_coverage": "service_coverage",
    "service_quality": "service_quality",
    "satisfaction": "satisfaction",
    "participation": "participation",
    "staff_burnout": "burnout",
    "purchase_spend": "purchase_spend",
    "lots_held": "lots_held",
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
    "delivered_hours",
    "purchase_spend",
    "lots_held",
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
            c.lots_held > 0,
        ]
    ).astype(float)


DISTRICT_COLUMNS = (
    "n_orgs",
    "n_orgs_grassroots",
    "n_orgs_agency",
    "n_orgs_brand",
    "n_orgs_other",
    "n_registered",
    "n_registered_new_rule",
    "registrations",
    "registrations_new_rule",
    "orgs_formed",
    "agencies_founded",
    "org_exits",
    "org_entry_rate",
    "org_exit_rate",
    "org_exits_registered",
    "n_incubated",
    "n_hosted",
    "mean_capacity",
    "mean_capacity_professional",
    "contracts_active",
    "projects_active",
    "contract_hhi",
    "local_money_share",
    "n_social_workers",
    "social_workers_pool",
    "mean_skill",
    "certified_share",
    "turnover",
    "hires",
    "switchers_hired",
    "layoffs",
    "purchase_spend",
    "project_spend",
    "funded_item_spend",
    "cost_per_service_hour",
    "purchase_appropriated_ytd",
    "purchase_spent_ytd",
    "project_appropriated_ytd",
    "project_spent_ytd",
    "coverage_gini",
    "quality_p10_p90",
    "service_centres",
    "streets_with_centres",
    "incubation_centres",
    "entry_control",
    "purchase_budget",
    "project_budget",
)


def district_record(model: DistrictModel) -> dict[str, Any]:
    """This month's district-only columns: organizations, workers, money, inequality."""
    o, w, c, s = model.orgs, model.workers, model.communities, model.month_stats
    books = model.year_books()
    alive = o.alive
    by_kind = {k: int((alive & (o.kind == k)).sum()) for k in (GRASSROOTS, AGENCY, BRAND)}
    employed = w.alive & (w.employer >= 0)
    n_emp = int(employed.sum())
    local, hhi = local_share_and_hhi(o)
    pro = alive & (o.kind != GRASSROOTS)
    spend = float(o.contract_income.sum() + o.project_income.sum())  # incl. funded items
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
        "org_entry_rate": 12 * (s["formed"] + s["agencies_founded"]) / max(int(alive.sum()), 1),
        "org_exit_rate": 12 * s["exits"] / max(int(alive.sum()) + s["exits"], 1),
        "org_exits_registered": s["exits_registered"],
        "n_incubated": int((alive & (o.incubated_until > model.t)).sum()),
        "n_hosted": int((alive & o.hosted).sum()),
        "mean_capacity": _mean(o.capacity[alive]),
        "mean_capacity_professional": _mean(o.capacity[pro]),
        "contracts_active": int((model.lots.holder >= 0).sum()),
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
        "service_centres": int(model.streets.service_centres.sum()),
        "streets_with_centres": int((model.streets.service_centres > 0).sum()),
        "incubation_centres": pol.incubation_centres,
        "entry_control": bool(pol.entry_control),
        "purchase_budget": pol.purchase_budget,
        "project_budget": pol.project_budget,
    }


# District outcomes also offered to Mesa's tools month by month (results() recomputes them for all
# months at once with the same function, aggregate).
MESA_OUTCOMES = (*OUTCOMES, "items_refused")


def district_value(model: DistrictModel, name: str) -> Any:
    """One district column for this month (computed once per month, then read from a cache)."""
    cache = model.__dict__.get("_district_cache")
    if cache is None or cache[0] != model.steps:
        record = community_record(model)
        cols = {k: record[i][None, :] for i, k in enumerate(COMMUNITY_RECORD)}
        summed = aggregate(cols, np.zeros(len(model.communities), np.int64), 1)
        values = district_record(model) | {k: float(summed[k][0, 0]) for k in MESA_OUTCOMES}
        cache = (model.steps, values)
        model._district_cache = cache
    return cache[1][name]


def model_reporters() -> dict[str, Any]:
    """DataCollector reporters: the community array, and each district column on its own, so
    Mesa's own tools (``batch_run``, ``get_model_vars_dataframe``) see flat district columns."""
    reporters: dict[str, Any] = {"community": community_record}
    names = (*MESA_OUTCOMES, *DISTRICT_COLUMNS)
    reporters.update({name: partial(district_value, name=name) for name in names})
    return reporters


def local_share_and_hhi(orgs: Table) -> tuple[float, float]:
    """Share of this month's contract and project money won by local (non-brand) organizations,
    and the Herfindahl-Hirschman index of that money across organizations (0-1)."""
    money = orgs.contract_income + orgs.project_income
    total = money.sum()
    if total <= 0:
        return float("nan"), float("nan")
    shares = money / total
    local = shares[orgs.kind != BRAND].sum()
    return float(local), float((shares**2).sum())


def gini(x: np.ndarray) -> float:
    """Gini coefficient of a non-negative array (0 = equal)."""
    x = np.sort(np.asarray(x, float))
    n, total = len(x), x.sum()
    if n == 0 or total <= 0:
        return 0.0
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * total))


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if len(x) else np.nan


RATIOS = (
    "admin_burden",
    "service_coverage",
    "service_quality",
    "satisfaction",
    "participation",
    "staff_burnout",
    "admin_hours_per_staff",
    "n_communities",
)


def aggregate(
    cols: dict[str, np.ndarray], groups: np.ndarray, n_groups: int
) -> dict[str, np.ndarray]:
    """Sum community columns (each steps x communities) into groups and recompute the shares.

    Shares are ratios of sums (hours); satisfaction and participation are weighted by residents,
    burnout by staff. Returns arrays of shape steps x groups.
    """
    onehot = np.zeros((len(groups), n_groups))
    onehot[np.arange(len(groups)), groups] = 1.0
    out = {name: cols[name] @ onehot for name in SUMMED}
    weighted = {
        "quality": (cols["service_quality"] * cols["delivered_hours"]) @ onehot,
        "satisfaction": (cols["satisfaction"] * cols["residents"]) @ onehot,
        "participation": (cols["participation"] * cols["residents"]) @ onehot,
        "burnout": (cols["staff_burnout"] * cols["staff"]) @ onehot,
    }
    out["admin_burden"] = _ratio(out["admin_hours"], out["staff_hours_used"])
    out["service_coverage"] = _ratio(out["served_hours"], out["service_need_hours"])
    out["service_quality"] = _ratio(weighted["quality"], out["delivered_hours"])
    out["satisfaction"] = _ratio(weighted["satisfaction"], out["residents"])
    out["participation"] = _ratio(weighted["participation"], out["residents"])
    out["staff_burnout"] = _ratio(weighted["burnout"], out["staff"])
    out["admin_hours_per_staff"] = _ratio(out["admin_hours"], out["staff"])
    out["n_communities"] = np.broadcast_to(onehot.sum(axis=0).astype(np.int64), out["staff"].shape)
    return out


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.full(np.shape(a), np.nan), where=b > 0)


def result_columns(model: DistrictModel) -> dict[str, dict[str, np.ndarray]]:
    """The result tables as columns of equal length, by level (one row per month and unit)."""
    d = model.district
    records = model.datacollector.model_vars
    n_steps = len(records["community"])
    if n_steps == 0:
        return {"district": {}, "street": {}, "community": {}}
    steps = np.arange(1, n_steps + 1)
    months = np.array([format_month(model.spec.start + s - 1) for s in steps])
    years = np.array([int(m[:4]) for m in months])
    rec = np.stack(records["community"])  # steps x record columns x communities
    cols = {name: rec[:, i, :] for i, name in enumerate(COMMUNITY_RECORD)}
    n_c, n_s = d.n_communities, d.n_streets

    def keys(n_units: int) -> dict[str, np.ndarray]:
        return {
            "step": np.repeat(steps, n_units),
            "month": np.repeat(months, n_units),
            "year": np.repeat(years, n_units),
        }

    community = keys(n_c)
    community["community"] = np.tile(np.array(d.community_names), n_steps)
    community["street"] = np.tile(np.array(d.street_names)[d.community_street], n_steps)
    for name in COMMUNITY_RECORD:
        community[name] = cols[name].ravel()
    community["admin_hours_per_staff"] = community["admin_hours"] / community["staff"]
    community["contracted"] = community["contracted"].astype(bool)
    community["n_groups"] = community["n_groups"].astype(np.int64)

    street = keys(n_s)
    street["street"] = np.tile(np.array(d.street_names), n_steps)
    street.update({k: v.ravel() for k, v in aggregate(cols, d.community_street, n_s).items()})

    district = keys(1)
    district["district"] = np.repeat(np.array([d.name]), n_steps)
    summed = aggregate(cols, np.zeros(n_c, np.int64), 1)
    district.update({k: v.ravel() for k, v in summed.items() if k != "purchase_spend"})
    for name in DISTRICT_COLUMNS:
        district[name] = np.array(records[name])
    return {"district": district, "street": street, "community": community}


TEXT_COLUMNS = ("month", "community", "street", "district")


def build_results(model: DistrictModel) -> dict[str, pd.DataFrame]:
    """Tidy tables keyed 'district', 'street' and 'community', one row per month (and unit)."""
    out = {}
    for level, cols in result_columns(model).items():
        frame = {k: pd.array(v, dtype="str") if k in TEXT_COLUMNS else v for k, v in cols.items()}
        out[level] = pd.DataFrame(frame)
    return out
