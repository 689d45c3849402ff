"""Process 6: residents are served; coverage and quality move satisfaction and participation.

Residents' needs have types (:mod:`sim.needs`): elderly, children, disabled, low income,
migrants. Each community's need for services of each type comes from its households and its
covariates (built once, ``world.base_need``). Unlisted service items for vulnerable residents
(allowances, checks, visits) have a need type of their own (process 2-3): their hours are need of
that type, met only by what staff or contract holders do of them, so a withdrawn, refused-and-given-
up or expired service item is need of exactly that type left unmet. The resident-facing part of the
other administrative items (certificates and the like) adds need in the community's proportions of
need types. Services come from staff's free time, grassroots groups (volunteers and
micro-projects), local agencies and brand agencies (projects); each source fits some needs better
than others, and spreads its hours over the need types where they are needed and where it is good.

Coverage and quality are measured against need: coverage is the share of need met, quality the
share of need met at full quality, so more hours of a weaker provider never lower quality and a
change of provider mix moves it only through what residents get. Satisfaction moves toward a mix
of the two; it feeds back on participation here, and on providers' reputation and contract
renewal (processes 4 and 7). Participation moves toward a level set by the committee's
self-governance effort, lower where migrants are many, and scaled by satisfaction.
"""

from __future__ import annotations

import weakref

import numpy as np

from sim.needs import NEED_TYPES, SOURCES, serve
from sim.params import Params, Policy
from sim.world import World

# Community columns by source (service hours, quality hours) and by need type (need, served,
# unmet, coverage), in SOURCES and NEED_TYPES order.
_SOURCE_COLUMNS = tuple((f"service_supply_{s}", f"service_quality_hours_{s}") for s in SOURCES)
_NEED_COLUMNS = tuple(
    (f"need_{t}", f"served_{t}", f"unmet_{t}", f"coverage_{t}") for t in NEED_TYPES
)


def serve_residents(world: World, policy: Policy, params: Params) -> None:
    p, c = params, world.communities
    q_staff = p.staff_base_quality * (1 - p.burnout_quality_penalty * c.burnout)
    c.service_supply_staff[...] = c.hours_services
    c.service_quality_hours_staff[...] = c.hours_services * q_staff
    hours = np.empty((len(c), len(SOURCES)))
    quality_hours = np.empty_like(hours)
    for j, (supply, quality) in enumerate(_SOURCE_COLUMNS):
        hours[:, j] = getattr(c, supply)
        quality_hours[:, j] = getattr(c, quality)
    base = world.base_need  # communities x need types
    met_svc, quality_svc = serve(base, hours, quality_hours, world.service_fit)

    # Items. Service items for vulnerable residents have a need type (7.3): their hours are need
    # of that type, met only by what staff or contract holders did of them; withdrawn, given up
    # and expired ones are need of that type left unmet. Of the other item hours, the
    # resident-facing share is need in the community's proportions of need types.
    rf = p.resident_facing_share
    mix = _need_mix(world)
    org_done = c.org_item_delivered + c.funded_org_delivered
    q_org = np.divide(
        c.org_item_delivered * c.org_item_quality + c.funded_org_delivered * c.funded_org_quality,
        org_done,
        out=np.zeros(org_done.shape),
        where=org_done > 0,
    )
    typed_need = world.need_issued
    typed_served = world.need_staff_done + world.need_org_done
    typed_quality = world.need_staff_done * q_staff[:, None] + world.need_org_done * q_org[:, None]
    other_need = np.maximum(c.items_issued * p.hours_per_item - typed_need.sum(axis=1), 0.0)
    staff_other = np.maximum(c.staff_items_done - world.need_staff_done.sum(axis=1), 0.0)
    org_other = np.maximum(org_done - world.need_org_done.sum(axis=1), 0.0)
    item_need = rf * other_need
    item_served = rf * (staff_other + org_other)
    item_quality_hours = rf * (staff_other * q_staff + org_other * q_org)

    need = base + item_need[:, None] * mix + typed_need
    # Items done from the backlog can exceed this month's item need; need met is capped at need.
    served = np.minimum(met_svc + item_served[:, None] * mix + typed_served, need)
    served_quality = np.minimum(
        quality_svc + item_quality_hours[:, None] * mix + typed_quality, served
    )
    unmet = need - served
    coverage = np.divide(served, need, out=np.zeros(need.shape), where=need > 0)
    for k, (need_k, served_k, unmet_k, coverage_k) in enumerate(_NEED_COLUMNS):
        getattr(c, need_k)[...] = need[:, k]
        getattr(c, served_k)[...] = served[:, k]
        getattr(c, unmet_k)[...] = unmet[:, k]
        getattr(c, coverage_k)[...] = coverage[:, k]

    total_need = need.sum(axis=1)
    c.need_hours[...] = total_need
    c.served_hours[...] = served.sum(axis=1)
    c.delivered_hours[...] = hours.sum(axis=1) + item_served + typed_served.sum(axis=1)
    np.clip(
        np.divide(c.served_hours, total_need, out=np.zeros(total_need.shape), where=total_need > 0),
        0,
        1,
        out=c.service_coverage,
    )
    qh = served_quality.sum(axis=1)
    c.service_quality[...] = np.divide(qh, total_need, out=np.zeros(qh.shape), where=total_need > 0)
    delivered_qh = quality_hours.sum(axis=1) + item_quality_hours + typed_quality.sum(axis=1)
    c.delivered_quality[...] = np.divide(
        delivered_qh, c.delivered_hours, out=np.zeros(qh.shape), where=c.delivered_hours > 0
    )
    c.coverage_memory[...] = c.service_coverage

    w = p.satisfaction_weight_coverage
    target = w * c.service_coverage + (1 - w) * c.service_quality
    if world.t == world.first_t:  # the first simulated month: residents judge what they get
        c.satisfaction[...] = target
    else:
        c.satisfaction[...] = c.satisfaction + p.satisfaction_adjust * (target - c.satisfaction)

    # Participation follows the committee's self-governance effort (mobilising residents), lower
    # where migrants are many, and scaled by how satisfied residents are. Group activity is its
    # outcome, not its driver, so there is no runaway loop from groups to groups.
    effort = c.hours_self_governance / c.residents * 1000
    goal = p.participation_max * effort / (effort + p.participation_half_hours)
    goal = goal * (1 - p.migrant_participation_gap * c.migrant_share)
    if p.satisfaction_feedback == "on":
        relative = np.maximum(c.satisfaction, 0) / p.satisfaction_reference
        goal = goal * relative**p.participation_satisfaction_elasticity
    goal = np.minimum(goal, 1.0)
    c.participation[...] = c.participation + p.participation_adjust * (goal - c.participation)


def _need_mix(world: World) -> np.ndarray:
    """Each community's shares of need types in its residents' own need (communities x need
    types; even where it has none), kept while ``world.base_need`` is the same (it is fixed for a
    run)."""
    base = world.base_need
    kept = _MIX.get(world)
    if kept is not None and kept[0] is base and kept[1] == base.tobytes():
        return kept[2]
    total_base = base.sum(axis=1, keepdims=True)
    mix = np.divide(
        base, total_base, out=np.full_like(base, 1 / base.shape[1]), where=total_base > 0
    )
    mix.flags.writeable = False
    _MIX[world] = (base, base.tobytes(), mix)
    return mix


_MIX: weakref.WeakKeyDictionary[World, tuple[np.ndarray, bytes, np.ndarray]] = (
    weakref.WeakKeyDictionary()
)
