"""Controls for the policy levers, generated from the one parameter object.

Each lever's control comes from :func:`sim.params.field_table` (type, bounds, unit, description),
so the dashboard never restates a default, a bound or a unit: a switch for an on/off lever, a
choice for a lever with named options, an integer or decimal slider otherwise. A control shows the
chosen scenario's value until the user moves it; a moved lever is an override (see
:mod:`sim.dashboard.setting`), marked as such, with a button that restores the scenario's value.

:func:`model_params` gives SolaraViz what its Reset needs to rebuild the current setting.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import solara

from sim.dashboard.setting import SettingRef, has_timeline, scenario_value, timeline
from sim.params import Policy, field_table
from sim.scenario import Scenario

SLIDER_STEPS = 1000  # a slider moves in steps of about 1/1000 of its range, rounded to 10^k


def lever_rows() -> list[dict[str, Any]]:
    """``field_table(Policy)``: one row per lever."""
    return field_table(Policy)


def slider_step(row: Mapping[str, Any], value: Any = None) -> float | int:
    """A round step for a lever's slider: 1 for integers; for decimals a power of ten near
    1/1000 of the range, made finer until it divides ``value`` (so the slider can show the
    scenario's value exactly instead of rounding it, which would count as moving it)."""
    if row["type"] == "int":
        return 1
    span = float(row["max"]) - float(row["min"])
    k = math.floor(math.log10(span / SLIDER_STEPS))
    if value is not None:
        while k > -6 and not _multiple(float(value) - float(row["min"]), 10.0**k):
            k -= 1
    return 10.0**k


def _multiple(x: float, step: float) -> bool:
    ratio = x / step
    return math.isclose(ratio, round(ratio), abs_tol=1e-6)


def upper_bound(row: Mapping[str, Any], scenario: Scenario) -> float | int:
    """A lever's slider maximum: its bound, capped where the scenario's parameters cap it."""
    if row["name"] == "catalogue_size":  # a scenario check: no more than Params' item types
        return min(row["max"], scenario.params.n_assist_item_types)
    return row["max"]


def control_spec(row: Mapping[str, Any], scenario: Scenario) -> dict[str, Any]:
    """One lever's control: widget type, the scenario's value, and bounds and step for sliders.

    The ``type`` names are those of SolaraViz's ``model_params`` (Checkbox, Select, SliderInt,
    SliderFloat).
    """
    spec: dict[str, Any] = {
        "name": row["name"],
        "label": row["label"],
        "unit": "" if row["type"] == "bool" else row["unit"],
        "doc": row["doc"],
        "value": scenario_value(scenario, row["name"]),
    }
    if row["type"] == "bool":
        spec["type"] = "Checkbox"
    elif row["type"] == "Literal":
        spec.update(type="Select", values=list(row["choices"]))
    else:
        kind = "SliderInt" if row["type"] == "int" else "SliderFloat"
        spec.update(
            type=kind,
            min=row["min"],
            max=upper_bound(row, scenario),
            step=slider_step(row, spec["value"]),
        )
    return spec


def model_params(current: SettingRef) -> dict[str, Any]:
    """SolaraViz ``model_params`` for :class:`~sim.dashboard.setting.DashboardModel`.

    One fixed value, the reference to the page's current setting, so SolaraViz's Reset restarts
    whatever the page's controls show. The page's own controls (which show their values and
    check them as they are entered) change the setting.
    """
    return {"setting": current}


def timeline_text(scenario: Scenario, lever: str) -> str:
    """A lever's timeline in the scenario, e.g. ``2013-01: 0 → 2014-01: 30,850,000``."""
    return " → ".join(f"{month}: {format_value(v)}" for month, v in timeline(scenario, lever))


def format_value(value: Any) -> str:
    """A lever value for display: thousands separators for large numbers."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


@solara.component
def LeverControl(
    spec: Mapping[str, Any],
    scenario: Scenario,
    override: Any,
    on_value: Callable[[Any], None],
    on_restore: Callable[[], None],
) -> None:
    """One lever: its name and value, the widget, and what the value means for the run.

    ``override`` is the held value, or None when the lever follows the scenario.
    """
    name = spec["name"]
    overridden = override is not None
    value = override if overridden else spec["value"]
    unit = f" {spec['unit']}" if spec["unit"] else ""
    with solara.Column(gap="0px", classes=["sanshe-lever", f"sanshe-lever-{name}"]):
        with solara.Row(gap="4px", style={"align-items": "center"}):
            solara.v.Html(
                tag="span",
                # the lever's description and its name in scenario files on hover
                attributes={"title": f"{spec['doc']} (scenario key: policy.{name})"},
                style_="font-weight: bold;" if overridden else "",
                children=[f"{spec['label']}: {format_value(value)}{unit}"],
            )
            if overridden:
                solara.Button(
                    icon_name="mdi-restore",
                    icon=True,
                    small=True,
                    on_click=on_restore,
                    classes=["sanshe-restore"],
                    attributes={"title": "restore the scenario's value"},
                )
        kind = spec["type"]
        if kind == "Checkbox":
            solara.Checkbox(label="in force", value=bool(value), on_value=on_value)
        elif kind == "Select":
            solara.Select("", values=spec["values"], value=value, on_value=on_value, dense=True)
        else:
            slider = solara.SliderInt if kind == "SliderInt" else solara.SliderFloat
            slider(
                "",
                value=value,
                min=spec["min"],
                max=spec["max"],
                step=spec["step"],
                on_value=on_value,
            )
        if overridden:
            note = "override: held at this value for the whole run"
        elif has_timeline(scenario, name):
            note = f"scenario timeline: {timeline_text(scenario, name)}"
        else:
            note = "as in the scenario"
        solara.Text(note, style={"font-size": "0.75em", "color": "#666", "line-height": "1.2"})


@solara.component
def LeverControls(
    scenario: Scenario,
    overrides: Mapping[str, Any],
    on_change: Callable[[str, Any], None],
    on_restore: Callable[[str], None],
    columns: int = 1,
) -> None:
    """A control for every lever, in the order of :class:`~sim.params.Policy`."""
    with solara.GridFixed(columns=columns, column_gap="24px", row_gap="8px"):
        for row in lever_rows():
            name = row["name"]
            LeverControl(
                control_spec(row, scenario),
                scenario,
                overrides.get(name),
                on_value=lambda value, name=name: on_change(name, value),
                on_restore=lambda name=name: on_restore(name),
            )
