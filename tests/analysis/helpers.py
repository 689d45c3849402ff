"""Synthetic results stores with known answers, in the layout of sim.experiment.store.

A value is ``base[scenario] + shared[r] + own[scenario, r]`` (plus a trend in time): ``shared`` is
common to every scenario in replication r, as common random numbers make it, so paired differences
are much more precise than unpaired ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiment.store import data_path, run_id, status_path
from sim.io import write_json, write_parquet

STREETS = ["浆洗街", "望江路", "玉林"]
COMMUNITIES = {s: [f"{s}{i}" for i in (1, 2)] for s in STREETS}
MONTHS = [f"{y}-{m:02d}" for y in (2013, 2014) for m in range(1, 13)]


def district_rows(months: list[str], value: float) -> pd.DataFrame:
    """Monthly district rows whose outcomes all equal ``value``."""
    n = len(months)
    frame = pd.DataFrame(
        {
            "step": np.arange(1, n + 1),
            "month": months,
            "year": [int(m[:4]) for m in months],
            "district": "Test district",
            "admin_burden": np.full(n, value),
            "service_coverage": np.full(n, value),
            "service_quality": np.full(n, value),
            "satisfaction": np.full(n, value),
            "n_orgs": np.full(n, round(1000 * value)),
            "n_social_workers": np.full(n, round(100 * value)),
            "purchase_spend": np.full(n, 1e6 * value),
            "project_spend": np.full(n, 1e5 * value),
            "funded_item_spend": np.zeros(n),
            "org_item_hours": np.full(n, 1e4 * value),
            "project_hours": np.full(n, 1e3 * value),
            "entry_control": [m >= "2013-10" for m in months],
            "purchase_budget": np.zeros(n),
            "project_budget": np.zeros(n),
        }
    )
    return frame


def make_store(
    root: Path,
    values: dict[str, np.ndarray],
    months: list[str] | None = None,
    levels: tuple[str, ...] = ("district", "street", "community"),
    frequency: str = "monthly",
    method: str = "scenarios",
    design: dict[str, list[dict[str, Any]]] | None = None,
    factors: list[dict[str, Any]] | None = None,
    street_offsets: dict[str, dict[str, float]] | None = None,
    trend: float = 0.0,
    name: str = "synthetic",
    descriptions: dict[str, str] | None = None,
    roles: dict[str, Any] | None = None,
) -> Path:
    """Write a results store: ``values[scenario][r]`` is the outcome level of replication r.

    Every district outcome of a run equals its level in the last month (plus ``trend`` × (step −
    last step) before that). Street s adds ``street_offsets[scenario][s]``; communities equal
    their street. ``design`` gives each scenario's design values (for designs); ``roles`` is the
    manifest's roles table (scenario names).
    """
    months = months or MONTHS
    points = []
    runs = []
    scenarios = list(values)
    for i, scenario in enumerate(scenarios):
        pid = f"p{i:05d}"
        label = scenario
        design_values = (design or {}).get(scenario, [{}])[0] if design else {}
        points.append(
            {
                "point": pid,
                "scenario": label if not design else "base",
                "scenario_hash": f"hash{i}",
                "description": (descriptions or {}).get(scenario, f"What {scenario} changes."),
                "design": design_values,
                "overrides": {},
                "definition": None
                if design
                else {
                    "run": {"start": months[0], "months": len(months)},
                    "district": {"source": "wuhou"},
                    "policy": {"entry_control": {months[0]: False, "2013-10": True}}
                    if scenario != scenarios[0]
                    else {"entry_control": False},
                },
            }
        )
        for r, level_value in enumerate(values[scenario]):
            rid = run_id(pid, r)
            keys = {
                "experiment": name,
                "scenario": label if not design else "base",
                "point": pid,
                "replication": r,
                "seed_entropy": "7",
                "seed_spawn_key": str(r),
                **design_values,
            }
            base = district_rows(months, float(level_value))
            if trend:
                shift = trend * (base["step"] - base["step"].max())
                for col in ("admin_burden", "service_coverage", "service_quality", "satisfaction"):
                    base[col] = base[col] + shift
            tables = {}
            if "district" in levels:
                tables["district"] = base
            offsets = (street_offsets or {}).get(scenario, {})
            street_frames = []
            for s in STREETS if {"street", "community"} & set(levels) else []:
                st = base[["step", "month", "year"]].copy()
                st["street"] = s
                for col in ("admin_burden", "service_coverage", "service_quality", "satisfaction"):
                    st[col] = base[col] + offsets.get(s, 0.0)
                street_frames.append(st)
            if "street" in levels:
                tables["street"] = pd.concat(street_frames, ignore_index=True)
            if "community" in levels:
                comm = []
                for st in street_frames:
                    for c in COMMUNITIES[st["street"].iloc[0]]:
                        cf = st.copy()
                        cf.insert(3, "community", c)
                        comm.append(cf)
                tables["community"] = pd.concat(comm, ignore_index=True)
            for level, table in tables.items():
                if frequency == "final":
                    table = table[table["step"] == table["step"].max()]
                elif frequency == "yearly":
                    keys_ = [c for c in ("year", "street", "community", "district") if c in table]
                    num = [
                        c
                        for c in table.columns
                        if c not in (*keys_, "step", "month")
                        and pd.api.types.is_numeric_dtype(table[c])
                    ]
                    table = table.groupby(keys_, sort=False)[num].mean().reset_index()
                keyed = pd.concat(
                    [
                        pd.DataFrame({k: [v] * len(table) for k, v in keys.items()}),
                        table.reset_index(drop=True),
                    ],
                    axis=1,
                )
                write_parquet(keyed, data_path(root, level, rid))
            write_json({"run": rid, "status": "done"}, status_path(root, rid))
            runs.append({"run": rid, "point": pid, "replication": r, "status": "done"})
    manifest = {
        "experiment": name,
        "experiment_hash": "0123456789abcdef",
        "experiment_path": f"experiments/{name}.toml",
        "definition": {"description": f"A synthetic experiment ({name})."},
        "replications": max(len(v) for v in values.values()),
        "levels": list(levels),
        "frequency": frequency,
        "method": method,
        "roles": roles,
        "factors": factors or [],
        "seeds": {"root_seed": 7, "scheme": "test", "replications": []},
        "points": points,
        "started": "2026-01-01T00:00:00+00:00",
        "ended": "2026-01-01T00:01:00+00:00",
        "versions": {"python": "3.12", "sanshe": "0.1.0"},
        "git_commit": "abc123",
        "host": "test",
        "status": "complete",
        "runs": runs,
        "n_done": len(runs),
        "n_failed": 0,
    }
    write_json(manifest, root / "manifest.json")
    return root


def crn_values(
    means: dict[str, float],
    n: int = 10,
    shared_sd: float = 0.05,
    own_sd: float = 0.005,
    seed: int = 1,
) -> dict[str, np.ndarray]:
    """Replication levels with a large component shared by all scenarios (CRN)."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(0, shared_sd, n)
    return {s: m + shared + rng.normal(0, own_sd, n) for s, m in means.items()}


# The roles of the four-setting stores used by the plot and report tests.
FOUR_ROLES = {
    "reference": "baseline_2013",
    "focus": "wuhou_reform",
    "ablations": {"entry_control": "reform_minus_entry_control"},
    "added_alone": {"entry_control": "baseline_plus_entry_control"},
}
