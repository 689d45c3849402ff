"""validate-fit measures every target, budget-book targets (``books.<column>``) included."""

import numpy as np
import pandas as pd
import pytest

from sim.calibration.targets import load_targets
from sim.calibration.validate import fit_table, validation_runs
from sim.cli import main
from sim.experiment.executors import SerialExecutor
from sim.experiment.store import load_results

from ..experiment.helpers import short_scenarios
from .helpers import TINY

BOOK_TARGETS = """
[[target]]
name = "purchase_spent"
role = "check"
quantity = "books.purchase_spent"
when = "2014"
statistic = "sum"
lower = 1.0
upper = 1e9
facts = "test"
why = "test"

[[target]]
name = "spent_change"
role = "held_out"
quantity = "books.purchase_spent"
when = "2014"
statistic = "sum"
scenario = "difference"
lower = 1.0
upper = 1e9
facts = "test"
why = "test"

[[target]]
name = "spent_share"
role = "check"
quantity = "books.purchase_spent"
denominator = "books.purchase_appropriated"
when = "2014"
statistic = "sum"
lower = 0.0
upper = 1.0
facts = "test"
why = "test"

[[target]]
name = "orgs_late"
role = "check"
quantity = "n_orgs"
when = "2019-01"
observed = 800
tolerance = 50
facts = "test"
why = "a month after the runs end: not measured"
"""


@pytest.fixture(scope="module")
def book_targets(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("books")
    baseline, reform = short_scenarios(tmp, months=8)
    path = tmp / "tiny.toml"
    text = TINY.format(reform=reform.name, baseline=baseline.name) + BOOK_TARGETS
    path.write_text(text, encoding="utf-8")
    return tmp, path, reform


def test_book_targets_are_measured_from_each_runs_budget_books(book_targets):
    tmp, path, reform = book_targets
    targets = load_targets(path)
    runs = validation_runs(targets, str(reform), tmp / "v", 3, SerialExecutor(), progress=False)
    table = fit_table(targets, *runs).set_index("target")
    books = load_results(tmp / "v", "books")
    assert set(books["point"]) == {"p00000", "p00001"} and set(books["year"]) == {2013, 2014}
    spent = books[books["year"] == 2014].pivot(index="replication", columns="point",
                                               values="purchase_spent")  # fmt: skip
    assert (spent["p00000"] > 0).all() and spent["p00000"].std() > 0  # the reform buys services
    assert (spent["p00001"] == 0).all()  # no reform, no purchase
    row = table.loc["purchase_spent"]
    assert row["replications"] == 3 and row["within_tolerance"] == "yes"
    assert row["simulated_mean"] == pytest.approx(spent["p00000"].mean())
    diff = table.loc["spent_change"]  # paired by replication
    assert diff["simulated_mean"] == pytest.approx((spent["p00000"] - spent["p00001"]).mean())
    year = books[(books["year"] == 2014) & (books["point"] == "p00000")].set_index("replication")
    share = year["purchase_spent"] / year["purchase_appropriated"]
    assert 0 < share.mean() < 1
    assert table.loc["spent_share", "simulated_mean"] == pytest.approx(share.mean())
    assert table.loc["orgs_late", "within_tolerance"] == "not measured"
    assert np.isnan(table.loc["orgs_late", "simulated_mean"])


def test_validate_fit_reports_book_targets_and_names_the_unmeasured(book_targets, capsys):
    tmp, path, reform = book_targets
    args = ["validate-fit", str(path), "--scenario", str(reform), "--out", str(tmp / "cmd"),
            "--executor", "serial", "--replications", "2", "--quiet"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    table = pd.read_csv(tmp / "cmd" / "validation.csv").set_index("target")
    assert table.loc["purchase_spent", "replications"] == 2
    assert table.loc["purchase_spent", "within_tolerance"] == "yes"
    assert "not measured (" in out and out.strip().endswith("orgs_late")
    assert "| books.purchase_spent / books.purchase_appropriated |" in out  # the ratio's parts
    # A store of other validation runs (here: another replication count) is replaced, not refused.
    assert main([*args[:-2], "3", "--quiet"]) == 0
    table = pd.read_csv(tmp / "cmd" / "validation.csv").set_index("target")
    assert table.loc["purchase_spent", "replications"] == 3


# Fit tables from synthetic district tables (no model run): three replications of the reform with
# 790, 800, 840 organizations in 2014-05 (mean 810, sd √700), the counterfactual 780, 800, 800.
def _district(values):
    return pd.DataFrame({"month": "2014-05", "replication": [0, 1, 2], "n_orgs": values})


REFORM = _district([790.0, 800.0, 840.0])
COUNTERFACTUAL = _district([780.0, 800.0, 800.0])
T975_2 = 4.302652729749464  # t(0.975, 2), from tables


def _synthetic_targets():
    from sim.calibration.targets import FreeParameter, Target, Targets

    base = dict(quantity="n_orgs", when="2014-05", statistic="value", facts="F", why="w",
                description="")  # fmt: skip
    late = base | {"when": "2019-01"}
    targets = [
        Target("gain", role="check", scenario="difference", lower=10.0, upper=20.0, **base),
        Target("edge", role="held_out", scenario="reform", observed=800.0, tolerance=10.0, **base),
        Target("below", role="fit", scenario="counterfactual", upper=793.0, **base),
        Target("late", role="fit", scenario="reform", observed=1.0, tolerance=1.0, **late),
    ]
    parameters = (FreeParameter("params.switchers_per_month", 5.0, 60.0),)
    return Targets("t", "", "t.toml", tuple(targets), "r", "c", parameters)


def test_fit_table_is_each_targets_mean_and_t_interval_with_its_verdict_at_the_bound():
    table = fit_table(_synthetic_targets(), REFORM, COUNTERFACTUAL)
    assert list(table["target"]) == ["below", "late", "edge", "gain"]  # fit, held-out, check
    t = table.set_index("target")
    # edge: mean 810, exactly the upper bound 800 + 10: met; CI 810 ± t(0.975, 2) · √700 / √3
    half = T975_2 * np.sqrt(700) / np.sqrt(3)
    edge = t.loc["edge"]
    assert (edge["simulated_mean"], edge["replications"], edge["within_tolerance"]) == (
        810.0,
        3,
        "yes",
    )
    assert (edge["ci_low"], edge["ci_high"]) == pytest.approx((810 - half, 810 + half), abs=1e-9)
    assert (edge["lower"], edge["upper"], edge["observed"]) == (790.0, 810.0, "800 ± 10")
    # gain: paired differences 10, 0, 40: mean 50/3 (within 10 to 20), deviations -20/3, -50/3,
    # 70/3, squares summing 7800/9, variance 3900/9
    gain = t.loc["gain"]
    assert gain["simulated_mean"] == pytest.approx(50 / 3, abs=1e-12)
    half = T975_2 * np.sqrt(3900 / 9) / np.sqrt(3)
    assert gain["ci_high"] == pytest.approx(50 / 3 + half, abs=1e-9)
    assert gain["within_tolerance"] == "yes" and gain["scenario"] == "difference"
    # below: the counterfactual's mean 793.33... is above the upper bound 793: not met
    below = t.loc["below"]
    assert below["simulated_mean"] == pytest.approx(2380 / 3, abs=1e-9)
    assert below["within_tolerance"] == "no" and below["lower"] == -np.inf
    # late: no run reaches 2019-01: not measured, no mean, no interval
    late = t.loc["late"]
    assert (late["replications"], late["within_tolerance"]) == (0, "not measured")
    assert np.isnan(late["simulated_mean"]) and np.isnan(late["ci_low"])


def test_one_replication_has_a_mean_and_no_interval():
    table = fit_table(_synthetic_targets(), REFORM.iloc[:1], COUNTERFACTUAL.iloc[:1])
    edge = table.set_index("target").loc["edge"]
    assert (edge["simulated_mean"], edge["replications"], edge["within_tolerance"]) == (
        790.0,
        1,
        "yes",
    )
    assert np.isnan(edge["ci_low"]) and np.isnan(edge["ci_high"])


def test_the_fit_markdown_is_one_line_per_target():
    from sim.calibration.validate import fit_markdown

    targets = _synthetic_targets()
    table = fit_table(targets, REFORM, COUNTERFACTUAL)
    lines = fit_markdown(table.iloc[[2, 3]]).splitlines()
    half = T975_2 * np.sqrt(700) / np.sqrt(3)
    assert lines[0].startswith("| role | target | quantity | when | facts | observed |")
    assert len(lines) == 4
    assert lines[2] == (
        f"| held_out | edge | n_orgs | 2014-05 (value) | F | 800 ± 10 "
        f"| 810 [{810 - half:.4g}, {810 + half:.4g}] | 3 | yes |"
    )
    assert lines[3].startswith("| check | gain | n_orgs (difference) | 2014-05 (value) | F ")


def test_the_fit_figure_draws_each_targets_band_replications_and_verdict():
    from sim.calibration.validate import fit_figure

    targets = _synthetic_targets()
    table = fit_table(targets, REFORM, COUNTERFACTUAL)
    fig = fit_figure(targets, table, REFORM, COUNTERFACTUAL)
    below, late, edge, gain = fig.axes  # the table's order: fit, held-out, check
    # below: the range has no lower bound, so the band starts 0.3 of the values' span (780 to
    # 800, with the bound 793) below the lowest: 780 - 6 = 774, and ends at the bound 793
    band = below.patches[0]
    assert (band.get_x(), band.get_width()) == pytest.approx((774.0, 19.0), abs=1e-9)
    assert list(below.collections[0].get_offsets()[:, 0]) == [780.0, 800.0, 800.0]
    assert list(edge.collections[0].get_offsets()[:, 0]) == [790.0, 800.0, 840.0]
    assert (edge.patches[0].get_x(), edge.patches[0].get_width()) == (790.0, 20.0)
    assert (
        below.get_title() == "below (fit; F): no" and edge.get_title() == "edge (held_out; F): yes"
    )
    assert below.containers[0].lines[0].get_color() == "tab:red"  # outside tolerance
    assert edge.containers[0].lines[0].get_color() == "tab:blue"
    assert all(len(ax.get_yticks()) == 0 for ax in (below, late, edge, gain))
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == [
        "within tolerance",
        "replications",
        "simulated mean, 95% CI",
    ]
    assert all(t.get_fontsize() == 9 for t in legend.get_texts()) and not legend.get_frame_on()
    anchor = legend.get_bbox_to_anchor().transformed(fig.transFigure.inverted())
    assert (anchor.x0, anchor.y0) == pytest.approx((0.5, 1 - 0.45 / fig.get_figheight()))
    assert fig.get_suptitle() == "Calibrated reform against the Wuhou targets"
    note = fig.texts[-1]
    assert note.get_position() == (0.01, 0.005)
    assert note.get_text() == (
        "Green band: observed value ± tolerance (or the target range); grey dots: 3 replications "
        "on fresh seeds; marker: mean with 95% CI (red if outside tolerance)."
    )
