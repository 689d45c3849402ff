"""Command line: ``sanshe`` (also ``python -m sim``).

User mistakes (bad scenario, bad --set, missing file) print one message and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from sim.errors import UserError

EXIT_USER_ERROR = 2


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
    """Mean outcomes by street over the run's last calendar year, with the district last."""
    street, district = tables["street"], tables["district"]
    year = int(district["year"].max())
    cols = ["admin_burden", "service_coverage", "service_quality", "satisfaction"]
    by_street = street[street["year"] == year].groupby("street", sort=False)[cols].mean()
    by_street.loc["(district)"] = district[district["year"] == year][cols].mean()
    by_street.index.name = f"{year} mean"
    return by_street.round(3).to_string()


def _validate(args: argparse.Namespace) -> int:
    from sim.scenario import load_scenario

    for path in args.files:
        sc = load_scenario(path)
        print(f"ok  {path}  ({sc.name}, {sc.start_month} + {sc.months} months, hash {sc.hash})")
    return 0


def _docs(args: argparse.Namespace) -> int:
    from sim.docs_gen import write_parameter_docs

    stale = write_parameter_docs(Path(args.out), check=args.check)
    if args.check and stale:
        print(f"{args.out} is stale: run `make docs`", file=sys.stderr)
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

    val = sub.add_parser("validate", help="check scenario files without running them")
    val.add_argument("files", nargs="+")
    val.set_defaults(func=_validate)

    docs = sub.add_parser("docs", help="regenerate docs/parameters.md from the code")
    docs.add_argument("--out", default="docs/parameters.md")
    docs.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    docs.set_defaults(func=_docs)
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
