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
