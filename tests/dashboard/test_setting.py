import pytest

from sim import DistrictModel, load_scenario
from sim.dashboard.setting import (
    LEVERS,
    DashboardConfig,
    DashboardModel,
    Setting,
    SettingRef,
    check_overrides,
    has_timeline,
    label_of,
    parse_seed,
    scenario_files,
    scenario_value,
    timeline,
)
from sim.errors import UserError
from sim.params import Policy

from .conftest import BASELINE, REFORM, SCENARIOS


def test_levers_are_the_policy_fields():
    assert tuple(Policy.model_fields) == LEVERS


def test_scenario_value_is_the_last_month_of_a_timeline():
    sc = load_scenario(REFORM)
    assert scenario_value(sc, "purchase_budget") == 37_530_000
    assert has_timeline(sc, "purchase_budget") and not has_timeline(sc, "entry_enforcement")
    assert timeline(sc, "entry_control") == [("2013-01", False), ("2013-10", True)]


def test_dashboard_model_without_overrides_is_the_scenario_run():
    a = DashboardModel(scenario_file=str(REFORM), seed=3)
    b = DistrictModel(load_scenario(REFORM), rng=3)
    a.run_for(14)
    b.run_for(14)
    assert a.setting.overrides == {} and a.setting.seed == 3
    assert a.results()["district"].equals(b.results()["district"])


def test_an_override_holds_the_lever_for_the_whole_run():
    m = DashboardModel(scenario_file=str(REFORM), seed="2", purchase_budget=10e6)
    assert m.setting.overrides == {"purchase_budget": 10e6} and m.setting.seed == 2
    assert {p.purchase_budget for p in m.schedule.policies} == {10e6}
    # the other levers keep their timelines
    assert m.schedule.policies[0].entry_control is False and m.schedule.policies[-1].entry_control


def test_overrides_are_coerced_to_the_lever_type_and_checked():
    assert check_overrides({"catalogue_size": 120.0, "purchase_budget": 5}) == {
        "catalogue_size": 120,
        "purchase_budget": 5.0,
    }
    with pytest.raises(UserError, match="not a policy lever"):
        check_overrides({"hours_per_item": 3})


def test_with_override_ignores_a_control_settling_on_the_value_it_shows():
    s = Setting(str(REFORM), {}, 1)
    assert s.with_override("purchase_budget", 37_530_000.0000001) is s
    moved = s.with_override("purchase_budget", 0)
    assert moved.overrides == {"purchase_budget": 0.0}
    # once moved, going back to the scenario's last value still holds it (no timeline)
    assert moved.with_override("purchase_budget", 37_530_000).overrides == {
        "purchase_budget": 37_530_000.0
    }
    assert moved.without_override("purchase_budget").overrides == {}


@pytest.mark.parametrize("text", ["x", "1.5", "-1", ""])
def test_bad_seeds_are_user_errors(text):
    with pytest.raises(UserError, match="seed"):
        parse_seed(text)
    assert parse_seed(" 42 ") == 42


def test_mesa_scenario_passed_by_solaraviz_reset_is_ignored():
    from mesa.experimental.scenarios import Scenario as MesaScenario

    m = DashboardModel(scenario_file=str(BASELINE), seed=1, scenario=MesaScenario())
    assert m.spec.name == "baseline_2013"


def test_steps_stop_at_the_end_of_the_run():
    m = DashboardModel(scenario_file=str(REFORM), seed=1)
    assert m.month is None
    m.run_to_end()
    assert m.steps == 48 and not m.running and m.month == "2016-12"
    m.step()
    m.run_to_end()
    assert m.steps == 48 and len(m.results()["district"]) == 48


def test_config_round_trips_through_the_environment(tmp_path):
    cfg = DashboardConfig(REFORM.resolve(), SCENARIOS.resolve(), tmp_path)
    assert DashboardConfig.from_env(cfg.to_env()) == cfg
    default = DashboardConfig.from_env({DashboardConfig.ENV["scenarios_dir"]: str(SCENARIOS)})
    assert default.scenario == SCENARIOS / "wuhou_reform.toml" and default.results is None


def test_choices_are_the_scenario_files_plus_the_launch_file(tmp_path):
    extra = tmp_path / "mine.toml"
    extra.write_text('extends = "' + str(REFORM) + '"\n')
    cfg = DashboardConfig(extra, SCENARIOS, None)
    choices = cfg.choices()
    assert list(choices)[:-1] == [p.stem for p in scenario_files(SCENARIOS)]
    assert choices["mine"] == extra and choices["wuhou_reform"] == SCENARIOS / "wuhou_reform.toml"
    assert label_of(choices, str(extra)) == "mine" and label_of(choices, None) is None
    # two files of one name are told apart by their path
    twin = tmp_path / "wuhou_reform.toml"
    twin.write_text('extends = "' + str(REFORM) + '"\n')
    choices = DashboardConfig(twin, SCENARIOS, None).choices()
    assert choices[str(twin)] == twin and choices[str(REFORM)] == REFORM
    assert label_of(choices, str(twin)) == str(twin)


def test_a_model_from_a_setting_or_a_reference_to_one():
    setting = Setting(str(REFORM), {"brand_agencies": 2}, 9)
    ref = SettingRef(setting)
    assert DashboardModel(setting=setting).setting == setting
    assert DashboardModel(setting=ref).setting == setting
    with pytest.raises(TypeError):
        DashboardModel(setting=setting, brand_agencies=3)
