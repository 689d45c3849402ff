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

**Effects, not only levels.** A paired design (``[design] counterfactual``,
:mod:`sim.experiment.spec`) runs every sample as the base scenario (the reform) and as the
counterfactual with the same factor values and the same seeds. Its indices can be computed for the
*effect* (base − counterfactual, paired replication by replication, then averaged over
replications) or for the *level* of the base scenario; the default for a paired design is the
effect, the question a policy reader asks (what moves the reform's effect on burden?), and
``quantity="both"`` gives both.

**Too small a sample.** Indices from too few samples look like findings. :func:`stability_warnings`
flags, per outcome: Sobol 95% CIs wider than ±:data:`SOBOL_CI_MAX`, a negative S1 beyond its CI, and
S1 above ST (impossible in theory, so estimator noise) by more than :data:`SOBOL_S1_ABOVE_ST`;
Morris rankings whose top factors' μ* CI half-width exceeds :data:`MORRIS_CONF_MAX` of μ*. The
warnings are in ``attrs["warnings"]``, the Markdown and the command's output.

Factors are named by their key and a label from the parameter table (the first clause of the
field's description in :mod:`sim.params`).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.outcomes import KEY_OUTCOMES, resolve_outcomes, run_values
from sim.analysis.results import ResultSet, parse_at
from sim.errors import UserError
from sim.io import write_text
from sim.params import Params, Policy, field_label

METHODS = ("morris", "sobol")
QUANTITIES = ("level", "effect", "both")
DEFAULT_OUTCOMES = [*KEY_OUTCOMES, "n_orgs", "n_social_workers", "spend"]
SOBOL_CI_MAX = 0.1  # largest acceptable half-width of a Sobol index's 95% CI
SOBOL_S1_ABOVE_ST = 0.05  # S1 above ST by more than this is estimator noise
MORRIS_CONF_MAX = 0.5  # largest acceptable mu* CI half-width, as a share of mu*, of a top factor
MORRIS_TOP = 3  # the factors whose ranking is checked


def factor_label(key: str) -> str:
    """A factor's label from the parameter table: the first clause of its description, e.g.
    ``params.refusal_propensity`` -> 'Chance a community refuses a pushed unlisted item at full
    enforcement'; a scaled factor (``..._scale``) says it multiplies the scenario's value."""
    scaled = key.endswith("_scale")
    section, _, name = key.removesuffix("_scale").partition(".")
    cls = {"policy": Policy, "params": Params}.get(section)
    if cls is None or name not in cls.model_fields:
        return key
    text = field_label(cls, name)
    return f"{text} (× the scenario's value)" if scaled else text


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


def is_paired(rs: ResultSet) -> bool:
    """Whether the design pairs every sample with a counterfactual run (same values, seeds)."""
    return bool(rs.manifest.get("counterfactual"))


def arms(rs: ResultSet) -> tuple[list[str], list[str]]:
    """A paired design's focus and counterfactual points, each in sample order."""
    points = rs.manifest.get("points", [])
    focus = sorted((p["sample"], p["point"]) for p in points if p.get("arm") == "focus")
    cf = sorted((p["sample"], p["point"]) for p in points if p.get("arm") == "counterfactual")
    if [s for s, _ in focus] != [s for s, _ in cf]:
        raise UserError(f"{rs.path}: the paired design's manifest does not pair every sample")
    return [p for _, p in focus], [p for _, p in cf]


def design_matrix(rs: ResultSet) -> np.ndarray:
    """The factor values of every sample (rows; the focus points of a paired design) and factor
    (columns), in the order SALib sampled them."""
    columns = [f["column"] for f in rs.factors]
    settings = rs.settings
    if is_paired(rs):
        by_point = {s.point: s for s in settings}
        settings = [by_point[p] for p in arms(rs)[0]]
    return np.array([[float(s.design[c]) for c in columns] for s in settings], dtype=float)


def point_outputs(
    rs: ResultSet,
    outcomes: list[str] | None = None,
    at: str = "final-year",
    quantity: str = "level",
) -> tuple[pd.DataFrame, int]:
    """Per sample (rows in sample order) the outcome values averaged over replications.

    ``quantity`` "level" is the value of the run (the focus arm's, in a paired design); "effect"
    (paired designs only) is focus − counterfactual, replication by replication, then averaged.
    Returns the table and the number of replications per sample (the smallest).
    """
    window = parse_at(at)
    stored = rs.columns("district")
    names = outcomes or [o for o in DEFAULT_OUTCOMES if o]
    chosen = resolve_outcomes(names, "district", stored)
    needs = list(dict.fromkeys(c for o in chosen for c in o.needs))
    rows, window = rs.window(rs.load("district", needs), window)
    runs = run_values(rows, chosen, [], ["scenario"])
    cols = [o.name for o in chosen]
    order = [s.point for s in rs.settings]
    present = set(runs["point"])
    missing = [p for p in order if p not in present]
    if missing:
        raise UserError(
            f"{rs.path}: {len(missing)} of {len(order)} design points have no finished run "
            f"(first: {missing[0]}); sensitivity needs every point: run `sanshe sweep` again to "
            "retry failed runs"
        )
    if not is_paired(rs):
        per_point = runs.groupby("point", sort=False)[cols].mean()
        counts = runs.groupby("point", sort=False)["replication"].nunique()
        return per_point.loc[order], int(counts.min())
    focus, cf = arms(rs)
    sample_of = {p: i for i, p in enumerate(focus)} | {p: i for i, p in enumerate(cf)}
    runs = runs.assign(sample=runs["point"].map(sample_of))
    f = runs[runs["point"].isin(focus)].set_index(["sample", "replication"])[cols]
    if quantity == "effect":
        c = runs[runs["point"].isin(cf)].set_index(["sample", "replication"])[cols]
        f = (f - c).dropna(how="all")  # paired by replication: only replications run in both
    per_sample = f.groupby(level="sample").mean()
    counts = f.reset_index().groupby("sample")["replication"].nunique()
    lacking = [i for i in range(len(focus)) if i not in per_sample.index]
    if lacking:
        raise UserError(
            f"{rs.path}: sample {lacking[0]} has no replication run in both arms; run `sanshe "
            "sweep` again to retry failed runs"
        )
    return per_sample.loc[range(len(focus))], int(counts.min())


def stability_warnings(table: pd.DataFrame, method: str, n_samples: int) -> list[str]:
    """Signs that the sample is too small for stable indices (see the module docstring), one
    sentence per outcome (and quantity) affected."""
    out = []
    keys = ["quantity", "outcome"] if "quantity" in table else ["outcome"]
    for key, part in table.groupby(keys, sort=False):
        name = " ".join(str(k) for k in (key if isinstance(key, tuple) else (key,)))
        problems = []
        if method == "sobol":
            width = float(np.nanmax(part[["S1_conf", "ST_conf"]].to_numpy()))
            if width > SOBOL_CI_MAX:
                problems.append(f"95% CIs up to ±{width:.2f} (limit ±{SOBOL_CI_MAX})")
            neg = part[part["S1"] + part["S1_conf"] < 0]
            if len(neg):
                problems.append(
                    f"negative S1 beyond its CI ({neg['factor'].iloc[0]}: {neg['S1'].iloc[0]:.2f})"
                )
            above = part[part["S1"] > part["ST"] + SOBOL_S1_ABOVE_ST]
            if len(above):
                r = above.iloc[0]
                problems.append(f"S1 above ST ({r['factor']}: S1 {r['S1']:.2f}, ST {r['ST']:.2f})")
        else:
            top = part.nsmallest(MORRIS_TOP, "rank")
            loose = top[top["mu_star_conf"] > MORRIS_CONF_MAX * top["mu_star"].abs()]
            if len(loose) and float(part["mu_star"].max()) > 0:
                r = loose.iloc[0]
                problems.append(
                    f"the ranking of the top factors is not resolved ({r['factor']}: mu* "
                    f"{r['mu_star']:.3g} ± {r['mu_star_conf']:.2g})"
                )
        if problems:
            out.append(
                f"{name}: {'; '.join(problems)}: too few samples ({n_samples}) for stable "
                "indices; increase design.samples"
            )
    return out


def sensitivity_table(
    results_dir: str | Path | ResultSet,
    at: str = "final-year",
    outcomes: list[str] | None = None,
    num_resamples: int = 1000,
    quantity: str | None = None,
) -> pd.DataFrame:
    """Morris or Sobol indices per outcome and factor (one row each), most influential first.

    Columns: outcome, quantity ("level" or "effect"), factor, label (from the parameter table),
    rank (1 = most influential for that outcome and quantity), then for Morris mu_star,
    mu_star_conf (half-width of the 95% bootstrap CI), mu, sigma; for Sobol S1, S1_conf, ST,
    ST_conf. ``quantity`` defaults to "effect" for a paired design and "level" otherwise; "both"
    gives both. ``attrs`` holds method, window, quantity, replications, a note and warnings.
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

    paired = is_paired(rs)
    quantity = quantity or ("effect" if paired else "level")
    if quantity not in QUANTITIES:
        raise UserError(f"quantity {quantity!r} is not valid (allowed: {', '.join(QUANTITIES)})")
    if quantity != "level" and not paired:
        raise UserError(
            f"{rs.path}: effects need a paired design (allowed: --of level here, or an "
            "experiment with [design] counterfactual = <scenario file>)"
        )
    problem = salib_problem(rs.factors)
    quantities = ["effect", "level"] if quantity == "both" else [quantity]
    outputs_by = {}
    for q in quantities:
        outputs_by[q], reps = point_outputs(rs, outcomes, at, q)
    outputs = outputs_by[quantities[0]]
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
    for q, outcome in [(qq, o) for qq in quantities for o in outputs_by[qq].columns]:
        y = outputs_by[q][outcome].to_numpy(float)
        if not np.isfinite(y).all():
            skipped.append(outcome if len(quantities) == 1 else f"{outcome} ({q})")
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
        part.insert(1, "quantity", q)
        part.insert(3, "label", [factor_label(f) for f in part["factor"]])
        part.insert(4, "rank", np.arange(1, len(part) + 1))
        rows.append(part)
    if not rows:
        raise UserError(f"{rs.path}: no outcome has a value at every design point")
    table = pd.concat(rows, ignore_index=True)
    what = {
        "level": "levels" + (" of the base scenario" if paired else ""),
        "effect": "effects (base − counterfactual, paired on seeds at each sample)",
        "both": "effects (base − counterfactual, paired on seeds) and levels of the base",
    }[quantity]
    note = (
        f"Indices of the outcomes' {what}; outcomes: {parse_at(at).describe(rs.frequency)}"
        + (f", averaged over {reps} replications per point" if reps > 1 else "")
        + f"; {n_points} {'samples (each run twice)' if paired else 'design points'}, "
        f"{d} factors."
    )
    if skipped:
        note += " Skipped (undefined at some point): " + ", ".join(skipped) + "."
    n_samples = n_points // (d + 2) if rs.method == "sobol" else n_points // (d + 1)
    warnings = stability_warnings(table, str(rs.method), n_samples)
    table.attrs.update(
        method=rs.method,
        at=parse_at(at).label,
        quantity=quantity,
        replications=reps,
        note=note,
        warnings=warnings,
    )
    return table


def top_factors(table: pd.DataFrame, outcomes: list[str] | None = None, k: int = 3) -> pd.DataFrame:
    """The k most influential factors per outcome (rank <= k)."""
    part = table[table["rank"] <= k]
    if outcomes:
        part = part[part["outcome"].isin(outcomes)]
    return part.reset_index(drop=True)


def sensitivity_stem(
    method: str, at: str, quantity: str = "level", outcomes: list[str] | None = None
) -> str:
    """The file name (without suffix) of a sensitivity table: ``sensitivity_<method>_<at>``, then
    ``_<quantity>`` for effects (or both), then ``_<outcomes>`` when only some outcomes were
    asked for, so a table for a few outcomes never overwrites the default table."""
    stem = f"sensitivity_{method}_{at}" + (f"_{quantity}" if quantity != "level" else "")
    if outcomes:
        tail = "+".join(re.sub(r"[^A-Za-z0-9_]", "-", o) for o in outcomes)
        if len(tail) > 60:
            tail = tail[:40] + "-" + hashlib.sha256(tail.encode()).hexdigest()[:8]
        stem += f"_{tail}"
    return stem


def write_sensitivity(
    rs: ResultSet, table: pd.DataFrame, outcomes: list[str] | None = None
) -> dict[str, Path]:
    """Write tables/<stem>.csv and .md (:func:`sensitivity_stem`; ``outcomes`` as asked for)."""
    folder = rs.path / "tables"
    stem = sensitivity_stem(
        table.attrs["method"], table.attrs["at"], table.attrs.get("quantity", "level"), outcomes
    )
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
    warnings = table.attrs.get("warnings") or []
    if warnings:
        lines += ["**Warning: the sample is too small for stable indices.**", ""]
        lines += [f"- {w}" for w in warnings] + [""]
    cols = ["rank", "factor", "label", "mu_star", "mu_star_conf", "mu", "sigma"]
    if method != "morris":
        cols = ["rank", "factor", "label", "S1", "S1_conf", "ST", "ST_conf"]
    text_cols = ("rank", "factor", "label")
    keys = ["quantity", "outcome"] if "quantity" in table else ["outcome"]
    for key, part in table.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        title = f"{key[-1]} ({key[0]})" if len(key) == 2 else str(key[0])
        lines += [f"## {title}", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for _, r in part.iterrows():
            cells = [str(r[c]) if c in text_cols else f"{float(r[c]):.4g}" for c in cols]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)
