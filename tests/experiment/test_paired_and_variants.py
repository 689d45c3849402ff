"""Paired designs (each sample as base and counterfactual, same seeds) and structural variants of
a scenario list (issue 11)."""

import pytest

from sim.cli import main
from sim.experiment.design import design_points
from sim.experiment.runner import _plan_manifest, plan
from sim.experiment.spec import ExperimentError, load_experiment
from sim.scenario import load_scenario

from ..conftest import ROOT
from .helpers import experiment_file, short_scenarios

HEAD = 'name = "x"\nreplications = 2\nroot_seed = 1\n'


def paired_file(tmp, extra_factor=""):
    ref, base = (p.name for p in short_scenarios(tmp))
    body = (
        HEAD + f'[design]\nmethod = "morris"\nbase = "{base}"\ncounterfactual = "{ref}"\n'
        "samples = 3\n"
        '[design.factors."params.hours_per_item"]\nmin = 7.0\nmax = 11.0\n'
        '[design.factors."policy.purchase_budget"]\nmin = 0.5\nmax = 1.5\nscale = true\n'
        + extra_factor
    )
    return experiment_file(tmp, body)


def test_a_paired_design_runs_every_sample_as_base_and_counterfactual_on_the_same_seeds(tmp_path):
    exp = load_experiment(paired_file(tmp_path))
    points = design_points(exp)
    assert len(points) == 2 * 3 * (2 + 1)  # two arms x trajectories x (factors + 1)
    for focus, cf in zip(points[::2], points[1::2], strict=True):
        assert (focus.arm, cf.arm) == ("focus", "counterfactual")
        assert focus.sample == cf.sample and focus.design == cf.design
        assert (focus.scenario.name, cf.scenario.name) == ("wuhou_reform", "baseline_2013")
        # the same factor values in both arms; a scaled lever scales each arm's own timeline
        h = focus.design["design_hours_per_item"]
        assert focus.scenario.params.hours_per_item == cf.scenario.params.hours_per_item == h
        assert cf.scenario.schedule.at(5).purchase_budget == 0
    _, tasks = plan(exp, tmp_path / "out")
    seed = {(t.point_id, t.replication): t.seed() for t in tasks}
    for r in range(exp.replications):  # replication r of a sample's two arms shares its seed
        a, b = seed[("p00000", r)], seed[("p00001", r)]
        assert (a.entropy, a.spawn_key) == (b.entropy, b.spawn_key)
    assert seed[("p00000", 0)].spawn_key != seed[("p00000", 1)].spawn_key
    manifest = _plan_manifest(exp, points, "now")
    assert manifest["counterfactual"].endswith("baseline_2013_short.toml")
    assert [p["arm"] for p in manifest["points"][:2]] == ["focus", "counterfactual"]
    assert [p["sample"] for p in manifest["points"][:4]] == [0, 0, 1, 1]


def test_the_counterfactual_must_differ_from_the_base(tmp_path):
    _, base = short_scenarios(tmp_path)
    body = (
        HEAD + f'[design]\nmethod = "lhs"\nbase = "{base.name}"\ncounterfactual = "{base.name}"\n'
        'samples = 2\n[design.factors."params.hours_per_item"]\nmin = 7.0\nmax = 11.0\n'
    )
    with pytest.raises(ExperimentError) as err:
        load_experiment(experiment_file(tmp_path, body))
    assert err.value.key == "design.counterfactual" and "is the base" in str(err.value)


def variants_file(tmp, variants):
    ref, base = (p.name for p in short_scenarios(tmp))
    body = HEAD + f'scenarios = ["{ref}", "{base}"]\n[roles]\nreference = "{ref}"\n'
    return experiment_file(tmp, body + f'focus = "{base}"\n' + variants)


def test_variants_run_every_scenario_under_each_rule(tmp_path):
    exp = load_experiment(
        variants_file(
            tmp_path,
            "[variants.default]\n"
            '[variants.fixed_refusal]\n"params.refusal_rule" = "fixed_propensity"\n'
            '[variants.no_feedback]\n"params.satisfaction_feedback" = "off"\n',
        )
    )
    points = design_points(exp)
    names = [p.scenario.name for p in points]
    assert names == [
        "baseline_2013",
        "wuhou_reform",
        "baseline_2013@fixed_refusal",
        "wuhou_reform@fixed_refusal",
        "baseline_2013@no_feedback",
        "wuhou_reform@no_feedback",
    ]
    assert [p.variant for p in points] == ["default"] * 2 + ["fixed_refusal"] * 2 + [
        "no_feedback"
    ] * 2
    rules = [
        (p.scenario.params.refusal_rule, p.scenario.params.satisfaction_feedback) for p in points
    ]
    assert rules[0] == ("pressure_appraisal", "on")
    assert rules[3] == ("fixed_propensity", "on") and rules[5] == ("pressure_appraisal", "off")
    manifest = _plan_manifest(exp, points, "now")
    assert manifest["variants"]["fixed_refusal"] == {"params.refusal_rule": "fixed_propensity"}
    assert manifest["points"][3]["variant"] == "fixed_refusal"
    assert manifest["roles"]["focus"] == "wuhou_reform"  # roles name the default variant's


@pytest.mark.parametrize(
    ("variants", "key", "words"),
    [
        ('[variants.bad]\n"params.refusal_rule" = "quota"\n', "variants.bad.params.refusal_rule",
         '"pressure_appraisal"'),
        ('[variants.bad]\n"params.no_such" = 1\n', "variants.bad.params.no_such", "parameter"),
        ('[variants.bad]\n"name" = "x"\n', "variants.bad.name", "params.<name>"),
        ("[variants.a]\n[variants.b]\n", "variants.b", "at most one variant without overrides"),
        ('variants = "x"\n', "variants", "tables of overrides"),
    ],
)  # fmt: skip
def test_a_bad_variant_is_one_line_naming_file_key_and_what_is_allowed(
    tmp_path, capsys, variants, key, words
):
    path = variants_file(tmp_path, variants) if variants[0] == "[" else None
    if path is None:  # a top-level key must come before the first table
        ref, base = (p.name for p in short_scenarios(tmp_path))
        path = experiment_file(tmp_path, HEAD + variants + f'scenarios = ["{ref}", "{base}"]\n')
    with pytest.raises(ExperimentError) as err:
        load_experiment(path)
    assert err.value.key == key
    assert main(["validate", str(path)]) == 2
    message = capsys.readouterr().err
    assert len(message.strip().splitlines()) == 1 and str(path) in message and words in message


def test_variants_are_for_scenario_lists_only(tmp_path):
    path = paired_file(tmp_path)
    text = path.read_text().replace(
        "[design]", '[variants.a]\n"params.refusal_rule" = "fixed_propensity"\n[design]'
    )
    path.write_text(text)
    with pytest.raises(ExperimentError, match="only used with a list of scenarios"):
        load_experiment(path)


def test_shipped_structural_and_effect_experiments():
    structural = load_experiment(ROOT / "experiments" / "structural.toml")
    assert len(structural.variants) >= 4 and not structural.variants[0].overrides
    switched = {k for v in structural.variants for k in v.overrides}
    assert {
        "params.refusal_rule",
        "params.tender_scoring",
        "params.satisfaction_feedback",
    } <= switched
    # the unsourced supervision share (the headline's path: purchased items leave staff, their
    # supervision stays) is bracketed by a light and a heavy variant around the default
    shares = sorted(
        v.overrides["params.supervision_share"]
        for v in structural.variants
        if "params.supervision_share" in v.overrides
    )
    base = load_scenario(structural.scenario_files[0]).params.supervision_share
    assert len(shares) == 2 and shares[0] < base < shares[1]
    for name in ("sensitivity_effects", "sensitivity_sobol"):
        exp = load_experiment(ROOT / "experiments" / f"{name}.toml")
        assert exp.counterfactual and exp.counterfactual.endswith("baseline_2013.toml")


def test_sensitivity_ranges_hold_the_values_they_vary_around():
    """Every range of the shipped sensitivity experiments holds the base scenario's value (the
    default) and the calibrated scenario's (issue 11: the old ranges excluded the calibrated
    values), and overlaps the calibrated parameter's prior in the targets file."""
    from sim.calibration.targets import load_targets

    targets = load_targets(ROOT / "scenarios/targets/wuhou.toml")
    priors = {p.key: (p.low, p.high) for p in targets.parameters}
    calibrated = load_scenario(ROOT / "scenarios/calibrated/wuhou_reform.toml").params
    for name in ("sensitivity", "sensitivity_effects", "sensitivity_sobol"):
        exp = load_experiment(ROOT / "experiments" / f"{name}.toml")
        base = exp.base_scenario()
        for f in exp.factors:
            if f.scale:
                assert f.low <= 1.0 <= f.high, (name, f.key)
                continue
            section, _, field = f.key.partition(".")
            value = getattr(base.schedule.at(47) if section == "policy" else base.params, field)
            assert f.low <= value <= f.high, (name, f.key, value)
            if section == "params":  # and the calibrated scenario's (posterior median) value
                fitted = getattr(calibrated, field)
                assert f.low <= fitted <= f.high, (name, f.key, fitted)
            if f.key in priors:
                lo, hi = priors[f.key]
                assert f.low < hi and lo < f.high, (name, f.key)
