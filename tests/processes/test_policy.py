import copy

import numpy as np
import pytest
from scipy import stats

from sim.params import Params
from sim.processes.policy import apply_policy, service_centres
from sim.world import BRAND, blank_world

P = Params()


def district(policy):
    # Four streets of 1, 3, 2 and 4 communities: by population 3 > 1 > 2 > 0.
    return blank_world((0, 1, 1, 1, 2, 2, 3, 3, 3, 3), policy=policy)


def test_service_centres_go_round_robin_over_the_most_populous_streets():
    w = district({"service_centres": 5, "service_centre_streets": 3})
    apply_policy(w, w.schedule.at(w.t), P)
    assert w.streets.service_centres.tolist() == [0, 2, 1, 2]
    w = district({"service_centres": 2, "service_centre_streets": 4})
    apply_policy(w, w.schedule.at(w.t), P)
    assert w.streets.service_centres.tolist() == [0, 1, 0, 1]


def test_kept_service_centres_follow_the_populations_and_levers():
    # The centres are kept per world with the populations and levers they were computed for: a
    # world whose populations or levers changed gets what a fresh copy of it computes.
    w = district({"service_centres": 5, "service_centre_streets": 3})
    pol = w.schedule.at(w.t)
    apply_policy(w, pol, P)
    assert w.streets.service_centres.tolist() == [0, 2, 1, 2]
    w.streets.population[...] = w.streets.population[::-1].copy()  # in place: 0 > 2 > 1 > 3
    fresh = copy.deepcopy(w)
    apply_policy(w, pol, P)
    apply_policy(fresh, pol, P)
    assert w.streets.service_centres.tolist() == fresh.streets.service_centres.tolist()
    assert w.streets.service_centres.tolist() == [2, 1, 2, 0]
    for update in ({"service_centres": 2}, {"service_centre_streets": 1}):
        other = pol.model_copy(update=update)
        fresh = copy.deepcopy(w)
        apply_policy(w, other, P)
        apply_policy(fresh, other, P)
        assert w.streets.service_centres.tolist() == fresh.streets.service_centres.tolist()
    assert w.streets.service_centres.tolist() == [5, 0, 0, 0]
    # What is kept is read-only: a caller cannot change it for the months to come.
    kept = service_centres(w, other)
    with pytest.raises(ValueError):
        kept[0] = 1


def test_brand_agencies_arrive_once_with_their_imported_workers():
    w = district({"brand_agencies": 3})
    for _ in range(3):  # the lever holds; agencies already invited do not come again
        apply_policy(w, w.schedule.at(w.t), P)
    o, workers = w.orgs, w.workers
    assert len(o) == 3 and (o.kind == BRAND).all() and o.registered.all() and o.approved.all()
    assert w.brand_invited == 3
    assert (o.reserves == P.brand_reserves).all() and (o.reputation == pytest.approx(0.7))
    assert np.abs(o.capacity - P.brand_capacity).max() < 0.3
    k = P.brand_imported_workers
    assert len(workers) == 3 * k and workers.certified.all()
    assert np.bincount(workers.employer, minlength=3).tolist() == [k, k, k]
    assert ((workers.skill >= 0.6) & (workers.skill <= 0.8)).all()


def test_brand_agencies_settle_in_streets_in_proportion_to_population():
    # One street with three quarters of the residents; 60 agencies, 20 times over.
    in_big = 0
    for seed in range(20):
        w = blank_world((0, 1, 1, 1), policy={"brand_agencies": 60}, seed=seed)
        apply_policy(w, w.schedule.at(w.t), Params(brand_imported_workers=0))
        in_big += int((w.orgs.street == 1).sum())
    lo, hi = stats.binom.ppf([5e-7, 1 - 5e-7], 1200, 0.75)
    assert lo <= in_big <= hi


def test_with_one_service_centre_street_every_centre_is_in_the_most_populous_street():
    w = district({"service_centres": 3, "service_centre_streets": 1})
    apply_policy(w, w.schedule.at(w.t), P)
    assert w.streets.service_centres.tolist() == [0, 0, 0, 3]


def test_streets_of_equal_population_take_centres_in_street_order():
    # Streets 2 and 3 have the same (largest) population: the centres go to the first of them, as
    # a stable ranking puts it (an unstable sort may put street 3 first).
    w = blank_world((0, 1, 2, 2, 3, 3), policy={"service_centres": 2, "service_centre_streets": 1})
    apply_policy(w, w.schedule.at(w.t), P)
    assert w.streets.service_centres.tolist() == [0, 0, 2, 0]
    w = blank_world((0, 1, 2, 2, 3, 3), policy={"service_centres": 3, "service_centre_streets": 2})
    apply_policy(w, w.schedule.at(w.t), P)
    assert w.streets.service_centres.tolist() == [0, 0, 2, 1]


def test_brand_agencies_arrive_as_the_lever_rises_one_at_a_time_or_more():
    # The lever at 1, then 3, then 3 again, then 4: one agency arrives, then two, then none, then
    # one; each with its imported workers, and the count invited is the lever's value.
    w = district({})
    pol = w.schedule.at(w.t)
    k = P.brand_imported_workers
    for lever, total in ((1, 1), (3, 3), (3, 3), (4, 4)):
        apply_policy(w, pol.model_copy(update={"brand_agencies": lever}), P)
        assert len(w.orgs) == total == w.brand_invited
        assert (w.orgs.kind == BRAND).all() and len(w.workers) == total * k
        assert np.bincount(w.workers.employer, minlength=total).tolist() == [k] * total


def test_each_brand_agency_draws_its_street_and_its_capacity_clipped_to_the_unit_interval():
    # 60 agencies at once, in ten districts of two streets of equal population: in each, the
    # count in the second street is binomial with chance 1/2 (each agency draws its street).
    # Capacity is a normal draw of mean 1 and sd 0.5 clipped to [0, 1]: of the 600, half are
    # exactly 1 and a share Phi(-2) exactly 0 (binomial counts).
    lo, hi = stats.binom.ppf([5e-7, 1 - 5e-7], 60, 0.5)
    p = Params(brand_imported_workers=0, brand_capacity=1.0, brand_capacity_sd=0.5)
    capacity = []
    for seed in range(10):
        w = blank_world((0, 1), policy={"brand_agencies": 60}, seed=seed)
        apply_policy(w, w.schedule.at(w.t), p)
        assert len(w.orgs) == 60 and lo <= (w.orgs.street == 1).sum() <= hi
        capacity.extend(w.orgs.capacity.tolist())
    capacity = np.array(capacity)
    assert ((capacity >= 0) & (capacity <= 1)).all()
    for count, share in (((capacity == 1).sum(), 0.5), ((capacity == 0).sum(), stats.norm.cdf(-2))):
        lo, hi = stats.binom.ppf([5e-7, 1 - 5e-7], 600, share)
        assert lo <= count <= hi, (share, count)
