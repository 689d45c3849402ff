"""Process 1: apply this month's policy: open centres and bring in brand agencies.

Levers that change rules (entry control, thresholds, procurement) are read where they act; this
process turns the levers that are resources into facilities and agents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.agents import BRAND
from sim.population import add_orgs, add_workers

if TYPE_CHECKING:
    from sim.model import DistrictModel


def apply_policy(model: DistrictModel) -> None:
    pol, p = model.policy, model.params
    streets = model.streets
    # Service centres go round-robin over the most populous streets (A11: 9 centres, 8 streets).
    ranked = np.argsort(-streets.population, kind="stable")[: pol.service_centre_streets]
    centres = np.zeros(len(streets), np.int32)
    np.add.at(centres, ranked[np.arange(pol.service_centres) % len(ranked)], 1)
    streets.service_centres = centres

    arriving = pol.brand_agencies - model.brand_invited
    if arriving <= 0:
        return
    rng = model.streams["orgs"]
    model.brand_invited += arriving
    share = streets.population / streets.population.sum()
    rows = add_orgs(
        model,
        BRAND,
        arriving,
        street=rng.choice(len(streets), arriving, p=share),
        capacity=np.clip(rng.normal(p.brand_capacity, 0.05, arriving), 0, 1),
        reputation=0.7,
        reserves=p.brand_reserves,
        registered=True,
        approved=True,
        registered_step=model.t,
    )
    k = p.brand_imported_workers
    n = arriving * k
    add_workers(
        model,
        n,
        employer=np.repeat(rows, k),
        skill=rng.uniform(0.6, 0.8, n),
        certified=True,
    )
