"""Morris screening: which free parameters do the targets and the headline outcomes depend on?

Elementary effects (Morris 1991) with SALib's sampler and analyser, over each free parameter's
prior range. Every sample point is run as the reform and its counterfactual, through the runner,
and averaged over replications (so the noise of one run does not pose as sensitivity). Reported:
mu* (mean absolute elementary effect, in the output's own units), its 95% bootstrap interval, and
sigma (spread: interactions or non-linearity).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.sample import morris as morris_sample

from sim.calibration.fit import evaluate
from sim.calibration.targets import Targets, fmt
from sim.outputs import key_outcomes

HEADLINE = tuple(key_outcomes())


def screen(
    targets: Targets,
    out: str | Path,
    executor: Any = None,
    trajectories: int | None = None,
    replications: int | None = None,
    reform_path: str | None = None,
) -> pd.DataFrame:
    """Morris indices, per parameter, of every target and headline outcome (final-year mean)."""
    out = Path(out)
    params = targets.parameters
    problem = {
        "num_vars": len(params),
        "names": [p.name for p in params],
        "bounds": [[p.low, p.high] for p in params],
    }
    n = trajectories or targets.screening_trajectories
    x = morris_sample.sample(problem, n, num_levels=4, seed=targets.root_seed)
    candidates = [
        {
            p.key: (round(float(v)) if p.integer else float(v))
            for p, v in zip(params, row, strict=True)
        }
        for row in x
    ]
    evaluations, batch_dir = evaluate(targets, candidates, out, executor, replications, reform_path)
    from sim.experiment.store import load_results

    district = load_results(batch_dir, "district")
    year = str(district["year"].max())
    outputs: dict[str, np.ndarray] = {
        f"target {t.name}": np.array([ev.means[t.name] for ev in evaluations])
        for t in targets.targets
    }
    reform = district[district["point"].str[1:].astype(int) % 2 == 0]
    last = reform[reform["year"] == int(year)]
    per_point = last.groupby("point")[list(HEADLINE)].mean()  # mean over months and replications
    for name in HEADLINE:
        outputs[f"{name} ({year}, reform)"] = per_point[name].to_numpy()
    rows = []
    for output, y in outputs.items():
        if not np.all(np.isfinite(y)):
            continue
        res = morris_analyze.analyze(problem, x, y, num_levels=4, seed=targets.root_seed)
        for i, name in enumerate(problem["names"]):
            rows.append(
                {
                    "output": output,
                    "parameter": name,
                    "mu_star": float(res["mu_star"][i]),
                    "mu_star_conf": float(res["mu_star_conf"][i]),
                    "sigma": float(res["sigma"][i]),
                }
            )
    table = pd.DataFrame(rows)
    # Rank within each output: 1 = the parameter it depends on most
    table["rank"] = (
        table.groupby("output")["mu_star"].rank(ascending=False, method="min").astype(int)
    )
    return table


def screening_markdown(table: pd.DataFrame, top: int = 3) -> str:
    """For each output that any parameter moves, its most influential parameters with mu*, its
    interval and sigma (in the output's own units)."""
    lines = ["| output | most influential parameters: mu* [95% CI] (sigma) |", "|---|---|"]
    for output, group in table.groupby("output", sort=False):
        if not (group["mu_star"] > 0).any():
            continue  # a policy input: no parameter moves it
        best = group.sort_values("mu_star", ascending=False).head(top)
        cells = "; ".join(
            f"`{r.parameter}` {fmt(r.mu_star)} [{fmt(max(r.mu_star - r.mu_star_conf, 0))}, "
            f"{fmt(r.mu_star + r.mu_star_conf)}] ({fmt(r.sigma)})"
            for r in best.itertuples()
        )
        lines.append(f"| {output} | {cells} |")
    return "\n".join(lines)
