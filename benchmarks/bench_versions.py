"""Benchmark: ``bench_model.py`` of several git revisions, each in its own process, alternating.

    python benchmarks/bench_versions.py v1=ebd793b start=ed2d094 now=HEAD [--rounds 9]

Each revision is checked out into a temporary worktree (``git worktree add --detach``, removed at
the end), and every round runs each revision's own ``benchmarks/bench_model.py --repeats 7`` and a
CPU-time measure (seeds 1-5 of ``wuhou_reform`` with ``results()``, CPU microseconds per
agent-step) in a fresh process with that worktree first on ``PYTHONPATH``. The order of the
revisions rotates every round, so each sees the machine in every position. Printed: each
revision's medians, and for every pair (the later-named over the earlier-named) the median over
rounds of the per-round ratio, with its range.

Why separate processes: a process holding two versions' packages charges the version with more
Python objects at every full garbage collection (v1 makes a Mesa object per agent), so v1 ran
1.3 times slower next to v2 than alone; issue 10's speed limit (v2 at most 1.3 times v1 in
``bench_model.py``'s ratio) is about each version on its own. Single processes of the same code
scatter by a factor of up to 1.9 on the shared machine, so use many rounds on a quiet machine.
``--smoke`` runs one round of HEAD against itself with ``bench_model.py --smoke`` (CI; its figures
mean nothing).
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CPU_PER_AGENT_STEP = """
import time
from sim import DistrictModel, load_scenario
sc = load_scenario("scenarios/wuhou_reform.toml")
DistrictModel(sc, rng=99).run_for(sc.months)  # warm-up
start, steps = time.process_time(), 0
for seed in range(1, 6):
    m = DistrictModel(sc, rng=seed); m.run_for(sc.months); m.results(); steps += m.agent_steps
print((time.process_time() - start) / steps * 1e6)
"""
RATIO = re.compile(r"ratio sanshe / BoltzmannWealth per agent-step: ([0-9.]+)")


def _output(command: list[str], tree: Path) -> str:
    """What ``command`` prints, run in ``tree`` with that checkout first on ``PYTHONPATH``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        command, cwd=tree, env=env, capture_output=True, text=True, check=True
    ).stdout


def measure(tree: Path, smoke: bool) -> tuple[float, float | None]:
    """One round of one revision: bench_model's ratio, and CPU microseconds per agent-step."""
    args = ["--smoke"] if smoke else ["--repeats", "7"]
    bench = _output([sys.executable, "benchmarks/bench_model.py", *args], tree)
    found = RATIO.search(bench)
    if found is None:
        raise SystemExit(f"bench_model.py in {tree} printed no ratio:\n{bench}")
    if smoke:
        return float(found.group(1)), None
    return float(found.group(1)), float(_output([sys.executable, "-c", CPU_PER_AGENT_STEP], tree))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("versions", nargs="*", metavar="NAME=REV", help="e.g. v1=ebd793b now=HEAD")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--smoke", action="store_true", help="HEAD against itself, once (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.versions, args.rounds = ["a=HEAD", "b=HEAD"], 1
    if len(args.versions) < 2 or any("=" not in v for v in args.versions):
        parser.error("give at least two versions as NAME=REV, e.g. v1=ebd793b now=HEAD")
    versions = dict(v.split("=", 1) for v in args.versions)
    results: dict[str, list[tuple[float, float | None]]] = {name: [] for name in versions}
    with tempfile.TemporaryDirectory() as tmp:
        trees = {}
        try:
            for name, rev in versions.items():
                trees[name] = Path(tmp) / name
                subprocess.run(
                    ["git", "worktree", "add", "--quiet", "--detach", str(trees[name]), rev],
                    cwd=ROOT,
                    check=True,
                )
            names = list(versions)
            for r in range(args.rounds):
                order = names[r % len(names) :] + names[: r % len(names)]
                for name in order:
                    results[name].append(measure(trees[name], args.smoke))
                line = ", ".join(f"{n} {results[n][-1][0]:.3f}" for n in names)
                print(f"round {r + 1}: bench_model ratio {line}", flush=True)
        finally:
            for tree in trees.values():
                subprocess.run(
                    ["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False
                )
    load = os.getloadavg()[0]
    for name, rows in results.items():
        cpu = [c for _, c in rows if c is not None]
        cpu_text = f", CPU {statistics.median(cpu):.3f} us per agent-step" if cpu else ""
        bench = statistics.median(b for b, _ in rows)
        print(
            f"{name} ({versions[name]}): bench_model ratio {bench:.3f}{cpu_text} "
            f"(medians of {len(rows)} rounds)"
        )
    for a, b in itertools.combinations(versions, 2):
        for i, label in ((0, "bench_model ratio"), (1, "CPU per agent-step")):
            per_round = [  # the later-named over the earlier-named: "now / v1"
                y[i] / x[i]
                for x, y in zip(results[a], results[b], strict=True)
                if x[i] is not None and y[i] is not None
            ]
            if per_round:
                print(
                    f"{b} / {a}, {label}: {statistics.median(per_round):.3f} (per-round median; "
                    f"{min(per_round):.3f}-{max(per_round):.3f})"
                )
    print(f"load average at the end: {load:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
