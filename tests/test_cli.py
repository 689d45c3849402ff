import json
import subprocess
import sys

import pandas as pd
import pytest

from sim.cli import main

from .conftest import ROOT, SCENARIOS


def test_run_writes_tables_and_manifest(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        [
            "run",
            str(SCENARIOS / "wuhou_reform.toml"),
            "--seed",
            "3",
            "--out",
            str(out),
            "--set",
            "run.months=14",
        ]
    )
    assert code == 0
    for name in ("district", "street", "community", "budget"):
        assert (out / f"{name}.parquet").is_file()
    district = pd.read_parquet(out / "district.parquet")
    assert len(district) == 14
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"] == "wuhou_reform" and manifest["seed"]["entropy"] == 3
    assert manifest["definition"]["run"]["months"] == 14
    assert {"git_commit", "versions", "scenario_hash"} <= set(manifest)
    assert manifest["versions"]["mesa"].startswith("3.")
    printed = capsys.readouterr().out
    assert "玉林" in printed and "(district)" in printed and "admin burden (%)" in printed


def test_set_overrides_reach_the_model(tmp_path):
    out = tmp_path / "run"
    main(
        [
            "run",
            str(SCENARIOS / "wuhou_reform.toml"),
            "--out",
            str(out),
            "--quiet",
            "--set",
            "policy.purchase_budget=0",
            "--set",
            "run.months=18",
        ]
    )
    district = pd.read_parquet(out / "district.parquet")
    assert district["purchase_spend"].sum() == 0 and district["contracts_active"].sum() == 0


@pytest.mark.parametrize(
    "args",
    [
        ["run", "missing.toml"],
        ["run", str(SCENARIOS / "wuhou_reform.toml"), "--set", "policy.purchase_budget=-1"],
        ["run", str(SCENARIOS / "wuhou_reform.toml"), "--set", "policy.no_lever=1"],
        ["run", str(SCENARIOS / "wuhou_reform.toml"), "--set", "no_equals_sign"],
        ["validate", str(SCENARIOS / "wuhou_reform.toml"), "missing.toml"],
    ],
)
def test_user_errors_exit_2_with_one_line_and_no_traceback(args, tmp_path, capsys):
    code = main([*args, "--out", str(tmp_path)] if args[0] == "run" else args)
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err and len(err.splitlines()) == 1


def test_bad_csv_district_exits_2(tmp_path, capsys):
    csv = tmp_path / "d.csv"
    csv.write_text("street,community,residents,households,staff\nA,a,-10,3,2\n")
    scenario = tmp_path / "s.toml"
    scenario.write_text('name = "s"\n[district]\nsource = "d.csv"\n')
    assert main(["run", str(scenario), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert str(csv) in err and "residents" in err


def test_python_dash_m_is_the_same_cli():
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "validate", str(SCENARIOS / "baseline_2013.toml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0 and "baseline_2013" in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", "nope.toml"], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
