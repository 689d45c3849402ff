import pytest

from sim import ScenarioError
from sim.cli import main
from sim.experiment.posterior import PosteriorError
from sim.experiment.spec import ExperimentError, load_experiment
from sim.scenario import read_toml

from ..conftest import ROOT
from .helpers import experiment_file, short_scenarios


def test_shipped_experiments_load():
    for path in (ROOT / "experiments").glob("*.toml"):
        posterior = read_toml(path).get("design", {}).get("posterior")
        if posterior and not (path.parent / posterior).is_file():
            # made by `sanshe calibrate` (ABC), not shipped: the one clear error, then a stand-in
            with pytest.raises(PosteriorError, match=r"design\.posterior: posterior file"):
                load_experiment(path)
            continue
        exp = load_experiment(path)
        assert exp.replications >= 1, path
    headline = load_experiment(ROOT / "experiments" / "headline.toml")
    assert headline.replications >= 20 and len(headline.scenario_files) >= 14
    sweep = load_experiment(ROOT / "experiments" / "budget_sweep.toml")
    (factor,) = sweep.factors
    assert factor.scale and min(factor.values) == 0 and max(factor.values) == 2


GOOD_HEAD = 'name = "x"\nreplications = 2\nroot_seed = 1\n'


def bad_experiments(tmp):
    ref, base = (p.name for p in short_scenarios(tmp))
    design = f'[design]\nmethod = "lhs"\nbase = "{base}"\nsamples = 4\n'
    pair = GOOD_HEAD + f'scenarios = ["{ref}", "{base}"]\n'
    return [
        ("unknown role", pair + '[roles]\nbaseline = "x.toml"\n', "roles.baseline"),
        ("role not a table", pair + 'roles = "x"\n', "roles"),
        ("role not in list", pair + '[roles]\nreference = "ghost.toml"\n', "roles.reference"),
        ("role not text", pair + "[roles]\nfocus = 3\n", "roles.focus"),
        (
            "focus is reference",
            pair + f'[roles]\nreference = "{ref}"\nfocus = "{ref}"\n',
            "roles.focus",
        ),
        (
            "ablation without focus",
            pair + f'[roles]\nreference = "{ref}"\n[roles.ablations]\nentry = "{base}"\n',
            "roles.focus",
        ),
        (
            "ablation is the focus",
            pair + f'[roles]\nfocus = "{base}"\n[roles.ablations]\nentry = "{base}"\n',
            "roles.ablations.entry",
        ),
        (
            "bad lever name",
            pair + f'[roles]\nreference = "{ref}"\n[roles.added_alone]\n"a b" = "{base}"\n',
            "roles.added_alone.a b",
        ),
        ("roles with a design", GOOD_HEAD + '[roles]\nfocus = "x"\n' + design, "roles"),
        ("unknown key", GOOD_HEAD + f'scenarios = ["{base}"]\ncolour = 1\n', "colour"),
        (
            "replications 0",
            'replications = 0\nroot_seed = 1\nscenarios = ["a.toml"]\n',
            "replications",
        ),
        (
            "replications negative",
            'replications = -3\nroot_seed = 1\nscenarios = ["a.toml"]\n',
            "replications",
        ),
        ("replications text", 'replications = "many"\nroot_seed = 1\n', "replications"),
        ("missing seed", f'replications = 2\nscenarios = ["{base}"]\n', "root_seed"),
        ("empty design", GOOD_HEAD, "scenarios/design"),
        ("both", GOOD_HEAD + f'scenarios = ["{base}"]\n' + design, "scenarios/design"),
        ("empty scenario list", GOOD_HEAD + "scenarios = []\n", "scenarios"),
        ("missing scenario", GOOD_HEAD + 'scenarios = ["ghost.toml"]\n', "scenarios"),
        (
            "bad level",
            GOOD_HEAD + f'scenarios = ["{base}"]\n[outputs]\nlevels = ["city"]\n',
            "outputs.levels",
        ),
        (
            "bad frequency",
            GOOD_HEAD + f'scenarios = ["{base}"]\n[outputs]\nfrequency = "daily"\n',
            "outputs.frequency",
        ),
        (
            "scenarios after table",
            GOOD_HEAD + f'[outputs]\nscenarios = ["{base}"]\n',
            "outputs.scenarios",
        ),
        (
            "bad method",
            GOOD_HEAD + f'[design]\nmethod = "monte"\nbase = "{base}"\n',
            "design.method",
        ),
        ("no factors", GOOD_HEAD + design, "design.factors"),
        (
            "unknown factor",
            GOOD_HEAD + design + '[design.factors."policy.nope"]\nmin = 0\nmax = 1\n',
            "design.factors.policy.nope",
        ),
        (
            "inverted range",
            GOOD_HEAD + design + '[design.factors."policy.entry_enforcement"]\nmin = 1\nmax = 0\n',
            "design.factors.policy.entry_enforcement",
        ),
        (
            "range beyond bounds",
            GOOD_HEAD + design + '[design.factors."policy.entry_enforcement"]\nmin = 0\nmax = 3\n',
            "design.factors.policy.entry_enforcement",
        ),
        (
            "values in lhs",
            GOOD_HEAD + design + '[design.factors."policy.entry_enforcement"]\nvalues = [0.1]\n',
            "design.factors.policy.entry_enforcement",
        ),
        (
            "grid without values",
            GOOD_HEAD
            + f'[design]\nmethod = "grid"\nbase = "{base}"\n[design.factors."policy.entry_enforcement"]\nmin = 0\nmax = 1\n',
            "design.factors.policy.entry_enforcement",
        ),
        (
            "grid value of wrong type",
            GOOD_HEAD
            + f'[design]\nmethod = "grid"\nbase = "{base}"\n[design.factors."policy.entry_control"]\nvalues = ["sometimes"]\n',
            "design.factors.policy.entry_control",
        ),
        (
            "scale a switch",
            GOOD_HEAD
            + f'[design]\nmethod = "grid"\nbase = "{base}"\n[design.factors."policy.entry_control"]\nvalues = [true]\nscale = true\n',
            "design.factors.policy.entry_control.scale",
        ),
        (
            "odd morris levels",
            GOOD_HEAD
            + f'[design]\nmethod = "morris"\nbase = "{base}"\nsamples = 2\nlevels = 3\n[design.factors."policy.entry_enforcement"]\nmin = 0\nmax = 1\n',
            "design.levels",
        ),
        (
            "missing base",
            GOOD_HEAD + '[design]\nmethod = "lhs"\nbase = "nowhere.toml"\nsamples = 2\n',
            "design.base",
        ),
        ("malformed", "replications = [\n", "syntax"),
    ]


def test_at_least_twelve_bad_experiment_files_each_fail_clearly(tmp_path, capsys):
    cases = bad_experiments(tmp_path)
    assert len(cases) >= 12
    for label, body, key in cases:
        path = experiment_file(tmp_path, body, name="bad")
        # A malformed file is refused by the TOML reader shared with scenarios (ScenarioError,
        # the parent of ExperimentError); every other case by the experiment's own checks.
        with pytest.raises(ExperimentError if key != "syntax" else ScenarioError) as err:
            load_experiment(path)
        assert err.value.key == key, label
        assert str(path) in str(err.value), label
        assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2, label
        message = capsys.readouterr().err
        assert message.startswith("error: ") and "Traceback" not in message, label
        assert len(message.strip().splitlines()) == 1, label


def test_roles_name_scenarios_and_leave_the_hash_alone(tmp_path):
    ref, base = (p.name for p in short_scenarios(tmp_path))
    body = GOOD_HEAD + f'scenarios = ["{ref}", "{base}"]\n'
    plain = load_experiment(experiment_file(tmp_path, body, name="plain"))
    roles = f'[roles]\nreference = "{ref}"\nfocus = "{base}"\n[roles.added_alone]\nx = "{base}"\n'
    with pytest.raises(ExperimentError, match="reference or the focus"):
        load_experiment(experiment_file(tmp_path, body + roles, name="bad"))
    roles = f'[roles]\nreference = "{ref}"\nfocus = "{base}"\n'
    exp = load_experiment(experiment_file(tmp_path, body + roles, name="with_roles"))
    assert exp.roles is not None and exp.roles.reference == "baseline_2013"
    assert exp.roles.focus == "wuhou_reform" and exp.roles.ablations == {}
    assert plain.roles is None and exp.hash == plain.hash  # roles do not change the runs


def test_headline_declares_every_role():
    exp = load_experiment(ROOT / "experiments" / "headline.toml")
    assert exp.roles.reference and exp.roles.focus
    assert set(exp.roles.ablations) == set(exp.roles.added_alone)
    assert len(exp.roles.ablations) == 6


def test_bad_scenario_inside_an_experiment_fails_before_running(tmp_path, capsys):
    bad = tmp_path / "bad_scenario.toml"
    bad.write_text("[policy]\nentry_enforcement = 9\n")
    path = experiment_file(tmp_path, GOOD_HEAD + 'scenarios = ["bad_scenario.toml"]\n')
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "entry_enforcement" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cyclic_extends_in_an_experiment_scenario(tmp_path, capsys):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    path = experiment_file(tmp_path, GOOD_HEAD + 'scenarios = ["a.toml"]\n')
    assert main(["validate", str(path)]) == 2
    assert "cycle" in capsys.readouterr().err


def test_the_docstring_example_is_a_valid_experiment(tmp_path):
    """The example at the top of sim/experiment/spec.py parses as the keys it shows."""
    import tomllib

    import sim.experiment.spec as spec

    text = spec.__doc__.split("::\n", 1)[1].split("\nPaths are relative")[0]
    example = "\n".join(line[4:] for line in text.splitlines())
    listed, design = example.split("\n# ... or, instead of the list of scenarios", 1)
    design = design.split("\n", 1)[1]
    raw = tomllib.loads(listed)
    assert "scenarios" in raw and "scenarios" not in raw["outputs"]
    assert set(raw) <= set(spec.TOP_KEYS)
    raw = tomllib.loads(listed.replace("scenarios = [", "# scenarios = [") + design)
    assert raw["design"]["method"] == "grid" and raw["design"]["factors"]


def test_roles_go_into_the_manifest(tmp_path):
    from sim.experiment.design import design_points
    from sim.experiment.runner import _plan_manifest

    ref, base = (p.name for p in short_scenarios(tmp_path))
    body = GOOD_HEAD + f'scenarios = ["{ref}", "{base}"]\n[roles]\nreference = "{ref}"\n'
    exp = load_experiment(experiment_file(tmp_path, body))
    manifest = _plan_manifest(exp, design_points(exp), "now")
    assert manifest["roles"] == {
        "reference": "baseline_2013",
        "focus": None,
        "ablations": {},
        "added_alone": {},
    }


def test_shipped_posterior_experiments_load_with_a_posterior_sample(tmp_path):
    from .helpers import posterior_file

    post = posterior_file(tmp_path)
    small = load_experiment(
        ROOT / "experiments" / "headline_posterior.toml", {"posterior": str(post)}
    )
    full = load_experiment(
        ROOT / "experiments" / "headline_posterior_full.toml", {"posterior": str(post)}
    )
    assert small.draws == 30 and small.replications == 5 and len(small.scenario_files) == 8
    assert full.draws >= 50 and full.replications >= 10
    headline = load_experiment(ROOT / "experiments" / "headline.toml")
    assert full.scenario_files == headline.scenario_files
    assert small.roles.ablations == headline.roles.ablations
