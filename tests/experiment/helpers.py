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
