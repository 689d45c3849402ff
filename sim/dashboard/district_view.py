"""The district at a glance: its streets and their communities, coloured by an outcome.

A schematic, not a map: one row per street (in the district's order), one cell per community. A
cell's colour is the community's value in the last simulated month; hovering over a cell shows its
numbers (an SVG ``<title>``), and choosing a community below the picture pins them.

The picture is plain SVG drawn here, so it needs no charting library in the browser.
"""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np
import pandas as pd
import solara
from matplotlib import colormaps
from matplotlib.colors import Normalize, to_hex
from mesa.visualization.utils import update_counter

from sim.model import DistrictModel
from sim.outputs import OUTPUTS
from sim.schedule import format_month

# outcome -> (title, matplotlib colour map); burden is bad when high, the others good when high.
# Titles and units are the output table's (sim/outputs.py), as in the report.
METRICS: dict[str, tuple[str, str]] = {
    name: (OUTPUTS[name].axis_label[0].upper() + OUTPUTS[name].axis_label[1:], cmap)
    for name, cmap in (
        ("admin_burden", "OrRd"),
        ("service_quality", "viridis"),
        ("service_coverage", "viridis"),
        ("satisfaction", "viridis"),
    )
}
# community record columns shown for a community, with their labels
DETAILS: dict[str, str] = {
    "admin_burden": "admin burden",
    "service_coverage": "coverage",
    "service_quality": "quality",
    "satisfaction": "satisfaction",
    "participation": "participation",
    "staff_burnout": "staff burnout",
    "residents": "residents",
    "staff": "staff",
    "n_groups": "grassroots groups",
    "contracted": "catalogue contract",
    "items_refused": "items refused this month",
    "backlog_hours": "backlog (hours)",
}
NO_DATA = "#dddddd"

# SVG geometry (pixels)
# The legend takes two rows (colour bar with its ends; what it shows and the no-data swatch) so
# the picture fits the dashboard's half-width grid cell (about 470 px at a 1400 px window).
LABEL_W, CELL_W, CELL_H, GAP, TOP, LEGEND_H, LEGEND_W = 170, 34, 18, 3, 24, 46, 300
# Chinese names are drawn from the bundled CJK font the page embeds (sim.dashboard.app), which
# must come first: Chromium does not fall back past a system alias such as Arial's.
FONT_FAMILY = "'Sanshe CJK Subset', sans-serif"


def community_frame(model: DistrictModel) -> pd.DataFrame:
    """One row per community: street, place in the schematic, and the last month's numbers.

    Before the first step only the structure (residents, staff) is known; outcomes are NaN.
    """
    d = model.district
    position = np.zeros(d.n_communities, dtype=int)
    seen: dict[int, int] = {}
    for i, s in enumerate(d.community_street):
        position[i] = seen.get(int(s), 0)
        seen[int(s)] = position[i] + 1
    frame = pd.DataFrame(
        {
            "community": list(d.community_names),
            "street": [d.street_names[s] for s in d.community_street],
            "street_label": [d.street_labels[s] for s in d.community_street],
            "street_index": d.community_street.astype(int),
            "position": position,
        }
    )
    steps = model.recorder.n  # read once: while SolaraViz plays, the model steps in a thread
    if steps:
        last = model.recorder.community_columns(steps)
        for name in DETAILS:
            frame[name] = last[name][steps - 1].astype(OUTPUTS[name].dtype_at("community"))
    else:
        for name in DETAILS:
            frame[name] = np.nan
        frame["residents"] = d.residents
        frame["staff"] = d.staff
    frame["month"] = format_month(model.spec.start + max(steps, 1) - 1)
    frame["measured"] = bool(steps)
    return frame


def color_range(frame: pd.DataFrame, metric: str, stretch: bool) -> tuple[float, float]:
    """The colour scale: 0 to 1 (comparable across months and settings) or this month's range."""
    values = frame[metric].dropna()
    if not stretch or values.empty or values.min() == values.max():
        return (0.0, 1.0)
    return (float(values.min()), float(values.max()))


def cell_colors(frame: pd.DataFrame, metric: str, stretch: bool = False) -> list[str]:
    """Hex colour of each community's cell (grey where nothing is measured yet)."""
    cmap = colormaps[METRICS[metric][1]]
    norm = Normalize(*color_range(frame, metric, stretch), clip=True)
    return [NO_DATA if pd.isna(v) else to_hex(cmap(norm(v))) for v in frame[metric]]


def community_lines(row: dict[str, Any]) -> list[str]:
    """A community's numbers, one per line (for the hover text and the pinned panel)."""
    lines = [f"{row['community']} ({row['street']}), {row['month']}"]
    for name, text in DETAILS.items():
        value = row.get(name)
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        if name == "contracted":
            lines.append(f"{text}: {'yes' if value else 'no'}")
        else:  # in display units, as everywhere (sim.outputs)
            o = OUTPUTS[name]
            lines.append(f"{text}: {o.format(value)} {o.display_unit}")
    if not row.get("measured", True):
        lines.append("(not run yet: outcomes appear after the first month)")
    return lines


def district_svg(frame: pd.DataFrame, metric: str = "admin_burden", stretch: bool = False) -> str:
    """The schematic as SVG: a row of community cells per street, and a colour legend."""
    title, cmap_name = METRICS[metric]
    colors = cell_colors(frame, metric, stretch)
    n_streets = int(frame["street_index"].max()) + 1 if len(frame) else 0
    widest = int(frame["position"].max()) + 1 if len(frame) else 0
    width = max(LABEL_W + widest * (CELL_W + GAP) + 2, LABEL_W + LEGEND_W)
    height = TOP + n_streets * (CELL_H + GAP) + LEGEND_H
    month = frame["month"].iloc[0] if len(frame) else ""
    when = month if frame["measured"].all() else f"{month} (not run yet)"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" class="sanshe-district-svg" data-metric="{metric}" '
        'style="max-width: 100%; height: auto" '
        f'font-family="{FONT_FAMILY}" font-size="11">',
        f'<text x="0" y="14" font-size="13" font-weight="bold">{escape(title)} — '
        f"{escape(when)}</text>",
    ]
    streets = frame.drop_duplicates("street_index").set_index("street_index")
    for s in range(n_streets):
        y = TOP + s * (CELL_H + GAP)
        label = str(streets.loc[s, "street_label"])
        name = str(streets.loc[s, "street"])
        shown = f"{name} {label}" if label and label != name else name  # 浆洗街 Jiangxijie
        parts.append(
            f'<text x="{LABEL_W - 6}" y="{y + CELL_H - 6}" text-anchor="end" '
            f'class="sanshe-street-label">{escape(shown)}</text>'
        )
    for i, row in enumerate(frame.to_dict("records")):
        x = LABEL_W + int(row["position"]) * (CELL_W + GAP)
        y = TOP + int(row["street_index"]) * (CELL_H + GAP)
        value = row[metric]
        shown = "" if pd.isna(value) else f"{value:.3f}"
        tip = escape("\n".join(community_lines(row)))
        parts.append(
            f'<rect class="sanshe-community" data-community="{escape(str(row["community"]))}" '
            f'data-value="{shown}" x="{x}" y="{y}" width="{CELL_W}" height="{CELL_H}" rx="3" '
            f'fill="{colors[i]}" stroke="white"><title>{tip}</title></rect>'
        )
    parts.append(
        _legend(cmap_name, *color_range(frame, metric, stretch), y=height - LEGEND_H, metric=metric)
    )
    parts.append("</svg>")
    return "".join(parts)


def _legend(cmap_name: str, lo: float, hi: float, y: int, metric: str = "admin_burden") -> str:
    """A horizontal colour bar with its end values in display units (as in the report)."""
    cmap = colormaps[cmap_name]
    o = OUTPUTS[metric]
    unit = "%" if o.display_unit == "%" else ""
    lo_text = f"{o.format(lo)}{unit}"
    hi_text = f"{o.format(hi)}{unit}"
    better = {"lower": "lower is better", "higher": "higher is better"}.get(o.better or "", "")
    stops = "".join(
        f'<stop offset="{k / 10:.1f}" stop-color="{to_hex(cmap(k / 10))}"/>' for k in range(11)
    )
    x, w = LABEL_W, 160
    return (
        f'<defs><linearGradient id="sanshe-legend-{cmap_name}">{stops}</linearGradient></defs>'
        f'<rect x="{x}" y="{y + 8}" width="{w}" height="10" '
        f'fill="url(#sanshe-legend-{cmap_name})"/>'
        f'<text x="{x - 6}" y="{y + 17}" text-anchor="end" class="sanshe-legend-low">'
        f"{escape(lo_text)}</text>"
        f'<text x="{x + w + 6}" y="{y + 17}" class="sanshe-legend-high">{escape(hi_text)}</text>'
        f'<text x="{x}" y="{y + 34}" class="sanshe-legend-unit">'
        f"{escape(o.axis_label)}{escape(f', {better}' if better else '')}</text>"
        f'<rect x="{x + 210}" y="{y + 25}" width="10" height="10" fill="{NO_DATA}"/>'
        f'<text x="{x + 224}" y="{y + 34}">no value yet</text>'
    )


@solara.component
def DistrictView(model: DistrictModel) -> None:
    """The schematic, a choice of outcome, and a panel for one chosen community."""
    update_counter.get()  # redraw after each step, like Mesa's own components
    metric, set_metric = solara.use_state("admin_burden")
    stretch, set_stretch = solara.use_state(False)
    picked, set_picked = solara.use_state(None)
    frame = community_frame(model)
    with solara.Column(gap="4px", classes=["sanshe-district"]):
        with solara.Row(gap="12px", style={"align-items": "center"}):
            titles = {title: name for name, (title, _) in METRICS.items()}  # labels, not codes
            solara.Select(
                "Colour by",
                values=list(titles),
                value=METRICS[metric][0],
                on_value=lambda title: set_metric(titles[title]),
            )
            solara.Checkbox(label="stretch colours", value=stretch, on_value=set_stretch)
        solara.HTML(tag="div", unsafe_innerHTML=district_svg(frame, metric, stretch))
        names = list(frame["community"])
        solara.Select(
            "Community (or hover over a cell)",
            values=names,
            value=picked if picked in names else None,
            on_value=set_picked,
            dense=True,
        )
        if picked in names:
            row = frame[frame["community"] == picked].iloc[0].to_dict()
            with solara.Column(gap="0px", classes=["sanshe-community-details"]):
                for line in community_lines(row):
                    solara.Text(line, style={"font-size": "0.85em", "line-height": "1.3"})
