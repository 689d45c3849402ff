"""Validating a fit: the calibrated scenario on fresh seeds, target by target, with a figure.

The calibrated scenario's ``[params]`` are model parameters, so they are applied to the
counterfactual too: both runs of a replication share parameters and seed. Every run stores its
yearly budget books beside its district table (``data/books/``), so targets on ``books.<column>``
(the project funding rate, B9) are measured like the others.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter
from scipy import stats

from sim.calibration.targets import Targets, fmt, simulated_values
from sim.experiment.design import Point
from sim.experiment.runner import keyed_tables, run_experiment, run_task
from sim.experiment.spec import Experiment
from sim.experiment.store import load_manifest, load_results
from sim.experiment.tasks import Task
from sim.scenario import load_scenario

VALIDATION_SEED_OFFSET = 1_000_000
ROLE_ORDER = ("fit", "held_out", "check")  # validation seeds differ from the seeds the fit used
BOOKS_LEVEL = "books"


class ValidationRuns(NamedTuple):
    """The validation runs' district tables and budget books, by scenario."""

    reform: pd.DataFrame
    counterfactual: pd.DataFrame
    reform_books: pd.DataFrame
    counterfactual_books: pd.DataFrame


def simulate_with_books(task: Task) -> dict[str, Any]:
    """A task's tables (as the runner keeps them) plus its yearly budget books, keyed by point
    and replication."""
    import pyarrow as pa

    from sim.model import DistrictModel

    model = DistrictModel(task.scenario, rng=task.seed())
    model.run_for(task.scenario.months)
    tables = keyed_tables(model, task)
    books = model.budget_books()
    books.insert(0, "replication", task.replication)
    books.insert(0, "point", task.point_id)
    tables[BOOKS_LEVEL] = pa.Table.from_pandas(books, preserve_index=False)
    return tables


def run_with_books(task: Task) -> dict[str, Any]:
    """The runner's task function for validation runs (module level, so workers can unpickle it)."""
    return run_task(task, simulate_with_books)


def validation_runs(
    targets: Targets,
    scenario_path: str,
    out: Path,
    replications: int,
    executor: Any = None,
    progress: bool = True,
) -> ValidationRuns:
    """District tables and budget books of the calibrated reform and its counterfactual over
    fresh seeds. A store of other validation runs in ``out`` (another scenario, or runs from
    before the books were kept) is replaced."""
    reform = load_scenario(scenario_path)
    params = {f"params.{k}": v for k, v in reform.definition.get("params", {}).items()}
    counterfactual = load_scenario(targets.counterfactual).with_overrides(params)
    seed = targets.root_seed + VALIDATION_SEED_OFFSET
    exp = Experiment(
        name=f"{targets.name}-validation",
        description="validation of a calibrated scenario",
        replications=replications,
        root_seed=seed,
        levels=("district",),
        frequency="monthly",
        path=targets.path,
        definition={
            "validation": targets.name,
            "reform": reform.hash,
            "counterfactual": counterfactual.hash,
            "replications": replications,
            "root_seed": seed,
            "stored": ["district", BOOKS_LEVEL],
        },
    )
    points = [Point(0, reform, {}, {}), Point(1, counterfactual, {}, params)]
    fresh = (out / "manifest.json").is_file() and load_manifest(out).get("experiment_hash") != (
        exp.hash
    )
    if fresh and progress:
        print(f"{out}: holds other validation runs; they are replaced")
    run_experiment(
        exp, out, executor, fresh=fresh, progress=progress, task_fn=run_with_books, points=points
    )
    district = load_results(out, "district")
    books = load_results(out, BOOKS_LEVEL)
    return ValidationRuns(
        district[district["point"] == "p00000"],
        district[district["point"] == "p00001"],
        books[books["point"] == "p00000"],
        books[books["point"] == "p00001"],
    )


def fit_table(
    targets: Targets,
    reform: pd.DataFrame,
    counterfactual: pd.DataFrame,
    reform_books: pd.DataFrame | None = None,
    counterfactual_books: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per target: observed, simulated mean with 95% CI, within tolerance yes/no (or
    "not measured" when no run gives a value, e.g. a ``books.`` target without the books)."""
    values = simulated_values(targets, reform, counterfactual, reform_books, counterfactual_books)
    rows = []
    for t in sorted(targets.targets, key=lambda t: ROLE_ORDER.index(t.role)):
        v = values[t.name].dropna().to_numpy(float)
        n = len(v)
        mean = float(v.mean()) if n else np.nan
        half = float(stats.t.ppf(0.975, n - 1) * v.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
        lo, hi = t.bounds
        rows.append(
            {
                "target": t.name,
                "role": t.role,
                "quantity": t.quantity,
                "denominator": t.denominator or "",
                "scenario": t.scenario,
                "when": t.when,
                "statistic": t.statistic,
                "facts": t.facts,
                "observed": t.describe_observed(),
                "lower": lo,
                "upper": hi,
                "simulated_mean": mean,
                "ci_low": mean - half,
                "ci_high": mean + half,
                "replications": n,
                "within_tolerance": ("yes" if t.met(mean) else "no") if n else "not measured",
                "why_tolerance": t.why,
            }
        )
    return pd.DataFrame(rows)


def fit_markdown(table: pd.DataFrame) -> str:
    """The fit table as Markdown."""
    lines = [
        "| role | target | quantity | when | facts | observed | simulated mean [95% CI] | n "
        "| within tolerance |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        sim = f"{fmt(r.simulated_mean)} [{fmt(r.ci_low)}, {fmt(r.ci_high)}]"
        what = f"{r.quantity} / {r.denominator}" if r.denominator else r.quantity
        what = what if r.scenario == "reform" else f"{what} ({r.scenario})"
        lines.append(
            f"| {r.role} | {r.target} | {what} | {r.when} ({r.statistic}) | {r.facts} "
            f"| {r.observed} | {sim} "
            f"| {r.replications} | {r.within_tolerance} |"
        )
    return "\n".join(lines)


def fit_figure(
    targets: Targets,
    table: pd.DataFrame,
    reform: pd.DataFrame,
    counterfactual: pd.DataFrame,
    reform_books: pd.DataFrame | None = None,
    counterfactual_books: pd.DataFrame | None = None,
) -> plt.Figure:
    """One small panel per target: the tolerance band, each replication, and the mean with CI."""
    values = simulated_values(targets, reform, counterfactual, reform_books, counterfactual_books)
    n = len(targets.targets)
    cols = 2
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(11, 1.9 * rows + 1.2), squeeze=False)
    rng = np.random.default_rng(0)  # jitter only
    by_name = {t.name: t for t in targets.targets}
    for ax, r in zip(axes.flat, table.itertuples(), strict=False):
        t = by_name[r.target]
        v = values[t.name].dropna().to_numpy(float)
        lo, hi = t.bounds
        finite = [x for x in (lo, hi, *v) if np.isfinite(x)]
        span = (max(finite) - min(finite)) or abs(max(finite)) or 1.0
        left = lo if np.isfinite(lo) else min(finite) - 0.3 * span
        right = hi if np.isfinite(hi) else max(finite) + 0.3 * span
        ax.axvspan(left, right, color="tab:green", alpha=0.18, label="within tolerance")
        if t.observed is not None:
            ax.axvline(t.observed, color="tab:green", lw=1.5, label="observed")
        ax.scatter(
            v,
            0.25 + 0.1 * rng.standard_normal(len(v)),
            s=10,
            color="0.45",
            alpha=0.6,
            label="replications",
        )
        ax.errorbar(
            [r.simulated_mean],
            [0.0],
            xerr=[[r.simulated_mean - r.ci_low], [r.ci_high - r.simulated_mean]],
            fmt="o",
            color="tab:red" if r.within_tolerance == "no" else "tab:blue",
            capsize=4,
            label="simulated mean, 95% CI",
        )
        ax.set_yticks([])
        ax.set_ylim(-0.5, 0.7)
        pad = 0.12 * (max([*finite, left, right]) - min([*finite, left, right]) or 1.0)
        ax.set_xlim(min([*finite, left]) - pad, max([*finite, right]) + pad)
        unit = "difference, reform − counterfactual" if t.scenario == "difference" else t.quantity
        if max(abs(x) for x in finite) >= 1e5:  # money: millions of yuan
            ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x / 1e6:,.0f}"))
            unit += ", million yuan"
        ax.set_xlabel(f"{unit} ({t.when}, {t.statistic})", fontsize=9)
        ax.set_title(f"{t.name} ({t.role}; {t.facts}): {r.within_tolerance}", fontsize=10)
        ax.tick_params(labelsize=8)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.suptitle("Calibrated reform against the Wuhou targets", fontsize=12, y=0.995)
    top = 1 - 0.9 / fig.get_figheight()  # room for the title and the legend below it
    fig.legend(
        handles,
        labels,
        loc="upper center",
        ncol=4,
        fontsize=9,
        frameon=False,
        bbox_to_anchor=(0.5, top + 0.45 / fig.get_figheight()),
    )
    fig.text(
        0.01,
        0.005,
        "Green band: observed value ± tolerance (or the target range); grey dots: "
        f"{table['replications'].max()} replications on fresh seeds; marker: mean with 95% CI "
        "(red if outside tolerance).",
        fontsize=8,
    )
    fig.tight_layout(rect=(0, 0.03, 1, top))
    return fig
