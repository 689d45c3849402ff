"""The outcomes compared across settings: what each measures, its unit, and how a window reduces it.

Every outcome is one number per run (and per street or community at those levels) for a time
window. The window's rows are first averaged column by column (so a one-month window is that
month's values, a year window the mean over its months), then the outcome is computed from those
means:

* shares and stocks (admin burden, coverage, quality, satisfaction, organizations, workers) are
  the mean of the monthly values;
* ``spend`` is annualised: 12 × mean monthly (purchase + project + funded-item) spend, in yuan per
  year (for a full calendar year, that year's total);
* ``cost_per_service_hour`` is a ratio of sums: mean monthly spend / mean monthly hours delivered
  by organizations (catalogue and funded items + project hours), NaN if nothing was delivered.

Any other numeric column of the level's table may be named as an outcome too (window mean).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.errors import UserError

SPEND_COLUMNS = ("purchase_spend", "project_spend", "funded_item_spend")


@dataclass(frozen=True)
class Outcome:
    """An outcome: its column(s), unit and display."""

    name: str
    label: str  # short label for tables and axes
    unit: str  # unit of the stored value
    description: str  # how it is computed over a window, for table notes
    needs: tuple[str, ...]  # stored columns it is computed from
    better: str | None = None  # "lower", "higher" or None (neither is better in itself)
    display_scale: float = 1.0  # multiply to show (100 for shares shown as %)
    display_unit: str = ""  # unit after scaling: "%", "M yuan/year"
    diff_unit: str = ""  # unit of a difference after scaling: "pp"
    digits: int = 3
    compute: Callable[[pd.DataFrame], pd.Series] | None = None  # from window means

    def values(self, means: pd.DataFrame) -> pd.Series:
        """The outcome from window-mean columns (one row per run and unit)."""
        if self.compute is not None:
            return self.compute(means)
        return means[self.needs[0]].astype(float)

    @property
    def axis_label(self) -> str:
        return f"{self.label} ({self.display_unit})" if self.display_unit else self.label


def _spend(m: pd.DataFrame) -> pd.Series:
    return 12 * sum(m[c] for c in SPEND_COLUMNS)


def _cost_per_hour(m: pd.DataFrame) -> pd.Series:
    hours = m["org_item_hours"] + m["project_hours"]
    spend = sum(m[c] for c in SPEND_COLUMNS)
    return (spend / hours.where(hours > 0)).astype(float)


def _share(name: str, label: str, better: str | None, description: str) -> Outcome:
    return Outcome(
        name,
        label,
        "share 0-1",
        description,
        (name,),
        better,
        display_scale=100.0,
        display_unit="%",
        diff_unit="pp",
        digits=1,
    )


OUTCOMES: dict[str, Outcome] = {
    o.name: o
    for o in (
        _share(
            "admin_burden",
            "admin burden",
            "lower",
            "share of community staff hours spent on administrative work (window mean)",
        ),
        _share(
            "service_coverage",
            "service coverage",
            "higher",
            "share of resident service need met (window mean)",
        ),
        Outcome(
            "service_quality",
            "service quality",
            "quality 0-1",
            "mean quality per delivered service hour (window mean)",
            ("service_quality",),
            "higher",
            display_scale=100.0,
            display_unit="score 0-100",
            diff_unit="points",
            digits=1,
        ),
        Outcome(
            "satisfaction",
            "satisfaction",
            "share 0-1",
            "resident satisfaction, resident-weighted (window mean)",
            ("satisfaction",),
            "higher",
            display_scale=100.0,
            display_unit="score 0-100",
            diff_unit="points",
            digits=1,
        ),
        Outcome(
            "n_orgs",
            "organizations",
            "organizations",
            "social organizations alive, incl. the aggregate stock outside community services "
            "(window mean; district only)",
            ("n_orgs",),
            None,
            display_unit="organizations",
            diff_unit="organizations",
            digits=0,
        ),
        Outcome(
            "n_social_workers",
            "social workers",
            "workers",
            "employed social workers (window mean; district only)",
            ("n_social_workers",),
            None,
            display_unit="workers",
            diff_unit="workers",
            digits=0,
        ),
        Outcome(
            "spend",
            "spend",
            "yuan/year",
            "public money paid to organizations, annualised: 12 x mean monthly (purchase + "
            "project + funded-item) spend (district only)",
            SPEND_COLUMNS,
            None,
            display_scale=1e-6,
            display_unit="M yuan/year",
            diff_unit="M yuan/year",
            digits=2,
            compute=_spend,
        ),
        Outcome(
            "cost_per_service_hour",
            "cost per service hour",
            "yuan/hour",
            "spend / hours delivered by organizations (contract items + projects), a ratio of "
            "window means; NaN where nothing was delivered (district only)",
            (*SPEND_COLUMNS, "org_item_hours", "project_hours"),
            "lower",
            display_unit="yuan/hour",
            diff_unit="yuan/hour",
            digits=1,
            compute=_cost_per_hour,
        ),
        Outcome(
            "local_money_share",
            "money to local organizations",
            "share 0-1",
            "share of contract and project money paid to local organizations rather than imported "
            "brand agencies (window mean of the monthly shares; NaN where no money was paid; "
            "district only)",
            ("local_money_share",),
            None,
            display_scale=100.0,
            display_unit="%",
            diff_unit="pp",
            digits=1,
        ),
    )
}

DEFAULT_OUTCOMES = {
    "district": [o for o in OUTCOMES if o != "local_money_share"],
    "street": ["admin_burden", "service_coverage", "service_quality", "satisfaction"],
    "community": ["admin_burden", "service_coverage", "service_quality", "satisfaction"],
}
KEY_OUTCOMES = ["admin_burden", "service_coverage", "service_quality", "satisfaction"]


def resolve_outcomes(names: list[str] | None, level: str, stored: list[str]) -> list[Outcome]:
    """Outcome objects for names (default: the level's defaults); UserError if one is unknown.

    A name that is not a defined outcome may be any numeric column stored at the level.
    """
    if not names:
        names = DEFAULT_OUTCOMES[level]
    out = []
    for name in names:
        outcome = OUTCOMES.get(name)
        if outcome is None:
            if name in stored and name not in ("step", "year", "replication"):
                outcome = Outcome(name, name, "", f"{name} (window mean)", (name,))
            else:
                raise UserError(
                    f"outcome {name!r} is not known at level {level!r} (allowed: "
                    + ", ".join(o for o in OUTCOMES if set(OUTCOMES[o].needs) <= set(stored))
                    + ", or any numeric column of the level's table, see docs/outputs.md)"
                )
        missing = [c for c in outcome.needs if c not in stored]
        if missing:
            where = "only stored at district level" if level != "district" else "not stored"
            raise UserError(
                f"outcome {name!r} needs column {missing[0]!r}, which is {where} "
                f"(allowed at {level} level: "
                + ", ".join(o for o in OUTCOMES if set(OUTCOMES[o].needs) <= set(stored))
                + ")"
            )
        out.append(outcome)
    return out


def run_values(
    rows: pd.DataFrame, outcomes: list[Outcome], units: list[str], extra_keys: list[str]
) -> pd.DataFrame:
    """One row per run (and unit) with each outcome's value over the window's rows.

    ``rows`` are the window's rows; ``units`` the level's unit columns (street, community);
    ``extra_keys`` further columns constant within a run (scenario, design columns).
    """
    needs = list(dict.fromkeys(c for o in outcomes for c in o.needs))
    keys = ["point", "replication", *units]
    numeric = rows[needs].apply(pd.to_numeric, errors="coerce").astype(float)
    grouped = pd.concat([rows[keys], numeric], axis=1).groupby(keys, sort=False, observed=True)
    means = grouped.mean()
    out = pd.DataFrame(index=means.index)
    for o in outcomes:
        out[o.name] = np.asarray(o.values(means), dtype=float)
    out = out.reset_index()
    firsts = rows.groupby(["point", "replication"], sort=False)[extra_keys].first().reset_index()
    return firsts.merge(out, on=["point", "replication"], how="right")
