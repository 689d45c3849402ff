"""Calendar months and the policy timeline.

A lever in a scenario is either one value for the whole run or a table of dated values::

    [policy]
    entry_control = { "2013-01" = false, "2013-10" = true }
    purchase_budget = { "2013-01" = 0, "2014-01" = 30_850_000 }

The value in force in a month is the one with the latest date on or before it. A dated table must
give a value at or before the run's first month, so no lever silently falls back to a default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from sim.errors import ScenarioError, describe_validation_error, plain, unknown_name
from sim.params import Policy

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> int:
    """Turn 'YYYY-MM' into a month index (year * 12 + month - 1). Raises ValueError."""
    m = _MONTH.match(str(text))
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"{plain(text)} is not a month; write it as YYYY-MM, e.g. 2013-10")
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def format_month(index: int) -> str:
    """Turn a month index back into 'YYYY-MM'."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class PolicySchedule:
    """Policies in force month by month over a run."""

    start: int  # month index of the first step
    months: int
    policies: tuple[Policy, ...]  # one per month of the run
    changes: tuple[tuple[int, str, Any], ...]  # (month index, lever, value), sorted

    @classmethod
    def build(
        cls, raw: Mapping[str, Any], start: int, months: int, where: str = "scenario"
    ) -> PolicySchedule:
        """Validate a ``[policy]`` table and expand it month by month."""
        fields = Policy.model_fields
        timelines: dict[str, list[tuple[int, Any]]] = {}
        for lever, spec in raw.items():
            if lever not in fields:
                problem, allowed = unknown_name("policy lever", lever, fields, "policy.")
                raise ScenarioError(where, f"policy.{lever}", problem, allowed)
            if isinstance(spec, Mapping):
                if not spec:
                    raise ScenarioError(
                        where, f"policy.{lever}", "is an empty timeline", "a value per YYYY-MM"
                    )
                entries = []
                for month_text, value in spec.items():
                    try:
                        month = parse_month(month_text)
                    except ValueError as exc:
                        raise ScenarioError(
                            where, f"policy.{lever}.{month_text}", str(exc), "YYYY-MM keys"
                        ) from None
                    entries.append((month, _validate_lever(lever, value, where, month_text)))
                entries.sort()
                if entries[0][0] > start:
                    raise ScenarioError(
                        where,
                        f"policy.{lever}",
                        f"has no value for the first month {format_month(start)}",
                        f"a first date on or before {format_month(start)}",
                    )
                timelines[lever] = entries
            else:
                timelines[lever] = [(start, _validate_lever(lever, spec, where, None))]

        base = Policy()
        policies = []
        changes = []
        current = base
        for t in range(start, start + months):
            update = {}
            for lever, entries in timelines.items():
                value = _value_at(entries, t)
                if getattr(current, lever) != value or t == start:
                    update[lever] = value
            if update:
                new = current.model_copy(update=update)
                for lever, value in update.items():
                    if t == start or getattr(current, lever) != value:
                        changes.append((t, lever, value))
                current = new
            policies.append(current)
        return cls(start, months, tuple(policies), tuple(changes))

    def at(self, step: int) -> Policy:
        """Policy in force at step ``step`` (0 = first month; the first policy holds before it,
        in burn-in months, and the last one after the end)."""
        return self.policies[min(max(step, 0), len(self.policies) - 1)]

    def changed(self, step: int, lever: str) -> bool:
        """Whether ``lever`` takes a new value at this step (always true at step 0)."""
        return self.changed_any(step, (lever,))

    def changed_any(self, step: int, levers: Sequence[str]) -> bool:
        """Whether any of ``levers`` takes a new value at this step (at step 0 every lever does).

        A month in which no lever moves keeps the month before's policy object (:meth:`build`),
        and levers are never NaN (``allow_inf_nan=False``), so the same object means no change
        (issue 12: most months).
        """
        if not levers:
            return False
        if step == 0:
            return True
        if step < 0 or step >= len(self.policies):
            return False
        now, before = self.policies[step], self.policies[step - 1]
        if now is before:
            return False
        return any(getattr(now, lever) != getattr(before, lever) for lever in levers)


def _value_at(entries: list[tuple[int, Any]], t: int) -> Any:
    value = entries[0][1]
    for month, v in entries:
        if month <= t:
            value = v
        else:
            break
    return value


def _validate_lever(lever: str, value: Any, where: str, month_text: str | None) -> Any:
    try:
        return getattr(Policy.model_validate({lever: value}), lever)
    except ValidationError as exc:
        key = f"policy.{lever}" + (f".{month_text}" if month_text else "")
        problem, allowed = describe_validation_error(exc, Policy, lever)
        raise ScenarioError(where, key, problem, allowed) from None
