"""Shared fixtures and helpers.

Runs are not cached across tests: a test that reads a run makes it (a 48-month run takes well
under a second), so each test visibly exercises the processes it checks, for people reading it and
for mutation testing (mutmut maps each function to the tests that call it; a run cached by an
earlier test would hide the later ones, and a cache kept in a process would hand unmutated runs to
mutants). Tests that need the same runs several times share them through a fixture whose scope
is written where it is used.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim import DistrictModel, load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def finished_run(scenario: str, seed: int, overrides: tuple[str, ...] = ()) -> DistrictModel:
    """A full run (48 months) of ``scenarios/<scenario>.toml``, made afresh on every call."""
    model = DistrictModel(load_scenario(SCENARIOS / f"{scenario}.toml", list(overrides)), rng=seed)
    model.run_for(model.spec.months)
    return model


@pytest.fixture
def reform() -> DistrictModel:
    return finished_run("wuhou_reform", 1)


@pytest.fixture
def baseline() -> DistrictModel:
    return finished_run("baseline_2013", 1)


@pytest.fixture
def reform_results(reform):
    return reform.results()


@pytest.fixture(scope="module")
def dask_cluster():
    """A dask LocalCluster of one worker with two threads, in this process, on no network port
    (skips the test when dask.distributed is not installed)."""
    import logging

    distributed = pytest.importorskip(
        "dask.distributed", reason="dask[distributed] is not installed"
    )
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as local:
        yield local
