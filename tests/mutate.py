"""Mutation testing of the processes, the metrics, the analysis statistics and the calibration
posterior (docs/testing.md).

Runs mutmut (configured in pyproject.toml, ``[tool.mutmut]``) on ``sim/processes/`` and
``sim/metrics.py`` (the default set, ``make mutate``) or, with ``--only 'sim.analysis.*'``, on
the statistics behind every reported interval (``sim/analysis/stats.py``, ``uncertainty.py``,
``structural.py``, ``compare.py``), or with ``--only 'sim.calibration.*'`` on the calibration
posterior and its held-out checks (``sim/calibration/posterior.py``, ``validate.py``;
``sim.experiment.posterior.*`` for the draws of a posterior experiment), against the fast tests
and the tests of those files that run no model; then reports the score over the mutants that were
run, setting aside the equivalent mutants listed in ``tests/equivalent_mutants.toml`` (each with
the mutated line it expects and why no test can tell it from the original). mutmut maps each
function to the tests that call it, so a process mutant runs only process tests and an analysis
mutant only analysis tests.

    python tests/mutate.py                     # every process and metrics mutant (hours)
    python tests/mutate.py --sample 100        # a random sample (seeded) of those, for quick runs
    python tests/mutate.py --only 'sim.processes.items.*' --sample 30
    python tests/mutate.py --only 'sim.analysis.stats.*' --sample 25 --seed 51
    python tests/mutate.py --only 'sim.calibration.posterior.*' --sample 20 --seed 61
    python tests/mutate.py --report            # the last run's results again, no testing
    python tests/mutate.py --which NAME [NAME ...] [--tests FILE ...]  # tests that kill them

mutmut keeps its working copy and results in ``mutants/`` (git-ignored); ``--fresh`` starts over.
Not a test module: pytest collects only ``test_*.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import io
import json
import os
import random
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENTS = ROOT / "tests" / "equivalent_mutants.toml"
MUTANTS = ROOT / "mutants"
LAST_RUN = MUTANTS / "last_run.json"
DETECTED = ("killed", "timeout", "caught by type check", "segfault")
# Without --only: the processes and the metrics, the set `make mutate` has always run (so its
# seeded samples draw the same mutants as before the analysis files were added to mutmut's set).
DEFAULT_SET = ("sim.processes.*", "sim.metrics.*")


def mutmut_command() -> list[str]:
    exe = Path(sys.executable).with_name("mutmut")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "mutmut"]


def generate() -> None:
    """Write mutants/ (copy of the sources with every mutant in it), without running tests."""
    os.chdir(ROOT)
    from mutmut.__main__ import create_mutants
    from mutmut.mutation.trampoline import set_mutant_under_test
    from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir

    set_mutant_under_test("mutant_generation")
    MUTANTS.mkdir(exist_ok=True)
    with contextlib.redirect_stdout(io.StringIO()):  # mutmut prints every file it copies
        copy_src_dir()
        copy_also_copy_files()
        create_mutants(max_children=os.cpu_count() or 1)
    set_mutant_under_test("")


def exit_codes() -> dict[str, int | None]:
    """Every mutant's last exit code (None: not run yet), from mutmut's meta files."""
    out: dict[str, int | None] = {}
    for meta in sorted((MUTANTS / "sim").rglob("*.py.meta")):
        out.update(json.loads(meta.read_text())["exit_code_by_key"])
    return out


def status(code: int | None) -> str:
    from mutmut.stats import status_by_exit_code

    return status_by_exit_code[code]


def diff(name: str) -> str:
    os.chdir(ROOT)
    from mutmut.mutation.diff_apply import find_mutant, get_diff_for_mutant

    return get_diff_for_mutant(name, path=find_mutant(name).path)


def changed_lines(text: str) -> str:
    lines = text.splitlines()
    return "\n".join(x for x in lines if x[:1] in "+-" and x[:3] not in ("+++", "---"))


def equivalents(names: set[str]) -> tuple[dict[str, str], list[str]]:
    """Equivalent mutants among ``names`` (name -> why), and stale entries of the list."""
    entries = (
        tomllib.loads(EQUIVALENTS.read_text()).get("mutant", []) if EQUIVALENTS.exists() else []
    )
    found, stale = {}, []
    for e in entries:
        if e["name"] not in names:
            continue
        if e["change"].strip() not in changed_lines(diff(e["name"])):
            stale.append(f"{e['name']}: the mutant no longer changes `{e['change'].strip()}`")
        else:
            found[e["name"]] = e["why"]
    return found, stale


def report(names: list[str], seconds: float | None = None) -> int:
    codes = exit_codes()
    chosen = [n for n in names if n in codes]
    eq, stale = equivalents(set(chosen))
    counts = Counter(status(codes[n]) for n in chosen if n not in eq)
    judged = sum(counts.values()) - counts["not checked"]
    detected = sum(counts[s] for s in DETECTED)
    print(f"\nmutants run: {len(chosen)} (of {len(codes)} generated)")
    print(f"equivalent, set aside: {len(eq)} (tests/equivalent_mutants.toml)")
    for s, k in sorted(counts.items()):
        print(f"  {s}: {k}")
    if judged:
        print(
            f"mutation score: {detected}/{judged} = {detected / judged:.1%} of non-equivalent "
            f"mutants detected (killed {counts['killed']}, timeout {counts['timeout']})"
        )
    if seconds is not None:
        print(f"time: {seconds / 60:.1f} min")
    for line in stale:
        print(f"stale equivalent entry: {line}")
    survivors = sorted(n for n in chosen if n not in eq and status(codes[n]) == "survived")
    if survivors:
        print(f"\nsurvivors ({len(survivors)}):")
        for n in survivors:
            print(f"--- {n}\n{changed_lines(diff(n))}")
    return 0


def fast_tests() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return config["pytest_add_cli_args_test_selection"]


def which(names: list[str], tests: list[str] | None = None) -> int:
    """Run the fast tests (or ``tests``) against each mutant, not stopping at the first failure,
    and print the tests that fail, i.e. kill it. Needs mutants/ from an earlier run."""
    if not (MUTANTS / "sim").is_dir():
        print("error: no mutants/ yet (run `make mutate SAMPLE=1` first)", file=sys.stderr)
        return 2
    for name in names:
        env = os.environ | {"MUTANT_UNDER_TEST": name, "PYTHONPATH": str(MUTANTS)}
        cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rf", "--tb=no"]
        out = subprocess.run(
            [*cmd, *(tests or fast_tests())], cwd=MUTANTS, env=env, capture_output=True, text=True
        ).stdout
        failed = [line.split()[1] for line in out.splitlines() if line.startswith("FAILED ")]
        print(f"--- {name}\n{changed_lines(diff(name))}")
        print("killed by:" if failed else "survives every fast test")
        for test in failed:
            print(f"  {test}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sample", type=int, help="run a random sample of this many mutants")
    ap.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    ap.add_argument(
        "--only",
        help="mutant name pattern, e.g. 'sim.metrics.*', 'sim.analysis.stats.*' or "
        "'sim.calibration.*' (default: the processes and metrics, 'sim.processes.*' and "
        "'sim.metrics.*')",
    )
    ap.add_argument("--max-children", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--fresh", action="store_true", help="delete mutants/ first")
    ap.add_argument("--report", action="store_true", help="report the last run, run nothing")
    ap.add_argument("--which", nargs="+", metavar="NAME", help="name the tests that kill these")
    ap.add_argument("--tests", nargs="+", help="with --which: run these tests, not all fast tests")
    args = ap.parse_args(argv)
    os.chdir(ROOT)
    if args.which:
        return which(args.which, args.tests)
    if args.report:
        if not LAST_RUN.exists():
            print("error: no mutation run yet (run `make mutate` first)", file=sys.stderr)
            return 2
        return report(json.loads(LAST_RUN.read_text()))

    if args.fresh and MUTANTS.exists():
        shutil.rmtree(MUTANTS)
    generate()
    patterns = [args.only] if args.only else DEFAULT_SET
    names = sorted(n for n in exit_codes() if any(fnmatch.fnmatch(n, p) for p in patterns))
    if args.sample is not None and args.sample < len(names):
        names = sorted(random.Random(args.seed).sample(names, args.sample))
    if not names:
        print(f"error: no mutant matches --only {' or '.join(patterns)!r}", file=sys.stderr)
        return 2
    LAST_RUN.write_text(json.dumps(names))
    print(f"running {len(names)} mutants with mutmut", flush=True)
    start = time.monotonic()
    # Names given explicitly are always rerun; results of a previous run are not reused.
    cmd = [*mutmut_command(), "run", "--max-children", str(args.max_children), *names]
    done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, check=False)
    if done.returncode != 0:
        print(f"error: mutmut failed (exit {done.returncode}); rerun: {' '.join(cmd[:4])} ...")
        return 1
    return report(names, time.monotonic() - start)


if __name__ == "__main__":
    sys.exit(main())
