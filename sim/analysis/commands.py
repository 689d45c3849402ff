"""Subcommands ``compare``, ``plot``, ``sensitivity`` and ``report`` (registered in sim.cli).

Registration stays light: the analysis modules are imported when a command runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sim.outputs import DEFAULT_WINDOW

AT_HELP = (
    "time window: final (last month of each run), final-year (mean over the last calendar year), "
    "YYYY (a year's mean) or YYYY-MM (one month)"
)
KIND_CHOICES = ("timeseries", "streets", "communities", "response", "sensitivity", "tradeoff")


def _outcomes(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def _say(quiet: bool) -> Callable[[str], None]:
    """A progress printer with elapsed seconds (silent if quiet)."""
    start = time.time()

    def say(message: str) -> None:
        if not quiet:
            print(f"[{time.time() - start:5.1f}s] {message}", flush=True)

    return say


def _compare(args: argparse.Namespace) -> int:
    from sim.analysis.compare import (
        compare,
        extremes_sentences,
        markdown,
        street_extremes,
        write_comparison,
    )

    cmp = compare(args.results, args.reference, args.level, args.at, _outcomes(args.outcomes))
    paths = write_comparison(cmp)
    if not args.quiet:
        if cmp.level == "district":
            print(markdown(cmp))
        else:
            print(f"# {cmp.results.name}: {cmp.level} level, {cmp.window.label}, "
                  f"reference {cmp.reference}")  # fmt: skip
            if cmp.level == "street":
                print("\nWhich streets gain or lose most:\n")
                ext = street_extremes(cmp.long, cmp.outcomes)
                print("\n".join(extremes_sentences(ext, title=cmp.results.title)))
            print(f"\n{len(cmp.wide)} rows; the full table is in the files below.")
        print("\nwrote " + ", ".join(str(p) for p in paths.values()))
    return 0


def _plot(args: argparse.Namespace) -> int:
    from sim.analysis.plots import make_figures
    from sim.analysis.results import ResultSet

    say = _say(args.quiet)
    rs = ResultSet(args.results)
    sensitivity = None
    if args.sensitivity:
        from sim.analysis.sensitivity import sensitivity_table

        table = sensitivity_table(args.sensitivity, at=args.at)
        sensitivity = (table, str(table.attrs["method"]))
    plots = make_figures(rs, args.kind, args.at, args.reference, sensitivity, progress=say)
    say(f"{len(plots)} figures in {rs.path / 'figures'}")
    return 0


def _sensitivity(args: argparse.Namespace) -> int:
    from sim.analysis.results import ResultSet
    from sim.analysis.sensitivity import (
        markdown,
        sensitivity_stem,
        sensitivity_table,
        write_sensitivity,
    )

    rs = ResultSet(args.results)
    outcomes = _outcomes(args.outcomes)
    table = sensitivity_table(rs, at=args.at, outcomes=outcomes, quantity=args.of)
    paths = write_sensitivity(rs, table, outcomes)
    for warning in table.attrs.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    if not args.quiet:
        print(markdown(rs, table))
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    if outcomes:
        default = sensitivity_stem(
            table.attrs["method"], table.attrs["at"], table.attrs["quantity"]
        )
        print(
            f"(only the outcomes asked for; the table of every outcome, tables/{default}.csv, "
            "is left as it was)"
        )
    return 0


def _sensitivity_ranges(args: argparse.Namespace) -> int:
    from sim.experiment.ranges import ranges_from_posterior, write_ranges

    lower, upper = args.quantiles
    results = [ranges_from_posterior(e, args.posterior, lower, upper) for e in args.experiments]
    stale = []
    for result in results:  # every file is checked before any is written
        if not args.quiet:
            print(f"# {result.path}: ranges from {args.posterior}")
            print(f"| factor | posterior {lower:g} | median | posterior {upper:g} | default "
                  "| old range | new range |")  # fmt: skip
            print("|---|---|---|---|---|---|---|")
            for r in result.ranges:
                cells = (f"{r.q_low:.4g}", f"{r.median:.4g}", f"{r.q_high:.4g}", f"{r.default:g}",
                         f"{r.old_low:g}-{r.old_high:g}", f"{r.low:g}-{r.high:g}")  # fmt: skip
                print(f"| {r.key} | " + " | ".join(cells) + " |")
            if result.kept:
                print(f"kept as they are (not posterior parameters): {', '.join(result.kept)}")
            if result.unscreened:
                print(f"posterior parameters the design does not screen: "
                      f"{', '.join(result.unscreened)}")  # fmt: skip
            print()
        if result.changed:
            stale.append(str(result.path))
    if args.check:
        if stale:
            print(f"{', '.join(stale)}: ranges differ from the posterior's", file=sys.stderr)
            return 1
        print("ranges match the posterior")
        return 0
    for result in results:
        if result.changed:
            write_ranges(result)
    print(f"wrote {', '.join(stale)}" if stale else "nothing to change")
    return 0


def _number_arg(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def _structural(args: argparse.Namespace) -> int:
    from sim.analysis.structural import markdown, structural, write_structural

    result = structural(args.results, at=args.at, outcomes=_outcomes(args.outcomes))
    paths = write_structural(result)
    if not args.quiet:
        print(markdown(result))
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0


def _report(args: argparse.Namespace) -> int:
    from sim.analysis.report import build_report

    say = _say(args.quiet)
    say(f"report on {args.results}")
    out = build_report(
        args.results,
        args.sensitivity,
        args.reference,
        args.at,
        progress=say,
        kinds=args.kind,
        calibration_dir=args.calibration,
        targets=args.targets,
        horizon=args.horizon,
        uncertainty=args.uncertainty,
        structural=args.structural,
    )
    if args.quiet:
        print(out)
    else:
        say(f"done: open {Path(out).resolve()} in a browser (works offline)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the analysis subcommands to the ``sanshe`` parser."""
    c = subparsers.add_parser(
        "compare",
        help="table of outcomes per scenario: means and paired differences with 95%% CIs",
        description="Print and save (RESULTS_DIR/tables/compare_<level>_<at>.csv and .md) one "
        "row per scenario with each outcome's mean, 95%% CI, paired difference from the "
        "reference (common random numbers) with its CI, and Cohen's d_z.",
    )
    c.add_argument("results", metavar="RESULTS_DIR", help="directory written by `sanshe sweep`")
    c.add_argument("--reference", metavar="SCENARIO",
                   help="scenario (or point id) to compare against; default the experiment's "
                        "[roles] reference, else the first")  # fmt: skip
    c.add_argument("--level", default="district", help="district, street or community")
    c.add_argument("--at", default=DEFAULT_WINDOW, help=AT_HELP + f" (default {DEFAULT_WINDOW})")
    c.add_argument("--outcomes", metavar="A,B,...",
                   help="outcomes (default: admin_burden, service_coverage, service_quality, "
                        "satisfaction, n_orgs, n_social_workers, spend, "
                        "cost_per_service_hour)")  # fmt: skip
    c.add_argument("--quiet", action="store_true", help="only write the files")
    c.set_defaults(func=_compare)

    p = subparsers.add_parser(
        "plot",
        help="figures (PNG and SVG) in RESULTS_DIR/figures",
        description="Draw the figures that apply to the experiment, or the kinds given.",
    )
    p.add_argument("results", metavar="RESULTS_DIR")
    p.add_argument("--kind", action="append", choices=KIND_CHOICES,
                   help="figure kind (repeatable; default: every kind that applies)")  # fmt: skip
    p.add_argument("--at", default=DEFAULT_WINDOW, help=AT_HELP + f" (default {DEFAULT_WINDOW})")
    p.add_argument("--reference", metavar="SCENARIO", help="reference scenario")
    p.add_argument("--sensitivity", metavar="DIR",
                   help="results of a morris or sobol experiment, for the sensitivity "
                        "figure")  # fmt: skip
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_plot)

    s = subparsers.add_parser(
        "sensitivity",
        help="Morris or Sobol indices (SALib) per outcome, saved as a table",
        description="Sensitivity indices of a morris or sobol design, written to "
        "RESULTS_DIR/tables/sensitivity_<method>_<at>[_effect|_both][_<outcomes>].csv and .md "
        "(a table for some --outcomes has its own file; the default table is never "
        "overwritten by it). A paired design ([design] counterfactual) gives the indices of the "
        "effect, base minus counterfactual on the same seeds. Warns when the sample is too "
        "small for stable indices.",
    )
    s.add_argument("results", metavar="RESULTS_DIR")
    s.add_argument("--at", default=DEFAULT_WINDOW, help=AT_HELP + f" (default {DEFAULT_WINDOW})")
    s.add_argument("--outcomes", metavar="A,B,...", help="outcomes (default: the key outcomes, "
                   "organizations, social workers, spend)")  # fmt: skip
    s.add_argument("--of", choices=("level", "effect", "both"),
                   help="indices of the outcomes' levels, of the effect (paired designs: base "
                        "minus counterfactual) or both; default: effect for a paired design, "
                        "else level")  # fmt: skip
    s.add_argument("--quiet", action="store_true", help="print only warnings and the files")
    s.set_defaults(func=_sensitivity)

    sr = subparsers.add_parser(
        "sensitivity-ranges",
        help="set a Morris or Sobol experiment's ranges from a posterior sample",
        description="For each factor of the experiments' designs that is a parameter of the "
        "posterior sample (posterior.parquet from `sanshe calibrate --method abc`), set its min "
        "and max to the weighted quantiles of the sample (default 5%% and 95%%), widened to hold "
        "the base scenario's value and rounded outward to 3 significant digits; other factors "
        "keep their ranges. Rewrites the files in place (comments kept) and prints each range.",
    )
    sr.add_argument("posterior", metavar="POSTERIOR", help="posterior sample (Parquet)")
    sr.add_argument("experiments", metavar="EXPERIMENT", nargs="+",
                    help="morris or sobol experiment files to rewrite")  # fmt: skip
    sr.add_argument("--quantiles", nargs=2, type=_number_arg, default=(0.05, 0.95),
                    metavar=("LOW", "HIGH"),
                    help="weighted quantiles of the range (default 0.05 0.95)")  # fmt: skip
    sr.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 if a file's ranges differ from the "
                         "posterior's")  # fmt: skip
    sr.add_argument("--quiet", action="store_true", help="print only what was written")
    sr.set_defaults(func=_sensitivity_ranges)

    st = subparsers.add_parser(
        "structural",
        help="which conclusions survive every structural variant (experiments/structural.toml)",
        description="For an experiment with [variants]: the reform's effect on each key outcome "
        "(sign of its 95%% CI) and the top levers (from the ablations) under each variant, and "
        "which of these conclusions survive every variant; written to "
        "RESULTS_DIR/tables/structural_<at>.csv, _estimates.csv and .md.",
    )
    st.add_argument("results", metavar="RESULTS_DIR")
    st.add_argument("--at", default=DEFAULT_WINDOW, help=AT_HELP + f" (default {DEFAULT_WINDOW})")
    st.add_argument("--outcomes", metavar="A,B,...",
                    help="outcomes (default: the key outcomes)")  # fmt: skip
    st.add_argument("--quiet", action="store_true", help="print only the files written")
    st.set_defaults(func=_structural)

    r = subparsers.add_parser(
        "report",
        help="one self-contained HTML report (RESULTS_DIR/report.html) with tables and figures",
        description="Write RESULTS_DIR/report.html (opens offline), with the tables and figures "
        "it shows in RESULTS_DIR/tables and RESULTS_DIR/figures.",
    )
    r.add_argument("results", metavar="RESULTS_DIR")
    r.add_argument("--sensitivity", metavar="DIR",
                   help="results of a morris or sobol experiment (e.g. results/sensitivity): "
                        "names the assumptions that matter most")  # fmt: skip
    r.add_argument("--calibration", metavar="DIR",
                   help="a calibration's results (a directory under results/calibration): its "
                        "unmet targets and influential parameters join the caveats")  # fmt: skip
    r.add_argument("--targets", metavar="FILE",
                   help="a targets file (scenarios/targets/*.toml): the focus and reference are "
                        "checked against its observed values")  # fmt: skip
    r.add_argument("--horizon", metavar="DIR",
                   help="results of a longer run of the focus (e.g. results/horizon from "
                        "experiments/horizon.toml): has each outcome levelled off by its "
                        "end?")  # fmt: skip
    r.add_argument("--uncertainty", metavar="DIR",
                   help="results of a posterior experiment (e.g. results/headline_posterior from "
                        "experiments/headline_posterior.toml): the verdict gives each effect's "
                        "parameter-uncertainty interval beside the seed-only one")  # fmt: skip
    r.add_argument("--structural", metavar="DIR",
                   help="results of a structural-variants experiment (e.g. results/structural "
                        "from experiments/structural.toml): which conclusions survive every "
                        "variant")  # fmt: skip
    r.add_argument("--reference", metavar="SCENARIO", help="reference scenario")
    r.add_argument("--at", default=DEFAULT_WINDOW, help=AT_HELP + f" (default {DEFAULT_WINDOW})")
    r.add_argument("--kind", action="append", choices=KIND_CHOICES,
                   help="figure kinds to include (repeatable; default: every kind that "
                        "applies)")  # fmt: skip
    r.add_argument("--quiet", action="store_true", help="print only the report's path")
    r.set_defaults(func=_report)
