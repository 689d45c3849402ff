"""Process 5a: community staff time (社区工作者的时间).

Staff hours go first to statutory duties, then to the administrative items that landed on the
community (new items, items returned by overloaded contract holders, the backlog, and supervising
purchased work). Staff may work overtime, up to a cap, on items only. What remains of regular hours
goes to self-governance and to direct services for residents. Items left over form a backlog, part
of which expires undone each month; the service items for vulnerable residents among them are
tracked by need type (model v2), so their undone hours are unmet need of those households. Work
pressure drives burnout, which costs hours and quality.
"""

from __future__ import annotations

import numpy as np

from sim.params import Params, Policy
from sim.world import World


def allocate_staff_time(world: World, policy: Policy, params: Params) -> None:
    p, c = params, world.communities
    # The month's hours are computed into their columns (none of them is read before it is
    # written here; an assignment per column costs more than the arithmetic on 87 rows).
    regular = np.multiply(
        c.staff * p.staff_hours_per_month,
        1 - p.burnout_absence * c.burnout,
        out=c.hours_regular,
    )
    available = np.multiply(regular, 1 + p.overtime_cap, out=c.hours_available)
    statutory = np.multiply(p.statutory_share, regular, out=c.hours_statutory)
    supervision = p.supervision_share * (c.org_item_delivered + c.funded_org_delivered)
    item_demand = c.backlog + c.staff_item_hours
    demand = np.add(item_demand, supervision, out=c.admin_demand)
    done = np.minimum(demand, available - statutory, out=c.hours_admin)
    # Items and supervision share the hours done in proportion to their demand; supervision that
    # is not done is simply not done, items left over carry as backlog.
    item_share = np.divide(item_demand, demand, out=np.zeros(len(demand)), where=demand > 0)
    left = (demand - done) * item_share
    expired = left * p.backlog_expiry
    free = np.maximum(0.0, regular - statutory - done)
    self_gov = np.multiply(free, p.self_governance_share, out=c.hours_self_governance)
    services = np.subtract(free, self_gov, out=c.hours_services)
    used = np.add(statutory, done, out=c.hours_used)
    used += self_gov
    used += services

    pressure = (statutory + demand) / regular
    target = (pressure - p.burnout_pressure_onset) / p.staff_burnout_ramp
    np.maximum(target, 0.0, out=target)  # np.clip's values, without its wrapper's cost
    np.minimum(target, 1.0, out=target)

    # Service items for vulnerable residents (by need type) share the fate of all staff items:
    # what is left carries over, and part of it expires; expired or given up, the need goes unmet.
    typed = world.need_backlog + world.need_staff_new
    left_share = np.divide(left, item_demand, out=np.zeros(len(left)), where=item_demand > 0)
    typed_left = typed * left_share[:, None]
    typed_expired = typed_left * p.backlog_expiry
    world.need_staff_done = typed - typed_left
    world.need_backlog = typed_left - typed_expired
    world.need_unmet = world.need_undone + typed_expired

    np.multiply(done, item_share, out=c.staff_items_done)
    np.subtract(left, expired, out=c.backlog)
    undone = c.undone_hours
    undone += expired
    burden = c.admin_burden
    burden.fill(0.0)
    np.divide(done, used, out=burden, where=used > 0)
    burnout = c.burnout
    burnout += p.burnout_rate * (target - burnout)
