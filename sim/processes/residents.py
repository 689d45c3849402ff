"""Process 6: residents are served; coverage and quality move satisfaction and participation.

Residents need community services (``need_hours_per_resident`` scaled by the community's need
index) and the resident-facing part of administrative items (certificates, allowances, checks).
Services come from staff's free time, grassroots volunteers and funded projects; items are done by
staff or by contract holders. Refused, withdrawn and expired items are needs left unmet.
Satisfaction moves toward a mix of coverage and quality; participation moves toward a level set by
the committee's self-governance effort.
"""

from __future__ import annotations

import numpy as np

from sim.params import Params, Policy
from sim.world import World


def serve_residents(world: World, policy: Policy, params: Params) -> None:
    p, c = params, world.communities
    q_staff = p.staff_base_quality * (1 - p.burnout_quality_penalty * c.burnout)
    base_need = c.residents * p.need_hours_per_resident * c.need_index
    supply = c.hours_services + c.volunteer_hours + c.project_hours
    quality_hours = c.hours_services * q_staff + c.volunteer_quality_hours + c.project_quality_hours
    scale = np.divide(base_need, supply, out=np.ones_like(supply), where=supply > base_need)
    served_services = supply * scale

    rf = p.resident_facing_share
    item_need = rf * c.items_issued * p.hours_per_item
    item_served = rf * (c.staff_items_done + c.org_item_delivered + c.funded_org_delivered)
    item_quality_hours = rf * (
        c.staff_items_done * q_staff
        + c.org_item_delivered * c.org_item_quality
        + c.funded_org_delivered * c.funded_org_quality
    )

    need = base_need + item_need
    # Items done from the backlog can exceed this month's item need; coverage counts need met.
    served = np.minimum(served_services + item_served, need)
    c.need_hours = need
    c.served_hours = served
    c.delivered_hours = served_services + item_served
    c.service_coverage = np.clip(
        np.divide(served, need, out=np.zeros_like(need), where=need > 0), 0, 1
    )
    qh = quality_hours * scale + item_quality_hours
    delivered = c.delivered_hours
    c.service_quality = np.divide(qh, delivered, out=np.zeros_like(qh), where=delivered > 0)
    c.coverage_memory = c.service_coverage

    w = p.satisfaction_weight_coverage
    target = w * c.service_coverage + (1 - w) * c.service_quality
    if world.t == world.first_t:  # the first simulated month: residents judge what they get
        c.satisfaction = target
    else:
        c.satisfaction = c.satisfaction + p.satisfaction_adjust * (target - c.satisfaction)

    # Participation follows the committee's self-governance effort (mobilising residents); group
    # activity is its outcome, not its driver, so there is no runaway loop from groups to groups.
    effort = c.hours_self_governance / c.residents * 1000
    goal = p.participation_max * effort / (effort + p.participation_half_hours)
    c.participation = c.participation + p.participation_adjust * (goal - c.participation)
