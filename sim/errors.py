"""User-facing errors: one readable message naming the file, the key and what is allowed."""

from __future__ import annotations

from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError


class UserError(Exception):
    """A mistake in user input. The CLI prints it without a traceback and exits with status 2."""


class ScenarioError(UserError):
    """A bad scenario file, override or district file."""

    def __init__(self, where: str, key: str, problem: str, allowed: str) -> None:
        self.where, self.key, self.problem, self.allowed = where, key, problem, allowed
        super().__init__(f"{where}: {key}: {problem} (allowed: {allowed})")


def allowed_values(cls: type[BaseModel], name: str) -> str:
    """Describe what a field accepts: its type, bounds and unit."""
    info = cls.model_fields[name]
    ann = info.annotation
    if get_origin(ann) is not None and "Literal" in str(get_origin(ann)):
        return "one of " + ", ".join(repr(a) for a in get_args(ann))
    kind = {bool: "true or false", int: "an integer", float: "a number", str: "text"}.get(
        ann, str(ann)
    )
    lo = hi = None
    for meta in info.metadata:
        lo = getattr(meta, "ge", lo)
        hi = getattr(meta, "le", hi)
    bounds = ""
    if lo is not None and hi is not None:
        bounds = f" from {_num(lo)} to {_num(hi)}"
    elif lo is not None:
        bounds = f" of at least {_num(lo)}"
    elif hi is not None:
        bounds = f" of at most {_num(hi)}"
    unit = (info.json_schema_extra or {}).get("unit", "")
    return f"{kind}{bounds}" + (f" ({unit})" if unit and ann is not bool else "")


def _num(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def describe_validation_error(
    exc: ValidationError, cls: type[BaseModel], name: str | None = None
) -> tuple[str, str]:
    """Problem and allowed values for the first error of a pydantic validation error."""
    err = exc.errors()[0]
    field = name or (str(err["loc"][0]) if err["loc"] else "")
    value: Any = err.get("input")
    problem = f"{value!r} is not valid: {err['msg'][0].lower()}{err['msg'][1:]}"
    if field in cls.model_fields:
        return problem, allowed_values(cls, field)
    return problem, "see docs/parameters.md"
