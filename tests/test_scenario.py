from pathlib import Path

import pytest

from sim.errors import ScenarioError
from sim.scenario import load_scenario, parse_assignment

from .conftest import SCENARIOS


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_scenarios_load():
    for path in SCENARIOS.glob("*.toml"):
        sc = load_scenario(path)
        assert sc.months >= 1 and sc.description.strip(), path


def test_reform_follows_the_facts_timeline():
    s = load_scenario(SCENARIOS / "wuhou_reform.toml").schedule
    # months from 2013-01: 9 = 2013-10 (A1, A9), 12 = 2014-01, 24 = 2015-01, 36 = 2016-01 (A5)
    assert not s.at(8).entry_control and s.at(9).entry_control
    assert [s.at(m).purchase_budget for m in (11, 12, 24, 36)] == [0, 30.85e6, 37.31e6, 37.53e6]
    assert s.at(47).catalogue_size == 139  # A4
    assert (s.at(47).registration_members, s.at(47).registration_capital) == (5, 3000)  # A12
    assert not s.at(47).registration_prior_approval
    assert (s.at(47).service_centres, s.at(47).service_centre_streets) == (9, 8)  # A11
    assert s.at(47).incubation_centres == 1 and s.at(47).brand_agencies == 8  # A11, A14


def test_extends_inherits_and_overrides(tmp_path):
    write(
        tmp_path,
        "base.toml",
        'name = "base"\n[policy]\nentry_control = true\n[params]\nhours_per_item = 5.0\n',
    )
    child = write(
        tmp_path, "child.toml", 'extends = "base.toml"\n[params]\nstatutory_share = 0.3\n'
    )
    sc = load_scenario(child)
    assert sc.name == "child"  # identity is not inherited
    assert sc.schedule.at(0).entry_control
    assert sc.params.hours_per_item == 5.0 and sc.params.statutory_share == 0.3


def test_overrides_replace_a_timeline_or_set_one_date():
    path = SCENARIOS / "wuhou_reform.toml"
    flat = load_scenario(path, ["policy.purchase_budget=0"])
    assert all(p.purchase_budget == 0 for p in flat.schedule.policies)
    one = load_scenario(path, ["policy.purchase_budget.2015-01=5e7"])
    assert (
        one.schedule.at(24).purchase_budget == 5e7
        and one.schedule.at(12).purchase_budget == 30.85e6
    )
    mode = load_scenario(path, ["policy.procurement_mode=commission"])  # bare word accepted
    assert mode.schedule.at(20).procurement_mode == "commission"
    assert load_scenario(path).hash != flat.hash


def test_hash_is_stable():
    a = load_scenario(SCENARIOS / "wuhou_reform.toml")
    b = load_scenario(SCENARIOS / "wuhou_reform.toml")
    assert a.hash == b.hash


def test_parse_assignment_reads_toml_values():
    assert parse_assignment("policy.entry_control=true") == ("policy.entry_control", True)
    assert parse_assignment("params.hours_per_item = 7.5") == ("params.hours_per_item", 7.5)
    assert parse_assignment("policy.procurement_mode=commission")[1] == "commission"


BAD_FILES = [
    ("unknown top-level key", 'name = "x"\ncolour = "red"\n', "colour"),
    ("unknown lever", "[policy]\nentry_controll = true\n", "policy.entry_controll"),
    ("unknown parameter", "[params]\nhours_per_itme = 3\n", "params.hours_per_itme"),
    ("wrong type", '[policy]\nentry_control = "yes"\n', "policy.entry_control"),
    ("int given a float", "[policy]\nregistration_members = 5.5\n", "policy.registration_members"),
    ("out of range", "[policy]\nentry_enforcement = 1.5\n", "policy.entry_enforcement"),
    ("negative budget", "[policy]\npurchase_budget = -1\n", "policy.purchase_budget"),
    ("bad choice", '[policy]\nprocurement_mode = "auction"\n', "policy.procurement_mode"),
    ("param out of range", "[params]\nstatutory_share = 0.95\n", "params.statutory_share"),
    (
        "bad month",
        '[policy]\nentry_control = { "2013-13" = true }\n',
        "policy.entry_control.2013-13",
    ),
    (
        "timeline starts late",
        '[policy]\nentry_control = { "2013-10" = true }\n',
        "policy.entry_control",
    ),
    ("bad start", '[run]\nstart = "October 2013"\n', "run.start"),
    ("months <= 0", "[run]\nmonths = 0\n", "run.months"),
    ("unknown run key", "[run]\nsteps = 4\n", "run.steps"),
    ("section not a table", "policy = 3\n", "policy"),
    ("catalogue too big", "[policy]\ncatalogue_size = 300\n", "policy.catalogue_size"),
    ("missing CSV", '[district]\nsource = "nowhere.csv"\n', "district.source"),
    ("malformed TOML", "[policy\n", "syntax"),
    ("missing extends target", 'extends = "ghost.toml"\n', "extends"),
]


@pytest.mark.parametrize("label, text, key", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_give_one_clear_message(tmp_path, label, text, key):
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.key == key
    message = str(err.value)
    assert str(path) in message and "allowed:" in message


def test_cyclic_extends_is_refused(tmp_path):
    write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(tmp_path / "a.toml")


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    "override, key",
    [
        ("policy.nope=1", "policy.nope"),
        ("params.nope=1", "params.nope"),
        ("nonsense=1", "nonsense"),
        ("policy.entry_enforcement=7", "policy.entry_enforcement"),
        ("novalue", "novalue"),
    ],
)
def test_bad_overrides(override, key):
    with pytest.raises(ScenarioError) as err:
        load_scenario(SCENARIOS / "baseline_2013.toml", [override])
    assert err.value.key == key
