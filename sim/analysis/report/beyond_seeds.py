"""Uncertainty beyond seed noise, for the report: a small adapter over two analyses.

* **Parameters** — :func:`parameter_effects` reads a posterior experiment (``[design] method =
  "posterior"``, e.g. ``experiments/headline_posterior.toml``) through
  :func:`sim.analysis.uncertainty.effects_table` and keeps the focus' effect on each key outcome
  with its seed-noise-only interval and its parameter-uncertainty interval.
* **Structure** — :func:`structural_conclusions` reads a structural-variants experiment (e.g.
  ``experiments/structural.toml``) through :func:`sim.analysis.structural.structural` and words
  each headline conclusion with whether it survives every variant.

Both analyses are other modules' work; this one only picks rows and words them, so the report's
sections stay free of their internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.outcomes import KEY_OUTCOMES, OUTCOMES
from sim.analysis.results import ResultSet
from sim.errors import UserError

PARAMETER_COLUMNS = (
    "outcome",
    "effect",
    "seed_low",
    "seed_high",
    "param_low",
    "param_high",
    "share_param",
    "n_draws",
    "n_reps",
)


@dataclass
class ParameterEffects:
    """The focus' effects over a posterior: one row per key outcome (PARAMETER_COLUMNS)."""

    table: pd.DataFrame
    experiment: str
    path: str
    focus: str
    reference: str


@dataclass
class StructuralConclusions:
    """Headline conclusions under structural variants, worded."""

    variants: list[str]
    reference_variant: str
    experiment: str
    path: str
    survive: list[str] = field(default_factory=list)
    flip: list[str] = field(default_factory=list)  # each with the variants it flips under


def parameter_effects(results_dir: str | Path, at: str) -> ParameterEffects:
    """The focus' effect on each key outcome over the posterior, with both intervals.

    Raises:
        UserError: the directory is not a posterior experiment with a declared focus.
    """
    try:
        from sim.analysis.uncertainty import effects_table
    except ImportError as exc:  # pragma: no cover - only before that module exists
        raise UserError(
            f"--uncertainty {results_dir}: this version has no posterior analysis "
            "(sim.analysis.uncertainty)"
        ) from exc
    rs = ResultSet(results_dir)
    focus = rs.roles.focus
    if focus is None:
        raise UserError(
            f"--uncertainty {results_dir}: the experiment declares no focus (allowed: results of "
            "a posterior experiment with [roles] focus, e.g. experiments/headline_posterior.toml)"
        )
    names = [n for n in KEY_OUTCOMES if n in set(rs.columns("district"))]
    table = effects_table(rs, at=at, outcomes=names)
    rows = table[table["contrast"] == focus.label]
    return ParameterEffects(
        table=rows[list(PARAMETER_COLUMNS)].reset_index(drop=True),
        experiment=rs.name,
        path=str(rs.path),
        focus=rs.title(focus),
        reference=rs.title(rs.default_reference()),
    )


def _conclusion_text(row: dict[str, Any], reference_variant: str) -> str:
    """'the reform's effect on admin burden: − (lower)' from a structural conclusions row."""
    o = OUTCOMES.get(str(row.get("outcome")))
    label = o.label if o is not None else str(row.get("outcome"))
    what = str(row.get("conclusion", ""))
    finding = str(row.get(reference_variant, ""))
    if what.startswith("reform effect"):
        verb = {"+": "raises", "−": "lowers", "-": "lowers"}.get(finding)
        if verb is None:
            return f"the reform's effect on {label} is not distinguishable from 0"
        better = o.better if o is not None else None
        good = (verb == "raises") == (better == "higher")
        judged = f" ({'better' if good else 'worse'})" if better else ""
        return f"the reform {verb} {label}{judged}"
    if what.startswith("top two"):
        return f"the two levers that bring most to {label} are {finding}"
    if what.startswith("top lever"):
        return f"the lever that brings most to {label} is {finding}"
    return f"{what}: {finding}"


def structural_conclusions(results_dir: str | Path, at: str) -> StructuralConclusions:
    """Which headline conclusions survive every structural variant, worded for the report.

    Raises:
        UserError: the directory is not a structural-variants experiment.
    """
    try:
        from sim.analysis.structural import structural
    except ImportError as exc:  # pragma: no cover - only before that module exists
        raise UserError(
            f"--structural {results_dir}: this version has no structural-variants analysis "
            "(sim.analysis.structural)"
        ) from exc
    s = structural(results_dir, at=at)
    out = StructuralConclusions(
        variants=list(s.variants),
        reference_variant=s.reference_variant,
        experiment=s.results.name,
        path=str(s.results.path),
    )
    for row in s.conclusions.to_dict("records"):
        text = _conclusion_text(row, s.reference_variant)
        if bool(row.get("survives")):
            out.survive.append(text)
        else:
            out.flip.append(f"{text} (changes under {row.get('flips_under') or 'a variant'})")
    return out
