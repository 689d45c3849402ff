"""The report says what is known and how well: what its intervals cover, what the calibration
fitted and held out, and which held-out patterns are met (sim.analysis.report.known)."""

import re
from pathlib import Path
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
    return " ".join("".join(page.text).split())


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
        "What this rests on: the targets file has 1 observed pattern to fit and 3 to hold out; "
        "with the default parameters these runs use, 1 of the 3 is met, 1 not (Service quality), "
        "1 not measurable from these results (a check of the defaults, not an out-of-sample "
        "test: they come from an earlier fit that may have seen some of them)" in summary
    )


def test_known_section_lists_targets_by_role_with_their_verdicts(with_targets):
    known = section(with_targets, "known")
    assert "1 target fitted (in the calibration's distance), 3 held out" in known
    assert "1 check of policy inputs" in known
    assert (
        "Held-out patterns met with the default parameters (a check, not an out-of-sample "
        "test): 1 of 3 (Administrative burden)" in known
    )
    assert "One point is not the posterior" in known
    assert "Not met: Service quality" in known
    assert "Not measurable from these results: Share of project applications funded" in known
    assert "Targets fitted (in the calibration's distance): 1 of 1 measured are met" in known
    assert "Checks of policy inputs (never fitted): 1 of 1 measured are met" in known
    # the order of the page: the first screen, then this section
    assert with_targets.index('id="summary"') < with_targets.index('id="known"')


def test_an_abc_fit_table_decides_instead_of_these_results(store, tmp_path):
    root, targets = store
    cal = tmp_path / "abc"
    cal.mkdir()
    rows = [  # the posterior-predictive check disagrees with these results on two targets
        ("fit", "orgs_2014", 310, 280, 340, "no"),
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
    assert (
        "the calibration fitted 1 observed pattern and meets 0 of them; of 3 held out from the fit, 2 are met in "
        "its posterior-predictive check, 1 not (Administrative burden)" in section(html, "summary")
    )
    assert "a check of the defaults" not in section(html, "summary")


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


# --- beyond seed noise: parameter and structural uncertainty (sim.analysis.report.beyond_seeds) --
def fake_effects_table(rs, at, outcomes):
    """As sim.analysis.uncertainty.effects_table: the focus' effects over 30 draws x 5 seeds."""
    rows = []
    for name in outcomes:
        sign = -1 if name == "admin_burden" else 1
        rows.append(
            {
                "outcome": name,
                "contrast": "wuhou_reform",
                "effect": sign * 0.30,
                "seed_low": sign * 0.30 - 0.01,
                "seed_high": sign * 0.30 + 0.01,
                "param_low": sign * 0.30 - (0.05 if sign > 0 else 0.15),
                "param_high": sign * 0.30 + (0.15 if sign > 0 else 0.05),
                "share_seed": 0.2,
                "share_param": 0.8,
                "n_draws": 30,
                "n_reps": 5.0,
            }
        )
    rows.append({**rows[0], "contrast": "reform_minus_entry_control"})
    return pd.DataFrame(rows)


def fake_structural(results_dir, at):
    """As sim.analysis.structural.structural: three variants, one conclusion flips."""
    conclusions = pd.DataFrame(
        [
            {
                "conclusion": "reform effect on admin_burden",
                "outcome": "admin_burden",
                "default": "−",
                "no_learning": "−",
                "fixed_lists": "−",
                "survives": True,
                "flips_under": "",
            },
            {
                "conclusion": "reform effect on service_quality",
                "outcome": "service_quality",
                "default": "+",
                "no_learning": "0 (CI includes 0)",
                "fixed_lists": "+",
                "survives": False,
                "flips_under": "no_learning",
            },
            {
                "conclusion": "top lever for admin_burden",
                "outcome": "admin_burden",
                "default": "purchase",
                "no_learning": "purchase",
                "fixed_lists": "purchase",
                "survives": True,
                "flips_under": "",
            },
        ]
    )
    return SimpleNamespace(
        conclusions=conclusions,
        variants=["default", "no_learning", "fixed_lists"],
        reference_variant="default",
        results=SimpleNamespace(name="structural", path=Path(results_dir)),
    )


@pytest.fixture
def beyond_seeds(monkeypatch, store, tmp_path):
    """The report of the synthetic store with a posterior and a variants experiment (faked)."""
    import sys

    root, targets = store
    monkeypatch.setitem(
        sys.modules, "sim.analysis.uncertainty", SimpleNamespace(effects_table=fake_effects_table)
    )
    monkeypatch.setitem(
        sys.modules, "sim.analysis.structural", SimpleNamespace(structural=fake_structural)
    )
    out = build_report(
        root, kinds=["tradeoff"], targets=targets, uncertainty=root, structural=tmp_path
    )
    return out.read_text(encoding="utf-8")


def test_verdict_gives_the_parameter_interval_beside_the_seed_only_one(beyond_seeds):
    summary = section(beyond_seeds, "summary")
    assert (
        "95% intervals over 4 seeds of the model with its default parameters (a single point of "
        in (summary)
    )
    assert "posterior; seed noise only). Over parameter uncertainty (30 draws from the " in (
        summary
    )
    # each effect labelled: the seed-only interval and the (wider) parameter interval
    assert (
        "admin burden −30.0 pp (seed noise only [−31.0, −29.0]; over parameter uncertainty "
        "[−45.0, −25.0]; parameters 80% of a run's variance)" in summary
    )
    assert (
        "service quality +30.0 points (seed noise only [+29.0, +31.0]; over parameter "
        "uncertainty [+25.0, +45.0]" in summary
    )
    assert "reform minus entry control" not in summary.split("Over parameter")[1].split(".")[0]


def test_known_section_lists_conclusions_that_survive_every_variant_and_those_that_do_not(
    beyond_seeds,
):
    known = section(beyond_seeds, "known")
    assert "under 2 variants of the model's structure (no_learning, fixed_lists)" in known
    assert (
        "Survive every variant: the reform lowers admin burden (better); the lever that brings "
        "most to admin burden is purchase." in known
    )
    assert (
        "Do not survive: the reform raises service quality (better) (changes under "
        "no_learning)." in known
    )
    assert "2 of 3 headline conclusions survive every structural variant" in section(
        beyond_seeds, "summary"
    )


def test_the_structural_adapter_words_the_real_analysis(tmp_path):
    """sim.analysis.structural on a store whose answer is known, worded by the adapter."""
    from sim.analysis.report.beyond_seeds import structural_conclusions

    from .test_structural import _store

    default = {"base": 0.6, "reform": 0.4, "reform_minus_lists": 0.55, "reform_minus_money": 0.45}
    swapped = {"base": 0.6, "reform": 0.4, "reform_minus_lists": 0.45, "reform_minus_money": 0.55}
    _store(tmp_path, {"default": default, "swapped": swapped})
    s = structural_conclusions(tmp_path, at="final")
    assert s.variants == ["default", "swapped"] and s.reference_variant == "default"
    assert "the reform lowers admin burden (better)" in s.survive
    assert "the lever that brings most to admin burden is lists (changes under swapped)" in s.flip


def test_the_parameter_adapter_reads_the_real_posterior_analysis(tmp_path):
    """sim.analysis.uncertainty on a tiny posterior sweep: the focus' rows, both intervals."""
    from sim.analysis.report.beyond_seeds import PARAMETER_COLUMNS, parameter_effects
    from sim.analysis.uncertainty import effects_table
    from sim.experiment.executors import SerialExecutor
    from sim.experiment.runner import run_experiment
    from sim.experiment.spec import load_experiment

    from ..experiment.helpers import posterior_experiment

    exp = load_experiment(posterior_experiment(tmp_path, draws=3, replications=2, months=3))
    assert run_experiment(exp, tmp_path / "out", SerialExecutor(), progress=False).ok
    p = parameter_effects(tmp_path / "out", at="final")
    assert tuple(p.table.columns) == PARAMETER_COLUMNS
    assert list(p.table["outcome"]) == ["admin_burden", "service_coverage", "service_quality",
                                        "satisfaction"]  # fmt: skip
    full = effects_table(tmp_path / "out", at="final", outcomes=list(p.table["outcome"]))
    full = full[full["contrast"] == "wuhou_reform"].reset_index(drop=True)
    for column in ("effect", "seed_low", "seed_high", "param_low", "param_high"):
        assert p.table[column].to_numpy() == pytest.approx(full[column].to_numpy()), column
    assert (p.table["n_draws"] == 3).all() and (p.table["n_reps"] == 2).all()
    assert p.focus == "wuhou reform" and p.reference == "baseline 2013"


def test_cost_per_unit_reads_per_point_not_per_points(tmp_path):
    means = {"baseline_2013": 0.60, "wuhou_reform": 0.70}  # higher quality, and more money
    roles = {"reference": "baseline_2013", "focus": "wuhou_reform"}
    make_store(tmp_path, crn_values(means, n=4), levels=("district",), roles=roles)
    html = build_report(tmp_path, kinds=["tradeoff"]).read_text(encoding="utf-8")
    tradeoffs = section(html, "tradeoffs")
    assert "M yuan a year per point of service quality" in tradeoffs
    assert "per points" not in tradeoffs


def test_counts_agree_with_their_nouns():
    from sim.analysis.report.sections import count

    assert count(1, "observed pattern") == "1 observed pattern"
    assert count(0, "observed pattern") == "0 observed patterns"
    assert count(3, "variant") == "3 variants"
    assert count(2, "analysis", "analyses") == "2 analyses"
