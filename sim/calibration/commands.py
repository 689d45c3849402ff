"""CLI: ``sanshe calibrate``, ``sanshe validate-fit`` and ``sanshe screen``."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from sim.errors import UserError


def _executor(args: argparse.Namespace) -> Any:
    from sim.experiment.executors import make_executor

    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers {args.workers}: must be at least 1")
    scheduler = getattr(args, "scheduler", None)
    if scheduler and args.executor != "dask":
        raise UserError("--scheduler needs --executor dask")
    return make_executor(args.executor, args.workers, scheduler)


def _out(args: argparse.Namespace, targets: Any) -> Path:
    return Path(args.out) if args.out else Path("results") / "calibration" / targets.name


def update_doc_section(path: Path, section: str, body: str) -> None:
    """Replace the text between ``<!-- BEGIN section -->`` and ``<!-- END section -->``."""
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"(<!-- BEGIN {section} -->\n).*?(<!-- END {section} -->)", re.S)
    if not pattern.search(text):
        raise UserError(
            f"{path}: no '<!-- BEGIN {section} -->' ... '<!-- END {section} -->' markers"
        )
    path.write_text(
        pattern.sub(lambda m: m.group(1) + body.rstrip() + "\n" + m.group(2), text),
        encoding="utf-8",
    )


def _command(name: str) -> str:
    return (
        f"sanshe {name} " + " ".join(sys.argv[2:]) if sys.argv[1:2] == [name] else f"sanshe {name}"
    )


def _calibrate(args: argparse.Namespace) -> int:
    from sim.calibration.fit import calibrate, write_fitted_scenario
    from sim.calibration.targets import load_targets

    targets = load_targets(args.targets)
    if args.method == "abc":
        return _calibrate_abc(args, targets)
    out = _out(args, targets)
    if not args.quiet:
        print(
            f"calibrating {len(targets.parameters)} parameters of "
            f"{args.scenario or targets.reform} to {len(targets.targets)} targets -> {out}/",
            flush=True,
        )
    summary = calibrate(
        targets,
        out,
        _executor(args),
        args.scenario,
        args.generations,
        args.population,
        args.replications,
        progress=not args.quiet,
    )
    stem = Path(summary["reform"]).stem
    path = Path(args.write) if args.write else Path("scenarios") / "calibrated" / f"{stem}.toml"
    written = write_fitted_scenario(summary, path, _command("calibrate"))
    print(
        f"best distance {summary['best_distance']:.3f}; {summary['targets_met']} of "
        f"{len(targets.fit)} fit targets met; wrote {written}"
    )
    for key, value in summary["best_params"].items():
        print(f"  {key} = {value:.6g}")
    return 0


def _calibrate_abc(args: argparse.Namespace, targets: Any) -> int:
    import hashlib
    import json

    import pandas as pd

    from sim.calibration.abc import read_posterior, run_abc, write_posterior_scenario
    from sim.calibration.posterior import (
        correlations,
        effective_sample_size,
        identifiability,
        identifiability_markdown,
        pairs_figure,
        predictive_markdown,
        predictive_runs,
        predictive_table,
        summary_markdown,
    )
    from sim.io import write_json, write_parquet, write_text

    out = _out(args, targets)
    executor = _executor(args)
    for flag in ("generations", "population", "replications", "draws"):
        value = getattr(args, flag)
        if value is not None and value < (4 if flag == "population" else 1):
            raise UserError(
                f"--{flag} {value}: must be at least {4 if flag == 'population' else 1}"
            )
    if not args.quiet:
        print(
            f"ABC-SMC of {len(targets.parameters)} parameters of {args.scenario or targets.reform} "
            f"against {len(targets.fit)} fit targets ({len(targets.with_role('held_out'))} held "
            f"out, {len(targets.with_role('check'))} checks) -> {out}/",
            flush=True,
        )
    run_abc(
        targets,
        out,
        executor,
        args.population,
        args.generations,
        args.replications,
        args.scenario,
        fresh=args.fresh,
        progress=not args.quiet,
    )
    posterior, info = read_posterior(out / "posterior.parquet")
    draws = args.draws if args.draws is not None else targets.abc.predictive_draws
    workers = getattr(executor, "workers", None) or 1
    if not args.quiet:
        print(f"posterior-predictive check: {draws} draws on fresh seeds", flush=True)
    key = {
        "posterior_sha256": hashlib.sha256(
            pd.util.hash_pandas_object(posterior, index=False).to_numpy().tobytes()
        ).hexdigest(),
        "draws": draws,
        "replications": targets.abc.predictive_replications,
        "scenario": args.scenario,
    }
    stored = out / "predictive.json"
    if stored.is_file() and json.loads(stored.read_text()) == key:
        runs = pd.read_parquet(out / "predictive.parquet")  # the same posterior: runs kept
    else:
        runs = predictive_runs(
            targets,
            posterior,
            draws,
            targets.abc.predictive_replications,
            workers=workers if args.executor != "serial" else 1,
            reform_path=args.scenario,
        )
        write_parquet(runs, out / "predictive.parquet")
        write_json(key, stored)
    table = predictive_table(targets, runs)
    table.to_csv(out / "abc_fit.csv", index=False)
    fit_md = predictive_markdown(table)
    ident = identifiability(targets, posterior)
    corr = correlations(targets, posterior)
    ident.to_csv(out / "identifiability.csv", index=False)
    corr.to_csv(out / "correlations.csv", index=False)
    ident_md = identifiability_markdown(ident, corr, effective_sample_size(posterior))
    head = summary_markdown(info)
    write_text(f"{head}\n\n{fit_md}\n\n{ident_md}\n", out / "abc_fit.md")
    fig = pairs_figure(targets, posterior)
    for ext in ("png", "svg"):
        fig.savefig(out / f"pairs.{ext}", dpi=130, bbox_inches="tight")
    stem = Path(info["reform"]).stem
    path = Path(args.write) if args.write else Path("scenarios") / "calibrated" / f"{stem}.toml"
    written = write_posterior_scenario(targets, posterior, info, path, _command("calibrate"))
    print(head + "\n\n" + fit_md + "\n\n" + ident_md)
    met = table.groupby("role")["met"].apply(lambda m: f"{(m == 'yes').sum()} of {len(m)}")
    print(
        "\nmet (posterior-predictive median within tolerance): "
        + ", ".join(f"{role} {met[role]}" for role in ("fit", "held_out", "check") if role in met)
        + f"; wrote {out}/posterior.parquet, abc_fit.md, pairs.png and {written}"
    )
    if args.docs:
        n = targets.abc.predictive_replications
        update_doc_section(
            Path(args.docs),
            "abc-fit",
            f"{head}\n\nPosterior-predictive check: {draws} draws from the posterior, "
            f"{n} replications each on fresh seeds.\n\n{fit_md}\n",
        )
        update_doc_section(Path(args.docs), "identifiability", ident_md + "\n")
    return 0


def _validate_fit(args: argparse.Namespace) -> int:
    from sim.calibration.targets import load_targets
    from sim.calibration.validate import fit_figure, fit_markdown, fit_table, validation_runs
    from sim.io import write_text

    targets = load_targets(args.targets)
    out = _out(args, targets)
    reps = args.replications or targets.validation_replications
    if reps < 2:
        raise UserError(f"--replications {reps}: at least 2 are needed for a confidence interval")
    if not Path(args.scenario).is_file():
        raise UserError(f"--scenario {args.scenario}: file not found")
    runs = validation_runs(
        targets, args.scenario, out / "validation", reps, _executor(args), not args.quiet
    )
    table = fit_table(targets, *runs)
    table.to_csv(out / "validation.csv", index=False)
    markdown = fit_markdown(table)
    write_text(markdown + "\n", out / "validation.md")
    fig = fit_figure(targets, table, *runs)
    for ext in ("png", "svg"):
        fig.savefig(out / f"validation.{ext}", dpi=150, bbox_inches="tight")
    print(markdown)
    met = (table["within_tolerance"] == "yes").sum()
    print(
        f"\n{met} of {len(table)} targets within tolerance over {reps} replications; "
        f"wrote {out}/validation.csv, .md, .png"
    )
    unmeasured = table.loc[table["within_tolerance"] == "not measured", "target"].tolist()
    if unmeasured:
        print(
            f"not measured (no run gives a value, e.g. a month or year outside the runs): "
            f"{', '.join(unmeasured)}"
        )
    if args.docs:
        update_doc_section(
            Path(args.docs),
            "fit-table",
            f"Scenario: `{args.scenario}`; {reps} replications on "
            f"fresh seeds (root {targets.root_seed} + 1,000,000).\n\n{markdown}\n",
        )
    return 0


def _screen(args: argparse.Namespace) -> int:
    from sim.calibration.screening import screen, screening_markdown
    from sim.calibration.targets import load_targets
    from sim.io import write_parquet, write_text

    targets = load_targets(args.targets)
    out = _out(args, targets) / "screening"
    table = screen(
        targets, out, _executor(args), args.trajectories, args.replications, args.scenario
    )
    write_parquet(table, out / "morris.parquet")
    table.to_csv(out / "morris.csv", index=False)
    markdown = screening_markdown(table)
    write_text(markdown + "\n", out / "morris.md")
    print(markdown)
    if args.docs:
        n = args.trajectories or targets.screening_trajectories
        update_doc_section(
            Path(args.docs),
            "screening",
            f"Morris screening, {n} trajectories x "
            f"{len(targets.parameters) + 1} points, each run as reform and counterfactual "
            f"with {args.replications or targets.replications} replications.\n\n{markdown}\n",
        )
    return 0


def _posterior_point(args: argparse.Namespace) -> int:
    from sim.calibration.abc import read_posterior
    from sim.calibration.point import (
        CANDIDATES,
        DEFAULTS,
        LABELS,
        calibrated_source,
        candidate_points,
        choose,
        compare_points,
        comparison_markdown,
        current_sources,
        fit_facts,
        rewrite_defaults,
        values_markdown,
    )
    from sim.calibration.targets import load_targets
    from sim.io import write_text
    from sim.params import Params

    targets = load_targets(args.targets)
    if not Path(args.posterior).is_file():
        raise UserError(f"--posterior {args.posterior}: file not found")
    if args.replications is not None and args.replications < 2 and args.point == "auto":
        raise UserError(
            f"--replications {args.replications}: choosing needs at least 2 (or name a --point)"
        )
    posterior, _info = read_posterior(args.posterior)
    missing = [p.key for p in targets.parameters if p.key not in posterior.columns]
    if missing:
        raise UserError(
            f"--posterior {args.posterior}: no column {missing[0]} (a free parameter of "
            f"{args.targets}); the posterior and the targets file must belong together"
        )
    points = candidate_points(targets, posterior)
    defaults = {p.key: getattr(Params(), p.name) for p in targets.parameters}
    values = values_markdown(targets, points, defaults)
    out = _out(args, targets) / "points"
    reps = args.replications if args.replications is not None else 8
    if reps >= 2:
        compared = {DEFAULTS: None, **points}
        table = compare_points(targets, compared, out, reps, _executor(args), not args.quiet)
        chosen = choose(table) if args.point == "auto" else args.point
        table.to_csv(out / "points.csv", index=False)
        markdown = comparison_markdown(targets, table, chosen) + "\n\n" + values
        write_text(
            f"{reps} replications of each point on the validation's fresh seeds (root "
            f"{targets.root_seed} + 1,000,000), reform and counterfactual; fit distance: the "
            f"fixed distance of the fit targets' means (tolerances).\n\n{markdown}\n",
            out / "points.md",
        )
        print(markdown)
        if args.docs:
            update_doc_section(
                Path(args.docs),
                "posterior-point",
                f"Posterior `{args.posterior}`; {reps} replications of each point on the "
                f"validation's fresh seeds (root {targets.root_seed} + 1,000,000), reform and "
                "counterfactual on the same seeds; fit distance: the root of the summed squared "
                "standardised errors of the fit targets' means (tolerances; 0 when all are met); "
                f"chosen: {chosen} ({LABELS[chosen]}).\n\n{markdown}\n",
            )
    else:
        chosen = args.point
    if chosen not in CANDIDATES:
        raise UserError(f"--point {chosen}: no comparison was run, so name one of {CANDIDATES}")
    print(f"\nchosen: {chosen} ({LABELS[chosen]})")
    for key, value in points[chosen].items():
        print(f"  {key.split('.', 1)[1]} = {value}")
    if args.write_params:
        path = Path(args.write_params)
        names = [p.name for p in targets.parameters]
        where = Path(args.posterior).parent.as_posix()
        facts = fit_facts(targets)
        sources = {
            n: calibrated_source(LABELS[chosen], where, facts, old)
            for n, old in current_sources(Params, names).items()
        }
        values = {k.split(".", 1)[1]: v for k, v in points[chosen].items()}
        write_text(rewrite_defaults(path.read_text(encoding="utf-8"), values, sources), path)
        print(
            f"wrote {len(values)} defaults and their sources to {path}; next: `sanshe docs`, "
            "and the golden values (tests/test_golden.py) in their own commit"
        )
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("targets", help="targets TOML file, e.g. scenarios/targets/wuhou.toml")
    p.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    p.add_argument("--executor", choices=("local", "dask", "serial"), default="local")
    p.add_argument("--scheduler", help="dask scheduler address (with --executor dask)")
    p.add_argument("--out", help="results directory (default results/calibration/<targets name>)")
    p.add_argument(
        "--replications", type=int, help="replications per candidate (default from file)"
    )
    p.add_argument("--quiet", action="store_true")


def register(sub: Any) -> None:
    cal = sub.add_parser("calibrate", help="fit free parameters to targets (resumable)")
    _common(cal)
    cal.add_argument(
        "--scenario", help="scenario to calibrate (default: the targets file's reform)"
    )
    cal.add_argument("--generations", type=int, help="optimiser generations (default from file)")
    cal.add_argument("--population", type=int, help="candidates per generation (default from file)")
    cal.add_argument(
        "--write", help="fitted scenario file (default scenarios/calibrated/<name>.toml)"
    )
    cal.add_argument(
        "--method",
        choices=("de", "abc"),
        default="de",
        help="de: differential-evolution point fit (fast); abc: ABC-SMC posterior (pyabc)",
    )
    cal.add_argument("--fresh", action="store_true", help="abc: discard a stored run, start over")
    cal.add_argument(
        "--draws", type=int, help="abc: posterior-predictive draws (default from file)"
    )
    cal.add_argument("--docs", help="abc: also update the fit and identifiability tables here")
    cal.set_defaults(func=_calibrate)

    val = sub.add_parser(
        "validate-fit", help="run a calibrated scenario on fresh seeds against targets"
    )
    _common(val)
    val.add_argument("--scenario", required=True, help="the calibrated scenario file")
    val.add_argument(
        "--docs", help="also update the fit table in this Markdown file (docs/validation.md)"
    )
    val.set_defaults(func=_validate_fit)

    scr = sub.add_parser("screen", help="Morris screening of the free parameters")
    _common(scr)
    scr.add_argument("--scenario", help="scenario to screen (default: the targets file's reform)")
    scr.add_argument("--trajectories", type=int, help="Morris trajectories (default from file)")
    scr.add_argument("--docs", help="also update the screening table in this Markdown file")
    scr.set_defaults(func=_screen)

    pp = sub.add_parser(
        "posterior-point",
        help="compare candidate points of an ABC posterior (median, mean, largest weight) on the "
        "fit targets and write the chosen one as sim/params.py's defaults",
    )
    _common(pp)
    pp.add_argument(
        "--posterior",
        default="scenarios/calibrated/wuhou/posterior.parquet",
        help="the posterior sample (default scenarios/calibrated/wuhou/posterior.parquet)",
    )
    pp.add_argument(
        "--point",
        choices=("auto", "median", "mean", "max-weight"),
        default="auto",
        help="auto: the candidate meeting the most fit targets, then the smallest fit distance "
        "(default)",
    )
    pp.add_argument(
        "--write-params",
        metavar="PARAMS_PY",
        help="rewrite the chosen point's defaults and sources in this file (sim/params.py)",
    )
    pp.add_argument("--docs", help="also update the comparison table in this Markdown file")
    pp.set_defaults(func=_posterior_point)
