"""Which conclusions survive every structural variant (sim.analysis.structural), on synthetic
stores whose answers are known."""

import json

import numpy as np
import pytest

from sim.analysis.results import ResultSet
from sim.analysis.structural import markdown, structural, write_structural
from sim.errors import UserError

from .helpers import make_store

ROLES = {
    "reference": "base",
    "focus": "reform",
    "ablations": {"lists": "reform_minus_lists", "money": "reform_minus_money"},
    "added_alone": {},
}


def _store(root, levels, noise=True):
    """``levels[variant][scenario]`` is every outcome's level; replication r adds noise shared by
    every scenario and variant (common random numbers) plus a little of its own. Without
    ``noise``, the levels are arrays: replication r's values, as they are."""
    rng = np.random.default_rng(2)
    shared = rng.normal(0, 0.05, 6)
    values, order = {}, []
    for variant, by_scenario in levels.items():
        for scenario, level in by_scenario.items():
            name = scenario if variant == "default" else f"{scenario}@{variant}"
            values[name] = level + shared + rng.normal(0, 0.001, 6) if noise else np.array(level)
            order.append(variant)
    make_store(root, values, months=["2016-11", "2016-12"], levels=("district",),
               frequency="yearly", roles=ROLES)  # fmt: skip
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["variants"] = {v: ({} if v == "default" else {"params.x": v}) for v in levels}
    for p, v in zip(manifest["points"], order, strict=True):
        p["variant"] = v
    (root / "manifest.json").write_text(json.dumps(manifest))
    return ResultSet(root)


def test_conclusions_that_survive_and_those_that_flip(tmp_path):
    # Lower burden is better. Default: the reform lowers burden by 0.2; removing the lists costs
    # 0.15 of it, removing the money 0.05, so the lists are the top lever.
    default = {"base": 0.6, "reform": 0.4, "reform_minus_lists": 0.55, "reform_minus_money": 0.45}
    # The same conclusions with other numbers.
    same = {"base": 0.7, "reform": 0.4, "reform_minus_lists": 0.6, "reform_minus_money": 0.5}
    # The money matters more than the lists: the top lever changes, the effect's sign does not.
    swapped = {"base": 0.6, "reform": 0.4, "reform_minus_lists": 0.45, "reform_minus_money": 0.55}
    # The reform raises burden: the effect reverses.
    reversed_ = {"base": 0.3, "reform": 0.4, "reform_minus_lists": 0.55, "reform_minus_money": 0.45}
    rs = _store(tmp_path, {"default": default, "same": same, "swapped": swapped,
                           "reversed": reversed_})  # fmt: skip
    s = structural(rs, at="final", outcomes=["admin_burden"])
    assert s.variants == ["default", "same", "swapped", "reversed"]
    c = s.conclusions.set_index("conclusion")
    effect = c.loc["reform effect on admin_burden"]
    assert effect["default"] == "−" and effect["same"] == "−" and effect["reversed"] == "+"
    assert not effect["survives"] and effect["flips_under"] == "reversed"
    top = c.loc["top lever for admin_burden"]
    assert top["default"] == "lists" and top["swapped"] == "money"
    assert top["flips_under"] == "swapped"
    est = s.per_variant.set_index(["variant", "conclusion"])
    assert est.loc[("default", "reform effect on admin_burden"), "value"] == pytest.approx(
        -0.2, abs=0.005
    )  # paired on seeds: the shared noise cancels
    assert est.loc[("default", "top lever for admin_burden"), "value"] == pytest.approx(
        0.15, abs=0.005
    )  # improvement is positive: burden 0.15 lower with the lever
    # Two variants that change nothing: everything survives.
    rs2 = _store(tmp_path / "b", {"default": default, "same": same})
    s2 = structural(rs2, at="final", outcomes=["admin_burden"])
    assert s2.conclusions["survives"].all() and s2.flip.empty
    text = markdown(s)
    survive = text.split("## Conclusions that survive every variant")[1].split("## Conclusions")[0]
    flip = text.split("## Conclusions that do not")[1].split("## Estimates")[0]
    assert "top two levers" in survive and "top lever for" in flip and "reversed" in flip
    paths = write_structural(s)
    assert paths["conclusions"].name == "structural_final.csv" and paths["markdown"].is_file()


def test_an_effect_indistinguishable_from_zero_is_its_own_finding(tmp_path):
    default = {"base": 0.6, "reform": 0.4, "reform_minus_lists": 0.55, "reform_minus_money": 0.45}
    null = {"base": 0.4, "reform": 0.4, "reform_minus_lists": 0.55, "reform_minus_money": 0.45}
    s = structural(_store(tmp_path, {"default": default, "null": null}), at="final",
                   outcomes=["admin_burden"])  # fmt: skip
    effect = s.conclusions.set_index("conclusion").loc["reform effect on admin_burden"]
    assert effect["null"] == "0 (CI includes 0)" and not effect["survives"]


def test_results_without_variants_are_a_user_error(tmp_path):
    make_store(tmp_path, {"a": np.array([0.5, 0.6])}, levels=("district",))
    with pytest.raises(UserError, match="no \\[variants\\]"):
        structural(tmp_path)


def test_the_command_writes_the_tables(tmp_path, capsys):
    from sim.cli import main

    default = {"base": 0.6, "reform": 0.4, "reform_minus_lists": 0.55, "reform_minus_money": 0.45}
    rs = _store(tmp_path, {"default": default, "other": default})
    assert main(["structural", str(rs.path), "--at", "final", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "structural_final.csv" in out and (rs.path / "tables" / "structural_final.md").is_file()
    assert main(["structural", str(tmp_path / "nowhere")]) == 2


# Three replications with exact values. Reform − base: −1/4, −3/16, −5/16 (mean −1/4, sd 1/16).
# Lower burden is better, so a lever's gain is (reform without it) − reform: the lists' 1/2, 5/8,
# 3/8 (mean 1/2, sd 1/8), the money's 1/8, 1/4, 3/8 (mean 1/4, sd 1/8). "swapped" swaps the two.
EXACT_BASE = np.array([0.5, 0.25, 0.625])
EXACT_REFORM = EXACT_BASE + np.array([-0.25, -0.1875, -0.3125])
LISTS_GAIN = np.array([0.5, 0.625, 0.375])
MONEY_GAIN = np.array([0.125, 0.25, 0.375])
T975_2 = 4.302652729749464  # t(0.975, 2), from tables
EXACT = {
    "default": {
        "base": EXACT_BASE,
        "reform": EXACT_REFORM,
        "reform_minus_lists": EXACT_REFORM + LISTS_GAIN,
        "reform_minus_money": EXACT_REFORM + MONEY_GAIN,
    },
    "swapped": {
        "base": EXACT_BASE,
        "reform": EXACT_REFORM,
        "reform_minus_lists": EXACT_REFORM + MONEY_GAIN,
        "reform_minus_money": EXACT_REFORM + LISTS_GAIN,
    },
}


def test_each_estimate_is_the_paired_mean_and_t_interval_of_its_conclusion(tmp_path):
    s = structural(_store(tmp_path, EXACT, noise=False), at="final", outcomes=["admin_burden"])
    est = s.per_variant
    assert list(est.columns) == [
        "variant", "conclusion", "kind", "outcome", "value", "ci_low", "ci_high", "n", "finding"
    ]  # fmt: skip
    est = est.set_index(["variant", "kind"])
    # the effect: −1/4 ± t(0.975, 2) · (1/16) / √3
    half = T975_2 * (1 / 16) / np.sqrt(3)
    effect = est.loc[("default", "effect")]
    assert (effect["value"], effect["n"], effect["finding"]) == (-0.25, 3, "−")
    assert (effect["ci_low"], effect["ci_high"]) == pytest.approx((-0.25 - half, -0.25 + half))
    # the top lever's gain (lists: 1/2) and, for the top two, the second lever's (money: 1/4),
    # each ± t(0.975, 2) · (1/8) / √3; under "swapped" the money's and the lists' values
    half = T975_2 * (1 / 8) / np.sqrt(3)
    for variant, top in (("default", "lists"), ("swapped", "money")):
        first, two = est.loc[(variant, "top_lever")], est.loc[(variant, "top_two")]
        assert (first["value"], first["finding"]) == (0.5, top)
        assert (first["ci_low"], first["ci_high"]) == pytest.approx((0.5 - half, 0.5 + half))
        assert (two["value"], two["finding"], two["n"]) == (0.25, "lists and money", 3)
        assert (two["ci_low"], two["ci_high"]) == pytest.approx((0.25 - half, 0.25 + half))


def test_the_markdown_and_the_tables_written_are_the_conclusions_and_estimates(tmp_path):
    import pandas as pd

    s = structural(_store(tmp_path, EXACT, noise=False), at="final", outcomes=["admin_burden"])
    text = markdown(s)
    survive = (
        "## Conclusions that survive every variant\n\n"
        "| conclusion | default | swapped |\n|---|---|---|\n"
        "| reform effect on admin_burden | − | − |\n"
        "| top two levers for admin_burden | lists and money | lists and money |\n\n"
        "## Conclusions that do not\n\n"
        "| conclusion | default | swapped | flips under |\n|---|---|---|---|\n"
        "| top lever for admin_burden | lists | money | swapped |\n"
    )
    assert survive in text
    half = T975_2 * (1 / 16) / np.sqrt(3)
    low, high = (f"{x:+.4g}".replace("-", "−") for x in (-0.25 - half, -0.25 + half))
    row = f"| default | reform effect on admin_burden | − | −0.25 | [{low}, {high}] | 3 |"
    assert row in text.splitlines()
    assert (
        "Effects: focus − reference; levers: the top lever's (or, for the top two, the second "
        "lever's) improvement within the focus; 95% CIs over replications." in text.splitlines()
    )
    paths = write_structural(s)
    estimates = pd.read_csv(paths["estimates"])
    assert list(estimates.columns) == list(s.per_variant.columns)
    pd.testing.assert_frame_equal(estimates, s.per_variant, check_dtype=False)
    conclusions = pd.read_csv(paths["conclusions"], keep_default_na=False)
    assert list(conclusions.columns) == list(s.conclusions.columns)
    assert list(conclusions["flips_under"]) == ["", "swapped", ""]


def test_a_scenario_without_finished_runs_under_a_variant_is_noted_and_not_run(tmp_path):
    rs = _store(tmp_path, EXACT, noise=False)
    point = next(
        p["point"] for p in rs.manifest["points"] if p["scenario"] == "reform_minus_money@swapped"
    )
    for status in (tmp_path / "status").glob(f"{point}-*.json"):
        status.unlink()  # the runs never finished
    s = structural(ResultSet(tmp_path), at="final", outcomes=["admin_burden"])
    assert s.notes[-1] == "Missing runs: swapped: reform_minus_money."
    c = s.conclusions.set_index("conclusion")
    # under "swapped" only the lists' gain is known (1/8, 1/4, 3/8: mean 1/4): the top lever
    assert c.loc["top lever for admin_burden", "swapped"] == "lists"
    assert c.loc["top two levers for admin_burden", "swapped"] == "(not run)"
    assert c.loc["top two levers for admin_burden", "flips_under"] == "swapped"
    top = s.per_variant.set_index(["variant", "kind"]).loc[("swapped", "top_lever")]
    assert top["value"] == 0.25


def test_bad_outcomes_and_results_without_variants_are_user_errors_that_say_what_is_allowed(
    tmp_path,
):
    rs = _store(tmp_path / "a", EXACT, noise=False)
    with pytest.raises(UserError, match="outcome 'burden' is not known at level 'district'"):
        structural(rs, at="final", outcomes=["burden"])
    make_store(tmp_path / "b", {"a": np.array([0.5, 0.6])}, levels=("district",))
    allowed = (
        "(allowed: the results of an experiment with structural variants, e.g. "
        "experiments/structural.toml)"
    )
    with pytest.raises(UserError) as err:
        structural(tmp_path / "b")
    assert str(err.value).endswith("the experiment has no [variants] " + allowed)


def test_the_intervals_are_at_the_confidence_asked_for(tmp_path):
    # 90%: t(0.95, 2) = 2.9199855804 (tables); the effect −1/4 ± t · (1/16) / √3, the top
    # lever's gain 1/2 ± t · (1/8) / √3
    rs = _store(tmp_path, EXACT, noise=False)
    s = structural(rs, at="final", outcomes=["admin_burden"], confidence=0.90)
    est = s.per_variant.set_index(["variant", "kind"])
    t90 = 2.9199855804
    effect, top = est.loc[("default", "effect")], est.loc[("default", "top_lever")]
    half = t90 * (1 / 16) / np.sqrt(3)
    assert (effect["ci_low"], effect["ci_high"]) == pytest.approx((-0.25 - half, -0.25 + half))
    half = t90 * (1 / 8) / np.sqrt(3)
    assert (top["ci_low"], top["ci_high"]) == pytest.approx((0.5 - half, 0.5 + half))
    assert s.notes[0].endswith("90% t-based intervals over replications (seed noise only), "
                               "paired on seeds within each variant.")  # fmt: skip
