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
    [calibration.abc]                    # ABC-SMC settings (see sim.calibration.abc)
    population = 48
    generations = 4
    [calibration.parameters]             # free parameters and their argued priors
    "params.group_formation_rate" = { min = 0.1, max = 0.5, prior = "log-uniform", why = "..." }

    [[target]]
    name = "orgs_2016"
    role = "fit"                         # fit (in the distance), held_out (never seen by the
                                         # fit, checked after) or check (a policy input checked)
    quantity = "n_orgs"                  # a district output column (docs/outputs.md)
    when = "2016-12"                     # a month (its value) or a year (see statistic)
    statistic = "value"                  # value (a month), mean or sum (over a year or a
                                         # month range "2014-01/2016-12")
    # denominator = "n_communities"      # optional: a ratio, statistic of quantity over
                                         # statistic of denominator (per replication)
    # change_from = "2013-01/2013-09"    # optional: statistic at when minus at change_from
    scenario = "reform"                  # reform, counterfactual, or difference (reform minus it)
    observed = 1450                      # with tolerance: a point target, within +- tolerance
    tolerance = 145
    # or lower/upper: a range target, met anywhere inside
    facts = "A13"
    why = "why this tolerance"

A quantity is a district output column (docs/outputs.md) or ``books.<column>``, a column of the
yearly budget books (``DistrictModel.budget_books``: money by budget line, projects applied for and
funded); book quantities need a year, and only runs that keep the books (the ABC calibration and its
posterior-predictive runs) can measure them.

The simulated value of a target is the mean over replications of the per-run statistic; for a
difference target, of the paired per-replication difference (common random numbers). Only ``fit``
targets enter a distance (:func:`distance`); ``held_out`` and ``check`` targets are reported beside
them (docs/validation.md explains the three roles).
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
ROLES = ("fit", "held_out", "check")
PRIORS = ("uniform", "log-uniform")
# Columns of DistrictModel.budget_books() (one row per calendar year); tests check they agree.
BOOK_COLUMNS = (
    "purchase_appropriated",
    "purchase_committed",
    "purchase_spent",
    "purchase_unspent",
    "project_appropriated",
    "project_committed",
    "project_spent",
    "project_unspent",
    "funded_item_spent",
    "lots_offered",
    "lots_let",
    "lots_relet",
    "incubation_grants",
    "projects_applied",
    "projects_funded",
)
BOOKS = "books."
TARGET_KEYS = (
    "name",
    "role",
    "description",
    "quantity",
    "when",
    "statistic",
    "scenario",
    "denominator",
    "change_from",
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
    "abc",
)
ABC_KEYS = (
    "population",
    "generations",
    "replications",
    "predictive_draws",
    "predictive_replications",
    "distance",
    "scale",
    "scale_floor",
    "epsilon_quantile",
    "kernel_scaling",
)
ABC_INTEGER_KEYS = ABC_KEYS[:5]
ABC_DISTANCES = ("adaptive", "fixed")  # pyabc AdaptivePNormDistance, or fixed tolerances
ABC_SCALES = ("rmsd", "mad", "std")  # how an adaptive distance measures a target's spread
PARAMETER_KEYS = ("min", "max", "prior", "why")


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
    role: str = "fit"
    denominator: str | None = None
    change_from: str | None = None

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

    @property
    def needs_books(self) -> bool:
        """Whether the target reads the yearly budget books rather than the district table."""
        return self.quantity.startswith(BOOKS)

    def per_run(self, district: pd.DataFrame, books: pd.DataFrame | None = None) -> pd.Series:
        """The target statistic for each replication of one scenario's district table (and, for
        ``books.`` quantities, its budget books with a ``replication`` column); NaN per
        replication if the books are not given."""
        frame = books if self.needs_books else district
        if frame is None:
            reps = np.unique(district["replication"]) if "replication" in district else [0]
            return pd.Series(np.nan, index=pd.Index(reps, name="replication"))
        value = self._statistic(frame, self.quantity, self.when)
        if self.denominator is not None:
            value = value / self._statistic(frame, self.denominator, self.when)
        if self.change_from is not None:
            before = self._statistic(frame, self.quantity, self.change_from)
            if self.denominator is not None:
                before = before / self._statistic(frame, self.denominator, self.change_from)
            value = value - before
        return value.astype(float)

    def _statistic(self, frame: pd.DataFrame, column: str, when: str) -> pd.Series:
        column = column.removeprefix(BOOKS)
        if self.statistic == "value":
            rows = frame[frame["month"] == when]
            return rows.set_index("replication")[column].astype(float)
        if "/" in when:
            first, last = when.split("/")
            rows = frame[(frame["month"] >= first) & (frame["month"] <= last)]
        else:
            rows = frame[frame["year"] == int(when)]
        grouped = rows.groupby("replication")[column]
        return (grouped.mean() if self.statistic == "mean" else grouped.sum()).astype(float)


@dataclass(frozen=True)
class FreeParameter:
    """A parameter the calibration may move, within its prior bounds."""

    key: str  # "params.name"
    low: float
    high: float
    prior: str = "uniform"  # or "log-uniform" (uniform in the logarithm)
    why: str = ""

    def prior_quantile(self, u: np.ndarray | float) -> np.ndarray:
        """The prior's quantile function (u in 0-1 to a value)."""
        u = np.asarray(u, dtype=float)
        if self.prior == "log-uniform":
            return np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
        return self.low + u * (self.high - self.low)

    @property
    def prior_sd(self) -> float:
        """Standard deviation of the prior (for posterior/prior width ratios)."""
        if self.prior == "log-uniform":
            a, b = np.log(self.low), np.log(self.high)
            m1 = (self.high - self.low) / (b - a)
            m2 = (self.high**2 - self.low**2) / (2 * (b - a))
            return float(np.sqrt(max(m2 - m1**2, 0.0)))
        return float((self.high - self.low) / np.sqrt(12))

    @property
    def name(self) -> str:
        return self.key.split(".", 1)[1]

    @property
    def integer(self) -> bool:
        return Params.model_fields[self.name].annotation is int


@dataclass(frozen=True)
class AbcSettings:
    """ABC-SMC settings of a targets file (``[calibration.abc]``)."""

    population: int = 48
    generations: int = 4
    replications: int = 2
    predictive_draws: int = 20
    predictive_replications: int = 2
    distance: str = "adaptive"
    scale: str = "rmsd"
    scale_floor: float = 1.0
    epsilon_quantile: float = 0.7
    kernel_scaling: float = 1.0


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
    abc: AbcSettings = field(default_factory=AbcSettings)
    definition: dict[str, Any] = field(default_factory=dict, repr=False)

    def with_role(self, *roles: str) -> tuple[Target, ...]:
        """The targets of these roles, in file order."""
        return tuple(t for t in self.targets if t.role in roles)

    @property
    def fit(self) -> tuple[Target, ...]:
        """The targets the distance is made of."""
        return self.with_role("fit")


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
    parameters = cal.get("parameters", {})
    if not isinstance(parameters, dict):
        raise _fail(where, "calibration.parameters", "must be a table", "[calibration.parameters]")
    for key, spec in parameters.items():
        params.append(_parameter(key, spec, where))
    abc = _abc_settings(cal.get("abc", {}), where)
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
        abc=abc,
        definition=raw,
    )


def _parameter(key: str, spec: Any, where: str) -> FreeParameter:
    at = f"calibration.parameters.{key}"
    head, _, name = key.partition(".")
    if head != "params" or name not in Params.model_fields:
        raise _fail(where, at, "is not a model parameter", "params.<name> (see docs/parameters.md)")
    if (
        not isinstance(spec, dict)
        or not {"min", "max"} <= set(spec)
        or set(spec) - set(PARAMETER_KEYS)
    ):
        raise _fail(
            where,
            at,
            f"{spec!r} is not valid",
            '{ min = ..., max = ..., prior = "uniform" or "log-uniform", why = "..." }',
        )
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
    prior = spec.get("prior", "uniform")
    if prior not in PRIORS:
        raise _fail(where, f"{at}.prior", f"{prior!r} is not a prior", ", ".join(PRIORS))
    if prior == "log-uniform" and lo <= 0:
        raise _fail(
            where, f"{at}.prior", f"log-uniform needs min > 0, not {lo:g}", "min > 0, or uniform"
        )
    why = spec.get("why")
    if not isinstance(why, str) or not why.strip():
        raise _fail(
            where,
            f"{at}.why",
            "is missing" if why is None else f"{why!r} is not valid",
            "text arguing the prior (range and distribution)",
        )
    return FreeParameter(key, lo, hi, prior, why.strip())


def _abc_settings(raw: Any, where: str) -> AbcSettings:
    if not isinstance(raw, dict):
        raise _fail(where, "calibration.abc", "must be a table", "[calibration.abc]")
    for key in raw:
        if key not in ABC_KEYS:
            raise _fail(
                where, f"calibration.abc.{key}", "is not an ABC setting", ", ".join(ABC_KEYS)
            )
    lows = {"population": 4, "generations": 1, "replications": 1}
    values: dict[str, Any] = {}
    for key in ABC_INTEGER_KEYS:
        if key in raw:
            value = raw[key]
            lo = lows.get(key, 1)
            if isinstance(value, bool) or not isinstance(value, int) or value < lo:
                raise _fail(
                    where,
                    f"calibration.abc.{key}",
                    f"{value!r} is not valid",
                    f"an integer of at least {lo}",
                )
            values[key] = value
    for key, allowed in (("distance", ABC_DISTANCES), ("scale", ABC_SCALES)):
        if key in raw:
            if raw[key] not in allowed:
                problem = f"{raw[key]!r} is not valid"
                raise _fail(where, f"calibration.abc.{key}", problem, " or ".join(allowed))
            values[key] = raw[key]
    numbers = {
        # a target's scale is never below this many of its tolerances (its weight at most 1/floor)
        "scale_floor": (lambda v: 0 < v < np.inf, "a number above 0"),
        # epsilon of a generation: this weighted quantile of the previous generation's distances
        "epsilon_quantile": (lambda v: 0 < v <= 1, "a number above 0 and at most 1"),
        # the perturbation kernel's covariance over Silverman's rule of thumb (pyabc's scaling)
        "kernel_scaling": (lambda v: 0 < v <= 10, "a number above 0 and at most 10"),
    }
    for key, (ok, allowed_text) in numbers.items():
        if key in raw:
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not ok(value):
                raise _fail(
                    where, f"calibration.abc.{key}", f"{value!r} is not valid", allowed_text
                )
            values[key] = float(value)
    return AbcSettings(**values)


def _period(value: Any, statistic: str, where: str, at: str) -> str:
    """A month (statistic value), or a year or month range YYYY-MM/YYYY-MM (mean, sum)."""
    text = value if isinstance(value, str) else ""
    if statistic == "value":
        ok, need = bool(_MONTH.match(text)), "a month YYYY-MM"
    else:
        first, _, last = text.partition("/")
        ok = bool(_YEAR.match(text)) or bool(
            _MONTH.match(first) and _MONTH.match(last) and first <= last
        )
        need = "a year YYYY or a month range YYYY-MM/YYYY-MM"
    if not ok:
        raise _fail(where, at, f"{value!r} does not fit statistic {statistic!r}", need)
    return text


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
    books = row["quantity"].startswith(BOOKS)
    for key in ("quantity", "denominator"):
        if key not in row:
            continue
        name = row[key]
        if not isinstance(name, str):
            raise _fail(where, f"{at}.{key}", f"{name!r} is not text", "a column name")
        if books and not (name.startswith(BOOKS) and name.removeprefix(BOOKS) in BOOK_COLUMNS):
            raise _fail(
                where,
                f"{at}.{key}",
                f"{name!r} is not a column of the budget books",
                ", ".join(BOOKS + c for c in BOOK_COLUMNS),
            )
        if not books and name not in columns:
            raise _fail(
                where,
                f"{at}.{key}",
                f"{name!r} is not a district column",
                "see docs/outputs.md, or books.<column> for the budget books",
            )
    statistic = row.get("statistic", "value")
    if statistic not in STATISTICS:
        raise _fail(where, f"{at}.statistic", f"{statistic!r} is not valid", ", ".join(STATISTICS))
    _period(row["when"], statistic, where, f"{at}.when")
    if "change_from" in row:
        _period(row["change_from"], statistic, where, f"{at}.change_from")
    if books and not _YEAR.match(row["when"]):
        raise _fail(
            where, f"{at}.when", f"{row['when']!r} is not a year", "a year YYYY for the books"
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
    role = row.get("role")
    if role not in ROLES:
        raise _fail(
            where,
            f"{at}.role",
            "is missing" if role is None else f"{role!r} is not a role",
            ", ".join(ROLES),
        )
    return Target(
        name=row["name"],
        description=str(row.get("description", "")),
        quantity=row["quantity"],
        when=row["when"],
        statistic=statistic,
        scenario=scenario,
        facts=row["facts"],
        why=row["why"],
        role=role,
        denominator=row.get("denominator"),
        change_from=row.get("change_from"),
        **nums,
    )


def simulated_values(
    targets: Targets,
    reform: pd.DataFrame,
    counterfactual: pd.DataFrame,
    reform_books: pd.DataFrame | None = None,
    counterfactual_books: pd.DataFrame | None = None,
) -> dict[str, pd.Series]:
    """Per-replication values of every target, from two scenarios' district tables (and budget
    books, with a ``replication`` column; without them book targets are NaN)."""
    out = {}
    for t in targets.targets:
        if t.scenario == "reform":
            out[t.name] = t.per_run(reform, reform_books)
        elif t.scenario == "counterfactual":
            out[t.name] = t.per_run(counterfactual, counterfactual_books)
        else:
            a = t.per_run(reform, reform_books)
            b = t.per_run(counterfactual, counterfactual_books)
            out[t.name] = (a - b).dropna()  # paired by replication (common random numbers)
    return out


def distance(targets: Targets, means: dict[str, float]) -> float:
    """Sum of squared standardised errors over the ``fit`` targets (0 when every one sits on its
    mark); held-out and check targets never enter it."""
    return float(sum(t.error(means[t.name]) ** 2 for t in targets.fit))
