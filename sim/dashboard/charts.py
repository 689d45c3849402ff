"""Live charts of district outcomes, month by month, from the model's DataCollector.

Each chart reads the flat district reporters (``model.datacollector.get_model_vars_dataframe()``;
columns in ``docs/outputs.md``) and is drawn over the scenario's whole calendar, so it fills in as
the run goes. Dotted vertical lines mark the months in which the setting changes a lever.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from weakref import WeakKeyDictionary

import matplotlib.dates as mdates
import pandas as pd
import reacton.ipywidgets as rw
import solara
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.model import DistrictModel
from sim.outputs import OUTPUTS, Output
from sim.schedule import format_month


@dataclass(frozen=True)
class ChartSpec:
    """One chart: which district outputs it plots, and how. Units, display scale and y range come
    from the output table (sim/outputs.py), so a chart shows the numbers the tables show."""

    key: str
    title: str
    series: tuple[tuple[str, str], ...]  # (column, legend label)
    dashed: tuple[str, ...] = ()  # columns drawn dashed (budgets)
    right: tuple[str, ...] = ()  # columns on a second y axis, on the right
    right_label: str = ""
    right_room: float = 1.0  # the right axis' top over its lines' top (>1: they stay lower)

    def _outputs(self, right: bool) -> list[Output]:
        return [OUTPUTS[c] for c, _ in self.series if (c in self.right) == right]

    @property
    def scale(self) -> float:
        """Display scale of the plotted outputs (one per chart: they share the axes' units)."""
        return OUTPUTS[self.series[0][0]].display_scale

    @property
    def ylabel(self) -> str:
        """The left axis' display unit(s)."""
        return " / ".join(dict.fromkeys(o.display_unit for o in self._outputs(False)))

    @property
    def share(self) -> bool:
        """Every series a bounded 0-1 quantity: a fixed y axis from 0 to 100 % or points."""
        return all("0-1" in o.unit or "share" in o.unit for o in self._outputs(False))


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec(
        "burden",
        "Administrative burden",
        (("admin_burden", "share of staff hours on admin items"),),
    ),
    ChartSpec(
        "services",
        "Service coverage and quality",
        (("service_coverage", "coverage"), ("service_quality", "quality")),
    ),
    ChartSpec(
        "satisfaction",
        "Resident satisfaction",
        (("satisfaction", "satisfaction"), ("participation", "participation")),
        right=("participation",),  # a few % of residents: on its own axis, or it reads as 0
        right_label="participation (% of residents)",
    ),
    ChartSpec(
        "organizations",
        "Social organizations by kind",
        (
            ("n_orgs_grassroots", "grassroots groups"),
            ("n_orgs_agency", "local agencies"),
            ("n_orgs_brand", "brand agencies"),
        ),
        right=("n_orgs_agency", "n_orgs_brand"),
        right_label="agencies",
    ),
    ChartSpec(
        "workers",
        "Social workers",
        (("n_social_workers", "employed"), ("social_workers_pool", "without a post")),
    ),
    ChartSpec(
        "spend",
        "Spend against budget (year to date)",
        (
            ("purchase_appropriated_ytd", "purchase budget"),
            ("purchase_spent_ytd", "purchase spent"),
            ("project_appropriated_ytd", "project budget"),
            ("project_spent_ytd", "project spent"),
        ),
        dashed=("purchase_appropriated_ytd", "project_appropriated_ytd"),
        # The project budget is about a tenth of the purchase budget: on its own axis, or its
        # lines hug 0.
        right=("project_appropriated_ytd", "project_spent_ytd"),
        right_label="projects (M yuan)",
        right_room=2.0,  # project lines in the lower half, apart from the purchase lines
    ),
)
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7")  # Okabe & Ito: safe for colour blindness


def district_frame(model: DistrictModel) -> pd.DataFrame:
    """The district outputs so far, one row per month, with a ``date`` column.

    Read from the model's recorder (the arrays behind its DataCollector), so the numbers are those
    of the result tables. Computed once per model and month: every chart reads it. While
    SolaraViz plays, the model steps in another thread; the recorder's month count is read once
    and only complete months are used.
    """
    n = model.recorder.n
    cached = _FRAMES.get(model)
    if cached is not None and cached[0] == n:
        return cached[1]
    if n == 0:
        df = district_frame_empty()
    else:
        df = pd.DataFrame(model.recorder.district_columns(n))
        df.insert(0, "date", month_dates(model.spec.start, n))
    _FRAMES[model] = (n, df)
    return df


_FRAMES: WeakKeyDictionary[DistrictModel, tuple[int, pd.DataFrame]] = WeakKeyDictionary()


def month_dates(start: int, n: int) -> pd.DatetimeIndex:
    """The first day of each of ``n`` months from month index ``start``."""
    return pd.to_datetime([format_month(start + i) for i in range(n)], format="%Y-%m")


def change_months(model: DistrictModel) -> list[int]:
    """Month indexes (after the first) in which the model's setting changes a lever."""
    return sorted({t for t, _, _ in model.schedule.changes if t > model.spec.start})


def outcome_figure(
    spec: ChartSpec, frame: pd.DataFrame, start: int, months: int, changes: Sequence[int] = ()
) -> Figure:
    """One chart as a matplotlib figure (built without pyplot, so it is thread-safe).

    Args:
        spec: what to plot.
        frame: :func:`district_frame` of the run so far.
        start, months: the run's calendar (first month index, length): the x axis.
        changes: month indexes in which a lever changes (dotted lines).

    Fixed margins rather than a layout engine, and the legend in a row above the plot: the
    charts are redrawn after every step, so they must draw fast.
    """
    fig = Figure(figsize=(5.2, 3.0), dpi=96)
    rows = 2 if len(spec.series) > 3 else 1  # legend rows above the plot
    top = 0.8 if rows == 1 else 0.72
    fig.subplots_adjust(left=0.11, right=0.89 if spec.right else 0.97, top=top, bottom=0.1)
    ax = fig.subplots()
    calendar = month_dates(start, months)
    ax.set_xlim(calendar[0], calendar[-1])
    if changes:
        marks = [month_dates(t, 1)[0] for t in changes]
        ax.vlines(marks, 0, 1, transform=ax.get_xaxis_transform(), colors="0.7", ls=":", lw=1)
    right = ax.twinx() if spec.right else None
    handles = []
    for (column, name), color in zip(spec.series, COLORS, strict=False):
        target = right if column in spec.right else ax
        style = "--" if column in spec.dashed else "-"
        label = f"{name} (right)" if column in spec.right else name
        if len(frame):
            values = frame[column].astype(float) * OUTPUTS[column].display_scale
            (line,) = target.plot(frame["date"], values, style, color=color, label=label, lw=1.6)
        else:
            (line,) = target.plot([], [], style, color=color, label=label)
        handles.append(line)
    for axis in (ax, right):
        if axis is None:
            continue
        if axis is ax and (spec.share or not len(frame)):
            axis.set_ylim(0, spec.scale if spec.share else 1)
        else:  # free scale from 0 (the right axis: a small share must not read as 0)
            axis.set_ylim(bottom=0)
            top = axis.get_ylim()[1] * (spec.right_room if axis is right else 1.0)
            axis.set_ylim(top=max(top, 1 if axis is ax else 0.1))
        axis.tick_params(labelsize=8)
    if right is not None:
        right.set_ylabel(spec.right_label, fontsize=8)
    status = f"to {format_month(start + len(frame) - 1)}" if len(frame) else "not run yet"
    fig.text(0.01, 0.95, f"{spec.title} — {status}", fontsize=10, va="center")
    ax.set_ylabel(spec.ylabel, fontsize=8)
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.xaxis.set_minor_locator(mdates.MonthLocator(bymonth=(4, 7, 10)))
    for axis in (ax, right):
        if axis is not None:
            axis.yaxis.set_major_locator(MaxNLocator(5))
    ax.legend(
        handles=handles,
        fontsize=7,
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncol=-(-len(handles) // rows),
        frameon=False,
        borderaxespad=0.2,
        handlelength=1.6,
        columnspacing=1.0,
    )
    return fig


def chart_png(model: DistrictModel, spec: ChartSpec) -> bytes:
    """The chart as PNG bytes, drawn once per model and month.

    Charts of a run not started yet depend only on the calendar and the lever changes, so they are
    shared between models (moving a lever starts a new run: its charts then cost nothing).
    """
    frame = district_frame(model)
    calendar = (model.spec.start, model.spec.months, tuple(change_months(model)))
    if len(frame) == 0:
        return _empty_png(spec, *calendar)
    key = (spec.key, len(frame))
    cached = _PNGS.setdefault(model, {})
    if key not in cached:
        cached[key] = _png(outcome_figure(spec, frame, *calendar))
    return cached[key]


_PNGS: WeakKeyDictionary[DistrictModel, dict[tuple[str, int], bytes]] = WeakKeyDictionary()


@lru_cache(maxsize=256)
def _empty_png(spec: ChartSpec, start: int, months: int, changes: tuple[int, ...]) -> bytes:
    return _png(outcome_figure(spec, district_frame_empty(), start, months, changes))


def district_frame_empty() -> pd.DataFrame:
    """The frame of a run with no month yet."""
    return pd.DataFrame(columns=["date", *(c for s in CHARTS for c, _ in s.series)])


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def make_chart_component(spec: ChartSpec) -> Callable[[DistrictModel], None]:
    """A SolaraViz component (a function of the model) drawing one chart, like Mesa's
    ``make_plot_component``; SolaraViz redraws it after every step."""

    def Chart(model: DistrictModel):
        png = chart_png(model, spec)
        months = len(district_frame(model))
        with solara.Column(gap="0px", classes=["sanshe-chart", f"sanshe-chart-{spec.key}"]):
            rw.Image(value=png, format="png")
            # Says what is plotted, for readers of small screens and for the browser test.
            solara.Text(
                f"{months} of {model.spec.months} months",
                classes=["sanshe-chart-status"],
                style={"font-size": "0.75em", "color": "#666"},
            )

    Chart.__name__ = f"Chart_{spec.key}"
    return Chart
