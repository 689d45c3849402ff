import numpy as np

from sim.experiment.design import design_points
from sim.experiment.spec import load_experiment

from ..conftest import ROOT
from .helpers import experiment_file, short_scenarios


def design_file(tmp, method, factors, extra=""):
    base = short_scenarios(tmp)[1].name
    body = f'name = "d"\nreplications = 1\nroot_seed = 3\n[design]\nmethod = "{method}"\nbase = "{base}"\n{extra}'
    return experiment_file(tmp, body + factors)


RANGE = '[design.factors."policy.entry_enforcement"]\nmin = 0.2\nmax = 0.9\n[design.factors."params.hours_per_item"]\nmin = 7.0\nmax = 11.0\n'


def test_grid_is_every_combination(tmp_path):
    factors = '[design.factors."policy.entry_enforcement"]\nvalues = [0.0, 0.5, 1.0]\n[design.factors."policy.procurement_mode"]\nvalues = ["tender", "commission"]\n'
    points = design_points(load_experiment(design_file(tmp_path, "grid", factors)))
    assert len(points) == 6
    combos = {
        (p.design["design_entry_enforcement"], p.design["design_procurement_mode"]) for p in points
    }
    assert len(combos) == 6
    for p in points:
        pol = p.scenario.schedule.at(5)
        assert pol.entry_enforcement == p.design["design_entry_enforcement"]
        assert pol.procurement_mode == p.design["design_procurement_mode"]


def test_lhs_sobol_morris_sizes_and_ranges(tmp_path):
    lhs = design_points(load_experiment(design_file(tmp_path, "lhs", RANGE, "samples = 10\n")))
    assert len(lhs) == 10
    values = np.array([p.design["design_entry_enforcement"] for p in lhs])
    assert values.min() >= 0.2 and values.max() <= 0.9
    # Latin hypercube: one point in each of the 10 strata
    assert sorted(((values - 0.2) / 0.7 * 10).astype(int)) == list(range(10))
    sobol = design_points(load_experiment(design_file(tmp_path, "sobol", RANGE, "samples = 8\n")))
    assert len(sobol) == 8 * (2 + 2)  # Saltelli without second order: N (D + 2)
    morris = design_points(load_experiment(design_file(tmp_path, "morris", RANGE, "samples = 5\n")))
    assert len(morris) == 5 * (2 + 1)  # trajectories x (D + 1)


def test_designs_are_reproducible_from_the_root_seed(tmp_path):
    path = design_file(tmp_path, "lhs", RANGE, "samples = 6\n")
    a = [p.design for p in design_points(load_experiment(path))]
    b = [p.design for p in design_points(load_experiment(path))]
    assert a == b


def test_scaling_a_timeline_keeps_its_dates():
    exp = load_experiment(ROOT / "experiments" / "budget_sweep.toml")
    points = {p.design["design_purchase_budget_scale"]: p for p in design_points(exp)}
    half = points[0.5].scenario.schedule
    assert half.at(11).purchase_budget == 0  # 2013-12: no budget yet
    assert half.at(12).purchase_budget == 30.85e6 / 2  # 2014-01 (A5), halved
    assert half.at(47).purchase_budget == 37.53e6 / 2
    assert points[0.0].scenario.schedule.at(47).purchase_budget == 0
