"""Design points: the scenarios an experiment runs, each with its overrides and design values.

A point is one resolved scenario. Listed scenarios are points as they are; a design turns factor
values into overrides on its base scenario: full grid (every combination), Latin hypercube
(scipy.stats.qmc), or SALib's Sobol (Saltelli) and Morris samples, seeded from the experiment's
root seed so the same file always gives the same points.

A posterior design (``method = "posterior"``) has one point per listed scenario, like a list; its
draws from the posterior sample (:func:`posterior_draws`) multiply the runs, not the points, so
analysis sees the scenarios and their roles as in a list experiment.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.experiment.posterior import Draw
from sim.experiment.spec import Experiment, Factor, cast_value, overrides_for
from sim.scenario import Scenario, load_scenario


@dataclass(frozen=True)
class Point:
    """One scenario to run in every replication."""

    index: int
    scenario: Scenario
    design: dict[str, Any] = field(default_factory=dict)  # factor column -> value
    overrides: dict[str, Any] = field(default_factory=dict)
    variant: str | None = None  # the structural variant of a scenario list, if any
    arm: str | None = None  # a paired design's "focus" or "counterfactual"
    sample: int | None = None  # a paired design's sample (row of the design matrix)

    @property
    def id(self) -> str:
        return f"p{self.index:05d}"


def salib_problem(factors: tuple[Factor, ...]) -> dict[str, Any]:
    """The SALib 'problem' dict for a design's factors."""
    return {
        "num_vars": len(factors),
        "names": [f.key for f in factors],
        "bounds": [[f.low, f.high] for f in factors],
    }


def unit_samples(exp: Experiment) -> np.ndarray:
    """Raw factor values, one row per point, for lhs, sobol and morris designs."""
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample
    from scipy.stats import qmc

    factors = exp.factors
    if exp.method == "lhs":
        unit = qmc.LatinHypercube(d=len(factors), rng=exp.root_seed).random(exp.samples)
        lows = np.array([f.low for f in factors])
        highs = np.array([f.high for f in factors])
        return qmc.scale(unit, lows, highs)
    problem = salib_problem(factors)
    if exp.method == "sobol":
        return sobol_sample.sample(
            problem, exp.samples, calc_second_order=False, seed=exp.root_seed
        )
    if exp.method == "morris":
        return morris_sample.sample(
            problem, exp.samples, num_levels=exp.morris_levels, seed=exp.root_seed
        )
    raise ValueError(exp.method)


def design_points(exp: Experiment) -> list[Point]:
    """All points of an experiment, in a fixed order."""
    if exp.scenario_files:
        if not exp.variants:
            return [Point(i, load_scenario(f)) for i, f in enumerate(exp.scenario_files)]
        out = []
        for v in exp.variants:  # every scenario under each variant, variant by variant
            for f in exp.scenario_files:
                scenario = load_scenario(f)
                if v.overrides:
                    renamed = {**v.overrides, "name": v.scenario_name(scenario.name)}
                    scenario = scenario.with_overrides(renamed)
                out.append(Point(len(out), scenario, overrides=dict(v.overrides), variant=v.name))
        return out
    base = exp.base_scenario()
    counterfactual = load_scenario(exp.counterfactual) if exp.counterfactual else None
    if exp.method == "grid":
        rows = list(itertools.product(*(f.values for f in exp.factors)))
    else:
        rows = [tuple(r) for r in unit_samples(exp)]
    points = []
    for i, row in enumerate(rows):
        values = dict(zip(exp.factors, row, strict=True))
        overrides = overrides_for(base, values)
        design = {f.column: cast_value(f, v) for f, v in values.items()}
        scenario = base.with_overrides(overrides)
        if counterfactual is None:
            points.append(Point(i, scenario, design, overrides))
            continue
        # A paired design: the sample as the base, then as the counterfactual (same seeds).
        points.append(Point(2 * i, scenario, design, overrides, arm="focus", sample=i))
        cf_overrides = overrides_for(counterfactual, values)
        cf = counterfactual.with_overrides(cf_overrides)
        points.append(Point(2 * i + 1, cf, design, cf_overrides, arm="counterfactual", sample=i))
    return points


def posterior_draws(exp: Experiment) -> list[Draw]:
    """A posterior design's draws, by weight and seeded (:meth:`PosteriorSample.draw`); [] else."""
    if exp.posterior is None:
        return []
    return exp.posterior.draw(exp.draws, exp.root_seed)
