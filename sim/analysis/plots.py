"""Figures (``sanshe plot``): matplotlib, Agg backend, PNG (150 dpi) and SVG.

Every figure has a title, axis labels with units, a legend (or a colour bar, for heatmaps) and a
caption drawn under the axes; the caption is also returned so the report can print it. Text is at
least 9 pt at the saved size. Kinds:

* ``timeseries`` — outcomes month by month per setting, mean with a 95% CI band across
  replications, the reform's start marked; one figure per group of settings;
* ``streets`` — heatmaps of streets × settings: paired difference from the reference in admin
  burden and in service quality;
* ``communities`` — the distribution over communities of coverage, quality and burden per setting
  (who is left behind);
* ``response`` — response curves of a grid design: outcomes against the first factor, with bands;
* ``sensitivity`` — Morris μ* or Sobol S1/ST indices with their CIs, as bars;
* ``tradeoff`` — admin burden against service quality, one point per setting, coloured by spend.
"""

from __future__ import annotations

import io
import logging
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from sim.analysis.compare import Comparison, compare
from sim.analysis.fonts import font_families, place_label, safe_text
from sim.analysis.outcomes import KEY_OUTCOMES, OUTCOMES, Outcome, adhoc_outcome
from sim.analysis.results import ResultSet, Setting
from sim.analysis.stats import CONFIDENCE, summarize
from sim.errors import UserError
from sim.io import write_bytes

KINDS = ("timeseries", "streets", "communities", "response", "sensitivity", "tradeoff")
DPI = 150
CAPTION_PT = 9
MAX_LINES = 8  # settings per time-series figure (plus the reference)
MAX_HEATMAP_SETTINGS = 30
REFERENCE_COLOR = "black"
REFORM_COLOR = "0.35"


@dataclass
class Plot:
    """A finished figure with its caption; ``png`` and ``paths`` are set once it is saved."""

    name: str  # file stem, e.g. "timeseries_main"
    kind: str
    title: str
    caption: str
    figure: Figure
    png: bytes = b""
    paths: list[Path] = field(default_factory=list)


@contextmanager
def style() -> Iterator[None]:
    """Matplotlib settings for every figure: fonts with CJK fallback, sizes >= 9 pt, SVG paths."""
    rc = {
        "font.family": font_families(),
        "font.size": 10,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "xtick.labelsize": 9,
        "ytick.labelsize": 9,
        "legend.fontsize": 9,
        "legend.title_fontsize": 9,
        "figure.titlesize": 13,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "svg.fonttype": "path",  # glyphs as paths: the SVG needs no font to display
        "savefig.dpi": DPI,
        "axes.unicode_minus": True,
    }
    # The CJK subset has no bold face; matplotlib logs that for every bold title. Harmless.
    font_log = logging.getLogger("matplotlib.font_manager")
    level = font_log.level
    font_log.setLevel(logging.ERROR)
    try:
        with plt.rc_context(rc):
            yield
    finally:
        font_log.setLevel(level)


def _finish(fig: Figure, title: str, caption: str, right: float = 1.0) -> None:
    """Add the title and a wrapped caption under the axes, and lay the figure out.

    The caption is wrapped to the figure's width as measured by the renderer, so it never runs
    off the saved image.
    """
    width, height = fig.get_size_inches()
    renderer = fig.canvas.get_renderer()
    chars = int(width * 72 / (CAPTION_PT * 0.5))
    text = fig.text(0.012, 0.0, "", ha="left", va="bottom", fontsize=CAPTION_PT)
    while True:
        text.set_text(textwrap.fill(caption, width=chars))
        if text.get_window_extent(renderer).width <= 0.975 * width * fig.dpi or chars < 30:
            break
        chars = int(chars * 0.95)
    lines = text.get_text().count("\n") + 1
    cap_in = lines * CAPTION_PT * 1.25 / 72 + 0.3
    title_in = 0.45
    total = height + cap_in + title_in
    fig.set_size_inches(width, total)
    text.set_y(0.1 / total)
    # A plain figure text, not suptitle: tight_layout leaves exactly the room reserved here.
    fig.text(
        0.5, 1 - 0.1 / total, title, ha="center", va="top", fontsize=13, fontweight="bold",
        gid="figure-title",
    )  # fmt: skip
    fig.tight_layout(rect=(0, cap_in / total, right, 1 - title_in / total))


def save(plot: Plot, folder: Path, formats: tuple[str, ...] = ("png", "svg")) -> Plot:
    """Write the figure as <folder>/<name>.png and .svg (atomically); keeps the PNG bytes."""
    with style():
        for fmt in formats:
            buffer = io.BytesIO()
            plot.figure.savefig(buffer, format=fmt, dpi=DPI)
            data = buffer.getvalue()
            path = folder / f"{plot.name}.{fmt}"
            write_bytes(data, path)
            plot.paths.append(path)
            if fmt == "png":
                plot.png = data
    return plot


def _legend_right(fig: Figure, handles: list[Any], labels: list[str], title: str = "") -> None:
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(0.80, 0.5), title=title)


def setting_title(rs: ResultSet, setting: Setting | str) -> str:
    """The display name of a setting (from its role), safe to draw."""
    return safe_text(rs.title(setting))


# Colour-blind-safe lines: Okabe & Ito's palette (without its yellow, too pale on white) and two
# of Paul Tol's muted colours; the line style changes every 8 colours, so no two lines look alike.
PALETTE = (
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#882255", "#999933",
)  # fmt: skip
LINESTYLES = ("-", "-.", (0, (5, 1.5, 1, 1.5, 1, 1.5)))


def _colors(n: int) -> list[Any]:
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


def _linestyle(i: int) -> Any:
    return LINESTYLES[(i // len(PALETTE)) % len(LINESTYLES)]


def factor_label(key: str, width: int = 44) -> str:
    """A design factor's readable name from the parameter table ('params.switchers_per_month' ->
    'Untrained career switchers available to hire…'), else the key without its prefix."""
    head, _, name = key.partition(".")
    try:
        from sim.params import Params, Policy

        cls = Policy if head == "policy" else Params
        doc = str(cls.model_fields[name].description or "")
    except (ImportError, KeyError):
        doc = ""
    if not doc:
        return name.replace("_", " ")
    text = doc.split(". ")[0].split(": ")[0].rstrip(".")
    if len(text) > width:
        text = text[: width - 1].rsplit(" ", 1)[0] + "…"
    return text


def _scale(o: Outcome) -> float:
    return o.display_scale


# --- which settings go together --------------------------------------------------------------
def setting_groups(rs: ResultSet, reference: Setting) -> list[tuple[str, list[Setting]]]:
    """Groups of settings for time-series figures, each with the reference (and the focus).

    From the roles in the manifest: the focus without one lever (``ablations``) and levers added
    alone (``added_alone``) form their own groups, with the focus for comparison; the other
    settings form the main group. Large groups are split so that no figure has more than
    ``MAX_LINES`` lines besides the reference.
    """
    roles = rs.roles
    others = [s for s in rs.settings if s.point != reference.point]
    role_of = {s.point: roles.lever_role(s) for s in others}
    minus = [s for s in others if (role_of[s.point] or ("",))[0] == "ablations"]
    plus = [s for s in others if (role_of[s.point] or ("",))[0] == "added_alone"]
    main = [s for s in others if role_of[s.point] is None]
    focus = (
        roles.focus if roles.focus is not None and roles.focus.point != reference.point else None
    )
    if focus is not None and focus in main:
        main = [focus, *[s for s in main if s is not focus]]
    groups: list[tuple[str, list[Setting]]] = []
    for name, members, with_focus in (
        ("main", main, False),
        ("ablations", minus, True),
        ("single_levers", plus, True),
    ):
        if not members:
            continue
        extra = [focus] if with_focus and focus is not None else []
        step = MAX_LINES - len(extra)
        chunks = [members[i : i + step] for i in range(0, len(members), step)]
        for k, chunk in enumerate(chunks):
            suffix = f"_{k + 1}" if len(chunks) > 1 else ""
            groups.append((f"{name}{suffix}", [reference, *extra, *chunk]))
    return groups


def reform_month(rs: ResultSet) -> str | None:
    """The first month any setting's policy departs from its start (the reform's start, A1).

    Read from the scenario definitions in the manifest (dated lever values after the run's start);
    for designs, from the stored lever columns (entry_control, purchase_budget, project_budget).
    None if no policy changes during the run.
    """
    dates = []
    for s in rs.settings:
        definition = s.definition or {}
        start = str(definition.get("run", {}).get("start", ""))
        for value in definition.get("policy", {}).values():
            if isinstance(value, dict):
                dates += [str(d) for d in value if str(d) > start]
    if dates:
        return min(dates)
    if "district" not in rs.levels or rs.frequency != "monthly":
        return None
    levers = [c for c in ("entry_control", "purchase_budget", "project_budget")]
    frame = rs.load("district", levers)
    levers = [c for c in levers if c in frame.columns]
    if not levers:
        return None
    first = frame.groupby(["point", "replication"])[levers].transform("first")
    changed = (frame[levers].astype(float) != first.astype(float)).any(axis=1)
    return str(frame.loc[changed, "month"].min()) if changed.any() else None


# --- time series -----------------------------------------------------------------------------
def timeseries_figure(
    rs: ResultSet,
    settings: list[Setting],
    reference: Setting,
    outcomes: list[str] | None = None,
    name: str = "timeseries",
    group_title: str = "",
    confidence: float = CONFIDENCE,
) -> Plot:
    """Outcomes over time per setting: mean across replications with a 95% CI band."""
    chosen = [OUTCOMES[o] for o in (outcomes or KEY_OUTCOMES)]
    needs = list(dict.fromkeys(c for o in chosen for c in o.needs))
    frame = rs.load("district", needs)
    monthly = "month" in frame.columns
    time = "month" if monthly else "year"
    points = [s.point for s in settings]
    frame = frame[frame["point"].isin(points)]
    values = frame[["point", "replication", time]].copy()
    for o in chosen:
        values[o.name] = np.asarray(o.values(frame), dtype=float) * _scale(o)
    start = reform_month(rs)
    ncols = 2
    nrows = int(np.ceil(len(chosen) / ncols))
    with style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(13, 3.3 * nrows), squeeze=False)
        colors = _colors(len(settings))
        handles: list[Any] = []
        labels: list[str] = []
        for ax, o in zip(axes.flat, chosen, strict=False):
            for i, s in enumerate(settings):
                part = values[values["point"] == s.point]
                summary = summarize(part, [time], o.name, confidence).sort_values(time)
                x = pd.to_datetime(summary[time]) if monthly else summary[time]
                is_ref = s.point == reference.point
                color = REFERENCE_COLOR if is_ref else colors[i]
                (line,) = ax.plot(
                    x,
                    summary["mean"],
                    color=color,
                    lw=2.0 if is_ref or i == 1 else 1.4,
                    ls="--" if is_ref else _linestyle(i),
                    label=setting_title(rs, s),
                )
                ax.fill_between(x, summary["ci_low"], summary["ci_high"], color=color, alpha=0.18)
                if ax is axes.flat[0]:
                    handles.append(line)
                    labels.append(setting_title(rs, s) + (" (reference)" if is_ref else ""))
            if start is not None:
                xs = pd.Timestamp(start) if monthly else int(start[:4])
                vline = ax.axvline(xs, color=REFORM_COLOR, ls=":", lw=1.5)
                if ax is axes.flat[0]:
                    handles.append(vline)
                    labels.append(f"reform starts ({start})")
            ax.set_title(o.label)
            ax.set_ylabel(o.axis_label)
            if monthly:
                ax.xaxis.set_major_locator(mdates.YearLocator())
                ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
                ax.xaxis.set_minor_locator(mdates.MonthLocator(bymonth=(4, 7, 10)))
                ax.set_xlabel("month (ticks at January)")
            else:
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
                ax.set_xlabel("year")
        for ax in list(axes.flat)[len(chosen) :]:
            ax.set_visible(False)
        _legend_right(fig, handles, labels, title="setting")
        n = int(frame["replication"].nunique())
        title = "Outcomes over time" + (f": {group_title}" if group_title else "")
        caption = (
            f"District values month by month. Lines: mean over {n} replications; bands: "
            f"{confidence:.0%} t-based confidence interval of that mean. The dashed black line "
            f"is the reference ({setting_title(rs, reference)})"
            + (f"; the dotted grey line marks the reform's start ({start})" if start else "")
            + ". Monthly flows are noisy; tables use the final-year mean."
        )
        _finish(fig, title, caption, right=0.79)
    return Plot(name, "timeseries", title, caption, fig)


# --- streets ---------------------------------------------------------------------------------
def street_heatmap(cmp: Comparison, outcome: str) -> Plot:
    """Streets × settings: the paired difference from the reference, coloured so blue is better."""
    o = OUTCOMES[outcome]
    long = cmp.long[(cmp.long["outcome"] == outcome) & ~cmp.long["is_reference"]]
    settings = list(dict.fromkeys(long["setting"]))
    streets = list(dict.fromkeys(long["street"]))
    grid = long.pivot(index="street", columns="setting", values="diff").loc[streets, settings]
    low = long.pivot(index="street", columns="setting", values="diff_ci_low").loc[streets, settings]
    high = long.pivot(index="street", columns="setting", values="diff_ci_high")
    high = high.loc[streets, settings]
    data = grid.to_numpy(float) * o.display_scale
    limit = np.nanmax(np.abs(data)) if np.isfinite(data).any() else 1.0
    limit = limit or 1.0
    cmap = "RdBu_r" if o.better == "lower" else "RdBu"
    width = max(8.0, 2.6 + 0.72 * len(settings))
    with style():
        fig, ax = plt.subplots(figsize=(width, 1.6 + 0.42 * len(streets)))
        image = ax.imshow(data, cmap=cmap, vmin=-limit, vmax=limit, aspect="auto")
        ax.set_xticks(range(len(settings)), [setting_title(cmp.results, s) for s in settings])
        ax.set_yticks(
            range(len(streets)), [place_label(s, "street", i) for i, s in enumerate(streets)]
        )
        plt.setp(ax.get_xticklabels(), rotation=40, ha="right", rotation_mode="anchor")
        ax.grid(False)
        ax.set_xlabel("setting")
        ax.set_ylabel("street")
        lo, hi = low.to_numpy(float), high.to_numpy(float)
        for i in range(len(streets)):
            for j in range(len(settings)):
                v = data[i, j]
                if not np.isfinite(v):
                    continue
                sure = (lo[i, j] > 0) or (hi[i, j] < 0)
                text = f"{v:.{o.digits}f}"
                if float(text) == 0:
                    text = f"{0:.{o.digits}f}"  # no "-0.0"
                text = text if sure else f"({text})"
                dark = abs(v) > 0.6 * limit
                ax.text(
                    j, i, text.replace("-", "\u2212"), ha="center", va="center", fontsize=9,
                    color="white" if dark else ("black" if sure else "0.4"),
                )  # fmt: skip
        bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
        bar.set_label(f"change in {o.label} ({o.diff_unit})")
        blue, red = plt.get_cmap("RdBu")(0.85), plt.get_cmap("RdBu")(0.15)
        fig.legend(
            handles=[
                Line2D([], [], ls="", marker="s", ms=9, color=blue, label="better"),
                Line2D([], [], ls="", marker="s", ms=9, color=red, label="worse"),
            ],
            loc="upper right",
            title="vs reference",
        )
        ref_title = setting_title(cmp.results, cmp.reference)
        title = f"{o.label.capitalize()} by street: change from {ref_title}"
        caption = (
            f"Each cell: paired difference in {o.label} ({o.diff_unit}) between the setting and "
            f"the reference ({ref_title}) in that street, mean over "
            f"replications, {cmp.window.describe(cmp.results.frequency)}. Blue is better "
            f"({o.better} {o.label}), red is worse. Values in grey parentheses: the 95% CI "
            "includes 0. Street names are shown with their pinyin."
        )
        _finish(fig, title, caption, right=1 - 1.3 / width)
    return Plot(f"streets_{outcome}", "streets", title, caption, fig)


# --- communities -----------------------------------------------------------------------------
def community_distribution(
    rs: ResultSet,
    settings: list[Setting],
    reference: Setting,
    at: str = "final-year",
    outcomes: tuple[str, ...] = ("service_coverage", "service_quality", "admin_burden"),
) -> Plot:
    """Per setting, the spread over communities (mean over replications): who is left behind."""
    cmp = compare(rs, reference.point, "community", at, list(outcomes))
    long = cmp.long[cmp.long["point"].isin([s.point for s in settings])]
    focus = next((s for s in settings if s.point != reference.point), reference)
    labels = [setting_title(rs, s) for s in settings]
    with style():
        fig, axes = plt.subplots(1, len(outcomes), figsize=(13, 4.8), squeeze=False)
        rng = np.random.default_rng(0)  # jitter only
        colors = _colors(len(settings))
        notes = []
        for ax, name in zip(axes.flat, outcomes, strict=True):
            o = OUTCOMES[name]
            data = [
                long[(long["point"] == s.point) & (long["outcome"] == name)]["mean"].to_numpy()
                * o.display_scale
                for s in settings
            ]
            ax.boxplot(data, positions=range(len(settings)), widths=0.55, showfliers=False)
            for i, values in enumerate(data):
                jitter = rng.uniform(-0.18, 0.18, len(values))
                ax.scatter(
                    i + jitter, values, s=10, alpha=0.6, color=colors[i], label=labels[i],
                    zorder=3,
                )  # fmt: skip
            ax.set_xticks(range(len(settings)), labels)
            plt.setp(ax.get_xticklabels(), rotation=30, ha="right", rotation_mode="anchor")
            ax.set_title(o.label)
            ax.set_ylabel(f"community {o.axis_label}")
            ax.set_xlabel("setting")
            part = long[(long["point"] == focus.point) & (long["outcome"] == name)]
            if o.better and not part.empty and focus.point != reference.point:
                worst = (
                    part.nsmallest(1, "mean") if o.better == "higher" else part.nlargest(1, "mean")
                )
                row = worst.iloc[0]
                idx = settings.index(focus)
                ax.annotate(
                    place_label(str(row["community"]), "community"),
                    (idx, row["mean"] * o.display_scale),
                    xytext=(10, -4), textcoords="offset points", fontsize=9,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.85, "lw": 0},
                    arrowprops={"arrowstyle": "-", "color": "0.3", "lw": 0.8},
                )  # fmt: skip
                if o.better == "higher":
                    worse_mask, extreme = part["diff_ci_high"] < 0, "lowest"
                else:
                    worse_mask, extreme = part["diff_ci_low"] > 0, "highest"
                who = place_label(str(row["community"]), "community")
                notes.append(
                    f"{o.label}: {int(worse_mask.sum())} of {len(part)} communities worse off "
                    f"than under the reference (95% CI excludes 0), {extreme}: {who}"
                )
        handles = [
            Line2D([], [], ls="", marker="o", color=colors[i], label=labels[i])
            for i in range(len(settings))
        ]
        _legend_right(fig, handles, labels, title="setting")
        title = "Who is left behind: communities under each setting"
        caption = (
            f"One dot per community ({long['community'].nunique()}), its mean over replications, "
            f"{cmp.window.describe(rs.frequency)}; boxes: median and quartiles, whiskers 1.5 IQR. "
            f"Labelled: the worst-off community under {setting_title(rs, focus)}. "
            + ("; ".join(notes) + "." if notes else "")
        )
        _finish(fig, title, caption, right=0.79)
    return Plot("communities", "communities", title, caption, fig)


# --- response curves ------------------------------------------------------------------------
def _factor_axis_label(factor: dict[str, Any]) -> str:
    name = factor["key"].split(".", 1)[1].replace("_", " ")
    if factor.get("scale"):
        return f"{name} (× base scenario's value)"
    try:
        from sim.params import Params, Policy

        cls = Policy if factor["key"].startswith("policy.") else Params
        unit = (cls.model_fields[factor["key"].split(".", 1)[1]].json_schema_extra or {}).get(
            "unit", ""
        )
    except (ImportError, KeyError, AttributeError):
        unit = ""
    return f"{name} ({unit})" if unit else name


def response_curves(
    rs: ResultSet,
    at: str = "final-year",
    outcomes: list[str] | None = None,
    confidence: float = CONFIDENCE,
) -> Plot:
    """Outcomes against the first numeric factor of a grid design (one line per other value)."""
    if rs.method not in ("grid", "lhs") or not rs.factors:
        raise UserError(
            f"response curves need a grid design; {rs.path} is a {rs.method!r} experiment"
        )
    names = outcomes or [
        o for o in (*KEY_OUTCOMES, "spend", "cost_per_service_hour") if o in OUTCOMES
    ]
    cmp = compare(rs, None, "district", at, names, confidence)
    long = cmp.long
    numeric = [f for f in rs.factors if pd.api.types.is_numeric_dtype(long[f["column"]])]
    if not numeric:
        raise UserError(f"response curves need a numeric factor; {rs.path} has none")
    x_factor = numeric[0]
    by = [f for f in rs.factors if f is not x_factor]
    ncols = 3 if len(names) > 4 else 2
    nrows = int(np.ceil(len(names) / ncols))
    with style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(13, 3.4 * nrows), squeeze=False)
        handles: list[Any] = []
        labels: list[str] = []
        group_keys = [f["column"] for f in by]
        groups = list(long.groupby(group_keys, sort=False)) if group_keys else [((), long)]
        colors = _colors(len(groups))
        for ax, name in zip(axes.flat, names, strict=False):
            o = OUTCOMES.get(name) or adhoc_outcome(name)
            for k, (key, part) in enumerate(groups):
                part = part[part["outcome"] == name].sort_values(x_factor["column"])
                x = part[x_factor["column"]].to_numpy(float)
                label = (
                    ", ".join(
                        f"{f['column'].removeprefix('design_')}={v}"
                        for f, v in zip(by, key if isinstance(key, tuple) else (key,), strict=True)
                    )
                    if by
                    else "mean"
                )
                (line,) = ax.plot(
                    x, part["mean"] * o.display_scale, marker="o", ms=4, color=colors[k],
                    label=label,
                )  # fmt: skip
                ax.fill_between(
                    x, part["ci_low"] * o.display_scale, part["ci_high"] * o.display_scale,
                    color=colors[k], alpha=0.2,
                )  # fmt: skip
                if ax is axes.flat[0]:
                    handles.append(line)
                    labels.append(label)
            ax.set_title(o.label)
            ax.set_ylabel(o.axis_label)
            ax.set_xlabel(_factor_axis_label(x_factor))
        for ax in list(axes.flat)[len(names) :]:
            ax.set_visible(False)
        band = plt.Rectangle((0, 0), 1, 1, color="0.5", alpha=0.2)
        handles.append(band)
        labels.append(f"{confidence:.0%} CI band")
        _legend_right(fig, handles, labels, title="line")
        factor_name = x_factor["key"].split(".", 1)[1].replace("_", " ")
        title = f"Response to {factor_name}"
        caption = (
            f"Each point: one design point, mean over {int(long['n_runs'].max())} replications, "
            f"{cmp.window.describe(rs.frequency)}; bands: {confidence:.0%} t-based CI of the "
            f"mean. x axis: {_factor_axis_label(x_factor)}."
            + (" Lines: values of the other factors." if by else "")
        )
        _finish(fig, title, caption, right=0.79)
    return Plot("response", "response", title, caption, fig)


# --- sensitivity ----------------------------------------------------------------------------
def sensitivity_bars(table: pd.DataFrame, method: str, top: int = 12) -> Plot:
    """Bars of Morris μ* (or Sobol S1 and ST) per outcome, with their 95% CIs, largest first."""
    names = list(dict.fromkeys(table["outcome"]))
    ncols = 2
    nrows = int(np.ceil(len(names) / ncols))
    n_factors = min(top, table["factor"].nunique())
    with style():
        fig, axes = plt.subplots(
            nrows, ncols, figsize=(13, (0.8 + 0.3 * n_factors) * nrows), squeeze=False
        )
        handles: list[Any] = []
        labels: list[str] = []
        for ax, name in zip(axes.flat, names, strict=False):
            o = OUTCOMES.get(name)
            part = table[table["outcome"] == name]
            key = "mu_star" if method == "morris" else "ST"
            part = part.sort_values(key, ascending=False).head(top).iloc[::-1]
            y = np.arange(len(part))
            factor_labels = [factor_label(f) for f in part["factor"]]
            if method == "morris":
                scale = o.display_scale if o else 1.0
                bars = ax.barh(
                    y, part["mu_star"] * scale, xerr=part["mu_star_conf"] * scale,
                    color=PALETTE[0], capsize=2, label="μ* (mean |elementary effect|)",
                )  # fmt: skip
                unit = o.display_unit if o else ""
                unit = {"%": "pp"}.get(unit, unit)
                ax.set_xlabel(f"μ* ({unit} over the factor's range)" if unit else "μ*")
                if not handles:
                    handles, labels = [bars], ["μ* with 95% bootstrap CI"]
            else:
                h = 0.38
                b1 = ax.barh(
                    y + h / 2, part["S1"], h, xerr=part["S1_conf"], color=PALETTE[0], capsize=2
                )
                b2 = ax.barh(
                    y - h / 2, part["ST"], h, xerr=part["ST_conf"], color=PALETTE[1], capsize=2
                )
                ax.set_xlabel("Sobol index (share of output variance)")
                if not handles:
                    handles = [b1, b2]
                    labels = ["S1 (first order) with 95% CI", "ST (total) with 95% CI"]
            ax.set_yticks(y, factor_labels)
            ax.set_ylabel("factor")
            ax.set_title(o.label if o else name)
            ax.grid(axis="y", visible=False)
        for ax in list(axes.flat)[len(names) :]:
            ax.set_visible(False)
        axes.flat[0].legend(handles, labels, loc="lower right", title="index")
        what = "Morris screening" if method == "morris" else "Sobol indices"
        title = f"Sensitivity of outcomes to assumptions and levers ({what})"
        note = str(table.attrs.get("note", ""))
        caption = (
            (
                "Morris μ*: mean absolute elementary effect of moving a factor across its range, "
                "in the outcome's units (larger = matters more); error bars: 95% bootstrap CI. "
                if method == "morris"
                else "Sobol S1: share of output variance due to the factor alone; ST: including "
                "its interactions; error bars: 95% bootstrap CI. "
            )
            + f"Top {n_factors} factors per outcome. "
            + note
        )
        _finish(fig, title, caption)
    return Plot("sensitivity", "sensitivity", title, caption, fig)


# --- trade-off -------------------------------------------------------------------------------
def tradeoff_scatter(cmp: Comparison) -> Plot:
    """Burden against quality, one point per setting with 95% CIs, coloured by spend."""
    long = cmp.long
    settings = list(dict.fromkeys(long["setting"]))

    def get(outcome: str, col: str) -> np.ndarray:
        part = long[long["outcome"] == outcome].set_index("setting")
        if part.empty:
            return np.full(len(settings), np.nan)
        return part.loc[settings, col].to_numpy(float) * OUTCOMES[outcome].display_scale

    bx, by_ = get("admin_burden", "mean"), get("service_quality", "mean")
    bx_err = np.vstack([bx - get("admin_burden", "ci_low"), get("admin_burden", "ci_high") - bx])
    by_err = np.vstack(
        [by_ - get("service_quality", "ci_low"), get("service_quality", "ci_high") - by_]
    )
    spend = get("spend", "mean") if "spend" in set(long["outcome"]) else None
    numbered = len(settings) <= 40

    def unit(v: np.ndarray) -> np.ndarray:
        span = np.nanmax(v) - np.nanmin(v) if np.isfinite(v).any() else 0.0
        return (v - np.nanmin(v)) / span if span > 0 else np.zeros_like(v)

    nx, ny = unit(bx), unit(by_)
    with style():
        fig, ax = plt.subplots(figsize=(12, 6.5))
        ax.errorbar(bx, by_, xerr=bx_err, yerr=by_err, fmt="none", ecolor="0.6", lw=1, zorder=1)
        if spend is not None and np.isfinite(spend).any():
            norm = plt.Normalize(np.nanmin(spend), max(np.nanmax(spend), np.nanmin(spend) + 1e-9))
            colors = plt.get_cmap("viridis")(norm(np.nan_to_num(spend)))
            mappable = plt.cm.ScalarMappable(norm=norm, cmap="viridis")
        else:
            colors, mappable = _colors(len(settings)), None
        for i, s in enumerate(settings):
            ax.scatter(
                bx[i], by_[i], s=70, color=colors[i], edgecolor="black", lw=0.6, zorder=3,
                label=f"{i + 1}  {setting_title(cmp.results, s)}" if numbered else None,
            )  # fmt: skip
        if numbered:
            # Points that (nearly) coincide share one label ("1, 12, 13") instead of overprinting.
            done: set[int] = set()
            for i in range(len(settings)):
                if i in done or not (np.isfinite(bx[i]) and np.isfinite(by_[i])):
                    continue
                close = [
                    j
                    for j in range(i, len(settings))
                    if j not in done and np.hypot(nx[j] - nx[i], ny[j] - ny[i]) < 0.03
                ]
                done.update(close)
                left = nx[i] > 0.75  # near the right edge: write the label to the left
                ax.annotate(
                    ", ".join(str(j + 1) for j in close), (bx[i], by_[i]),
                    xytext=(-7 if left else 7, 4), ha="right" if left else "left",
                    textcoords="offset points", fontsize=9, fontweight="bold",
                )  # fmt: skip
        ax.margins(x=0.1, y=0.08)
        if mappable is not None:
            bar = fig.colorbar(mappable, ax=ax, fraction=0.035, pad=0.02)
            bar.set_label("spend (M yuan/year)")
        ax.set_xlabel(OUTCOMES["admin_burden"].axis_label + "  ← better")
        ax.set_ylabel(OUTCOMES["service_quality"].axis_label + "  better →")
        if numbered:
            ax.legend(loc="upper left", bbox_to_anchor=(1.16, 1.0), title="setting", frameon=False)
        title = "Trade-off: administrative burden against service quality"
        caption = (
            "One point per setting, mean over replications, "
            f"{cmp.window.describe(cmp.results.frequency)}; "
            "bars: 95% t-based CIs of the two means. Better settings sit up and to the left. "
            + (
                "Colour: public spend on organizations (M yuan/year, annualised)."
                if mappable is not None
                else ""
            )
        )
        _finish(fig, title, caption, right=0.98)
    return Plot("tradeoff", "tradeoff", title, caption, fig)


# --- all figures ----------------------------------------------------------------------------
def make_figures(
    rs: ResultSet,
    kinds: list[str] | None = None,
    at: str = "final-year",
    reference: str | None = None,
    sensitivity: tuple[pd.DataFrame, str] | None = None,
    progress: Callable[[str], None] | None = None,
    folder: Path | None = None,
) -> list[Plot]:
    """Draw and save the figures of the given kinds (default: every kind that applies).

    A kind asked for explicitly that cannot be drawn (e.g. ``response`` for a scenario list)
    raises UserError; with the default, such kinds are skipped.
    """
    say = progress or (lambda _msg: None)
    explicit = bool(kinds)
    wanted = list(kinds or KINDS)
    for k in wanted:
        if k not in KINDS:
            raise UserError(f"--kind {k!r} is not a figure kind (allowed: {', '.join(KINDS)})")
    folder = folder or rs.path / "figures"
    ref = rs.setting(reference) if reference else rs.default_reference()
    many = len(rs.settings) > MAX_HEATMAP_SETTINGS
    plots: list[Plot] = []

    def skip(kind: str, why: str) -> None:
        if explicit:
            raise UserError(f"--kind {kind}: {why}")
        say(f"  skip {kind}: {why}")

    def add(plot: Plot) -> None:
        save(plot, folder)
        plt.close(plot.figure)
        plots.append(plot)
        say(f"  wrote {folder / plot.name}.png (.svg)")

    for kind in wanted:
        if kind == "timeseries":
            if "district" not in rs.levels or rs.frequency == "final":
                skip(kind, "needs district results stored monthly or yearly")
                continue
            if many:
                skip(kind, f"{len(rs.settings)} settings are too many lines; use response curves")
                continue
            titles = {"main": "main settings", "ablations": "reform minus one lever",
                      "single_levers": "no reform plus one lever"}  # fmt: skip
            for name, group in setting_groups(rs, ref):
                base = name.rsplit("_", 1)[0] if name[-1].isdigit() else name
                add(timeseries_figure(rs, group, ref, name=f"timeseries_{name}",
                                      group_title=titles.get(base, name)))  # fmt: skip
        elif kind == "streets":
            if "street" not in rs.levels or many or len(rs.settings) < 2:
                skip(kind, "needs street results and 2 to 30 settings")
                continue
            cmp = compare(rs, ref.point, "street", at, ["admin_burden", "service_quality"])
            for outcome in ("admin_burden", "service_quality"):
                add(street_heatmap(cmp, outcome))
        elif kind == "communities":
            if "community" not in rs.levels or many:
                skip(kind, "needs community results and at most 30 settings")
                continue
            groups = setting_groups(rs, ref)
            add(community_distribution(rs, groups[0][1][:6] if groups else [ref], ref, at))
        elif kind == "response":
            if rs.method not in ("grid",) or "district" not in rs.levels:
                skip(kind, f"needs a grid design with district results ({rs.method!r} here)")
                continue
            add(response_curves(rs, at))
        elif kind == "sensitivity":
            if sensitivity is None:
                if rs.method not in ("morris", "sobol"):
                    skip(kind, f"needs a morris or sobol design ({rs.method!r} here)")
                    continue
                from sim.analysis.sensitivity import sensitivity_table

                table = sensitivity_table(rs, at=at)
                add(sensitivity_bars(table, rs.method))
            else:
                add(sensitivity_bars(*sensitivity))
        elif kind == "tradeoff":
            if "district" not in rs.levels or len(rs.settings) < 2:
                skip(kind, "needs district results and 2 or more settings")
                continue
            cmp = compare(rs, ref.point, "district", at,
                          ["admin_burden", "service_quality", "spend"])  # fmt: skip
            add(tradeoff_scatter(cmp))
    return plots
