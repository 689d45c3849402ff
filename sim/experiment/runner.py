"""Running an experiment: plan the runs, skip those already done, run the rest, record everything.

The bottom layer is :func:`run_task`: one scenario, one seed, tables written to the store. It never
raises: an error becomes a 'failed' status with its traceback, so one bad run cannot stop a sweep.
Executors (:mod:`sim.experiment.executors`) decide where tasks run; the results are identical
whichever is used, because each task carries its own seed.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import ScenarioError
from sim.experiment.design import Point, design_points
from sim.experiment.executors import SerialExecutor, progress_bar
from sim.experiment.spec import Experiment, ExperimentError
from sim.experiment.store import (
    data_path,
    read_status,
    reduce_frequency,
    status_path,
)
from sim.experiment.tasks import Task
from sim.io import provenance, write_json, write_parquet


def simulate(task: Task) -> dict[str, Any]:
    """Run the model for a task and return its tables (by level), reduced and keyed."""
    from sim.model import DistrictModel

    model = DistrictModel(task.scenario, rng=task.seed())
    model.run_for(task.scenario.months)
    return keyed_tables(model, task)


def keyed_tables(model: Any, task: Task) -> dict[str, Any]:
    """A finished run's tables (Arrow, by level), reduced to the task's frequency and keyed."""
    import pyarrow as pa

    from sim.metrics import result_arrow
    from sim.outputs import arrow_arrays

    keys = {
        "experiment": task.experiment,
        "scenario": task.scenario.name,
        "point": task.point_id,
        "replication": task.replication,
        "seed_entropy": str(task.root_seed),
        "seed_spawn_key": ",".join(map(str, task.spawn_key)),
        **task.design,
    }
    if task.frequency == "monthly":  # straight from the model's arrays, no pandas round trip
        levels = result_arrow(model)
        arrays = {lv: levels[lv] for lv in task.levels}
    else:
        frames = model.results()
        arrays = {
            lv: arrow_arrays(reduce_frequency(frames[lv], task.frequency), lv, task.frequency)
            for lv in task.levels
        }
    # Each key as an Arrow scalar of the type numpy would give it, repeated in Arrow (a numpy
    # string array per key and level cost more than writing the file); the table is made once,
    # keys first.
    scalars = {k: pa.array(np.full(1, v))[0] for k, v in keys.items()}
    out = {}
    for level, columns in arrays.items():
        n = len(next(iter(columns.values()))) if columns else 0
        names = [*scalars, *(c for c in columns if c not in scalars)]
        values = {**{k: pa.repeat(v, n) for k, v in scalars.items()}, **columns}
        ordered = [values[c] for c in names]
        out[level] = pa.Table.from_arrays(ordered, schema=_schema(names, ordered))
    return out


# The schemas of keyed tables, by column names, types and which columns hold nulls: a sweep meets
# a handful (the levels, times the few patterns of empty ratios), so each is built once.
_SCHEMAS: dict[tuple[Any, ...], Any] = {}
_PLAIN_TYPES: set[int] = set()  # ids of types without parameters (a type is its id)


def _schema(names: list[str], columns: list[Any]) -> Any:
    """The schema of a keyed table: each column's type, nullable only if the column holds a null.

    Parquet stores a column that is not nullable as REQUIRED, with no definition levels to compute,
    encode and copy; for a run's three files that is a sixth of pyarrow's writing time (issue 12).
    Values read back are the same (a null stays a null; pandas sees the same frame); only the
    Arrow schema says ``not null`` where the run had none.
    """
    import pyarrow as pa

    if not _PLAIN_TYPES:
        _PLAIN_TYPES.update(t.id for t in (pa.int64(), pa.float64(), pa.bool_(), pa.string()))
    types = [c.type for c in columns]
    # comparing Arrow types in a key costs a call each; the ids of plain types are ints
    kinds = tuple(i if (i := t.id) in _PLAIN_TYPES else str(t) for t in types)
    key = (tuple(names), kinds, tuple(c.null_count > 0 for c in columns))
    schema = _SCHEMAS.get(key)
    if schema is None:
        if len(_SCHEMAS) >= 256:  # bounded, whatever a sweep holds
            _SCHEMAS.clear()
        fields = [pa.field(n, t, nullable=u) for n, t, u in zip(names, types, key[2], strict=True)]
        schema = _SCHEMAS[key] = pa.schema(fields)
    return schema


def run_task(
    task: Task, simulate_fn: Callable[[Task], dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Run one task, write its files and status; never raises."""
    simulate_fn = simulate_fn or simulate  # looked up now, so tests can patch the module
    out = Path(task.out)
    started = time.time()
    status: dict[str, Any] = {
        "run": task.run_id,
        "point": task.point_id,
        "scenario": task.scenario.name,
        "replication": task.replication,
        "seed_entropy": str(task.root_seed),
        "seed_spawn_key": list(task.spawn_key),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
    }
    if task.draw is not None:  # the run's parameters, with the store's provenance
        status["posterior"] = {**task.draw, "draw_replication": task.draw_replication}
    try:
        tables = simulate_fn(task)
        for level, table in tables.items():
            # plain text, no Arrow schema: the keyed tables hold int64, float64, bool and string
            # columns only, which read back the same (about 0.4 ms less writing a run; same size)
            write_parquet(
                table, data_path(out, level, task.run_id), dictionary=False, arrow_schema=False
            )
        status.update(status="done")
    except Exception as exc:  # a failing run is recorded, and the sweep goes on
        status.update(
            status="failed", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc()
        )
    status["seconds"] = round(time.time() - started, 4)
    write_json(status, status_path(out, task.run_id))
    return status


@dataclass
class SweepReport:
    """What a sweep did."""

    out: Path
    total: int
    skipped: int = 0
    done: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def plan(
    exp: Experiment, out: Path, points: list[Point] | None = None
) -> tuple[list[Point], list[Task]]:
    points = design_points(exp) if points is None else points
    if exp.posterior is not None:
        return points, _posterior_tasks(exp, out, points)
    tasks = [
        Task(
            exp.name,
            p.id,
            r,
            p.scenario,
            exp.root_seed,
            p.design,
            exp.levels,
            exp.frequency,
            str(out),
        )
        for p in points
        for r in range(exp.replications)
    ]
    return points, tasks


def _posterior_tasks(exp: Experiment, out: Path, points: list[Point]) -> list[Task]:
    """Every point x draw x seed. Replication number d * R + r (unique within a point, equal across
    the points of one draw and seed, so differences pair as in a list experiment); the seed is
    SeedSequence(root_seed, spawn_key=(d, r)): shared by the scenarios of a draw (CRN within the
    draw), different between draws."""
    from sim.experiment.design import posterior_draws
    from sim.experiment.posterior import PosteriorError

    assert exp.posterior is not None
    reps = exp.replications
    tasks = []
    for draw in posterior_draws(exp):
        record = draw.record()
        columns = {
            "draw": draw.index,
            "particle": draw.particle.particle,
            **{f"param_{k.partition('.')[2]}": v for k, v in draw.overrides.items()},
        }
        scenarios = []
        for p in points:
            try:
                scenarios.append(p.scenario.with_overrides(draw.overrides))
            except ScenarioError as exc:  # a combination the parameters' own checks refuse
                raise PosteriorError(
                    exp.posterior.path,
                    f"row {draw.particle.row} (particle {draw.particle.particle})",
                    f"its values do not fit scenario {p.scenario.name!r}: {exc}",
                    "parameter values every scenario of the experiment accepts",
                ) from None
        # Draw by draw, seed by seed, every scenario: a sweep stopped part-way leaves whole
        # comparisons (every scenario of the draws it reached), not some scenarios only.
        for r in range(reps):
            for p, scenario in zip(points, scenarios, strict=True):
                tasks.append(
                    Task(
                        exp.name,
                        p.id,
                        draw.index * reps + r,
                        scenario,
                        exp.root_seed,
                        {**p.design, **columns, "draw_replication": r},
                        exp.levels,
                        exp.frequency,
                        str(out),
                        draw=record,
                        draw_replication=r,
                    )
                )
    return tasks


def _is_done(out: Path, task: Task) -> bool:
    status = read_status(out, task.run_id)
    if not status or status.get("status") != "done":
        return False
    return all(data_path(out, level, task.run_id).is_file() for level in task.levels)


def _plan_manifest(exp: Experiment, points: list[Point], started: str) -> dict[str, Any]:
    return {
        "experiment": exp.name,
        "experiment_hash": exp.hash,
        "experiment_path": exp.path,
        "definition": exp.definition,
        "replications": exp.replications,
        "levels": list(exp.levels),
        "frequency": exp.frequency,
        "method": exp.method or "scenarios",
        **({"draws": exp.draws} if exp.posterior is not None else {}),
        "roles": exp.roles.to_manifest() if exp.roles else None,
        "counterfactual": exp.counterfactual,
        "variants": {v.name: v.overrides for v in exp.variants} or None,
        "factors": [
            {
                "key": f.key,
                "column": f.column,
                "values": list(f.values),
                "min": f.low,
                "max": f.high,
                "scale": f.scale,
            }
            for f in exp.factors
        ],
        "seeds": _seeds(exp),
        **({"posterior": _posterior_manifest(exp)} if exp.posterior is not None else {}),
        "points": [
            {
                "point": p.id,
                "scenario": p.scenario.name,
                "scenario_hash": p.scenario.hash,
                "description": p.scenario.description.strip(),
                "design": p.design,
                "overrides": p.overrides,
                "definition": p.scenario.definition if not exp.factors else None,
            }
            | ({"variant": p.variant} if p.variant is not None else {})
            | ({"arm": p.arm, "sample": p.sample} if p.arm is not None else {})
            for p in points
        ],
        "started": started,
        **provenance(),
    }


def _seeds(exp: Experiment) -> dict[str, Any]:
    if exp.posterior is None:
        return {
            "root_seed": exp.root_seed,
            "scheme": "numpy.random.SeedSequence(root_seed, spawn_key=(replication,)); "
            "the same for every point (common random numbers)",
            "replications": [
                {"replication": r, "entropy": str(exp.root_seed), "spawn_key": [r]}
                for r in range(exp.replications)
            ],
        }
    reps = exp.replications
    return {
        "root_seed": exp.root_seed,
        "scheme": "numpy.random.SeedSequence(root_seed, spawn_key=(draw, r)) for seed r of draw "
        "d, stored as replication d * replications + r: the same for every point of a draw "
        "(common random numbers within a draw), different between draws",
        "replications": [
            {"replication": d * reps + r, "entropy": str(exp.root_seed), "spawn_key": [d, r]}
            for d in range(exp.draws)
            for r in range(reps)
        ],
    }


def _posterior_manifest(exp: Experiment) -> dict[str, Any] | None:
    """The posterior file (path, hash, provenance) and every draw with its parameter values."""
    if exp.posterior is None:
        return None
    from sim.experiment.design import posterior_draws

    return {
        **exp.posterior.manifest(),
        "draws": exp.draws,
        "replications_per_draw": exp.replications,
        "sample": [d.record() for d in posterior_draws(exp)],
    }


def run_experiment(
    exp: Experiment,
    out: str | Path,
    executor: Any = None,
    fresh: bool = False,
    progress: bool = True,
    task_fn: Callable[[Task], dict[str, Any]] = run_task,
    points: list[Point] | None = None,
) -> SweepReport:
    """Run (or resume) an experiment into ``out``. Finished runs are skipped, failed ones retried.

    Args:
        executor: an executor from :mod:`sim.experiment.executors` (default: serial).
        fresh: delete what ``out`` holds and start over.
        task_fn: the per-task function (tests inject failures here).
        points: run these points instead of the experiment's own (used by calibration, whose
            candidates are generated in code); ``exp.definition`` must then identify them.
    """
    out = Path(out)
    if fresh and out.exists():
        for sub in ("data", "status", "manifest.json"):
            target = out / sub
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    points, tasks = plan(exp, out, points)
    manifest_path = out / "manifest.json"
    previous = None
    if manifest_path.is_file():
        from sim.experiment.store import load_manifest

        previous = load_manifest(out)
        if previous.get("experiment_hash") != exp.hash:
            raise ExperimentError(
                str(out),
                "results directory",
                f"holds experiment {previous.get('experiment')!r} with a different definition "
                f"(hash {previous.get('experiment_hash')} vs {exp.hash})",
                "the same experiment file to resume, --fresh to start over, or another --out",
            )
    started = previous["started"] if previous else datetime.now(UTC).isoformat(timespec="seconds")
    manifest = _plan_manifest(exp, points, started)
    manifest["status"] = "running"
    write_json(manifest, manifest_path)

    todo = [t for t in tasks if not _is_done(out, t)]
    report = SweepReport(out, total=len(tasks), skipped=len(tasks) - len(todo))
    executor = executor or SerialExecutor()
    with progress_bar(len(tasks), report.skipped, enabled=progress) as bar:
        for status in executor.map_unordered(task_fn, todo):
            if status.get("status") == "done":
                report.done += 1
            else:
                report.failed.append(status)
                if not status_path(out, status["run"]).is_file():
                    write_json(status, status_path(out, status["run"]))
            bar.update(status.get("status") == "done", status.get("status") != "done")

    runs = []
    for t in tasks:
        s = read_status(out, t.run_id) or {"status": "missing"}
        runs.append(
            {
                k: s.get(k)
                for k in (
                    "run",
                    "point",
                    "scenario",
                    "replication",
                    "status",
                    "seconds",
                    "error",
                    "traceback",
                )
                if k in s
            }
            | {"run": t.run_id}
        )
    manifest["runs"] = runs
    manifest["status"] = "complete" if report.ok else "failed runs"
    manifest["n_done"] = sum(r["status"] == "done" for r in runs)
    manifest["n_failed"] = sum(r["status"] != "done" for r in runs)
    manifest["ended"] = datetime.now(UTC).isoformat(timespec="seconds")
    write_json(manifest, manifest_path)
    return report
