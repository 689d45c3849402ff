import numpy as np
import pytest

from sim.params import Params
from sim.processes.community_work import allocate_staff_time
from sim.world import blank_world

from ..conftest import finished_run

P = Params()
H = P.staff_hours_per_month


def staff_month(params=P, **cols):
    """One month of staff time in one community of 10 staff with the given columns."""
    w = blank_world((0,), staff=10.0, **cols)
    allocate_staff_time(w, w.schedule.at(w.t), params)
    return w.communities


def test_without_items_staff_hours_go_to_duties_self_governance_and_services():
    c = staff_month()
    regular = 10 * H
    assert c.hours_regular[0] == pytest.approx(regular)
    assert c.hours_available[0] == pytest.approx(regular * (1 + P.overtime_cap))
    assert c.hours_statutory[0] == pytest.approx(P.statutory_share * regular)
    free = regular * (1 - P.statutory_share)
    assert c.hours_admin[0] == 0 and c.admin_burden[0] == 0 and c.backlog[0] == 0
    assert c.hours_self_governance[0] == pytest.approx(P.self_governance_share * free)
    assert c.hours_services[0] == pytest.approx((1 - P.self_governance_share) * free)
    assert c.hours_used[0] == pytest.approx(regular)


def test_items_take_hours_from_services_and_raise_the_burden():
    light, heavy = staff_month(staff_item_hours=100.0), staff_month(staff_item_hours=400.0)
    for c, items in ((light, 100.0), (heavy, 400.0)):
        assert c.hours_admin[0] == pytest.approx(items) and c.staff_items_done[0] == items
        assert c.admin_burden[0] == pytest.approx(items / c.hours_used[0])
    assert heavy.hours_services[0] < light.hours_services[0]
    assert heavy.hours_self_governance[0] < light.hours_self_governance[0]
    assert light.hours_used[0] == pytest.approx(10 * H)  # no overtime needed


def test_overload_works_the_overtime_cap_and_carries_a_backlog_part_of_which_expires():
    items = 20 * H
    c = staff_month(staff_item_hours=items, backlog=100.0, undone_hours=7.0)
    available = 10 * H * (1 + P.overtime_cap)
    done = available - P.statutory_share * 10 * H
    assert c.hours_admin[0] == pytest.approx(done)
    assert c.hours_used[0] == pytest.approx(available)
    assert c.hours_self_governance[0] == 0 and c.hours_services[0] == 0
    left = items + 100.0 - done
    assert c.backlog[0] == pytest.approx(left * (1 - P.backlog_expiry))
    assert c.undone_hours[0] == pytest.approx(7.0 + left * P.backlog_expiry)
    assert c.admin_demand[0] == pytest.approx(items + 100.0)


def test_burnout_costs_regular_hours():
    rested, burnt = staff_month(burnout=0.0), staff_month(burnout=0.6)
    assert burnt.hours_regular[0] == pytest.approx(
        rested.hours_regular[0] * (1 - P.burnout_absence * 0.6)
    )
    assert burnt.hours_services[0] < rested.hours_services[0]


def test_supervising_contract_holders_takes_staff_time_and_shares_the_hours_with_items():
    delivered = 1000.0
    c = staff_month(staff_item_hours=100.0, org_item_delivered=delivered)
    supervision = P.supervision_share * delivered
    assert c.admin_demand[0] == pytest.approx(100.0 + supervision)
    assert c.hours_admin[0] == pytest.approx(100.0 + supervision)
    assert c.staff_items_done[0] == pytest.approx(100.0)
    # Overloaded: items get their share of the hours done, the rest of the items carry.
    c = staff_month(staff_item_hours=20 * H, org_item_delivered=delivered)
    demand = 20 * H + supervision
    assert c.staff_items_done[0] == pytest.approx(c.hours_admin[0] * 20 * H / demand)
    expired = c.undone_hours[0]
    assert c.staff_items_done[0] + c.backlog[0] + expired == pytest.approx(20 * H)


def test_burnout_moves_toward_a_target_set_by_work_pressure():
    # Pressure (duties + item demand per regular hour) below the onset: burnout heals; far above
    # it: burnout rises toward one; the more pressure, the higher it goes.
    old = 0.4
    items = np.array([0.0, 2.0, 4.0, 8.0, 40.0]) * H
    w = blank_world((0,) * 5, staff=10.0, burnout=old, staff_item_hours=items)
    allocate_staff_time(w, w.schedule.at(w.t), P)
    c = w.communities
    pressure = (c.hours_statutory + c.admin_demand) / c.hours_regular
    assert pressure[0] < P.burnout_pressure_onset < pressure[-1] - 1
    assert c.burnout[0] == pytest.approx(old * (1 - P.burnout_rate))
    assert c.burnout[-1] == pytest.approx(old + P.burnout_rate * (1 - old))
    assert (np.diff(c.burnout) >= 0).all() and (np.diff(c.burnout)[1:] > 0).any()


def test_burnout_reaches_the_top_under_heavy_overload_in_whole_runs():
    # Items at ten times their workload: staff work the overtime cap, never beyond it.
    m = finished_run("baseline_2013", 2, ("params.hours_per_item=95",))
    c = m.results()["community"]
    assert (c["staff_hours_used"] <= c["staff_hours_available"] + 1e-9).all()
    assert np.isclose(c["staff_hours_used"], c["staff_hours_available"]).mean() > 0.9
    assert (c["backlog_hours"] > 0).all() and (c["staff_burnout"].iloc[-87:] > 0.9).all()


def test_service_items_by_need_type_share_the_fate_of_all_staff_items():
    # Three communities of 10 staff: one without items, one with only supervision to do, one
    # overloaded with items of which some hours are service items by need type (new and in the
    # backlog). Typed hours done, carried and expired are the typed hours times the shares of all
    # items done, carried and expired; without items there are none (zeros, not NaN).
    items, backlog = 20 * H, 100.0
    w = blank_world((0, 0, 0), staff=10.0, staff_item_hours=[0.0, 0.0, items],
                    backlog=[0.0, 0.0, backlog], org_item_delivered=[0.0, 1000.0, 0.0])  # fmt: skip
    n_needs = w.need_backlog.shape[1]
    new, old = np.arange(1.0, n_needs + 1), np.full(n_needs, 2.0)
    w.need_staff_new[2], w.need_backlog[2] = new, old
    w.need_undone[2] = 3.0
    allocate_staff_time(w, w.schedule.at(w.t), P)
    done = 10 * H * (1 + P.overtime_cap) - P.statutory_share * 10 * H
    left = 1 - done / (items + backlog)
    typed = new + old
    zero = np.zeros((2, n_needs))
    assert w.need_staff_done == pytest.approx(np.vstack([zero, typed * (1 - left)]))
    assert w.need_backlog == pytest.approx(np.vstack([zero, typed * left * (1 - P.backlog_expiry)]))
    assert w.need_unmet == pytest.approx(np.vstack([zero, 3.0 + typed * left * P.backlog_expiry]))
