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

    [policy]                             # levers: one value, or a dated timeline
    entry_control = { "2013-01" = false, "2013-10" = true }

    [params]                             # model parameters (constant over the run)
    hours_per_item = 9.5

Anything not given takes the documented default of :mod:`sim.params`.
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

from sim.district import District, load_district_csv, synthetic_wuhou
from sim.errors import ScenarioError, describe_validation_error
from sim.params import Params, Policy
from sim.schedule import PolicySchedule, format_month, parse_month

TOP_KEYS = ("name", "description", "extends", "borrow", "run", "district", "policy", "params")
RUN_KEYS = {"start": "a month YYYY-MM", "months": "an integer from 1 to 600"}
DISTRICT_KEYS = {"source": "'wuhou' or a path to a CSV file"}
DEFAULT_RUN = {"start": "2013-01", "months": 48}  # MODEL_BRIEF: 2013-01 to 2016-12


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

    @cached_property
    def district(self) -> District:
        """The district's structure (loaded once per scenario object)."""
        if self.district_source == "wuhou":
            return synthetic_wuhou()
        return load_district_csv(self.district_source)

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
        # Paths in the definition are already absolute, so the base directory no longer matters.
        return from_definition(definition, where, Path.cwd(), self.path)


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
            raise ScenarioError(where, key, "is not a model parameter", _choices(Params, "params"))
        definition.setdefault("params", {})[parts[1]] = value
        return
    if head == "policy" and len(parts) in (2, 3):
        lever = parts[1]
        if lever not in Policy.model_fields:
            raise ScenarioError(where, key, "is not a policy lever", _choices(Policy, "policy"))
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
    raise ScenarioError(
        where,
        key,
        "is not a scenario key",
        "name, description, run.start, run.months, district.source, policy.<lever>, "
        "policy.<lever>.<YYYY-MM>, params.<name>",
    )


def definition_start(definition: Mapping[str, Any]) -> str:
    return str(definition.get("run", {}).get("start", DEFAULT_RUN["start"]))


def _choices(cls: type, prefix: str) -> str:
    return "one of " + ", ".join(f"{prefix}.{n}" for n in cls.model_fields)


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, turning a missing or malformed file into a ScenarioError."""
    if not path.is_file():
        raise ScenarioError(str(path), "file", "not found", "an existing .toml file")
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), "syntax", f"malformed TOML: {exc}", "valid TOML") from None
    except UnicodeDecodeError:
        raise ScenarioError(str(path), "syntax", "not UTF-8 text", "a UTF-8 TOML file") from None


def resolve_extends(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a scenario file and merge it onto the file it extends (recursively)."""
    path = path.resolve()
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise ScenarioError(str(chain[-1]), "extends", f"forms a cycle ({cycle})", "no cycles")
    raw = read_toml(path)
    borrowed = _borrow(raw.pop("borrow", None), path, chain)
    if borrowed:
        raw["policy"] = {**borrowed, **raw.get("policy", {})}
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ScenarioError(str(path), "extends", f"{parent!r} is not a path", "a file name")
    target = (path.parent / parent).resolve()
    if not target.is_file():
        raise ScenarioError(
            str(path), "extends", f"{parent!r} not found (looked for {target})", "an existing file"
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
        raise ScenarioError(str(path), "borrow", f"{spec!r} is not valid", allowed)
    levers = spec["levers"]
    if not isinstance(levers, list) or not levers or not all(isinstance(x, str) for x in levers):
        raise ScenarioError(
            str(path), "borrow.levers", f"{levers!r} is not valid", "a list of lever names"
        )
    for lever in levers:
        if lever not in Policy.model_fields:
            raise ScenarioError(
                str(path),
                "borrow.levers",
                f"{lever!r} is not a policy lever",
                _choices(Policy, "policy"),
            )
    source = spec["from"]
    target = (path.parent / str(source)).resolve()
    if not target.is_file():
        raise ScenarioError(
            str(path),
            "borrow.from",
            f"{source!r} not found (looked for {target})",
            "an existing file",
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
    scenario = from_definition(definition, str(path), path.parent, str(path))
    return scenario.with_overrides(overrides) if overrides else scenario


def default_scenario() -> Scenario:
    """The pre-reform district with every default (no scenario file)."""
    return from_definition({"name": "defaults"}, "defaults", Path.cwd(), None)


def from_definition(
    definition: dict[str, Any], where: str, base_dir: Path, path: str | None
) -> Scenario:
    """Validate a raw definition (already merged) into a :class:`Scenario`."""
    definition = copy.deepcopy(definition)
    definition.pop("extends", None)
    unknown = [k for k in definition if k not in TOP_KEYS]
    if unknown:
        raise ScenarioError(where, unknown[0], "is not a scenario key", ", ".join(TOP_KEYS))
    for key in ("name", "description"):
        if key in definition and not isinstance(definition[key], str):
            raise ScenarioError(where, key, f"{definition[key]!r} is not text", "text")
    for key in ("run", "district", "policy", "params"):
        if key in definition and not isinstance(definition[key], Mapping):
            raise ScenarioError(where, key, "must be a table", f"a [{key}] table")

    run = {**DEFAULT_RUN, **definition.get("run", {})}
    for key in run:
        if key not in RUN_KEYS:
            raise ScenarioError(where, f"run.{key}", "is not a run setting", ", ".join(RUN_KEYS))
    try:
        start = parse_month(run["start"])
    except ValueError as exc:
        raise ScenarioError(where, "run.start", str(exc), RUN_KEYS["start"]) from None
    months = run["months"]
    if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 600:
        raise ScenarioError(where, "run.months", f"{months!r} is not valid", RUN_KEYS["months"])
    definition["run"] = {"start": format_month(start), "months": months}

    district = definition.get("district", {})
    for key in district:
        if key not in DISTRICT_KEYS:
            raise ScenarioError(where, f"district.{key}", "is not a district setting", "source")
    source = district.get("source", "wuhou")
    if not isinstance(source, str):
        raise ScenarioError(
            where, "district.source", f"{source!r} is not text", "'wuhou' or a CSV path"
        )
    if source != "wuhou":
        csv = (base_dir / source).resolve()
        if not csv.is_file():
            raise ScenarioError(
                where,
                "district.source",
                f"{source!r} not found (looked for {csv})",
                "'wuhou' or a CSV path",
            )
        source = str(csv)
    definition["district"] = {"source": source}

    raw_params = definition.get("params", {})
    try:
        params = Params.model_validate(raw_params)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]) if err["loc"] else "?"
        if err["type"] == "extra_forbidden":
            raise ScenarioError(
                where, f"params.{name}", "is not a model parameter", _choices(Params, "params")
            ) from None
        problem, allowed = describe_validation_error(exc, Params, name)
        raise ScenarioError(where, f"params.{name}", problem, allowed) from None

    schedule = PolicySchedule.build(definition.get("policy", {}), start, months, where)
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
    return Scenario(
        name=definition.get("name", "unnamed"),
        description=definition.get("description", ""),
        start=start,
        months=months,
        district_source=source,
        schedule=schedule,
        params=params,
        definition=definition,
        path=path,
    )
