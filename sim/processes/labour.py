"""Process 8: the social-worker labour market (社工人才).

Before delivering, organizations staff up for the work they hold (or last month's workload, if
larger): they hire from the district pool
(most skilled first; the best-paying employers choose first), then untrained career switchers up
to a monthly supply, and lay off workers they no longer need (an agency keeps a small core while
its reserves last). After delivering, workers grow skill with practice and supervision (capacity of
the employer), burn out under overload, sit the June certification exam, and quit on low pay or
burnout; some leavers stay in the pool, the rest leave the sector. Graduates join the pool each
July.
"""

from __future__ import annotations

import numpy as np

from sim.params import Params, Policy
from sim.processes.delivery import coordination_share
from sim.world import GRASSROOTS, World, at_rows

JUNE, JULY = 5, 6  # month-of-year indices (0 = January)


def wages(world: World, params: Params, employer: np.ndarray, certified: np.ndarray) -> np.ndarray:
    """Monthly wage an employer pays: higher-capacity organizations pay more."""
    p = params
    cap = at_rows(world.orgs.capacity, employer)  # -1: no employer
    return (
        p.wage_base
        * (1 + p.wage_capacity_premium * cap)
        * (1 + p.wage_certified_premium * certified)
    )


def staff_organizations(world: World, policy: Policy, params: Params) -> None:
    """Hire and lay off so each organization can staff the work it holds this month."""
    p, o, w, lots = params, world.orgs, world.workers, world.lots
    rng = world.streams.labour
    n_o = len(o)
    holder = lots.holder
    # (lots without a holder summed into an extra bin: no masked copies, the same sums)
    by_holder = np.where(holder >= 0, holder, np.intp(n_o))
    contract_hours = np.bincount(by_holder, lots.hours, n_o + 1)[:n_o]
    outfit = o.kind != GRASSROOTS  # agencies and brands
    project = np.where((o.project_community >= 0) & outfit, o.project_hours, 0.0)
    expected = np.add(contract_hours, project, out=o.expected_hours)
    # Staff for the work held, or for last month's workload if that was larger (funded items add
    # work no contract priced in), as long as the contracts and projects last.
    busy = (expected > 0).nonzero()[0]
    busy_plain = np.maximum(expected[busy], o.demand_hours[busy])
    # Workers needed, allowing for the hours a workforce of that size loses to coordination.
    busy_plain /= p.worker_hours_per_month
    # (computed for the organizations with work only: with none, 0 / (1 - 0) is 0; issue 12)
    needed = np.zeros(n_o)
    needed[busy] = busy_plain / (1 - coordination_share(busy_plain, p))
    target = np.ceil(needed - 1e-9).astype(np.int64)
    reserves = o.reserves
    core = reserves > 0
    core &= outfit
    core &= o.registered
    # alive, and not out of money with no work to pay for
    staffed = o.alive & ~((reserves < 0) & (expected <= 0))
    target = np.where(staffed, np.maximum(target, core * p.agency_core_workers), 0)

    # Each worker's employer row, n_o ("none") without one: counts by it are the counts of the
    # employed.
    employer = w.employer
    employed = employer >= 0
    employed &= w.alive
    by_emp = np.where(employed, employer, np.intp(n_o))
    have = np.bincount(by_emp, None, n_o + 1)[:n_o]

    # Lay off surplus workers, newest first.
    gap = target - have
    short = np.maximum(gap, 0)
    surplus = short - gap  # max(have - target, 0), in integers
    if np.count_nonzero(surplus):
        # Only the workers of organizations with a surplus, in row order: each one's ranks
        # among its own workers are those among all the employed (issue 12: the sort of every
        # employed worker was most of the month's staffing when anyone was laid off).
        over = np.zeros(n_o + 1, bool)
        np.greater(surplus, 0, out=over[:n_o])
        employed = over[by_emp].nonzero()[0]
        emp = by_emp[employed]
        order = np.lexsort((w.tenure[employed], emp))  # by employer, then shortest tenure first
        ranked = employed[order]
        emp_sorted = emp[order]
        first = np.searchsorted(emp_sorted, emp_sorted)
        rank = np.arange(len(ranked)) - first
        fire = ranked[rank < surplus[emp_sorted]]
        employer[fire] = -1
        w.tenure[fire] = 0
        world.month_stats["layoffs"] += len(fire)

    hiring = short.nonzero()[0]
    if len(hiring):
        _hire(world, params, hiring, short, rng)
    set_wages(world, params)


def set_wages(world: World, params: Params) -> None:
    """Wages of everyone employed now (new hires included), from their employer and certificate."""
    p, w = params, world.workers
    employer = w.employer
    employed = w.alive & (employer >= 0)
    # wages() for every worker, the employer's capacity read with a last entry for "none"
    capacity = world.orgs.capacity
    cap = np.empty(len(capacity) + 1)
    cap[:-1] = capacity
    cap[-1] = 0.0
    cap = cap[np.where(employed, employer, np.intp(len(capacity)))]
    wage = w.wage
    np.multiply(cap, p.wage_capacity_premium, out=wage)
    wage += 1
    wage *= p.wage_base
    wage *= 1 + p.wage_certified_premium * w.certified
    wage[~employed] = 0.0


def _hire(
    world: World,
    params: Params,
    hiring: np.ndarray,
    short: np.ndarray,
    rng: np.random.Generator,
) -> None:
    p, w = params, world.workers
    pool = (w.alive & (w.employer < 0)).nonzero()[0]
    pool = pool[np.argsort(-w.skill[pool], kind="stable")]
    # wages() of an uncertified worker (a factor of exactly 1 left out): all hiring rows are
    # organizations, so no at_rows
    offer = p.wage_base * (1 + p.wage_capacity_premium * world.orgs.capacity[hiring])
    hiring = hiring[np.lexsort((rng.random(len(hiring)), -offer))]
    switchers = rng.poisson(p.switchers_per_month)
    # Employers in that order take the next workers of the pool until it runs dry, then career
    # switchers while this month's supply lasts: greedy in order. Switchers join as one block of
    # rows in employer order, their skills drawn in that order.
    from_pool, from_switchers = _shares(short[hiring].tolist(), len(pool), max(int(switchers), 0))
    n_pool, k = sum(from_pool), sum(from_switchers)
    got = pool[:n_pool]
    w.employer[got] = np.repeat(hiring, from_pool)
    w.tenure[got] = 0
    if k:
        world.add_workers(
            k,
            employer=np.repeat(hiring, from_switchers),
            skill=rng.uniform(p.switcher_skill_min, p.switcher_skill_max, k),
        )
        world.month_stats["switchers_hired"] += k
    world.month_stats["hires"] += n_pool + k


def _with_none(values: np.ndarray) -> np.ndarray:
    """``values`` with a last entry 0 (read by the row "none")."""
    out = np.empty(len(values) + 1)
    out[:-1] = values
    out[-1] = 0.0
    return out


# np.exp(-k / 12.0) for k = 0, 1, 2, ... months of tenure (one table, under the key 12.0)
_NEWCOMER: dict[float, np.ndarray] = {}


def _newcomer_weight(tenure: np.ndarray) -> np.ndarray:
    """``np.exp(-tenure / 12.0)`` for tenures in months (whole numbers), read from a table of
    the same computation (issue 12: the exponentials of about a thousand workers a month were a
    twentieth of the labour process); computed directly for a tenure outside the table."""
    if len(tenure) == 0:
        return np.exp(-tenure / 12.0)
    lo, hi = int(tenure.min()), int(tenure.max())
    if lo < 0:
        return np.exp(-tenure / 12.0)
    table = _NEWCOMER.get(12.0)
    if table is None or hi >= len(table):
        table = _NEWCOMER[12.0] = np.exp(-np.arange(max(2 * hi, 240), dtype=np.int32) / 12.0)
    return table[tenure]


def _shares(need: list[int], pool: int, switchers: int) -> tuple[list[int], list[int]]:
    """What each of a queue gets, in order, first of ``pool`` and then of ``switchers``: each
    takes up to its ``need`` from the pool while it lasts, and the rest of its need from the
    switchers while they last (in Python steps: the queue is a few dozen employers at most)."""
    from_pool, from_switchers = [], []
    for n in need:
        a = min(n, pool)
        pool -= a
        b = min(n - a, switchers)
        switchers -= b
        from_pool.append(a)
        from_switchers.append(b)
    return from_pool, from_switchers


def workers_month(world: World, policy: Policy, params: Params) -> None:
    """Skill, burnout, certification, wages, quits and new entrants."""
    p, w, o = params, world.workers, world.orgs
    rng = world.streams.labour
    n = len(w)
    alive = w.alive
    emp = w.employer
    employed = alive & (emp >= 0)
    # (the practice and gain of workers without an employer are not used: their skill decays)
    practice = w.hours / p.worker_hours_per_month
    # Supervision: the employer's capacity, thinned when new workers outnumber what its
    # experienced workers can supervise (a cost of growing fast).
    n_o = len(o)
    # Each worker's employer row, n_o ("none") without one: sums over all workers by it are the
    # sums over the employed, and reads of per-organization values with a last entry 0 give 0
    # without an employer, as at_rows does (issue 12).
    by_emp = np.where(employed, emp, np.intp(n_o))
    # Supervision by organization, then read by worker: the same sums and products as per
    # worker. (The last entry, "none", is read only by workers without an employer, whose gain
    # is not used.)
    staff = np.bincount(by_emp, None, n_o + 1)
    seasoned = np.bincount(by_emp, w.tenure >= p.new_worker_months, n_o + 1)
    span = p.supervision_span * seasoned
    span /= np.maximum(staff, 1)
    np.minimum(span, 1.0, out=span)
    span *= 0.5
    span += 0.5
    supervision = _with_none(o.capacity)
    supervision += p.supervision_base
    supervision *= span
    supervision = supervision[by_emp]
    skill = w.skill
    gain = p.skill_growth * (1 - skill) * practice * supervision
    grown = skill + np.where(employed, gain, -p.skill_decay * skill)
    np.maximum(grown, 0.0, out=grown)  # np.clip's values, without its wrapper's cost
    np.minimum(grown, 1.0, out=skill)
    # (last month's load: organizations founded since have none, and no workers yet; the
    # target by organization, then read by worker)
    burn_target = np.zeros(n_o + 1)
    burn_target[: len(world.org_load)] = world.org_load
    burn_target -= p.worker_burnout_onset
    burn_target /= p.worker_burnout_ramp
    np.maximum(burn_target, 0.0, out=burn_target)
    np.minimum(burn_target, 1.0, out=burn_target)
    burn_target = burn_target[by_emp]
    burnout = w.burnout
    burnout += p.worker_burnout_rate * (burn_target - burnout)
    tenure = w.tenure
    tenure += employed

    draws = rng.random((3, n))
    if world.month_index % 12 == JUNE:
        certified = w.certified
        sits = alive & ~certified & (draws[0] < p.certification_sit_rate)
        passes = draws[1] < p.certification_base + p.certification_skill_slope * skill
        certified |= sits & passes

    gap = (p.outside_wage - w.wage) / max(p.outside_wage, 1.0)
    np.maximum(gap, 0.0, out=gap)
    np.minimum(gap, 1.0, out=gap)
    quit_p = p.quit_base + p.quit_pay_sensitivity * gap + p.quit_burnout_sensitivity * burnout
    quit_p += p.quit_newcomer * _newcomer_weight(tenure)
    quits = employed & (draws[2] < quit_p)
    world.month_stats["quits"] += np.count_nonzero(quits)
    leave_draw = rng.random(n)
    leaves = quits & (leave_draw < p.leave_sector_share)
    to_pool = quits & ~leaves
    emp[to_pool] = -1
    tenure[to_pool] = 0
    # In the pool before this month's quits (who quit to it now does not also leave it):
    # alive and not employed at the start of the month.
    pool_exit = ~employed
    pool_exit &= alive
    pool_exit &= leave_draw < p.pool_exit_rate
    world.remove_workers((leaves | pool_exit).nonzero()[0])

    if world.month_index % 12 == JULY:
        k = rng.poisson(p.graduates_per_year)
        world.add_workers(k, skill=rng.uniform(p.graduate_skill_min, p.graduate_skill_max, k))
