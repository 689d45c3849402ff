"""The outcomes compared across settings: every output of :mod:`sim.outputs`, reduced over a time
window.

Every outcome is one number per run (and per street or community at those levels) for a time
window (default :data:`sim.outputs.DEFAULT_WINDOW`, the last calendar year). The window's rows are
first averaged column by column (so a one-month window is that month's values, a year window the
mean over its months), then the outcome is computed from those means:

* most outputs (shares, scores, stocks, flows) are the mean of the monthly values;
* ``spend`` is annualised: 12 × mean monthly (purchase + project + funded-item) spend, in yuan per
  year (for a full calendar year, that year's total);
* ``cost_per_service_hour`` is a ratio of sums: mean monthly spend / mean monthly hours delivered
  by organizations (catalogue and funded items + project hours), NaN if nothing was delivered.

Labels, units, display scales and better directions are those declared in ``sim/outputs.py``;
nothing about an outcome is written here. Any other numeric column of the level's table (e.g. a
design factor) may be named as an outcome too (window mean).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.errors import UserError
from sim.outputs import OUTPUTS, SPEND_COLUMNS, Output, headline_outcomes, key_outcomes

__all__ = [
    "DEFAULT_OUTCOMES",
    "KEY_OUTCOMES",
    "OUTCOMES",
    "SPEND_COLUMNS",
    "Outcome",
    "adhoc_outcome",
    "resolve_outcomes",
    "run_values",
]

Outcome = Output  # an outcome is an output reduced over a window
OUTCOMES = OUTPUTS  # live: an output registered in sim.outputs is an outcome at once

KEY_OUTCOMES = key_outcomes()
DEFAULT_OUTCOMES = {
    "district": headline_outcomes(),
    "street": list(KEY_OUTCOMES),
    "community": list(KEY_OUTCOMES),
}


def adhoc_outcome(name: str) -> Outcome:
    """An outcome for a stored column that is not a declared output (e.g. a design factor)."""
    return Output(name=name, levels=("community", "street", "district"), unit="", kind="stock",
                  doc=name, aggregate="sum")  # fmt: skip


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
                outcome = adhoc_outcome(name)
            else:
                raise UserError(
                    f"outcome {name!r} is not known at level {level!r} (allowed: "
                    + ", ".join(DEFAULT_OUTCOMES[level])
                    + ", or any output of the level's table, see docs/outputs.md)"
                )
        missing = [c for c in outcome.needs if c not in stored]
        if missing:
            where = (
                "only stored at district level"
                if outcome.levels == ("district",) and level != "district"
                else "not stored"
            )
            raise UserError(
                f"outcome {name!r} needs column {missing[0]!r}, which is {where} "
                f"(allowed at {level} level: "
                + ", ".join(DEFAULT_OUTCOMES[level])
                + ", or any output of the level's table, see docs/outputs.md)"
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
