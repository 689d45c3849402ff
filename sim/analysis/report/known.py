"""What is known and how well: which observed patterns the calibration fitted, which it held out,
and whether the held-out ones are met.

A targets file (``scenarios/targets/wuhou.toml``) gives every target a ``role``: ``fit`` (in the
calibration's distance), ``held_out`` (never seen by the fit: a test of it) or ``check`` (a policy
input, checked but never fitted). Where a calibration's posterior-predictive table is given
(``abc_fit.csv`` in ``--calibration``'s directory, written by ``sanshe calibrate --method abc``),
met / not met comes from it: draws from the posterior on fresh seeds. Otherwise each target is
checked against the stored results (the focus as the targets file's reform, the reference as its
counterfactual); targets these results cannot measure (a month they do not cover, the budget
books) are listed as not measured. A targets file without roles (an older one) is read as all fit,
and the report says so.

Only reading and counting happens here; :mod:`sim.analysis.report.sections` words it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ROLES = ("fit", "held_out", "check")
ROLE_TITLES = {
    "fit": "fitted (in the calibration's distance)",
    "held_out": "held out (never seen by the fit)",
    "check": "checks of policy inputs (never fitted)",
}
ABC_FIT = "abc_fit.csv"


@dataclass(frozen=True)
class TargetResult:
    """One target as the report shows it."""

    name: str
    role: str
    description: str
    facts: str
    observed: str
    simulated: str  # "12.3 [11.0, 13.1]", or "" if not measured
    met: str  # "yes", "no" or "not measured"


@dataclass
class Known:
    """Targets by role, with where their verdicts come from."""

    path: str
    source: str  # where met / not met comes from, in words
    roles_declared: bool
    # True: verdicts from the calibration's posterior-predictive check (a test on targets the fit
    # never saw); False: from the stored results, which run the model's default parameters, whose
    # own fit is not the one the roles describe (so held-out ones are checks, not tests)
    out_of_sample: bool = False
    results: list[TargetResult] = field(default_factory=list)

    def with_role(self, role: str) -> list[TargetResult]:
        return [r for r in self.results if r.role == role]

    def count(self, role: str, met: str) -> int:
        return sum(r.met == met for r in self.with_role(role))


def _role(target: object) -> str | None:
    role = getattr(target, "role", None)
    return str(role) if role in ROLES else None


def read_abc_fit(calibration_dir: str | Path | None) -> pd.DataFrame | None:
    """The posterior-predictive fit table of an ABC calibration, if the directory has one."""
    if calibration_dir is None:
        return None
    path = Path(calibration_dir) / ABC_FIT
    if not path.is_file():
        return None
    table = pd.read_csv(path)
    need = {"role", "target", "median", "p05", "p95", "met"}
    return table if need <= set(table.columns) else None


def known_targets(
    targets: object,
    focus: pd.DataFrame | None,
    reference: pd.DataFrame | None,
    abc_fit: pd.DataFrame | None = None,
    path: str = "",
) -> Known:
    """Every target of a targets file with its role and verdict.

    Args:
        targets: a targets file (:func:`sim.calibration.caveats.open_targets`).
        focus, reference: monthly district rows of the settings that play the targets file's
            reform and counterfactual (or None).
        abc_fit: a posterior-predictive table (:func:`read_abc_fit`), preferred when given.
        path: the targets file, for the text.
    """
    from sim.calibration.caveats import check_target
    from sim.calibration.targets import fmt

    items = list(getattr(targets, "targets", ()))
    declared = any(_role(t) is not None for t in items)
    by_name = {str(r.target): r for r in abc_fit.itertuples()} if abc_fit is not None else {}
    if abc_fit is not None:
        n_draws = int(abc_fit["draws"].max()) if "draws" in abc_fit else 0
        source = (
            f"the calibration's posterior-predictive check ({n_draws} draws from the posterior "
            "on fresh seeds; met = the median within the target's tolerance)"
        )
    else:
        source = (
            "these results (the focus as the targets file's reform, the reference as its "
            "counterfactual; met = the mean over replications within the target's tolerance). "
            "These runs use the model's default parameters, a single point of the calibration's "
            "posterior chosen by the fit targets (docs/validation.md). One point is not the "
            "posterior, and defaults may have been changed since, so here a held-out target met "
            "is a check of the defaults, not an out-of-sample test. Pass --calibration with an "
            "ABC calibration's directory (abc_fit.csv) for that test"
        )
    out = []
    for t in items:
        role = _role(t) or "fit"
        simulated, met = "", "not measured"
        if abc_fit is not None:
            r = by_name.get(t.name)
            if r is not None and np.isfinite(r.median):
                simulated = f"{fmt(r.median)} [{fmt(r.p05)}, {fmt(r.p95)}]"
                met = "yes" if str(r.met) == "yes" else "no"
        elif (
            focus is not None
            and t.quantity in focus.columns
            and not t.quantity.startswith("books.")
        ):
            try:
                got = check_target(t, focus, reference)
            except (KeyError, ValueError):
                got = None
            if got is not None and np.isfinite(got[0]):
                mean, lo, hi, _ = got
                ci = f" [{fmt(lo)}, {fmt(hi)}]" if np.isfinite(lo) else ""
                simulated = f"{fmt(mean)}{ci}"
                met = "yes" if t.met(mean) else "no"
        out.append(
            TargetResult(
                name=t.name,
                role=role,
                description=str(t.description or t.name),
                facts=str(t.facts),
                observed=t.describe_observed(),
                simulated=simulated,
                met=met,
            )
        )
    return Known(
        path=path,
        source=source,
        roles_declared=declared,
        results=out,
        out_of_sample=abc_fit is not None,
    )
