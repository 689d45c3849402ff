"""The dashboard page: Mesa's SolaraViz with the district model's panels.

The only module that composes the UI (like ``app.py`` in Mesa's examples). Run it with
``sanshe dashboard`` (or ``solara run sim.dashboard.app``); launch settings come from the
environment (:class:`~sim.dashboard.setting.DashboardConfig`).

Layout. Sidebar: the scenario card (picker, seed, run status, Run to end), SolaraViz's own cards
(Reset / ▶ / Step, play and render intervals), then one control per policy lever. Main
area, three tabs: *Run* (SolaraViz's grid: live charts, the district schematic, the setting of the
run), *Compare* (A against B on the same seeds) and *Export* (the setting as a scenario file).

State. The page's controls edit a setting (scenario file, seed, overrides); like SolaraViz's own
parameters, it takes effect when the run is started again: SolaraViz's Reset builds the model from
its ``model_params``, a :class:`~sim.dashboard.setting.SettingRef` that the page points at the
setting its controls show (Run to end does the same first). Until then the scenario card says
which setting the charts show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import mesa.visualization.solara_viz as solara_viz
import solara
import solara.lab
from mesa.visualization import SolaraViz
from mesa.visualization.utils import force_update, update_counter

from sim.analysis.fonts import BUNDLED_FAMILY, css_font_face
from sim.dashboard.charts import CHARTS, make_chart_component
from sim.dashboard.compare import CompareView
from sim.dashboard.controls import LeverControls, format_value, model_params
from sim.dashboard.district_view import DistrictView
from sim.dashboard.export import ExportView
from sim.dashboard.setting import (
    DashboardConfig,
    DashboardModel,
    Setting,
    SettingRef,
    label_of,
    parse_seed,
)
from sim.errors import UserError
from sim.schedule import format_month

TITLE = "sanshe: community governance reform dashboard"


def SettingSummary(model: DashboardModel) -> None:
    """What this run is: scenario, overrides, seed, and the lever changes month by month."""
    setting = model.setting
    held = ", ".join(f"{k} = {format_value(v)}" for k, v in setting.overrides.items())
    changes = [
        f"{format_month(t)}: {lever} → {format_value(v)}"
        for t, lever, v in model.schedule.changes
        if t > model.spec.start
    ]
    with solara.Column(gap="2px", classes=["sanshe-setting"], style={"font-size": "0.85em"}):
        solara.Text("This run", style={"font-weight": "bold", "font-size": "1.1em"})
        solara.Text(f"Scenario: {setting.name} ({setting.scenario_file or 'model defaults'})")
        solara.Text(f"Seed: {setting.seed}")
        solara.Text(
            f"Held for the whole run (overrides): {held}" if held else "Overrides: none",
            classes=["sanshe-overrides"],
        )
        solara.Text(
            "Lever changes during the run (dotted lines on the charts):"
            if changes
            else "No lever changes during the run.",
            style={"margin-top": "6px"},
        )
        for line in changes:
            solara.Text(line, style={"font-size": "0.9em", "line-height": "1.25"})


COMPONENTS = [*(make_chart_component(spec) for spec in CHARTS), DistrictView, SettingSummary]


@solara.component
def ScenarioCard(
    model: DashboardModel,
    setting: Setting,
    choices: dict[str, Path],
    on_change: Callable[[Setting], None],
    on_run_to_end: Callable[[], None],
) -> None:
    """Scenario picker, seed, what the scenario is, run status and Run to end."""
    update_counter.get()  # the status follows the steps
    seed_error, set_seed_error = solara.use_state(None)

    def seed(value: int | None) -> None:
        try:
            on_change(replace(setting, seed=parse_seed(value)))
            set_seed_error(None)
        except UserError as exc:
            set_seed_error(str(exc))

    with solara.Card("Scenario", classes=["sanshe-scenario"]), solara.Column(gap="8px"):
        solara.Select(
            "Scenario file",
            values=list(choices),
            value=label_of(choices, setting.scenario_file),
            on_value=lambda label: on_change(Setting(str(choices[label]), {}, setting.seed)),
        )
        solara.InputInt(
            "Seed (Enter to apply)", value=setting.seed, on_value=seed, classes=["sanshe-seed"]
        )
        if seed_error:
            solara.Error(seed_error, dense=True)
        description = " ".join(setting.base.description.split())
        if description:
            with solara.Details("What it is"):
                solara.Text(description, style={"font-size": "0.85em"})
        spec = model.spec
        status = (
            f"Month {model.steps} of {spec.months} ({model.month})"
            if model.steps
            else f"Not run yet: {spec.months} months from {spec.start_month}"
        )
        with solara.Column(gap="6px"):
            if setting != model.setting:
                solara.Warning(
                    "The setting has changed: Reset (or Run to end) starts a run with it. "
                    f"The charts show {model.setting.describe()}.",
                    dense=True,
                    classes=["sanshe-pending"],
                )
            solara.Text(status, classes=["sanshe-status"], style={"font-weight": "bold"})
            solara.Button(
                "Run to end",
                on_click=on_run_to_end,
                color="primary",
                disabled=not model.running and setting == model.setting,
                classes=["sanshe-run-to-end"],
            )
            solara.Text(
                "Or use the run controls below: ▶ runs month by month, Step one month, and "
                "Reset starts again from month 1 with the setting shown here.",
                style={"font-size": "0.8em", "color": "#666"},
            )


@solara.component
def MonthShown(model: Any) -> None:
    """SolaraViz's 'Information' card, in months: 'Month 48 of 48 (2016-12)', not 'Time: 48.0'."""
    update_counter.get()
    spec = getattr(model, "spec", None)
    if spec is None or not getattr(model, "steps", 0):
        text = f"Not run yet: {spec.months} months from {spec.start_month}" if spec else ""
    else:
        text = f"Month {model.steps} of {spec.months} ({model.month})"
    solara.Text(text, classes=["sanshe-month"])


# SolaraViz draws its step counter with the module-level ShowSteps component ("Time: 48.0");
# the page shows months instead. The other leftovers (a single "Page 0" tab, the "Use Threads"
# box: threads would step the model while the charts read it) are hidden with CSS below.
solara_viz.ShowSteps = MonthShown
LEFTOVER_CSS = """
.sanshe-run .v-tabs { display: none; }
.v-card:not(.sanshe-levers):not(.sanshe-scenario):has(.v-slider) .v-input--checkbox {
    display: none; }
"""


def chinese_text(model: DashboardModel) -> str:
    """The Chinese text the page may show for a model: its streets and communities (the map, the
    community picker) and its scenario's name and description."""
    d = model.district
    setting = model.setting
    return "".join(
        (
            *d.street_names,
            *d.community_names,
            setting.name,
            setting.base.description,
            TITLE,
        )
    )


def font_css(text: str) -> str:
    """The bundled CJK font cut down to ``text``'s Chinese characters, first in the page's font
    list: without it a machine with no CJK font shows street names as empty boxes."""
    face = css_font_face(text)
    if not face:
        return ""
    return face + f'.v-application {{ font-family: "{BUNDLED_FAMILY}", Roboto, sans-serif; }}\n'


@solara.component
def Dashboard(
    config: DashboardConfig, model: solara.Reactive[DashboardModel] | None = None
) -> None:
    """The dashboard for a launch configuration; ``model`` lets a test hold the page's model."""
    first = str(config.scenario) if config.scenario else ""
    initial = solara.use_memo(lambda: DashboardModel(scenario_file=first, seed=1), [])
    own = solara.use_reactive(initial)
    model = model if model is not None else own
    current = solara.use_memo(lambda: SettingRef(model.value.setting), [])
    setting, set_setting = solara.use_state(current.setting)
    params = solara.use_memo(lambda: model_params(current), [])
    choices = config.choices()

    def change(new: Setting) -> None:
        current.setting = new  # what SolaraViz's Reset will start
        set_setting(new)

    def run_to_end() -> None:
        if model.value.setting != setting:
            model.value = DashboardModel(setting=setting)
        model.value.run_to_end()
        force_update()

    # SolaraViz always draws a "Model Parameters" card for its own inputs; this page has none (its
    # controls are the scenario and lever cards), so the card, left empty, is hidden.
    text = chinese_text(model.value)
    fonts = solara.use_memo(lambda: font_css(text), [text])
    solara.Style(
        ".v-card:has(> .v-card__text > .v-sheet:empty) { display: none; }" + LEFTOVER_CSS + fonts
    )
    with solara.Sidebar():
        ScenarioCard(model.value, setting, choices, change, run_to_end)

    with solara.lab.Tabs():
        with solara.lab.Tab("Run"), solara.Column(classes=["sanshe-run"]):
            SolaraViz(model, components=COMPONENTS, model_params=params, name=TITLE)
            LeverSidebar(
                setting,
                lambda lever, value: change(setting.with_override(lever, value)),
                lambda lever: change(setting.without_override(lever)),
            )
        with solara.lab.Tab("Compare"):
            CompareView(setting, choices, config.results)
        with solara.lab.Tab("Export"):
            ExportView(setting, config.scenarios_dir)


@solara.component
def LeverSidebar(
    setting: Setting,
    on_change: Callable[[str, Any], None],
    on_restore: Callable[[str], None],
) -> None:
    """The lever card, placed in the sidebar below SolaraViz's cards.

    Solara orders sidebar content by how deep in the page it is added; this component sits beside
    SolaraViz and adds the card one level deeper (in :func:`LeverCard`), so it comes after the run
    controls.
    """
    LeverCard(setting, on_change, on_restore)


@solara.component
def LeverCard(
    setting: Setting,
    on_change: Callable[[str, Any], None],
    on_restore: Callable[[str], None],
) -> None:
    """One control per policy lever, generated from the parameter object."""
    with solara.Sidebar(), solara.Card("Policy levers", classes=["sanshe-levers"]):
        solara.Text(
            "Each starts at the scenario's value (the last month's, for a timeline). A lever "
            "you move is held at that value for the whole run; ↺ restores the scenario's value. "
            "Changes take effect on Reset.",
            style={"font-size": "0.8em", "color": "#666"},
        )
        LeverControls(setting.base, setting.overrides, on_change, on_restore)


@solara.component
def Page() -> None:
    """The page ``solara run`` serves."""
    config = solara.use_memo(DashboardConfig.from_env, [])
    Dashboard(config)
