"""The report says what is known and how well: what its intervals cover, what the calibration
fitted and held out, and which held-out patterns are met (sim.analysis.report.known)."""

import re
from types import SimpleNamespace

import pandas as pd
import pytest

from sim.analysis.report import build_report
from sim.analysis.report.known import known_targets

from ..conftest import ROOT
from .helpers import FOUR_ROLES, crn_values, make_store
from .test_report import Page

# Five targets on the synthetic store (2013-2014; reform 0.30, no reform 0.60 in every outcome):
TARGETS = f"""
name = "test"
[calibration]
reform = "{ROOT / "scenarios" / "wuhou_reform.toml"}"
counterfactual = "{ROOT / "scenarios" / "baseline_2013.toml"}"

[[target]]
name = "orgs_2014"
role = "fit"
description = "Organizations at the end of 2014"
quantity = "n_orgs"
when = "2014-12"
observed = 300
tolerance = 50
facts = "T1"
why = "met: the reform has about 300"

[[target]]
name = "burden_change"
role = "held_out"
description = "Administrative burden, reform minus no reform, 2014 mean"
quantity = "admin_burden"
when = "2014"
statistic = "mean"
scenario = "difference"
lower = -0.4
upper = -0.2
facts = "T2"
why = "met: the difference is about -0.30"

[[target]]
name = "quality_change"
role = "held_out"
description = "Service quality, reform minus no reform, 2014 mean"
quantity = "service_quality"
when = "2014"
statistic = "mean"
scenario = "difference"
lower = 0.05
upper = 0.5
facts = "T3"
why = "not met: the difference is about -0.30"

[[target]]
name = "funding_rate"
role = "held_out"
description = "Share of project applications funded in 2014"
quantity = "books.projects_funded"
when = "2014"
statistic = "sum"
lower = 0.1
upper = 0.9
facts = "T4"
why = "not measurable: stored results keep no budget books"

[[target]]
name = "purchase_2014"
role = "check"
description = "Money spent buying the catalogue in 2014"
quantity = "purchase_spend"
when = "2014"
statistic = "mean"
observed = 300000
tolerance = 100000
facts = "T5"
why = "met"
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("known")
    means = {
        "baseline_2013": 0.60,
        "wuhou_reform": 0.30,
        "reform_minus_entry_control": 0.40,
        "baseline_plus_entry_control": 0.50,
    }
    make_store(root, crn_values(means, n=4), levels=("district",), roles=FOUR_ROLES)
    targets = root.parent / "targets.toml"
    targets.write_text(TARGETS, encoding="utf-8")
    return root, targets


def section(html: str, key: str) -> str:
    """The visible text of one section of the report."""
    part = re.search(rf'<section id="{key}">(.*?)</section>', html, re.S).group(1)
    page = Page()
    page.feed(part)
    return " ".join(" ".join(page.text).split())


@pytest.fixture(scope="module")
def with_targets(store):
    root, targets = store
    return build_report(root, kinds=["tradeoff"], targets=targets).read_text(encoding="utf-8")


def test_first_screen_says_what_the_intervals_cover(with_targets):
    summary = section(with_targets, "summary")
    assert "seed noise only; parameter and structural uncertainty not included" in summary
    assert "95% intervals over 4 seeds" in summary


def test_first_screen_says_what_was_fitted_and_which_held_out_patterns_are_met(with_targets):
    summary = section(with_targets, "summary")
    assert (
        "What this rests on: the calibration fitted 1 observed patterns; of 3 held out from the "
        "fit, 1 is met, 1 not (Service quality), 1 not measurable from these results" in summary
    )


def test_known_section_lists_targets_by_role_with_their_verdicts(with_targets):
    known = section(with_targets, "known")
    assert "1 targets fitted (in the calibration's distance), 3 held out" in known
    assert "1 checks of policy inputs" in known
    assert "Held-out patterns met: 1 of 3 (Administrative burden)" in known
    assert "Not met: Service quality" in known
    assert "Not measurable from these results: Share of project applications funded" in known
    assert "Targets fitted (in the calibration's distance): 1 of 1 measured are met" in known
    assert "checks of policy inputs (never fitted): 1 of 1 measured are met" in known
    # the order of the page: the first screen, then this section
    assert with_targets.index('id="summary"') < with_targets.index('id="known"')


def test_an_abc_fit_table_decides_instead_of_these_results(store, tmp_path):
    root, targets = store
    cal = tmp_path / "abc"
    cal.mkdir()
    rows = [  # the posterior-predictive check disagrees with these results on two targets
        ("fit", "orgs_2014", 310, 280, 340, "yes"),
        ("held_out", "burden_change", -0.1, -0.15, -0.05, "no"),
        ("held_out", "quality_change", 0.1, 0.06, 0.2, "yes"),
        ("held_out", "funding_rate", 0.5, 0.4, 0.6, "yes"),
        ("check", "purchase_2014", 3e5, 2.5e5, 3.5e5, "yes"),
    ]
    table = pd.DataFrame(rows, columns=["role", "target", "median", "p05", "p95", "met"])
    table["draws"] = 20
    table.to_csv(cal / "abc_fit.csv", index=False)
    html = build_report(root, kinds=["tradeoff"], targets=targets, calibration_dir=cal).read_text(
        encoding="utf-8"
    )
    known = section(html, "known")
    assert "posterior-predictive check (20 draws" in known
    assert "Held-out patterns met: 2 of 3 (Service quality; Share of project" in known
    assert "Not met: Administrative burden" in known
    assert "of 3 held out from the fit, 2 are met, 1 not (Administrative burden)" in section(
        html, "summary"
    )


def test_without_targets_the_report_says_it_cannot_tell(store, tmp_path):
    root, _ = store
    html = build_report(root, kinds=["tradeoff"]).read_text(encoding="utf-8")
    assert "no targets file was given" in section(html, "summary")
    assert "cannot list which observed patterns the calibration fitted" in section(html, "known")


def test_targets_without_roles_are_read_as_all_fitted():
    t = SimpleNamespace(
        name="x",
        description="X at the end",
        facts="F",
        quantity="n_orgs",
        describe_observed=lambda: "1 ± 1",
    )
    known = known_targets(SimpleNamespace(targets=[t]), None, None)
    assert not known.roles_declared
    assert [(r.role, r.met) for r in known.results] == [("fit", "not measured")]
