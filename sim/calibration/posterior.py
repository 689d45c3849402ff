"""What a posterior says: posterior-predictive checks, identifiability and a pairs plot.

* :func:`predictive_runs` draws ``K`` particles from the posterior (by weight, systematic
  resampling, seeded from the root seed) and runs each as the reform and counterfactual on fresh
  seeds (a stream the fit never used), ``replications`` times.
* :func:`predictive_table` gives every target (fit, held-out and check, in three sections) its
  posterior-predictive median and 90% interval over the draws, the share of draws within
  tolerance, and met / not met (the median within tolerance).
* :func:`identifiability` gives each parameter's posterior/prior width (weighted standard
  deviations; near 1: the targets say nothing about it) and its strongest posterior correlation;
  :func:`correlations` lists the strongest pairs (ridges: combinations the targets pin down while
  each parameter alone wanders).
* :func:`pairs_figure` plots the weighted posterior, pair by pair, labelled from the parameter
  table.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import NullFormatter

from sim.calibration.abc import (
    PREDICTIVE_STREAM,
    ParticleModel,
    sampled_name,
    weighted_quantile,
)
from sim.calibration.targets import FreeParameter, Targets, fmt

ROLE_TITLES = {
    "fit": "Fit targets (in the distance)",
    "held_out": "Held-out targets (never seen by the fit)",
    "check": "Checks (policy inputs, never fitted)",
}


def draw_particles(posterior: pd.DataFrame, k: int, root_seed: int) -> pd.DataFrame:
    """``k`` particles drawn by weight (systematic resampling), reproducible from the seed."""
    rng = np.random.default_rng(np.random.SeedSequence(root_seed, spawn_key=(PREDICTIVE_STREAM,)))
    w = posterior["weight"].to_numpy(float)
    cum = np.cumsum(w / w.sum())
    points = (rng.random() + np.arange(k)) / k
    idx = np.minimum(np.searchsorted(cum, points), len(w) - 1)
    return posterior.iloc[idx].reset_index(drop=True)


def sampled(targets: Targets, row: Any) -> dict[str, float]:
    """A posterior row (natural values) as the model's input (logarithms where sampled so)."""
    out = {}
    for p in targets.parameters:
        v = float(row[p.key])
        out[sampled_name(p)] = float(np.log(v)) if p.prior == "log-uniform" else v
    return out


def _evaluate(args: tuple[ParticleModel, dict[str, float]]) -> dict[str, float]:
    model, pars = args
    return model(pars)


def predictive_runs(
    targets: Targets,
    posterior: pd.DataFrame,
    draws: int,
    replications: int,
    workers: int = 1,
    reform_path: str | None = None,
) -> pd.DataFrame:
    """One row per posterior draw: its parameters and the replication mean of every target."""
    chosen = draw_particles(posterior, draws, targets.root_seed)
    keys = [p.key for p in targets.parameters]
    model = ParticleModel(targets, replications, PREDICTIVE_STREAM, reform_path)
    jobs = [(model, sampled(targets, row)) for _, row in chosen.iterrows()]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(_evaluate, jobs))
    else:
        results = [_evaluate(j) for j in jobs]
    values = pd.DataFrame(results)
    return pd.concat([chosen[keys].reset_index(drop=True), values], axis=1).assign(
        draw=np.arange(len(chosen))
    )


def predictive_table(targets: Targets, runs: pd.DataFrame) -> pd.DataFrame:
    """Every target with its posterior-predictive median, 90% interval and verdict."""
    rows = []
    for role in ROLE_TITLES:
        for t in targets.with_role(role):
            v = runs[t.name].to_numpy(float)
            v = v[np.isfinite(v)]
            med = float(np.median(v)) if len(v) else np.nan
            lo, hi = np.quantile(v, [0.05, 0.95]) if len(v) else (np.nan, np.nan)
            rows.append(
                {
                    "role": role,
                    "target": t.name,
                    "facts": t.facts,
                    "quantity": t.quantity
                    + ("" if t.denominator is None else f" / {t.denominator}"),
                    "scenario": t.scenario,
                    "when": t.when + ("" if t.change_from is None else f" vs {t.change_from}"),
                    "statistic": t.statistic,
                    "observed": t.describe_observed(),
                    "median": med,
                    "p05": float(lo),
                    "p95": float(hi),
                    "draws": len(v),
                    "share_met": float(np.mean([t.met(x) for x in v])) if len(v) else np.nan,
                    "met": ("yes" if t.met(med) else "no") if len(v) else "not measured",
                }
            )
    return pd.DataFrame(rows)


def predictive_markdown(table: pd.DataFrame) -> str:
    """The predictive fit table as Markdown, one section per role."""
    out = []
    for role, title in ROLE_TITLES.items():
        part = table[table["role"] == role]
        if part.empty:
            continue
        out += [
            f"**{title}**",
            "",
            "| target | facts | quantity | when | observed | posterior-predictive median "
            "[90% interval] | draws within | met |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in part.itertuples():
            what = r.quantity if r.scenario == "reform" else f"{r.quantity} ({r.scenario})"
            out.append(
                f"| {r.target} | {r.facts} | {what} | {r.when} ({r.statistic}) | {r.observed} "
                f"| {fmt(r.median)} [{fmt(r.p05)}, {fmt(r.p95)}] "
                f"| {r.share_met:.0%} | {r.met} |"
            )
        out.append("")
    return "\n".join(out).rstrip()


def _weighted_cov(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    w = w / w.sum()
    mean = w @ x
    d = x - mean
    return (d * w[:, None]).T @ d


def parameter_label(name: str) -> str:
    """A short label from the parameter table (docs/parameters.md): the description's first
    clause; a ``label`` in the field's extras wins if one is declared."""
    import re

    from sim.params import Params

    info = Params.model_fields[name]
    extra = info.json_schema_extra or {}
    if isinstance(extra, dict) and extra.get("label"):
        return str(extra["label"])
    text = re.split(r"[,(:;.]", info.description or "", maxsplit=1)[0].strip()
    if len(text) < 16:  # a clause too short to name the parameter ("Chance")
        return name.replace("_", " ")
    if len(text) > 40:  # keep a label short: whole words up to 40 characters
        text = text[:41].rsplit(" ", 1)[0].rstrip(" ,") + " ..."
    return text or name.replace("_", " ")


def _labels(targets: Targets) -> dict[str, str]:
    return {p.key: parameter_label(p.name) for p in targets.parameters}


def correlations(targets: Targets, posterior: pd.DataFrame) -> pd.DataFrame:
    """Weighted posterior correlations of every pair of parameters (on the prior's scale: log for
    log-uniform priors), strongest first."""
    keys = [p.key for p in targets.parameters]
    x = _scaled(targets, posterior)
    cov = _weighted_cov(x, posterior["weight"].to_numpy(float))
    sd = np.sqrt(np.clip(np.diag(cov), 1e-300, None))
    corr = cov / np.outer(sd, sd)
    labels = _labels(targets)
    rows = []
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            rows.append(
                {
                    "a": keys[i],
                    "b": keys[j],
                    "label_a": labels[keys[i]],
                    "label_b": labels[keys[j]],
                    "correlation": float(corr[i, j]),
                }
            )
    frame = pd.DataFrame(rows)
    return frame.reindex(frame["correlation"].abs().sort_values(ascending=False).index)


def _scaled(targets: Targets, posterior: pd.DataFrame) -> np.ndarray:
    cols = []
    for p in targets.parameters:
        v = posterior[p.key].to_numpy(float)
        cols.append(np.log(v) if p.prior == "log-uniform" else v)
    return np.column_stack(cols)


def _prior_scaled_sd(p: FreeParameter) -> float:
    if p.prior == "log-uniform":
        return float((np.log(p.high) - np.log(p.low)) / np.sqrt(12))
    return float((p.high - p.low) / np.sqrt(12))


def identifiability(targets: Targets, posterior: pd.DataFrame) -> pd.DataFrame:
    """Per parameter: prior range, posterior median and 90% interval, posterior/prior width (sd
    on the prior's scale), and the strongest correlation with another parameter."""
    w = posterior["weight"].to_numpy(float)
    x = _scaled(targets, posterior)
    sd = np.sqrt(np.diag(_weighted_cov(x, w)))
    corr = correlations(targets, posterior)
    labels = _labels(targets)
    rows = []
    for i, p in enumerate(targets.parameters):
        v = posterior[p.key].to_numpy(float)
        mine = corr[(corr["a"] == p.key) | (corr["b"] == p.key)]
        top = mine.iloc[0] if len(mine) else None
        other = None if top is None else (top["b"] if top["a"] == p.key else top["a"])
        rows.append(
            {
                "parameter": p.key,
                "label": labels[p.key],
                "prior": f"{p.prior} {fmt(p.low)}-{fmt(p.high)}",
                "median": weighted_quantile(v, w, 0.5),
                "p05": weighted_quantile(v, w, 0.05),
                "p95": weighted_quantile(v, w, 0.95),
                "width_ratio": float(sd[i] / _prior_scaled_sd(p)),
                "strongest_with": labels.get(other, "") if other else "",
                "correlation": float(top["correlation"]) if top is not None else np.nan,
            }
        )
    return pd.DataFrame(rows)


def effective_sample_size(posterior: pd.DataFrame) -> float:
    """Kish's effective sample size of a weighted sample, 1 / sum(w^2) for weights summing to 1."""
    w = posterior["weight"].to_numpy(float)
    w = w / w.sum()
    return float(1.0 / np.sum(w * w))


def identifiability_markdown(
    table: pd.DataFrame, corr: pd.DataFrame, ess: float | None = None, top: int = 6
) -> str:
    lines = []
    if ess is not None:
        lines += [
            f"Effective sample size of the posterior: {ess:.1f} particles (Kish)."
            + (
                " Widths and correlations rest on so few particles that they are indications,"
                " not estimates: a larger population (docs/validation.md) is needed before a"
                " ridge is reported as a finding."
                if ess < 30
                else ""
            ),
            "",
        ]
    lines += [
        "| parameter | prior | posterior median [90%] | posterior/prior width | strongest "
        "correlation |",
        "|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        lines.append(
            f"| {r.label} (`{r.parameter.split('.', 1)[1]}`) | {r.prior} "
            f"| {fmt(r.median)} [{fmt(r.p05)}, {fmt(r.p95)}] | {r.width_ratio:.2f} "
            f"| {r.correlation:+.2f} with {r.strongest_with} |"
        )
    lines += ["", "Strongest posterior correlations (ridges):", ""]
    lines += ["| parameter | parameter | correlation |", "|---|---|---|"]
    for r in corr.head(top).itertuples():
        lines.append(f"| {r.label_a} | {r.label_b} | {r.correlation:+.2f} |")
    return "\n".join(lines)


def pairs_figure(targets: Targets, posterior: pd.DataFrame, title: str = "") -> plt.Figure:
    """Weighted posterior: histograms on the diagonal, particle scatter (size by weight) below,
    correlations above. Axes span the prior; log axes for log-uniform priors."""
    params = targets.parameters
    n = len(params)
    labels = _labels(targets)
    w = posterior["weight"].to_numpy(float)
    corr = correlations(targets, posterior)
    r = {(a, b): c for a, b, c in zip(corr["a"], corr["b"], corr["correlation"], strict=True)}
    fig, axes = plt.subplots(n, n, figsize=(1.45 * n + 1, 1.45 * n + 1), squeeze=False)
    size = 6 + 60 * w / w.max()
    for i, pi in enumerate(params):
        for j, pj in enumerate(params):
            ax = axes[i, j]
            ax.tick_params(labelsize=5)
            if i == j:
                bins = (
                    np.geomspace(pi.low, pi.high, 15)
                    if pi.prior == "log-uniform"
                    else np.linspace(pi.low, pi.high, 15)
                )
                ax.hist(posterior[pi.key], bins=bins, weights=w, color="tab:blue", alpha=0.7)
                ax.set_xlim(pi.low, pi.high)
                if pi.prior == "log-uniform":
                    ax.set_xscale("log")
                ax.set_yticks([])
            elif i > j:
                ax.scatter(posterior[pj.key], posterior[pi.key], s=size, alpha=0.5, lw=0)
                ax.set_xlim(pj.low, pj.high)
                ax.set_ylim(pi.low, pi.high)
                if pj.prior == "log-uniform":
                    ax.set_xscale("log")
                if pi.prior == "log-uniform":
                    ax.set_yscale("log")
            else:
                c = r.get((pi.key, pj.key), r.get((pj.key, pi.key), np.nan))
                ax.axis("off")
                ax.text(
                    0.5,
                    0.5,
                    f"{c:+.2f}",
                    ha="center",
                    va="center",
                    fontsize=8 + 6 * abs(c),
                    color="tab:red" if abs(c) >= 0.5 else "0.3",
                    transform=ax.transAxes,
                )
            for axis in (ax.xaxis, ax.yaxis):
                axis.set_minor_formatter(NullFormatter())
            ax.tick_params(which="both", labelsize=5)
            if i == n - 1:
                ax.set_xlabel(_wrap(labels[pj.key]), fontsize=6)
            else:
                ax.tick_params(which="both", labelbottom=False)
            if j == 0 and i > 0:
                ax.set_ylabel(_wrap(labels[pi.key]), fontsize=6)
            elif i != j:
                ax.tick_params(which="both", labelleft=False)
    fig.suptitle(title or "Posterior (ABC-SMC): pairs, weighted; red: |correlation| >= 0.5")
    fig.tight_layout()
    return fig


def _wrap(text: str, width: int = 18) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


def _distance_words(info: dict[str, Any]) -> str:
    """How a run's distance and epsilon were set (runs before these settings: fixed, median)."""
    q = info.get("epsilon_quantile", 0.5)
    if info.get("distance", "fixed") == "adaptive":
        dist = (
            f"adaptive distance (scales: {info.get('scale')} of the previous generation's errors, "
            f"at least {info.get('scale_floor', 1.0):g} tolerance)"
        )
    else:
        dist = "fixed distance (tolerances)"
    kernel = info.get("kernel_scaling", 1.0)
    return (
        f"{dist}, epsilon the {q:g} quantile of the previous generation's distances, "
        f"perturbation kernel covariance {kernel:g} x Silverman's rule of thumb"
    )


def summary_markdown(info: dict[str, Any]) -> str:
    """Run counts and provenance of an ABC calibration, as a short paragraph."""
    eps = ", ".join("inf" if not np.isfinite(e) else f"{e:.3g}" for e in info["epsilon_schedule"])
    return (
        f"ABC-SMC (pyabc {info['pyabc_version']}, {info['sampler']} sampler): "
        f"{info['generations']} generations of {info['population']} particles, "
        f"{info['replications']} replications each (reform and counterfactual on the same seeds); "
        f"{_distance_words(info)}; "
        f"epsilon {eps}; effective sample size of the last generation "
        f"{info.get('effective_sample_size', [float('nan')])[-1]:.1f}; "
        f"{info['model_evaluations']:,} particles simulated "
        f"({info['model_runs']:,} model runs); root seed {info['root_seed']}; "
        f"commit {info['git_commit'][:12]}."
    )
