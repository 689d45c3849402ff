"""Sensitivity indices of a Morris or Sobol design with SALib (``sanshe sensitivity``).

The design's points are stored in the order SALib sampled them (``sim.experiment.design``), so the
problem is rebuilt from the manifest's factors (key, min, max) and each outcome becomes one value
per point: its window value (:mod:`sim.analysis.outcomes`), averaged over the point's
replications when there are several (SALib's estimators take one output per sample).

* Morris (Morris 1991; Campolongo et al. 2007): μ* (mean absolute elementary effect, in the
  outcome's units over the factor's range), μ, σ, and a 95% bootstrap CI of μ*. The X matrix is the
  design values of each point, in point order.
* Sobol (Saltelli 2002, first and total order; second order is not sampled): S1, ST and 95%
  bootstrap CIs.

Bootstrap resampling is seeded from the experiment's root seed, so the table is reproducible.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.outcomes import KEY_OUTCOMES, resolve_outcomes, run_values
from sim.analysis.results import ResultSet, parse_at
from sim.errors import UserError
from sim.io import write_text

METHODS = ("morris", "sobol")
DEFAULT_OUTCOMES = [*KEY_OUTCOMES, "n_orgs", "n_social_workers", "spend"]


def factor_name(factor: dict[str, Any]) -> str:
    """A factor's name in tables: its key, with ``_scale`` if its values are multipliers."""
    return f"{factor['key']}_scale" if factor.get("scale") else str(factor["key"])


def salib_problem(factors: list[dict[str, Any]]) -> dict[str, Any]:
    """The SALib problem from the manifest's factors (same as sim.experiment.design's)."""
    return {
        "num_vars": len(factors),
        "names": [factor_name(f) for f in factors],
        "bounds": [[float(f["min"]), float(f["max"])] for f in factors],
    }


def design_matrix(rs: ResultSet) -> np.ndarray:
    """The factor values of every point, in point order (rows) and factor order (columns)."""
    columns = [f["column"] for f in rs.factors]
    return np.array([[float(s.design[c]) for c in columns] for s in rs.settings], dtype=float)


def point_outputs(
    rs: ResultSet, outcomes: list[str] | None = None, at: str = "final-year"
) -> tuple[pd.DataFrame, int]:
    """Per point (rows in point order) the outcome values averaged over replications.

    Returns the table and the number of replications per point (the smallest).
    """
    window = parse_at(at)
    stored = rs.columns("district")
    names = outcomes or [o for o in DEFAULT_OUTCOMES if o]
    chosen = resolve_outcomes(names, "district", stored)
    needs = list(dict.fromkeys(c for o in chosen for c in o.needs))
    rows, window = rs.window(rs.load("district", needs), window)
    runs = run_values(rows, chosen, [], ["scenario"])
    per_point = runs.groupby("point", sort=False)[[o.name for o in chosen]].mean()
    counts = runs.groupby("point", sort=False)["replication"].nunique()
    order = [s.point for s in rs.settings]
    missing = [p for p in order if p not in per_point.index]
    if missing:
        raise UserError(
            f"{rs.path}: {len(missing)} of {len(order)} design points have no finished run "
            f"(first: {missing[0]}); sensitivity needs every point: run `sanshe sweep` again to "
            "retry failed runs"
        )
    return per_point.loc[order], int(counts.min())


def sensitivity_table(
    results_dir: str | Path | ResultSet,
    at: str = "final-year",
    outcomes: list[str] | None = None,
    num_resamples: int = 1000,
) -> pd.DataFrame:
    """Morris or Sobol indices per outcome and factor (one row each), most influential first.

    Columns: outcome, factor, rank (1 = most influential for that outcome), then for Morris
    mu_star, mu_star_conf (half-width of the 95% bootstrap CI), mu, sigma; for Sobol S1, S1_conf,
    ST, ST_conf. ``attrs`` holds method, window, replications and a note.
    """
    rs = results_dir if isinstance(results_dir, ResultSet) else ResultSet(results_dir)
    if rs.method not in METHODS:
        raise UserError(
            f"{rs.path} is a {rs.method!r} experiment; sensitivity indices need a morris or sobol "
            "design (allowed: an experiment with [design] method = 'morris' or 'sobol')"
        )
    if "district" not in rs.levels:
        raise UserError(f"level 'district' is not stored in {rs.path}; sensitivity needs it")
    from SALib.analyze import morris, sobol

    problem = salib_problem(rs.factors)
    outputs, reps = point_outputs(rs, outcomes, at)
    seed = int(rs.manifest.get("seeds", {}).get("root_seed", 0))
    n_points, d = len(outputs), problem["num_vars"]
    if rs.method == "sobol" and n_points % (d + 2):
        raise UserError(
            f"{rs.path}: {n_points} points is not a multiple of {d + 2} (Sobol without second "
            "order needs N x (factors + 2) points)"
        )
    if rs.method == "morris" and n_points % (d + 1):
        raise UserError(
            f"{rs.path}: {n_points} points is not a multiple of {d + 1} (Morris trajectories)"
        )
    levels = int((rs.manifest.get("definition", {}).get("design", {}) or {}).get("levels", 4))
    rows = []
    skipped = []
    X = design_matrix(rs)
    for outcome in outputs.columns:
        y = outputs[outcome].to_numpy(float)
        if not np.isfinite(y).all():
            skipped.append(outcome)
            continue
        if rs.method == "morris":
            res = morris.analyze(
                problem, X, y, num_resamples=num_resamples, conf_level=0.95,
                num_levels=levels, seed=seed,
            )  # fmt: skip
            part = pd.DataFrame(
                {
                    "factor": problem["names"],
                    "mu_star": np.asarray(res["mu_star"], float),
                    "mu_star_conf": np.asarray(res["mu_star_conf"], float),
                    "mu": np.asarray(res["mu"], float),
                    "sigma": np.asarray(res["sigma"], float),
                }
            )
            key = "mu_star"
        else:
            res = sobol.analyze(
                problem, y, calc_second_order=False, num_resamples=num_resamples,
                conf_level=0.95, seed=seed,
            )  # fmt: skip
            part = pd.DataFrame(
                {
                    "factor": problem["names"],
                    "S1": np.asarray(res["S1"], float),
                    "S1_conf": np.asarray(res["S1_conf"], float),
                    "ST": np.asarray(res["ST"], float),
                    "ST_conf": np.asarray(res["ST_conf"], float),
                }
            )
            key = "ST"
        part = part.sort_values(key, ascending=False).reset_index(drop=True)
        part.insert(0, "outcome", outcome)
        part.insert(2, "rank", np.arange(1, len(part) + 1))
        rows.append(part)
    if not rows:
        raise UserError(f"{rs.path}: no outcome has a value at every design point")
    table = pd.concat(rows, ignore_index=True)
    note = (
        f"Outcomes: {parse_at(at).describe(rs.frequency)}"
        + (f", averaged over {reps} replications per point" if reps > 1 else "")
        + f"; {n_points} design points, {d} factors."
    )
    if skipped:
        note += " Skipped (undefined at some point): " + ", ".join(skipped) + "."
    table.attrs.update(method=rs.method, at=parse_at(at).label, replications=reps, note=note)
    return table


def top_factors(table: pd.DataFrame, outcomes: list[str] | None = None, k: int = 3) -> pd.DataFrame:
    """The k most influential factors per outcome (rank <= k)."""
    part = table[table["rank"] <= k]
    if outcomes:
        part = part[part["outcome"].isin(outcomes)]
    return part.reset_index(drop=True)


def write_sensitivity(rs: ResultSet, table: pd.DataFrame) -> dict[str, Path]:
    """Write tables/sensitivity_<method>_<at>.csv and .md."""
    folder = rs.path / "tables"
    stem = f"sensitivity_{table.attrs['method']}_{table.attrs['at']}"
    paths = {"csv": folder / f"{stem}.csv", "markdown": folder / f"{stem}.md"}
    write_text(table.to_csv(index=False), paths["csv"])
    write_text(markdown(rs, table), paths["markdown"])
    return paths


def markdown(rs: ResultSet, table: pd.DataFrame) -> str:
    """The indices as Markdown, one table per outcome."""
    method = table.attrs["method"]
    lines = [
        f"# Sensitivity ({method}): {rs.name}",
        "",
        str(table.attrs.get("note", "")),
        "",
        "Morris mu*: mean absolute elementary effect (outcome units over the factor's range); "
        "conf: half-width of the 95% bootstrap CI."
        if method == "morris"
        else "Sobol S1 (first order) and ST (total order), with half-widths of 95% bootstrap CIs.",
        "",
    ]
    cols = ["rank", "factor", "mu_star", "mu_star_conf", "mu", "sigma"]
    if method != "morris":
        cols = ["rank", "factor", "S1", "S1_conf", "ST", "ST_conf"]
    for outcome, part in table.groupby("outcome", sort=False):
        lines += [f"## {outcome}", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for _, r in part.iterrows():
            cells = [str(r[c]) if c in ("rank", "factor") else f"{float(r[c]):.4g}" for c in cols]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)
