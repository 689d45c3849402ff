"""The unit of work of an experiment: one scenario, one replication (seed), one output place.

Its own module so that the runner (which makes tasks and runs one) and the executors (which send
tasks to workers) both use it without importing each other in a circle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.experiment.store import run_id
from sim.scenario import Scenario


@dataclass(frozen=True)
class Task:
    """Everything a worker needs to do one run (picklable)."""

    experiment: str
    point_id: str
    replication: int
    scenario: Scenario
    root_seed: int
    design: dict[str, Any]
    levels: tuple[str, ...]
    frequency: str
    out: str

    @property
    def run_id(self) -> str:
        return run_id(self.point_id, self.replication)

    def seed(self) -> np.random.SeedSequence:
        """Replication i's seed: the same in every scenario (common random numbers)."""
        return np.random.SeedSequence(self.root_seed, spawn_key=(self.replication,))
