"""The behavioural constants that became parameters (ODD 7.11) act where the ODD says they do."""

import pytest

from sim import Params
from sim.processes.community_work import allocate_staff_time
from sim.processes.delivery import deliver
from sim.world import AGENCY, blank_world

from .conftest import finished_run


def _delivered_quality(params: Params, skill: float) -> float:
    w = blank_world((0,), item_categories=1)
    w.add_orgs(AGENCY, 1, street=0, capacity=1.0, registered=True)
    w.add_workers(2, employer=0, skill=skill)
    w.lots.holder[0] = 0
    w.lots.hours[0] = w.lots.item_hours[0] = 100.0
    deliver(w, w.schedule.at(w.t), params)
    return float(w.communities.org_item_quality[0])


def test_quality_follows_skill_by_its_base_and_slope():
    p = Params(local_quality_bonus=0.0, growth_quality_dilution=0.0)  # v2: no new-worker dilution
    # capacity 1, no burnout, no overload: quality = base + slope * skill
    assert _delivered_quality(p, 0.5) == pytest.approx(0.4 + 0.6 * 0.5)
    flat = p.model_copy(update={"quality_skill_slope": 0.0})
    assert _delivered_quality(flat, 0.9) == pytest.approx(_delivered_quality(flat, 0.1))
    steep = p.model_copy(update={"quality_skill_base": 0.1, "quality_skill_slope": 0.9})
    gap = _delivered_quality(steep, 0.9) - _delivered_quality(steep, 0.1)
    assert gap == pytest.approx(0.9 * 0.8)


def test_a_wider_staff_burnout_ramp_slows_burnout_under_the_same_pressure():
    burnout = {}
    for ramp in (0.25, 0.5, 2.0):
        w = blank_world((0,), staff=10.0, burnout=0.0)
        w.communities.staff_item_hours = 1500.0  # pressure well above the onset
        allocate_staff_time(w, w.schedule.at(w.t), Params(staff_burnout_ramp=ramp))
        burnout[ramp] = float(w.communities.burnout[0])
    assert burnout[0.25] >= burnout[0.5] > burnout[2.0] > 0


def test_a_later_worker_burnout_onset_means_less_worker_burnout():
    base = finished_run("wuhou_reform", 1)
    late = finished_run("wuhou_reform", 1, ("params.worker_burnout_onset=1.5",))
    burnt = [m.workers.burnout[m.workers.alive & (m.workers.employer >= 0)] for m in (base, late)]
    assert burnt[0].mean() > 0.01 and burnt[1].mean() < 0.5 * burnt[0].mean()
