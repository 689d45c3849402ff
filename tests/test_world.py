import dataclasses

import numpy as np
import pytest

from sim import DistrictModel, Params
from sim.agents import GrassrootsGroup
from sim.model import MONTH
from sim.needs import N_NEEDS, SOURCES
from sim.processes.community_work import allocate_staff_time
from sim.processes.delivery import coordination_share, deliver
from sim.world import AGENCY, BRAND, GRASSROOTS, RowChange, blank_world

from .conftest import finished_run


def test_blank_world_has_the_shape_asked_for():
    w = blank_world((0, 0, 1, 2), n_departments=3, item_categories=2, staff=[5, 6, 7, 8])
    assert len(w.communities) == 4 and len(w.streets) == 3 and len(w.issuers) == 6
    assert len(w.lots) == 8 and len(w.orgs) == 0 and len(w.workers) == 0
    assert w.communities.staff.tolist() == [5, 6, 7, 8]
    assert w.streets.population.tolist() == [2000, 1000, 1000]
    assert w.item_rates.shape == (4, 6) and w.month_index == 2013 * 12
    assert w.schedule.at(0).entry_control is False
    assert blank_world(policy={"entry_control": True}).schedule.at(5).entry_control is True


def test_blank_world_declares_need_by_type_so_every_process_runs_on_it():
    # Regression: blank_world had no need arrays (shape (0, 5)), so serving residents crashed,
    # and a world without organizations crashed delivery and the labour market.
    w = blank_world((0, 0, 1), policy={"entry_control": True})
    assert w.base_need.shape == (3, N_NEEDS) and (w.base_need > 0).all()
    assert w.service_fit.shape == (len(SOURCES), N_NEEDS)
    for name in ("need_backlog", "need_staff_new", "need_undone", "need_unmet"):
        assert getattr(w, name).shape == (3, N_NEEDS)
    w.item_rates[:] = 5.0
    w.issuers.unlisted_share = 0.5
    w.add_workers(3, skill=0.5)  # a pool, but no organization
    params = Params()
    for t in range(3):
        w.t = t
        for process in MONTH:
            process(w, w.schedule.at(t), params)
    c = w.communities
    assert len(w.orgs) == 0 and (c.need_hours > 0).all()
    items = params.resident_facing_share * c.items_issued * params.hours_per_item
    assert np.allclose(c.need_hours, w.base_need.sum(axis=1) + items)
    assert (c.served_hours > 0).all() and (w.workers.wage == 0).all()
    # Need can be given: one row for all, or one per community; a wrong shape is refused.
    one = blank_world((0, 1), need=[1.0, 2.0, 0, 0, 0])
    assert one.base_need.tolist() == [[1.0, 2.0, 0, 0, 0]] * 2
    with pytest.raises(ValueError, match=r"base_need must have .* shape \(2, 5\)"):
        dataclasses.replace(one, base_need=np.zeros((0, N_NEEDS)))
    # A world with no communities at all runs too.
    empty = blank_world(())
    for process in MONTH:
        process(empty, empty.schedule.at(0), params)


def test_item_pairs_are_the_nonzero_rates_found_once_when_the_rates_are_fixed():
    # A hand-built world's rates may be edited, so its pairs follow each edit ...
    w = blank_world((0, 0, 1), n_departments=2)
    assert [len(a) for a in w.item_pairs()] == [0, 0]
    w.item_rates[:, 0] = 1.0
    w.item_rates[2, 3] = 0.5
    rows, cols = w.item_pairs()
    assert rows.tolist() == [0, 1, 2, 2] and cols.tolist() == [0, 0, 0, 3]
    # ... while a run's rates are read-only, and their pairs are found once and kept.
    m = DistrictModel(rng=1)
    rates = m.world.item_rates
    assert not rates.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        rates[0, 0] = 1.0
    rows, cols = m.world.item_pairs()
    assert m.world.item_pairs()[0] is rows
    assert (rates[rows, cols] > 0).all() and len(rows) == np.count_nonzero(rates)
    # A different matrix in its place is searched afresh.
    m.world.item_rates = np.eye(*rates.shape)
    assert m.world.item_pairs()[0].tolist() == list(range(min(rates.shape)))


def test_rates_product_is_the_product_kept_per_operand_while_the_rates_are_fixed():
    m = DistrictModel(rng=1)
    w = m.world
    rates = w.item_rates
    x = np.linspace(0.1, 0.9, rates.shape[1])
    first = w.rates_product(x)
    assert np.array_equal(first, rates @ x) and not first.flags.writeable
    assert w.rates_product(x.copy()) is first  # the same operand's product is kept
    other = w.rates_product(x * 2)
    assert other is not first and np.array_equal(other, rates @ (x * 2))
    many = np.outer(x, np.arange(1.0, 4.0))  # issuers x columns, as for need types
    assert np.array_equal(w.rates_product(many), rates @ many)
    assert w.rates_product(many.astype(np.float32)) is not w.rates_product(many)
    # Operands of past reviews are dropped once there are many; products stay right.
    for k in range(40):
        assert np.array_equal(w.rates_product(x + k), rates @ (x + k))
    assert len(w._products[1]) <= 16
    # A writeable matrix (a hand-built world a test edits) is multiplied on every call.
    b = blank_world((0, 0, 1), n_departments=1)
    ones = np.ones(b.item_rates.shape[1])
    assert b.rates_product(ones).tolist() == [0.0, 0.0, 0.0]
    b.item_rates[:, 0] = 2.0
    assert b.rates_product(ones).tolist() == [2.0, 2.0, 2.0]


def test_rows_come_and_go_through_the_world_with_their_changes_recorded():
    w = blank_world((0, 1))
    a = w.add_orgs(AGENCY, 2, street=[0, 1], capacity=0.5, registered=True)
    g = w.add_orgs(GRASSROOTS, 1, street=0, community=0, members=10)
    staff = w.add_workers(3, employer=[0, 0, 1], skill=0.5)
    w.lots.holder[[0, 2]] = [0, 1]
    w.remove_orgs(np.array([0]))
    # The folded agency's workers go to the pool and its lot loses its holder; others stay.
    assert not w.orgs.alive[0] and w.orgs.alive[1:].all() and w.orgs.exit_step[0] == w.t
    assert w.workers.employer.tolist() == [-1, -1, 1]
    assert w.lots.holder[[0, 2]].tolist() == [-1, 1]
    w.remove_workers(np.array([2]))
    changes = w.take_changes()
    assert [(c.table, c.added, c.rows.tolist()) for c in changes] == [
        ("orgs", True, a.tolist()),
        ("orgs", True, g.tolist()),
        ("workers", True, staff.tolist()),
        ("orgs", False, [0]),
        ("workers", False, [2]),
    ]
    assert w.take_changes() == [] and isinstance(changes[0], RowChange)


def test_delivery_is_capped_by_the_holders_workers():
    # A hand-built world: one agency with two workers holds one lot; the work handed to it
    # grows past what two workers can do (2 x worker_hours_per_month), and delivery stops there.
    params = Params()
    per_worker = params.worker_hours_per_month
    delivered = []
    for item_hours in (100.0, 250.0, 400.0, 800.0):
        w = blank_world((0,), item_categories=1)
        w.add_orgs(AGENCY, 1, street=0, capacity=0.6, registered=True)
        w.add_workers(2, employer=0, skill=0.5)
        w.lots.holder[0] = 0
        w.lots.hours[0] = item_hours
        w.lots.item_hours[0] = item_hours
        w.communities.org_item_hours = item_hours
        deliver(w, w.schedule.at(w.t), params)
        delivered.append(w.communities.org_item_delivered[0])
        # What the holder cannot staff goes back to the community's staff.
        assert w.communities.staff_item_hours[0] == pytest.approx(item_hours - delivered[-1])
    assert delivered[:2] == pytest.approx([100.0, 250.0])
    # Model v2: two workers lose a coordination share of their hours.
    productive = 1 - coordination_share(np.array([2.0]), params)[0]
    assert 0 < productive < 1
    assert delivered[2:] == pytest.approx([2 * per_worker * productive] * 2)


def test_more_items_on_staff_raise_the_admin_burden():
    params = Params()
    w = blank_world((0, 0, 0), staff=10.0)
    w.communities.staff_item_hours = [0.0, 200.0, 600.0]
    allocate_staff_time(w, w.schedule.at(w.t), params)
    burden = w.communities.admin_burden
    assert burden[0] < burden[1] < burden[2]
    assert (w.communities.hours_used <= w.communities.hours_available + 1e-9).all()


def test_mesa_agents_follow_the_world_rows():
    m = finished_run("wuhou_reform", 1)
    w = m.world
    assert m.orgs is w.orgs and m.t == w.t == m.spec.months - 1
    alive_orgs = {a.row for a in m.org_agents if a.model is m and a in m.agents}
    assert alive_orgs == set(np.flatnonzero(w.orgs.alive).tolist())
    assert len(m.org_agents) == len(w.orgs) and len(m.worker_agents) == len(w.workers)
    brands = [a for a in m.agents if type(a).__name__ == "BrandAgency"]
    assert len(brands) == int((w.orgs.alive & (w.orgs.kind == BRAND)).sum()) > 0
    assert w.changes == []  # every change was synced


def test_a_fresh_model_has_synced_its_initial_agents():
    m = DistrictModel(rng=5)
    assert len(m.org_agents) == len(m.world.orgs) > 0
    assert m.world.changes == []


def test_mesa_agents_are_made_when_looked_at_with_the_ids_of_month_by_month():
    lazy, eager = DistrictModel(rng=5), DistrictModel(rng=5)
    assert len(lazy._org_agents) == 0 and lazy.world.changes  # nothing made yet
    n_eager, before = [], eager.agent_steps
    for _ in range(4):
        lazy.step()
        eager.step()
        n_eager.append(len(eager.agents))  # looks every month (as SolaraViz does)
    assert eager.agent_steps - before == sum(n_eager)  # counted from the tables, as Mesa counts
    ids = {(type(a).__name__, a.row): a.unique_id for a in lazy.agents}
    assert len(ids) == len(lazy.agents) == n_eager[-1]
    assert ids == {(type(a).__name__, a.row): a.unique_id for a in eager.agents}
    alive = lazy.world.orgs.alive
    assert {a.row for a in lazy.agents_by_type[GrassrootsGroup]} == set(
        np.flatnonzero(alive & (lazy.world.orgs.kind == GRASSROOTS)).tolist()
    )
