"""A tiny targets file over short runs, for end-to-end calibration tests."""

from __future__ import annotations

from pathlib import Path

from ..experiment.helpers import short_scenarios

TINY = """
name = "tiny"
[calibration]
reform = "{reform}"
counterfactual = "{baseline}"
replications = 1
root_seed = 5
generations = 1
population = 4
validation_replications = 3
screening_trajectories = 2
[calibration.parameters]
"params.group_formation_rate" = {{ min = 0.05, max = 0.6, prior = "log-uniform", why = "test" }}
"params.switchers_per_month" = {{ min = 5.0, max = 60.0, why = "test" }}

[[target]]
name = "orgs"
role = "fit"
quantity = "n_orgs"
when = "2014-05"
observed = 800
tolerance = 50
facts = "test"
why = "test"

[[target]]
name = "burden_change"
role = "held_out"
quantity = "admin_burden"
when = "2014"
statistic = "mean"
scenario = "difference"
lower = -0.6
upper = -0.05
facts = "test"
why = "test"
"""


def tiny_targets(tmp: Path) -> Path:
    baseline, reform = short_scenarios(tmp, months=8)
    path = tmp / "tiny.toml"
    path.write_text(TINY.format(reform=reform.name, baseline=baseline.name), encoding="utf-8")
    return path
