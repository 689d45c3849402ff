"""What the report computes, in order, before any HTML is written (``sanshe report``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sim.analysis.compare import Comparison, compare, write_comparison
from sim.analysis.outcomes import DEFAULT_OUTCOMES
from sim.analysis.report.data import ReportData
from sim.analysis.results import ResultSet
from sim.errors import UserError
from sim.io import write_text

SECTIONS = (
    "summary",
    "known",
    "tradeoffs",
    "horizon",
    "scenarios",
    "headline",
    "figures",
    "streets",
    "caveats",
    "sensitivity",
    "provenance",
    "files",
)


def window_year(rs: ResultSet, cmp: Comparison) -> int | None:
    """The calendar year of the headline window ('final-year': the runs' last year)."""
    w = cmp.window
    if w.kind == "year":
        return int(w.value or 0)
    if w.kind == "month":
        return int(str(w.value)[:4])
    frame = rs.load("district", [])
    if w.kind == "final-year" or rs.frequency == "yearly":
        return int(frame["year"].max())
    return None


def find_all(data: ReportData, at: str, horizon: ResultSet | None = None) -> None:
    """Fill the findings of ``data`` (see :mod:`sim.analysis.findings`)."""
    from sim.analysis import findings as f
    from sim.analysis.display import street

    rs, cmp, focus, ref = data.rs, data.cmp, data.focus, data.reference
    data.tradeoffs = f.tradeoff_sentences(f.tradeoffs(cmp), rs.title)
    if data.cmp_focus is not None:
        levers = {s.label: lever for lever, s in rs.roles.ablations.items()}
        table = f.tradeoffs(data.cmp_focus, flip=True)
        table = table[table["setting"].isin(list(levers))]
        data.lever_tradeoffs = f.tradeoff_sentences(
            table, lambda label: f"{levers[label].replace('_', ' ')} (within {rs.title(focus)})"
        )
    if focus is None:
        return
    for r in f.cost_per_unit(cmp, focus.label).itertuples():
        o = f.OUTCOMES[r.outcome]
        data.costs.append(
            f"{r.per_unit:.2f} M yuan a year per {o.diff_unit.removesuffix('s')} of {o.label} "
            f"({r.extra_spend:.1f} M yuan a year more for {r.improvement:+.1f} {o.diff_unit})"
        )
    if "district" in rs.levels and rs.frequency == "monthly":
        values = f.monthly_values(rs, focus, f.KEY_OUTCOMES)
        from sim.analysis.plots import reform_month

        start = reform_month(rs)
        data.dips = f.dip_sentences(f.dips(values, after=start), rs.title(focus))
        # from the second budget year on: the first January is when purchase switches on
        after = f"{int(start[:4]) + 1}-02" if start else None
        data.january = f.january_sentences(f.january_steps(values, after=after), rs.title(focus))
        end = str(values["month"].max())[:4]
        data.levelling[end] = f.levelling_sentences(f.levelling(values))
    if horizon is not None and horizon.frequency == "monthly" and horizon.roles.focus is not None:
        values = f.monthly_values(horizon, horizon.roles.focus, f.KEY_OUTCOMES)
        end = str(values["month"].max())[:4]
        data.levelling[end] = f.levelling_sentences(f.levelling(values))
    if "street" in rs.levels:
        table = f.street_variation(rs, focus, ref, at)
        data.streets = f.street_sentences(table, rs.title(focus), street)
        data.real_street_outcomes = set(table.loc[table["real"], "outcome"])


def build_report(
    results_dir: str | Path,
    sensitivity_dir: str | Path | None = None,
    reference: str | None = None,
    at: str = "final-year",
    progress: Callable[[str], None] | None = None,
    kinds: list[str] | None = None,
    calibration_dir: str | Path | None = None,
    targets: str | Path | None = None,
    horizon: str | Path | None = None,
    uncertainty: str | Path | None = None,
    structural: str | Path | None = None,
) -> Path:
    """Write RESULTS_DIR/report.html with its tables (tables/) and figures (figures/).

    Args:
        results_dir: an experiment's results directory.
        sensitivity_dir: optionally, the results of a Morris or Sobol experiment, whose indices
            name the assumptions that matter most (used automatically if ``results_dir`` is
            itself such a design).
        reference: the setting to difference against (default: the declared reference role, or
            the first setting).
        at: the time window of the tables (default ``final-year``).
        progress: called with a line of progress text at each step.
        kinds: figure kinds to draw (default: every kind that applies; see sim.analysis.plots).
        calibration_dir: optionally, a calibration's results (validation.csv and
            screening/morris.csv; or an ABC calibration's abc_fit.csv, whose posterior-predictive
            verdicts the "what is known" section then uses), whose unmet targets and influential
            parameters join the caveats.
        targets: optionally, a targets file (sim.calibration.targets): the focus and reference
            settings are checked against its observed values.
        horizon: optionally, the results of a longer run of the same focus (e.g.
            experiments/horizon.toml, to 2020): whether each outcome has levelled off by its end.
        uncertainty: optionally, the results of a posterior experiment (e.g.
            experiments/headline_posterior.toml): the verdict states the focus' effects with their
            parameter-uncertainty intervals beside the seed-only ones.
        structural: optionally, the results of a structural-variants experiment (e.g.
            experiments/structural.toml): which headline conclusions survive every variant.
    """
    from sim.analysis.plots import make_figures
    from sim.analysis.report import sections
    from sim.analysis.report.html import page
    from sim.analysis.report.known import known_targets, read_abc_fit
    from sim.analysis.sensitivity import sensitivity_table, write_sensitivity
    from sim.calibration.caveats import calibration_caveats, open_targets, target_checks

    say = progress or (lambda _msg: None)
    rs = ResultSet(results_dir)
    # Bad optional inputs fail before any work is done.
    cal_items = calibration_caveats(calibration_dir)
    if "district" not in rs.levels:
        raise UserError(f"level 'district' is not stored in {rs.path}; the report needs it")
    target_file = open_targets(targets) if targets is not None else None
    ref = rs.setting(reference) if reference else rs.default_reference()
    sens_rs = None
    if rs.method in ("morris", "sobol"):
        sens_rs = rs
    elif sensitivity_dir is not None:
        sens_rs = ResultSet(sensitivity_dir)
        if sens_rs.method not in ("morris", "sobol"):
            raise UserError(
                f"--sensitivity {sensitivity_dir}: a {sens_rs.method!r} experiment (allowed: the "
                "results of a morris or sobol design, e.g. experiments/sensitivity.toml)"
            )
    horizon_rs = ResultSet(horizon) if horizon is not None else None
    if horizon_rs is not None and horizon_rs.roles.focus is None:
        raise UserError(
            f"--horizon {horizon}: the experiment declares no focus (allowed: results of an "
            "experiment with [roles] focus, e.g. experiments/horizon.toml)"
        )
    from sim.analysis.report.beyond_seeds import parameter_effects, structural_conclusions

    # bad optional inputs fail here too, before the long part
    parameters = parameter_effects(uncertainty, at) if uncertainty is not None else None
    variants = structural_conclusions(structural, at) if structural is not None else None
    roles = rs.roles
    focus = roles.focus if roles.focus is not None and roles.focus.point != ref.point else None

    say(f"[1/5] comparing {len(rs.settings)} settings at district level ({at})")
    names = list(DEFAULT_OUTCOMES["district"])
    if "local_money_share" in rs.columns("district"):
        names.append("local_money_share")  # who gets the money: local or imported agencies
    if "contract_hhi" in rs.columns("district"):
        names.append("contract_hhi")  # market concentration, for the trade-offs section
    cmp = compare(rs, ref.point, "district", at, names)
    data = ReportData(
        rs, ref, focus, cmp, calibration=cal_items, parameters=parameters, structural=variants
    )
    data.written += write_comparison(cmp).values()
    data.year = window_year(rs, cmp)
    if focus is not None and roles.ablations:
        data.cmp_focus = compare(rs, focus.point, "district", at)
        data.written += write_comparison(data.cmp_focus).values()
    if "street" in rs.levels and len(rs.settings) <= 30:
        say(f"[2/5] comparing streets ({at})")
        data.cmp_street = compare(rs, ref.point, "street", at)
        data.written += write_comparison(data.cmp_street).values()
    if sens_rs is not None:
        say(f"[3/5] sensitivity indices ({sens_rs.method}) from {sens_rs.path}")
        data.sensitivity = sensitivity_table(sens_rs, at="final-year")
        data.sensitivity_rs = sens_rs
        data.written += write_sensitivity(rs, data.sensitivity).values()
    abc_fit = read_abc_fit(calibration_dir)
    if target_file is not None and focus is not None:
        stored = set(rs.columns("district"))
        wanted = {t.quantity for t in target_file.targets}
        wanted |= {d for t in target_file.targets if (d := getattr(t, "denominator", None))}
        frame = rs.load("district", sorted(wanted & stored))
        data.targets_path = str(targets)
        focus_rows, ref_rows = (
            frame[frame["point"] == focus.point],
            frame[frame["point"] == ref.point],
        )
        data.target_checks = target_checks(
            target_file, focus_rows, ref_rows, (rs.title(focus), rs.title(ref))
        )
        data.known = known_targets(target_file, focus_rows, ref_rows, abc_fit, str(targets))
    elif target_file is not None:
        data.known = known_targets(target_file, None, None, abc_fit, str(targets))
    say("[4/5] findings: trade-offs, dips, levelling off, streets; drawing figures")
    find_all(data, at, horizon_rs)
    table = data.sensitivity
    data.plots = make_figures(
        rs,
        kinds=kinds,
        at=at,
        reference=ref.point,
        sensitivity=(table, str(table.attrs["method"])) if table is not None else None,
        progress=say,
    )
    for p in data.plots:
        data.written += p.paths
    say("[5/5] writing the report")
    out = rs.path / "report.html"
    data.written.append(out)
    html = page(f"三社联动 simulation: {rs.name}", sections.subtitle(data), sections.build(data))
    write_text(html, out)
    say(f"wrote {out}")
    return out
