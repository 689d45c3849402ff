"""The page rendered with ``solara.render`` (no browser): controls drive the model."""

import shutil

import ipyvuetify as v
import ipywidgets
import solara

from sim.dashboard.setting import DashboardConfig, DashboardModel

from .conftest import REFORM, SCENARIOS
from .helpers import of_type, one_with_class, texts, with_class


def lever(page, name):
    """The sidebar control of a lever."""
    return one_with_class(one_with_class(page.root, "sanshe-levers"), f"sanshe-lever-{name}")


def button(root, label):
    found = [b for b in of_type(root, v.Btn) if label in (b.children or [])]
    assert len(found) == 1, f"{len(found)} buttons {label!r}"
    return found[0]


def chart_images(root):
    """PNG bytes of each chart, by its CSS class."""
    return {c.class_.split()[-1]: c.children[0].value for c in with_class(root, "sanshe-chart")}


def test_moving_a_slider_holds_that_lever_in_the_model(page):
    assert page.model.value.setting.overrides == {}
    slider = of_type(lever(page, "purchase_budget"), v.Slider)[0]
    assert slider.v_model == 37_530_000  # the scenario's value, last month of its timeline
    slider.v_model = 10_000_000.0
    shown = texts(lever(page, "purchase_budget"))
    # the lever is named by its label from the parameter table, not by its code name
    label = "Appropriation per calendar year for buying catalogue items from social…"
    assert f"{label}: 10,000,000 yuan/year" in shown
    assert "purchase_budget:" not in shown and "held at this value" in shown
    # like SolaraViz's own parameters, the change takes effect on Reset
    assert page.model.value.setting.overrides == {}
    assert "The setting has changed" in texts(one_with_class(page.root, "sanshe-scenario"))
    button(page.root, "Reset").click()
    model = page.model.value
    assert model.policy.purchase_budget == 10e6
    assert {p.purchase_budget for p in model.schedule.policies} == {10e6}
    assert model.setting.overrides == {"purchase_budget": 10e6}
    assert with_class(page.root, "sanshe-pending") == []
    # the restore button gives the scenario's timeline back
    one_with_class(lever(page, "purchase_budget"), "sanshe-restore").click()
    button(page.root, "Reset").click()
    model = page.model.value
    assert model.setting.overrides == {}
    assert model.schedule.policies[0].purchase_budget == 0
    assert model.schedule.policies[-1].purchase_budget == 37_530_000


def test_switches_and_choices_drive_the_model(page):
    of_type(lever(page, "entry_control"), v.Checkbox)[0].v_model = False
    of_type(lever(page, "procurement_mode"), v.Select)[0].v_model = "commission"
    of_type(lever(page, "brand_agencies"), v.Slider)[0].v_model = 20
    button(page.root, "Reset").click()
    model = page.model.value
    assert model.setting.overrides == {
        "entry_control": False,
        "procurement_mode": "commission",
        "brand_agencies": 20,
    }
    assert not any(p.entry_control for p in model.schedule.policies)
    assert model.policy.procurement_mode == "commission" and model.policy.brand_agencies == 20
    summary = texts(one_with_class(page.root, "sanshe-overrides"))
    assert "brand_agencies = 20" in summary and "entry_control = off" in summary


def test_run_to_end_fills_the_charts_and_the_district(page):
    before = chart_images(page.root)
    assert set(before) == {
        "sanshe-chart-burden",
        "sanshe-chart-services",
        "sanshe-chart-satisfaction",
        "sanshe-chart-organizations",
        "sanshe-chart-workers",
        "sanshe-chart-spend",
    }
    statuses = [texts(w) for w in with_class(page.root, "sanshe-chart-status")]
    assert statuses == ["0 of 48 months"] * 6
    svg = of_type(one_with_class(page.root, "sanshe-district"), solara.widgets.HTML)[0]
    assert svg.unsafe_innerHTML.count('fill="#dddddd"') == 87 + 1  # every cell, and the legend

    button(page.root, "Run to end").click()

    assert page.model.value.steps == 48 and not page.model.value.running
    assert "Month 48 of 48 (2016-12)" in texts(one_with_class(page.root, "sanshe-scenario"))
    statuses = [texts(w) for w in with_class(page.root, "sanshe-chart-status")]
    assert statuses == ["48 of 48 months"] * 6
    after = chart_images(page.root)
    assert all(after[k] != before[k] for k in before)
    svg = of_type(one_with_class(page.root, "sanshe-district"), solara.widgets.HTML)[0]
    assert svg.unsafe_innerHTML.count('fill="#dddddd"') == 1  # only the legend's swatch
    assert "Admin burden (%) — 2016-12" in svg.unsafe_innerHTML


def test_seed_and_levers_apply_on_reset_and_step_runs_the_current_model(page):
    of_type(lever(page, "service_centres"), v.Slider)[0].v_model = 30
    seed_box = one_with_class(page.root, "sanshe-seed")
    seed_box.v_model = "5"
    seed_box.fire_event("keyup.enter", {})  # the box takes its value on Enter or on leaving it
    button(page.root, "Step").click()
    button(page.root, "Step").click()
    assert page.model.value.steps == 2 and page.model.value.setting.seed == 1
    button(page.root, "Reset").click()
    model = page.model.value
    assert model.steps == 0 and model.setting.seed == 5
    assert model.setting.overrides == {"service_centres": 30}
    button(page.root, "Step").click()
    button(page.root, "Reset").click()  # Reset again: the same setting from month 1
    assert page.model.value.steps == 0 and page.model.value.setting == model.setting


def test_run_to_end_starts_a_changed_setting_first(page):
    of_type(lever(page, "incubation_base"), v.Checkbox)[0].v_model = False
    button(page.root, "Run to end").click()
    model = page.model.value
    assert model.setting.overrides == {"incubation_base": False} and model.steps == 48


def test_a_bad_seed_is_refused_where_it_is_typed(page):
    seed_box = one_with_class(page.root, "sanshe-seed")
    seed_box.v_model = "-3"
    seed_box.fire_event("keyup.enter", {})
    assert "must be 0 or more" in texts(one_with_class(page.root, "sanshe-scenario"))
    seed_box.v_model = "abc"
    seed_box.fire_event("keyup.enter", {})
    button(page.root, "Reset").click()
    assert page.model.value.setting.seed == 1


def test_the_scenario_picker_loads_another_scenario(page):
    of_type(lever(page, "purchase_budget"), v.Slider)[0].v_model = 1e6
    picker = [s for s in of_type(page.root, v.Select) if s.label == "Scenario file"]
    assert len(picker) == 1 and "baseline_2013" in picker[0].items
    picker[0].v_model = "baseline_2013"
    assert texts(lever(page, "purchase_budget")).startswith(
        "Appropriation per calendar year for buying catalogue items from social…: 0 yuan/year"
    )
    assert of_type(lever(page, "entry_control"), v.Checkbox)[0].v_model is False
    button(page.root, "Reset").click()
    model = page.model.value
    assert model.spec.name == "baseline_2013" and model.setting.overrides == {}


def test_compare_runs_a_and_b_on_the_same_seeds(page):
    compare = one_with_class(page.root, "sanshe-compare")
    [reps] = of_type(one_with_class(compare, "sanshe-replications"), v.Slider)
    reps.v_model = 2
    button(compare, "Compare A and B").click()
    shown = texts(one_with_class(compare, "sanshe-compare-result"))
    assert "A = wuhou_reform (no overrides), seed 1" in shown
    assert "B = baseline_2013 (no overrides), seed 1" in shown
    assert len(of_type(compare, ipywidgets.Image)) == 1  # the difference charts
    assert "Means over 2016" in texts(compare)


def test_export_saves_a_scenario_file_that_loads(tmp_path):
    from sim.dashboard.app import Dashboard
    from sim.scenario import load_scenario

    for name in ("wuhou_reform.toml", "baseline_2013.toml"):
        shutil.copy(SCENARIOS / name, tmp_path / name)
    config = DashboardConfig(tmp_path / "wuhou_reform.toml", tmp_path, None)
    model = solara.reactive(
        DashboardModel(scenario_file=str(config.scenario), seed=4, incubation_centres=3)
    )
    root, rc = solara.render(solara.AppLayout(children=[Dashboard(config, model)]))
    try:
        export = one_with_class(root, "sanshe-export")
        assert "incubation_centres = 3" in texts(export)
        button(export, "Save scenario file").click()
        saved = tmp_path / "wuhou_reform_dashboard.toml"
        assert "Saved" in texts(export) and saved.is_file()
        scenario = load_scenario(saved)
        assert {p.incubation_centres for p in scenario.schedule.policies} == {3}
        assert scenario.schedule.policies[-1].purchase_budget == 37_530_000
    finally:
        rc.close()


def test_the_page_starts_from_the_launch_configuration(config):
    from sim.dashboard.app import Dashboard

    root, rc = solara.render(solara.AppLayout(children=[Dashboard(config)]))
    try:
        assert "Not run yet: 48 months from 2013-01" in texts(
            one_with_class(root, "sanshe-scenario")
        )
        assert str(REFORM.name.removesuffix(".toml")) in texts(root)
    finally:
        rc.close()


def test_the_page_embeds_a_font_for_its_chinese_names():
    from sim.analysis.fonts import BUNDLED_FAMILY
    from sim.dashboard.app import chinese_text, font_css

    model = DashboardModel(scenario_file=str(REFORM), seed=1)
    text = chinese_text(model)
    assert "浆洗街" in text and "华兴" in text  # streets (and their communities)
    css = font_css(text)
    assert f'font-family: "{BUNDLED_FAMILY}"' in css and "unicode-range" in css
    assert f'.v-application {{ font-family: "{BUNDLED_FAMILY}", Roboto' in css
    assert font_css("no Chinese here") == ""
