"""Effects across a posterior: how much of an effect's spread is seed noise, how much parameters.

A posterior experiment (``[design] method = "posterior"``, :mod:`sim.experiment.posterior`) runs
every scenario over D draws of the parameters x R seeds per draw; the scenarios of one draw and
seed share that seed, so each effect (scenario − reference, per outcome) is a paired difference
``x[d, r]`` per draw d and seed r. These differences follow the one-way random-effects model

    x[d, r] = μ + u[d] + e[d, r],   u[d] ~ (0, τ²) (parameters),   e[d, r] ~ (0, σ²) (seeds),

and this module estimates its parts by the analysis of variance (ANOVA) estimators of variance
components (Searle, Casella & McCulloch 1992, *Variance Components*, ch. 3 and §4.5 for unequal
group sizes):

* σ² (seed noise): the pooled within-draw variance, MSW = Σ (x − mean of its draw)² / (N − D);
* τ² (parameter uncertainty): (MSB − MSW) / n₀, with MSB = Σ n_d (m_d − m̄)² / (D − 1) the
  between-draw mean square and n₀ = (N − Σ n_d² / N) / (D − 1) (= R when every draw has R seeds);
  negative estimates are set to 0, as is usual;
* the effect: the mean of the draw means (each draw counts equally: the draws were resampled by
  weight, so they already are an equally weighted posterior sample);
* **seed-noise-only interval** (``seed_low``, ``seed_high``): the t-based CI of that mean from
  the within-draw noise alone, effect ± t(N − D) · σ · √(Σ 1/n_d) / D, i.e. ± t · σ / √(D·R). It
  says how precisely the runs pin the mean down if the parameters were known; like the CIs of a
  list experiment, it ignores parameter uncertainty;
* **parameter-uncertainty interval** (``param_low``, ``param_high``): the 2.5 and 97.5 percentiles
  of the draw means, after removing the seed noise each draw mean still carries. A draw mean m_d
  of R seeds varies by τ² + σ²/R, more than the parameters alone; so the draw means are pulled
  towards the effect by the factor √(τ² / s²_m) (s²_m their sample variance), which gives them
  the estimated variance τ² while keeping their order and shape (the "constrained Bayes"
  adjustment of Louis 1984, *JASA* 79: 393-398). With τ = 0 the interval shrinks to the effect;
  with σ = 0 it is the percentiles of the draw means themselves. It says where the effect lies
  across the parameter values the calibration left plausible (a credible interval over the
  posterior, not a CI of a mean); with 30 draws its ends rest on the two or three most extreme
  draws, so read it as a range, not to the last digit;
* **shares**: share_param = τ² / (τ² + σ²), share_seed = σ² / (τ² + σ²): the parts of the variance
  of one run's effect (one draw, one seed) due to each; share_param is the intraclass
  correlation. NaN when the runs do not vary at all (e.g. the reference against itself).

With one seed per draw σ² cannot be separated from τ²: shares are NaN and the parameter interval is
the raw percentiles of the draw values (an upper bound); run at least 2 seeds per draw.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.results import ResultSet
from sim.analysis.stats import CONFIDENCE, t_quantile
from sim.outputs import DEFAULT_WINDOW

TABLE_COLUMNS = (
    "outcome",
    "contrast",
    "effect",
    "seed_low",
    "seed_high",
    "param_low",
    "param_high",
    "share_seed",
    "share_param",
    "n_draws",
    "n_reps",
)
DECOMPOSITION_COLUMNS = (
    "effect",
    "seed_low",
    "seed_high",
    "param_low",
    "param_high",
    "share_seed",
    "share_param",
    "var_seed",
    "var_param",
    "n_draws",
    "n_reps",
)
COLUMN_DESCRIPTIONS = {
    "outcome": "outcome name (docs/outputs.md)",
    "contrast": "the setting compared with the reference (its effect is setting − reference)",
    "reference": "the reference setting",
    "effect": "mean paired difference setting − reference, averaged over draws (each draw "
    "counts equally) of the means over seeds",
    "seed_low": "lower end of the 95% interval from seed noise only (t-based CI of the effect "
    "from the within-draw variance; ignores parameter uncertainty)",
    "seed_high": "upper end of the seed-noise-only interval",
    "param_low": "2.5th percentile of the effect over parameter uncertainty: draw means with "
    "their seed noise removed (ANOVA variance components, constrained-Bayes adjustment)",
    "param_high": "97.5th percentile of the effect over parameter uncertainty",
    "share_seed": "share of a single run's effect variance due to seeds: σ² / (σ² + τ²)",
    "share_param": "share due to parameter uncertainty (between draws): τ² / (σ² + τ²)",
    "var_seed": "σ², within-draw (seed) variance of the effect (ANOVA mean square within)",
    "var_param": "τ², between-draw (parameter) variance of the effect (ANOVA estimator, >= 0)",
    "n_draws": "posterior draws with a value",
    "n_reps": "seeds per draw (the mean, if some runs failed)",
}


def _group_stats(frame: pd.DataFrame, by: list[str], value: str, draw: str) -> pd.DataFrame:
    """Per group of ``by`` and draw: count, mean and within-draw sum of squares."""
    x = frame[[*by, draw, value]].dropna(subset=[value])
    g = x.groupby([*by, draw], sort=False, observed=True)[value]
    per = g.agg(n="count", m="mean", v="var").reset_index()
    per["ss"] = per["v"].fillna(0.0) * (per["n"] - 1)
    return per


def decompose_frame(
    frame: pd.DataFrame,
    by: list[str],
    value: str,
    draw: str = "draw",
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """The decomposition (module docstring) of ``value`` for each group of ``by``.

    ``frame`` has one row per run: the group keys, the draw id and the value (e.g. a paired
    difference). NaN values are dropped. Returns the ``by`` columns and DECOMPOSITION_COLUMNS.
    """
    per = _group_stats(frame, by, value, draw)
    alpha = 1 - confidence
    rows = []
    groups = per.groupby(by, sort=False, observed=True) if by else [((), per)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        rows.append((*key, *_decompose(g, alpha)))
    return pd.DataFrame(rows, columns=[*by, *DECOMPOSITION_COLUMNS])


def _decompose(g: pd.DataFrame, alpha: float) -> tuple[float, ...]:
    n = g["n"].to_numpy(float)
    m = g["m"].to_numpy(float)
    d, total = len(n), float(n.sum())
    effect = float(m.mean()) if d else np.nan
    df_within = total - d
    sigma2 = float(g["ss"].sum() / df_within) if df_within > 0 else np.nan
    if d >= 2:
        grand = float((n * m).sum() / total)
        msb = float((n * (m - grand) ** 2).sum() / (d - 1))
        n0 = (total - float((n**2).sum()) / total) / (d - 1)
        tau2 = max(0.0, (msb - sigma2) / n0) if np.isfinite(sigma2) else np.nan
        s2m = float(m.var(ddof=1))
        shrink = 1.0  # seed noise unknown: the raw draw means (an upper bound)
        if np.isfinite(tau2):
            shrink = min(1.0, np.sqrt(tau2 / s2m)) if s2m > 0 else 0.0
        adjusted = effect + (m - effect) * shrink
        p_low, p_high = np.quantile(adjusted, [alpha / 2, 1 - alpha / 2])
    else:
        tau2, p_low, p_high = np.nan, np.nan, np.nan
    if np.isfinite(sigma2):
        half = float(t_quantile(df_within + 1, 1 - alpha)) * np.sqrt(sigma2 * (1 / n).sum()) / d
        s_low, s_high = effect - half, effect + half
    else:
        s_low = s_high = np.nan
    var_total = tau2 + sigma2
    if np.isfinite(var_total) and var_total > 0:
        share_param = tau2 / var_total
        share_seed = sigma2 / var_total
    else:
        share_param = share_seed = np.nan
    reps = total / d if d else np.nan
    return (
        effect,
        s_low,
        s_high,
        float(p_low),
        float(p_high),
        share_seed,
        share_param,
        sigma2,
        tau2,
        d,
        reps,
    )


def effects_table(
    results: str | Path | ResultSet,
    reference: str | None = None,
    level: str = "district",
    at: str = DEFAULT_WINDOW,
    outcomes: list[str] | None = None,
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Every effect of a posterior experiment with both intervals and the shares (the report's
    interface): columns TABLE_COLUMNS (with ``street``/``community`` after ``contrast`` at those
    levels), then ``reference``, ``var_seed`` and ``var_param``. One row per setting other than
    the reference and outcome (and unit), in the experiment's order; the same numbers as
    ``sanshe compare`` shows for the experiment.

    Raises:
        UserError: not a posterior experiment, unknown reference or outcome, level not stored,
            bad ``at`` (as :func:`sim.analysis.compare.compare`).
    """
    from sim.analysis.outcomes import resolve_outcomes, run_values
    from sim.analysis.results import LEVEL_UNITS
    from sim.errors import UserError

    rs = results if isinstance(results, ResultSet) else ResultSet(results)
    if rs.method != "posterior":
        raise UserError(
            f"{rs.path}: experiment {rs.name!r} is a {rs.method} experiment, not a posterior one "
            '(allowed: results of an experiment with [design] method = "posterior")'
        )
    rs.check_level(level)
    chosen = resolve_outcomes(outcomes, level, rs.columns(level))
    ref = rs.setting(reference) if reference else rs.default_reference()
    units = LEVEL_UNITS[level]
    frame = rs.load(level, list(dict.fromkeys(c for o in chosen for c in o.needs)))
    rows, window = rs.window(frame, at)
    runs = run_values(rows, chosen, units, ["draw"])
    labels = {s.point: s.label for s in rs.settings}
    order = {s.point: i for i, s in enumerate(rs.settings)}
    parts = []
    for i, o in enumerate(chosen):
        ref_runs = runs.loc[runs["point"] == ref.point, [*units, "replication", o.name]]
        paired = runs[runs["point"] != ref.point].merge(
            ref_runs.rename(columns={o.name: "_ref"}), on=[*units, "replication"]
        )
        paired["_d"] = paired[o.name] - paired["_ref"]
        part = decompose_frame(paired, ["point", *units], "_d", "draw", confidence)
        part.insert(0, "outcome", o.name)
        part["_order"] = part["point"].map(order) * len(chosen) + i
        parts.append(part)
    out = pd.concat(parts, ignore_index=True).sort_values("_order", kind="stable")
    out["contrast"] = out["point"].map(labels)
    out["reference"] = ref.label
    cols = [*TABLE_COLUMNS[:2], *units, *TABLE_COLUMNS[2:], "reference", "var_seed", "var_param"]
    table = out[cols].reset_index(drop=True)
    table.attrs.update(
        level=level, at=window.label, reference=ref.label, columns=COLUMN_DESCRIPTIONS
    )
    return table
