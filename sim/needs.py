"""Residents' need types: the one place that names them.

Model v2 measures residents' services against need, and need has a type. A household can carry
several needs at once (an elderly migrant on a low income counts under all three). The types are:

``elderly``
    Residents aged 60 and over: home visits, day care, health checks, old-age allowance
    paperwork. Grows with a street's ageing (FACTS B14, B16).
``children``
    Children aged 0-14 and their families: after-school care, child protection, family services.
``disabled``
    Residents with a disability: rehabilitation, assistance allowances, accessibility checks.
``low_income``
    Households on minimum-living support (低保) or near it: means tests, allowances, job help.
``migrants``
    Floating population without local registration: registration, schooling for children, social
    integration. Far more common in the fringe streets (FACTS B14, B15).

Anything that is indexed by need type (arrays of shape ``(..., N_NEEDS)``, per-type outputs such as
unmet need by household type, undone vulnerable-service item hours by type) uses this order.
"""

from __future__ import annotations

from typing import Final

NEED_TYPES: Final[tuple[str, ...]] = ("elderly", "children", "disabled", "low_income", "migrants")
"""Need types, in the order every need-indexed array uses."""

N_NEEDS: Final[int] = len(NEED_TYPES)
"""Number of need types."""

NEED_INDEX: Final[dict[str, int]] = {name: i for i, name in enumerate(NEED_TYPES)}
"""Position of each need type in need-indexed arrays."""


def need_index(name: str) -> int:
    """Position of need type ``name``; ``KeyError`` naming the allowed types if unknown."""
    try:
        return NEED_INDEX[name]
    except KeyError:
        raise KeyError(f"unknown need type {name!r}; allowed: {', '.join(NEED_TYPES)}") from None
