"""Command line: ``sanshe`` (also ``python -m sim``).

User mistakes (bad scenario, bad --set, bad argument, missing file) print one line and exit with
status 2, before any work: ``run`` validates its scenario, district and arguments before it imports
the model. A closed output pipe (``sanshe run ... | head``) ends quietly.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from sim.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

EXIT_USER_ERROR = 2
SET_HELP = (
    "override a scenario key, e.g. policy.purchase_budget=0 (repeatable); a path given here is "
    "relative to the current directory"
)

# Feature modules that add subcommands: each has ``register(subparsers)``, which adds its parsers
# and sets ``func`` on them. Registration must stay light (import heavy modules inside ``func``).
EXTENSIONS: tuple[str, ...] = (
    "sim.calibration.commands",
    "sim.dashboard.commands",
    "sim.analysis.commands",
)


def _run(args: argparse.Namespace) -> int:
    from sim.scenario import load_scenario

    # Everything a user can get wrong is checked here, before the model is imported.
    check_seed(args.seed)
    scenario = load_scenario(args.scenario, args.set or ())
    out = (
        Path(args.out)
        if args.out
        else Path("results") / "runs" / f"{scenario.name}-seed{args.seed}"
    )
    check_output_dir(out, "--out" if args.out else "output directory")
    summary = scenario.scaling.summary() if scenario.scaling else []
    for line in summary:
        if line.startswith("warning: "):
            print(line, file=sys.stderr)
        elif not args.quiet:
            print(line)

    from sim.io import save_run
    from sim.model import DistrictModel

    model = DistrictModel(scenario, rng=args.seed)
    model.run_for(scenario.months)
    tables = save_run(model, out)
    if not args.quiet:
        print(final_year_table(tables))
        print(f"\nwrote {out}/ (district, street, community, budget .parquet; manifest.json)")
    return 0


def check_output_dir(out: Path, what: str = "--out") -> None:
    """Refuse an output directory that cannot be used, before any work is done."""
    if out.exists() and not out.is_dir():
        raise UserError(f"{what} {out}: is an existing file, not a directory")
    probe = out
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise UserError(f"{what} {out}: {probe} is a file, so no directory can be made there")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UserError(f"{what} {out}: {probe} is not writable")


def check_seed(seed: int) -> None:
    if seed < 0:
        raise UserError(f"--seed {seed}: a seed must be a whole number of at least 0")


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
    from sim.textable import frame_table  # wcwidth: only when a table is printed

    return frame_table(shown)


def _validate(args: argparse.Namespace) -> int:
    """Check files as ``run`` and ``sweep`` would before their first month, importing no model or
    table libraries: extends and borrow, the district CSV, levers against the district, --set."""
    from sim.scenario import load_scenario, read_toml

    for path in args.files:
        raw = read_toml(Path(path))
        if "replications" in raw or "design" in raw or isinstance(raw.get("scenarios"), list):
            if args.set:
                raise UserError(
                    f"{path}: --set applies to scenario files; an experiment file sets its "
                    "values in [design] or in the scenarios it lists"
                )
            from sim.experiment.design import design_points  # numpy, for sampling designs
            from sim.experiment.spec import load_experiment

            exp = load_experiment(path)
            n = len(design_points(exp))
            draws = f"{exp.draws} posterior draws x " if exp.posterior is not None else ""
            print(
                f"ok  {path}  (experiment {exp.name}: {n} points x {draws}"
                f"{exp.replications} replications)"
            )
        else:
            sc = load_scenario(path, args.set or ())
            d = sc.scaling.district if sc.scaling else {}
            where = f"; {d['name']}, {d['residents']:,} residents" if d else ""
            if sc.scaling and sc.scaling.mode == "residents":
                where += f", scaled x{sc.scaling.factors['residents']:.3f}"
            print(
                f"ok  {path}  ({sc.name}, {sc.start_month} + {sc.months} months, "
                f"hash {sc.hash}{where})"
            )
            for warning in sc.scaling.warnings if sc.scaling else ():
                print(f"warning: {path}: {warning}", file=sys.stderr)
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from sim.experiment.executors import make_executor
    from sim.experiment.runner import run_experiment
    from sim.experiment.spec import load_experiment

    design: dict[str, object] = {}
    if args.posterior is not None:
        design["posterior"] = str(Path(args.posterior).resolve())
    if args.draws is not None:
        design["draws"] = args.draws
    exp = load_experiment(args.experiment, design)
    out = Path(args.out) if args.out else Path("results") / exp.name
    if args.scheduler and args.executor != "dask":
        raise UserError("--scheduler needs --executor dask")
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers {args.workers}: must be at least 1")
    executor = make_executor(args.executor, args.workers, args.scheduler)
    report = run_experiment(exp, out, executor, fresh=args.fresh, progress=not args.quiet)
    # The one-line summary is printed even with --quiet (it is the result of the command).
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


def one_line(text: str) -> str:
    """Control characters (newlines, form feeds) from user input escaped: a message is one line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2), like every other user mistake."""

    def error(self, message: str) -> NoReturn:
        text = one_line(f"error: {self.prog}: {message} (see {self.prog} --help)")
        self.exit(EXIT_USER_ERROR, text + "\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
        help=SET_HELP,
    )
    run.add_argument("--quiet", action="store_true", help="print nothing on success")
    run.set_defaults(func=_run)

    val = sub.add_parser("validate", help="check scenario or experiment files without running them")
    val.add_argument("files", nargs="+")
    val.add_argument("--set", action="append", metavar="KEY=VALUE", help=SET_HELP)
    val.set_defaults(func=_validate)

    sweep = sub.add_parser("sweep", help="run an experiment (resumes where it stopped)")
    sweep.add_argument("experiment", help="experiment TOML file")
    sweep.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    sweep.add_argument("--executor", choices=("local", "dask", "serial"), default="local")
    sweep.add_argument("--scheduler", help="dask scheduler address, e.g. tcp://10.0.0.5:8786")
    sweep.add_argument("--out", help="results directory (default results/<experiment name>)")
    sweep.add_argument(
        "--posterior",
        metavar="FILE",
        help="posterior designs: use this posterior sample instead of the file's design.posterior",
    )
    sweep.add_argument(
        "--draws", type=int, metavar="N", help="posterior designs: draws instead of design.draws"
    )
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
    # pydantic scans every installed package's entry points for plugins when it builds the first
    # model (sim.params); the CLI uses none, and skipping the scan keeps a rejected run fast.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a one-line usage error (exit 2)
        return exc.code if isinstance(exc.code, int) else EXIT_USER_ERROR
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        code = func(args)
        sys.stdout.flush()
        return code
    except UserError as exc:
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:
        # The reader (``| head``) closed the pipe: the work is done, stop printing quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
