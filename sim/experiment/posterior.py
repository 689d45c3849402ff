"""A stored posterior sample, read and checked, and the draws a ``posterior`` design takes from it.

The file (written by the ABC calibration) is Parquet with one row per particle: one float column
per free parameter, named by its override key (``params.group_formation_rate``), a ``weight``
column summing to 1, ``generation`` and ``particle`` integers, and the Parquet metadata key
``sanshe.provenance`` (JSON). Everything is checked when the experiment is loaded, so a bad file
fails with one message naming the file and the column before any run starts.

Draws: ``draws`` particles are taken with replacement, with probability equal to their weight
(multinomial resampling), by a generator seeded from ``SeedSequence([root_seed, DRAW_STREAM])``:
the same experiment file and posterior file always give the same draws. After resampling every
draw counts equally, so the analysis needs no weights. A particle may be drawn more than once;
its draws still get different seeds (see :mod:`sim.experiment.runner`), so they are not copies.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.errors import ScenarioError
from sim.params import Params

PROVENANCE_KEY = b"sanshe.provenance"
WEIGHT, GENERATION, PARTICLE = "weight", "generation", "particle"
DRAW_STREAM = 0x706F7374  # "post": the draws' own entropy word, apart from every run's seed
WEIGHT_TOLERANCE = 1e-6
INTERFACE = (
    "Parquet with one float column per free parameter named params.<name>, a weight column "
    "summing to 1, generation and particle integers"
)


class PosteriorError(ScenarioError):
    """A missing or bad posterior file."""


@dataclass(frozen=True)
class Particle:
    """One row of the posterior file."""

    row: int
    particle: int
    generation: int
    weight: float
    values: tuple[tuple[str, float], ...]  # (override key, value), in column order


@dataclass(frozen=True)
class Draw:
    """One draw of a posterior design: a particle and the overrides its values give."""

    index: int
    particle: Particle

    @property
    def overrides(self) -> dict[str, Any]:
        """Scenario overrides, values cast to each parameter's type (whole numbers for ints)."""
        return {key: cast_param(key, value) for key, value in self.particle.values}

    def record(self) -> dict[str, Any]:
        """What the manifest and each run's status store about the draw."""
        return {
            "draw": self.index,
            "particle": self.particle.particle,
            "generation": self.particle.generation,
            "row": self.particle.row,
            "weight": self.particle.weight,
            "parameters": self.overrides,
        }


@dataclass(frozen=True)
class PosteriorSample:
    """A checked posterior file."""

    path: str
    sha256: str
    keys: tuple[str, ...]  # free parameters, as override keys
    particles: tuple[Particle, ...]
    provenance: dict[str, Any] | None

    def draw(self, n: int, root_seed: int) -> list[Draw]:
        """``n`` draws by weight, with replacement (see the module docstring)."""
        import numpy as np

        rng = np.random.default_rng(np.random.SeedSequence([root_seed, DRAW_STREAM]))
        weights = np.array([p.weight for p in self.particles], dtype=float)
        rows = rng.choice(len(self.particles), size=n, replace=True, p=weights / weights.sum())
        return [Draw(i, self.particles[int(r)]) for i, r in enumerate(rows)]

    @property
    def effective_sample_size(self) -> float:
        """Kish's effective sample size of the weights, 1 / Σ w² (weights summing to 1)."""
        return 1.0 / sum(p.weight**2 for p in self.particles)

    def manifest(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "sha256": self.sha256,
            "parameters": list(self.keys),
            "n_particles": len(self.particles),
            "effective_sample_size": round(self.effective_sample_size, 2),
            "provenance": self.provenance,
            "draw_seed": "numpy.random.default_rng(SeedSequence([root_seed, "
            f"{DRAW_STREAM}])).choice(n_particles, draws, replace=True, p=weight)",
        }


def cast_param(key: str, value: float) -> Any:
    """A posterior value as its parameter takes it: whole numbers for int parameters."""
    name = key.partition(".")[2]
    return round(value) if Params.model_fields[name].annotation is int else float(value)


def read_posterior(path: str | Path, where: str, key: str = "design.posterior") -> PosteriorSample:
    """Read and check a posterior file; raise :class:`PosteriorError` naming file and column.

    ``where`` and ``key`` name the setting that points at the file (for a missing file).
    """
    path = Path(path)
    if not path.is_file():
        raise PosteriorError(
            where,
            key,
            f"posterior file {str(path)!r} not found (make it with `sanshe calibrate` "
            "using the ABC method, or point design.posterior at another file)",
            "an existing posterior Parquet file: " + INTERFACE,
        )
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    file = str(path)
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise PosteriorError(
            file, "(file)", f"is not a readable Parquet file ({exc})", INTERFACE
        ) from None
    names = table.column_names
    if WEIGHT not in names:
        raise PosteriorError(file, WEIGHT, "column is missing", INTERFACE)
    keys = [c for c in names if c not in (WEIGHT, GENERATION, PARTICLE)]
    if not keys:
        raise PosteriorError(file, "(columns)", "no parameter columns", INTERFACE)
    for c in keys:
        head, _, name = c.partition(".")
        if head != "params" or name not in Params.model_fields:
            raise PosteriorError(
                file, c, "is not a model parameter column", "params.<name> (docs/parameters.md)"
            )
        ann = Params.model_fields[name].annotation
        if ann not in (int, float):
            raise PosteriorError(
                file, c, f"is a {getattr(ann, '__name__', ann)} parameter", "numeric parameters"
            )
    if table.num_rows == 0:
        raise PosteriorError(file, "(rows)", "the file has no particles", "one row per particle")

    def numbers(column: str, integer: bool = False) -> np.ndarray:
        col = table.column(column)
        if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
            raise PosteriorError(file, column, f"has type {col.type}", "numbers")
        arr = col.to_numpy(zero_copy_only=False).astype(float)
        if not np.isfinite(arr).all():
            raise PosteriorError(file, column, "holds missing or infinite values", "finite numbers")
        if integer and (arr != np.round(arr)).any():
            raise PosteriorError(file, column, "holds fractions", "whole numbers")
        return arr

    weights = numbers(WEIGHT)
    if (weights < 0).any():
        raise PosteriorError(file, WEIGHT, "holds negative weights", "weights >= 0 summing to 1")
    total = float(weights.sum())
    if not math.isclose(total, 1.0, abs_tol=WEIGHT_TOLERANCE):
        raise PosteriorError(
            file, WEIGHT, f"weights sum to {total:.6g}", "weights >= 0 summing to 1"
        )
    rows = np.arange(table.num_rows)
    generation = numbers(GENERATION, True) if GENERATION in names else np.zeros(len(rows))
    particle = numbers(PARTICLE, True) if PARTICLE in names else rows.astype(float)
    values = {c: numbers(c) for c in keys}
    meta = table.schema.metadata or {}
    provenance = None
    if PROVENANCE_KEY in meta:
        try:
            provenance = json.loads(meta[PROVENANCE_KEY])
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise PosteriorError(
                file, PROVENANCE_KEY.decode(), "metadata is not JSON", "JSON text"
            ) from None
    particles = tuple(
        Particle(
            row=int(i),
            particle=int(particle[i]),
            generation=int(generation[i]),
            weight=float(weights[i]),
            values=tuple((c, float(values[c][i])) for c in keys),
        )
        for i in rows
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return PosteriorSample(file, digest, tuple(keys), particles, provenance)
