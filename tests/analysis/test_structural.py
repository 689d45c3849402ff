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


def _store(root, levels):
    """``levels[variant][scenario]`` is every outcome's level; replication r adds noise shared by
    every scenario and variant (common random numbers) plus a little of its own."""
    rng = np.random.default_rng(2)
    shared = rng.normal(0, 0.05, 6)
    values, order = {}, []
    for variant, by_scenario in levels.items():
        for scenario, level in by_scenario.items():
            name = scenario if variant == "default" else f"{scenario}@{variant}"
            values[name] = level + shared + rng.normal(0, 0.001, 6)
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
