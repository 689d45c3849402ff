import numpy as np
import pytest

from sim.params import Params
from sim.processes.delivery import _with_none, coordination_share, deliver
from sim.world import AGENCY, GRASSROOTS, blank_world

P = Params()
PER_WORKER = P.worker_hours_per_month


def productive(n_workers: int) -> float:
    """Hours a month ``n_workers`` workers give after coordination, computed by hand."""
    lost = min(0.5, P.coordination_cost * np.log2(1 + n_workers / P.supervision_span))
    return n_workers * PER_WORKER * (1 - lost)


def holder_world(item_hours, workers=2, contracted=None, funded=0.0, street=0, **org):
    """One community (street 0), one lot held by one agency with ``workers`` workers; the
    lot's monthly fee is one yuan per contracted hour."""
    w = blank_world((0,), item_categories=1)
    cols = {"street": street, "capacity": 0.6, "registered": True} | org
    w.add_orgs(AGENCY, 1, **cols)
    w.add_workers(workers, employer=0, skill=0.5)
    contracted = item_hours if contracted is None else contracted
    lots = w.lots
    lots.holder[0] = 0
    lots.hours[0] = contracted
    lots.item_hours[0] = item_hours
    lots.funded_items[0] = funded
    lots.month_fee[0] = contracted
    lots.remaining[0] = 12 * contracted
    w.communities.org_item_hours = item_hours
    w.communities.staff_item_hours = 5.0
    return w


def test_a_holder_that_delivers_what_arrived_is_paid_its_full_fee():
    w = holder_world(item_hours=100.0, contracted=200.0)  # fewer items than expected arrived
    deliver(w, w.schedule.at(w.t), P)
    assert w.lots.delivered[0] == 100.0 and w.lots.pay[0] == pytest.approx(200.0)
    assert w.lots.remaining[0] == pytest.approx(12 * 200.0 - 200.0)
    assert w.year_books().purchase_spent == pytest.approx(200.0)
    assert w.communities.purchase_spend[0] == pytest.approx(200.0)
    assert w.orgs.contract_income[0] == pytest.approx(200.0)
    assert w.communities.staff_item_hours[0] == pytest.approx(5.0)  # nothing returned


def test_short_delivery_is_paid_pro_rata_and_the_rest_returns_to_staff():
    w = holder_world(item_hours=4 * PER_WORKER, workers=2)
    deliver(w, w.schedule.at(w.t), P)
    staffed = productive(2)  # two workers' hours, less what coordinating them costs (model v2)
    assert staffed < 2 * PER_WORKER
    assert w.lots.delivered[0] == pytest.approx(staffed)
    assert w.lots.pay[0] == pytest.approx(staffed)  # fee 1 yuan per contracted hour
    assert w.communities.staff_item_hours[0] == pytest.approx(5.0 + 4 * PER_WORKER - staffed)
    assert w.orgs.delivered_hours[0] == pytest.approx(staffed)
    assert w.orgs.demand_hours[0] == pytest.approx(4 * PER_WORKER)
    assert w.org_load[0] == pytest.approx(4 * PER_WORKER / staffed)
    assert w.workers.hours.tolist() == pytest.approx([staffed / 2, staffed / 2])


def test_coordination_costs_a_share_that_grows_per_doubling_beyond_the_span():
    span, cost = P.supervision_span, P.coordination_cost
    n = np.array([0.0, span, 3 * span, 7 * span, 1e9])
    assert coordination_share(n, P).tolist() == pytest.approx([0, cost, 2 * cost, 3 * cost, 0.5])
    # The same work is delivered in full by a workforce that can staff it after coordination.
    w = holder_world(item_hours=productive(3), workers=3)
    deliver(w, w.schedule.at(w.t), P)
    assert w.lots.delivered[0] == pytest.approx(productive(3))
    assert w.org_load[0] == pytest.approx(1.0)


def test_funded_items_are_paid_by_the_hour_on_top_of_the_fee():
    w = holder_world(item_hours=50.0, funded=2.0)
    deliver(w, w.schedule.at(w.t), P)
    funded_pay = 2 * P.hours_per_item * P.service_hour_price
    assert w.orgs.contract_income[0] == pytest.approx(50.0 + funded_pay)
    assert w.year_books().funded_item_spent == pytest.approx(funded_pay)
    assert w.communities.purchase_spend[0] == pytest.approx(50.0)


def test_a_holder_without_workers_delivers_nothing_and_earns_nothing():
    w = holder_world(item_hours=50.0, workers=0)
    deliver(w, w.schedule.at(w.t), P)
    assert w.lots.delivered[0] == 0 and w.lots.pay[0] == 0 and w.orgs.contract_income[0] == 0
    assert w.communities.staff_item_hours[0] == pytest.approx(55.0)


def test_quality_rises_with_capacity_and_local_knowledge_and_falls_with_overload():
    def quality(**kw):
        item_hours = kw.pop("item_hours", 100.0)
        w = holder_world(item_hours=item_hours, **kw)
        deliver(w, w.schedule.at(w.t), P)
        return w.lots.quality[0], w.communities.org_item_quality[0]

    base, community_view = quality(capacity=0.5)
    assert community_view == pytest.approx(base)
    assert quality(capacity=0.8)[0] > base
    assert quality(capacity=0.5, street=1)[0] == pytest.approx(base / (1 + P.local_quality_bonus))
    assert quality(capacity=0.5, item_hours=3 * PER_WORKER)[0] < base


def test_projects_are_delivered_by_agency_workers_and_by_group_members():
    w = blank_world((0, 0))
    w.add_orgs(AGENCY, 1, street=0, capacity=0.6, registered=True)
    w.add_orgs(GRASSROOTS, 1, street=0, community=1, members=10.0, capacity=0.3)
    w.add_workers(1, employer=0, skill=0.5)
    o = w.orgs
    o.project_community = [0, 1]
    o.project_hours = [2 * PER_WORKER, 1000.0]  # the agency can staff under half its project
    o.project_month_fee = [600.0, 100.0]
    deliver(w, w.schedule.at(w.t), P)
    group_share = min(1.0, 10 * P.member_project_hours / 1000.0)
    agency_share = productive(1) / (2 * PER_WORKER)
    assert w.communities.project_hours.tolist() == pytest.approx(
        [productive(1), 1000.0 * group_share]
    )
    assert o.project_income.tolist() == pytest.approx([600 * agency_share, 100.0 * group_share])
    assert w.year_books().project_spent == pytest.approx(600 * agency_share + 100.0 * group_share)
    # Agency projects count as agencies' service supply, group projects with the groups'.
    assert w.communities.service_supply_agencies.tolist() == pytest.approx([productive(1), 0])
    # Groups also give everyday volunteer hours in their home community.
    vol = 10 * P.volunteer_hours_per_member
    assert w.communities.volunteer_hours.tolist() == pytest.approx([0.0, vol])
    vol_quality = min(1.0, P.volunteer_quality + 0.4 * 0.3)
    assert w.communities.volunteer_quality_hours[1] == pytest.approx(vol * vol_quality)
    assert np.all(w.communities.project_quality_hours <= w.communities.project_hours + 1e-9)


def test_volunteer_hours_are_the_members_hours_of_the_living_groups_of_each_home_community():
    # Volunteer hours of a community = members x hours per member, summed over the living
    # grassroots groups based there: a folded group gives none, though it still lists members.
    w = blank_world((0, 0, 0))
    w.add_orgs(GRASSROOTS, 3, street=0, community=[0, 1, 1], members=[10.0, 8.0, 30.0])
    w.orgs.alive[2] = False  # folded
    deliver(w, w.schedule.at(w.t), P)
    c = w.communities
    vol = P.volunteer_hours_per_member * np.array([10.0, 8.0, 0.0])
    assert c.volunteer_hours.tolist() == pytest.approx(vol.tolist())
    # ... and they are all the groups' service supply here (no project runs).
    assert c.service_supply_groups.tolist() == pytest.approx(vol.tolist())


def test_quality_is_diluted_by_new_workers_in_proportion_to_their_share():
    # Three workers, one of them new: quality falls by growth_quality_dilution x 1/3, beside the
    # capacity, skill, burnout and local-knowledge terms, all by hand.
    w = holder_world(item_hours=10.0, workers=0, capacity=0.64)
    w.add_workers(3, employer=0, skill=[0.2, 0.5, 0.8], burnout=[0.0, 0.3, 0.6],
                  tenure=[0, P.new_worker_months, 40])  # fmt: skip
    deliver(w, w.schedule.at(w.t), P)
    q = 0.64**P.org_quality_capacity_exponent * (P.quality_skill_base + P.quality_skill_slope * 0.5)
    q *= (1 - P.burnout_quality_penalty * 0.3) * (1 - P.growth_quality_dilution / 3)
    assert w.orgs.quality[0] == pytest.approx(q)
    assert w.lots.quality[0] == pytest.approx(min(1.0, q * (1 + P.local_quality_bonus)))


def test_quality_is_a_share_capped_at_one_however_strong_and_local_the_holder():
    # The strongest holder (capacity 1, skill 1, seasoned, rested) in its own street would score
    # (base + slope) x (1 + local bonus) > 1: its lot's quality, and what the community sees of
    # it, is capped at 1, while its quality elsewhere is the uncapped score.
    w = holder_world(item_hours=10.0, workers=0, capacity=1.0)
    w.add_workers(2, employer=0, skill=1.0, tenure=40)
    deliver(w, w.schedule.at(w.t), P)
    q = P.quality_skill_base + P.quality_skill_slope
    assert q * (1 + P.local_quality_bonus) > 1
    assert w.orgs.quality[0] == pytest.approx(q)
    assert w.lots.quality[0] == 1.0 and w.communities.org_item_quality[0] == 1.0


def test_funded_items_outside_lots_are_done_by_the_streets_agency_with_local_quality():
    # Two communities; the first's funded items go to agency 0 of its street, the second has no
    # provider. The agency can staff half of them.
    w = blank_world((0, 0), item_categories=1)
    w.add_orgs(AGENCY, 1, street=0, capacity=0.5, registered=True)
    w.add_workers(1, employer=0, skill=0.5)
    staffed = productive(1)
    c = w.communities
    c.funded_org_hours = [2 * staffed, 0.0]
    c.staff_item_hours = [1.0, 1.0]
    w.funded_provider = np.array([0, -1])
    deliver(w, w.schedule.at(w.t), P)
    assert c.funded_org_delivered.tolist() == pytest.approx([staffed, 0.0])
    q = w.orgs.quality[0]
    assert c.funded_org_quality.tolist() == pytest.approx(
        [min(1.0, q * (1 + P.local_quality_bonus)), 0.0]
    )
    assert c.staff_item_hours.tolist() == pytest.approx([1.0 + staffed, 1.0])  # the rest back
    pay = staffed * P.service_hour_price  # paid by the hour by the issuer
    assert w.orgs.contract_income[0] == pytest.approx(pay)
    assert w.year_books().funded_item_spent == pytest.approx(pay)


def test_the_community_sees_the_quality_of_item_hours_delivered_however_few():
    # Half an hour of items delivered is judged at the lot's quality, as a hundred hours are;
    # with nothing delivered there is no quality to see.
    for item_hours in (0.5, 1.0, 100.0):
        w = holder_world(item_hours=item_hours)
        deliver(w, w.schedule.at(w.t), P)
        assert w.lots.delivered[0] == item_hours and w.lots.quality[0] > 0
        assert w.communities.org_item_quality[0] == pytest.approx(w.lots.quality[0])
    w = holder_world(item_hours=0.0, contracted=10.0)
    deliver(w, w.schedule.at(w.t), P)
    assert w.lots.delivered[0] == 0 and w.communities.org_item_quality[0] == 0


@pytest.mark.parametrize(
    ("values", "fill"),
    [
        (np.array([0.5, 2.0]), 0.0),
        (np.array([1.5], np.float32), 0.0),
        (np.array([3, 7], np.int32), -1),
        (np.array([3, 7], np.int16), -1),
        (np.array([3, 7], np.int32), 0.5),  # a float fill: the common type is float
        (np.array([True, False]), -1),
        (np.zeros(0), 0.0),
    ],
)
def test_with_none_appends_the_fill_in_the_common_type(values, fill):
    # Indexing the result by a row of -1 gives the fill; the rows keep their values, in the type
    # numpy gives the values and the fill together.
    got = _with_none(values, fill)
    assert got.dtype == np.result_type(values, fill)
    assert got[:-1].tolist() == values.tolist() and got[-1] == fill
    assert got[-1] == got[np.intp(-1)]
