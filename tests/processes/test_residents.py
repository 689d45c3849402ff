import numpy as np
import pytest

from sim.params import Params
from sim.processes.residents import serve_residents
from sim.world import blank_world

P = Params()


def served(t=0, first_t=0, params=P, n=1, **cols):
    w = blank_world((0,) * n, t=t, **cols)
    w.first_t = first_t
    serve_residents(w, w.schedule.at(w.t), params)
    return w.communities


def test_need_is_community_services_plus_the_resident_facing_part_of_items():
    c = served(residents=2000.0, need_index=1.5, items_issued=40.0)
    base = 2000 * P.need_hours_per_resident * 1.5
    assert c.need_hours[0] == pytest.approx(base + P.resident_facing_share * 40 * P.hours_per_item)


def test_coverage_counts_services_and_items_done_up_to_the_need():
    base = 1000 * P.need_hours_per_resident
    rf, h = P.resident_facing_share, P.hours_per_item
    c = served(
        hours_services=0.2 * base,
        volunteer_hours=0.1 * base,
        project_hours=0.1 * base,
        items_issued=10.0,
        staff_items_done=3 * h,
        org_item_delivered=5 * h,
    )
    need = base + rf * 10 * h
    supplied = 0.4 * base + rf * 8 * h
    assert c.served_hours[0] == pytest.approx(supplied)
    assert c.delivered_hours[0] == pytest.approx(supplied)
    assert c.service_coverage[0] == pytest.approx(supplied / need)
    assert c.coverage_memory[0] == c.service_coverage[0]


def test_services_beyond_the_need_are_not_counted_and_quality_is_per_hour_delivered():
    base = 1000 * P.need_hours_per_resident
    c = served(
        hours_services=np.array([base, 3 * base]),
        volunteer_hours=np.array([base, 0.0]),
        volunteer_quality_hours=np.array([0.5 * base, 0.0]),
        n=2,
    )
    assert c.served_hours.tolist() == pytest.approx([base, base])
    assert c.service_coverage.tolist() == pytest.approx([1.0, 1.0])
    q_staff = P.staff_base_quality
    assert c.service_quality[0] == pytest.approx((q_staff + 0.5) / 2)
    assert c.service_quality[1] == pytest.approx(q_staff)


def test_burnt_out_staff_give_lower_quality():
    base = 1000 * P.need_hours_per_resident
    fresh = served(hours_services=base, burnout=0.0)
    burnt = served(hours_services=base, burnout=0.8)
    assert burnt.service_quality[0] == pytest.approx(
        fresh.service_quality[0] * (1 - P.burnout_quality_penalty * 0.8)
    )


def test_satisfaction_starts_at_what_residents_get_and_then_moves_toward_it():
    base = 1000 * P.need_hours_per_resident
    w = P.satisfaction_weight_coverage
    first = served(hours_services=0.5 * base, satisfaction=0.9)
    target = w * 0.5 + (1 - w) * P.staff_base_quality
    assert first.satisfaction[0] == pytest.approx(target)
    later = served(t=5, first_t=0, hours_services=0.5 * base, satisfaction=0.9)
    assert later.satisfaction[0] == pytest.approx(0.9 + P.satisfaction_adjust * (target - 0.9))


def test_participation_rises_with_the_committees_self_governance_effort():
    effort = np.array([0.0, 50.0, 500.0])
    c = served(hours_self_governance=effort, participation=0.1, n=3)
    assert c.participation[0] == pytest.approx(0.1 * (1 - P.participation_adjust))
    assert c.participation[0] < c.participation[1] < c.participation[2]
    per_1000 = effort[2]  # 1000 residents
    goal = P.participation_max * per_1000 / (per_1000 + P.participation_half_hours)
    assert c.participation[2] == pytest.approx(0.1 + P.participation_adjust * (goal - 0.1))
