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

from sim.needs import NEED_TYPES, SOURCES, serve, serve_spread
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
    np.multiply(c.hours_services, q_staff, out=c.service_quality_hours_staff)
    # communities x sources (C order: the matrix products below see the layout they always saw)
    hours = np.array([getattr(c, supply) for supply, _ in _SOURCE_COLUMNS]).T.copy()
    quality_hours = np.array([getattr(c, quality) for _, quality in _SOURCE_COLUMNS]).T.copy()
    base = world.base_need  # communities x need types
    mix, spread = _need_mix(world)
    met_svc, quality_svc = serve(base, hours, quality_hours, world.service_fit, spread)

    # Items. Service items for vulnerable residents have a need type (7.3): their hours are need
    # of that type, met only by what staff or contract holders did of them; withdrawn, given up
    # and expired ones are need of that type left unmet. Of the other item hours, the
    # resident-facing share is need in the community's proportions of need types.
    rf = p.resident_facing_share
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

    # (sums into the columns, divisions into zeroed columns where there is a denominator)
    total_need = np.add.reduce(need, 1, out=c.need_hours)
    np.add.reduce(served, 1, out=c.served_hours)
    delivered = c.delivered_hours
    np.add(np.add.reduce(hours, 1), item_served, out=delivered)
    delivered += np.add.reduce(typed_served, 1)
    some_need = total_need > 0
    np.clip(
        np.divide(c.served_hours, total_need, out=np.zeros(len(c)), where=some_need),
        0,
        1,
        out=c.service_coverage,
    )
    quality = c.service_quality
    quality.fill(0.0)
    np.divide(np.add.reduce(served_quality, 1), total_need, out=quality, where=some_need)
    delivered_qh = np.add.reduce(quality_hours, 1) + item_quality_hours
    delivered_qh += np.add.reduce(typed_quality, 1)
    delivered_quality = c.delivered_quality
    delivered_quality.fill(0.0)
    np.divide(delivered_qh, delivered, out=delivered_quality, where=delivered > 0)
    c.coverage_memory[...] = c.service_coverage

    w = p.satisfaction_weight_coverage
    target = w * c.service_coverage + (1 - w) * quality
    satisfaction = c.satisfaction
    if world.t == world.first_t:  # the first simulated month: residents judge what they get
        satisfaction[...] = target
    else:  # satisfaction + adjust * (target - satisfaction), in place
        target -= satisfaction
        target *= p.satisfaction_adjust
        np.add(satisfaction, target, out=satisfaction)

    # Participation follows the committee's self-governance effort (mobilising residents), lower
    # where migrants are many, and scaled by how satisfied residents are. Group activity is its
    # outcome, not its driver, so there is no runaway loop from groups to groups.
    effort = c.hours_self_governance / c.residents * 1000
    goal = p.participation_max * effort / (effort + p.participation_half_hours)
    goal = goal * (1 - p.migrant_participation_gap * c.migrant_share)
    if p.satisfaction_feedback == "on":
        relative = np.maximum(c.satisfaction, 0) / p.satisfaction_reference
        goal = goal * relative**p.participation_satisfaction_elasticity
    np.minimum(goal, 1.0, out=goal)
    participation = c.participation
    goal -= participation
    goal *= p.participation_adjust
    np.add(participation, goal, out=participation)


def _need_mix(world: World) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Each community's shares of need types in its residents' own need (communities x need
    types; even where it has none), and :func:`~sim.needs.serve_spread` of that need and the
    service fit, kept while ``world.base_need`` and ``world.service_fit`` are the same (they are
    fixed for a run)."""
    base, fit = world.base_need, world.service_fit
    kept = _MIX.get(world)
    if (
        kept is not None
        and kept[0] is base
        and kept[1] is fit
        and kept[2] == base.tobytes()
        and kept[3] == fit.tobytes()
    ):
        return kept[4]
    total_base = base.sum(axis=1, keepdims=True)
    mix = np.divide(
        base, total_base, out=np.full_like(base, 1 / base.shape[1]), where=total_base > 0
    )
    spread = serve_spread(base, fit)
    for arr in (mix, *spread):
        arr.flags.writeable = False
    _MIX[world] = (base, fit, base.tobytes(), fit.tobytes(), (mix, spread))
    return mix, spread


_MIX: weakref.WeakKeyDictionary[
    World,
    tuple[np.ndarray, np.ndarray, bytes, bytes, tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]],
] = weakref.WeakKeyDictionary()
