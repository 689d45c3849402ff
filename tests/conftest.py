"""Shared fixtures: finished runs are cached per session, since many tests read the same run."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from sim import DistrictModel, load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


@cache
def finished_run(scenario: str, seed: int, overrides: tuple[str, ...] = ()) -> DistrictModel:
    """A 48-month run of ``scenarios/<scenario>.toml`` (cached; do not mutate)."""
    model = DistrictModel(load_scenario(SCENARIOS / f"{scenario}.toml", overrides), rng=seed)
    model.run_for(model.spec.months)
    return model


@pytest.fixture(scope="session")
def reform() -> DistrictModel:
    return finished_run("wuhou_reform", 1)


@pytest.fixture(scope="session")
def baseline() -> DistrictModel:
    return finished_run("baseline_2013", 1)


@pytest.fixture(scope="session")
def reform_results(reform):
    return reform.results()
