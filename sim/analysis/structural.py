"""Which conclusions survive a change of submodel? (``sanshe structural``; issue 11)

An experiment with ``[variants]`` (e.g. ``experiments/structural.toml``) runs the same scenario
list under each structural variant (docs/ODD.md 7.12). The first variant is the reference
(the model's defaults). Within each variant, on the same seeds (common random numbers), this
module computes the headline conclusions and checks each against the reference variant:

* **the reform's effect** on each key outcome: the paired difference focus − reference with its
  t-based 95% CI, read as a sign: + or − when the CI excludes 0, 0 when it does not. A
  conclusion *flips* under a variant if the sign differs: it *reverses* (+ to −) or is *no longer
  distinguishable from 0* (or becomes so);
* **the lever ranking** (from the ablations, as in the report): each lever's contribution within
  the focus, focus − focus without the lever, signed so that improvement is positive; per key
  outcome, the top lever and the set of the top two. A conclusion flips if a variant names
  another top lever (or another top-two set).

The tables: ``per_variant`` (one row per variant, conclusion), and ``conclusions`` (one row per
conclusion: its value under the reference, under each variant, and whether it survives every
variant). Seed-only intervals: they say nothing about parameter uncertainty (see the posterior
experiments) but the comparison between variants is paired on seeds, so a flip is not noise of
the runs unless the interval is wide.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.outcomes import KEY_OUTCOMES, OUTCOMES, resolve_outcomes, run_values
from sim.analysis.results import ResultSet, lever_label, parse_at
from sim.analysis.stats import CONFIDENCE, mean_ci
from sim.errors import UserError
from sim.io import write_text
from sim.outputs import DEFAULT_WINDOW

SIGN_WORDS = {1: "+", -1: "−", 0: "0 (CI includes 0)"}


@dataclass
class Structural:
    """The result: per-variant estimates and the conclusions table."""

    per_variant: pd.DataFrame
    conclusions: pd.DataFrame
    variants: list[str]
    reference_variant: str
    at: str
    results: ResultSet
    notes: list[str]

    @property
    def survive(self) -> pd.DataFrame:
        return self.conclusions[self.conclusions["survives"]]

    @property
    def flip(self) -> pd.DataFrame:
        return self.conclusions[~self.conclusions["survives"]]


def _better(name: str) -> float:
    o = OUTCOMES.get(name)
    return {"higher": 1.0, "lower": -1.0}.get((o.better if o else None) or "", 0.0)


def _sign(low: float, high: float) -> int:
    if not (np.isfinite(low) and np.isfinite(high)):
        return 0
    return 1 if low > 0 else (-1 if high < 0 else 0)


def _variant_points(rs: ResultSet) -> tuple[list[str], dict[tuple[str, str], str]]:
    """Variant names in order, and (variant, scenario name without @variant) -> point id."""
    variants = list((rs.manifest.get("variants") or {}).keys())
    if not variants:
        raise UserError(
            f"{rs.path}: the experiment has no [variants] (allowed: the results of an "
            "experiment with structural variants, e.g. experiments/structural.toml)"
        )
    points = {}
    for p in rs.manifest.get("points", []):
        variant = p.get("variant")
        name = str(p["scenario"])
        suffix = f"@{variant}"
        base = name[: -len(suffix)] if name.endswith(suffix) else name
        points[(variant, base)] = p["point"]
    return variants, points


def structural(
    results_dir: str | Path | ResultSet,
    at: str = DEFAULT_WINDOW,
    outcomes: list[str] | None = None,
    confidence: float = CONFIDENCE,
) -> Structural:
    """The headline conclusions under every variant, and which survive all of them."""
    rs = results_dir if isinstance(results_dir, ResultSet) else ResultSet(results_dir)
    rs.check_level("district")
    variants, points = _variant_points(rs)
    roles = rs.manifest.get("roles") or {}
    reference, focus = roles.get("reference"), roles.get("focus")
    if not reference or not focus:
        raise UserError(
            f"{rs.path}: the experiment declares no [roles] reference and focus (allowed: a "
            "scenario list with [roles] reference, focus and ablations)"
        )
    ablations: dict[str, str] = dict(roles.get("ablations") or {})
    names = outcomes or list(KEY_OUTCOMES)
    chosen = resolve_outcomes(names, "district", rs.columns("district"))
    needs = list(dict.fromkeys(c for o in chosen for c in o.needs))
    window = parse_at(at)
    rows, window = rs.window(rs.load("district", needs), window)
    runs = run_values(rows, chosen, [], ["scenario"]).set_index(["point", "replication"])

    def values(variant: str, scenario: str, outcome: str) -> pd.Series | None:
        point = points.get((variant, scenario))
        if point is None or point not in runs.index.get_level_values(0):
            return None
        return runs.loc[point, outcome]

    records: list[dict[str, Any]] = []
    missing: list[str] = []
    for v in variants:
        for o in chosen:
            f, r = values(v, focus, o.name), values(v, reference, o.name)
            if f is None or r is None:
                missing.append(f"{v}: {focus if f is None else reference}")
                continue
            d = mean_ci((f - r).dropna(), confidence)
            records.append(
                {
                    "variant": v,
                    "conclusion": f"reform effect on {o.name}",
                    "kind": "effect",
                    "outcome": o.name,
                    "value": d.mean,
                    "ci_low": d.low,
                    "ci_high": d.high,
                    "n": d.n,
                    "finding": SIGN_WORDS[_sign(d.low, d.high)],
                }
            )
            gains = {}
            for lever, scenario in ablations.items():
                a = values(v, scenario, o.name)
                if a is None:
                    missing.append(f"{v}: {scenario}")
                    continue
                k = _better(o.name) or 1.0
                gains[lever] = mean_ci((k * (f - a)).dropna(), confidence)
            if gains:
                order = sorted(gains, key=lambda lv: -gains[lv].mean)
                top = order[0]
                records.append(
                    {
                        "variant": v,
                        "conclusion": f"top lever for {o.name}",
                        "kind": "top_lever",
                        "outcome": o.name,
                        "value": gains[top].mean,
                        "ci_low": gains[top].low,
                        "ci_high": gains[top].high,
                        "n": gains[top].n,
                        "finding": lever_label(top),
                    }
                )
                if len(order) > 1:
                    records.append(
                        {
                            "variant": v,
                            "conclusion": f"top two levers for {o.name}",
                            "kind": "top_two",
                            "outcome": o.name,
                            "value": gains[order[1]].mean,
                            "ci_low": gains[order[1]].low,
                            "ci_high": gains[order[1]].high,
                            "n": gains[order[1]].n,
                            "finding": " and ".join(sorted(lever_label(x) for x in order[:2])),
                        }
                    )
    if not records:
        raise UserError(f"{rs.path}: no variant has finished runs of {focus} and {reference}")
    per_variant = pd.DataFrame(records)
    ref_variant = variants[0]
    conclusions = []
    for conclusion, part in per_variant.groupby("conclusion", sort=False):
        by = part.set_index("variant")["finding"]
        ref = by.get(ref_variant)
        row: dict[str, Any] = {"conclusion": conclusion, "outcome": part["outcome"].iloc[0]}
        row.update({v: by.get(v, "(not run)") for v in variants})
        flips = [v for v in variants if v != ref_variant and by.get(v) != ref]
        row["survives"] = not flips and ref is not None
        row["flips_under"] = ", ".join(flips)
        conclusions.append(row)
    notes = [
        f"Window: {window.describe(rs.frequency)}; {confidence:.0%} t-based intervals over "
        "replications (seed noise only), paired on seeds within each variant.",
        f"Reference variant: {ref_variant}. Effects are {focus} minus {reference}; a lever's "
        f"contribution is {focus} minus {focus} without it, signed so that improvement is "
        "positive.",
    ]
    if missing:
        notes.append("Missing runs: " + "; ".join(sorted(set(missing))) + ".")
    return Structural(
        per_variant=per_variant,
        conclusions=pd.DataFrame(conclusions),
        variants=variants,
        reference_variant=ref_variant,
        at=window.label,
        results=rs,
        notes=notes,
    )


def _fmt(x: float) -> str:
    return "nan" if not np.isfinite(x) else f"{x:+.4g}".replace("-", "−")


def markdown(s: Structural) -> str:
    """The conclusions that survive every variant and those that do not, then the estimates."""
    overrides = s.results.manifest.get("variants") or {}
    lines = [f"# Structural variants: {s.results.name}", "", *s.notes, "", "Variants:", ""]
    for v in s.variants:
        what = ", ".join(f"`{k} = {val}`" for k, val in overrides.get(v, {}).items())
        lines.append(f"- **{v}**: {what or 'the model defaults'}")
    head = ["conclusion", *s.variants]
    for title, part in (
        ("Conclusions that survive every variant", s.survive),
        ("Conclusions that do not", s.flip),
    ):
        lines += ["", f"## {title}", ""]
        if part.empty:
            lines.append("(none)")
            continue
        cols = head + (["flips under"] if title.endswith("not") else [])
        lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for _, r in part.iterrows():
            cells = [str(r[c]) for c in head]
            if title.endswith("not"):
                cells.append(str(r["flips_under"]))
            lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Estimates per variant",
        "",
        "Effects: focus − reference; levers: the top lever's (or, for the top two, the second "
        "lever's) improvement within the focus; 95% CIs over replications.",
        "",
        "| variant | conclusion | finding | value | 95% CI | n |",
        "|---|---|---|---|---|---|",
    ]
    for _, r in s.per_variant.iterrows():
        lines.append(
            f"| {r['variant']} | {r['conclusion']} | {r['finding']} | {_fmt(r['value'])} | "
            f"[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}] | {int(r['n'])} |"
        )
    return "\n".join(lines) + "\n"


def write_structural(s: Structural) -> dict[str, Path]:
    """Write tables/structural_<at>.csv (conclusions), structural_<at>_estimates.csv and .md."""
    folder = s.results.path / "tables"
    stem = f"structural_{s.at}"
    paths = {
        "conclusions": folder / f"{stem}.csv",
        "estimates": folder / f"{stem}_estimates.csv",
        "markdown": folder / f"{stem}.md",
    }
    write_text(s.conclusions.to_csv(index=False), paths["conclusions"])
    write_text(s.per_variant.to_csv(index=False), paths["estimates"])
    write_text(markdown(s), paths["markdown"])
    return paths
