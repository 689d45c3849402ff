"""A/B of monthly processes: this checkout's against a git revision's, alternating in one process.

    python benchmarks/bench_processes.py --base 42b8a02 flow_items serve_residents

The revision's ``sim`` package is extracted to a temporary directory as ``sim_base`` (its imports
rewritten), so both versions' functions run in one process on the same objects. Three figures:

1. **Same state** (``--calls``): the default reform run (seed 1) is run to ``--month``; then each
   process is called on deep copies of the world as it is just before that process runs, the
   base's and this checkout's alternating, CPU time per call (medians). Before timing, the world
   after one call of each is compared (every column, array and random stream): they must be equal.
   Each timed call is a copy's second, so per-world caches are as warm as in a run.
2. **In whole runs** (``--rounds``): seeds 1-5 of the reform with ``results()``, once with the
   base's functions for the processes named and once with this checkout's, alternating; CPU time
   inside each named process (summed over the run) and of the whole run per agent-step, medians
   of the rounds (the first round is a warm-up and not counted). Results tables are hashed for
   seed 1 with both versions and must be equal.

On a shared machine whole runs scatter by 10-20% between rounds; the same-state and in-run
figures resolve much smaller differences. ``--smoke`` runs a tiny size (CI; its figures mean
nothing).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

import sim.model as sm
from sim import DistrictModel, load_scenario
from sim.tables import Table

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "wuhou_reform.toml"


def load_base(rev: str, into: Path) -> ModuleType:
    """The ``sim`` package at ``rev`` as ``sim_base`` (imported from ``into``)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "sim"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    (into / "sim").rename(into / "sim_base")
    pattern = re.compile(r"^(\s*)(from|import) sim(\.|\s)", re.MULTILINE)
    for path in (into / "sim_base").rglob("*.py"):
        text = path.read_text()
        path.write_text(pattern.sub(r"\1\2 sim_base\3", text))
    sys.path.insert(0, str(into))
    import sim_base.model  # noqa: F401 (imports the processes too)

    return sys.modules["sim_base.model"]


def differences(a: Any, b: Any, path: str = "world") -> list[str]:
    """Paths at which two worlds (or parts of them) differ, bit for bit."""
    if isinstance(a, np.ndarray):
        same = isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype
        return [] if same and a.tobytes() == b.tobytes() else [path]
    if isinstance(a, Table):
        return [d for k in a.columns for d in differences(getattr(a, k), getattr(b, k), k)]
    if isinstance(a, np.random.Generator):
        return [] if a.bit_generator.state == b.bit_generator.state else [path]
    if hasattr(a, "__dataclass_fields__"):
        return [
            d
            for k in a.__dataclass_fields__
            if not k.startswith("_")
            for d in differences(getattr(a, k), getattr(b, k), f"{path}.{k}")
        ]
    if isinstance(a, dict):
        if set(a) != set(b):
            return [path]
        return [d for k in a for d in differences(a[k], b[k], f"{path}[{k!r}]")]
    if isinstance(a, list | tuple):
        if len(a) != len(b):
            return [path]
        pairs = enumerate(zip(a, b, strict=True))
        return [d for i, (x, y) in pairs for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [path]


def state_before(month: int, name: str) -> tuple[Any, Any, Any]:
    """World, policy and parameters of the reform (seed 1) just before ``name`` in ``month``."""
    m = DistrictModel(load_scenario(SCENARIO), rng=1)
    m.run_for(month)
    w, pol = m.world, m.schedule.at(month)
    w.t, w.month_stats = month, Counter()
    with sm.ONE_BLAS_THREAD:
        for process in sm.MONTH:
            if process.__name__ == name:
                break
            process(w, pol, m.params)
    return w, pol, m.params


def same_state(base: dict[str, Any], name: str, month: int, calls: int) -> tuple[float, float]:
    """Median CPU seconds per call of the base's and this checkout's ``name`` on one state."""
    new = next(f for f in sm.MONTH if f.__name__ == name)
    w, pol, p = state_before(month, name)
    a, b = copy.deepcopy(w), copy.deepcopy(w)
    with sm.ONE_BLAS_THREAD:
        base[name](a, pol, p)
        new(b, pol, p)
    diff = differences(a, b)
    if diff:
        raise SystemExit(f"{name}: the world differs after one call: {', '.join(diff[:8])}")
    # Each timed call is a world's second: the first (not timed) fills the per-world caches a
    # run's months would have filled. Both versions leave the same world after the first call
    # (checked above), so the timed calls see the same state.
    times: dict[str, list[float]] = {"base": [], "new": []}
    with sm.ONE_BLAS_THREAD:
        for r in range(calls):
            for version in ("base", "new") if r % 2 == 0 else ("new", "base"):
                f = base[name] if version == "base" else new
                c = copy.deepcopy(w)
                f(c, pol, p)
                t = time.process_time()
                f(c, pol, p)
                times[version].append(time.process_time() - t)
    return float(np.median(times["base"])), float(np.median(times["new"]))


def tables_hash(model: DistrictModel) -> str:
    h = hashlib.sha256()
    for level, table in sorted(model.results().items()):
        h.update(level.encode())
        for col in table.columns:
            v = table[col].to_numpy()
            raw = np.ascontiguousarray(v).tobytes() if v.dtype.kind in "biufcM" else repr(v)
            h.update(raw if isinstance(raw, bytes) else raw.encode())
    return h.hexdigest()


def in_runs(base: dict[str, Any], names: list[str], rounds: int, months: int) -> None:
    """Whole runs with the base's and this checkout's processes, alternating."""
    spent: Counter[tuple[str, str]] = Counter()

    def timed(f: Any, key: tuple[str, str]) -> Any:
        def g(w: Any, pol: Any, p: Any) -> None:
            t = time.process_time()
            f(w, pol, p)
            spent[key] += time.process_time() - t

        g.__name__ = f.__name__
        return g

    new_month = sm.MONTH
    months_of = {
        v: tuple(
            timed(base[f.__name__] if v == "base" else f, (v, f.__name__))
            if f.__name__ in names
            else f
            for f in new_month
        )
        for v in ("base", "new")
    }
    sc = load_scenario(SCENARIO)
    hashes = {}
    for v in ("base", "new"):
        sm.MONTH = months_of[v]
        m = DistrictModel(sc, rng=1)
        m.run_for(months)
        hashes[v] = tables_hash(m)
    if hashes["base"] != hashes["new"]:
        sm.MONTH = new_month
        raise SystemExit("the results tables of seed 1 differ between the versions")
    res: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in range(rounds + 1):
        for v in ("base", "new") if r % 2 == 0 else ("new", "base"):
            sm.MONTH = months_of[v]
            spent.clear()
            t, steps = time.process_time(), 0
            for seed in range(1, 6):
                m = DistrictModel(sc, rng=seed)
                m.run_for(months)
                m.results()
                steps += m.agent_steps
            if r == 0:
                continue  # warm-up
            res[(v, "run")].append((time.process_time() - t) / 5)
            res[(v, "per agent-step")].append((time.process_time() - t) / steps)
            for name in names:
                res[(v, name)].append(spent[(v, name)] / 5)
    sm.MONTH = new_month
    print(f"in whole runs (seeds 1-5, {rounds} rounds, medians; tables of seed 1 equal):")
    for name in [*names, "run", "per agent-step"]:
        b, n = np.median(res[("base", name)]), np.median(res[("new", name)])
        unit, k = ("us", 1e6) if name == "per agent-step" else ("ms a run", 1e3)
        pairs = np.array(res[("new", name)]) / np.array(res[("base", name)])
        print(
            f"  {name:20s} base {b * k:9.3f} new {n * k:9.3f} {unit}: ratio {n / b:.3f} "
            f"(pairs: median {np.median(pairs):.3f}, quartiles {np.quantile(pairs, 0.25):.3f}"
            f"-{np.quantile(pairs, 0.75):.3f})"
        )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("processes", nargs="*", default=["flow_items"], help="names in sim.model.MONTH")
    ap.add_argument("--base", default="HEAD", help="git revision to compare against")
    ap.add_argument("--month", type=int, default=40, help="month of the same-state calls")
    ap.add_argument("--calls", type=int, default=300, help="calls of each version per process")
    ap.add_argument("--rounds", type=int, default=10, help="rounds of whole runs (0: none)")
    ap.add_argument("--smoke", action="store_true", help="tiny size (CI)")
    args = ap.parse_args(argv)
    names = list(args.processes)
    unknown = sorted(set(names) - {f.__name__ for f in sm.MONTH})
    if unknown:
        allowed = ", ".join(f.__name__ for f in sm.MONTH)
        raise SystemExit(f"unknown process {', '.join(unknown)}; allowed: {allowed}")
    calls, rounds, month, months = args.calls, args.rounds, args.month, None
    if args.smoke:
        calls, rounds, month, months = 3, 1, 3, 4
    with tempfile.TemporaryDirectory() as tmp:
        base_model = load_base(args.base, Path(tmp))
        base = {f.__name__: f for f in base_model.MONTH}
        missing = [n for n in names if n not in base]
        if missing:
            raise SystemExit(f"{args.base} has no process {', '.join(missing)}")
        print(f"base {args.base}; same state: reform seed 1, month {month}, {calls} calls each")
        for name in names:
            b, n = same_state(base, name, month, calls)
            print(f"  {name:20s} base {b * 1e6:9.1f} new {n * 1e6:9.1f} us: ratio {n / b:.3f}")
        if rounds:
            in_runs(base, names, rounds, months or load_scenario(SCENARIO).months)


if __name__ == "__main__":
    main()
