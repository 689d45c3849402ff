"""Comparing settings: means with 95% CIs and paired differences (``sanshe compare``).

For each setting (scenario or design point), outcome and, at street or community level, each
street or community, over a time window (:mod:`sim.analysis.results`):

* the mean across replications with its t-based 95% CI;
* the paired difference from the reference setting, replication by replication (common random
  numbers: replication r of every setting shares its seed), with its t-based 95% CI, Cohen's d_z
  (mean difference / sd of the differences) and the paired t-test's p-value;
* in the long table also the unpaired (Welch) CI of the same difference, to show what the pairing
  gains.

Two shapes: :func:`compare_long` (one row per setting, unit and outcome) and :func:`compare_table`
(one row per setting and unit, one group of columns per outcome; the dashboard uses it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.display import extremes_sentences, fmt, fmt_ci, fmt_diff, fmt_dz
from sim.analysis.outcomes import OUTCOMES, Outcome, resolve_outcomes, run_values
from sim.analysis.results import LEVEL_UNITS, ResultSet, Window, parse_at
from sim.analysis.stats import CONFIDENCE, summarize, summarize_paired, welch_bounds
from sim.errors import UserError
from sim.io import write_text
from sim.outputs import DEFAULT_WINDOW, diff_digits

WIDE_STATS = ("mean", "ci_low", "ci_high", "diff", "diff_ci_low", "diff_ci_high", "d_z", "p_value")
STAT_DESCRIPTIONS = {
    "mean": "mean across replications",
    "ci_low": "lower bound of the t-based 95% CI of the mean",
    "ci_high": "upper bound of the t-based 95% CI of the mean",
    "diff": "paired difference from the reference (this setting minus reference), mean over "
    "replications matched by replication number (common random numbers)",
    "diff_ci_low": "lower bound of the t-based 95% CI of the paired difference",
    "diff_ci_high": "upper bound of the t-based 95% CI of the paired difference",
    "d_z": "effect size: Cohen's d_z for paired data = mean difference / sd of the differences",
    "p_value": "two-sided paired t-test p-value (not adjusted for multiple comparisons)",
}
# Posterior experiments (sim.analysis.uncertainty): both intervals of each difference, side by side.
POSTERIOR_STATS = (
    "seed_low", "seed_high", "param_low", "param_high", "share_seed", "share_param", "var_seed",
    "var_param", "n_draws", "n_reps",
)  # fmt: skip
POSTERIOR_WIDE = ("param_low", "param_high", "share_param")
POSTERIOR_DESCRIPTIONS = {
    "diff": "paired difference from the reference, averaged over posterior draws (each draw "
    "counts equally) of the means over the draw's seeds",
    "diff_ci_low": "lower end of the 95% interval from seed noise only (the same as seed_low): "
    "how precisely the runs fix the mean if the parameters were known",
    "diff_ci_high": "upper end of the seed-noise-only interval (the same as seed_high)",
    "d_z": "mean difference / sd of all runs' differences pooled over draws (seed and "
    "parameter spread together)",
    "p_value": "paired t-test over all runs pooled as if independent (not a test over the "
    "posterior; read the parameter interval instead)",
    "param_low": "2.5th percentile of the difference over parameter uncertainty (draw means "
    "with their seed noise removed; sim.analysis.uncertainty)",
    "param_high": "97.5th percentile of the difference over parameter uncertainty",
    "share_param": "share of a single run's difference variance due to the parameters (between "
    "draws); the rest (share_seed) is seed noise",
}
LONG_EXTRA = {
    "n": "replications with a value (NaN values, e.g. cost per hour with nothing delivered, "
    "are dropped)",
    "sd": "standard deviation across replications (ddof 1)",
    "n_pairs": "replications present in both this setting and the reference",
    "diff_sd": "standard deviation of the paired differences (ddof 1)",
    "diff_unpaired_ci_low": "lower bound of the unpaired (Welch) 95% CI of the same difference, "
    "for comparison; wider than the paired CI when runs are positively correlated",
    "diff_unpaired_ci_high": "upper bound of the unpaired (Welch) 95% CI",
}


@dataclass
class Comparison:
    """The result of a comparison, with what is needed to describe it."""

    long: pd.DataFrame
    wide: pd.DataFrame
    outcomes: list[Outcome]
    reference: str
    level: str
    window: Window
    results: ResultSet
    notes: list[str]

    @property
    def units(self) -> list[str]:
        return LEVEL_UNITS[self.level]

    @property
    def posterior(self) -> bool:
        """Results of a posterior design: differences carry both intervals and the shares."""
        return self.results.method == "posterior"


def _open(results_dir: str | Path | ResultSet) -> ResultSet:
    return results_dir if isinstance(results_dir, ResultSet) else ResultSet(results_dir)


def compare(
    results_dir: str | Path | ResultSet,
    reference: str | None = None,
    level: str = "district",
    at: str = DEFAULT_WINDOW,
    outcomes: list[str] | None = None,
    confidence: float = CONFIDENCE,
) -> Comparison:
    """Compute the comparison in both shapes (see :func:`compare_long`, :func:`compare_table`)."""
    rs = _open(results_dir)
    window = parse_at(at)
    rs.check_level(level)
    stored = rs.columns(level)
    chosen = resolve_outcomes(outcomes, level, stored)
    ref = rs.setting(reference) if reference else rs.default_reference()
    needs = list(dict.fromkeys(c for o in chosen for c in o.needs))
    frame = rs.load(level, needs)
    rows, window = rs.window(frame, window)
    units = LEVEL_UNITS[level]
    design_cols = [c for c in frame.columns if c.startswith("design_")]
    posterior = rs.method == "posterior"
    extra = ["scenario", *design_cols, *(["draw"] if posterior else [])]
    runs = run_values(rows, chosen, units, extra)
    if ref.point not in set(runs["point"]):
        raise UserError(f"reference {ref.label!r} has no finished runs in {rs.path}")
    labels = {s.point: s.label for s in rs.settings}
    order = {s.point: i for i, s in enumerate(rs.settings)}
    runs["setting"] = runs["point"].map(labels).fillna(runs["point"])

    long_parts = []
    n_runs = runs.groupby(["point", *units], sort=False, observed=True)["replication"].nunique()
    for o in chosen:
        summary = summarize(runs, ["point", *units], o.name, confidence)
        ref_runs = runs.loc[runs["point"] == ref.point, [*units, "replication", o.name]]
        paired = runs.merge(
            ref_runs.rename(columns={o.name: "_ref"}), on=[*units, "replication"], how="left"
        )
        diffs = summarize_paired(paired, ["point", *units], o.name, "_ref", confidence)
        if posterior:
            diffs = _with_decomposition(diffs, paired, o.name, units, confidence)
        ref_summary = summary[summary["point"] == ref.point].drop(columns="point")
        part = summary.merge(diffs, on=["point", *units], how="left")
        if units:
            part = part.merge(ref_summary, on=units, how="left", suffixes=("", "_ref"))
        else:
            for c in ("n", "mean", "sd"):
                part[f"{c}_ref"] = ref_summary[c].iloc[0]
        part["diff_unpaired_ci_low"], part["diff_unpaired_ci_high"] = welch_bounds(
            part["mean"],
            part["sd"],
            part["n"],
            part["mean_ref"],
            part["sd_ref"],
            part["n_ref"],
            confidence,
        )
        part = part.drop(columns=[c for c in part.columns if c.endswith("_ref")])
        part.insert(0, "outcome", o.name)
        long_parts.append(part)
    long = pd.concat(long_parts, ignore_index=True)
    long = long.merge(n_runs.rename("n_runs").reset_index(), on=["point", *units], how="left")
    first = runs.groupby("point", sort=False)[["scenario", *design_cols]].first().reset_index()
    long = long.merge(first, on="point", how="left")
    long.insert(0, "setting", long["point"].map(labels).fillna(long["point"]))
    long["is_reference"] = long["point"] == ref.point
    long["reference"] = ref.label
    long["_order"] = long["point"].map(order)
    long["_outcome_order"] = long["outcome"].map({o.name: i for i, o in enumerate(chosen)})
    long = long.sort_values(["_order", "_outcome_order"], kind="stable").drop(
        columns=["_order", "_outcome_order"]
    )
    head = ["setting", "scenario", "point", *design_cols, *units, "outcome", "is_reference"]
    stats_cols = [
        "n_runs", "n", "mean", "sd", "ci_low", "ci_high", "reference", "n_pairs", "diff",
        "diff_sd", "diff_ci_low", "diff_ci_high", "d_z", "p_value", "diff_unpaired_ci_low",
        "diff_unpaired_ci_high",
    ]  # fmt: skip
    if posterior:
        stats_cols += list(POSTERIOR_STATS)
    long = long[head + stats_cols].reset_index(drop=True)

    notes = _notes(long, chosen, ref.label, window, rs, confidence)
    wide = _wide(long, chosen, units, design_cols, POSTERIOR_WIDE if posterior else ())
    wide.attrs.update(
        reference=ref.label,
        level=level,
        at=window.label,
        window=window.describe(rs.frequency),
        outcomes=[o.name for o in chosen],
        columns=column_descriptions(chosen, units, design_cols, posterior),
        notes=notes,
    )
    long.attrs.update(wide.attrs)
    return Comparison(long, wide, chosen, ref.label, level, window, rs, notes)


def compare_long(
    results_dir: str | Path | ResultSet,
    reference: str | None = None,
    level: str = "district",
    at: str = DEFAULT_WINDOW,
    outcomes: list[str] | None = None,
) -> pd.DataFrame:
    """One row per setting, unit (street, community) and outcome; columns as in docs/analysis.md."""
    return compare(results_dir, reference, level, at, outcomes).long


def compare_table(
    results_dir: str | Path,
    reference: str | None = None,
    level: str = "district",
    at: str = DEFAULT_WINDOW,
    outcomes: list[str] | None = None,
) -> pd.DataFrame:
    """The comparison table: one row per scenario (and per street or community at those levels).

    Args:
        results_dir: a results directory written by ``sanshe sweep``.
        reference: scenario name, setting label or point id to difference against (default
            the experiment's declared reference role, else the first scenario).
        level: ``district``, ``street`` or ``community`` (must be stored).
        at: time window: ``final`` (last month of each run), ``final-year``, ``YYYY`` or
            ``YYYY-MM`` (see :mod:`sim.analysis.results`).
        outcomes: outcome names (default: admin_burden, service_coverage, service_quality,
            satisfaction, n_orgs, n_social_workers, spend, cost_per_service_hour at district level;
            the first four at street and community level).

    Returns:
        Columns ``setting`` (scenario name, or factor values for a design point), ``scenario``,
        ``point``, any ``design_<factor>`` columns, ``street``/``community`` at those levels,
        ``is_reference``, ``n_runs``, then for each outcome ``<outcome>_mean``, ``_ci_low``,
        ``_ci_high``, ``_diff``, ``_diff_ci_low``, ``_diff_ci_high``, ``_d_z``, ``_p_value``.
        Values are in stored units (shares 0-1, yuan/year). ``attrs`` holds ``reference``,
        ``level``, ``at``, ``window``, ``outcomes``, ``columns`` (a description of every column)
        and ``notes``.

    Raises:
        UserError: missing directory, unknown scenario or outcome, level not stored, bad ``at``.
    """
    return compare(results_dir, reference, level, at, outcomes).wide


def _with_decomposition(
    diffs: pd.DataFrame, paired: pd.DataFrame, value: str, units: list[str], confidence: float
) -> pd.DataFrame:
    """A posterior experiment's paired differences split into seed and parameter parts
    (:mod:`sim.analysis.uncertainty`); the difference's CI becomes the seed-noise-only interval.

    The runs of all draws together are not independent replications (runs of one draw share its
    parameters), so the plain paired CI over them would be too narrow for the posterior mean and
    would mix both sources; it is replaced by the seed-only interval, and the parameter interval
    is given beside it. d_z and the p-value stay those of all runs pooled (see the notes).
    """
    from sim.analysis.uncertainty import decompose_frame

    frame = paired[["point", *units, "draw"]].copy()
    frame["_d"] = paired[value] - paired["_ref"]
    parts = decompose_frame(frame, ["point", *units], "_d", "draw", confidence)
    parts = parts.rename(columns={"effect": "diff"})
    out = diffs.drop(columns="diff").merge(parts, on=["point", *units], how="left")
    out["diff_ci_low"], out["diff_ci_high"] = out["seed_low"], out["seed_high"]
    return out


def _wide(
    long: pd.DataFrame,
    outcomes: list[Outcome],
    units: list[str],
    design_cols: list[str],
    extra: tuple[str, ...] = (),
) -> pd.DataFrame:
    keys = ["setting", "scenario", "point", *design_cols, *units]
    base = long.drop_duplicates(keys)[[*keys, "is_reference", "n_runs"]].reset_index(drop=True)
    stats = (*WIDE_STATS, *extra)
    for o in outcomes:
        part = long.loc[long["outcome"] == o.name, [*keys, *stats]]
        part = part.rename(columns={s: f"{o.name}_{s}" for s in stats})
        base = base.merge(part, on=keys, how="left")
    return base


def column_descriptions(
    outcomes: list[Outcome], units: list[str], design_cols: list[str], posterior: bool = False
) -> dict[str, str]:
    """What every column of the wide table means."""
    out = {
        "setting": "scenario name, or the factor values of a design point",
        "scenario": "scenario name from the manifest",
        "point": "design point id (p00000, ...)",
    }
    for c in design_cols:
        out[c] = f"value of design factor {c.removeprefix('design_')}"
    for u in units:
        out[u] = f"{u} name"
    out["is_reference"] = "true for the reference setting (its differences are 0 by definition)"
    out["n_runs"] = "replications with results in the window"
    described = {**STAT_DESCRIPTIONS, **(POSTERIOR_DESCRIPTIONS if posterior else {})}
    for o in outcomes:
        for s in (*WIDE_STATS, *(POSTERIOR_WIDE if posterior else ())):
            out[f"{o.name}_{s}"] = (
                f"{o.label} [{o.unit or 'as stored'}; {o.description}]: " + (described[s])
            )
    return out


def _notes(
    long: pd.DataFrame,
    outcomes: list[Outcome],
    reference: str,
    window: Window,
    rs: ResultSet,
    confidence: float,
) -> list[str]:
    notes = [
        f"Window: {window.describe(rs.frequency)}. Reference: {reference}.",
        f"Intervals are t-based {confidence:.0%} CIs across replications; differences are paired "
        "by replication (common random numbers: replication r of every setting uses the same "
        "seed). Effect size d_z = mean difference / sd of the differences.",
        "CIs cover run-to-run randomness only, not uncertainty in the parameters, and are not "
        "adjusted for multiple comparisons.",
    ]
    if rs.method == "posterior":
        post = rs.manifest.get("posterior") or {}
        prov = post.get("provenance") or {}
        method = prov.get("method") if isinstance(prov, dict) else None
        notes[1:] = [
            f"Posterior experiment: {post.get('draws', '?')} draws from the posterior sample "
            f"{post.get('file', '?')}" + (f" ({method})" if method else "") + f" x "
            f"{post.get('replications_per_draw', '?')} seeds per draw; the settings of one draw "
            "and seed share that seed, so differences are paired within each draw.",
            f"Each difference has two {confidence:.0%} intervals. Seed noise only: the t-based CI "
            "of the mean from the run-to-run noise within draws, as if the parameters were known. "
            "Parameter uncertainty: the 2.5-97.5 percentiles of the draws' mean differences with "
            "their seed noise removed (ANOVA variance components), i.e. where the effect lies "
            "across the parameter values the calibration left plausible. The shares split a "
            "single run's variance into seeds and parameters (sim.analysis.uncertainty).",
            "Neither interval covers structural uncertainty (other submodels); not adjusted for "
            "multiple comparisons. Means and their CIs pool all draws.",
        ]
        notes.append(_particles_note(post))
    if (long["n"] == 1).any():
        notes.append(
            "Some cells have fewer than 2 replications with a value: their CI is NaN (shown as "
            "'n/a'); run more replications."
        )
    nan_outcomes = sorted(set(long.loc[long["mean"].isna(), "outcome"]))
    if nan_outcomes:
        notes.append(
            "n/a means no value in any replication: " + ", ".join(nan_outcomes) + " "
            "(e.g. cost per service hour where organizations delivered nothing)."
        )
    return notes


# --- streets: who gains and who loses --------------------------------------------------------
def street_extremes(long: pd.DataFrame, outcomes: list[Outcome]) -> pd.DataFrame:
    """Per setting and outcome, the street that gains most and the one that gains least (or loses).

    Gain is the paired difference signed so that positive is better (lower admin burden, higher
    coverage, quality, satisfaction). Outcomes with no better direction are skipped.
    """
    rows = []
    for (setting, outcome), group in long[~long["is_reference"]].groupby(
        ["setting", "outcome"], sort=False
    ):
        o = OUTCOMES.get(str(outcome))
        if o is None or o.better is None or group["diff"].isna().all():
            continue
        sign = 1.0 if o.better == "higher" else -1.0
        gain = sign * group["diff"]
        best, worst = group.loc[gain.idxmax()], group.loc[gain.idxmin()]
        low_g = np.minimum(sign * group["diff_ci_low"], sign * group["diff_ci_high"])
        high_g = np.maximum(sign * group["diff_ci_low"], sign * group["diff_ci_high"])
        rows.append(
            {
                "setting": setting,
                "outcome": outcome,
                "better": o.better,
                "most_gain_street": best["street"],
                "most_gain_diff": best["diff"],
                "most_gain_diff_ci_low": best["diff_ci_low"],
                "most_gain_diff_ci_high": best["diff_ci_high"],
                "least_gain_street": worst["street"],
                "least_gain_diff": worst["diff"],
                "least_gain_diff_ci_low": worst["diff_ci_low"],
                "least_gain_diff_ci_high": worst["diff_ci_high"],
                "n_streets": len(group),
                "n_streets_better": int((low_g > 0).sum()),
                "n_streets_worse": int((high_g < 0).sum()),
            }
        )
    return pd.DataFrame(rows)


def markdown(cmp: Comparison) -> str:
    """The comparison as Markdown: a header with notes, then one table per outcome."""
    rs = cmp.results
    lines = [
        f"# Comparison: {rs.name}, {cmp.level} level, {cmp.window.label}",
        "",
        f"Reference: **{cmp.reference}**. {len(rs.settings)} settings; results in `{rs.path}`.",
        "",
        *[f"- {n}" for n in cmp.notes],
        "",
    ]
    if cmp.level == "street":
        lines += _extremes_markdown(cmp)
    units = cmp.units
    for o in cmp.outcomes:
        part = cmp.long[cmp.long["outcome"] == o.name]
        unit = f" ({o.display_unit})" if o.display_unit else ""
        diff_unit = f" ({o.diff_unit})" if o.diff_unit else ""
        lines += [f"## {o.label}{unit}", "", f"{o.description}.", ""]
        if cmp.posterior:
            lines += _posterior_rows(part, o, units, unit, diff_unit)
            continue
        head = ["setting", *units, "n", f"mean{unit} [95% CI]", f"difference{diff_unit} [95% CI]"]
        head.append("d_z")
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for _, r in part.iterrows():
            diff = "(reference)" if r["is_reference"] else " ".join(fmt_diff(r, o))
            cells = [
                str(r["setting"]),
                *[str(r[u]) for u in units],
                str(int(r["n"])),
                f"{fmt(r['mean'], o)} {fmt_ci(r['ci_low'], r['ci_high'], o)}",
                diff,
                "" if r["is_reference"] else fmt_dz(r["d_z"]),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _particles_note(post: dict) -> str:
    """How many distinct parameter sets the draws hold: the parameter interval rests on them."""
    sample = post.get("sample") or []
    distinct = len({s.get("particle") for s in sample})
    ess = post.get("effective_sample_size")
    text = (
        f"The {len(sample)} draws hold {distinct} distinct parameter sets (particles) of the "
        f"{post.get('n_particles', '?')} in the file"
        + (f", whose weights give a Kish effective sample size of {ess:.1f}" if ess else "")
        + "."
    )
    if distinct < 10:
        text += (
            " Warning: with so few distinct parameter sets the parameter-uncertainty interval "
            "and shares rest on them alone; a posterior with more effective particles is needed "
            "before reading them as the calibration's uncertainty."
        )
    return text


def _posterior_rows(
    part: pd.DataFrame, o: Outcome, units: list[str], unit: str, diff_unit: str
) -> list[str]:
    """Rows of a posterior experiment's table: the difference with both intervals and shares."""
    head = [
        "setting", *units, "draws x seeds", f"mean{unit}", f"difference{diff_unit}",
        "seed noise only [95% CI]", "parameter uncertainty [95%]", "variance share: seeds / params",
    ]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in part.iterrows():
        runs = f"{int(r['n_draws'])} x {r['n_reps']:.3g}" if np.isfinite(r["n_draws"]) else ""
        if r["is_reference"]:
            cells = [str(r["setting"]), *[str(r[u]) for u in units], runs, fmt(r["mean"], o)]
            lines.append("| " + " | ".join([*cells, "(reference)", "", "", ""]) + " |")
            continue
        d = diff_digits(r["diff"], o)
        shares = (
            f"{r['share_seed']:.0%} / {r['share_param']:.0%}"
            if np.isfinite(r["share_param"])
            else "n/a"
        )
        cells = [
            str(r["setting"]),
            *[str(r[u]) for u in units],
            runs,
            fmt(r["mean"], o),
            fmt(r["diff"], o, True, digits=d),
            fmt_ci(r["seed_low"], r["seed_high"], o, True, digits=d),
            fmt_ci(r["param_low"], r["param_high"], o, True, digits=d),
            shares,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def _extremes_markdown(cmp: Comparison) -> list[str]:
    ext = street_extremes(cmp.long, cmp.outcomes)
    if ext.empty:
        return []
    lines = ["## Which streets gain or lose most", ""]
    lines += extremes_sentences(ext, minus="-")
    lines.append("")
    return lines


def write_comparison(cmp: Comparison) -> dict[str, Path]:
    """Write tables/compare_<level>_<at>[_vs_<reference>] .csv (wide), _long.csv, _columns.csv,
    .md, and at street level _extremes.csv. The suffix names a reference other than the default.
    """
    folder = cmp.results.path / "tables"
    stem = f"compare_{cmp.level}_{cmp.window.label}"
    if cmp.reference != cmp.results.default_reference().label:
        stem += "_vs_" + re.sub(r"[^\w.-]+", "_", cmp.reference).strip("_")
    paths = {
        "csv": folder / f"{stem}.csv",
        "long_csv": folder / f"{stem}_long.csv",
        "markdown": folder / f"{stem}.md",
        "columns": folder / f"{stem}_columns.csv",
    }
    write_text(cmp.wide.to_csv(index=False), paths["csv"])
    write_text(cmp.long.to_csv(index=False), paths["long_csv"])
    write_text(markdown(cmp), paths["markdown"])
    described = {**cmp.wide.attrs["columns"], **STAT_DESCRIPTIONS, **LONG_EXTRA}
    if cmp.posterior:
        from sim.analysis.uncertainty import COLUMN_DESCRIPTIONS

        described |= {c: COLUMN_DESCRIPTIONS[c] for c in POSTERIOR_STATS} | POSTERIOR_DESCRIPTIONS
    cols = pd.DataFrame({"column": list(described), "meaning": [described[c] for c in described]})
    write_text(cols.to_csv(index=False), paths["columns"])
    if cmp.level == "street":
        ext = street_extremes(cmp.long, cmp.outcomes)
        paths["extremes"] = folder / f"{stem}_extremes.csv"
        write_text(ext.to_csv(index=False), paths["extremes"])
    return paths
