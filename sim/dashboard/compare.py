"""Side by side: two settings run on the same seeds, and the difference B − A month by month.

Setting A is the one in the sidebar (its scenario, overrides and seed); setting B is chosen here.
Both run for replication seeds ``seed, seed + 1, ...``; replication r of A and of B share seed r, so
the model's random streams line up (common random numbers) and the difference is the setting's
effect plus what randomness the change itself stirs up.

Where the dashboard was given a results store (``sanshe dashboard --results DIR``), the view also
shows the comparison table of the analysis package for that store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
import pandas as pd
import solara
from matplotlib.figure import Figure

from sim.dashboard.controls import LeverControls
from sim.dashboard.setting import Setting, check_overrides, load
from sim.errors import UserError
from sim.outputs import DEFAULT_WINDOW, OUTPUTS, format_value, key_outcomes
from sim.scenario import LIBRARY_REFERENCE

# (column, title, display unit) of the district outcomes compared: the key outcomes, workers and
# organizations, labelled and scaled as declared in sim/outputs.py
OUTCOMES: tuple[tuple[str, str, str], ...] = tuple(
    (name, OUTPUTS[name].label.capitalize(), OUTPUTS[name].display_unit)
    for name in (*key_outcomes(), "n_social_workers", "n_orgs")
)
MAX_REPLICATIONS = 10
BOLD = {"font-weight": "bold"}
HEADING = {"font-weight": "bold", "font-size": "1.2em", "margin-top": "16px"}
STORE_COLUMNS = ("mean", "diff", "diff_ci_low", "diff_ci_high")
STORE_STATS = sorted(STORE_COLUMNS, key=len, reverse=True)  # longest suffix first


def run_settings(a: Setting, b: Setting, replications: int) -> pd.DataFrame:
    """District outcomes of A and B, month by month, for seeds ``a.seed .. a.seed + n - 1``.

    Returns a long frame with columns ``setting`` ('A' or 'B'), ``seed``, ``step``, ``month`` and
    the outcomes. B runs on A's seeds whatever seed B carries.
    """
    if not 1 <= replications <= MAX_REPLICATIONS:
        raise UserError(f"replications {replications}: must be from 1 to {MAX_REPLICATIONS}")
    frames = []
    for r in range(replications):
        seed = a.seed + r
        for label, setting in (("A", a), ("B", b)):
            model = replace(setting, seed=seed).model()
            model.run_for(model.spec.months)
            district = model.results()["district"]
            frame = district[["step", "month", *(c for c, _, _ in OUTCOMES)]].copy()
            frame.insert(0, "seed", seed)
            frame.insert(0, "setting", label)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def differences(runs: pd.DataFrame) -> pd.DataFrame:
    """B − A per month and seed (months both runs cover), then mean, min and max over seeds.

    Returns one row per month with ``<outcome>_mean``, ``_min``, ``_max`` columns.
    """
    outcomes = [c for c, _, _ in OUTCOMES]
    a = runs[runs["setting"] == "A"].set_index(["seed", "month"])[outcomes]
    b = runs[runs["setting"] == "B"].set_index(["seed", "month"])[outcomes]
    diff = (b - a).dropna(how="all").reset_index()
    stats = diff.groupby("month")[outcomes].agg(["mean", "min", "max"])
    stats.columns = [f"{c}_{s}" for c, s in stats.columns]
    return stats.reset_index()


def final_year(runs: pd.DataFrame) -> pd.DataFrame:
    """Means over the last calendar year both settings cover: A, B, B − A, and in how many seeds
    B is above A."""
    outcomes = [c for c, _, _ in OUTCOMES]
    months = set(runs.loc[runs["setting"] == "A", "month"]) & set(
        runs.loc[runs["setting"] == "B", "month"]
    )
    if not months:
        raise UserError("A and B share no months: choose scenarios that cover the same calendar")
    year = max(m[:4] for m in months)
    last = runs[runs["month"].isin({m for m in months if m.startswith(year)})]
    per_seed = last.groupby(["setting", "seed"])[outcomes].mean()
    a, b = per_seed.loc["A"], per_seed.loc["B"]
    rows = []
    for column, title, unit in OUTCOMES:
        d = b[column] - a[column]
        rows.append(
            {
                "outcome": title,
                "unit": unit,
                "A": a[column].mean(),
                "B": b[column].mean(),
                "B − A": d.mean(),
                "B − A (min)": d.min(),
                "B − A (max)": d.max(),
                "seeds with B > A": f"{int((d > 0).sum())} of {len(d)}",
            }
        )
    table = pd.DataFrame(rows)
    table.attrs["year"] = year
    return table


def formatted(table: pd.DataFrame) -> pd.DataFrame:
    """The final-year table with numbers as text in display units (sim/outputs.py), the unit of a
    difference for the differences."""
    out = table.copy()
    outputs = [OUTPUTS[column] for column, _, _ in OUTCOMES]
    for col in ("A", "B", "B − A", "B − A (min)", "B − A (max)"):
        signed = "−" in col
        out[col] = [
            format_value(v, o, signed, digits=o.digits if signed else None)
            for v, o in zip(table[col], outputs, strict=True)
        ]
    out["unit"] = [o.display_unit for o in outputs]
    out["difference unit"] = [o.diff_unit for o in outputs]
    return out


def display_store_table(table: pd.DataFrame) -> pd.DataFrame:
    """A store comparison table (:func:`store_table`) with each outcome's numbers as text in
    display units, and the units in the column names."""
    out = table.copy()
    names = {}
    for col in table.columns:
        stat = next((s for s in STORE_STATS if col.endswith(f"_{s}")), None)
        o = OUTPUTS.get(col.removesuffix(f"_{stat}")) if stat else None
        if o is None:
            continue
        signed = stat != "mean"
        out[col] = [format_value(v, o, signed, digits=o.digits) for v in table[col]]
        unit = o.diff_unit if signed else o.display_unit
        names[col] = f"{o.label} {stat.replace('_', ' ')} ({unit})"
    return out.rename(columns=names)


def difference_figure(diff: pd.DataFrame) -> Figure:
    """Small multiples of B − A over time: the mean over seeds, and the range across seeds."""
    fig = Figure(figsize=(10, 5.2), dpi=96, layout="constrained")
    axes = fig.subplots(2, 3, sharex=True).ravel()
    dates = pd.to_datetime(diff["month"], format="%Y-%m")
    for ax, (column, title, _) in zip(axes, OUTCOMES, strict=True):
        o = OUTPUTS[column]  # in display units, as every table shows them
        k = o.display_scale
        ax.axhline(0, color="0.5", linewidth=0.8)
        ax.fill_between(
            dates, k * diff[f"{column}_min"], k * diff[f"{column}_max"], color="#1f77b4", alpha=0.2
        )
        ax.plot(dates, k * diff[f"{column}_mean"], color="#1f77b4", linewidth=1.6)
        ax.set_title(f"{title}: B − A", fontsize=9, loc="left")
        ax.set_ylabel(o.diff_unit, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(mdates.YearLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    return fig


def store_table(
    results_dir: str | Path,
    reference: str | None = None,
    level: str = "district",
    at: str = DEFAULT_WINDOW,
) -> pd.DataFrame:
    """The analysis package's comparison table for a results store, trimmed for the screen:
    setting, runs, and per outcome the mean and the paired difference from the reference with its
    95% CI. ``attrs`` (reference, window, notes) are kept."""
    from sim.analysis.compare import compare_table  # only when a store is shown

    table = compare_table(results_dir, reference=reference, level=level, at=at)
    keys = [c for c in ("setting", "street", "community", "n_runs") if c in table.columns]
    stats = [c for c in table.columns if c.endswith(tuple(f"_{s}" for s in STORE_COLUMNS))]
    trimmed = table[keys + stats].copy()
    trimmed.attrs = dict(table.attrs)
    return trimmed


@solara.component
def CompareView(a: Setting, choices: Mapping[str, Path], results_dir: Path | None = None) -> None:
    """Choose B, run both on the same seeds, and show the differences (and the store's table)."""
    names = list(choices)
    by_name = dict(choices)
    default_b = next(
        (n for n, f in by_name.items() if Path(f).name == LIBRARY_REFERENCE and n != a.name), None
    )
    b_name, set_b_name = solara.use_state(default_b or (names[0] if names else ""))
    b_overrides, set_b_overrides = solara.use_state({})
    replications, set_replications = solara.use_state(3)
    result, set_result = solara.use_state(None)
    error, set_error = solara.use_state(None)

    b_file = by_name.get(b_name)
    b_scenario = load(b_file) if b_file else None

    def pick_b(name: str) -> None:
        set_b_name(name)
        set_b_overrides({})

    def change_lever(lever: str, value: Any) -> None:
        set_b_overrides({**b_overrides, **check_overrides({lever: value})})

    def restore_lever(lever: str) -> None:
        set_b_overrides({k: v for k, v in b_overrides.items() if k != lever})

    def run() -> None:
        try:
            b = Setting(str(b_file), dict(b_overrides), a.seed)
            runs = run_settings(a, b, replications)
            table = final_year(runs)
            set_result((a, b, differences(runs), table))
            set_error(None)
        except UserError as exc:
            set_error(str(exc))

    with solara.Column(classes=["sanshe-compare"]):
        solara.Text(f"A — the setting in the sidebar: {a.describe()}.", style=BOLD)
        solara.Text(
            "B — choose a scenario and, if you like, move its levers. Both run on the same seeds "
            "(A's seed and the next ones), so each pair of runs shares its random numbers "
            "(common random numbers) and B − A shows the effect of the difference in setting."
        )
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Select("B: scenario", values=names, value=b_name, on_value=pick_b)
            with solara.Column(classes=["sanshe-replications"], style={"min-width": "260px"}):
                solara.SliderInt(
                    f"Replications (seeds): {replications}",
                    value=replications,
                    min=1,
                    max=MAX_REPLICATIONS,
                    on_value=set_replications,
                )
            solara.Button("Compare A and B", on_click=run, color="primary")
        if b_scenario is not None:
            moved = ", ".join(f"{k}={v!r}" for k, v in b_overrides.items()) or "none"
            with solara.Details(f"B's levers (overrides: {moved})"):
                LeverControls(b_scenario, b_overrides, change_lever, restore_lever, columns=3)
        if error:
            solara.Error(error)
        if result is not None:
            ra, rb, diff, table = result
            with solara.Column(gap="0px", classes=["sanshe-compare-result"]):
                solara.Text(f"A = {ra.describe()}")
                solara.Text(f"B = {rb.describe()}")
            solara.FigureMatplotlib(difference_figure(diff), format="png")
            solara.Text(
                f"Means over {table.attrs['year']} (the last year both runs cover). Lines above: "
                "B − A averaged over the seeds; shaded: its range across seeds.",
                style=BOLD,
            )
            solara.DataFrame(formatted(table), items_per_page=10)
        if results_dir is not None:
            StoreTable(results_dir)


@solara.component
def StoreTable(results_dir: Path) -> None:
    """The comparison table of a results store (``sanshe compare``), with its reference."""
    level, set_level = solara.use_state("district")
    at, set_at = solara.use_state(DEFAULT_WINDOW)
    reference, set_reference = solara.use_state(None)
    try:
        table = store_table(results_dir, reference, level, at)
    except UserError as exc:
        solara.Text(f"Results store {results_dir}", style=HEADING)
        solara.Error(str(exc))
        return
    settings = list(dict.fromkeys(table["setting"])) if "setting" in table.columns else []
    solara.Text(f"Results store {results_dir}", style=HEADING)
    solara.Text(
        "Comparison table from the analysis package (sanshe compare): per setting the mean across "
        "replications and the paired difference from the reference "
        f"({table.attrs.get('reference', reference)}) with its 95% CI, "
        f"at {table.attrs.get('at', at)}."
    )
    with solara.Row(style={"flex-wrap": "wrap"}):
        solara.Select("Reference", values=settings, value=reference, on_value=set_reference)
        solara.Select("Level", values=["district", "street"], value=level, on_value=set_level)
        solara.Select("At", values=["final", "final-year"], value=at, on_value=set_at)
    solara.DataFrame(display_store_table(table), items_per_page=20, scrollable=True)
    for note in table.attrs.get("notes", []) or []:
        solara.Text(str(note), style={"font-size": "0.8em"})
