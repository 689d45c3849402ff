"""The unit of work of an experiment: one scenario, one replication (seed), one output place.

Its own module so that the runner (which makes tasks and runs one) and the executors (which send
tasks to workers) both use it without importing each other in a circle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    # Posterior designs: the draw (its record: particle, parameters) and the seed's number within
    # the draw; ``replication`` is then draw * replications + seed, unique within a point.
    draw: dict[str, Any] | None = field(default=None, compare=False)
    draw_replication: int | None = None

    @property
    def run_id(self) -> str:
        return run_id(self.point_id, self.replication)

    @property
    def spawn_key(self) -> tuple[int, ...]:
        """``(replication,)``; for a posterior design ``(draw, seed within the draw)``."""
        if self.draw is None:
            return (self.replication,)
        return (int(self.draw["draw"]), int(self.draw_replication or 0))

    def seed(self) -> np.random.SeedSequence:
        """The run's seed: the same in every scenario (common random numbers); in a posterior
        design the same in every scenario of a draw, and different between draws."""
        return np.random.SeedSequence(self.root_seed, spawn_key=self.spawn_key)
