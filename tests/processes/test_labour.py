import numpy as np
import pytest
from scipy import stats

from sim.params import Params
from sim.processes.labour import (
    _newcomer_weight,
    _shares,
    set_wages,
    staff_organizations,
    wages,
    workers_month,
)
from sim.world import AGENCY, GRASSROOTS, blank_world

P = Params()
PER_WORKER = P.worker_hours_per_month


def agency_world(reserves=1000.0, **org):
    w = blank_world((0,), item_categories=1)
    cols = {"street": 0, "capacity": 0.5, "registered": True, "reserves": reserves} | org
    w.add_orgs(AGENCY, 1, **cols)
    return w


def workers_for(hours: float) -> int:
    """Workers an organization hires for ``hours`` a month of work, by hand: enough that what
    they give after the coordination cost of a workforce that size covers the work."""
    plain = hours / PER_WORKER
    lost = min(0.5, P.coordination_cost * np.log2(1 + plain / P.supervision_span))
    return int(np.ceil(plain / (1 - lost) - 1e-9))


def employed_by(w, org):
    return np.flatnonzero(w.workers.alive & (w.workers.employer == org))


def test_an_organization_hires_the_most_skilled_in_the_pool_for_the_work_it_holds():
    w = agency_world()
    w.lots.holder[0] = 0
    w.lots.hours[0] = 2.5 * PER_WORKER  # three workers' worth
    w.add_workers(5, skill=[0.1, 0.9, 0.5, 0.7, 0.3])
    staff_organizations(w, w.schedule.at(w.t), Params(switchers_per_month=0.0))
    assert employed_by(w, 0).tolist() == [1, 2, 3]
    assert w.orgs.expected_hours[0] == pytest.approx(2.5 * PER_WORKER)
    assert w.month_stats["hires"] == 3
    assert (w.workers.wage[[1, 2, 3]] > 0).all() and (w.workers.wage[[0, 4]] == 0).all()


def test_career_switchers_fill_what_the_pool_cannot():
    w = agency_world()
    w.lots.holder[0] = 0
    w.lots.hours[0] = 4 * PER_WORKER
    target = workers_for(4 * PER_WORKER)
    assert target == 5  # four workers' hours need a fifth for coordination (model v2)
    w.add_workers(1, skill=0.6)
    staff_organizations(w, w.schedule.at(w.t), Params(switchers_per_month=1000.0))
    hired = employed_by(w, 0)
    assert len(hired) == target and w.month_stats["switchers_hired"] == target - 1
    assert w.month_stats["hires"] == target
    assert (w.workers.skill[hired[1:]] <= P.switcher_skill_max).all()  # untrained
    assert (w.workers.skill[hired[1:]] >= P.switcher_skill_min).all()


def test_without_switchers_an_organization_stays_short_and_counts_only_its_hires():
    w = agency_world()
    w.lots.holder[0] = 0
    w.lots.hours[0] = 4 * PER_WORKER
    w.add_workers(1, skill=0.6)
    staff_organizations(w, w.schedule.at(w.t), Params(switchers_per_month=0.0))
    assert len(employed_by(w, 0)) == 1
    assert w.month_stats["hires"] == 1 and w.month_stats["switchers_hired"] == 0


def test_employers_take_their_shares_of_pool_and_switchers_in_turn():
    # Each takes what it needs from the pool while it lasts, then from the switchers.
    assert _shares([2, 3, 1], 3, 2) == ([2, 1, 0], [0, 2, 0])
    assert _shares([2, 3, 1], 0, 3) == ([0, 0, 0], [2, 1, 0])
    assert _shares([2, 3, 1], 10, 10) == ([2, 3, 1], [0, 0, 0])
    assert _shares([], 5, 5) == ([], [])
    # In the process: the better-paying agency (higher capacity) takes two of the pool's three.
    w = agency_world(capacity=0.9, registered=False)
    w.add_orgs(AGENCY, 1, street=0, capacity=0.1, reserves=1000.0, project_community=0,
               project_hours=1.5 * PER_WORKER)  # fmt: skip
    w.lots.holder[0] = 0
    w.lots.hours[0] = 1.5 * PER_WORKER
    w.add_workers(3, skill=[0.2, 0.9, 0.5])
    staff_organizations(w, w.schedule.at(w.t), Params(switchers_per_month=0.0))
    assert employed_by(w, 0).tolist() == [1, 2] and employed_by(w, 1).tolist() == [0]
    assert w.month_stats["hires"] == 3


def test_surplus_workers_are_laid_off_newest_first_down_to_the_agency_core():
    w = agency_world()
    w.add_workers(5, employer=0, tenure=[30, 2, 12, 1, 50])
    staff_organizations(w, w.schedule.at(w.t), P)  # no work held: keep the core
    kept = employed_by(w, 0)
    assert len(kept) == P.agency_core_workers
    assert set(kept.tolist()) == {0, 4}  # the longest-serving stay
    assert w.month_stats["layoffs"] == 5 - P.agency_core_workers
    assert (w.workers.tenure[[1, 2, 3]] == 0).all()


def test_a_surplus_of_one_lays_off_that_organizations_newest_only():
    # Two agencies without a core, each with work for two workers: the first has three (one too
    # many) and lets its newest go; the second has two, the newest of all, and keeps them.
    w = agency_world(registered=False)
    w.add_orgs(AGENCY, 1, street=0, capacity=0.5, reserves=1000.0, project_community=0,
               project_hours=1.5 * PER_WORKER)  # fmt: skip
    w.lots.holder[0] = 0
    w.lots.hours[0] = 1.5 * PER_WORKER
    w.add_workers(3, employer=0, tenure=[10, 2, 5])
    w.add_workers(2, employer=1, tenure=[0, 1])
    staff_organizations(w, w.schedule.at(w.t), Params(switchers_per_month=0.0))
    assert workers_for(1.5 * PER_WORKER) == 2
    assert employed_by(w, 0).tolist() == [0, 2] and employed_by(w, 1).tolist() == [3, 4]
    assert w.month_stats["layoffs"] == 1 and w.workers.tenure[1] == 0


def test_an_insolvent_organization_without_work_lets_everyone_go_and_groups_hire_nobody():
    w = agency_world(reserves=-10.0)
    w.add_orgs(GRASSROOTS, 1, street=0, community=0, members=20.0, registered=True, reserves=50.0)
    w.add_workers(3, employer=0)
    w.add_workers(3)  # in the pool
    staff_organizations(w, w.schedule.at(w.t), P)
    assert len(employed_by(w, 0)) == 0 and len(employed_by(w, 1)) == 0


def test_wages_rise_with_employer_capacity_and_the_certificate():
    w = agency_world(capacity=0.0)
    w.add_orgs(AGENCY, 1, street=0, capacity=1.0)
    pay = wages(w, P, np.array([0, 1, 1]), np.array([False, False, True]))
    assert pay.tolist() == pytest.approx(
        [
            P.wage_base,
            P.wage_base * (1 + P.wage_capacity_premium),
            P.wage_base * (1 + P.wage_capacity_premium) * (1 + P.wage_certified_premium),
        ]
    )
    w.add_workers(2, employer=[1, -1], certified=True)
    set_wages(w, P)
    assert w.workers.wage.tolist() == pytest.approx([pay[2], 0.0])


def test_practice_under_a_capable_employer_builds_skill_and_overload_burns_out():
    # Two organizations of capacity 0.8: one of new workers only (supervision thinned to half),
    # one whose new worker has a seasoned colleague (full supervision).
    w = agency_world(capacity=0.8)
    w.add_orgs(AGENCY, 1, street=0, capacity=0.8, registered=True)
    seasoned = P.new_worker_months
    w.add_workers(3, employer=[0, 0, -1], skill=0.4, hours=[PER_WORKER, 0.0, 0.0])
    w.add_workers(2, employer=1, skill=0.4, hours=PER_WORKER, tenure=[0, seasoned])
    w.org_load = np.array([1.4, 1.0])
    params = Params(quit_base=0.0, quit_pay_sensitivity=0.0, quit_burnout_sensitivity=0.0,
                    quit_newcomer=0.0, pool_exit_rate=0.0)  # fmt: skip
    workers_month(w, w.schedule.at(w.t), params)
    skill = w.workers.skill
    full = P.skill_growth * 0.6 * 1.0 * (P.supervision_base + 0.8)
    span = min(1.0, P.supervision_span * 1 / 2)  # one seasoned worker for two
    assert skill.tolist() == pytest.approx(
        [
            0.4 + full * 0.5,  # practised, supervision thinned: no seasoned worker
            0.4,  # no practice
            0.4 * (1 - P.skill_decay),  # in the pool, skill decays
            0.4 + full * (0.5 + 0.5 * span),
            0.4 + full * (0.5 + 0.5 * span),
        ]
    )
    burn_target = min(1.0, (1.4 - P.worker_burnout_onset) / P.worker_burnout_ramp)
    assert burn_target > 0
    assert w.workers.burnout[:2].tolist() == pytest.approx(
        [P.worker_burnout_rate * burn_target] * 2
    )
    assert w.workers.burnout[2] == 0 and w.workers.tenure.tolist() == [1, 1, 0, 1, seasoned + 1]


def test_low_pay_and_burnout_make_workers_quit_at_their_rates():
    # 2000 workers paid nothing (the largest pay gap) and fully burnt out; no overload to move
    # their burnout this month. The quit share is quit_base + pay + burnout sensitivities.
    n = 2000
    w = agency_world()
    w.add_workers(n, employer=0, burnout=1.0, wage=0.0)
    w.org_load = np.array([0.5])
    w.t = 2  # March: no exam, no graduates
    params = Params(worker_burnout_rate=0.0, pool_exit_rate=0.0)
    workers_month(w, w.schedule.at(w.t), params)
    p_quit = P.quit_base + P.quit_pay_sensitivity + P.quit_burnout_sensitivity
    quits = w.month_stats["quits"]
    lo, hi = stats.binom.ppf([5e-7, 1 - 5e-7], n, p_quit)
    assert lo <= quits <= hi
    left = (~w.workers.alive).sum()
    in_pool = (w.workers.alive & (w.workers.employer < 0)).sum()
    assert left + in_pool == quits
    lo, hi = stats.binom.ppf([5e-7, 1 - 5e-7], quits, P.leave_sector_share)
    assert lo <= left <= hi


def test_graduates_join_the_pool_in_july_and_certificates_come_in_june():
    w = agency_world()
    w.add_workers(400, employer=0, skill=1.0, wage=P.outside_wage)
    w.org_load = np.array([0.5])
    w.t = 5  # June
    workers_month(w, w.schedule.at(w.t), P)
    certified = w.workers.certified.sum()
    p_cert = 0.5 * min(1.0, P.certification_base + 0.45 * 1.0)
    lo, hi = stats.binom.ppf([5e-7, 1 - 5e-7], 400, p_cert)
    assert lo <= certified <= hi
    before = len(w.workers)
    w.t = 6  # July
    workers_month(w, w.schedule.at(w.t), P)
    new = len(w.workers) - before
    lo, hi = stats.poisson.ppf([5e-7, 1 - 5e-7], P.graduates_per_year)
    assert lo <= new <= hi
    assert (w.workers.employer[before:] == -1).all()


def test_an_organization_staffed_for_its_work_neither_hires_nor_lays_off():
    # Three workers give 3 x PER_WORKER less their coordination loss: work of exactly that many
    # productive hours needs no hire and no layoff; one hour more needs a fourth worker.
    lost = P.coordination_cost * np.log2(1 + 3 / P.supervision_span)
    staffed = 3 * PER_WORKER * (1 - lost)
    for hours, want in ((staffed, 3), (3 * PER_WORKER, 4)):
        assert workers_for(hours) == want
        w = agency_world()
        w.lots.holder[0] = 0
        w.lots.hours[0] = hours
        w.add_workers(3, employer=0, tenure=5)
        w.add_workers(2, skill=0.9)  # in the pool
        staff_organizations(w, w.schedule.at(w.t), P)
        assert len(employed_by(w, 0)) == want
        assert w.month_stats["layoffs"] == 0 and w.month_stats["hires"] == want - 3
        assert (w.workers.tenure[:3] == 5).all()


def test_workers_are_counted_by_employer_with_the_pool_empty_and_the_last_row_unstaffed():
    # Everyone is employed by the first agency, which keeps what its work needs; the second (the
    # table's last row) has project work and nobody yet: it hires its worker among switchers.
    w = agency_world(registered=False)
    w.add_orgs(AGENCY, 1, street=0, capacity=0.5, reserves=1000.0, project_community=0,
               project_hours=0.5 * PER_WORKER)  # fmt: skip
    w.lots.holder[0] = 0
    w.lots.hours[0] = 1.5 * PER_WORKER
    w.add_workers(workers_for(1.5 * PER_WORKER), employer=0, tenure=5)
    staff_organizations(w, w.schedule.at(w.t), Params(switchers_per_month=50.0))
    assert len(employed_by(w, 0)) == workers_for(1.5 * PER_WORKER) == 2
    assert len(employed_by(w, 1)) == workers_for(0.5 * PER_WORKER) == 1
    assert w.month_stats["layoffs"] == 0 and w.month_stats["switchers_hired"] == 1


def test_idle_workers_leave_the_pool_at_their_rate():
    n = 4000
    w = agency_world()
    w.add_workers(n, skill=0.5)  # all in the pool
    w.org_load = np.array([0.0])
    w.t = 2  # March: no exam, no graduates
    workers_month(w, w.schedule.at(w.t), Params(pool_exit_rate=0.1))
    left = int((~w.workers.alive).sum())
    lo, hi = stats.binom.ppf([5e-7, 1 - 5e-7], n, 0.1)
    assert lo <= left <= hi
    assert w.month_stats["quits"] == 0  # nobody employed, nobody quits


def test_even_half_an_hour_of_work_held_is_staffed_and_so_is_last_months_larger_workload():
    # No reserves, so no core of workers to keep: only the work held calls for staff. Half an
    # hour a month needs one worker; with last month's workload larger, the organization staffs
    # that while the contract lasts.
    for demand, hires in ((0.0, 1), (2.5 * PER_WORKER, 3)):
        w = agency_world(reserves=0.0)
        w.lots.holder[0] = 0
        w.lots.hours[0] = 0.5
        w.orgs.demand_hours[0] = demand
        w.add_workers(5, skill=0.5)
        staff_organizations(w, w.schedule.at(w.t), Params(switchers_per_month=0.0))
        assert len(employed_by(w, 0)) == hires == w.month_stats["hires"]


def test_the_pay_gap_is_the_shortfall_below_the_outside_wage_as_a_share_of_it():
    # Pay the only reason to quit, at full sensitivity, and every quitter stays in the pool: a
    # worker paid the outside wage or twice it never quits, one paid nothing always does, and of
    # those paid three quarters of it a quarter quit (binomial interval).
    n, out = 2000, P.outside_wage
    w = agency_world()
    w.add_workers(3, employer=0, wage=[out, 2 * out, 0.0])
    w.add_workers(n, employer=0, wage=0.75 * out)
    w.org_load = np.array([0.0])
    w.t = 2  # March: no exam, no graduates
    params = Params(quit_base=0.0, quit_pay_sensitivity=1.0, quit_burnout_sensitivity=0.0,
                    quit_newcomer=0.0, leave_sector_share=0.0, pool_exit_rate=0.0)  # fmt: skip
    workers_month(w, w.schedule.at(w.t), params)
    employed = w.workers.alive & (w.workers.employer == 0)
    assert w.workers.alive.all() and employed[:3].tolist() == [True, True, False]
    quits = n - int(employed[3:].sum())
    lo, hi = stats.binom.ppf([5e-7, 1 - 5e-7], n, 0.25)
    assert lo <= quits <= hi
    assert w.month_stats["quits"] == quits + 1


def test_the_months_layoffs_add_up_over_its_staffing_rounds():
    # The month's counter adds each round's layoffs to what it holds: three workers with work
    # for one lose two, then, the work gone, the third (no core: unregistered).
    w = agency_world(registered=False)
    w.lots.holder[0] = 0
    w.lots.hours[0] = 0.5 * PER_WORKER
    w.add_workers(3, employer=0, tenure=[9, 1, 5])
    staff_organizations(w, w.schedule.at(w.t), P)
    assert employed_by(w, 0).tolist() == [0] and w.month_stats["layoffs"] == 2
    w.lots.hours[0] = 0.0
    staff_organizations(w, w.schedule.at(w.t), P)
    assert len(employed_by(w, 0)) == 0 and w.month_stats["layoffs"] == 3
    assert w.month_stats["hires"] == 0


def test_newcomers_quit_weights_are_exp_of_minus_tenure_over_twelve_for_any_tenures():
    # The weights are read from a table of the same computation, grown when a tenure is beyond it,
    # and computed directly for tenures outside it (negative) or none: always np.exp(-t / 12.0),
    # to the bit.
    for tenure in ([0, 1, 5, 12, 239], [3, 700], [-2, 0, 4], []):
        t = np.array(tenure, dtype=np.int32)  # as the workers' tenure column
        assert _newcomer_weight(t).tolist() == np.exp(-t / 12.0).tolist()
