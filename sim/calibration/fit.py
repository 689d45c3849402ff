"""Fitting free parameters to targets: differential evolution over a distance, via the runner.

The optimiser is scipy's ``differential_evolution`` (Storn and Price 1997), a well-kept global
method that needs no gradients and tolerates noise. Each generation is one batch: every candidate
is run as the reform and its counterfactual, ``replications`` times each, through the experiment
runner, so batches run in parallel and are stored. A batch's directory is named by a hash of its
candidates; rerunning the same command replays the same generations (the optimiser is seeded) and
finds them done, so an interrupted calibration resumes. All candidates share replication seeds
(common random numbers), so the optimiser compares them on the same draws.

Nothing is set from a target's value: the fitted parameters are behavioural rates and capacities,
and the targets (organization counts, registrations, spending, burden and quality) come out of
formation, registration, exit, procurement and delivery.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomli_w
from scipy.optimize import differential_evolution

from sim.calibration.targets import Targets, distance, simulated_values
from sim.experiment.design import Point
from sim.experiment.runner import run_experiment
from sim.experiment.spec import Experiment
from sim.experiment.store import load_results
from sim.io import provenance, write_json, write_parquet, write_text
from sim.scenario import Scenario, load_scenario

FAILED_DISTANCE = 1e12  # a candidate whose runs failed is never preferred


@dataclass
class Evaluation:
    """One candidate's simulated target means and distance."""

    params: dict[str, float]
    means: dict[str, float]
    distance: float


def _scenarios(targets: Targets, reform_path: str | None) -> tuple[Scenario, Scenario]:
    return load_scenario(reform_path or targets.reform), load_scenario(targets.counterfactual)


def evaluate(
    targets: Targets,
    candidates: list[dict[str, float]],
    out: Path,
    executor: Any = None,
    replications: int | None = None,
    reform_path: str | None = None,
    progress: bool = False,
) -> tuple[list[Evaluation], Path]:
    """Run each candidate (reform and counterfactual) and score it against the targets.

    Returns the evaluations and the batch's results directory (a normal results store).
    """
    reform, counterfactual = _scenarios(targets, reform_path)
    reps = replications or targets.replications
    definition = {
        "calibration": targets.name,
        "reform_hash": reform.hash,
        "counterfactual_hash": counterfactual.hash,
        "candidates": candidates,
        "replications": reps,
        "root_seed": targets.root_seed,
    }
    key = hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()[:16]
    points = []
    for j, params in enumerate(candidates):
        design = {f"design_{k.split('.', 1)[1]}": v for k, v in params.items()}
        points.append(Point(2 * j, reform.with_overrides(params), design, params))
        points.append(Point(2 * j + 1, counterfactual.with_overrides(params), design, params))
    exp = Experiment(
        name=f"{targets.name}-batch",
        description="calibration batch",
        replications=reps,
        root_seed=targets.root_seed,
        levels=("district",),
        frequency="monthly",
        path=targets.path,
        definition=definition,
    )
    batch_dir = out / "batches" / key
    run_experiment(exp, batch_dir, executor, progress=progress, points=points)
    district = load_results(batch_dir, "district")
    evaluations = []
    for j, params in enumerate(candidates):
        a = district[district["point"] == points[2 * j].id]
        b = district[district["point"] == points[2 * j + 1].id]
        if a["replication"].nunique() < reps or b["replication"].nunique() < reps:
            means = {t.name: math.nan for t in targets.targets}
            evaluations.append(Evaluation(params, means, FAILED_DISTANCE))
            continue
        values = simulated_values(targets, a, b)
        means = {name: float(v.mean()) for name, v in values.items()}
        evaluations.append(Evaluation(params, means, distance(targets, means)))
    return evaluations, batch_dir


def _params_from_vector(targets: Targets, x: np.ndarray) -> dict[str, float]:
    out = {}
    for p, v in zip(targets.parameters, x, strict=True):
        out[p.key] = round(float(v)) if p.integer else round(float(v), 6)
    return out


def calibrate(
    targets: Targets,
    out: str | Path,
    executor: Any = None,
    reform_path: str | None = None,
    generations: int | None = None,
    population: int | None = None,
    replications: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Fit the free parameters; writes ``trace.parquet`` and ``calibration.json`` into ``out``.

    Returns a summary with the best parameters, their distance and target means.
    """
    if not targets.parameters:
        from sim.calibration.targets import TargetsError

        raise TargetsError(
            targets.path, "calibration.parameters", "is empty", "one or more free parameters"
        )
    out = Path(out)
    generations = generations or targets.generations
    population = population or targets.population
    dims = len(targets.parameters)
    popsize = max(1, math.ceil(population / dims))
    started = datetime.now(UTC).isoformat(timespec="seconds")
    trace: list[dict[str, Any]] = []
    batch_no = [0]

    def batch_map(_func: Any, xs: Any) -> list[float]:
        candidates = [_params_from_vector(targets, np.asarray(x)) for x in xs]
        evaluations, batch_dir = evaluate(
            targets, candidates, out, executor, replications, reform_path
        )
        for ev in evaluations:
            trace.append(
                {"batch": batch_no[0], "batch_dir": batch_dir.name, "distance": ev.distance}
                | {k.split(".", 1)[1]: v for k, v in ev.params.items()}
                | {f"target_{k}": v for k, v in ev.means.items()}
            )
        write_parquet(pd.DataFrame(trace), out / "trace.parquet")
        best = min(trace, key=lambda r: r["distance"])
        if progress:
            print(
                f"  batch {batch_no[0]:3d}: {len(candidates)} candidates, best so far "
                f"distance {best['distance']:.3f}",
                flush=True,
            )
        batch_no[0] += 1
        return [ev.distance for ev in evaluations]

    result = differential_evolution(
        lambda x: 0.0,  # replaced by batch_map, which scores whole generations at once
        bounds=[(p.low, p.high) for p in targets.parameters],
        integrality=[p.integer for p in targets.parameters],
        maxiter=generations,
        popsize=popsize,
        init="latinhypercube",
        seed=targets.root_seed,
        updating="deferred",
        workers=batch_map,
        polish=False,
        tol=0.0,
        atol=0.0,
    )
    frame = pd.DataFrame(trace)
    best_row = frame.loc[frame["distance"].idxmin()]
    best = {
        p.key: (int(best_row[p.name]) if p.integer else float(best_row[p.name]))
        for p in targets.parameters
    }
    means = {t.name: float(best_row[f"target_{t.name}"]) for t in targets.targets}
    summary = {
        "targets": targets.name,
        "targets_path": targets.path,
        "reform": reform_path or targets.reform,
        "counterfactual": targets.counterfactual,
        "method": "scipy.optimize.differential_evolution (latin hypercube init, deferred updating)",
        "generations": generations,
        "population": int((frame["batch"] == 0).sum()),  # scipy keeps at least 5
        "replications": replications or targets.replications,
        "root_seed": targets.root_seed,
        "evaluations": len(frame),
        "best_params": best,
        "best_distance": float(best_row["distance"]),
        "best_target_means": means,
        "targets_met": sum(t.met(means[t.name]) for t in targets.fit),
        "fit_targets": len(targets.fit),
        "scipy_message": str(result.message),
        "started": started,
        "ended": datetime.now(UTC).isoformat(timespec="seconds"),
        **provenance(),
    }
    write_json(summary, out / "calibration.json")
    return summary


def write_fitted_scenario(summary: dict[str, Any], path: str | Path, command: str) -> Path:
    """A scenario file extending the calibrated scenario with the fitted parameters."""
    path = Path(path).resolve()
    base = Path(summary["reform"]).resolve()
    stem = base.stem
    params = {k.split(".", 1)[1]: v for k, v in summary["best_params"].items()}
    lines = [
        f"{stem} with its free parameters fitted to the targets in",
        f"{os.path.relpath(summary['targets_path'], path.parent)} by",
        f"`{command}`",
        f"on {summary['ended'][:10]} (commit {summary['git_commit']}).",
        f"Method: {summary['method']};",
        f"{summary['generations']} generations of {summary['population']} candidates, "
        f"{summary['replications']} replications each on shared seeds (root seed "
        f"{summary['root_seed']}).",
        f"Best distance {summary['best_distance']:.3f}; "
        f"{summary['targets_met']} fit targets met in the fit.",
        "See docs/validation.md for the fit table on 30 fresh seeds.",
    ]
    return write_calibrated_scenario(path, base, params, lines, "sanshe calibrate")


def write_calibrated_scenario(
    path: Path, base: Path, params: dict[str, Any], lines: list[str], written_by: str
) -> Path:
    """Write (atomically) a scenario ``<base>_calibrated`` extending ``base`` with ``params``; its
    description is ``lines``, and its header says which command wrote it."""
    doc = {
        "name": f"{base.stem}_calibrated",
        "description": "\n".join(lines) + "\n",
        "extends": os.path.relpath(base, path.parent),
        "params": params,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(
        f"# Written by {written_by}; edit the targets and re-run rather than editing by hand.\n"
        + tomli_w.dumps(doc, multiline_strings=True),
        path,
    )
    return path
