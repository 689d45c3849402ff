"""Processes 2-3: administrative items flow down, and entry control filters them.

Departments and streets ("issuers") send items to communities as Poisson flows whose rates scale
with population. An item is listed (on the three lists, A8) or not; a listed item may be in the
purchase catalogue (A4). Under entry control (A9) an issuer complies with probability
``enforcement * compliance``: a complying issuer either re-sends the item with funding
attached (权随责走、费随事转, then it is admitted) or withdraws it; a non-complying issuer pushes it
anyway, and the community refuses it with probability ``enforcement * refusal_propensity``.
Refused and withdrawn items are done by no one: their resident-facing part is an unmet need.
Issuers learn to comply in proportion to how many of their unlisted items were refused.

Each item meets these chances independently, so by Poisson thinning every outcome (listed and in
the catalogue, funded, withdrawn, refused, accepted) is itself an independent Poisson flow. The
model draws them that way: per community, and per community and issuer only for refusals, which
issuers learn from. This is the same distribution as drawing items one by one, at a fraction of
the cost.
"""

from __future__ import annotations

import numpy as np

from sim.params import Params, Policy
from sim.world import World


def flow_items(world: World, policy: Policy, params: Params) -> None:
    """Draw this month's items and route them to community staff or contract holders."""
    p, pol, c, iss = params, policy, world.communities, world.issuers
    rates = world.item_rates  # communities x issuers, items per month
    u = iss.unlisted_share
    cat_share = world.catalogue_share[pol.catalogue_size]  # by category (A3)
    listed_rate = rates @ (1 - u)
    rng = world.streams.items
    catalogue_ck = rng.poisson(np.outer(listed_rate, cat_share))  # communities x categories
    catalogue = catalogue_ck.sum(axis=1)
    other_listed = rng.poisson(listed_rate * (1 - cat_share.sum()))

    entry = world.streams.entry
    if pol.entry_control:
        comply = pol.entry_enforcement * iss.compliance
        refuse = pol.entry_enforcement * p.refusal_propensity
        unlisted_rate = rates * u  # per community and issuer
        funded = entry.poisson(unlisted_rate @ (comply * iss.funding))
        withdrawn = entry.poisson(unlisted_rate @ (comply * (1 - iss.funding)))
        accepted = entry.poisson(unlisted_rate @ ((1 - comply) * (1 - refuse)))
        refused_ci = entry.poisson(unlisted_rate * ((1 - comply) * refuse))
        refused = refused_ci.sum(axis=1)
        sent_i = unlisted_rate.sum(axis=0)  # expected unlisted items per issuer
        rate = np.divide(refused_ci.sum(axis=0), sent_i, out=np.zeros(len(u)), where=sent_i > 0)
        iss.compliance = iss.compliance + p.compliance_learning * np.minimum(rate, 1) * (
            1 - iss.compliance
        )
    else:
        accepted = entry.poisson(rates @ u)
        funded = withdrawn = refused = np.zeros(len(c), np.int64)

    # Funded items fall in the categories evenly; catalogue and funded items of a category go to
    # the holder of that lot, if there is one.
    lots = world.lots
    k = cat_share.size
    # Only communities with funded items draw (a multinomial of 0 draws nothing from the stream,
    # so this is the same sequence as drawing for every community, without 87 calls, issue 12).
    funded_ck = np.zeros((len(funded), k), np.int64)
    some = np.flatnonzero(funded)
    if k and len(some):
        funded_ck[some] = world.streams.entry.multinomial(funded[some], np.full(k, 1 / k))
    held = (lots.holder >= 0).reshape(-1, k)
    to_org_ck = np.where(held, catalogue_ck + funded_ck, 0)
    to_staff = catalogue + other_listed + funded + accepted - to_org_ck.sum(axis=1)

    h = p.hours_per_item
    lots.item_hours = (to_org_ck * h).ravel()
    lots.funded_items = np.where(held, funded_ck, 0).ravel()
    c.items_issued = catalogue + other_listed + funded + withdrawn + accepted + refused
    c.items_received = catalogue + other_listed + funded + accepted + refused
    c.items_refused = refused
    c.items_withheld = withdrawn
    c.items_funded = funded
    c.items_unlisted_accepted = accepted
    c.staff_item_hours = to_staff * h
    c.org_item_hours = to_org_ck.sum(axis=1) * h
    c.undone_hours = (refused + withdrawn) * h
