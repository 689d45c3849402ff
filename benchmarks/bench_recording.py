"""A/B of the monthly record and the result tables: this checkout's against a git revision's.

    python benchmarks/bench_recording.py --base 8113dda --calls 4000 --rounds 16

The revision's ``sim`` package is extracted as ``sim_base`` (as in ``bench_processes.py``), so
both versions' functions run in one process on the same objects. Two figures:

1. **Same state** (``--calls``): the reform (seed 1) run to ``--month``; ``equity``,
   ``district_record`` and ``Recorder.record`` of both versions called alternately on it, and
   ``build_results`` and ``result_columns(arrow_text=True)`` on a finished run (``--calls`` / 40
   calls). Before timing, the values are compared: the records byte for byte (the recorder's
   community rows by name) and the tables with ``assert_frame_equal(check_exact=True)``.
2. **In whole runs** (``--rounds``): seeds 1-5 of the reform with ``results()``, once with the
   base's ``Recorder``, ``OutputCollector`` and ``build_results`` in ``sim.model`` and once with
   this checkout's, alternating; CPU time in ``Recorder.record`` and ``build_results`` per run,
   and of the whole runs (the first round is a warm-up).

CPU time (``time.process_time``), medians. Run under ``nice -n 10`` on a shared machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from bench_processes import SCENARIO, load_base

import sim.metrics as new
import sim.model as sm
from sim import DistrictModel, load_scenario


def alternate(old: Callable[[], Any], new_: Callable[[], Any], calls: int) -> tuple[float, float]:
    """Median CPU seconds of two calls, alternating which goes first."""
    times: dict[bool, list[float]] = {False: [], True: []}
    for i in range(calls):
        for is_new in (i % 2 == 0, i % 2 != 0):
            t0 = time.process_time()
            (new_ if is_new else old)()
            times[is_new].append(time.process_time() - t0)
    return statistics.median(times[False]), statistics.median(times[True])


def check_equal(old: Any, model: Any, finished: Any) -> None:
    for name in ("district_record", "equity"):
        a, b = getattr(old, name)(model), getattr(new, name)(model)
        assert list(a) == list(b), name
        assert (
            np.array(list(a.values()), float).tobytes()
            == np.array(list(b.values()), float).tobytes()
        )
    ro, rn = old.Recorder(model, 1), new.Recorder(model, 1)
    ro.record(model)
    rn.record(model)
    co, cn = ro.community_columns(), rn.community_columns()
    assert sorted(co) == sorted(cn) and all(co[k].tobytes() == cn[k].tobytes() for k in co)
    assert ro.district.tobytes() == rn.district.tobytes()
    fo, fn = old.build_results(finished), new.build_results(finished)
    for level in fo:
        pd.testing.assert_frame_equal(fo[level], fn[level], check_exact=True)


def same_state(old: Any, month: int, calls: int) -> None:
    sc = load_scenario(SCENARIO)
    model = DistrictModel(sc, rng=1)
    model.run_for(month)
    finished = DistrictModel(sc, rng=1)
    finished.run_for(sc.months)
    check_equal(old, model, finished)
    ro, rn = old.Recorder(model, 1), new.Recorder(model, 1)

    def record(recorder: Any) -> Callable[[], None]:
        def go() -> None:
            recorder.n = 0
            recorder.record(model)

        return go

    cases = {
        "equity": (lambda: old.equity(model), lambda: new.equity(model), calls),
        "district_record": (
            lambda: old.district_record(model),
            lambda: new.district_record(model),
            calls,
        ),
        "Recorder.record": (record(ro), record(rn), calls),
        "build_results": (
            lambda: old.build_results(finished),
            lambda: new.build_results(finished),
            max(calls // 40, 2),
        ),
        "result_columns(arrow_text)": (
            lambda: old.result_columns(finished, arrow_text=True),
            lambda: new.result_columns(finished, arrow_text=True),
            max(calls // 40, 2),
        ),
    }
    print(f"same state (seed 1, month {month}; tables of the finished run), CPU medians:")
    for name, (f_old, f_new, n) in cases.items():
        a, b = alternate(f_old, f_new, n)
        print(f"  {name:28s} {a * 1e6:9.1f} us -> {b * 1e6:9.1f} us  {b / a:.3f}  ({n} calls)")


def in_runs(old: Any, rounds: int) -> None:
    sc = load_scenario(SCENARIO)
    spent: dict[str, float] = {}

    def timed(mod: Any, key: str) -> dict[str, Any]:
        record, build = mod.Recorder.record, mod.build_results

        def timed_record(self: Any, model: Any) -> None:
            t0 = time.process_time()
            record(self, model)
            spent[key] = spent.get(key, 0.0) + time.process_time() - t0

        def timed_build(model: Any) -> Any:
            t0 = time.process_time()
            out = build(model)
            spent[key + " results"] = spent.get(key + " results", 0.0) + time.process_time() - t0
            return out

        recorder = type("Recorder", (mod.Recorder,), {"record": timed_record})
        return {"Recorder": recorder, "OutputCollector": mod.OutputCollector,
                "build_results": timed_build}  # fmt: skip

    versions = {"old": timed(old, "old"), "new": timed(new, "new")}
    totals: dict[str, list[float]] = {"old": [], "new": []}
    for r in range(rounds + 1):
        if r == 1:
            spent.clear()
        for key in ("old", "new") if r % 2 else ("new", "old"):
            for name, value in versions[key].items():
                setattr(sm, name, value)
            t0 = time.process_time()
            for seed in range(1, 6):
                m = DistrictModel(sc, rng=seed)
                m.run_for(sc.months)
                m.results()
            if r:
                totals[key].append(time.process_time() - t0)
    for name in ("Recorder", "OutputCollector", "build_results"):
        setattr(sm, name, getattr(new, name))
    runs = 5 * rounds
    ratios = [b / a for a, b in zip(totals["old"], totals["new"], strict=True)]
    print(f"in whole runs (seeds 1-5, {rounds} rounds), CPU per run:")
    for part in ("", " results"):
        a, b = spent["old" + part] / runs, spent["new" + part] / runs
        label = "build_results" if part else "Recorder.record"
        print(f"  {label:28s} {a * 1e3:7.2f} ms -> {b * 1e3:7.2f} ms  {b / a:.3f}")
    a, b = statistics.median(totals["old"]) / 5, statistics.median(totals["new"]) / 5
    print(f"  {'whole run':28s} {a * 1e3:7.1f} ms -> {b * 1e3:7.1f} ms  {b / a:.3f} "
          f"(per-round median {statistics.median(ratios):.3f})")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", required=True, help="git revision to compare against")
    ap.add_argument("--month", type=int, default=40)
    ap.add_argument("--calls", type=int, default=4000)
    ap.add_argument("--rounds", type=int, default=16)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        load_base(args.base, Path(tmp))
        old = sys.modules["sim_base.metrics"]
        if args.calls:
            same_state(old, args.month, args.calls)
        if args.rounds:
            in_runs(old, args.rounds)


if __name__ == "__main__":
    main()
