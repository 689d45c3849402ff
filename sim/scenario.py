"""Scenarios: TOML files of overrides on the parameter object, validated with clear errors.

A scenario file looks like::

    name = "wuhou_reform"
    description = "What it changes and why."
    extends = "baseline_2013.toml"      # optional: inherit, override only what differs
    borrow = { from = "wuhou_reform.toml", levers = ["purchase_budget"] }  # optional: take these
                                         # levers' timelines from another file (before [policy])

    [run]
    start = "2013-01"                    # first simulated month
    months = 48

    [district]
    source = "wuhou"                     # or a CSV path, relative to this file
    scale = "residents"                  # a CSV district: scale Wuhou-sized budgets and counts
                                         # to it (the default), or "none" to take them as given

    [policy]                             # levers: one value, or a dated timeline
    entry_control = { "2013-01" = false, "2013-10" = true }

    [params]                             # model parameters (constant over the run)
    hours_per_item = 9.5

Anything not given takes the documented default of :mod:`sim.params`.

Paths: a path in a scenario file (``extends``, ``borrow.from``, ``district.source``) is relative to
that file; a path given on the command line (``--set district.source=...``) is relative to the
current directory, like any other command-line path.

Everything ``sanshe run`` checks before its first month is checked here, including the district CSV
and levers that count streets or communities against the loaded district; this module imports no
model or table libraries, so ``sanshe validate`` and a rejected run are fast.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.district import WUHOU_SIZE, CsvDistrict, District, read_district_csv, synthetic_wuhou
from sim.errors import (
    ScenarioError,
    as_python,
    describe_validation_error,
    did_you_mean,
    plain,
    unknown_name,
)
from sim.params import Params, Policy
from sim.scaling import (
    SCALE_MODES,
    Scaling,
    budget_warnings,
    scale_params,
    scale_policy,
    size_factors,
)
from sim.schedule import PolicySchedule, format_month, parse_month

TOP_KEYS = ("name", "description", "extends", "borrow", "run", "district", "policy", "params")
RUN_KEYS = {"start": "a month YYYY-MM", "months": "a whole number from 1 to 600"}
DISTRICT_KEYS = {
    "source": "'wuhou' or a path to a CSV file",
    "scale": "'residents' (scale Wuhou-sized budgets and counts to the district) or 'none'",
}
DEFAULT_RUN = {"start": "2013-01", "months": 48}  # MODEL_BRIEF: 2013-01 to 2016-12
MAX_EXTENDS_DEPTH = 64
MINIMAL_SCENARIO = (
    'a minimal scenario names itself and says what it changes, e.g. name = "mine", '
    'extends = "wuhou_reform.toml" and a [policy] or [district] table'
)
PATH_RULE = (
    "paths in a scenario file are relative to that file; paths in --set to the current directory"
)
# Levers that count streets or communities, checked against the loaded district.
STRUCTURAL = {"service_centre_streets": "streets", "service_centres": "communities"}


@dataclass(frozen=True)
class Scenario:
    """A validated, fully resolved scenario."""

    name: str
    description: str
    start: int
    months: int
    district_source: str
    schedule: PolicySchedule
    params: Params
    definition: dict[str, Any] = field(repr=False)  # resolved, after extends and overrides
    path: str | None = None
    scaling: Scaling | None = field(default=None, repr=False, compare=False)
    csv_district: CsvDistrict | None = field(default=None, repr=False, compare=False)

    @cached_property
    def district(self) -> District:
        """The district's structure (built once per scenario object)."""
        if self.district_source == "wuhou":
            return synthetic_wuhou()
        csv = self.csv_district or read_district_csv(self.district_source)
        return csv.to_district()

    @property
    def hash(self) -> str:
        """Stable hash of the resolved definition (for manifests and result stores).

        A CSV district enters by its content, not its path, so the hash is the same on any machine.
        """
        definition = dict(self.definition)
        if self.district_source != "wuhou":
            digest = hashlib.sha256(Path(self.district_source).read_bytes()).hexdigest()
            definition["district"] = {"source": f"csv:{digest}"}
        text = json.dumps(definition, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def start_month(self) -> str:
        return format_month(self.start)

    def with_overrides(self, overrides: Mapping[str, Any] | Iterable[str]) -> Scenario:
        """A new scenario with dotted-key overrides, e.g. ``{"policy.purchase_budget": 0}``.

        Strings of the form ``key=value`` (as from ``--set``) are parsed as TOML values.
        Overriding a lever replaces its whole timeline; ``policy.LEVER.YYYY-MM`` sets one date.
        """
        where = f"{self.path or self.name} (override)"
        definition = copy.deepcopy(self.definition)
        pairs = (
            overrides.items()
            if isinstance(overrides, Mapping)
            else (parse_assignment(o) for o in overrides)
        )
        for key, value in pairs:
            set_dotted(definition, key, value, where)
        # Paths in the definition are already absolute; a path given here (--set district.source)
        # is relative to the current directory, like any command-line path.
        return from_definition(definition, where, Path.cwd(), self.path, self._district_cache())

    def _district_cache(self) -> dict[str, CsvDistrict]:
        if self.csv_district is None:
            return {}
        return {self.district_source: self.csv_district}


def parse_assignment(text: str) -> tuple[str, Any]:
    """Split ``key=value``; the value is read as TOML, else taken as a bare string."""
    if "=" not in text:
        raise ScenarioError(
            "--set", text, "is not an assignment", "KEY=VALUE, e.g. policy.purchase_budget=0"
        )
    key, _, text_value = text.partition("=")
    key = key.strip()
    text_value = text_value.strip()
    if not key or not text_value:
        raise ScenarioError(
            "--set",
            text,
            "needs both a key and a value",
            "KEY=VALUE, e.g. policy.entry_control=true",
        )
    try:
        value = tomllib.loads(f"v = {text_value}")["v"]
    except tomllib.TOMLDecodeError:
        value = text_value  # a bare word such as commission
    return key, value


def set_dotted(definition: dict[str, Any], key: str, value: Any, where: str) -> None:
    """Set ``section.name`` (or ``policy.lever.YYYY-MM``) in a raw definition, checking keys."""
    value = _plain_values(value)
    parts = key.split(".")
    head = parts[0]
    if head in ("name", "description") and len(parts) == 1:
        definition[head] = value
        return
    if head == "run" and len(parts) == 2 and parts[1] in RUN_KEYS:
        definition.setdefault("run", {})[parts[1]] = value
        return
    if head == "district" and len(parts) == 2 and parts[1] in DISTRICT_KEYS:
        definition.setdefault("district", {})[parts[1]] = value
        return
    if head == "params" and len(parts) == 2:
        if parts[1] not in Params.model_fields:
            raise ScenarioError(
                where, key, *unknown_name("model parameter", key, Params.model_fields, "params.")
            )
        definition.setdefault("params", {})[parts[1]] = value
        return
    if head == "policy" and len(parts) in (2, 3):
        lever = parts[1]
        if lever not in Policy.model_fields:
            raise ScenarioError(
                where, key, *unknown_name("policy lever", lever, Policy.model_fields, "policy.")
            )
        policy = definition.setdefault("policy", {})
        if len(parts) == 2:
            policy[lever] = value
        else:
            current = policy.get(lever, getattr(Policy(), lever))
            if not isinstance(current, dict):
                current = {format_month(parse_month(definition_start(definition))): current}
            current[parts[2]] = value
            policy[lever] = current
        return
    known = ["name", "description", *(f"run.{k}" for k in RUN_KEYS)]
    known += [f"district.{k}" for k in DISTRICT_KEYS]
    known += [f"policy.{k}" for k in Policy.model_fields] + [
        f"params.{k}" for k in Params.model_fields
    ]
    hint = did_you_mean(key, known)
    raise ScenarioError(
        where,
        key,
        "is not a scenario key" + (f"; {hint}" if hint else ""),
        "name, description, run.start, run.months, district.source, district.scale, "
        "policy.<lever>, policy.<lever>.<YYYY-MM>, params.<name> (levers and parameters in "
        "docs/parameters.md)",
    )


def _plain_values(value: Any) -> Any:
    """numpy scalars in overrides (from batch_run or EMA Workbench) as Python values."""
    if isinstance(value, Mapping):
        return {str(k): _plain_values(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_values(v) for v in value]
    return as_python(value)


def definition_start(definition: Mapping[str, Any]) -> str:
    return str(definition.get("run", {}).get("start", DEFAULT_RUN["start"]))


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, turning a missing or malformed file into a ScenarioError."""
    if not path.is_file():
        raise ScenarioError(str(path), "file", "not found", "an existing .toml file")
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), "syntax", f"malformed TOML: {exc}", "valid TOML") from None
    except UnicodeDecodeError:
        raise ScenarioError(str(path), "syntax", "not UTF-8 text", "a UTF-8 TOML file") from None
    except OSError as exc:
        raise ScenarioError(
            str(path), "file", f"cannot be read ({exc.strerror})", "a readable file"
        ) from None
    if not raw:
        raise ScenarioError(str(path), "file", "is empty (no settings)", MINIMAL_SCENARIO)
    return raw


def resolve_extends(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a scenario file and merge it onto the file it extends (recursively)."""
    path = path.resolve()
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise ScenarioError(str(chain[-1]), "extends", f"forms a cycle ({cycle})", "no cycles")
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(
            str(chain[0]),
            "extends",
            f"the chain of extends and borrow is deeper than {MAX_EXTENDS_DEPTH} files "
            f"(reached {path.name})",
            f"at most {MAX_EXTENDS_DEPTH} levels",
        )
    raw = read_toml(path)
    for key in ("run", "district", "policy", "params"):
        if key in raw and not isinstance(raw[key], Mapping):
            raise ScenarioError(str(path), key, "must be a table", f"a [{key}] table")
    borrowed = _borrow(raw.pop("borrow", None), path, chain)
    if borrowed:
        raw["policy"] = {**borrowed, **raw.get("policy", {})}
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ScenarioError(str(path), "extends", f"{plain(parent)} is not a path", "a file name")
    target = (path.parent / parent).resolve()
    if not target.is_file():
        raise ScenarioError(
            str(path),
            "extends",
            f"{plain(parent)} not found (looked for {target})",
            f"an existing file ({PATH_RULE})",
        )
    base = resolve_extends(target, (*chain, path))
    base.pop("name", None)  # a child is its own scenario; it inherits settings, not identity
    return merge(base, raw)


def _borrow(spec: Any, path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    """Lever timelines taken from another scenario file: ``{ from = FILE, levers = [...] }``."""
    if spec is None:
        return {}
    allowed = '{ from = "other.toml", levers = ["lever", ...] }'
    if not isinstance(spec, Mapping) or set(spec) != {"from", "levers"}:
        raise ScenarioError(str(path), "borrow", f"{plain(spec)} is not valid", allowed)
    levers = spec["levers"]
    if not isinstance(levers, list) or not levers or not all(isinstance(x, str) for x in levers):
        raise ScenarioError(
            str(path), "borrow.levers", f"{plain(levers)} is not valid", "a list of lever names"
        )
    for lever in levers:
        if lever not in Policy.model_fields:
            problem, allowed = unknown_name("policy lever", lever, Policy.model_fields, "")
            raise ScenarioError(str(path), "borrow.levers", f"{plain(lever)} {problem}", allowed)
    source = spec["from"]
    target = (path.parent / str(source)).resolve()
    if not target.is_file():
        raise ScenarioError(
            str(path),
            "borrow.from",
            f"{plain(source)} not found (looked for {target})",
            f"an existing file ({PATH_RULE})",
        )
    other = resolve_extends(target, (*chain, path)).get("policy", {})
    return {lever: copy.deepcopy(other.get(lever, getattr(Policy(), lever))) for lever in levers}


def merge(base: dict[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """Child over base. Tables merge key by key; a lever's timeline is replaced whole."""
    out = copy.deepcopy(base)
    for key, value in child.items():
        if key in ("run", "district", "params", "policy") and isinstance(value, Mapping):
            section = out.setdefault(key, {})
            if not isinstance(section, dict):
                section = out[key] = {}
            section.update(copy.deepcopy(dict(value)))
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_scenario(path: str | Path, overrides: Iterable[str] | Mapping[str, Any] = ()) -> Scenario:
    """Load, resolve and validate a scenario file, with optional ``--set`` style overrides."""
    path = Path(path)
    definition = resolve_extends(path)
    definition.setdefault("name", path.stem)
    if overrides:
        # Validate the file as written first, so its own mistakes are reported against it.
        from_definition(definition, str(path), path.parent, str(path))
        base = from_definition(definition, str(path), path.parent, str(path), check=False)
        return base.with_overrides(overrides)
    return from_definition(definition, str(path), path.parent, str(path))


# The shipped scenario library's own reform and its no-reform counterfactual (file names in
# scenarios/): what the dashboard opens first and offers to compare against.
LIBRARY_FOCUS = "wuhou_reform.toml"
LIBRARY_REFERENCE = "baseline_2013.toml"


def default_scenario() -> Scenario:
    """The pre-reform district with every default (no scenario file)."""
    return from_definition({"name": "defaults"}, "defaults", Path.cwd(), None)


def from_definition(
    definition: dict[str, Any],
    where: str,
    base_dir: Path,
    path: str | None,
    districts: Mapping[str, CsvDistrict] | None = None,
    check: bool = True,
) -> Scenario:
    """Validate a raw definition (already merged) into a :class:`Scenario`.

    Reads the district (``districts`` may hold a CSV already read, by path), scales district-wide
    levers and parameters to it (:mod:`sim.scaling`) and checks levers that count streets or
    communities against it. ``check=False`` skips the structural checks (for a base that overrides
    will change before it is used).
    """
    definition = copy.deepcopy(definition)
    definition.pop("extends", None)
    unknown = [k for k in definition if k not in TOP_KEYS]
    if unknown:
        hint = did_you_mean(unknown[0], TOP_KEYS)
        problem = "is not a scenario key" + (f"; {hint}" if hint else "")
        raise ScenarioError(where, unknown[0], problem, ", ".join(TOP_KEYS))
    for key in ("name", "description"):
        if key in definition and not isinstance(definition[key], str):
            raise ScenarioError(where, key, f"{plain(definition[key])} is not text", "text")
    name = definition.get("name", "unnamed")
    if not name.strip() or any(c in name for c in "/\\\0") or name in (".", ".."):
        raise ScenarioError(
            where, "name", f"{plain(name)} is not a usable name", "text without / or \\"
        )
    for key in ("run", "district", "policy", "params"):
        if key in definition and not isinstance(definition[key], Mapping):
            raise ScenarioError(where, key, "must be a table", f"a [{key}] table")

    run = {**DEFAULT_RUN, **definition.get("run", {})}
    for key in run:
        if key not in RUN_KEYS:
            hint = did_you_mean(key, RUN_KEYS, "run.")
            problem = "is not a run setting" + (f"; {hint}" if hint else "")
            raise ScenarioError(where, f"run.{key}", problem, ", ".join(RUN_KEYS))
    try:
        start = parse_month(run["start"])
    except ValueError as exc:
        raise ScenarioError(where, "run.start", str(exc), RUN_KEYS["start"]) from None
    months = run["months"]
    if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 600:
        raise ScenarioError(
            where, "run.months", f"{plain(months)} is not valid", RUN_KEYS["months"]
        )
    definition["run"] = {"start": format_month(start), "months": months}

    district_table = definition.get("district", {})
    for key in district_table:
        if key not in DISTRICT_KEYS:
            hint = did_you_mean(key, DISTRICT_KEYS, "district.")
            problem = "is not a district setting" + (f"; {hint}" if hint else "")
            raise ScenarioError(where, f"district.{key}", problem, "source, scale")
    source = district_table.get("source", "wuhou")
    if not isinstance(source, str) or not source.strip():
        raise ScenarioError(
            where, "district.source", f"{plain(source)} is not valid", "'wuhou' or a CSV path"
        )
    if source != "wuhou":
        csv = (base_dir / source).resolve()
        if not csv.is_file():
            raise ScenarioError(
                where,
                "district.source",
                f"{plain(source)} not found (looked for {csv})",
                f"'wuhou' or a CSV path ({PATH_RULE})",
            )
        source = str(csv)
    definition["district"] = {**district_table, "source": source}
    mode = district_table.get("scale", "none" if source == "wuhou" else "residents")
    if mode not in SCALE_MODES:
        raise ScenarioError(
            where, "district.scale", f"{plain(mode)} is not valid", DISTRICT_KEYS["scale"]
        )
    csv_district = None
    if source == "wuhou":
        size = dict(WUHOU_SIZE)
    else:
        csv_district = (districts or {}).get(source) or read_district_csv(source)
        size = csv_district.size()
    factors = size_factors(size)
    scaling_on = (
        source != "wuhou" and mode == "residents" and any(f != 1.0 for f in factors.values())
    )

    raw_params = definition.get("params", {})
    params = _validate_params(raw_params, where)
    schedule = PolicySchedule.build(definition.get("policy", {}), start, months, where)
    changes: list[tuple[str, Any, Any]] = []
    if scaling_on:
        update, changes = scale_params(params, factors)
        params = _validate_params({**raw_params, **update}, f"{where} (scaled to {size['name']})")
        scaled_policy, policy_changes = scale_policy(definition.get("policy", {}), factors)
        changes += policy_changes
        schedule = PolicySchedule.build(
            scaled_policy, start, months, f"{where} (scaled to {size['name']})"
        )

    too_big = [
        p.catalogue_size for p in schedule.policies if p.catalogue_size > params.n_assist_item_types
    ]
    if too_big:
        raise ScenarioError(
            where,
            "policy.catalogue_size",
            f"{too_big[0]} exceeds params.n_assist_item_types = {params.n_assist_item_types}",
            f"0 to {params.n_assist_item_types}",
        )
    if check:
        _check_structure(schedule, size, where, scaling_on)
    scaling = Scaling(
        mode=mode if source != "wuhou" else "reference",
        district=size,
        factors=factors,
        changes=tuple(changes),
        warnings=tuple(budget_warnings(schedule, size["residents"], scaling_on)),
    )
    if params.listed_types_after_cut >= params.n_item_types:
        raise ScenarioError(
            where,
            "params.listed_types_after_cut",
            f"{params.listed_types_after_cut} is not below params.n_item_types = "
            f"{params.n_item_types}",
            f"1 to {params.n_item_types - 1}",
        )
    if params.purchasable_types_after_cut > params.listed_types_after_cut:
        raise ScenarioError(
            where,
            "params.purchasable_types_after_cut",
            f"{params.purchasable_types_after_cut} exceeds params.listed_types_after_cut = "
            f"{params.listed_types_after_cut}",
            f"0 to {params.listed_types_after_cut}",
        )
    return Scenario(
        name=name,
        description=definition.get("description", ""),
        start=start,
        months=months,
        district_source=source,
        schedule=schedule,
        params=params,
        definition=definition,
        path=path,
        scaling=scaling,
        csv_district=csv_district,
    )


def _validate_params(raw_params: Mapping[str, Any], where: str) -> Params:
    try:
        return Params.model_validate(raw_params)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]) if err["loc"] else "?"
        if err["type"] == "extra_forbidden":
            problem, allowed = unknown_name("model parameter", name, Params.model_fields, "params.")
            raise ScenarioError(where, f"params.{name}", problem, allowed) from None
        problem, allowed = describe_validation_error(exc, Params, name)
        raise ScenarioError(where, f"params.{name}", problem, allowed) from None


def _check_structure(
    schedule: PolicySchedule, size: Mapping[str, Any], where: str, scaled: bool
) -> None:
    """Levers that count streets or communities may not exceed the district's (never clipped)."""
    for lever, unit in STRUCTURAL.items():
        limit = size[unit]
        for month, name, value in schedule.changes:
            if name == lever and value > limit:
                after = " after scaling to the district" if scaled else ""
                raise ScenarioError(
                    where,
                    f"policy.{lever}",
                    f"{value} (from {format_month(month)}{after}) is more than the {limit} {unit} "
                    f"of district {size['name']}",
                    f"at most {limit}",
                )
