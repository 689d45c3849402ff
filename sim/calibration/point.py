"""One parameter point from an ABC posterior, for the model's defaults (``sanshe posterior-point``).

The defaults of the calibrated parameters in ``sim/params.py`` must be a point the posterior
supports, so that a run with the defaults (``make demo``'s headline) and the experiments over the
posterior describe the same model. A weakly identified posterior has no obvious single point, so
the candidates are measured, not assumed:

* ``median``: each parameter's weighted median, one at a time (what ``sanshe calibrate`` writes to
  the calibrated scenario): not necessarily a joint point the posterior holds;
* ``mean``: the weighted mean, on the prior's scale (the logarithm for log-uniform priors, so a
  geometric mean there);
* ``max-weight``: the particle with the largest importance weight. ABC-SMC accepts every particle
  within epsilon and weighs it by prior over proposal density, so the largest weight marks the
  sparsest proposal region, not the best fit (``posterior.parquet`` keeps no distances).

:func:`compare_points` runs each candidate (and the current defaults) as reform and
counterfactual on the validation's fresh seeds (:func:`sim.calibration.validate.validation_runs`,
common random numbers across candidates) and scores it by the **fit** targets only: how many
fit targets are met, and the fixed distance (root of the summed squared standardised errors of
the replication means, :class:`sim.calibration.abc.FitDistance`) to break ties. Held-out targets
are reported, never used to choose. :func:`rewrite_defaults` writes the chosen point into
``sim/params.py`` (defaults and sources; nothing else in the file changes), so a new posterior is
adopted by one command.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.abc import FitDistance, overrides, posterior_medians
from sim.calibration.targets import Targets

CANDIDATES = ("median", "mean", "max-weight")
DEFAULTS = "defaults"  # the comparison's name for the defaults in sim/params.py as they are
LABELS = {
    "median": "weighted median",
    "mean": "weighted mean (on the prior's scale)",
    "max-weight": "particle of largest weight",
}
SIGNIFICANT = 6  # digits kept in a default (the scenario files compared hold the same values)
PRIOR_NOTE = "; prior note: "


def _rounded(targets: Targets, point: dict[str, float]) -> dict[str, float | int]:
    out = overrides(targets, point)
    return {k: v if isinstance(v, int) else float(f"{v:.{SIGNIFICANT}g}") for k, v in out.items()}


def candidate_points(targets: Targets, posterior: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The candidate points by name (:data:`CANDIDATES`), as scenario overrides
    (``params.<name>``; integers rounded, floats to :data:`SIGNIFICANT` digits)."""
    w = posterior["weight"].to_numpy(float)
    w = w / w.sum()
    mean: dict[str, float] = {}
    for p in targets.parameters:
        v = posterior[p.key].to_numpy(float)
        mean[p.key] = float(np.exp(w @ np.log(v))) if p.prior == "log-uniform" else float(w @ v)
    best = posterior.iloc[int(np.argmax(w))]
    return {
        "median": _rounded(targets, dict(posterior_medians(targets, posterior))),
        "mean": _rounded(targets, mean),
        "max-weight": _rounded(targets, {p.key: float(best[p.key]) for p in targets.parameters}),
    }


def fit_score(targets: Targets, table: pd.DataFrame) -> dict[str, Any]:
    """A fit table's (:func:`sim.calibration.validate.fit_table`) score over the fit targets: the
    fixed distance of the replication means, and the fit and held-out targets met."""
    means = dict(zip(table["target"], table["simulated_mean"], strict=True))
    met = table.groupby("role")["within_tolerance"].apply(lambda m: int((m == "yes").sum()))
    return {
        "fit_distance": FitDistance(targets)(means),
        "fit_met": int(met.get("fit", 0)),
        "held_out_met": int(met.get("held_out", 0)),
    }


def compare_points(
    targets: Targets,
    points: dict[str, dict[str, Any] | None],
    out: Path,
    replications: int,
    executor: Any = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Each point (``None``: the defaults) run as reform and counterfactual on the validation's
    fresh seeds; one row per point with its score (:func:`fit_score`) and every target's mean."""
    from sim.calibration.fit import write_calibrated_scenario
    from sim.calibration.validate import fit_table, validation_runs

    base = Path(targets.reform).resolve()
    rows = []
    for name, point in points.items():
        if point is None:
            scenario = base
        else:
            scenario = out / name / "scenario.toml"
            params = {k.split(".", 1)[1]: v for k, v in point.items()}
            write_calibrated_scenario(
                scenario, base, params, [f"candidate point: {name}"], "sanshe posterior-point"
            )
        if progress:
            print(f"{name}: {replications} replications", flush=True)
        runs = validation_runs(
            targets, str(scenario), out / name / "validation", replications, executor, False
        )
        table = fit_table(targets, *runs)
        table.to_csv(out / name / "validation.csv", index=False)
        row: dict[str, Any] = {"point": name, **fit_score(targets, table)}
        row |= dict(zip(table["target"], table["simulated_mean"], strict=True))
        rows.append(row)
    return pd.DataFrame(rows)


def choose(table: pd.DataFrame) -> str:
    """The candidate (never the current defaults) that meets the most fit targets; ties go to the
    smallest fit distance, then to the order of :data:`CANDIDATES`.

    Targets met come first because the fixed distance is dominated by the targets every point
    misses (2014 spending, a structural misfit: docs/validation.md), so by distance alone a point
    that misses more targets by a little can beat one that meets more."""
    cands = table[table["point"].isin(CANDIDATES)].copy()
    if cands.empty:
        raise ValueError("no candidate point in the comparison")
    cands["order"] = [CANDIDATES.index(p) for p in cands["point"]]
    best = cands.sort_values(["fit_met", "fit_distance", "order"], ascending=[False, True, True])
    return str(best["point"].iloc[0])


def calibrated_source(label: str, where: str, facts: str, old: str) -> str:
    """The source of a calibrated default: where the value came from, keeping an earlier source's
    prior note (``...; prior note: X``, or the parenthesis of ``assumption (X)``)."""
    if PRIOR_NOTE in old:
        note = old.split(PRIOR_NOTE, 1)[1]
    elif old.startswith("assumption (") and old.endswith(")"):
        note = old[len("assumption (") : -1]
    else:
        note = ""
    text = f"calibrated: ABC posterior {label}, {where} (fit targets {facts}; docs/validation.md)"
    return text + (PRIOR_NOTE + note if note else "")


def fit_facts(targets: Targets) -> str:
    """The fact ids of the fit targets, each once, in file order."""
    seen: list[str] = []
    for t in targets.fit:
        for f in t.facts.split(","):
            if f.strip() and f.strip() not in seen:
                seen.append(f.strip())
    return ", ".join(seen)


def _string_literal(text: str, indent: int, first: int, width: int = 100) -> str:
    """``text`` as a Python string expression: one literal, or implicitly concatenated literals
    broken at spaces, the first starting at column ``first``, the others at ``indent``, each line
    (closing quote and comma included) within ``width``."""
    room = width - first - 3  # two quotes and a comma
    parts: list[str] = []
    rest = text
    while len(repr(rest)) - 2 > room:
        cut = rest.rfind(" ", 0, room)
        cut = room if cut <= 0 else cut + 1  # keep the space at the end of the line
        parts.append(rest[:cut])
        rest = rest[cut:]
        room = width - indent - 3
    parts.append(rest)
    quoted = ['"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in parts]
    return ("\n" + " " * indent).join(quoted)


def _literal(value: Any) -> str:
    return str(value) if isinstance(value, int) else repr(float(value))


def rewrite_defaults(
    text: str, values: dict[str, Any], sources: dict[str, str], cls: str = "Params"
) -> str:
    """``sim/params.py``'s text with the defaults of ``values`` (field name to value) and their
    sources (field name to source) replaced in class ``cls``; nothing else changes. Fails on a
    field the class does not declare with ``param(default, ..., source=...)``."""
    tree = ast.parse(text)
    klass = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls), None)
    if klass is None:
        raise ValueError(f"no class {cls}")
    fields = {
        n.target.id: n.value
        for n in klass.body
        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
    }
    lines = text.splitlines(keepends=True)
    offsets = np.cumsum([0] + [len(line) for line in lines])

    def pos(lineno: int, col: int) -> int:  # ast columns are UTF-8 byte offsets
        line = lines[lineno - 1]
        return int(offsets[lineno - 1]) + len(line.encode("utf-8")[:col].decode("utf-8"))

    edits: list[tuple[int, int, str]] = []
    for name, value in values.items():
        call = fields.get(name)
        if not (
            isinstance(call, ast.Call) and call.args and getattr(call.func, "id", "") == "param"
        ):
            raise ValueError(f"{cls}.{name}: not declared as param(default, ...)")
        source = next((k.value for k in call.keywords if k.arg == "source"), None)
        if source is None:
            raise ValueError(f"{cls}.{name}: has no source=")
        default = call.args[0]
        edits.append(
            (
                pos(default.lineno, default.col_offset),
                pos(default.end_lineno, default.end_col_offset),
                _literal(value),
            )
        )
        keyword = next(k for k in call.keywords if k.arg == "source")
        indent = keyword.col_offset
        edits.append(
            (
                pos(source.lineno, source.col_offset),
                pos(source.end_lineno, source.end_col_offset),
                _string_literal(sources[name], indent, indent + len("source=")),
            )
        )
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def current_sources(cls: type, names: list[str]) -> dict[str, str]:
    """Each field's source as declared (``json_schema_extra['source']``)."""
    return {n: str(cls.model_fields[n].json_schema_extra["source"]) for n in names}


def comparison_markdown(targets: Targets, table: pd.DataFrame, chosen: str) -> str:
    """The comparison as Markdown: score, then each fit target's mean, then the held-out ones."""
    from sim.calibration.targets import fmt

    fit = [t.name for t in targets.fit]
    held = [t.name for t in targets.with_role("held_out")]
    head = ["point", "fit distance", "fit met", "held-out met", *fit, *held]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in table.to_dict("records"):
        name = f"**{r['point']}** (chosen)" if r["point"] == chosen else str(r["point"])
        cells = [name, f"{r['fit_distance']:.2f}", str(r["fit_met"]), str(r["held_out_met"])]
        cells += [fmt(r[n]) if not math.isnan(r[n]) else "n/a" for n in fit + held]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def values_markdown(
    targets: Targets, points: dict[str, dict[str, Any]], defaults: dict[str, Any]
) -> str:
    """Each candidate's parameter values beside the defaults they are compared with."""
    from sim.calibration.targets import fmt

    head = ["parameter", DEFAULTS, *points]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in targets.parameters:
        cells = [f"`{p.name}`", fmt(defaults[p.key])]
        cells += [fmt(points[c][p.key]) for c in points]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
