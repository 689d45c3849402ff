"""Bad input through the command line: one line, exit 2, before any work; plumbing that must not
turn a finished run into a traceback; a user's own district end to end."""

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from sim.cli import main
from sim.scenario import read_toml
from sim.textable import text_table, width

from .conftest import ROOT, SCENARIOS

FIVE = ROOT / "tests" / "data" / "five_streets.csv"
REFORM = str(SCENARIOS / "wuhou_reform.toml")
HEAVY = ("mesa", "pandas", "pyarrow", "scipy", "sim.model", "numpy")


def one_line_error(capsys, *words):
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and "Traceback" not in err
    for word in words:
        assert word in err, err
    return err


def python(code: str, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, **kw
    )


def test_validate_and_a_rejected_run_import_no_model_libraries(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[policy]\npurchase_budget = -5\n")
    code = (
        "import sys; from sim.cli import main\n"
        f"assert main(['validate', {str(SCENARIOS / 'example_csv_district.toml')!r}, {REFORM!r},"
        " '--set', 'policy.entry_control=false']) == 0\n"
        f"assert main(['run', {str(bad)!r}]) == 2\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    proc = python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_validate_reads_the_csv_and_takes_set(tmp_path, capsys):
    csv = tmp_path / "d.csv"
    csv.write_text("street,community,residents,households,staff\nA,a,inf,3,2\n")
    scenario = tmp_path / "s.toml"
    scenario.write_text('name = "s"\n[district]\nsource = "d.csv"\n')
    assert main(["validate", str(scenario)]) == 2
    one_line_error(capsys, str(csv), "row 2, column residents", "not a finite number")
    assert main(["validate", REFORM, "--set", "policy.purchase_budjet=1"]) == 2
    one_line_error(capsys, "did you mean policy.purchase_budget?", "docs/parameters.md")


@pytest.mark.parametrize(
    "args, words",
    [
        (["--seed", "-1"], ["--seed -1", "at least 0"]),
        (["--seed", "x"], ["invalid int value"]),
        (["--out", "FILE"], ["is an existing file"]),
        (["--out", "FILE/sub"], ["is a file"]),
        (["--set", "params.hours_per_itme=3"], ["did you mean params.hours_per_item?"]),
        (["--set", "policy.purchase_budget=nan"], ["not a number (NaN)", "finite"]),
        (["--set", "policy.service_centres=5.5"], ["5.5 is not valid", "whole number"]),
        (["--set", "run.start=2013-01-01"], ["2013-01-01 is not a month"]),
    ],
)
def test_bad_arguments_exit_2_before_any_work(tmp_path, capsys, monkeypatch, args, words):
    (tmp_path / "FILE").write_text("x")
    args = [a.replace("FILE", str(tmp_path / "FILE")) for a in args]
    monkeypatch.setattr("sim.model.DistrictModel.__init__", _must_not_run, raising=True)
    assert main(["run", REFORM, *args]) == 2
    err = one_line_error(capsys, *words)
    assert "np." not in err and "datetime" not in err


def _must_not_run(*args, **kwargs):
    raise AssertionError("the model was built for a run that should have been refused")


def test_a_rejected_run_is_fast(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[policy]\npurchase_budget = -5\n")
    code = (
        "import time, sys; from sim.cli import main\n"
        f"code = main(['run', {str(bad)!r}]); print(time.process_time())"
    )
    proc = python(code)
    assert proc.stderr.startswith("error: ")
    # A rejected run reads the file before it imports the model (which takes seconds of CPU).
    assert float(proc.stdout) < 1.2


def test_empty_scenario_says_what_a_minimal_one_contains(tmp_path, capsys):
    empty = tmp_path / "empty.toml"
    empty.write_text("# nothing yet\n")
    assert main(["run", str(empty)]) == 2
    one_line_error(capsys, str(empty), "is empty", 'name = "mine"', "extends")


def test_deep_extends_chain_is_a_clear_error(tmp_path, capsys):
    for i in range(1200):
        (tmp_path / f"s{i}.toml").write_text(f'extends = "s{i + 1}.toml"\n' if i < 1199 else "a=1")
    assert main(["validate", str(tmp_path / "s0.toml")]) == 2
    one_line_error(capsys, "deeper than 64 files")


def test_closed_stdout_pipe_ends_quietly():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "sim", "validate", *[REFORM] * 200]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env)
    proc.stdout.close()  # the reader is gone before the first line is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_text_tables_align_chinese_names():
    table = text_table(["street", "burden"], [["浆洗街", 0.5], ["Riverside", 0.25]])
    lines = table.splitlines()
    assert len({width(line) for line in lines}) == 1  # every row ends in the same column
    assert width("浆洗街") == 6


def test_a_users_district_from_csv_runs_scaled_and_writes_readable_results(tmp_path, capsys):
    scenario = tmp_path / "mine.toml"
    scenario.write_text(
        f'name = "mine"\nextends = "{REFORM}"\n[district]\nsource = "{FIVE}"\n', encoding="utf-8"
    )
    out = tmp_path / "out"
    old = os.umask(0o027)
    try:
        code = main(["run", str(scenario), "--out", str(out), "--set", "run.months=14"])
    finally:
        os.umask(old)
    assert code == 0
    printed = capsys.readouterr().out
    assert "scaled from Wuhou" in printed and "policy.purchase_budget" in printed
    assert "青羊 北街" in printed  # a street name with a space, in the table
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    scaling = manifest["scaling"]
    assert scaling["mode"] == "residents" and scaling["district"]["communities"] == 25
    assert scaling["scaled"]["policy.service_centre_streets"]["scaled"] == 3
    for path in out.iterdir():
        assert path.stat().st_mode & 0o777 == 0o640, path  # 0666 less the umask 027
    street = pd.read_parquet(out / "street.parquet")
    assert set(street["street"]) == {"锦江路", "青羊 北街", "Riverside", "簇桥", "华兴"}
    budget = pd.read_parquet(out / "budget.parquet")
    assert budget["purchase_appropriated"].sum() == pytest.approx(
        30_850_000 * 244_446 / 1_260_000 * 2 / 12
    )


def test_validate_takes_every_shipped_scenario_and_experiment():
    files = sorted(str(p) for p in SCENARIOS.rglob("*.toml") if p.parent.name != "targets")
    experiments = sorted((ROOT / "experiments").glob("*.toml"))
    # Posterior designs read a sample `sanshe calibrate` writes (not shipped); with it absent they
    # are refused with one line (tests/experiment/test_posterior.py), so they are checked there.
    absent = [
        p
        for p in experiments
        if (post := read_toml(p).get("design", {}).get("posterior"))
        and not (p.parent / post).is_file()
    ]
    files += [str(p) for p in experiments if p not in absent]
    proc = python(f"import sys; from sim.cli import main; sys.exit(main(['validate', *{files!r}]))")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("ok  ") == len(files)
