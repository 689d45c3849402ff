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

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import numpy as np

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


# --- how needs are built from households and street covariates -----------------------------

COVARIATES: Final[tuple[str, ...]] = (
    "elderly_share",
    "children_share",
    "disabled_share",
    "low_income_share",
    "migrant_share",
)
"""Optional district-CSV columns, one per need type in ``NEED_TYPES`` order: the share of residents
aged 60+, aged 0-14, with a disability, the share of households on or near minimum-living support,
and the share of residents without local registration (floating population)."""

PERSON_LEVEL: Final[tuple[bool, ...]] = (True, True, True, False, False)
"""Whether a covariate is a share of persons (a household has the need if any member has it) or
already a share of households (low income and migrant status are household attributes)."""

DEFAULT_SHARES: Final[tuple[float, ...]] = (0.17, 0.11, 0.06, 0.03, 0.40)
"""Covariates used for a CSV district that does not give them (the same in every community):
the Wuhou averages of the synthetic district (see ``sim/district.py``), an assumption."""


def households_with_need(
    shares: np.ndarray, households: np.ndarray, residents: np.ndarray
) -> np.ndarray:
    """Households with each need: communities x ``N_NEEDS``.

    For a person-level share ``s`` in a community of mean household size ``n``, the share of
    households with at least one such member is ``1 - (1 - s) ** n`` (members independent), so the
    same elderly share means more households to visit where households are small (old estates
    with elderly people living alone) than where they are large. Household-level shares apply
    directly.
    """
    import numpy as np  # here: importing the need types must not import numpy

    shares = np.asarray(shares, float)
    hh = np.asarray(households, float)
    size = np.divide(np.asarray(residents, float), hh, out=np.ones_like(hh), where=hh > 0)[:, None]
    person = np.array(PERSON_LEVEL)[None, :]
    share_hh = np.where(person, 1.0 - (1.0 - np.clip(shares, 0, 1)) ** size, shares)
    return share_hh * hh[:, None]


def need_hours(
    covariates: np.ndarray,
    households: np.ndarray,
    residents: np.ndarray,
    need_index: np.ndarray,
    weights: np.ndarray,
    hours_per_resident: float,
) -> np.ndarray:
    """Residents' need for services, hours a month, communities x ``N_NEEDS``: households with
    each need (:func:`households_with_need`) times the need's weight (resident-equivalents per
    household), ``hours_per_resident`` and the community's need index."""
    import numpy as np

    needy = households_with_need(covariates, households, residents)
    scale = np.asarray(need_index, float)[:, None] * hours_per_resident
    return needy * np.asarray(weights, float)[None, :] * scale


# --- which services fit which needs ----------------------------------------------------------

SOURCES: Final[tuple[str, ...]] = ("staff", "groups", "agencies", "brand")
"""Who serves residents' needs: community staff, grassroots groups (volunteers and their funded
micro-projects), local social-work agencies and imported brand agencies (their projects)."""

SERVICE_FIT: Final[dict[str, tuple[float, ...]]] = {
    # Committee staff know registered residents and handle allowances; they reach migrants and
    # disabled residents less well.
    "staff": (1.0, 0.6, 0.7, 1.0, 0.5),
    # Volunteer groups: mutual aid among older residents, children's activities; little
    # professional care; formed by registered residents, so migrants are reached least.
    "groups": (1.0, 0.8, 0.4, 0.4, 0.3),
    # Local professional agencies: casework for every group, with local knowledge.
    "agencies": (0.8, 0.9, 0.9, 0.9, 0.8),
    # Imported brand agencies: standardised professional programmes (family, children,
    # rehabilitation) with little local knowledge.
    "brand": (0.6, 1.0, 1.0, 0.7, 0.6),
}
"""Fit of each source's services to each need type (``NEED_TYPES`` order), 0-1: the share of an
hour spent on that need that meets it. An assumption (no data by service type; see docs/ODD.md);
``Params.service_fit_spread`` scales the differences (0: every service fits every need)."""


def fit_matrix(spread: float) -> np.ndarray:
    """Fit, sources x need types, with the profile's differences scaled by ``spread``."""
    import numpy as np

    profile = np.array([SERVICE_FIT[s] for s in SOURCES])
    return 1.0 - spread * (1.0 - profile)


def serve(
    need: np.ndarray,
    hours: np.ndarray,
    quality_hours: np.ndarray,
    fit: np.ndarray,
    spread: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Need met, and need met weighted by quality, by community and need type.

    Args:
        need: hours needed, communities x need types.
        hours: hours delivered, communities x sources.
        quality_hours: hours x quality, communities x sources.
        fit: sources x need types (:func:`fit_matrix`).
        spread: ``serve_spread(need, fit)``, if kept by the caller (need and fit seldom change).

    Each source spreads its hours over the need types in proportion to need x fit (providers do
    what they are good at, where it is needed); an hour on type k meets ``fit`` of an hour of
    that need. Need met is capped at need; oversupply of one type does not meet another, and the
    quality of capped hours is scaled down pro rata.
    """
    import numpy as np

    # Source s puts hours_cs · need_ck · fit_sk / total_cs on type k (total_cs = Σ_k need_ck ·
    # fit_sk), and an hour there meets fit_sk of an hour of need: two matrix products.
    total, fit2 = serve_spread(need, fit) if spread is None else spread
    # Where every divisor is positive (the usual case, checked in one call), a plain division
    # gives the same numbers as the guarded one without its extra arrays.
    if total.size and total.min() > 0:
        per, qper = hours / total, quality_hours / total
    else:
        per = np.divide(hours, total, out=np.zeros(hours.shape), where=total > 0)
        qper = np.divide(quality_hours, total, out=np.zeros(hours.shape), where=total > 0)
    eff = need * (per @ fit2)
    qeff = need * (qper @ fit2)
    met = np.minimum(eff, need)
    if eff.size and eff.min() > 0:
        qeff *= met / eff
    else:
        qeff *= np.divide(met, eff, out=np.zeros(eff.shape), where=eff > 0)
    return met, qeff


def serve_spread(need: np.ndarray, fit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What :func:`serve` computes from need and fit alone: ``need @ fit.T`` (communities x
    sources: need weighted by each source's fit) and ``fit * fit``."""
    return need @ fit.T, fit * fit
