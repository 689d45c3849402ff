import numpy as np
import pytest

from sim.needs import DEFAULT_SHARES, NEED_TYPES, SERVICE_FIT, SOURCES
from sim.params import Params
from sim.processes.residents import serve_residents
from sim.world import blank_world

P = Params()
N = 100.0  # hours a month of elderly need, the only need in most worlds below
ELDERLY = np.array([N, 0, 0, 0, 0])


def served(t=0, first_t=0, params=P, n=1, need=ELDERLY, **cols):
    w = blank_world((0,) * n, t=t, need=need, **cols)
    w.first_t = first_t
    serve_residents(w, w.schedule.at(w.t), params)
    return w.communities


def test_need_is_built_from_households_by_type_plus_the_resident_facing_part_of_items():
    # 400 households of 2000 / 400 = 5 residents; need index 1.5; no need given, so the world
    # builds it as a scenario does, from the default covariates.
    c = served(residents=2000.0, need_index=1.5, items_issued=40.0, need=None)
    weights = np.array([getattr(P, f"need_weight_{t}") for t in NEED_TYPES])
    shares = np.array(DEFAULT_SHARES)
    # Person-level needs (elderly, children, disabled): a household has the need if any of its
    # five members has; low income and migrant status are shares of households.
    hh_share = np.r_[1 - (1 - shares[:3]) ** 5, shares[3:]]
    base = 400 * hh_share * weights * P.need_hours_per_resident * 1.5
    items = P.resident_facing_share * 40 * P.hours_per_item
    need = base + items * base / base.sum()  # items add need in the community's proportions
    assert [getattr(c, f"need_{t}")[0] for t in NEED_TYPES] == pytest.approx(need)
    assert c.need_hours[0] == pytest.approx(base.sum() + items)
    # Nothing is served: every hour of need is unmet.
    assert [getattr(c, f"unmet_{t}")[0] for t in NEED_TYPES] == pytest.approx(need)
    assert c.service_coverage[0] == 0 and c.service_quality[0] == 0


def test_coverage_counts_services_by_their_fit_and_items_done_up_to_the_need():
    rf, h = P.resident_facing_share, P.hours_per_item
    c = served(
        hours_services=0.2 * N,
        service_supply_groups=0.1 * N,
        service_supply_agencies=0.1 * N,
        service_supply_brand=0.1 * N,
        items_issued=10.0,
        staff_items_done=3 * h,
        org_item_delivered=5 * h,
    )
    fit = {s: SERVICE_FIT[s][0] for s in SOURCES}  # fit to elderly need
    assert fit["agencies"] < 1 and fit["brand"] < fit["agencies"]
    need = N + rf * 10 * h
    met = 0.2 * N * fit["staff"] + 0.1 * N * (fit["groups"] + fit["agencies"] + fit["brand"])
    supplied = met + rf * 8 * h
    assert c.served_hours[0] == pytest.approx(supplied)
    assert c.served_elderly[0] == pytest.approx(supplied)
    assert c.delivered_hours[0] == pytest.approx(0.5 * N + rf * 8 * h)
    assert c.service_coverage[0] == pytest.approx(supplied / need)
    assert c.coverage_elderly[0] == pytest.approx(supplied / need)
    assert c.coverage_memory[0] == c.service_coverage[0]
    assert c.unmet_elderly[0] == pytest.approx(need - supplied)


def test_a_source_spreads_its_hours_over_need_types_by_need_times_fit():
    # Elderly and migrant need of 100 hours each; 60 staff hours go 100 x 1.0 : 100 x 0.5 to
    # elderly and migrants, and an hour on migrants meets half an hour of their need.
    need = np.array([100.0, 0, 0, 0, 100.0])
    c = served(need=need, hours_services=60.0)
    f_e, f_m = SERVICE_FIT["staff"][0], SERVICE_FIT["staff"][4]
    on_e, on_m = 60 * f_e / (f_e + f_m), 60 * f_m / (f_e + f_m)
    assert c.served_elderly[0] == pytest.approx(on_e * f_e)
    assert c.served_migrants[0] == pytest.approx(on_m * f_m)
    assert c.served_children[0] == 0
    assert c.service_coverage[0] == pytest.approx((on_e * f_e + on_m * f_m) / 200)
    # Without fit differences every hour meets an hour of need.
    even = Params(service_fit_spread=0.0)
    w = blank_world((0,), need=need, params=even, hours_services=60.0)
    serve_residents(w, w.schedule.at(0), even)
    assert w.communities.served_hours[0] == pytest.approx(60.0)


def test_services_beyond_the_need_are_not_counted_and_quality_is_measured_against_need():
    c = served(
        hours_services=np.array([N, 3 * N, 0.5 * N]),
        service_supply_groups=np.array([N, 0.0, 0.0]),
        service_quality_hours_groups=np.array([0.5 * N, 0.0, 0.0]),
        n=3,
    )
    assert c.served_hours.tolist() == pytest.approx([N, N, 0.5 * N])
    assert c.service_coverage.tolist() == pytest.approx([1.0, 1.0, 0.5])
    q_staff = P.staff_base_quality
    # Twice the need supplied: half of each source's hours count, with their quality.
    assert c.service_quality[0] == pytest.approx((q_staff + 0.5) / 2)
    assert c.service_quality[1] == pytest.approx(q_staff)
    # Half the need met at staff quality: quality against need is half of quality per hour.
    assert c.service_quality[2] == pytest.approx(0.5 * q_staff)
    assert c.delivered_quality[2] == pytest.approx(q_staff)
    assert c.delivered_quality[0] == pytest.approx((q_staff * N + 0.5 * N) / (2 * N))


def test_burnt_out_staff_give_lower_quality():
    fresh = served(hours_services=N, burnout=0.0)
    burnt = served(hours_services=N, burnout=0.8)
    assert burnt.service_quality[0] == pytest.approx(
        fresh.service_quality[0] * (1 - P.burnout_quality_penalty * 0.8)
    )
    assert burnt.service_coverage[0] == fresh.service_coverage[0] == pytest.approx(1.0)


def test_satisfaction_starts_at_what_residents_get_and_then_moves_toward_it():
    w = P.satisfaction_weight_coverage
    first = served(hours_services=0.5 * N, satisfaction=0.9)
    # Half the need met at staff quality: coverage 0.5, quality against need 0.5 x staff quality.
    target = w * 0.5 + (1 - w) * 0.5 * P.staff_base_quality
    assert first.satisfaction[0] == pytest.approx(target)
    later = served(t=5, first_t=0, hours_services=0.5 * N, satisfaction=0.9)
    assert later.satisfaction[0] == pytest.approx(0.9 + P.satisfaction_adjust * (target - 0.9))


def test_participation_follows_self_governance_effort_scaled_by_satisfaction_and_migrants():
    effort = np.array([0.0, 50.0, 500.0, 500.0, 500.0])
    sat = np.array([0.5, 0.5, 0.5, 0.2, 0.5])
    migrants = np.array([0.0, 0.0, 0.0, 0.0, 0.6])
    c = served(
        t=3,
        n=5,
        hours_self_governance=effort,
        hours_services=N,  # full coverage at staff quality: satisfaction moves up a little
        participation=0.1,
        satisfaction=sat,
        migrant_share=migrants,
    )
    assert c.participation[0] == pytest.approx(0.1 * (1 - P.participation_adjust))
    assert c.participation[0] < c.participation[1] < c.participation[2]
    assert c.participation[3] < c.participation[2] and c.participation[4] < c.participation[2]
    per_1000 = effort / 1000 * 1000  # 1000 residents
    goal = P.participation_max * per_1000 / (per_1000 + P.participation_half_hours)
    goal = goal * (1 - P.migrant_participation_gap * migrants)
    rel = c.satisfaction / P.satisfaction_reference  # satisfaction after this month's update
    goal = np.minimum(goal * rel**P.participation_satisfaction_elasticity, 1.0)
    assert c.participation.tolist() == pytest.approx(0.1 + P.participation_adjust * (goal - 0.1))
    # Satisfaction of this month, not last month's, scales the goal.
    assert not np.allclose(c.satisfaction, sat)


def test_items_done_count_with_the_quality_of_whoever_did_them():
    # All need from items: 10 items issued; staff did 2, the lot holder 3 (quality 0.9), the
    # street's agency 4 funded ones (quality 0.5). Staff work at full, fresh quality.
    rf, h = P.resident_facing_share, P.hours_per_item
    c = served(
        need=ELDERLY,
        items_issued=10.0,
        staff_items_done=2 * h,
        org_item_delivered=3 * h,
        org_item_quality=0.9,
        funded_org_delivered=4 * h,
        funded_org_quality=0.5,
    )
    q_staff = P.staff_base_quality
    done = rf * 9 * h
    assert c.served_hours[0] == pytest.approx(done)
    quality_hours = rf * h * (2 * q_staff + 3 * 0.9 + 4 * 0.5)
    assert c.service_quality[0] == pytest.approx(quality_hours / (N + rf * 10 * h))
    assert c.delivered_quality[0] == pytest.approx(quality_hours / done)


def test_a_community_without_need_has_nothing_covered_and_no_quality():
    c = served(need=np.array([[N, 0, 0, 0, 0], [0, 0, 0, 0, 0]]), n=2, hours_services=N)
    assert c.need_hours.tolist() == [N, 0.0]
    assert c.service_coverage.tolist() == pytest.approx([1.0, 0.0])
    assert c.service_quality.tolist() == pytest.approx([P.staff_base_quality, 0.0])
    assert c.coverage_elderly.tolist() == pytest.approx([1.0, 0.0])


def test_item_need_of_a_community_without_own_need_is_spread_evenly_over_the_need_types():
    # A community whose residents have no need of their own still has the resident-facing part of
    # its items as need: in equal shares of the need types, so need by type adds up to it.
    rf, h = P.resident_facing_share, P.hours_per_item
    c = served(need=np.zeros(5), items_issued=10.0)
    item_need = rf * 10 * h
    assert c.need_hours[0] == pytest.approx(item_need)
    for t in NEED_TYPES:
        assert getattr(c, f"need_{t}")[0] == pytest.approx(item_need / len(NEED_TYPES))


def test_each_community_delivered_quality_is_of_its_own_hours():
    # Delivered quality = the quality hours a community got (services by source, items done,
    # service items by need type) over the hours it got, its own only: community 0's staff did
    # service items of need type 0 at staff quality; community 1 got only staff services, so its
    # delivered quality is the staff's.
    h = P.hours_per_item
    w = blank_world((0, 0), need=ELDERLY, hours_services=[0.0, 20.0], items_issued=[4.0, 0.0])
    w.need_issued[0, 0] = w.need_staff_done[0, 0] = 4 * h
    w.communities.staff_items_done = [4 * h, 0.0]
    serve_residents(w, w.schedule.at(w.t), P)
    c = w.communities
    assert c.delivered_hours.tolist() == pytest.approx([4 * h, 20.0])
    assert c.delivered_quality.tolist() == pytest.approx([P.staff_base_quality] * 2)
