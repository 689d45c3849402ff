import tomllib
from datetime import date

import pytest

from sim import load_scenario
from sim.cli import main
from sim.dashboard.export import export_document, export_text, write_export
from sim.dashboard.setting import Setting
from sim.errors import UserError

from .conftest import REFORM, SCENARIOS

MOVED = {"purchase_budget": 12_500_000.0, "entry_control": False, "procurement_mode": "commission"}


def test_round_trip_export_then_load_gives_the_same_levers(tmp_path):
    setting = Setting(str(REFORM), MOVED, 7)
    path = write_export(setting, tmp_path / "mine.toml", today=date(2016, 1, 2))
    exported = load_scenario(path)
    ran = setting.scenario()  # what the dashboard ran
    assert exported.schedule.policies == ran.schedule.policies
    assert exported.params == ran.params and exported.months == ran.months
    assert exported.name == "mine"
    raw = tomllib.loads(path.read_text())
    assert raw["extends"] == str(REFORM.resolve().relative_to(tmp_path, walk_up=True))
    assert raw["policy"] == MOVED
    assert "2016-01-02" in raw["description"] and "--seed 7" in raw["description"]


def test_sanshe_run_accepts_the_exported_file(tmp_path, capsys):
    path = write_export(Setting(str(REFORM), {"service_centres": 20}, 1), tmp_path / "x.toml")
    out = tmp_path / "run"
    code = main(["run", str(path), "--seed", "1", "--out", str(out), "--set", "run.months=3"])
    assert code == 0 and (out / "district.parquet").is_file()


def test_without_overrides_the_file_only_extends():
    doc = export_document(Setting(str(REFORM), {}, 1), SCENARIOS / "y.toml")
    assert doc["extends"] == "wuhou_reform.toml" and "policy" not in doc
    assert "unchanged" in doc["description"]


def test_a_download_extends_by_file_name_and_says_where_to_save_it():
    text = export_text(Setting(str(REFORM), {"brand_agencies": 3}, 1))
    assert 'extends = "wuhou_reform.toml"' in text and "# Save it beside wuhou_reform.toml" in text
    assert tomllib.loads(text)["policy"] == {"brand_agencies": 3}


def test_export_refuses_to_overwrite_or_to_write_nowhere(tmp_path):
    setting = Setting(str(REFORM), {}, 1)
    write_export(setting, tmp_path / "a.toml")
    with pytest.raises(UserError, match="exists already"):
        write_export(setting, tmp_path / "a.toml")
    with pytest.raises(UserError, match="no such folder"):
        write_export(setting, tmp_path / "missing" / "a.toml")
    with pytest.raises(UserError, match=r"\.toml"):
        write_export(setting, tmp_path / "a.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.toml"]  # no temporary file left
