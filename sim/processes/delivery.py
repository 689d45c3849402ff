"""Process 5b: organizations deliver their contracts and projects, and are paid for what they do.

An organization's social workers give ``worker_hours_per_month`` each (less burnout absence).
If the work exceeds those hours, it delivers a share and the rest of its catalogue items go back
to the community's staff. Quality rises with capacity and worker skill, falls with burnout and
overload, and is higher in the organization's own street (local knowledge). Growing costs
something: coordination takes a share of hours that grows with the workforce beyond a supervision
span, and new workers dilute quality. Grassroots groups also give volunteer hours in their home
community. Service hours are recorded by source for process 6.
"""

from __future__ import annotations

import numpy as np

from sim.params import Params, Policy
from sim.world import AGENCY, BRAND, GRASSROOTS, World


def coordination_share(n_workers: np.ndarray, p: Params) -> np.ndarray:
    """Share of an organization's worker hours lost to management and coordination: grows by
    ``coordination_cost`` per doubling of the workforce beyond a supervision span (cap 0.5)."""
    return np.minimum(0.5, p.coordination_cost * np.log2(1 + n_workers / p.supervision_span))


# 1 - coordination_share(k) for k = 0, 1, 2, ... workers, by (coordination_cost, supervision_span)
_PRODUCTIVE: dict[tuple[float, float], np.ndarray] = {}


def _productive_share(n_workers: np.ndarray, p: Params) -> np.ndarray:
    """``1 - coordination_share(n_workers, p)`` for whole numbers of workers (an integer array),
    read from a table of the same computation (issue 12: the logarithms of some 700
    organizations a month cost more than the rest of their workforce sums)."""
    key = (p.coordination_cost, p.supervision_span)
    table = _PRODUCTIVE.get(key)
    top = int(n_workers.max()) if len(n_workers) else 0
    if table is None or top >= len(table):
        if len(_PRODUCTIVE) >= 64:  # a sweep over these parameters
            _PRODUCTIVE.clear()
        table = _PRODUCTIVE[key] = 1 - coordination_share(np.arange(max(2 * top, 256)), p)
    return table[n_workers]


# Community columns of the services of agencies and brand agencies, by kind (hours, quality hours)
_AGENCY_SOURCES = tuple(
    (kind, (f"service_supply_{source}", f"service_quality_hours_{source}"))
    for kind, source in ((AGENCY, "agencies"), (BRAND, "brand"))
)


def deliver(world: World, policy: Policy, params: Params) -> None:
    p, o, w, c = params, world.orgs, world.workers, world.communities
    n_o, n_c = len(o), len(c)
    books = world.year_books()
    # Sums by organization or community run over all rows with an index that sends the rows
    # that belong to none (workers in the pool, lots without a holder, ...) to one extra bin: the
    # real bins get the same values in the same order as sums over the selected rows only, so
    # the same sums, without a masked copy of each summand (issue 12).
    none_o, none_c = np.intp(n_o), np.intp(n_c)

    employer = w.employer
    employed = w.alive & (employer >= 0)
    by_emp = np.where(employed, employer, none_o)
    n_workers = np.bincount(by_emp, None, n_o + 1)[:n_o]
    per_worker = np.maximum(n_workers, 1)
    # Growing costs something (model v2): coordination eats hours as the workforce outgrows a
    # supervision span, and new workers dilute quality.
    productive = _with_none(_productive_share(n_workers, p), 0.0)
    burnout = w.burnout
    eff = p.worker_hours_per_month * (1 - p.burnout_absence * burnout)
    eff *= productive[by_emp]  # 0 for workers without an employer
    staff_hours = np.bincount(by_emp, eff, n_o + 1)[:n_o]
    skill = np.bincount(by_emp, w.skill, n_o + 1)[:n_o] / per_worker
    burn = np.bincount(by_emp, burnout, n_o + 1)[:n_o] / per_worker
    new = np.bincount(by_emp, w.tenure < p.new_worker_months, n_o + 1)[:n_o]
    new_share = new / per_worker

    # Work owed: catalogue and funded items of the lots it holds, plus projects.
    lots = world.lots
    holder = lots.holder
    has = holder >= 0
    by_holder = np.where(has, holder, none_o)
    item_hours = np.bincount(by_holder, lots.item_hours, n_o + 1)[:n_o]
    is_group = o.kind == GRASSROOTS
    with_project = o.project_community >= 0
    pro_project = np.where(with_project & ~is_group, o.project_hours, 0.0)
    # Funded items bought from a street agency outside any lot (费随事转, model v2)
    prov = world.funded_provider
    has_f = prov >= 0
    by_prov = np.where(has_f, prov, none_o)
    funded_hours = np.bincount(by_prov, c.funded_org_hours, n_o + 1)[:n_o]
    worker_demand = item_hours + pro_project
    worker_demand += funded_hours
    staffed = staff_hours > 0
    load = np.divide(
        worker_demand,
        staff_hours,
        out=np.where(worker_demand > 0, np.inf, 0.0),
        where=staffed,
    )
    # Share of its work an organization can staff (none without workers: 1 / inf is 0); with
    # nothing to do this month, whether it is staffed at all (a contract holder with no workers
    # earns nothing).
    # Per organization row, with a last entry for "no organization" (row -1).
    frac_of, quality_of = np.empty(n_o + 1), np.empty(n_o + 1)
    frac_of[n_o] = quality_of[n_o] = 0.0
    frac = np.maximum(load, 1e-12, out=frac_of[:n_o])
    np.divide(1.0, frac, out=frac)
    np.minimum(1.0, frac, out=frac)
    frac[~staffed] = 0.0
    unstaffed = np.isinf(load)

    cap_term = o.capacity**p.org_quality_capacity_exponent
    skill_term = p.quality_skill_base + p.quality_skill_slope * skill
    pro_quality = np.multiply(cap_term, skill_term, out=quality_of[:n_o])
    pro_quality *= 1 - p.burnout_quality_penalty * burn
    overload = np.maximum(load - 1.0, 0.0)
    np.minimum(overload, 1.0, out=overload)
    pro_quality *= 1 - p.overload_quality_penalty * overload
    pro_quality *= 1 - p.growth_quality_dilution * new_share
    vol_quality = np.minimum(1.0, p.volunteer_quality + p.volunteer_quality_capacity * o.capacity)

    # Catalogue items, lot by lot; what the holder cannot staff goes back to community staff.
    ratio = frac_of[by_holder]
    delivered_l = np.multiply(lots.item_hours, ratio, out=lots.delivered)
    # (lots' streets are streets, never the -1 of "no holder")
    local = _with_none(o.street, -1)[by_holder] == lots.street
    q_item = quality_of[by_holder]
    np.minimum(1.0, q_item * (1 + p.local_quality_bonus * local), out=lots.quality)
    # The fee is set by the expected task (以事定费): a holder that delivers what arrived, up to the
    # contracted hours, is paid in full; short delivery is paid pro rata.
    owed = np.minimum(lots.item_hours, lots.hours)
    pay_ratio = np.divide(delivered_l, owed, out=ratio.copy(), where=owed > 0)
    np.minimum(1.0, pay_ratio, out=pay_ratio)
    pay = np.multiply(lots.month_fee, pay_ratio, out=lots.pay)
    remaining = lots.remaining
    remaining -= pay
    np.maximum(0.0, remaining, out=remaining)
    h = p.hours_per_item
    funded_h = lots.funded_items * h
    funded_pay = funded_h * p.service_hour_price
    funded_pay *= ratio
    community = lots.community.astype(np.intp)
    delivered = np.bincount(community, delivered_l, n_c)
    quality_hours = np.bincount(community, delivered_l * lots.quality, n_c)
    c.org_item_delivered[...] = delivered
    c.org_item_quality.fill(0.0)
    np.divide(quality_hours, delivered, out=c.org_item_quality, where=delivered > 0)
    staff_items = c.staff_item_hours
    staff_items += c.org_item_hours
    staff_items -= delivered
    c.purchase_spend[...] = np.bincount(community, pay, n_c)
    c.lots_held[...] = np.bincount(community, has, n_c)
    contract_income = np.bincount(by_holder, pay + funded_pay, n_o + 1)[:n_o]
    books.purchase_spent += np.add.reduce(pay)  # (ndarray.sum's sums, without its wrapper)
    books.funded_item_spent += np.add.reduce(funded_pay)

    f_delivered = np.multiply(c.funded_org_hours, frac_of[by_prov], out=c.funded_org_delivered)
    f_pay = f_delivered * p.service_hour_price  # paid by the issuer, as for funded lot items
    # (0 without a provider: its quality_of is 0)
    np.minimum(1.0, quality_of[by_prov] * (1 + p.local_quality_bonus), out=c.funded_org_quality)
    staff_items += c.funded_org_hours
    staff_items -= f_delivered
    # Funded service items by need type (model v2): holders deliver them at the rate they deliver
    # all their funded items; what they cannot staff goes back to community staff.
    # (a sum over no rows is an integer array: added to, not added in place)
    f_owed = np.bincount(community, funded_h, n_c) + c.funded_org_hours
    f_done = np.bincount(community, funded_h * ratio, n_c) + f_delivered
    done_share = np.divide(f_done, f_owed, out=np.zeros(n_c), where=f_owed > 0)[:, None]
    need_funded = world.need_funded_org
    need_done = world.need_org_done = need_funded * done_share
    need_new = world.need_staff_new + need_funded
    need_new -= need_done
    world.need_staff_new = need_new
    np.add(contract_income, np.bincount(by_prov, f_pay, n_o + 1)[:n_o], out=o.contract_income)
    books.funded_item_spent += np.add.reduce(f_pay)

    # Projects: agencies with their workers, groups with their members.
    group_frac = np.maximum(o.project_hours, 1e-12)
    np.divide(o.members * p.member_project_hours, group_frac, out=group_frac)
    np.minimum(1.0, group_frac, out=group_frac)
    project_frac = np.where(is_group, group_frac, frac)
    project_frac *= with_project
    project_delivered = o.project_hours * project_frac
    project_income = np.multiply(o.project_month_fee, project_frac, out=o.project_income)
    project_quality = np.where(is_group, vol_quality, pro_quality)
    project_quality *= 1 + p.local_quality_bonus
    np.minimum(1.0, project_quality, out=project_quality)
    # By community and kind of provider, rows without a project in an extra bin of each kind.
    project_quality_hours = project_delivered * project_quality
    by_target = np.where(with_project, o.project_community, none_c)
    c.project_hours[...] = np.bincount(by_target, project_delivered, n_c + 1)[:n_c]
    c.project_quality_hours[...] = np.bincount(by_target, project_quality_hours, n_c + 1)[:n_c]
    books.project_spent += np.add.reduce(project_income)
    # Services by source (process 6 matches them to need types): group projects count with the
    # groups' volunteering, agency projects with their kind.
    by_kind = o.kind * np.intp(n_c + 1)
    by_kind += by_target
    n_k = 3 * (n_c + 1)
    supply = np.bincount(by_kind, project_delivered, n_k).reshape(3, n_c + 1)
    supply_q = np.bincount(by_kind, project_quality_hours, n_k).reshape(3, n_c + 1)
    for kind, (hours_column, quality_column) in _AGENCY_SOURCES:
        getattr(c, hours_column)[...] = supply[kind, :n_c]
        getattr(c, quality_column)[...] = supply_q[kind, :n_c]

    # Everyday volunteer activity of grassroots groups in their home communities, with the
    # groups' projects as the groups' services
    groups = o.alive & is_group
    vol = o.members * p.volunteer_hours_per_member
    by_home = np.where(groups, np.maximum(o.community, 0), none_c)
    vol_hours = np.bincount(by_home, vol, n_c + 1)[:n_c]
    vol_quality_hours = np.bincount(by_home, vol * vol_quality, n_c + 1)[:n_c]
    c.volunteer_hours[...] = vol_hours
    c.volunteer_quality_hours[...] = vol_quality_hours
    np.add(supply[GRASSROOTS, :n_c], vol_hours, out=c.service_supply_groups)
    np.add(supply_q[GRASSROOTS, :n_c], vol_quality_hours, out=c.service_quality_hours_groups)

    # Record on organizations and workers
    item_delivered = np.bincount(by_holder, delivered_l, n_o + 1)[:n_o]
    item_delivered = item_delivered + np.bincount(by_prov, f_delivered, n_o + 1)[:n_o]
    group_project = np.where(is_group & with_project, o.project_hours, 0.0)
    np.add(worker_demand, group_project, out=o.demand_hours)
    np.add(item_delivered, project_delivered, out=o.delivered_hours)
    o.quality[...] = np.where(is_group & (n_workers == 0), vol_quality, pro_quality)
    org_load = world.org_load = np.where(unstaffed, 2.0, load)
    used = _with_none(org_load, 0.0)[by_emp]
    np.minimum(1.0, used, out=used)
    np.multiply(eff, used, out=w.hours)  # 0 for workers without an employer


def _with_none(values: np.ndarray, fill: float) -> np.ndarray:
    """``values`` with ``fill`` appended, so that indexing it by a row of -1 gives ``fill`` (as
    :func:`sim.world.at_rows` does, for rows that are -1 or valid)."""
    # The common type, without np.result_type's call where it is the values' type: float values
    # with a float fill, integer values with the fill -1 (a Python number takes the array's type)
    dtype = values.dtype
    if not (dtype.kind == "f" and type(fill) is float) and not (
        dtype.kind == "i" and type(fill) is int and fill == -1
    ):
        dtype = np.result_type(values, fill)
    out = np.empty(len(values) + 1, dtype)
    out[:-1] = values
    out[-1] = fill
    return out
