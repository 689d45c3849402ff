"""The same outcome shows the same number, unit and window in `sanshe run`'s table, `sanshe
compare`, the report and the dashboard (one run, seen four ways)."""

import numpy as np
import pytest

from sim.analysis.compare import compare, markdown
from sim.analysis.report import build_report
from sim.cli import final_year_table
from sim.dashboard.compare import final_year, formatted, run_settings
from sim.dashboard.setting import Setting
from sim.experiment.executors import make_executor
from sim.experiment.runner import Task, run_experiment
from sim.experiment.spec import load_experiment
from sim.model import DistrictModel
from sim.outputs import DEFAULT_WINDOW, OUTPUTS, key_outcomes
from sim.scenario import load_scenario

from .experiment.helpers import experiment_file, short_scenarios

SEED = 1


@pytest.fixture(scope="module")
def views(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("display")
    baseline, reform = short_scenarios(tmp, months=15)  # 2013-10 to 2014-12: last year 2014
    path = experiment_file(
        tmp,
        f'name = "d"\nreplications = 1\nroot_seed = {SEED}\n'
        f'scenarios = ["{baseline.name}", "{reform.name}"]\n[outputs]\nlevels = ["district"]\n',
    )
    # The store's run r uses SeedSequence(root_seed, spawn_key=(r,)); here it uses the seed that
    # `sanshe run --seed 1` and the dashboard use, so all four views see the very same run.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Task, "seed", lambda self: np.random.SeedSequence(self.root_seed))
        run_experiment(load_experiment(path), tmp / "out", make_executor("serial"), progress=False)
    scenario = load_scenario(reform)
    model = DistrictModel(scenario, rng=SEED)
    model.run_for(scenario.months)
    tables = model.results()
    district = tables["district"]
    values = district[district["year"] == 2014][key_outcomes()].mean()
    cli = final_year_table(tables)
    cmp = compare(tmp / "out")  # the default window
    report = build_report(tmp / "out", kinds=["tradeoff"]).read_text(encoding="utf-8")
    dash = final_year(run_settings(Setting(str(reform), {}, SEED), Setting(str(baseline)), 1))
    return values, cli, cmp, report, dash


def test_the_default_window_is_the_last_calendar_year(views):
    _, cli, cmp, report, dash = views
    assert DEFAULT_WINDOW == "final-year"
    assert cli.splitlines()[1].startswith("2014 mean")
    assert cmp.window.label == DEFAULT_WINDOW
    assert "mean over the last calendar year of each run" in report
    assert dash.attrs["year"] == "2014"


@pytest.mark.parametrize("name", key_outcomes())
def test_same_number_and_unit_everywhere(views, name):
    values, cli, cmp, report, dash = views
    o = OUTPUTS[name]
    shown = o.format(values[name])
    # sanshe run: the (district) row, under the column "label (unit)"
    header = cli.splitlines()[0]
    assert o.axis_label in header
    district_row = next(line for line in cli.splitlines() if line.startswith("(district)"))
    assert district_row.split()[1 + key_outcomes().index(name)] == shown
    # sanshe compare: the reform's mean, in the outcome's section titled with its unit
    table = cmp.wide.set_index("setting")
    assert o.format(table.loc["wuhou_reform", f"{name}_mean"]) == shown
    text = markdown(cmp)
    section = text.split(f"## {o.axis_label}")[1].split("\n## ")[0]
    assert "| wuhou_reform |" in section and f" {shown} " in section
    # the report: the same label with unit, and the same number
    assert o.axis_label in report and f">{shown}<" in report.replace(" ", "")
    # the dashboard's side-by-side table: setting A is the reform
    row = formatted(dash).set_index("outcome").loc[o.label.capitalize()]
    assert row["A"] == shown and row["unit"] == o.display_unit


def test_every_command_and_view_defaults_to_the_same_window():
    import inspect

    from sim.analysis import compare as analysis_compare
    from sim.analysis import plots, sensitivity
    from sim.dashboard import compare as dashboard_compare

    functions = [
        analysis_compare.compare,
        analysis_compare.compare_table,
        analysis_compare.compare_long,
        build_report,
        plots.make_figures,
        sensitivity.sensitivity_table,
        dashboard_compare.store_table,
    ]
    for f in functions:
        assert inspect.signature(f).parameters["at"].default == DEFAULT_WINDOW, f.__qualname__
    from sim.cli import build_parser

    sub = build_parser()._subparsers._group_actions[0].choices
    for command in ("compare", "plot", "sensitivity", "report"):
        at = next(a for a in sub[command]._actions if a.dest == "at")
        assert at.default == DEFAULT_WINDOW, command
