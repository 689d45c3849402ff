import numpy as np
import pandas as pd
import pytest

from sim.calibration.targets import Target, TargetsError, distance, load_targets, simulated_values

from ..conftest import ROOT


def target(**kw):
    base = dict(name="t", description="", quantity="n_orgs", when="2016-12", statistic="value",
                scenario="reform", facts="A13", why="w")  # fmt: skip
    return Target(**(base | kw))


def test_wuhou_targets_cover_the_brief():
    t = load_targets(ROOT / "scenarios" / "targets" / "wuhou.toml")
    by_name = {x.name: x for x in t.targets}
    assert by_name["orgs_2016"].observed == 1450 and by_name["orgs_2016"].facts == "A13"
    assert by_name["new_rule_registrations_2016"].lower == 120
    assert {by_name[f"purchase_spent_{y}"].observed for y in (2014, 2015, 2016)} == {
        30.85e6,
        37.31e6,
        37.53e6,
    }
    assert (
        by_name["service_centres"].observed == 9 and by_name["streets_with_centres"].observed == 8
    )
    assert by_name["brand_agencies"].observed == 8
    assert {by_name["burden_change_2016"].scenario, by_name["quality_change_2016"].scenario} == {
        "difference"
    }
    assert all(x.why.strip() for x in t.targets)
    # No free parameter is a count of organizations that could set A13, or a sum of money: the
    # one initial count that is free (agencies before the reform) is bounded by A13's tolerance.
    assert not {"other_orgs_initial", "initial_groups_per_community"} & {
        p.name for p in t.parameters
    }
    free = {p.name: p for p in t.parameters}
    assert free["initial_agencies"].high <= by_name["orgs_2016"].tolerance
    # ABC: adaptive distance, a slow epsilon, a distance on the mean of two replications
    assert (t.abc.distance, t.abc.scale, t.abc.replications) == ("adaptive", "rmsd", 2)
    assert 0.5 < t.abc.epsilon_quantile < 1 and t.abc.scale_floor == 1.0


def test_errors_and_met():
    point = target(observed=100.0, tolerance=10.0)
    assert point.error(105) == 0.5 and point.met(105) and not point.met(111)
    rng = target(lower=120.0, upper=170.0)
    assert rng.error(150) == 0 and rng.met(150)
    assert rng.error(95) == pytest.approx(-1.0) and not rng.met(95)
    lower_only = target(lower=10.0)
    assert lower_only.met(1e9) and not lower_only.met(9)
    assert point.error(np.nan) == np.inf


def test_per_run_statistics_and_paired_differences():
    months = ["2016-11", "2016-12"] * 2
    a = pd.DataFrame(
        {"replication": [0, 0, 1, 1], "month": months, "year": 2016, "n_orgs": [1.0, 2, 3, 4]}
    )
    b = a.assign(n_orgs=[0.0, 1, 1, 1])
    assert target(observed=1, tolerance=1).per_run(a).tolist() == [2, 4]
    assert target(when="2016", statistic="sum", observed=1, tolerance=1).per_run(a).tolist() == [
        3,
        7,
    ]
    diff = target(when="2016", statistic="mean", scenario="difference", lower=0.0)
    targets = load_targets(ROOT / "scenarios" / "targets" / "wuhou.toml")
    object.__setattr__(targets, "targets", (diff,))
    values = simulated_values(targets, a, b)
    assert values["t"].tolist() == [1.0, 2.5]  # per replication: (1.5 - 0.5), (3.5 - 1)
    assert distance(targets, {"t": 1.75}) == 0


BAD = [
    ("no targets", 'name = "x"\n', "target"),
    ("unknown key", '[[target]]\nname = "a"\ncolour = 1\n', "target[0].colour"),
    (
        "unknown quantity",
        '[[target]]\nname = "a"\nquantity = "orgs"\nwhen = "2016-12"\nobserved = 1\ntolerance = 1\nfacts = "A"\nwhy = "w"\n',
        "target 'a'.quantity",
    ),
    (
        "no tolerance",
        '[[target]]\nname = "a"\nquantity = "n_orgs"\nwhen = "2016-12"\nobserved = 1\nfacts = "A"\nwhy = "w"\n',
        "target 'a'",
    ),
    (
        "when mismatch",
        '[[target]]\nname = "a"\nquantity = "n_orgs"\nwhen = "2016"\nobserved = 1\ntolerance = 1\nfacts = "A"\nwhy = "w"\n',
        "target 'a'.when",
    ),
    (
        "no why",
        '[[target]]\nname = "a"\nquantity = "n_orgs"\nwhen = "2016-12"\nobserved = 1\ntolerance = 1\nfacts = "A"\n',
        "target[0].why",
    ),
    (
        "bad parameter",
        '[calibration.parameters]\n"params.nope" = { min = 0, max = 1 }\n[[target]]\nname = "a"\nrole = "fit"\nquantity = "n_orgs"\nwhen = "2016-12"\nobserved = 1\ntolerance = 1\nfacts = "A"\nwhy = "w"\n',
        "calibration.parameters.params.nope",
    ),
    (
        "prior outside bounds",
        '[calibration.parameters]\n"params.quit_base" = { min = 0, max = 3 }\n[[target]]\nname = "a"\nrole = "fit"\nquantity = "n_orgs"\nwhen = "2016-12"\nobserved = 1\ntolerance = 1\nfacts = "A"\nwhy = "w"\n',
        "calibration.parameters.params.quit_base",
    ),
]

OK_TARGET = (
    '[[target]]\nname = "a"\nrole = "fit"\nquantity = "n_orgs"\nwhen = "2016-12"\n'
    'observed = 1\ntolerance = 1\nfacts = "A"\nwhy = "w"\n'
)


def _with_target(body: str, **row: str) -> str:
    """A file with one target made of ``row`` (TOML values), after ``body``."""
    base = {"name": '"a"', "role": '"fit"', "quantity": '"n_orgs"', "when": '"2016-12"',
            "observed": "1", "tolerance": "1", "facts": '"A"', "why": '"w"'}  # fmt: skip
    base.update(row)
    lines = [f"{k} = {v}" for k, v in base.items() if v is not None]
    return body + "[[target]]\n" + "\n".join(lines) + "\n"


PARAM = '[calibration.parameters]\n"params.group_formation_rate" = '
BAD += [
    ("missing role", _with_target("", role=None), "target 'a'.role"),
    ("bad role", _with_target("", role='"fitted"'), "target 'a'.role"),
    (
        "unknown prior",
        PARAM + '{ min = 0.1, max = 0.5, prior = "normal", why = "w" }\n' + OK_TARGET,
        "calibration.parameters.params.group_formation_rate.prior",
    ),
    (
        "log-uniform from zero",
        PARAM + '{ min = 0.0, max = 0.5, prior = "log-uniform", why = "w" }\n' + OK_TARGET,
        "calibration.parameters.params.group_formation_rate.prior",
    ),
    (
        "prior not argued",
        PARAM + "{ min = 0.1, max = 0.5 }\n" + OK_TARGET,
        "calibration.parameters.params.group_formation_rate.why",
    ),
    (
        "unknown prior key",
        PARAM + '{ min = 0.1, max = 0.5, why = "w", shape = 2 }\n' + OK_TARGET,
        "calibration.parameters.params.group_formation_rate",
    ),
    (
        "unknown abc key",
        "[calibration.abc]\nparticles = 5\n" + OK_TARGET,
        "calibration.abc.particles",
    ),
    (
        "abc population too small",
        "[calibration.abc]\npopulation = 2\n" + OK_TARGET,
        "calibration.abc.population",
    ),
    (
        "unknown abc distance",
        '[calibration.abc]\ndistance = "euclidean"\n' + OK_TARGET,
        "calibration.abc.distance",
    ),
    (
        "unknown abc scale",
        '[calibration.abc]\nscale = "iqr"\n' + OK_TARGET,
        "calibration.abc.scale",
    ),
    (
        "zero scale floor",
        "[calibration.abc]\nscale_floor = 0\n" + OK_TARGET,
        "calibration.abc.scale_floor",
    ),
    (
        "scale floor as text",
        '[calibration.abc]\nscale_floor = "1"\n' + OK_TARGET,
        "calibration.abc.scale_floor",
    ),
    (
        "epsilon quantile above 1",
        "[calibration.abc]\nepsilon_quantile = 1.5\n" + OK_TARGET,
        "calibration.abc.epsilon_quantile",
    ),
    (
        "epsilon quantile zero",
        "[calibration.abc]\nepsilon_quantile = 0\n" + OK_TARGET,
        "calibration.abc.epsilon_quantile",
    ),
    (
        "epsilon quantile boolean",
        "[calibration.abc]\nepsilon_quantile = true\n" + OK_TARGET,
        "calibration.abc.epsilon_quantile",
    ),
    (
        "kernel scaling negative",
        "[calibration.abc]\nkernel_scaling = -1\n" + OK_TARGET,
        "calibration.abc.kernel_scaling",
    ),
    (
        "abc replications zero",
        "[calibration.abc]\nreplications = 0\n" + OK_TARGET,
        "calibration.abc.replications",
    ),
    (
        "books column unknown",
        _with_target("", quantity='"books.projects_won"', when='"2016"', statistic='"sum"'),
        "target 'a'.quantity",
    ),
    (
        "books need a year",
        _with_target("", quantity='"books.projects_funded"', when='"2016-12"'),
        "target 'a'.when",
    ),
    (
        "books over a district column",
        _with_target(
            "",
            quantity='"books.projects_funded"',
            denominator='"n_orgs"',
            when='"2016"',
            statistic='"sum"',
        ),
        "target 'a'.denominator",
    ),
    ("unknown denominator", _with_target("", denominator='"n_streets"'), "target 'a'.denominator"),
    (
        "month range backwards",
        _with_target("", when='"2016-12/2016-01"', statistic='"mean"'),
        "target 'a'.when",
    ),
    (
        "change_from not a period",
        _with_target("", change_from='"before the reform"'),
        "target 'a'.change_from",
    ),
]


@pytest.mark.parametrize("label, body, key", BAD, ids=[b[0] for b in BAD])
def test_bad_targets_files(tmp_path, label, body, key):
    (tmp_path / "s").mkdir()
    for name in ("wuhou_reform", "baseline_2013"):
        (tmp_path / f"{name}.toml").write_text(
            f'extends = "{ROOT / "scenarios" / (name + ".toml")}"\n'
        )
    path = tmp_path / "s" / "t.toml"
    path.write_text(body)
    with pytest.raises(TargetsError) as err:
        load_targets(path)
    assert err.value.key == key and str(path) in str(err.value)


@pytest.mark.parametrize("method", ["de"])
def test_bad_prior_file_exits_2_with_one_line(tmp_path, capsys, method):
    from sim.cli import main

    scen = ROOT / "scenarios"
    path = tmp_path / "t.toml"
    path.write_text(
        f'[calibration]\nreform = "{scen / "wuhou_reform.toml"}"\n'
        f'counterfactual = "{scen / "baseline_2013.toml"}"\n'
        + PARAM
        + '{ min = 0.1, max = 0.5, prior = "normal", why = "w" }\n'
        + OK_TARGET
    )
    code = main(
        [
            "calibrate",
            str(path),
            *([] if method == "de" else ["--method", method]),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "Traceback" not in err
    assert str(path) in err and "params.group_formation_rate.prior" in err
    assert "uniform, log-uniform" in err


def test_bad_abc_setting_exits_2_with_one_line(tmp_path, capsys):
    from sim.cli import main

    scen = ROOT / "scenarios"
    path = tmp_path / "t.toml"
    path.write_text(
        f'[calibration]\nreform = "{scen / "wuhou_reform.toml"}"\n'
        f'counterfactual = "{scen / "baseline_2013.toml"}"\n'
        "[calibration.abc]\nepsilon_quantile = 1.7\n" + OK_TARGET
    )
    code = main(["calibrate", str(path), "--method", "abc", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "Traceback" not in err
    assert str(path) in err and "calibration.abc.epsilon_quantile" in err
    assert "1.7 is not valid" in err and "at most 1" in err
    assert not (tmp_path / "o").exists()


def test_roles_split_the_wuhou_targets_and_only_fit_enters_the_distance():
    t = load_targets(ROOT / "scenarios" / "targets" / "wuhou.toml")
    roles = {x.name: x.role for x in t.targets}
    # policy inputs are checks, never fitted
    for name in ("service_centres", "streets_with_centres", "incubation_centres", "brand_agencies"):
        assert roles[name] == "check"
    held = [x for x in t.targets if x.role == "held_out"]
    assert len(held) >= 3
    assert {x.name for x in held} >= {"burden_change_2016", "quality_change_2016"}  # A15
    assert {x.facts.split(",")[0] for x in t.targets} >= {"A13", "A12", "A5", "B5", "B8", "B9"}
    assert all(p.why and p.prior in ("uniform", "log-uniform") for p in t.parameters)
    fit = {x.name: 0.0 for x in t.targets}
    for x in t.fit:  # every fit target on its mark
        lo, hi = x.bounds
        fit[x.name] = x.observed if x.observed is not None else (lo + hi) / 2
    far = {name: (v if roles[name] == "fit" else 1e12) for name, v in fit.items()}
    assert distance(t, far) == 0  # held-out and check targets, however far off, add nothing
    first_fit = t.fit[0]
    off = far | {first_fit.name: far[first_fit.name] + 2 * (first_fit.tolerance or 1.0)}
    assert distance(t, off) > 0


def test_ratios_changes_and_book_quantities_per_replication():
    months = ["2013-01", "2013-02", "2014-01", "2014-02"] * 2
    d = pd.DataFrame(
        {
            "replication": [0] * 4 + [1] * 4,
            "month": months,
            "year": [int(m[:4]) for m in months],
            "n_orgs": [1.0, 3, 10, 20, 2, 2, 4, 8],
            "n_communities": 2.0,
        }
    )
    ratio = target(quantity="n_orgs", denominator="n_communities", when="2014-02", lower=0.0)
    assert ratio.per_run(d).tolist() == [10.0, 4.0]
    rise = target(statistic="mean", when="2014-01/2014-02", change_from="2013-01/2013-02",
                  lower=0.0)  # fmt: skip
    assert rise.per_run(d).tolist() == [13.0, 4.0]  # 15 - 2, 6 - 2
    books = pd.DataFrame(
        {
            "replication": [0, 0, 1, 1],
            "year": [2015, 2016] * 2,
            "projects_funded": [1.0, 3, 2, 5],
            "projects_applied": [4.0, 12, 8, 10],
        }
    )
    rate = target(quantity="books.projects_funded", denominator="books.projects_applied",
                  when="2016", statistic="sum", lower=0.0)  # fmt: skip
    assert rate.per_run(d, books).tolist() == [0.25, 0.5]
    assert rate.per_run(d).isna().all() and len(rate.per_run(d)) == 2  # no books: not measured


def test_book_columns_are_the_models():
    import tempfile
    from pathlib import Path

    from sim.calibration.targets import BOOK_COLUMNS
    from sim.model import DistrictModel
    from sim.scenario import load_scenario

    from ..experiment.helpers import short_scenarios

    with tempfile.TemporaryDirectory() as tmp:
        _, reform = short_scenarios(Path(tmp), months=2)
        model = DistrictModel(load_scenario(reform), rng=0)
        model.run_for(2)
    assert tuple(c for c in model.budget_books().columns if c != "year") == BOOK_COLUMNS


def test_wuhou_creep_priors_span_near_absent_to_a_list_a_review_as_their_why_says():
    """The creep priors are argued from B19 through the model: at the upper bound a review admits
    about as many types as the cut lists hold, not more; at the lower bound it sees a handful of
    petitions. If the issuers' costs change, the argument (and this test) must be revisited."""
    import numpy as np

    from sim.model import DistrictModel
    from sim.scenario import load_scenario

    t = load_targets(ROOT / "scenarios" / "targets" / "wuhou.toml")
    free = {p.name: p for p in t.parameters}
    creep = (free["relabel_propensity"], free["petition_propensity"])
    assert all(p.prior == "log-uniform" and p.low > 0 for p in creep)  # relabelling happens
    reform = load_scenario(t.reform)
    cut = reform.params.listed_types_after_cut

    def reviews(value: float) -> tuple[float, float]:
        """Mean petitions and admissions of the three reviews 2014-10, 2015-10 and 2016-10."""
        over = {f"params.{p.name}": value for p in creep}
        model = DistrictModel(reform.with_overrides(over), rng=np.random.SeedSequence(7))
        got = []
        for _ in range(46):  # 2013-01 .. 2016-10: the cut in 2013-10, reviews a year apart
            model.step()
            if model.world.list_stats["petitions"]:
                got.append(
                    (model.world.list_stats["petitions"], model.world.list_stats["admitted"])
                )
        return tuple(np.mean(got, axis=0)) if got else (0.0, 0.0)

    petitions, admitted = reviews(creep[0].high)
    assert 0.6 * cut <= admitted <= 1.2 * cut  # about a cut list's worth a review, not more
    petitions, admitted = reviews(creep[0].low)
    assert 0 < petitions <= 10 and admitted <= 5  # near-absent, but present
