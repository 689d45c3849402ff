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


def deliver(world: World, policy: Policy, params: Params) -> None:
    p, o, w, c = params, world.orgs, world.workers, world.communities
    n_o, n_c = len(o), len(c)
    books = world.year_books()

    employed = w.alive & (w.employer >= 0)
    emp = w.employer[employed]
    burnout = w.burnout[employed]
    n_workers = np.bincount(emp, None, n_o)
    per_worker = np.maximum(n_workers, 1)
    # Growing costs something (model v2): coordination eats hours as the workforce outgrows a
    # supervision span, and new workers dilute quality.
    productive = 1 - coordination_share(n_workers, p)
    eff = p.worker_hours_per_month * (1 - p.burnout_absence * burnout)
    eff = eff * productive[emp]
    staff_hours = np.bincount(emp, eff, n_o)
    skill = np.bincount(emp, w.skill[employed], n_o) / per_worker
    burn = np.bincount(emp, burnout, n_o) / per_worker
    new = np.bincount(emp, w.tenure[employed] < p.new_worker_months, n_o)
    new_share = new / per_worker

    # Work owed: catalogue and funded items of the lots it holds, plus projects.
    lots = world.lots
    holder = lots.holder
    has = holder >= 0
    held_by = holder[has]
    item_hours = np.bincount(held_by, lots.item_hours[has], n_o)
    is_group = o.kind == GRASSROOTS
    with_project = o.project_community >= 0
    pro_project = np.where(with_project & ~is_group, o.project_hours, 0.0)
    # Funded items bought from a street agency outside any lot (费随事转, model v2)
    prov = world.funded_provider
    has_f = prov >= 0
    provided_by = prov[has_f]
    funded_hours = np.bincount(provided_by, c.funded_org_hours[has_f], n_o)
    worker_demand = item_hours + pro_project + funded_hours
    load = np.divide(
        worker_demand,
        staff_hours,
        out=np.where(worker_demand > 0, np.inf, 0.0),
        where=staff_hours > 0,
    )
    # Share of its work an organization can staff; with nothing to do this month, whether it is
    # staffed at all (a contract holder with no workers earns nothing).
    frac = np.where(
        worker_demand > 0,
        np.minimum(1.0, 1.0 / np.maximum(load, 1e-12)),
        (staff_hours > 0).astype(float),
    )
    unstaffed = np.isinf(load)
    frac = np.where(unstaffed, 0.0, frac)

    cap_term = o.capacity**p.org_quality_capacity_exponent
    skill_term = p.quality_skill_base + p.quality_skill_slope * skill
    pro_quality = cap_term * skill_term * (1 - p.burnout_quality_penalty * burn)
    pro_quality *= 1 - p.overload_quality_penalty * np.minimum(np.maximum(load - 1, 0), 1)
    pro_quality *= 1 - p.growth_quality_dilution * new_share
    vol_quality = np.minimum(1.0, p.volunteer_quality + p.volunteer_quality_capacity * o.capacity)

    # Catalogue items, lot by lot; what the holder cannot staff goes back to community staff.
    # Per organization row, with a last entry for "no organization" (row -1).
    frac_of, quality_of = _with_none(frac, 0.0), _with_none(pro_quality, 0.0)
    ratio = frac_of[holder]
    lots.delivered[...] = lots.item_hours * ratio
    local = has & (_with_none(o.street, -1)[holder] == lots.street)
    q_item = quality_of[holder]
    lots.quality[...] = np.minimum(1.0, q_item * (1 + p.local_quality_bonus * local))
    # The fee is set by the expected task (以事定费): a holder that delivers what arrived, up to the
    # contracted hours, is paid in full; short delivery is paid pro rata.
    owed = np.minimum(lots.item_hours, lots.hours)
    pay_ratio = np.divide(lots.delivered, owed, out=ratio.copy(), where=owed > 0)
    lots.pay[...] = lots.month_fee * np.minimum(1.0, pay_ratio)
    lots.remaining[...] = np.maximum(0.0, lots.remaining - lots.pay)
    funded_pay = lots.funded_items * p.hours_per_item * p.service_hour_price * ratio
    community = lots.community
    delivered = np.bincount(community, lots.delivered, n_c)
    quality_hours = np.bincount(community, lots.delivered * lots.quality, n_c)
    c.org_item_delivered[...] = delivered
    c.org_item_quality[...] = np.divide(
        quality_hours, delivered, out=np.zeros(n_c), where=delivered > 0
    )
    c.staff_item_hours[...] = c.staff_item_hours + c.org_item_hours - delivered
    c.purchase_spend[...] = np.bincount(community, lots.pay, n_c)
    c.lots_held[...] = np.bincount(community, has, n_c)
    pay = lots.pay
    contract_income = np.bincount(held_by, (pay + funded_pay)[has], n_o)
    books.purchase_spent += pay.sum()
    books.funded_item_spent += funded_pay.sum()

    f_delivered = c.funded_org_hours * frac_of[prov]
    f_pay = f_delivered * p.service_hour_price  # paid by the issuer, as for funded lot items
    c.funded_org_delivered[...] = f_delivered
    c.funded_org_quality[...] = np.where(
        has_f, np.minimum(1.0, quality_of[prov] * (1 + p.local_quality_bonus)), 0.0
    )
    c.staff_item_hours[...] = c.staff_item_hours + c.funded_org_hours - f_delivered
    # Funded service items by need type (model v2): holders deliver them at the rate they deliver
    # all their funded items; what they cannot staff goes back to community staff.
    h = p.hours_per_item
    f_owed = np.bincount(community, lots.funded_items * h, n_c) + c.funded_org_hours
    f_done = np.bincount(community, lots.funded_items * h * ratio, n_c) + f_delivered
    done_share = np.divide(f_done, f_owed, out=np.zeros(n_c), where=f_owed > 0)[:, None]
    world.need_org_done = world.need_funded_org * done_share
    world.need_staff_new = world.need_staff_new + world.need_funded_org - world.need_org_done
    contract_income = contract_income + np.bincount(provided_by, f_pay[has_f], n_o)
    books.funded_item_spent += f_pay.sum()

    # Projects: agencies with their workers, groups with their members.
    group_frac = np.minimum(
        1.0, o.members * p.member_project_hours / np.maximum(o.project_hours, 1e-12)
    )
    project_frac = np.where(is_group, group_frac, frac) * with_project
    project_delivered = o.project_hours * project_frac
    project_income = o.project_month_fee * project_frac
    project_quality = np.where(is_group, vol_quality, pro_quality)
    project_quality = np.minimum(1.0, project_quality * (1 + p.local_quality_bonus))
    # The rows with a project, in row order (the same sums as masking all rows).
    target = o.project_community[with_project]
    wp_delivered = project_delivered[with_project]
    wp_quality_hours = (project_delivered * project_quality)[with_project]
    c.project_hours[...] = np.bincount(target, wp_delivered, n_c)
    c.project_quality_hours[...] = np.bincount(target, wp_quality_hours, n_c)
    books.project_spent += project_income.sum()
    # Services by source (process 6 matches them to need types): group projects count with the
    # groups' volunteering, agency projects with their kind.
    wp_kind = o.kind[with_project]
    for kind, source in ((GRASSROOTS, "groups"), (AGENCY, "agencies"), (BRAND, "brand")):
        mine = wp_kind == kind
        where = target[mine]
        supply = np.bincount(where, wp_delivered[mine], n_c)
        getattr(c, f"service_supply_{source}")[...] = supply
        qh = np.bincount(where, wp_quality_hours[mine], n_c)
        getattr(c, f"service_quality_hours_{source}")[...] = qh

    # Everyday volunteer activity of grassroots groups in their home communities
    groups = o.alive & is_group
    vol = o.members * p.volunteer_hours_per_member * groups
    home = np.maximum(o.community, 0)
    c.volunteer_hours[...] = np.bincount(home[groups], vol[groups], n_c)
    c.volunteer_quality_hours[...] = np.bincount(home[groups], (vol * vol_quality)[groups], n_c)
    c.service_supply_groups[...] = c.service_supply_groups + c.volunteer_hours
    c.service_quality_hours_groups[...] = c.service_quality_hours_groups + c.volunteer_quality_hours

    # Record on organizations and workers
    item_delivered = np.bincount(held_by, lots.delivered[has], n_o)
    item_delivered = item_delivered + np.bincount(provided_by, f_delivered[has_f], n_o)
    o.demand_hours[...] = worker_demand + np.where(is_group, o.project_hours * with_project, 0.0)
    o.delivered_hours[...] = item_delivered + project_delivered
    o.quality[...] = np.where(is_group & (n_workers == 0), vol_quality, pro_quality)
    o.contract_income[...] = contract_income
    o.project_income[...] = project_income
    world.org_load = np.where(unstaffed, 2.0, load)
    used = np.minimum(1.0, world.org_load[emp])
    w.hours[:] = 0.0
    w.hours[employed] = eff * used


def _with_none(values: np.ndarray, fill: float) -> np.ndarray:
    """``values`` with ``fill`` appended, so that indexing it by a row of -1 gives ``fill`` (as
    :func:`sim.world.at_rows` does, for rows that are -1 or valid)."""
    out = np.empty(len(values) + 1, np.result_type(values, fill))
    out[:-1] = values
    out[-1] = fill
    return out
