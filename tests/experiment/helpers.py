"""Small experiments for tests: short runs on scenarios that extend the shipped ones."""

from __future__ import annotations

import os
from pathlib import Path

from sim.experiment.runner import Task, run_task

from ..conftest import SCENARIOS


def short_scenarios(
    tmp: Path, months: int = 6, names=("baseline_2013", "wuhou_reform")
) -> list[Path]:
    """Scenario files that extend the shipped ones but run only ``months`` months (from 2013-10)."""
    out = []
    for name in names:
        path = tmp / f"{name}_short.toml"
        path.write_text(
            f'name = "{name}"\nextends = "{SCENARIOS / (name + ".toml")}"\n'
            f'[run]\nstart = "2013-10"\nmonths = {months}\n',
            encoding="utf-8",
        )
        out.append(path)
    return out


def experiment_file(tmp: Path, body: str, name: str = "exp") -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(body, encoding="utf-8")
    return path


def list_experiment(
    tmp: Path, replications: int = 3, months: int = 6, levels='["district", "street", "community"]'
) -> Path:
    files = short_scenarios(tmp, months)
    listed = ", ".join(f'"{f.name}"' for f in files)
    return experiment_file(
        tmp,
        f'name = "t"\nreplications = {replications}\nroot_seed = 7\nscenarios = [{listed}]\n'
        f"[outputs]\nlevels = {levels}\n",
    )


def fail_one(task: Task) -> dict:
    """A task function where replication 1 of the second point raises, the rest run normally."""
    if task.point_id == "p00001" and task.replication == 1:

        def boom(task: Task) -> dict:
            raise RuntimeError("deliberate failure for the test")

        return run_task(task, boom)
    return run_task(task)


def crash_one(task: Task) -> dict:
    """A task function whose process dies hard on one run (as on a segfault or OOM kill)."""
    if task.point_id == "p00000" and task.replication == 2:
        os._exit(13)
    return run_task(task)


def posterior_file(
    tmp: Path,
    values: dict[str, list[float]] | None = None,
    weights: list[float] | None = None,
    name: str = "posterior.parquet",
    provenance: dict | None = None,
) -> Path:
    """A small posterior sample in the format `sanshe calibrate` writes (see
    sim.experiment.posterior): parameter columns, weight, generation, particle, provenance."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    values = values or {
        "params.group_formation_rate": [0.1, 0.2, 0.3, 0.4],
        "params.agency_lookahead_months": [1.0, 2.0, 3.0, 4.0],
    }
    n = len(next(iter(values.values())))
    weights = weights if weights is not None else [1 / n] * n
    columns = {
        **{k: pa.array(v, pa.float64()) for k, v in values.items()},
        "weight": pa.array(weights, pa.float64()),
        "generation": pa.array([3] * n, pa.int64()),
        "particle": pa.array(list(range(n)), pa.int64()),
    }
    table = pa.table(columns)
    meta = {b"sanshe.provenance": json.dumps(provenance or {"method": "test"}).encode()}
    table = table.replace_schema_metadata(meta)
    path = tmp / name
    pq.write_table(table, path)
    return path


def posterior_experiment(
    tmp: Path, draws: int = 3, replications: int = 2, months: int = 4, posterior: Path | None = None
) -> Path:
    """Baseline and reform (short) over ``draws`` posterior draws x ``replications`` seeds."""
    files = short_scenarios(tmp, months)
    listed = ", ".join(f'"{f.name}"' for f in files)
    posterior = posterior or posterior_file(tmp)
    return experiment_file(
        tmp,
        f'name = "post"\nreplications = {replications}\nroot_seed = 11\n'
        f"scenarios = [{listed}]\n"
        f'[outputs]\nlevels = ["district"]\n'
        f'[roles]\nreference = "{files[0].name}"\nfocus = "{files[1].name}"\n'
        f'[design]\nmethod = "posterior"\nposterior = "{posterior}"\ndraws = {draws}\n',
        name="post",
    )


def probe_worker(task: Task) -> dict:
    """A task function that reports, before running the task, what its process holds: models still
    in memory from earlier runs, whether the objects inherited at start are frozen out of the
    garbage collector, and which heavy modules are imported."""
    import gc
    import sys

    from sim.model import DistrictModel

    probe = {
        "pid": os.getpid(),
        "models": sum(isinstance(o, DistrictModel) for o in gc.get_objects()),
        "frozen": gc.get_freeze_count(),
        "modules": sorted(m for m in ("matplotlib", "solara", "dask", "SALib") if m in sys.modules),
        "parquet": "pyarrow.parquet" in sys.modules,
    }
    return run_task(task) | {"probe": probe}
