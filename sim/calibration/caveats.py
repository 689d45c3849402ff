"""What a calibration says about a set of results: caveats for reports.

* :func:`calibration_caveats` reads a stored calibration (``sanshe validate-fit`` and
  ``sanshe screen`` outputs): which targets were not met and which parameters matter most.
* :func:`target_checks` compares the focus and reference settings of an experiment with the
  observed values of a targets file (e.g. the organizations counted at the end of 2016), so the
  report never holds a copy of an observed number.

Both return plain sentences; the report only prints them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.calibration.targets import Target, Targets, fmt, load_targets
from sim.errors import UserError

NO_CALIBRATION = (
    "The model's free parameters are calibrated to the district's record; how well each target "
    "is met, and which assumptions the results depend on most, is in docs/validation.md (pass "
    "--calibration with a calibration's results directory to list them here)."
)


def calibration_caveats(calibration_dir: str | Path | None) -> list[str]:
    """Caveats from a stored calibration: the targets not met, and the parameters the targets and
    outcomes depend on most. Without a directory, one sentence pointing to docs/validation.md.

    Raises:
        UserError: the directory holds neither validation.csv nor screening/morris.csv.
    """
    if calibration_dir is None:
        return [NO_CALIBRATION]
    folder = Path(calibration_dir)
    items = []
    fit_path = folder / "validation.csv"
    if fit_path.is_file():
        fit = pd.read_csv(fit_path)
        missed = fit[fit["within_tolerance"] != "yes"]
        met = len(fit) - len(missed)
        seeds = int(fit["replications"].max())
        text = f"Calibration: {met} of {len(fit)} targets met on {seeds} fresh seeds."
        if len(missed):
            text += (
                " Not met: "
                + "; ".join(
                    f"{r.target} ({r.facts}): {fmt(float(r.simulated_mean))} against {r.observed}"
                    for r in missed.itertuples()
                )
                + " (see docs/validation.md for why they were not forced)."
            )
        items.append(text)
    morris_path = folder / "screening" / "morris.csv"
    if morris_path.is_file():
        morris = pd.read_csv(morris_path)
        top = morris[(morris["rank"] == 1) & (morris["mu_star"] > 0)]
        by_param: dict[str, list[str]] = {}
        for r in top.itertuples():
            by_param.setdefault(str(r.parameter), []).append(str(r.output).removeprefix("target "))
        items.append(
            "Morris screening of the calibrated parameters: the outputs depend most on "
            + "; ".join(f"{p} ({', '.join(outs)})" for p, outs in by_param.items())
            + ". These are assumptions; distrust them first."
        )
    if not items and not (folder / "abc_fit.csv").is_file():
        raise UserError(
            f"--calibration {folder}: no validation.csv, screening/morris.csv or abc_fit.csv there "
            "(allowed: a directory written by sanshe validate-fit and sanshe screen, or by sanshe "
            "calibrate --method abc)"
        )
    return items


def open_targets(path: str | Path) -> Targets:
    """A targets file for checking stored results.

    Every other check of the file is made; its quantities are not checked against the model's
    outputs here (that needs the model, which a report must not import): a quantity the results
    do not store is listed by :func:`target_checks` as not checked.
    """
    from sim.scenario import read_toml

    raw = read_toml(Path(path))
    rows = raw.get("target") if isinstance(raw.get("target"), list) else []
    names = tuple(
        str(r.get(key)) for r in rows if isinstance(r, dict) for key in ("quantity", "denominator")
    )
    return load_targets(path, district_columns=names or ("",))


def _interval(values: np.ndarray) -> tuple[float, float, float]:
    n = len(values)
    mean = float(values.mean()) if n else np.nan
    if n < 2:
        return mean, np.nan, np.nan
    half = float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half


def check_target(
    target: Target, focus: pd.DataFrame, reference: pd.DataFrame | None
) -> tuple[float, float, float, int] | None:
    """Mean, 95% CI and replications of a target's statistic in stored district rows.

    ``focus`` stands for the targets file's reform, ``reference`` for its counterfactual. None if
    the rows do not cover the target's month or year, or the scenario it needs is missing.
    """
    frames = {"reform": focus, "counterfactual": reference}
    if target.scenario == "difference":
        if reference is None:
            return None
        values = (target.per_run(focus) - target.per_run(reference)).dropna()
    else:
        frame = frames[target.scenario]
        if frame is None or target.quantity not in frame.columns:
            return None
        values = target.per_run(frame).dropna()
    if values.empty:
        return None
    v = values.to_numpy(float)
    return (*_interval(v), len(v))


def target_checks(
    targets: Targets, focus: pd.DataFrame, reference: pd.DataFrame | None, names: tuple[str, str]
) -> list[str]:
    """One sentence per target the stored rows can check: simulated against observed.

    Args:
        targets: a targets file (:func:`open_targets`).
        focus, reference: monthly district rows of the settings that play the targets file's
            reform and counterfactual (columns ``replication``, ``month``, ``year`` and the
            quantities).
        names: display names of the focus and the reference.
    """
    out = []
    skipped = []
    for t in targets.targets:
        got = check_target(t, focus, reference) if t.quantity in focus.columns else None
        if got is None:
            skipped.append(t.name)
            continue
        mean, lo, hi, n = got
        who = {
            "reform": names[0],
            "counterfactual": names[1],
            "difference": f"{names[0]} minus {names[1]}",
        }[t.scenario]
        ci = f" [{fmt(lo)}, {fmt(hi)}]" if np.isfinite(lo) else ""
        verdict = "within" if t.met(mean) else "outside"
        out.append(
            f"{t.description or t.name} ({t.facts}; {t.quantity}, {t.when}, {t.statistic}): "
            f"{who} gives {fmt(mean)}{ci} over {n} replications against observed "
            f"{t.describe_observed()}, {verdict} the tolerance."
        )
    if skipped:
        out.append(
            f"Not checked (quantity, month or scenario not in these results): {', '.join(skipped)}."
        )
    return out
