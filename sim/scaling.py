"""Scaling a scenario written for Wuhou to another district.

The shipped scenarios carry Wuhou's numbers: 30.85 M yuan of purchases (A5), 9 service centres
in 8 streets (A11), 8 brand agencies (A14), a pool of 40 social workers. Applied unchanged to a
district one fifth the size, they give it five times Wuhou's money per resident. So every
district-wide lever and parameter declares in :mod:`sim.params` how it follows the district's
size (``scale=``: with its residents, communities or streets), and a scenario on another district
scales them:

* ``[district] scale = "residents"`` (the default for a CSV district): values in the scenario and
  the defaults are read as Wuhou-sized and multiplied by the district's size relative to Wuhou
  (residents / 1.26 million, communities / 87 or streets / 13, as each field declares). Whole-number
  quantities are rounded to the nearest integer and never below 1 when Wuhou's value is above 0
  (a reform with one incubation centre keeps one).
* ``[district] scale = "none"``: values are taken as given (for a scenario written for this
  district, with its own budgets).

The built-in Wuhou district is the reference: its factors are exactly 1, and nothing is changed.
Whatever the mode, a budget per resident far from Wuhou's (more than 3 times or less than a third)
is reported as a warning in the run summary and the manifest, not as an error: a district may
well choose to spend more or less.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.district import WUHOU_COMMUNITIES, WUHOU_RESIDENTS, WUHOU_STREETS
from sim.params import Params, Policy, plain_number
from sim.schedule import PolicySchedule, format_month

SCALE_MODES = ("residents", "none")
REFERENCE_NAME = "Wuhou"
REFERENCE_SIZE = {
    "residents": WUHOU_RESIDENTS,  # A2
    "communities": WUHOU_COMMUNITIES,  # A2
    "streets": len(WUHOU_STREETS),  # B1
}
# Wuhou's budgets per resident: A5 (mean of 2014-2016: 30.85, 37.31 and 37.53 M yuan) and A6
# (about 4.15 M yuan a year of projects), over 1.26 million residents (A2).
REFERENCE_PER_RESIDENT = {
    "purchase_budget": (30.85e6 + 37.31e6 + 37.53e6) / 3 / WUHOU_RESIDENTS,
    "project_budget": 4.15e6 / WUHOU_RESIDENTS,
}
WARN_RATIO = 3.0  # warn above 3x or below 1/3 of the reference per resident


def scaled_fields(cls: type[Policy] | type[Params]) -> dict[str, str]:
    """Field name -> basis ("residents", "communities" or "streets") of every scaled field."""
    out = {}
    for name, info in cls.model_fields.items():
        basis = (info.json_schema_extra or {}).get("scale")  # type: ignore[union-attr]
        if basis:
            out[name] = str(basis)
    return out


def size_factors(size: Mapping[str, Any]) -> dict[str, float]:
    """A district's size (residents, communities, streets) relative to Wuhou, per basis."""
    return {basis: size[basis] / REFERENCE_SIZE[basis] for basis in REFERENCE_SIZE}


def scale_value(value: Any, factor: float) -> Any:
    """One value scaled: floats multiplied; whole numbers rounded, never below 1 if above 0."""
    value = plain_number(None, value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if isinstance(value, int):
        scaled = math.floor(value * factor + 0.5)
        return max(scaled, 1) if value > 0 else scaled
    return value * factor


@dataclass(frozen=True)
class Scaling:
    """How a scenario was fitted to its district: mode, factors, changed values, warnings."""

    mode: str  # "residents", "none" or "reference" (the built-in Wuhou district)
    district: dict[str, Any]  # name, residents, communities, streets
    factors: dict[str, float]
    changes: tuple[tuple[str, Any, Any], ...] = ()  # (key, Wuhou-sized value, scaled value)
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """For the run manifest."""
        return {
            "mode": self.mode,
            "reference": {"name": REFERENCE_NAME, **REFERENCE_SIZE},
            "district": self.district,
            "factors": {k: round(v, 6) for k, v in self.factors.items()},
            "scaled": {key: {"wuhou": ref, "scaled": new} for key, ref, new in self.changes},
            "warnings": list(self.warnings),
        }

    def summary(self) -> list[str]:
        """Lines for the run summary."""
        d = self.district
        head = (
            f"district {d['name']}: {d['residents']:,} residents, {d['communities']} communities, "
            f"{d['streets']} streets"
        )
        if self.mode == "reference":
            return [f"{head} (the Wuhou reference: nothing scaled)"]
        if self.mode == "none":
            lines = [f'{head}; district.scale = "none": values taken as given']
        else:
            f = self.factors
            lines = [
                f'{head}; scaled from Wuhou (district.scale = "residents"): '
                f"x{f['residents']:.3f} by residents, x{f['communities']:.3f} by communities, "
                f"x{f['streets']:.3f} by streets"
            ]
            for key, ref, new in self.changes:
                lines.append(f"  {key}: {_show(ref)} -> {_show(new)}")
        lines += [f"warning: {w}" for w in self.warnings]
        return lines


def _show(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + " }"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def scale_params(params: Params, factors: dict[str, float]) -> tuple[dict[str, Any], list]:
    """Scaled values of the district-wide parameters, and (key, Wuhou value, scaled) changes."""
    update, changes = {}, []
    for name, basis in scaled_fields(Params).items():
        ref = getattr(params, name)
        new = scale_value(ref, factors[basis])
        if new != ref:
            update[name] = new
            changes.append((f"params.{name}", ref, new))
    return update, changes


def scale_policy(raw: Mapping[str, Any], factors: dict[str, float]) -> tuple[dict[str, Any], list]:
    """The ``[policy]`` table with district-wide levers scaled (defaults included)."""
    out = dict(raw)
    changes = []
    defaults = Policy()
    for lever, basis in scaled_fields(Policy).items():
        spec = raw.get(lever, getattr(defaults, lever))
        f = factors[basis]
        if isinstance(spec, Mapping):
            new: Any = {month: scale_value(v, f) for month, v in spec.items()}
            differs = any(new[m] != plain_number(None, v) for m, v in spec.items())
        else:
            new = scale_value(spec, f)
            differs = new != plain_number(None, spec)
        if differs:
            out[lever] = new
            changes.append((f"policy.{lever}", spec, new))
    return out, changes


def budget_warnings(schedule: PolicySchedule, residents: int, scaled: bool) -> list[str]:
    """Budgets per resident more than 3x or less than 1/3 of Wuhou's (warnings, not errors)."""
    out = []
    for lever, ref in REFERENCE_PER_RESIDENT.items():
        for month, name, value in schedule.changes:
            if name != lever or not value:
                continue
            per = value / residents
            ratio = per / ref
            if 1 / WARN_RATIO <= ratio <= WARN_RATIO:
                continue
            advice = (
                "scaling keeps Wuhou's level, so check the scenario's values"
                if scaled
                else 'set district.scale = "residents" to scale Wuhou-sized values'
            )
            out.append(
                f"policy.{lever} = {value:,.0f} yuan/year from {format_month(month)} is "
                f"{per:,.1f} yuan per resident, {ratio:.2g} times Wuhou's {ref:,.1f} "
                f"(allowed, but far from the reference; {advice})"
            )
            break  # one warning per budget line
    return out
