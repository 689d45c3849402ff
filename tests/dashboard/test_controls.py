import pytest

from sim import load_scenario
from sim.dashboard.controls import control_spec, format_value, lever_rows, model_params, slider_step
from sim.dashboard.setting import DashboardModel, Setting, SettingRef
from sim.params import Policy, field_table

from .conftest import BASELINE, REFORM

TYPES = {"bool": "Checkbox", "Literal": "Select", "int": "SliderInt", "float": "SliderFloat"}


@pytest.mark.parametrize("path", [BASELINE, REFORM])
def test_every_lever_has_a_control_from_the_parameter_object(path):
    scenario = load_scenario(path)
    rows = field_table(Policy)
    assert [r["name"] for r in lever_rows()] == list(Policy.model_fields)
    for row in rows:
        spec = control_spec(row, scenario)
        assert spec["type"] == TYPES[row["type"]], row["name"]
        assert spec["doc"] == row["doc"]
        assert spec["value"] == getattr(scenario.schedule.policies[-1], row["name"])
        if spec["type"].startswith("Slider"):
            assert spec["min"] == row["min"]
            # bounds are the model's, except where the scenario's parameters cap them
            cap = scenario.params.n_assist_item_types if row["name"] == "catalogue_size" else None
            assert spec["max"] == (min(row["max"], cap) if cap else row["max"])
        if spec["type"] == "Select":
            assert spec["values"] == list(row["choices"])


def test_without_a_scenario_the_controls_show_the_model_defaults():
    from sim.scenario import default_scenario

    defaults = Policy()
    for row in lever_rows():
        assert control_spec(row, default_scenario())["value"] == getattr(defaults, row["name"])


def test_slider_steps_are_round_and_divide_the_shown_value():
    rows = {r["name"]: r for r in lever_rows()}
    assert slider_step(rows["catalogue_size"], 139) == 1
    assert slider_step(rows["entry_enforcement"], 0.8) == pytest.approx(0.001)
    assert slider_step(rows["purchase_budget"], 0) == 1e5
    step = slider_step(rows["purchase_budget"], 37_530_000)
    assert step == 1e4 and (37_530_000 / step).is_integer()


def test_model_params_rebuild_the_current_setting_through_solaraviz_reset():
    from mesa.visualization.solara_viz import _build_model_init_kwargs, split_model_params

    current = SettingRef(Setting(str(REFORM), {}, 1))
    params = model_params(current)
    user, fixed = split_model_params(params)
    assert user == {} and fixed == params  # nothing for SolaraViz's own inputs
    current.setting = Setting(str(REFORM), {"purchase_budget": 1e6, "entry_control": False}, 7)
    # what SolaraViz's Reset does: the model's class, called with the fixed values (and Mesa's
    # own scenario object, which the model ignores)
    model = DashboardModel(setting=Setting(str(REFORM), {}, 1))
    kwargs = _build_model_init_kwargs(
        model, fixed, add_scenario_when_empty=True, require_model_accepts_scenario=True
    )
    assert type(model)(**kwargs).setting == current.setting


def test_values_are_shown_with_units_readably():
    assert format_value(30_850_000.0) == "30,850,000"
    assert format_value(0.8) == "0.8" and format_value(True) == "on" and format_value("tender")
