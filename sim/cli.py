"""Command line: ``sanshe`` (also ``python -m sim``).

User mistakes (bad scenario, bad --set, missing file) print one message and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

EXIT_USER_ERROR = 2

# Feature modules that add subcommands: each has ``register(subparsers)``, which adds its parsers
# and sets ``func`` on them. Registration must stay light (import heavy modules inside ``func``).
EXTENSIONS: tuple[str, ...] = (
    "sim.calibration.commands",
    "sim.dashboard.commands",
    "sim.analysis.commands",
)


def _run(args: argparse.Namespace) -> int:
    from sim.io import save_run
    from sim.model import DistrictModel
    from sim.scenario import load_scenario

    scenario = load_scenario(args.scenario, args.set or ())
    out = (
        Path(args.out)
        if args.out
        else Path("results") / "runs" / f"{scenario.name}-seed{args.seed}"
    )
    model = DistrictModel(scenario, rng=args.seed)
    model.run_for(scenario.months)
    tables = save_run(model, out)
    if not args.quiet:
        print(final_year_table(tables))
        print(f"\nwrote {out}/ (district, street, community, budget .parquet; manifest.json)")
    return 0


def final_year_table(tables: dict[str, pd.DataFrame]) -> str:
    """The key outcomes by street, with the district last, over the default window (the run's last
    calendar year), in display units (sim/outputs.py)."""
    from sim.outputs import OUTPUTS, key_outcomes

    street, district = tables["street"], tables["district"]
    year = int(district["year"].max())
    cols = key_outcomes()
    by_street = street[street["year"] == year].groupby("street", sort=False)[cols].mean()
    by_street.loc["(district)"] = district[district["year"] == year][cols].mean()
    shown = by_street.apply(lambda col: col.map(OUTPUTS[col.name].format))
    shown.columns = [OUTPUTS[c].axis_label for c in cols]
    shown.index.name = f"{year} mean"
    return shown.to_string()


def _validate(args: argparse.Namespace) -> int:
    from sim.experiment.design import design_points
    from sim.experiment.spec import load_experiment
    from sim.scenario import load_scenario, read_toml

    for path in args.files:
        raw = read_toml(Path(path))
        if "replications" in raw or "design" in raw or isinstance(raw.get("scenarios"), list):
            exp = load_experiment(path)
            n = len(design_points(exp))
            print(
                f"ok  {path}  (experiment {exp.name}: {n} points x {exp.replications} replications)"
            )
        else:
            sc = load_scenario(path)
            print(f"ok  {path}  ({sc.name}, {sc.start_month} + {sc.months} months, hash {sc.hash})")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from sim.experiment.executors import make_executor
    from sim.experiment.runner import run_experiment
    from sim.experiment.spec import load_experiment

    exp = load_experiment(args.experiment)
    out = Path(args.out) if args.out else Path("results") / exp.name
    if args.scheduler and args.executor != "dask":
        raise UserError("--scheduler needs --executor dask")
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers {args.workers}: must be at least 1")
    executor = make_executor(args.executor, args.workers, args.scheduler)
    report = run_experiment(exp, out, executor, fresh=args.fresh, progress=not args.quiet)
    if not args.quiet or not report.ok:
        print(
            f"{exp.name}: {report.total} runs, {report.skipped} already done, "
            f"{report.done} run now, {len(report.failed)} failed -> {out}/",
            file=sys.stderr if not report.ok else sys.stdout,
        )
    for failure in report.failed[:10]:
        print(f"  failed {failure['run']}: {failure.get('error')}", file=sys.stderr)
    return 0 if report.ok else 1


def _docs(args: argparse.Namespace) -> int:
    from sim.docs_gen import write_output_docs, write_parameter_docs

    folder = Path(args.dir)
    stale = [
        str(path)
        for path, write in (
            (folder / "parameters.md", write_parameter_docs),
            (folder / "outputs.md", write_output_docs),
        )
        if write(path, check=args.check)
    ]
    if args.check and stale:
        print(f"{', '.join(stale)} stale: run `make docs`", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sanshe", description="三社联动: simulate community governance reform settings."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one scenario with one seed")
    run.add_argument("scenario", help="scenario TOML file")
    run.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    run.add_argument("--out", help="output directory (default results/runs/NAME-seedN)")
    run.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a scenario key, e.g. policy.purchase_budget=0 (repeatable)",
    )
    run.add_argument("--quiet", action="store_true", help="print nothing on success")
    run.set_defaults(func=_run)

    val = sub.add_parser("validate", help="check scenario or experiment files without running them")
    val.add_argument("files", nargs="+")
    val.set_defaults(func=_validate)

    sweep = sub.add_parser("sweep", help="run an experiment (resumes where it stopped)")
    sweep.add_argument("experiment", help="experiment TOML file")
    sweep.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    sweep.add_argument("--executor", choices=("local", "dask", "serial"), default="local")
    sweep.add_argument("--scheduler", help="dask scheduler address, e.g. tcp://10.0.0.5:8786")
    sweep.add_argument("--out", help="results directory (default results/<experiment name>)")
    sweep.add_argument(
        "--fresh", action="store_true", help="discard earlier results and start over"
    )
    sweep.add_argument("--quiet", action="store_true", help="no progress bar (for CI and logs)")
    sweep.set_defaults(func=_sweep)

    docs = sub.add_parser(
        "docs", help="regenerate docs/parameters.md and docs/outputs.md from the code"
    )
    docs.add_argument("--dir", default="docs", help="folder of the two pages (default docs)")
    docs.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    docs.set_defaults(func=_docs)

    for module in EXTENSIONS:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
