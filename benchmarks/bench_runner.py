"""Benchmarks of the experiment runner (issue 3). Figures are ratios measured in one run.

    python benchmarks/bench_runner.py [speedup] [memory] [overhead] [--workers 2] [--smoke]
        [--replications N] [--store-parent DIR]

* speedup: a 200-run sweep (baseline and reform, 100 replications, every level monthly) run
  serially and on the local executor; target >= 1.9x on 2 cores (issue 12).
* memory: peak memory (PSS, the sweep process plus its workers, sampled from /proc every 0.2 s)
  of a 2,000-run sweep (district and street levels, monthly); target < 500 MB. Also checks that
  the store holds one file per run and level.
* overhead: one run through the runner (tables keyed and written to Parquet, status recorded)
  against calling the model directly (build, run 48 months, ``results()``), same seeds, the two
  alternating run by run; CPU time of this process, so other processes' load does not enter the
  ratio; target < 5% (issue 12).

The sweeps write in a temporary folder in the checkout's ``results/`` (``--store-parent`` for
another place), and each figure is printed with the CPU cost of creating a file there.

``--smoke`` runs each benchmark once in a tiny size (CI runs it so the scripts cannot rot); its
figures mean nothing.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


# Where the benchmarks' sweeps write: by default a temporary folder in the checkout's results/,
# where `sanshe sweep` writes (results/<experiment>); --store-parent chooses another place. A
# run writes four files, and creating a file costs what the filesystem makes it cost at the time:
# on the shared test machines between about 16 and 600 us of CPU (the same folders, minutes
# apart, while other processes created and deleted many files), so up to 1% of a run. Each
# benchmark prints that cost, measured right after it, beside its figure.
STORE_PARENT = ROOT / "results"


def store() -> tempfile.TemporaryDirectory[str]:
    """A temporary store folder in STORE_PARENT (removed afterwards)."""
    STORE_PARENT.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(dir=STORE_PARENT, prefix=".bench-")


def file_creation_us(n: int = 200) -> float:
    """Median CPU time (us) to create, write and rename a small file in a new store folder, as
    the store does (sim.io's atomic writes)."""
    from sim.io import write_bytes

    times = []
    with store() as tmp:
        for i in range(n):
            start = time.process_time()
            write_bytes(b"x" * 600, Path(tmp) / f"f{i}")
            times.append(time.process_time() - start)
    return statistics.median(times) * 1e6


def where() -> str:
    """The store's place and its cost per file, for the printed figures."""
    return f"store in {STORE_PARENT}, {file_creation_us():.0f} us of CPU per file written"


def experiment(tmp: Path, replications: int, levels: str, name: str) -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(
        f'name = "{name}"\nreplications = {replications}\nroot_seed = 11\n'
        f'scenarios = ["{SCENARIOS / "baseline_2013.toml"}", "{SCENARIOS / "wuhou_reform.toml"}"]\n'
        f"[outputs]\nlevels = {levels}\n",
        encoding="utf-8",
    )
    return path


def sweep_command(path: Path, out: Path, executor: str, workers: int) -> list[str]:
    """``sanshe sweep`` as a subprocess command, quiet."""
    return [sys.executable, "-m", "sim", "sweep", str(path), "--out", str(out), "--quiet",
            "--executor", executor, "--workers", str(workers)]  # fmt: skip


def sweep(path: Path, out: Path, executor: str, workers: int) -> float:
    start = time.perf_counter()
    subprocess.run(sweep_command(path, out, executor, workers), check=True, cwd=ROOT)
    return time.perf_counter() - start


def bench_speedup(workers: int, replications: int = 100) -> None:
    with store() as tmp:
        path = experiment(Path(tmp), replications, '["district", "street", "community"]', "speedup")
        serial = sweep(path, Path(tmp) / "serial", "serial", 1)
        local = sweep(path, Path(tmp) / "local", "local", workers)
    print(
        f"speed-up, {2 * replications}-run sweep: serial {serial:.1f} s, local x{workers} "
        f"{local:.1f} s, ratio {serial / local:.2f} (target >= 1.9 on 2 cores); "
        f"load average before: {os.getloadavg()[0]:.1f}; {where()}"
    )


def _tree_memory_mb(pid: int) -> tuple[float, float]:
    """(PSS, RSS) in MB of a process and all its descendants (Linux /proc).

    PSS (proportional set size) counts a page shared by k processes as 1/k in each, so it is the
    memory the sweep really takes; the RSS sum counts pages the forked workers share with their
    server several times over.
    """
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    pss = rss = 0.0
    stack = [pid]
    while stack:
        p = stack.pop()
        stack.extend(children.get(p, []))
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
        except OSError:
            continue
    return pss / 1e3, rss / 1e3


def bench_memory(workers: int, replications: int = 1000, executor: str = "local") -> None:
    levels = ("district", "street")
    with store() as tmp:
        path = experiment(Path(tmp), replications, str(list(levels)).replace("'", '"'), "memory")
        cmd = sweep_command(path, Path(tmp) / "out", executor, workers)
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT)
        peak, peak_rss, samples = 0.0, 0.0, []
        while proc.poll() is None:
            now, now_rss = _tree_memory_mb(proc.pid)
            peak, peak_rss = max(peak, now), max(peak_rss, now_rss)
            samples.append(now)
            time.sleep(0.2)
        seconds = time.perf_counter() - start
        if proc.returncode:
            raise SystemExit(f"sweep failed with status {proc.returncode}")
        n_files = len(list((Path(tmp) / "out" / "data" / "district").glob("*.parquet")))
        per_level = {lv: len(list((Path(tmp) / "out" / "data" / lv).iterdir())) for lv in levels}
    if set(per_level.values()) != {2 * replications}:
        raise SystemExit(f"store: expected one file per run and level, found {per_level}")
    third = len(samples) // 3
    crew = "" if executor == "serial" else f", {workers} workers"
    early = statistics.median(samples[third : 2 * third]) if third else peak
    late = statistics.median(samples[2 * third :]) if third else peak
    print(
        f"memory, {2 * replications:,}-run sweep ({n_files} runs stored, one file per run and "
        f"level, {seconds:.0f} s, executor {executor}{crew}): "
        f"peak {peak:.0f} MB PSS for the sweep and its workers (target < 500 MB; RSS summed "
        f"over processes, counting shared pages repeatedly: {peak_rss:.0f} MB); "
        f"median {early:.0f} MB in the middle third, {late:.0f} MB in the last third "
        f"(flat = bounded); {where()}"
    )


def bench_overhead(rounds: int = 12) -> None:
    """The runner's cost beyond the model, two ways.

    Parts: what a run through the runner does besides building and running the model (key the
    tables, write three Parquet files and the status) minus what a direct run does besides it
    (``results()``), over a direct run; each part timed alone many times, alternating, on one
    finished model (median CPU times). Pairs: whole runs through the runner and direct, same
    seeds, alternating (CPU time of this process, so other processes' load does not enter; still
    noisy on a busy machine).
    """
    from sim import DistrictModel, load_scenario
    from sim.experiment.runner import Task, keyed_tables, run_task

    scenario = load_scenario(SCENARIOS / "wuhou_reform.toml")
    levels = ("district", "street", "community")

    def direct(r: int) -> DistrictModel:
        model = DistrictModel(scenario, rng=np.random.SeedSequence(1, spawn_key=(r,)))
        model.run_for(scenario.months)
        model.results()
        return model

    def cpu(fn: Any) -> float:
        start = time.process_time()
        fn()
        return time.process_time() - start

    with store() as tmp:

        def task(r: int) -> Task:
            return Task("bench", "p00000", r, scenario, 1, {}, levels, "monthly", tmp)

        def runner(r: int) -> None:
            run_task(task(r))

        model = direct(0)
        runner(0)  # warm-up
        parts: dict[str, list[float]] = {"direct": [], "tail": [], "results": []}
        ratios = []
        fresh = itertools.count(rounds + 1)  # the tail's runs: new files each time
        for r in range(1, rounds + 1):  # each round: the same seed both ways, alternating order
            times = {}
            for name, fn in (("direct", direct), ("runner", runner))[:: 1 if r % 2 else -1]:
                times[name] = cpu(lambda fn=fn, r=r: fn(r))
            ratios.append(times["runner"] / times["direct"])
            parts["direct"].append(times["direct"])
            for _ in range(5):
                # Each repetition writes a new run's files, as a sweep does: rewriting the same
                # three files would also free the old ones' blocks (about 0.15 ms of CPU a file
                # here), which a sweep never pays (it writes a run once; resuming skips it).
                fresh_task = task(next(fresh))
                parts["tail"].append(
                    cpu(
                        lambda ft=fresh_task: run_task(
                            ft, simulate_fn=lambda t: keyed_tables(model, t)
                        )
                    )
                )
                parts["results"].append(cpu(model.results))
    med = {k: statistics.median(v) for k, v in parts.items()}
    extra = (med["tail"] - med["results"]) / med["direct"]
    print(
        f"per-run overhead of the runner (all levels, monthly): {extra * 100:.1f}% of a direct "
        f"run (parts: tables keyed and written {med['tail'] * 1e3:.1f} ms, results() "
        f"{med['results'] * 1e3:.1f} ms, direct run {med['direct'] * 1e3:.0f} ms, median CPU "
        f"times); whole runs in {rounds} alternating pairs: median "
        f"{(statistics.median(ratios) - 1) * 100:.1f}% (quartiles "
        f"{(np.quantile(ratios, 0.25) - 1) * 100:.1f}% to "
        f"{(np.quantile(ratios, 0.75) - 1) * 100:.1f}%); target < 5%; {where()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmarks of the experiment runner.")
    parser.add_argument("which", nargs="*", default=["overhead", "speedup", "memory"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    parser.add_argument(
        "--replications",
        type=int,
        default=None,
        help="replications per scenario for speedup and memory (runs = 2x; default 100 and "
        "1000): a smaller size when the full one does not fit on a busy machine",
    )
    parser.add_argument(
        "--executor",
        choices=("local", "serial", "dask"),
        default="local",
        help="executor of the memory benchmark (default local; serial keeps every run in the "
        "sweep process)",
    )
    parser.add_argument(
        "--store-parent",
        type=Path,
        default=ROOT / "results",
        help="folder in which the sweeps' temporary stores are made (default: the checkout's "
        "results/, where sanshe sweep writes)",
    )
    args = parser.parse_args()
    global STORE_PARENT
    STORE_PARENT = args.store_parent.resolve()
    small = args.smoke
    reps = args.replications
    for name in args.which:
        {
            "speedup": lambda: bench_speedup(args.workers, reps or (2 if small else 100)),
            "memory": lambda: bench_memory(
                args.workers, reps or (3 if small else 1000), args.executor
            ),
            "overhead": lambda: bench_overhead(2 if small else 12),
        }[name]()


if __name__ == "__main__":
    main()
