"""Model v2, issue 10: entry control's cost lands on residents of the matching need type.

Unlisted service items for vulnerable residents have a need type (sim/needs.py); a withdrawn,
refused-and-given-up or expired one is need of exactly that type left unmet in the residents'
accounting (process 6), and a funded one is done by a contract holder. So whether strict entry
control helps or harms a household type is decided by what departments choose to do with the
service items it refuses, against what the freed staff hours then do for that type.

Claims as paired differences (strict entry control minus none, in the reform otherwise as it
happened) over 10 shared seeds, with 95% confidence intervals, on the residents' side
(``coverage_<type>``, the share of that type's need met), not on the item ledger:

- with overloaded communities, most unlisted types being services and departments that withdraw
  rather than fund, strict enforcement lowers coverage of the need types the service items are
  for, except the elderly, whom the freed staff hours reach best (SERVICE_FIT);
- the harm goes where the service items' need type is: with every service type turned into
  elderly services, the elderly, otherwise the least harmed, are harmed most;
- when departments fund service items instead, the same enforcement raises coverage of every type;
- the harm grows with the share of unlisted item types that are services.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy import stats

from sim import DistrictModel, load_scenario
from sim.needs import NEED_TYPES, need_index

from .conftest import SCENARIOS

SEEDS = range(10)
NONE = ("policy.entry_control=false",)
STRICT = (
    "policy.entry_control=true",
    "policy.entry_enforcement=1.0",
    "policy.list_review_strictness=1",
)
OVERLOADED = ("params.hours_per_item=15",)
WITHDRAWING = ("params.funding_cost=5", "params.service_item_priority=0.3")
FUNDING = ("params.funding_cost=0.5", "params.service_item_priority=3")
HARMED = ("children", "disabled", "low_income", "migrants")


def share(s: float) -> tuple[str, ...]:
    return (f"params.service_item_share={s}",)


@cache
def coverage(overrides: tuple[str, ...], seed: int, only: str = "") -> dict[str, float]:
    """Final-year coverage by need type of the reform with ``overrides`` (cached per test run:
    these tests read each run several times); ``only``: every service item type is of that need
    type (set on the world before the run)."""
    m = DistrictModel(load_scenario(SCENARIOS / "wuhou_reform.toml", list(overrides)), rng=seed)
    if only:
        types = m.world.item_types
        types.need = np.where(types.need >= 0, need_index(only), -1)
    m.run_for(m.spec.months)
    d = m.results()["district"]
    last = d[d["year"] == 2016]
    return {t: float(last[f"coverage_{t}"].mean()) for t in NEED_TYPES}


def effect(regime: tuple[str, ...], need: str, only: str = "") -> np.ndarray:
    """Per seed, coverage of ``need`` under strict entry control minus without it."""
    return np.array(
        [
            coverage(regime + STRICT, s, only)[need] - coverage(regime + NONE, s, only)[need]
            for s in SEEDS
        ]
    )


def ci(x: np.ndarray) -> tuple[float, float, float]:
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return x.mean(), x.mean() - half, x.mean() + half


HARM = OVERLOADED + share(0.9) + WITHDRAWING


def test_strict_entry_control_lowers_coverage_of_the_service_items_need_types():
    for need in HARMED:
        mean, lo, hi = ci(effect(HARM, need))
        assert hi < 0, (need, mean, lo, hi)
    # The elderly are not harmed: the staff hours entry control frees reach them best, so the
    # harm is the service items', not a general fall in service.
    elderly = effect(HARM, "elderly")
    for need in HARMED:
        mean, lo, hi = ci(effect(HARM, need) - elderly)
        assert hi < 0, (need, mean, lo, hi)


def test_the_harm_lands_on_the_need_type_of_the_service_items():
    # All service items for the elderly: entry control now harms them more than any other type
    # (with mixed types it harmed them least), so the harm follows the items' need type.
    for need in HARMED:
        mean, lo, hi = ci(effect(HARM, "elderly", "elderly") - effect(HARM, need, "elderly"))
        assert hi < 0, (need, mean, lo, hi)
    mean, lo, hi = ci(effect(HARM, "elderly", "elderly"))
    assert hi < 0, (mean, lo, hi)


def test_the_harm_reverses_when_departments_fund_service_items():
    for need in NEED_TYPES:
        mean, lo, hi = ci(effect(OVERLOADED + share(0.9) + FUNDING, need))
        assert lo > 0, (need, mean, lo, hi)


def test_the_harm_grows_with_the_share_of_service_items():
    fewer = OVERLOADED + share(0.3) + WITHDRAWING
    for need in HARMED:
        mean, lo, hi = ci(effect(HARM, need) - effect(fewer, need))
        assert hi < 0, (need, mean, lo, hi)
