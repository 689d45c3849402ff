"""Experiment files: which scenarios (or which design over levers), replications, seed, outputs.

An experiment is a TOML file in ``experiments/`` (format: ``docs/experiments.md``)::

    name = "budget_sweep"
    description = "What it asks."
    replications = 20
    root_seed = 20131001
    scenarios = ["../scenarios/baseline_2013.toml", "../scenarios/wuhou_reform.toml"]
    # top-level keys go before the first [table]: after [outputs], TOML would read
    # scenarios as outputs.scenarios

    [outputs]
    levels = ["district", "street"]      # any of district, street, community
    frequency = "monthly"                # monthly, yearly or final

    [roles]                              # optional, scenario lists only: what each scenario is
    reference = "../scenarios/baseline_2013.toml"   # differences are taken from it
    focus = "../scenarios/wuhou_reform.toml"        # the setting the report's answer is about
    [roles.ablations]                    # the focus with one lever removed, by lever
    entry_control = "../scenarios/reform_minus_entry_control.toml"
    [roles.added_alone]                  # the reference with one lever added alone, by lever
    entry_control = "../scenarios/baseline_plus_entry_control.toml"

    [variants]                           # optional, scenario lists only: run every scenario
    [variants.default]                   # under each variant (structural variants, issue 11);
    [variants.refusal_fixed]             # at most one variant without overrides keeps the
    "params.refusal_rule" = "fixed_propensity"    # scenario names, the others get "@<variant>"

    # ... or, instead of the list of scenarios, a design over levers and parameters:
    [design]
    method = "grid"                      # grid, lhs, sobol or morris
    base = "../scenarios/wuhou_reform.toml"
    counterfactual = "../scenarios/baseline_2013.toml"  # optional: a paired design (see below)
    samples = 64                         # lhs: points; sobol: base samples N; morris: trajectories
    [design.factors."policy.purchase_budget"]
    values = [0, 0.5, 1.0, 1.5, 2.0]     # grid: the values; lhs/sobol/morris: min and max
    scale = true                         # multiply the base timeline instead of replacing it

Paths are relative to the experiment file. Everything is validated before anything runs.
A paired design (``counterfactual`` given) runs every sample twice, as the base and as the
counterfactual with the same factor values (point 2i and 2i + 1, arms "focus" and
"counterfactual"); replication r of both shares its seed (common random numbers, as everywhere), so
the effect base − counterfactual is paired at each sample point (``sanshe sensitivity``).
Roles are stored in the manifest by scenario name, so analysis never guesses them from names; they
do not change the runs, so they are left out of the experiment's hash (adding roles to an
experiment file resumes its results instead of starting over).

A list of scenarios may instead come with a posterior design, ``[design]`` with
``method = "posterior"``, ``posterior = "<file>.parquet"`` and ``draws = N``: every scenario runs
over N draws from a stored posterior sample (each draw's parameters override every scenario) x
``replications`` seeds per draw, and the scenarios of one draw and seed share that seed (CRN within
a draw; see :mod:`sim.experiment.posterior` and docs/experiments.md).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.errors import ScenarioError
from sim.experiment.posterior import PosteriorError, PosteriorSample, cast_param, read_posterior
from sim.params import Params, Policy
from sim.scenario import Scenario, load_scenario, read_toml

LEVELS = ("district", "street", "community")
FREQUENCIES = ("monthly", "yearly", "final")
METHODS = ("grid", "lhs", "sobol", "morris")
POSTERIOR = "posterior"
POSTERIOR_KEYS = ("method", "posterior", "draws")
MAX_DRAWS = 100_000
TOP_KEYS = (
    "name",
    "description",
    "replications",
    "root_seed",
    "outputs",
    "scenarios",
    "design",
    "roles",
    "variants",
)
ROLE_KEYS = ("reference", "focus", "ablations", "added_alone")
LEVER_ROLES = ("ablations", "added_alone")
DESIGN_KEYS = ("method", "base", "counterfactual", "samples", "levels", "factors")
FACTOR_KEYS = ("values", "min", "max", "scale")
MAX_REPLICATIONS = 100_000


class ExperimentError(ScenarioError):
    """A bad experiment file."""


@dataclass(frozen=True)
class Factor:
    """One design variable: a policy lever or model parameter and its values or range."""

    key: str  # "policy.purchase_budget" or "params.hours_per_item"
    values: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    scale: bool = False  # multiply the base value (and every dated value of a timeline)

    @property
    def name(self) -> str:
        return self.key.split(".", 1)[1]

    @property
    def column(self) -> str:
        """Column holding this factor's value in the results: ``design_<name>``, or
        ``design_<name>_scale`` for a scaled factor, whose value is a multiplier of the base
        scenario's value rather than the value itself."""
        return f"design_{self.name}_scale" if self.scale else f"design_{self.name}"

    @property
    def kind(self) -> str:
        """'float', 'int', 'bool' or 'choice' (from the target field's type)."""
        cls = Policy if self.key.startswith("policy.") else Params
        ann = cls.model_fields[self.name].annotation
        return {float: "float", int: "int", bool: "bool"}.get(ann, "choice")


@dataclass(frozen=True)
class Roles:
    """What the scenarios of a list are, by scenario name (the ``[roles]`` table)."""

    reference: str | None = None
    focus: str | None = None
    ablations: dict[str, str] = field(default_factory=dict)  # lever -> the focus without it
    added_alone: dict[str, str] = field(default_factory=dict)  # lever -> the reference with it

    def to_manifest(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "focus": self.focus,
            "ablations": dict(self.ablations),
            "added_alone": dict(self.added_alone),
        }


@dataclass(frozen=True)
class Variant:
    """A structural variant: overrides applied to every scenario of a list (``[variants]``)."""

    name: str
    overrides: dict[str, Any] = field(default_factory=dict)

    def scenario_name(self, name: str) -> str:
        """A scenario's name under this variant: unchanged without overrides, else name@variant."""
        return f"{name}@{self.name}" if self.overrides else name


@dataclass(frozen=True)
class Experiment:
    """A validated experiment definition."""

    name: str
    description: str
    replications: int
    root_seed: int
    levels: tuple[str, ...]
    frequency: str
    path: str
    definition: dict[str, Any] = field(repr=False)
    scenario_files: tuple[str, ...] = ()  # when comparing named scenarios
    method: str | None = None  # when running a design
    base: str | None = None
    samples: int | None = None
    morris_levels: int = 4
    factors: tuple[Factor, ...] = ()
    roles: Roles | None = None
    counterfactual: str | None = None  # a paired design's counterfactual scenario file
    variants: tuple[Variant, ...] = ()  # structural variants of a scenario list
    posterior: PosteriorSample | None = field(default=None, repr=False)  # method "posterior"
    draws: int = 0  # method "posterior": draws from the posterior sample

    @property
    def hash(self) -> str:
        """Hash of what determines the runs (everything but the ``[roles]`` table; for a posterior
        design also the posterior file's content, so a new sample never resumes old runs)."""
        runs = {k: v for k, v in self.definition.items() if k != "roles"}
        if self.posterior is not None:
            runs["posterior_sha256"] = self.posterior.sha256
        text = json.dumps(runs, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def base_scenario(self) -> Scenario:
        assert self.base is not None
        return load_scenario(self.base)


def _fail(where: str, key: str, problem: str, allowed: str) -> ExperimentError:
    return ExperimentError(where, key, problem, allowed)


def _int(value: Any, where: str, key: str, lo: int, hi: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise _fail(where, key, f"{value!r} is not valid", f"an integer from {lo:,} to {hi:,}")
    return value


def load_experiment(path: str | Path, design: dict[str, Any] | None = None) -> Experiment:
    """Read and validate an experiment file (scenario files and factors included).

    ``design`` overrides keys of its ``[design]`` table (``sanshe sweep --posterior/--draws``); the
    overridden definition is the one hashed and stored, so the runs record what they ran. A path
    given here should be absolute (paths in the file are relative to it).
    """
    path = Path(path)
    where = str(path)
    raw = read_toml(path)
    if design:
        current = raw.get("design")
        if not isinstance(current, dict) or current.get("method") != POSTERIOR:
            raise _fail(
                where,
                ", ".join(f"design.{k}" for k in design),
                "can only be set for a posterior design (--posterior, --draws)",
                'an experiment with [design] method = "posterior"',
            )
        raw = {**raw, "design": {**current, **design}}
    unknown = [k for k in raw if k not in TOP_KEYS]
    if unknown:
        raise _fail(where, unknown[0], "is not an experiment key", ", ".join(TOP_KEYS))
    name = raw.get("name", path.stem)
    if not isinstance(name, str) or not name or "/" in name:
        raise _fail(where, "name", f"{name!r} is not valid", "a non-empty name without '/'")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise _fail(where, "description", f"{description!r} is not text", "text")
    if "replications" not in raw:
        raise _fail(
            where, "replications", "is missing", f"an integer from 1 to {MAX_REPLICATIONS:,}"
        )
    replications = _int(raw["replications"], where, "replications", 1, MAX_REPLICATIONS)
    if "root_seed" not in raw:
        raise _fail(where, "root_seed", "is missing", "a non-negative integer")
    root_seed = _int(raw["root_seed"], where, "root_seed", 0, 2**63 - 1)

    outputs = raw.get("outputs", {})
    if not isinstance(outputs, dict):
        raise _fail(where, "outputs", "must be a table", "[outputs] with levels and frequency")
    for key in outputs:
        if key not in ("levels", "frequency"):
            hint = (
                " (top-level keys go before the first [table] in TOML)" if key in TOP_KEYS else ""
            )
            raise _fail(
                where, f"outputs.{key}", "is not an output setting" + hint, "levels, frequency"
            )
    levels = outputs.get("levels", list(LEVELS))
    if (
        not isinstance(levels, list)
        or not levels
        or any(lv not in LEVELS for lv in levels)
        or len(set(levels)) != len(levels)
    ):
        raise _fail(
            where,
            "outputs.levels",
            f"{levels!r} is not valid",
            "a list drawn from " + ", ".join(LEVELS),
        )
    frequency = outputs.get("frequency", "monthly")
    if frequency not in FREQUENCIES:
        raise _fail(
            where, "outputs.frequency", f"{frequency!r} is not valid", ", ".join(FREQUENCIES)
        )

    has_list, has_design = "scenarios" in raw, "design" in raw
    is_posterior = isinstance(raw.get("design"), dict) and raw["design"].get("method") == POSTERIOR
    if is_posterior and not has_list:
        raise _fail(
            where,
            "scenarios",
            "is missing: a posterior design runs a list of scenarios",
            'scenarios = [...] with [design] method = "posterior"',
        )
    if has_list == has_design and not is_posterior:
        raise _fail(
            where,
            "scenarios/design",
            "give exactly one of them" if has_list else "neither is given (empty design)",
            "a list of scenario files, or a [design] table",
        )
    common = dict(
        name=name,
        description=description,
        replications=replications,
        root_seed=root_seed,
        levels=tuple(levels),
        frequency=frequency,
        path=str(path),
        definition=raw,
    )
    if has_list:
        files = raw["scenarios"]
        if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
            raise _fail(
                where,
                "scenarios",
                "is empty or not a list of file names",
                "a non-empty list of .toml paths",
            )
        resolved = tuple(str((path.parent / f).resolve()) for f in files)
        names = []
        for f, r in zip(files, resolved, strict=True):
            if not Path(r).is_file():
                raise _fail(
                    where,
                    "scenarios",
                    f"{f!r} not found (looked for {r})",
                    "existing scenario files",
                )
            names.append(load_scenario(r).name)  # validates each scenario now
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise _fail(
                where,
                "scenarios",
                f"scenario names repeat: {sorted(dupes)}",
                "distinct scenario names",
            )
        roles = _roles(raw.get("roles"), where, path, dict(zip(resolved, names, strict=True)))
        variants = _variants(raw.get("variants"), where, resolved)
        if is_posterior:
            sample, draws = _posterior(raw["design"], where, path, resolved)
            return Experiment(
                **common,
                scenario_files=resolved,
                roles=roles,
                variants=variants,
                method=POSTERIOR,
                posterior=sample,
                draws=draws,
            )
        return Experiment(**common, scenario_files=resolved, roles=roles, variants=variants)
    for key in ("roles", "variants"):
        if key in raw:
            raise _fail(
                where, key, "is only used with a list of scenarios", "omit it for a [design]"
            )
    return _design(raw["design"], where, path, common)


def _roles(raw: Any, where: str, path: Path, names: dict[str, str]) -> Roles | None:
    """Validate ``[roles]``: every value a file of the scenario list; levers are plain names."""
    if raw is None:
        return None
    allowed = "a scenario file of the scenarios list (paths relative to the experiment file)"
    if not isinstance(raw, dict):
        raise _fail(where, "roles", "must be a table", "[roles] with " + ", ".join(ROLE_KEYS))
    for key in raw:
        if key not in ROLE_KEYS:
            raise _fail(where, f"roles.{key}", "is not a role", ", ".join(ROLE_KEYS))

    def scenario(value: Any, key: str) -> str:
        if not isinstance(value, str):
            raise _fail(where, key, f"{value!r} is not a file name", allowed)
        resolved = str((path.parent / value).resolve())
        if resolved not in names:
            raise _fail(where, key, f"{value!r} is not in the scenarios list", allowed)
        return names[resolved]

    single = {k: scenario(raw[k], f"roles.{k}") for k in ("reference", "focus") if k in raw}
    if "reference" in single and single.get("focus") == single["reference"]:
        raise _fail(where, "roles.focus", "is the reference", "a scenario other than the reference")
    levers: dict[str, dict[str, str]] = {}
    for key in LEVER_ROLES:
        table = raw.get(key, {})
        if not isinstance(table, dict):
            raise _fail(
                where, f"roles.{key}", "must be a table", '{ lever = "scenario.toml", ... }'
            )
        levers[key] = {}
        for lever, value in table.items():
            at = f"roles.{key}.{lever}"
            if not lever.replace("_", "").isalnum():
                raise _fail(where, at, "is not a lever name", "letters, digits and underscores")
            name = scenario(value, at)
            if name in single.values():
                raise _fail(where, at, f"{name!r} is the reference or the focus", allowed)
            levers[key][lever] = name
    if levers["ablations"] and "focus" not in single:
        raise _fail(where, "roles.focus", "is missing", "the scenario the ablations remove from")
    if levers["added_alone"] and "reference" not in single:
        raise _fail(where, "roles.reference", "is missing", "the scenario levers are added to")
    return Roles(
        reference=single.get("reference"),
        focus=single.get("focus"),
        ablations=levers["ablations"],
        added_alone=levers["added_alone"],
    )


def _variants(raw: Any, where: str, files: tuple[str, ...]) -> tuple[Variant, ...]:
    """Validate ``[variants]``: named tables of params/policy overrides, each checked on every
    scenario of the list; at most one variant without overrides (it keeps the names)."""
    if raw is None:
        return ()
    shape = '[variants.<name>] tables of overrides, e.g. "params.refusal_rule" = "fixed_propensity"'
    if not isinstance(raw, dict) or not raw:
        raise _fail(where, "variants", "must be a non-empty table", shape)
    scenarios = [load_scenario(f) for f in files]
    out = []
    for name, overrides in raw.items():
        at = f"variants.{name}"
        if not name.replace("_", "").isalnum():
            raise _fail(where, at, "is not a variant name", "letters, digits and underscores")
        if not isinstance(overrides, dict):
            raise _fail(where, at, "must be a table", shape)
        for key, value in overrides.items():
            if key.partition(".")[0] not in ("params", "policy") or not key.partition(".")[2]:
                raise _fail(where, f"{at}.{key}", "is not an override", "params.<name> or "
                            "policy.<lever> (see docs/parameters.md)")  # fmt: skip
            for scenario in scenarios:
                try:
                    scenario.with_overrides({key: value})
                except ScenarioError as exc:
                    raise _fail(where, f"{at}.{key}", exc.problem, exc.allowed) from None
        out.append(Variant(name, dict(overrides)))
    plain = [v.name for v in out if not v.overrides]
    if len(plain) > 1:
        raise _fail(
            where, f"variants.{plain[1]}", f"has no overrides, like {plain[0]!r}",
            "at most one variant without overrides (the model's defaults)",
        )  # fmt: skip
    return tuple(out)


def _design(design: Any, where: str, path: Path, common: dict[str, Any]) -> Experiment:
    if not isinstance(design, dict):
        raise _fail(where, "design", "must be a table", "[design] with method, base and factors")
    for key in design:
        if key not in DESIGN_KEYS:
            raise _fail(where, f"design.{key}", "is not a design setting", ", ".join(DESIGN_KEYS))
    method = design.get("method")
    if method not in METHODS:
        allowed = ", ".join((*METHODS, POSTERIOR))
        raise _fail(where, "design.method", f"{method!r} is not valid", allowed)
    base = design.get("base")
    if not isinstance(base, str):
        raise _fail(where, "design.base", "is missing", "a scenario file to vary")
    base_path = (path.parent / base).resolve()
    if not base_path.is_file():
        raise _fail(
            where,
            "design.base",
            f"{base!r} not found (looked for {base_path})",
            "an existing scenario file",
        )
    base_scenario = load_scenario(base_path)
    bases = [base_scenario]
    counterfactual = design.get("counterfactual")
    cf_path = None
    if counterfactual is not None:
        if not isinstance(counterfactual, str):
            raise _fail(where, "design.counterfactual", f"{counterfactual!r} is not a file name",
                        "a scenario file to pair each sample with")  # fmt: skip
        cf_path = (path.parent / counterfactual).resolve()
        if not cf_path.is_file():
            raise _fail(where, "design.counterfactual",
                        f"{counterfactual!r} not found (looked for {cf_path})",
                        "an existing scenario file")  # fmt: skip
        if cf_path == base_path:
            raise _fail(where, "design.counterfactual", "is the base scenario",
                        "a scenario other than design.base")  # fmt: skip
        bases.append(load_scenario(cf_path))
    samples = design.get("samples")
    if method == "grid":
        if samples is not None:
            raise _fail(
                where,
                "design.samples",
                "is not used by a grid",
                "omit it; a grid runs every combination",
            )
    else:
        samples = _int(samples, where, "design.samples", 1, 1_000_000)
    morris_levels = design.get("levels", 4)
    if method == "morris":
        morris_levels = _int(morris_levels, where, "design.levels", 2, 100)
        if morris_levels % 2:
            raise _fail(
                where, "design.levels", f"{morris_levels} is odd", "an even number of Morris levels"
            )
    elif "levels" in design:
        raise _fail(where, "design.levels", f"is only used by morris, not {method}", "omit it")
    raw_factors = design.get("factors")
    if not isinstance(raw_factors, dict) or not raw_factors:
        raise _fail(where, "design.factors", "is empty (empty design)", "one or more factors")
    factors = tuple(_factor(key, spec, method, where, bases) for key, spec in raw_factors.items())
    return Experiment(
        **common,
        method=method,
        base=str(base_path),
        samples=samples,
        morris_levels=morris_levels,
        factors=factors,
        counterfactual=str(cf_path) if cf_path else None,
    )


def _posterior(
    design: dict[str, Any], where: str, path: Path, scenario_files: tuple[str, ...]
) -> tuple[PosteriorSample, int]:
    """Check a posterior design: its keys, draws, and the posterior file (read and validated)."""
    for key in design:
        if key not in POSTERIOR_KEYS:
            raise _fail(
                where,
                f"design.{key}",
                "is not a posterior design setting",
                ", ".join(POSTERIOR_KEYS),
            )
    file = design.get("posterior")
    if not isinstance(file, str) or not file:
        raise _fail(
            where, "design.posterior", "is missing", "a posterior Parquet file (sanshe calibrate)"
        )
    draws = _int(design.get("draws"), where, "design.draws", 1, MAX_DRAWS)
    sample = read_posterior((path.parent / file).resolve(), where)
    # Each parameter's extreme values against its own bounds, now (one scenario suffices: the
    # bounds are the parameter's own; each draw's whole vector meets every scenario when planned).
    scenario = load_scenario(scenario_files[0])
    for i, key in enumerate(sample.keys):
        column = [p.values[i][1] for p in sample.particles]
        for value in (min(column), max(column)):
            try:
                scenario.with_overrides({key: cast_param(key, value)})
            except ScenarioError as exc:
                raise PosteriorError(
                    sample.path, key, f"value {value!r} is not allowed: {exc.problem}", exc.allowed
                ) from None
    return sample, draws


def _factor(key: str, spec: Any, method: str, where: str, bases: list[Scenario]) -> Factor:
    at = f"design.factors.{key}"
    head, _, name = key.partition(".")
    cls = {"policy": Policy, "params": Params}.get(head)
    if cls is None or name not in cls.model_fields:
        raise _fail(
            where,
            at,
            "is not a lever or parameter",
            "policy.<lever> or params.<name> (see docs/parameters.md)",
        )
    if not isinstance(spec, dict) or not spec:
        raise _fail(where, at, "must be a table", "{ values = [...] } or { min = ..., max = ... }")
    for k in spec:
        if k not in FACTOR_KEYS:
            raise _fail(where, f"{at}.{k}", "is not a factor setting", ", ".join(FACTOR_KEYS))
    scale = spec.get("scale", False)
    if not isinstance(scale, bool):
        raise _fail(where, f"{at}.scale", f"{scale!r} is not true or false", "true or false")
    factor_kind = Factor(key).kind
    if scale and factor_kind not in ("float", "int"):
        raise _fail(
            where, f"{at}.scale", f"cannot scale a {factor_kind} lever", "scale only numeric levers"
        )
    if method == "grid":
        values = spec.get("values")
        if "min" in spec or "max" in spec or not isinstance(values, list) or not values:
            raise _fail(
                where, at, "a grid factor needs a non-empty list of values", "{ values = [...] }"
            )
        if len(set(map(repr, values))) != len(values):
            raise _fail(where, f"{at}.values", "has repeated values", "distinct values")
        factor = Factor(key, values=tuple(values), scale=scale)
    else:
        if "values" in spec:
            raise _fail(
                where, at, f"{method} samples a range, not a list", "{ min = ..., max = ... }"
            )
        if factor_kind not in ("float", "int"):
            raise _fail(
                where,
                at,
                f"{method} cannot sample a {factor_kind} lever",
                "numeric levers and parameters",
            )
        lo, hi = spec.get("min"), spec.get("max")
        ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lo, hi))
        if not ok or not lo < hi:
            raise _fail(where, at, f"range {lo!r} to {hi!r} is not valid", "numbers with min < max")
        factor = Factor(key, low=float(lo), high=float(hi), scale=scale)
    # Check the extreme values against the field's own bounds now, not half-way through a sweep.
    probes = factor.values if method == "grid" else (factor.low, factor.high)
    for value, base in ((v, b) for v in probes for b in bases):
        try:
            base.with_overrides(overrides_for(base, {factor: value}))
        except ScenarioError as exc:
            raise _fail(
                where, at, f"value {value!r} is not allowed: {exc.problem}", exc.allowed
            ) from None
    return factor


def cast_value(factor: Factor, value: Any) -> Any:
    """A design value as the factor's field takes it (whole numbers for unscaled int fields)."""
    if factor.kind == "int" and not factor.scale:
        return round(float(value))
    if factor.kind == "float":
        return float(value)
    return value


def overrides_for(base: Scenario, values: dict[Factor, Any]) -> dict[str, Any]:
    """Scenario overrides that set each factor (scaling the base value or timeline if asked)."""
    out: dict[str, Any] = {}
    for factor, value in values.items():
        if not factor.scale:
            out[factor.key] = cast_value(factor, value)
            continue
        section, _, name = factor.key.partition(".")
        current = base.definition.get(section, {}).get(name)
        if current is None:
            current = getattr(base.schedule.at(0) if section == "policy" else base.params, name)
        as_int = factor.kind == "int"
        if isinstance(current, dict):
            out[factor.key] = {m: _scaled(v, value, as_int) for m, v in current.items()}
        else:
            out[factor.key] = _scaled(current, value, as_int)
    return out


def _scaled(v: Any, factor: Any, as_int: bool) -> Any:
    x = float(v) * float(factor)
    return round(x) if as_int else x
