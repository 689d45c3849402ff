"""User-facing errors: one readable message naming the file, the key and what is allowed.

Messages show values as a user wrote them (``5``, ``2013-01-01``, ``"text"``), never Python's
reprs (``np.int64(5)``, ``datetime.date(2013, 1, 1)``); NaN is called "not a number"; an unknown
name gets the nearest known names ("did you mean ...") instead of the whole list.
"""

from __future__ import annotations

import datetime
import difflib
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, get_args, get_origin

if TYPE_CHECKING:  # errors are raised before any heavy import, so pydantic only for types
    from pydantic import BaseModel, ValidationError

PARAMETER_DOCS = "docs/parameters.md"
MAX_SUGGESTIONS = 5
MAX_VALUE_CHARS = 60


class UserError(Exception):
    """A mistake in user input. The CLI prints it without a traceback and exits with status 2."""


class ScenarioError(UserError):
    """A bad scenario file, override or district file."""

    def __init__(self, where: str, key: str, problem: str, allowed: str) -> None:
        self.where, self.key, self.problem, self.allowed = where, key, problem, allowed
        super().__init__(f"{where}: {key}: {problem} (allowed: {allowed})")


def plain(value: Any) -> str:
    """A value as a user would write it in a scenario file (TOML-like), kept short."""
    value = as_python(value)
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        if math.isnan(value):
            text = "not a number (NaN)"
        elif math.isinf(value):
            text = "infinity" if value > 0 else "minus infinity"
        else:
            text = repr(value)
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = '"' + "".join(c if c.isprintable() else _escape(c) for c in value) + '"'
    elif isinstance(value, (datetime.date, datetime.time)):
        text = value.isoformat()
    elif isinstance(value, Mapping):
        text = "{ " + ", ".join(f"{k} = {plain(v)}" for k, v in value.items()) + " }"
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(plain(v) for v in value) + "]"
    else:
        text = str(value)
    if len(text) > MAX_VALUE_CHARS:
        text = text[: MAX_VALUE_CHARS - 3] + "..."
    return text


def _escape(char: str) -> str:
    return char.encode("unicode_escape").decode()


def as_python(value: Any) -> Any:
    """A numpy scalar as the Python number it holds; anything else unchanged (no numpy import)."""
    if (
        type(value).__module__ == "numpy"
        and hasattr(value, "item")
        and getattr(value, "ndim", 1) == 0
    ):
        return value.item()
    return value


def did_you_mean(name: str, known: Iterable[str], prefix: str = "") -> str:
    """'did you mean X? (also near: Y, Z)' with at most five of the nearest names, or ''."""
    known = list(known)
    bare = name.split(".")[-1]
    close = difflib.get_close_matches(bare, known, n=MAX_SUGGESTIONS, cutoff=0.6)
    if not close:
        close = [k for k in known if bare and (bare in k or k in bare)][:MAX_SUGGESTIONS]
    if not close:
        return ""
    first, rest = close[0], close[1:]
    text = f"did you mean {prefix}{first}?"
    if rest:
        text += " (also near: " + ", ".join(prefix + r for r in rest) + ")"
    return text


def unknown_name(kind: str, name: str, known: Iterable[str], prefix: str) -> tuple[str, str]:
    """Problem and allowed text for an unknown lever or parameter name."""
    hint = did_you_mean(name, known, prefix)
    allowed = f"a {kind} listed in {PARAMETER_DOCS}"
    return f"is not a {kind}" + (f"; {hint}" if hint else ""), allowed


def allowed_values(cls: type[BaseModel], name: str) -> str:
    """Describe what a field accepts: its type, bounds and unit."""
    info = cls.model_fields[name]
    ann = info.annotation
    if get_origin(ann) is not None and "Literal" in str(get_origin(ann)):
        return "one of " + ", ".join(plain(a) for a in get_args(ann))
    kind = {
        bool: "true or false (or 1 / 0)",
        int: "a whole number",
        float: "a number",
        str: "text",
    }.get(ann, str(ann))
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


# pydantic error types -> what the value should have been, in plain words
_REASONS = {
    "int_type": "it should be a whole number",
    "int_from_float": "it should be a whole number",
    "float_type": "it should be a number",
    "bool_type": "it should be true or false",
    "string_type": "it should be text",
    "finite_number": "it should be a finite number",
    "literal_error": "it is not one of the choices",
}


def describe_validation_error(
    exc: ValidationError, cls: type[BaseModel], name: str | None = None
) -> tuple[str, str]:
    """Problem and allowed values for the first error of a pydantic validation error."""
    err = exc.errors()[0]
    field = name or (str(err["loc"][0]) if err["loc"] else "")
    value: Any = as_python(err.get("input"))
    kind = err["type"]
    if isinstance(value, float) and not math.isfinite(value):
        reason = "it should be a finite number"
    elif kind in ("greater_than_equal", "greater_than"):
        reason = f"it should be at least {_num(err['ctx'][next(iter(err['ctx']))])}"
    elif kind in ("less_than_equal", "less_than"):
        reason = f"it should be at most {_num(err['ctx'][next(iter(err['ctx']))])}"
    else:
        reason = _REASONS.get(kind) or (err["msg"][0].lower() + err["msg"][1:])
    problem = f"{plain(value)} is not valid: {reason}"
    if field in cls.model_fields:
        return problem, allowed_values(cls, field)
    return problem, f"see {PARAMETER_DOCS}"
