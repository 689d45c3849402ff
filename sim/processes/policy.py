"""Process 1: apply this month's policy: open centres and bring in brand agencies.

Levers that change rules (entry control, thresholds, procurement) are read where they act; this
process turns the levers that are resources into facilities and agents.
"""

from __future__ import annotations

import numpy as np

from sim.params import Params, Policy
from sim.world import BRAND, World


def apply_policy(world: World, policy: Policy, params: Params) -> None:
    pol, p = policy, params
    streets = world.streets
    # Service centres go round-robin over the most populous streets (A11: 9 centres, 8 streets).
    ranked = np.argsort(-streets.population, kind="stable")[: pol.service_centre_streets]
    at = ranked[np.arange(pol.service_centres) % max(len(ranked), 1)]
    streets.service_centres[...] = np.bincount(at, minlength=len(streets))

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
