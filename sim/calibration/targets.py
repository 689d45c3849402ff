"""Calibration targets as data: what was observed, when, from which fact, and how close is close.

A targets file (e.g. ``scenarios/targets/wuhou.toml``)::

    name = "wuhou"
    description = "..."

    [calibration]                        # how to fit (see sim.calibration.fit)
    reform = "../wuhou_reform.toml"      # scenario the targets describe
    counterfactual = "../baseline_2013.toml"
    replications = 4
    root_seed = 2016
    generations = 12
    population = 16
    [calibration.parameters]             # free parameters and their prior bounds
    "params.group_formation_rate" = { min = 0.1, max = 0.5 }

    [[target]]
    name = "orgs_2016"
    quantity = "n_orgs"                  # a district output column (docs/outputs.md)
    when = "2016-12"                     # a month (its value) or a year (see statistic)
    statistic = "value"                  # value (a month), mean or sum (over a year)
    scenario = "reform"                  # reform, counterfactual, or difference (reform minus it)
    observed = 1450                      # with tolerance: a point target, within +- tolerance
    tolerance = 145
    # or lower/upper: a range target, met anywhere inside
    facts = "A13"
    why = "why this tolerance"

The simulated value of a target is the mean over replications of the per-run statistic; for a
difference target, of the paired per-replication difference (common random numbers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ScenarioError
from sim.params import Params
from sim.scenario import read_toml

SCENARIO_ROLES = ("reform", "counterfactual", "difference")
STATISTICS = ("value", "mean", "sum")
TARGET_KEYS = (
    "name",
    "description",
    "quantity",
    "when",
    "statistic",
    "scenario",
    "observed",
    "tolerance",
    "lower",
    "upper",
    "facts",
    "why",
)
CALIBRATION_KEYS = (
    "reform",
    "counterfactual",
    "replications",
    "root_seed",
    "generations",
    "population",
    "validation_replications",
    "screening_trajectories",
    "parameters",
)


class TargetsError(ScenarioError):
    """A bad targets file."""


def fmt(x: float) -> str:
    """A number for a table: thousands separators for large values, 3-4 significant digits else."""
    if not np.isfinite(x):
        return str(x)
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}" if abs(x) >= 1 else f"{x:.3g}"


@dataclass(frozen=True)
class Target:
    """One observed pattern the model should reproduce."""

    name: str
    description: str
    quantity: str
    when: str
    statistic: str
    scenario: str
    facts: str
    why: str
    observed: float | None = None
    tolerance: float | None = None
    lower: float | None = None
    upper: float | None = None

    @property
    def bounds(self) -> tuple[float, float]:
        """The interval within which the target counts as met."""
        if self.observed is not None and self.tolerance is not None:
            return self.observed - self.tolerance, self.observed + self.tolerance
        lo = -np.inf if self.lower is None else self.lower
        hi = np.inf if self.upper is None else self.upper
        return lo, hi

    def error(self, simulated: float) -> float:
        """Standardised error: for a point target (simulated - observed) / tolerance, for a range
        target the distance outside the range over its half-width (0 inside). Met iff |e| <= 1
        (point) or e == 0 (range)."""
        if not np.isfinite(simulated):
            return np.inf
        if self.observed is not None and self.tolerance is not None:
            return (simulated - self.observed) / self.tolerance
        lo, hi = self.bounds
        scale = (hi - lo) / 2 if np.isfinite(hi - lo) else max(abs(lo), abs(hi), 1.0)
        if simulated < lo:
            return (simulated - lo) / scale
        if simulated > hi:
            return (simulated - hi) / scale
        return 0.0

    def met(self, simulated: float) -> bool:
        lo, hi = self.bounds
        return bool(lo <= simulated <= hi)

    def describe_observed(self) -> str:
        if self.observed is not None:
            return f"{fmt(self.observed)} ± {fmt(self.tolerance)}"
        lo, hi = self.bounds
        if not np.isfinite(hi):
            return f">= {fmt(lo)}"
        if not np.isfinite(lo):
            return f"<= {fmt(hi)}"
        return f"{fmt(lo)} to {fmt(hi)}"

    def per_run(self, district: pd.DataFrame) -> pd.Series:
        """The target statistic for each replication of one scenario's district table."""
        if self.statistic == "value":
            rows = district[district["month"] == self.when]
            return rows.set_index("replication")[self.quantity].astype(float)
        rows = district[district["year"] == int(self.when)]
        grouped = rows.groupby("replication")[self.quantity]
        return (grouped.mean() if self.statistic == "mean" else grouped.sum()).astype(float)


@dataclass(frozen=True)
class FreeParameter:
    """A parameter the calibration may move, within its prior bounds."""

    key: str  # "params.name"
    low: float
    high: float

    @property
    def name(self) -> str:
        return self.key.split(".", 1)[1]

    @property
    def integer(self) -> bool:
        return Params.model_fields[self.name].annotation is int


@dataclass(frozen=True)
class Targets:
    """A validated targets file."""

    name: str
    description: str
    path: str
    targets: tuple[Target, ...]
    reform: str
    counterfactual: str
    parameters: tuple[FreeParameter, ...]
    replications: int = 4
    root_seed: int = 2016
    generations: int = 10
    population: int = 16
    validation_replications: int = 30
    screening_trajectories: int = 10
    definition: dict[str, Any] = field(default_factory=dict, repr=False)


_MONTH = re.compile(r"^\d{4}-\d{2}$")
_YEAR = re.compile(r"^\d{4}$")


def _fail(where: str, key: str, problem: str, allowed: str) -> TargetsError:
    return TargetsError(where, key, problem, allowed)


def _number(value: Any, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(where, key, f"{value!r} is not a number", "a number")
    return float(value)


def _count(raw: dict, key: str, default: int, where: str, lo: int = 1) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise _fail(
            where, f"calibration.{key}", f"{value!r} is not valid", f"an integer of at least {lo}"
        )
    return value


def load_targets(path: str | Path, district_columns: tuple[str, ...] | None = None) -> Targets:
    """Read and validate a targets file. ``district_columns`` checks quantities if given."""
    from sim.outputs import at_level

    path = Path(path)
    where = str(path)
    raw = read_toml(path)
    allowed_top = ("name", "description", "calibration", "target")
    for key in raw:
        if key not in allowed_top:
            raise _fail(where, key, "is not a targets-file key", ", ".join(allowed_top))
    columns = district_columns or tuple(o.name for o in at_level("district"))
    rows = raw.get("target")
    if not isinstance(rows, list) or not rows:
        raise _fail(where, "target", "no [[target]] tables", "one or more [[target]] tables")
    targets = [_target(row, i, where, columns) for i, row in enumerate(rows)]
    names = [t.name for t in targets]
    if len(set(names)) != len(names):
        raise _fail(where, "target.name", "names repeat", "distinct target names")

    cal = raw.get("calibration", {})
    if not isinstance(cal, dict):
        raise _fail(where, "calibration", "must be a table", "[calibration]")
    for key in cal:
        if key not in CALIBRATION_KEYS:
            raise _fail(
                where,
                f"calibration.{key}",
                "is not a calibration setting",
                ", ".join(CALIBRATION_KEYS),
            )
    files = {}
    for role, default in (
        ("reform", "../wuhou_reform.toml"),
        ("counterfactual", "../baseline_2013.toml"),
    ):
        value = cal.get(role, default)
        resolved = (path.parent / str(value)).resolve()
        if not resolved.is_file():
            raise _fail(
                where,
                f"calibration.{role}",
                f"{value!r} not found (looked for {resolved})",
                "a scenario file",
            )
        files[role] = str(resolved)
    params = []
    for key, spec in cal.get("parameters", {}).items():
        at = f"calibration.parameters.{key}"
        head, _, name = key.partition(".")
        if head != "params" or name not in Params.model_fields:
            raise _fail(
                where, at, "is not a model parameter", "params.<name> (see docs/parameters.md)"
            )
        if not isinstance(spec, dict) or set(spec) != {"min", "max"}:
            raise _fail(where, at, f"{spec!r} is not valid", "{ min = ..., max = ... }")
        lo, hi = _number(spec["min"], where, at), _number(spec["max"], where, at)
        info = Params.model_fields[name]
        field_lo = next((m.ge for m in info.metadata if hasattr(m, "ge")), -np.inf)
        field_hi = next((m.le for m in info.metadata if hasattr(m, "le")), np.inf)
        if not (field_lo <= lo < hi <= field_hi):
            raise _fail(
                where,
                at,
                f"range {lo:g} to {hi:g} is not valid",
                f"min < max within {field_lo:g} to {field_hi:g}",
            )
        params.append(FreeParameter(key, lo, hi))
    return Targets(
        name=str(raw.get("name", path.stem)),
        description=str(raw.get("description", "")),
        path=where,
        targets=tuple(targets),
        reform=files["reform"],
        counterfactual=files["counterfactual"],
        parameters=tuple(params),
        replications=_count(cal, "replications", 4, where),
        root_seed=_count(cal, "root_seed", 2016, where, lo=0),
        generations=_count(cal, "generations", 10, where),
        population=_count(cal, "population", 16, where, lo=4),
        validation_replications=_count(cal, "validation_replications", 30, where, lo=2),
        screening_trajectories=_count(cal, "screening_trajectories", 10, where, lo=2),
        definition=raw,
    )


def _target(row: Any, i: int, where: str, columns: tuple[str, ...]) -> Target:
    at = f"target[{i}]"
    if not isinstance(row, dict):
        raise _fail(where, at, "must be a table", "[[target]]")
    for key in row:
        if key not in TARGET_KEYS:
            raise _fail(where, f"{at}.{key}", "is not a target setting", ", ".join(TARGET_KEYS))
    for key in ("name", "quantity", "when", "facts", "why"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            raise _fail(where, f"{at}.{key}", "is missing", "text")
    at = f"target {row['name']!r}"
    if row["quantity"] not in columns:
        raise _fail(
            where,
            f"{at}.quantity",
            f"{row['quantity']!r} is not a district column",
            "see docs/outputs.md",
        )
    statistic = row.get("statistic", "value")
    if statistic not in STATISTICS:
        raise _fail(where, f"{at}.statistic", f"{statistic!r} is not valid", ", ".join(STATISTICS))
    pattern = _MONTH if statistic == "value" else _YEAR
    if not pattern.match(row["when"]):
        need = "a month YYYY-MM" if statistic == "value" else "a year YYYY"
        raise _fail(
            where, f"{at}.when", f"{row['when']!r} does not fit statistic {statistic!r}", need
        )
    scenario = row.get("scenario", "reform")
    if scenario not in SCENARIO_ROLES:
        raise _fail(
            where, f"{at}.scenario", f"{scenario!r} is not valid", ", ".join(SCENARIO_ROLES)
        )
    nums = {
        k: _number(row[k], where, f"{at}.{k}")
        for k in ("observed", "tolerance", "lower", "upper")
        if k in row
    }
    point = "tolerance" in nums
    if point and (
        "observed" not in nums or nums["tolerance"] <= 0 or "lower" in nums or "upper" in nums
    ):
        raise _fail(
            where,
            at,
            "a point target needs observed and a positive tolerance, and no range",
            "observed + tolerance, or lower/upper",
        )
    if not point and "lower" not in nums and "upper" not in nums:
        raise _fail(
            where,
            at,
            "gives neither a tolerance nor a range",
            "observed + tolerance, or lower/upper",
        )
    if not point and nums.get("lower", -np.inf) >= nums.get("upper", np.inf):
        raise _fail(where, at, "lower must be below upper", "lower < upper")
    return Target(
        name=row["name"],
        description=str(row.get("description", "")),
        quantity=row["quantity"],
        when=row["when"],
        statistic=statistic,
        scenario=scenario,
        facts=row["facts"],
        why=row["why"],
        **nums,
    )


def simulated_values(
    targets: Targets, reform: pd.DataFrame, counterfactual: pd.DataFrame
) -> dict[str, pd.Series]:
    """Per-replication values of every target, from two scenarios' district tables."""
    out = {}
    for t in targets.targets:
        if t.scenario == "reform":
            out[t.name] = t.per_run(reform)
        elif t.scenario == "counterfactual":
            out[t.name] = t.per_run(counterfactual)
        else:
            a, b = t.per_run(reform), t.per_run(counterfactual)
            out[t.name] = (a - b).dropna()  # paired by replication (common random numbers)
    return out


def distance(targets: Targets, means: dict[str, float]) -> float:
    """Sum of squared standardised errors over the targets (0 when every one sits on its mark)."""
    return float(sum(t.error(means[t.name]) ** 2 for t in targets.targets))
