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
    # No free parameter is a count of organizations or a sum of money.
    assert not {"other_orgs_initial", "initial_groups_per_community"} & {
        p.name for p in t.parameters
    }


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
        '[calibration.parameters]\n"params.nope" = { min = 0, max = 1 }\n[[target]]\nname = "a"\nquantity = "n_orgs"\nwhen = "2016-12"\nobserved = 1\ntolerance = 1\nfacts = "A"\nwhy = "w"\n',
        "calibration.parameters.params.nope",
    ),
    (
        "prior outside bounds",
        '[calibration.parameters]\n"params.quit_base" = { min = 0, max = 3 }\n[[target]]\nname = "a"\nquantity = "n_orgs"\nwhen = "2016-12"\nobserved = 1\ntolerance = 1\nfacts = "A"\nwhy = "w"\n',
        "calibration.parameters.params.quit_base",
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
