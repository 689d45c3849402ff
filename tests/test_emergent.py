"""Emergent effects across seeds, with scenarios sharing seeds (common random numbers).

These are the model's claims, so they are tested as paired differences with 95% confidence
intervals over 10 seeds, not on one lucky run. Nothing in a scenario writes an outcome: the
effects come from items, contracts, organizations and workers.

The runs of one scenario are shared by the tests of this module through the ``final_years``
fixture (module scope); nothing is cached beyond it. These tests are slow (about a minute) and are
not among the fast tests used for mutation testing (docs/testing.md).
"""

from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats

from .conftest import finished_run

SEEDS = range(10)

FinalYears = Callable[..., dict[str, float]]


@pytest.fixture(scope="module")
def final_years() -> FinalYears:
    """``final_years(scenario, seed, overrides)``: the final-year summary, each run made once for
    this module."""
    made: dict[tuple, dict[str, float]] = {}

    def get(scenario: str, seed: int, overrides: tuple[str, ...] = ()) -> dict[str, float]:
        key = (scenario, seed, overrides)
        if key not in made:
            made[key] = final_year(scenario, seed, overrides)
        return made[key]

    return get


def final_year(scenario: str, seed: int, overrides: tuple[str, ...] = ()) -> dict[str, float]:
    m = finished_run(scenario, seed, overrides)
    d = m.results()["district"]
    last = d[d["year"] == 2016]
    out = (
        last[["admin_burden", "service_quality", "service_coverage", "satisfaction"]]
        .mean()
        .to_dict()
    )
    out["registered_exits"] = float(d["org_exits_registered"].sum())
    out["n_orgs"] = float(last["n_orgs"].iloc[-1])
    books = m.budget_books().set_index("year")
    out["unspent_share"] = float(
        books["purchase_unspent"].sum() / max(books["purchase_appropriated"].sum(), 1)
    )
    out["mean_capacity_professional"] = float(last["mean_capacity_professional"].mean())
    out["local_money_share"] = float(last["local_money_share"].mean())
    return out


def paired(
    runs: FinalYears, a: str, b: str, key: str, a_over=(), b_over=(), seeds=SEEDS
) -> tuple[float, float, float]:
    """Mean of (b - a) over the seeds and its 95% confidence interval."""
    diff = np.array([runs(b, s, b_over)[key] - runs(a, s, a_over)[key] for s in seeds])
    half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff))
    return diff.mean(), diff.mean() - half, diff.mean() + half


def test_reform_lowers_admin_burden_by_end_2016(final_years):
    mean, lo, hi = paired(final_years, "baseline_2013", "wuhou_reform", "admin_burden")
    assert hi < -0.2, (mean, lo, hi)


def test_reform_raises_service_quality_by_end_2016(final_years):
    mean, lo, hi = paired(final_years, "baseline_2013", "wuhou_reform", "service_quality")
    assert lo > 0.0, (mean, lo, hi)


def test_reform_raises_coverage_and_satisfaction(final_years):
    for key in ("service_coverage", "satisfaction"):
        mean, lo, hi = paired(final_years, "baseline_2013", "wuhou_reform", key)
        assert lo > 0.0, (key, mean, lo, hi)


LOOSE = ("policy.registration_members=1", "policy.registration_capital=0")


def test_a_threshold_too_low_fills_the_register_with_groups_that_fold(final_years):
    # Principle 2: groups that register without members or money cannot carry the cost of being
    # registered; they fold, and the volunteer activity they carried goes with them.
    mean, lo, _ = paired(
        final_years, "wuhou_reform", "wuhou_reform", "registered_exits", b_over=LOOSE
    )
    assert lo > 50, mean
    mean, _, hi = paired(
        final_years, "wuhou_reform", "wuhou_reform", "service_coverage", b_over=LOOSE
    )
    # Model v2: funded items without a lot holder now go to the street's best agency in both
    # arms, so established agencies also grow through that work; the dilution by weak new
    # agencies remains on average (v2: -0.018 [-0.038, +0.002] over these 10 seeds) but is no
    # longer significant at 95%. Required: lower on average, and not clearly higher.
    assert mean < 0 and hi < 0.01, (mean, hi)


def test_a_budget_beyond_capacity_is_left_unspent_and_breeds_weaker_agencies(final_years):
    double = ("policy.purchase_budget=75000000",)
    mean, lo, _ = paired(
        final_years, "wuhou_reform", "wuhou_reform", "unspent_share", b_over=double
    )
    assert lo > 0.2, mean
    # Weaker agencies: the unabsorbed money founds new local agencies of low capacity (0.2-0.45),
    # which lower the mean capacity of professional organizations. Measured on 30 paired seeds
    # (0-29, after items_refunded): -0.035 [-0.051, -0.020]; seeds 0-19 -0.045 [-0.066, -0.024],
    # 10-29 -0.028 [-0.046, -0.011]; 10 seeds alone can miss it (20-29: -0.015 [-0.033, +0.004];
    # seed-to-seed SD 0.04), so the direction is tested on 20 seeds.
    mean, _, hi = paired(
        final_years,
        "wuhou_reform",
        "wuhou_reform",
        "mean_capacity_professional",
        b_over=double,
        seeds=range(20),
    )
    assert hi < 0, mean
    # Mechanism: it is the founding. With no agencies founded, the same money makes the existing
    # agencies grow and the double budget raises mean capacity (+0.089 [0.076, 0.102] over 30
    # seeds); the difference of the two effects is -0.124 [-0.145, -0.103] (30 seeds), -0.138
    # [-0.173, -0.103] on seeds 0-9. Noise alone would not bring its upper bound above -0.04; a
    # founding that no longer follows the unabsorbed money would. (New agencies founded as
    # capable as the rest, 0.6-0.8, turn the double budget's effect to +0.015 [0.003, 0.028].)
    none = ("params.agency_entry_rate=0",)
    diff = [
        final_years("wuhou_reform", s, double)["mean_capacity_professional"]
        - final_years("wuhou_reform", s)["mean_capacity_professional"]
        - final_years("wuhou_reform", s, (*none, *double))["mean_capacity_professional"]
        + final_years("wuhou_reform", s, none)["mean_capacity_professional"]
        for s in SEEDS
    ]
    half = stats.t.ppf(0.975, len(diff) - 1) * np.std(diff, ddof=1) / np.sqrt(len(diff))
    assert np.mean(diff) + half < -0.04, (np.mean(diff), half)


def test_tenders_crowd_local_organizations_out_of_the_money_when_growing_is_free(final_years):
    # Model v2: whether tenders crowd locals out is a result. With v1's market (no price
    # competition, no cost of growing) they do, by far; tests/test_emergent_v2.py shows how v2's
    # costs of growing and cost-based bids shrink that gap, and how the levers move it.
    v1_market = (
        "params.tender_weight_price=0",
        "params.coordination_cost=0",
        "params.growth_quality_dilution=0",
    )
    commission = (*v1_market, "policy.procurement_mode=commission")
    mean, lo, _ = paired(
        final_years,
        "wuhou_reform",
        "wuhou_reform",
        "local_money_share",
        a_over=v1_market,
        b_over=commission,
    )
    assert lo > 0.3, mean


# Each lever, switched off in the reform, acts through its own channel. Seed by seed (common
# random numbers), the change exceeds about half the effect seen when this test was written.
LEVER_CHANNELS = {
    # without entry control, unlisted items land on community staff: admin burden rises
    "policy.entry_control=false": {"admin_burden": 0.05},
    # without purchased services, contract holders no longer take catalogue items off the staff
    "policy.purchase_budget=0": {"admin_burden": 0.15, "service_coverage": -0.07},
    # without brand agencies, local organizations get the money but learn less beside them (model
    # v2: brand agencies hold about 40% of the money, not v1's 92%: the rise is 0.15-0.4 by seed)
    "policy.brand_agencies=0": {"local_money_share": 0.1, "mean_capacity_professional": -0.04},
}


@pytest.mark.parametrize("off", sorted(LEVER_CHANNELS))
def test_each_lever_acts_through_its_channel(final_years, off):
    for seed in range(3):
        on, without = final_years("wuhou_reform", seed), final_years("wuhou_reform", seed, (off,))
        for key, change in LEVER_CHANNELS[off].items():
            diff = without[key] - on[key]
            assert (diff > change) if change > 0 else (diff < change), (seed, key, diff)
