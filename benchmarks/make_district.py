"""Generate a district k times Wuhou's size, as a CSV, and a reform scenario that runs on it.

    python benchmarks/make_district.py --scale 10 --out /tmp/x10

writes ``/tmp/x10/district.csv`` (13k streets, 87k communities, 1.26k million residents, drawn
with the recipe of the synthetic Wuhou, :func:`sim.district.synthetic_wuhou`) and
``/tmp/x10/scenario.toml``: the ``wuhou_reform`` scenario on that district, with the
district-wide quantities scaled by k too (budgets, centres, brand agencies, initial agencies,
the worker pool and its inflows, other organizations), so that per resident the district does the
same work and the run time measures scale, not a thinner reform. Quantities whose validation bound
is below k times their value are held at the bound; the script says which.

Used by ``benchmarks/bench_scale.py``; the files are benchmark inputs, not model data.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomli_w

from sim.district import (
    RESIDENTS_LOG_SD,
    RESIDENTS_PER_STAFF,
    STAFF_RANGE,
    WUHOU_COMMUNITIES,
    WUHOU_RESIDENTS,
    WUHOU_STREETS,
    _round_to_total,
)
from sim.params import Params, Policy
from sim.scenario import resolve_extends

ROOT = Path(__file__).resolve().parents[1]
BASE_SCENARIO = ROOT / "scenarios" / "wuhou_reform.toml"

# District-wide quantities that grow with the district (the rest are per community, per
# organization or per worker already).
SCALED_LEVERS = (
    "purchase_budget",
    "project_budget",
    "service_centres",
    "service_centre_streets",
    "incubation_centres",
    "brand_agencies",
)
SCALED_PARAMS = (
    "initial_agencies",
    "initial_pool",
    "graduates_per_year",
    "switchers_per_month",
    "other_orgs_initial",
)


def district_frame(scale: int, seed: int = 20131001) -> pd.DataFrame:
    """``scale`` times Wuhou: communities per street, sizes, households and staff.

    Household sizes are drawn between B2's old-town (2.72) and fringe (3.66) means; need comes
    from households and the default covariates (model v2), so no ``need_index`` column is written.
    """
    rng = np.random.default_rng([seed, scale])
    n_streets = len(WUHOU_STREETS) * scale
    n_comm = WUHOU_COMMUNITIES * scale
    per_street = np.full(n_streets, n_comm // n_streets)
    per_street[rng.choice(n_streets, n_comm - per_street.sum(), replace=False)] += 1
    street = np.repeat(np.arange(n_streets), per_street)
    residents = _round_to_total(
        rng.lognormal(0.0, RESIDENTS_LOG_SD, n_comm), WUHOU_RESIDENTS * scale
    )
    households = np.round(residents / rng.uniform(2.72, 3.66, n_comm)).astype(np.int64)
    staff = np.clip(np.round(residents / RESIDENTS_PER_STAFF), *STAFF_RANGE).astype(np.int64)
    first = np.r_[0, np.cumsum(per_street)[:-1]]
    return pd.DataFrame(
        {
            "street": [f"S{s + 1:04d}" for s in street],
            "community": [f"S{s + 1:04d}-C{i - first[s] + 1}" for i, s in enumerate(street)],
            "residents": residents,
            "households": households,
            "staff": staff,
        }
    )


def _bound(model: type, name: str) -> float:
    for meta in model.model_fields[name].metadata:
        if hasattr(meta, "le"):
            return meta.le
    return math.inf


def _scale_value(value: Any, scale: int, limit: float) -> Any:
    scaled = min(value * scale, limit)
    return type(value)(round(scaled)) if isinstance(value, int) else float(scaled)


def scaled_definition(scale: int, csv_name: str) -> tuple[dict[str, Any], list[str]]:
    """The reform scenario on the scaled district, and the names held at a bound."""
    definition = resolve_extends(BASE_SCENARIO)
    definition.pop("extends", None)
    definition["name"] = f"wuhou_reform_x{scale}"
    definition["description"] = f"wuhou_reform on a generated district {scale} times Wuhou's size"
    # The levers and parameters are scaled here (below, with the bounds they hit reported), so the
    # district's own scaling from Wuhou (issue 13's default for CSV districts) is switched off.
    definition["district"] = {"source": csv_name, "scale": "none"}
    held: list[str] = []
    policy = definition.setdefault("policy", {})
    for lever in SCALED_LEVERS:
        limit = _bound(Policy, lever)
        value = policy.get(lever, Policy.model_fields[lever].default)
        timeline = value if isinstance(value, dict) else {None: value}
        new = {k: _scale_value(v, scale, limit) for k, v in timeline.items()}
        if any(v * scale > limit for v in timeline.values()):
            held.append(f"policy.{lever} (at most {limit:g})")
        policy[lever] = new if isinstance(value, dict) else new[None]
    params = definition.setdefault("params", {})
    for name in SCALED_PARAMS:
        limit = _bound(Params, name)
        value = params.get(name, Params.model_fields[name].default)
        params[name] = _scale_value(value, scale, limit)
        if value * scale > limit:
            held.append(f"params.{name} (at most {limit:g})")
    return definition, held


def write(scale: int, out: Path) -> Path:
    """Write ``district.csv`` and ``scenario.toml`` into ``out``; returns the scenario path."""
    out.mkdir(parents=True, exist_ok=True)
    district_frame(scale).to_csv(out / "district.csv", index=False)
    definition, held = scaled_definition(scale, "district.csv")
    path = out / "scenario.toml"
    path.write_text(tomli_w.dumps(definition), encoding="utf-8")
    if held:
        print(f"x{scale}: held at their bounds: {', '.join(held)}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10, help="times Wuhou's size (default 10)")
    parser.add_argument("--out", type=Path, required=True, help="directory for the two files")
    args = parser.parse_args()
    if args.scale < 1:
        raise SystemExit("--scale: must be a whole number of at least 1")
    path = write(args.scale, args.out)
    frame = pd.read_csv(args.out / "district.csv")
    print(
        f"{path}: {frame['street'].nunique()} streets, {len(frame)} communities, "
        f"{frame['residents'].sum():,} residents"
    )


if __name__ == "__main__":
    main()
