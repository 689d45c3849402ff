import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sim.cli import main

from ..conftest import ROOT, SCENARIOS
from .helpers import crn_values, make_store

MEANS = {"baseline_2013": 0.6, "wuhou_reform": 0.3}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    make_store(root, crn_values(MEANS, n=4))
    return root


def test_compare_prints_and_saves(store, capsys):
    assert main(["compare", str(store), "--at", "final-year"]) == 0
    out = capsys.readouterr().out
    assert "## admin burden (%)" in out and "| wuhou_reform | 4 |" in out
    assert "(reference)" in out and "compare_district_final-year.md" in out
    table = pd.read_csv(store / "tables" / "compare_district_final-year.csv")
    assert table["admin_burden_diff"].iloc[1] == pytest.approx(-0.3, abs=0.02)


def test_compare_street_level_names_the_streets(store, capsys):
    args = ["compare", str(store), "--level", "street", "--outcomes", "admin_burden"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Which streets gain or lose most" in out and "(Jiangxijie)" in out
    assert (store / "tables" / "compare_street_final-year_extremes.csv").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compare", "{root}/nope"], "no such results directory"),
        (["compare", "{root}", "--reference", "nope"], "scenario 'nope' is not in"),
        (["compare", "{root}", "--outcomes", "admin_burden,nope"], "outcome 'nope'"),
        (["compare", "{root}", "--level", "town"], "'town' is not a level"),
        (["compare", "{root}", "--at", "last"], "'last' is not a time window"),
        (["plot", "{root}", "--kind", "response"], "needs a grid design"),
        (["sensitivity", "{root}"], "need a morris or sobol design"),
        (["report", "{root}", "--sensitivity", "{root}"], "a 'scenarios' experiment"),
    ],
)
def test_user_errors_exit_2_with_one_message(store, capsys, args, message):
    argv = [a.format(root=store) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_plot_and_report_commands(store, capsys):
    assert main(["plot", str(store), "--kind", "tradeoff", "--quiet"]) == 0
    assert (store / "figures" / "tradeoff.png").is_file()
    assert main(["report", str(store), "--kind", "tradeoff", "--quiet"]) == 0
    assert capsys.readouterr().out.strip().endswith("report.html")
    assert (store / "report.html").is_file()


def test_analysis_never_imports_the_model():
    """Every sim.analysis module, imported in a fresh interpreter, leaves sim.model unimported."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import sim.analysis\n"
        "names = [m.name for m in pkgutil.iter_modules(sim.analysis.__path__, 'sim.analysis.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "from sim.cli import build_parser\n"
        "build_parser()\n"
        "assert len(names) >= 9, names\n"
        "bad = [m for m in sys.modules if m == 'sim.model' or m.startswith('sim.processes')]\n"
        "assert not bad, bad\n"
        "print('ok', len(names))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")


def test_a_real_sweep_end_to_end(tmp_path, capsys):
    """A tiny real experiment (2 scenarios x 3 replications, 6 months): sweep, compare, report."""
    files = []
    for name in ("baseline_2013", "wuhou_reform"):
        path = tmp_path / f"{name}.toml"
        path.write_text(
            f'name = "{name}"\nextends = "{SCENARIOS / (name + ".toml")}"\n'
            '[run]\nstart = "2013-07"\nmonths = 6\n',
            encoding="utf-8",
        )
        files.append(path.name)
    exp = tmp_path / "tiny.toml"
    exp.write_text(
        f'name = "tiny"\nreplications = 3\nroot_seed = 11\nscenarios = {files!r}\n'.replace(
            "'", '"'
        )
        + '[outputs]\nlevels = ["district", "street", "community"]\n',
        encoding="utf-8",
    )
    out = tmp_path / "results"
    assert main(["sweep", str(exp), "--out", str(out), "--executor", "serial", "--quiet"]) == 0
    assert main(["compare", str(out), "--at", "2013-12", "--quiet"]) == 0
    table = pd.read_csv(out / "tables" / "compare_district_2013-12.csv").set_index("setting")
    # entry control from 2013-10 lowers the burden within months, in every replication
    assert table.loc["wuhou_reform", "admin_burden_diff_ci_high"] < 0
    assert table.loc["wuhou_reform", "n_runs"] == 3
    assert np.isnan(table.loc["baseline_2013", "cost_per_service_hour_mean"])
    kinds = ["--kind", "timeseries", "--kind", "communities"]
    assert main(["report", str(out), "--quiet", *kinds]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="fig-timeseries_main"' in html and 'id="fig-communities"' in html
    # the reform's start comes from the scenario definitions (entry control from 2013-10)
    assert "marks the reform&#x27;s start (2013-10)" in html
