"""A run's results do not depend on the number of BLAS threads (sim.model.OneBlasThread).

OpenBLAS splits a large product over its threads, and the split changes the order of the sums:
on main before ``OneBlasThread`` a 10x district gave street and community tables that differed in
the last bits between ``OPENBLAS_NUM_THREADS=1`` and ``=2`` (the street table from 4x over 48
months; at 10x the street table within 12 months and, at the calibrated defaults, the community
table within 24). Wuhou's products are too small to be split, so the golden test cannot see this;
these tests can.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import sim.model
from sim import DistrictModel, load_scenario

from .conftest import ROOT, SCENARIOS

BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

# The child runs a 24-month reform on the generated district and prints the BLAS threads it
# started with and the per-column hashes of its three result tables (the golden test's form).
CHILD = """
import json, sys
from threadpoolctl import threadpool_info
from sim import DistrictModel, load_scenario
from tests.test_golden import table_hashes
threads = max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
model = DistrictModel(load_scenario(sys.argv[1], ["run.months=24"]), rng=1)
model.run_for(model.spec.months)
tables = model.results()
print(json.dumps({"threads": threads,
                  "tables": {k: table_hashes(v) for k, v in sorted(tables.items())}}))
"""


def blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


@pytest.fixture(scope="module")
def district_10x(tmp_path_factory) -> Path:
    spec = importlib.util.spec_from_file_location(
        "make_district", ROOT / "benchmarks" / "make_district.py"
    )
    make_district = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_district)
    return make_district.write(10, tmp_path_factory.mktemp("x10"))


def run_child(scenario: Path, threads: int) -> dict:
    env = dict(os.environ) | {name: str(threads) for name in BLAS_VARIABLES}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(scenario)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_large_district_tables_equal_on_one_and_two_blas_threads(district_10x):
    one = run_child(district_10x, 1)
    two = run_child(district_10x, 2)
    assert one["threads"] == 1
    if two["threads"] < 2:
        pytest.skip("BLAS would not start two threads here (one core?): nothing to compare")
    moved = {
        level: sorted(
            c for c in one["tables"][level] if c != "*" and h[c] != one["tables"][level][c]
        )
        for level, h in two["tables"].items()
    }
    assert one["tables"] == two["tables"], f"columns that moved with the BLAS threads: {moved}"


def test_model_work_runs_on_one_blas_thread_and_leaves_the_process_as_it_was(monkeypatch):
    """Building (burn-in), step(), run_for(), run_model() and results() all run on one thread;
    between and after them the process keeps its own setting."""
    seen: dict[str, set[tuple[int, ...]]] = {}
    where = ["init"]
    flow_items = sim.model.flow_items
    build_results = sim.model.build_results

    def spy_flow(*args):
        seen.setdefault(where[0], set()).add(tuple(blas_threads()))
        return flow_items(*args)

    def spy_results(model):
        seen.setdefault("results", set()).add(tuple(blas_threads()))
        return build_results(model)

    monkeypatch.setattr(
        sim.model, "MONTH", tuple(spy_flow if p is flow_items else p for p in sim.model.MONTH)
    )
    monkeypatch.setattr(sim.model, "build_results", spy_results)
    with threadpool_limits(limits=2, user_api="blas"):
        outside = blas_threads()
        if max(outside) < 2:
            pytest.skip("BLAS would not take two threads here (one core?): nothing to limit")
        scenario = load_scenario(SCENARIOS / "wuhou_reform.toml", ["run.months=4"])
        model = DistrictModel(scenario, rng=3)
        assert blas_threads() == outside
        for name, run in [
            ("step", model.step),
            ("run_for", lambda: model.run_for(1)),
            ("run_model", model.run_model),
        ]:
            where[0] = name
            run()
            assert blas_threads() == outside, f"after {name}"
        model.results()
        assert blas_threads() == outside
    assert set(seen) == {"init", "step", "run_for", "run_model", "results"}
    assert all(threads == {tuple(1 for _ in outside)} for threads in seen.values()), seen


def test_one_blas_thread_is_reentrant_and_shared_between_threads():
    """Two models working at once in one process (a threaded dask worker, the dashboard): the
    first to leave must not give the other back its threads; the last to leave does, even when it
    is not the thread that entered first. (No threadpool_limits around it: threadpoolctl lets the
    thread inside one own OpenBLAS's pool, and the other thread could not set it back.)"""
    hold = sim.model.OneBlasThread()
    outside = blas_threads()
    if max(outside) < 2:
        pytest.skip("BLAS runs on one thread here (one core, or set so): nothing to limit")
    ones = [1] * len(outside)
    entered, release = threading.Event(), threading.Event()
    inside_other: list[list[int]] = []

    def other() -> None:
        with hold:
            entered.set()
            release.wait(10)
            inside_other.append(blas_threads())

    worker = threading.Thread(target=other)
    with hold:
        worker.start()
        assert entered.wait(10)
        with hold:  # nested, as step() inside run_for()
            assert blas_threads() == ones
        assert blas_threads() == ones
    assert blas_threads() == ones  # the other thread still holds it
    release.set()
    worker.join(10)
    assert inside_other == [ones]
    assert blas_threads() == outside  # set back by the other thread, the last to leave
