import numpy as np
import pytest

from sim.dashboard.charts import (
    CHARTS,
    change_months,
    chart_png,
    district_frame,
    outcome_figure,
)
from sim.dashboard.setting import DashboardModel
from sim.outputs import at_level

from .conftest import REFORM


@pytest.fixture(scope="module")
def run():
    m = DashboardModel(scenario_file=str(REFORM), seed=1)
    m.run_for(20)
    return m


def test_charts_cover_what_the_issue_asks_for():
    columns = {c for spec in CHARTS for c, _ in spec.series}
    assert {"admin_burden", "service_coverage", "service_quality", "satisfaction"} <= columns
    assert {"n_orgs_grassroots", "n_orgs_agency", "n_orgs_brand", "n_social_workers"} <= columns
    assert {"purchase_appropriated_ytd", "purchase_spent_ytd"} <= columns


def test_frame_has_every_charted_column_month_by_month(run):
    frame = district_frame(run)
    assert len(frame) == 20 and frame["date"].iloc[0].strftime("%Y-%m") == "2013-01"
    for spec in CHARTS:
        for column, _ in spec.series:
            assert frame[column].notna().all(), column
    # the same numbers as the model's own result table
    district = run.results()["district"]
    for o in at_level("district"):
        np.testing.assert_array_equal(frame[o.name], district[o.name])
    assert district_frame(run) is frame  # computed once per month, shared by the charts


@pytest.mark.parametrize("spec", CHARTS, ids=lambda s: s.key)
def test_each_chart_plots_the_months_run_so_far(run, spec):
    fig = outcome_figure(spec, district_frame(run), run.spec.start, 48, change_months(run))
    lines = [ln for ax in fig.axes for ln in ax.get_lines() if len(ln.get_xdata()) > 2]
    assert len(lines) == len(spec.series)
    assert all(len(ln.get_xdata()) == 20 for ln in lines)
    assert "to 2014-08" in fig.texts[0].get_text()


def test_an_empty_run_draws_empty_axes_over_the_whole_calendar():
    m = DashboardModel(scenario_file=str(REFORM), seed=1)
    fig = outcome_figure(CHARTS[0], district_frame(m), m.spec.start, m.spec.months)
    assert "not run yet" in fig.texts[0].get_text()
    assert all(
        len(ln.get_xdata()) == 0 for ln in fig.axes[0].get_lines() if ln.get_label()[0] != "_"
    )


def test_lever_changes_are_marked(run):
    assert change_months(run)[0] == 2013 * 12 + 9  # 2013-10: entry control
    held = DashboardModel(scenario_file=str(REFORM), seed=1, entry_control=True)
    assert 2013 * 12 + 9 not in change_months(held)


def test_pngs_are_drawn_once_per_month_and_shared_before_the_run(run):
    png = chart_png(run, CHARTS[0])
    assert png.startswith(b"\x89PNG") and chart_png(run, CHARTS[0]) is png
    a = DashboardModel(scenario_file=str(REFORM), seed=1)
    b = DashboardModel(scenario_file=str(REFORM), seed=2, entry_enforcement=0.5)
    assert chart_png(a, CHARTS[0]) is chart_png(b, CHARTS[0])  # same calendar and lever changes
    a.step()
    assert chart_png(a, CHARTS[0]) != chart_png(b, CHARTS[0])


def test_participation_has_its_own_axis_in_percent_and_fills_it(run):
    """A few % of residents: on the 0-100 satisfaction axis it would read as a flat line at 0."""
    spec = next(s for s in CHARTS if s.key == "satisfaction")
    fig = outcome_figure(spec, district_frame(run), run.spec.start, 48)
    left, right = fig.axes
    (line,) = [ln for ln in right.get_lines() if "participation" in ln.get_label()]
    values = np.asarray(line.get_ydata(), float)
    share = district_frame(run)["participation"].to_numpy(float)
    np.testing.assert_allclose(values, share * 100)  # display units: % of residents
    assert "%" in right.get_ylabel()
    assert 0 < values.max() < 20 and values.max() >= 0.4 * right.get_ylim()[1]  # fills its axis
    assert left.get_ylim() == (0, 100)  # satisfaction keeps the 0-100 score scale


def test_project_money_has_its_own_axis_and_fills_it(run):
    """The project budget is about a tenth of the purchase budget: on the purchase axis its lines
    would hug 0."""
    spec = next(s for s in CHARTS if s.key == "spend")
    frame = district_frame(run)
    fig = outcome_figure(spec, frame, run.spec.start, 48)
    left, right = fig.axes
    lines = {ln.get_label(): np.asarray(ln.get_ydata(), float) for ln in right.get_lines()}
    assert set(lines) == {"project budget (right)", "project spent (right)"}
    budget = lines["project budget (right)"]
    np.testing.assert_allclose(budget, frame["project_appropriated_ytd"].to_numpy(float) / 1e6)
    assert "M yuan" in right.get_ylabel() and "M yuan" in left.get_ylabel()
    assert budget.max() >= 0.4 * right.get_ylim()[1]  # readable on its axis ...
    assert budget.max() <= 0.6 * right.get_ylim()[1]  # ... below the purchase lines
    assert budget.max() < 0.2 * left.get_ylim()[1]  # on the purchase axis it would hug 0
