"""Process 1: apply this month's policy: open centres and bring in brand agencies.

Levers that change rules (entry control, thresholds, procurement) are read where they act; this
process turns the levers that are resources into facilities and agents.
"""

from __future__ import annotations

import weakref

import numpy as np

from sim.params import Params, Policy
from sim.world import BRAND, World


def apply_policy(world: World, policy: Policy, params: Params) -> None:
    pol, p = policy, params
    streets = world.streets
    streets.service_centres[...] = service_centres(world, pol)

    arriving = pol.brand_agencies - world.brand_invited
    if arriving <= 0:
        return
    rng = world.streams.orgs
    world.brand_invited += arriving
    share = streets.population / streets.population.sum()
    rows = world.add_orgs(
        BRAND,
        arriving,
        street=rng.choice(len(streets), arriving, p=share),
        capacity=np.clip(rng.normal(p.brand_capacity, p.brand_capacity_sd, arriving), 0, 1),
        reputation=p.brand_reputation,
        reserves=p.brand_reserves,
        registered=True,
        approved=True,
        registered_step=world.t,
    )
    k = p.brand_imported_workers
    n = arriving * k
    world.add_workers(
        n,
        employer=np.repeat(rows, k),
        skill=rng.uniform(p.brand_worker_skill_min, p.brand_worker_skill_max, n),
        certified=True,
    )


def service_centres(world: World, policy: Policy) -> np.ndarray:
    """Service centres per street: round-robin over the most populous streets (A11: 9 centres,
    8 streets).

    The streets' populations do not move in a run and the levers seldom do, so the result is kept
    per world with what it was computed from (the populations' bytes and the two levers) and
    recomputed when any of them differs (read-only; issue 12: five numpy calls a month).
    """
    pop = world.streets.population
    key = (pop.tobytes(), policy.service_centres, policy.service_centre_streets)
    kept = _CENTRES.get(world)
    if kept is not None and kept[0] == key:
        return kept[1]
    ranked = np.argsort(-pop, kind="stable")[: policy.service_centre_streets]
    at = ranked[np.arange(policy.service_centres) % max(len(ranked), 1)]
    centres = np.bincount(at, minlength=len(pop))
    centres.flags.writeable = False
    _CENTRES[world] = (key, centres)
    return centres


_CENTRES: weakref.WeakKeyDictionary[World, tuple[tuple[object, ...], np.ndarray]] = (
    weakref.WeakKeyDictionary()
)
