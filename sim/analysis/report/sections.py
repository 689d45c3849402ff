"""Each section of the report as HTML, from :class:`~sim.analysis.report.pipeline.ReportData`.

The first screen (section ``summary``) answers: one verdict sentence naming the year, a one-line
definition of each key outcome, and a ranking of the levers from their roles (removed from the
focus, added alone to the reference), signed so that an improvement is positive.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.analysis.compare import Comparison, street_extremes
from sim.analysis.display import (
    MINUS,
    diff_digits,
    diff_text,
    fmt,
    fmt_ci,
    fmt_diff,
    fmt_dz,
    with_unit,
)
from sim.analysis.findings import STABLE_RANK
from sim.analysis.outcomes import KEY_OUTCOMES, OUTCOMES, Outcome
from sim.analysis.report.html import cell, e
from sim.analysis.report.known import ROLE_TITLES, ROLES
from sim.analysis.results import ResultSet, lever_label

if TYPE_CHECKING:
    from sim.analysis.report.data import ReportData


# --- helpers ---------------------------------------------------------------------------------
def count(n: int, noun: str, plural: str | None = None) -> str:
    """'1 observed pattern', '2 observed patterns' (the plural is noun + 's' unless given)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def row(long: pd.DataFrame, setting: str, outcome: str) -> pd.Series | None:
    part = long[(long["setting"] == setting) & (long["outcome"] == outcome)]
    return None if part.empty else part.iloc[0]


def sign(o: Outcome) -> float:
    """+1 if higher is better, -1 if lower is better, 0 if neither."""
    return {"higher": 1.0, "lower": -1.0}.get(o.better or "", 0.0)


def gain_class(r: pd.Series, o: Outcome) -> str:
    """'better' or 'worse' when the paired CI is entirely on one side, else ''."""
    if o.better is None or r["is_reference"]:
        return ""
    lo, hi = r["diff_ci_low"], r["diff_ci_high"]
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return ""
    s = sign(o)
    if s * lo > 0 and s * hi > 0:
        return "better"
    if s * lo < 0 and s * hi < 0:
        return "worse"
    return ""


def definition(o: Outcome) -> str:
    """An outcome's one-line definition: its doc in the output table (sim/outputs.py)."""
    text = str(getattr(o, "doc", "") or o.description).strip().rstrip(".")
    return text[0].upper() + text[1:] if text else o.label


def subtitle(data: ReportData) -> str:
    rs = data.rs
    return (
        f"Reference: {data.title(data.reference)}; window: "
        f"{data.cmp.window.describe(rs.frequency)}"
        + (f" ({data.year})" if data.year else "")
        + f"; {len(rs.settings)} settings x {rs.manifest.get('replications')} replications "
        "(common random numbers)."
    )


# --- the first screen -------------------------------------------------------------------------
def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def verdict(data: ReportData) -> str:
    """One plain sentence: what the focus does to the key outcomes and money in the named year."""
    cmp, focus, rs = data.cmp, data.focus, data.rs
    when = f"In {data.year}" if data.year else f"Over {cmp.window.describe(rs.frequency)}"
    if focus is None:
        return (
            f"<p class='verdict'><b>{e(when)}</b>, the settings are compared with "
            f"<b>{e(data.title(data.reference))}</b>; no setting is declared the focus "
            "(<code>[roles] focus</code>), so the report gives no single verdict.</p>"
        )
    classes: dict[str, list[str]] = {"better": [], "worse": [], "": []}
    phrases = []
    for name in KEY_OUTCOMES:
        o = OUTCOMES[name]
        r, ref_row = row(cmp.long, focus.label, name), row(cmp.long, cmp.reference, name)
        if r is None or ref_row is None:
            continue
        classes[gain_class(r, o)].append(o.label)
        phrases.append(
            f"{o.label} {with_unit(r['mean'], o)} against {with_unit(ref_row['mean'], o)} "
            f"({diff_text(r, o)})"
        )
    n = sum(len(v) for v in classes.values())
    if classes["better"] and not classes["worse"] and not classes[""]:
        does = f"improves all {n} key outcomes" if n > 1 else f"improves {classes['better'][0]}"
    else:
        bits = []
        if classes["better"]:
            bits.append("improves " + _join(classes["better"]))
        if classes["worse"]:
            bits.append("worsens " + _join(classes["worse"]))
        if classes[""]:
            bits.append("leaves " + _join(classes[""]) + " unclear")
        does = _join(bits) or "changes none of the key outcomes measurably"
    money = ""
    spend, spend_ref = row(cmp.long, focus.label, "spend"), row(cmp.long, cmp.reference, "spend")
    if spend is not None and spend_ref is not None and np.isfinite(spend["mean"]):
        o = OUTCOMES["spend"]
        money = (
            f", and pays organizations {with_unit(spend['mean'], o)} against "
            f"{with_unit(spend_ref['mean'], o)}"
        )
        share = row(cmp.long, focus.label, "local_money_share")
        if share is not None and np.isfinite(share["mean"]):
            money += (
                f", {with_unit(share['mean'], OUTCOMES['local_money_share'])} of it to local "
                "organizations"
            )
    n_rep = int(cmp.long["n_runs"].max())
    return (
        f"<p class='verdict'><b>Verdict.</b> {e(when)}, <b>{e(data.title(focus))}</b> "
        f"{e(does)} against <b>{e(data.title(data.reference))}</b>: {e('; '.join(phrases))}"
        f"{e(money)}. <span class='small how-sure'>{e(how_sure(data, n_rep))}</span></p>"
    )


SEED_ONLY = (
    "How sure: the intervals in brackets are 95% intervals over {n} seeds of the model with its "
    "default parameters (a single point of the calibration's posterior): seed noise only; "
    "parameter and structural uncertainty not included, so the model's real uncertainty is wider."
)


SEED_AND_PARAMETERS = (
    "How sure: the intervals in brackets are 95% intervals over {n} seeds of the model with its "
    "default parameters (a single point of the calibration's posterior; seed noise only). Over "
    "parameter uncertainty ({draws} draws from the calibration's posterior x {reps} seeds each, "
    "experiment {experiment}), the effects "
    "of {focus} against {reference} are: {effects}. {structure}"
)


def parameter_phrases(data: ReportData) -> list[str]:
    """'admin burden −29.9 pp (seed noise only [..]; over parameter uncertainty [..])' per key
    outcome of the posterior experiment."""
    out = []
    for r in data.parameters.table.to_dict("records"):
        o = OUTCOMES.get(str(r["outcome"]))
        if o is None:
            continue
        d = diff_digits(r["effect"], o)
        unit = f" {o.diff_unit}" if o.diff_unit else ""
        seed = fmt_ci(r["seed_low"], r["seed_high"], o, True, MINUS, d)
        param = fmt_ci(r["param_low"], r["param_high"], o, True, MINUS, d)
        share = r.get("share_param")
        share_text = f"; parameters {share:.0%} of a run's variance" if np.isfinite(share) else ""
        out.append(
            f"{o.label} {fmt(r['effect'], o, True, MINUS, d)}{unit} (seed noise only {seed}; "
            f"over parameter uncertainty {param}{share_text})"
        )
    return out


def how_sure(data: ReportData, n_rep: int) -> str:
    """What the verdict's intervals cover, in plain words; with a posterior experiment, the
    parameter-uncertainty interval of each effect beside its seed-only one, each labelled."""
    p = data.parameters
    if p is None or p.table.empty:
        text = SEED_ONLY.format(n=n_rep)
        if data.structural is not None:
            text = text.replace(
                "parameter and structural uncertainty not included",
                "parameter uncertainty not included; structural variants: see what is known",
            )
        return text
    structure = (
        "Structural uncertainty not included."
        if data.structural is None
        else "Structural variants: see what is known and how well."
    )
    return SEED_AND_PARAMETERS.format(
        n=n_rep,
        draws=int(p.table["n_draws"].max()),
        reps=f"{float(p.table['n_reps'].mean()):g}",
        experiment=p.experiment,
        focus=p.focus,
        reference=p.reference,
        effects="; ".join(parameter_phrases(data)),
        structure=structure,
    )


def rests_on(data: ReportData) -> str:
    """One first-screen line: what the calibration fitted, and which held-out patterns are met."""
    known = data.known
    if known is None:
        return (
            "What this rests on: no targets file was given (<code>--targets</code>), so this "
            "report cannot say which observed patterns the calibration fitted and which it held "
            "out" + structural_line(data) + "; see <a href='#known'>what is known and how well</a>."
        )
    fit, held = known.with_role("fit"), known.with_role("held_out")
    if not known.roles_declared:
        return (
            f"What this rests on: the model was calibrated to {count(len(fit), 'observed pattern')}"
            "; the "
            "targets file marks none as held out, so nothing tests the fit on patterns it did "
            "not see" + structural_line(data) + " (<a href='#known'>details</a>)."
        )
    met = [r for r in held if r.met == "yes"]
    missed = [r for r in held if r.met == "no"]
    unmeasured = [r for r in held if r.met == "not measured"]
    verb = "is" if len(met) == 1 else "are"
    if known.out_of_sample:
        text = (
            f"What this rests on: the calibration fitted {count(len(fit), 'observed pattern')} and "
            f"meets {known.count('fit', 'yes')} of them; of "
            f"{len(held)} held out from the fit, {len(met)} {verb} met in its "
            "posterior-predictive check"
        )
    else:
        text = (
            f"What this rests on: the targets file has {count(len(fit), 'observed pattern')} to "
            "fit and "
            f"{len(held)} to hold out; with the default parameters these runs use, {len(met)} of "
            f"the {len(held)} {verb} met"
        )
    if missed:
        text += f", {len(missed)} not ({e('; '.join(_short(r.description) for r in missed))})"
    if unmeasured:
        text += f", {len(unmeasured)} not measurable from these results"
    if not known.out_of_sample:
        text += (
            " (a check of the defaults, not an out-of-sample test: they come from an earlier "
            "fit that may have seen some of them)"
        )
    return text + structural_line(data) + " (<a href='#known'>details</a>)."


def structural_line(data: ReportData) -> str:
    """'; 5 of 8 headline conclusions survive every structural variant (3 variants)'."""
    s = data.structural
    if s is None:
        return "; no structural variants were run"
    n = len(s.survive) + len(s.flip)
    return (
        f"; {len(s.survive)} of {count(n, 'headline conclusion')} "
        f"{'survives' if len(s.survive) == 1 else 'survive'} every structural variant "
        f"({count(len(s.variants) - 1, 'variant')} of the model's structure)"
    )


def _short(description: str) -> str:
    """A target's description up to its first comma or parenthesis."""
    for stop in (",", " ("):
        description = description.split(stop)[0]
    return description.strip()


def definitions_html() -> str:
    items = "".join(
        f"<li><b>{e(OUTCOMES[n].label.capitalize())}</b> ({e(OUTCOMES[n].display_unit)}): "
        f"{e(definition(OUTCOMES[n]))}.</li>"
        for n in KEY_OUTCOMES
    )
    return f"<ul class='defs'>{items}</ul>"


def lever_effects(data: ReportData) -> pd.DataFrame:
    """One row per lever and key outcome: the improvement (positive = better) from the lever
    within the focus (focus minus the focus without it) and alone (lever alone minus reference),
    each with its 95% CI, in display units."""
    roles = data.rs.roles
    rows = []
    for lever in roles.levers:
        for name in KEY_OUTCOMES:
            o = OUTCOMES[name]
            s = sign(o)
            rec: dict[str, Any] = {"lever": lever, "outcome": name}
            for kind, setting, cmp, flip in (
                ("in_focus", roles.ablations.get(lever), data.cmp_focus, -1.0),
                ("alone", roles.added_alone.get(lever), data.cmp, 1.0),
            ):
                r = row(cmp.long, setting.label, name) if setting and cmp is not None else None
                if r is None or s == 0:
                    rec.update({kind: np.nan, f"{kind}_low": np.nan, f"{kind}_high": np.nan})
                    continue
                k = s * flip * o.display_scale
                bounds = sorted([k * r["diff_ci_low"], k * r["diff_ci_high"]])
                rec.update(
                    {kind: k * r["diff"], f"{kind}_low": bounds[0], f"{kind}_high": bounds[1]}
                )
            rows.append(rec)
    return pd.DataFrame(rows)


def _sure(v: float, lo: float, hi: float) -> int:
    """+1 / -1 if the CI excludes 0 on that side, else 0."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return 0
    return 1 if lo > 0 else (-1 if hi < 0 else 0)


def _bar(value: float, limit: float, sure: int, digits: int) -> str:
    if not np.isfinite(value):
        return "<td></td>"
    width = 0.0 if limit <= 0 else min(50.0, 50.0 * abs(value) / limit)
    cls = "pos" if value > 0 else "neg"
    opacity = "" if sure else ";opacity:0.35"
    text = f"{value:+.{digits}f}".replace("-", MINUS)
    if float(f"{value:.{digits}f}") == 0:
        text = f"{0:.{digits}f}"
    text = text if sure else f"({text})"
    return (
        f"<td><div class='bar' title='{e(text)}'><div class='axis'></div>"
        f"<div class='{cls}' style='width:{width:.1f}%{opacity}'></div></div></td>"
        f"<td class='num'>{e(text)}</td>"
    )


def lever_ranking_html(data: ReportData) -> str:
    """The levers sorted by what each brings, signed so that improvement is positive."""
    effects = lever_effects(data)
    if effects.empty:
        return ""
    first = KEY_OUTCOMES[0]
    key = "in_focus" if effects["in_focus"].notna().any() else "alone"
    order = effects[effects["outcome"] == first].sort_values(key, ascending=False)["lever"].tolist()
    head1 = "".join(
        f"<th colspan='4'>{e(OUTCOMES[n].label)} ({e(OUTCOMES[n].diff_unit)})</th>"
        for n in KEY_OUTCOMES
    )
    head2 = "<th colspan='2'>in the reform</th><th colspan='2'>alone</th>" * len(KEY_OUTCOMES)
    limits = {
        n: np.nanmax(np.abs(effects.loc[effects["outcome"] == n, ["in_focus", "alone"]].to_numpy()))
        for n in KEY_OUTCOMES
    }
    body = []
    conflicts = []
    for lever in order:
        cells = []
        flagged = False
        for n in KEY_OUTCOMES:
            o = OUTCOMES[n]
            r = effects[(effects["lever"] == lever) & (effects["outcome"] == n)].iloc[0]
            a = _sure(r["in_focus"], r["in_focus_low"], r["in_focus_high"])
            b = _sure(r["alone"], r["alone_low"], r["alone_high"])
            digits = o.digits
            cells.append(_bar(r["in_focus"], limits[n], a, digits))
            cells.append(_bar(r["alone"], limits[n], b, digits))
            if a and b and a != b:
                flagged = True
                conflicts.append(
                    f"{lever_label(lever)}, {o.label}: "
                    f"{'improves' if a > 0 else 'worsens'} it within the reform "
                    f"({r['in_focus']:+.{digits}f}) but {'improves' if b > 0 else 'worsens'} it "
                    f"alone ({r['alone']:+.{digits}f})".replace("-", MINUS)
                )
        mark = " <span class='flag' title='the two estimates disagree'>⚠</span>" if flagged else ""
        body.append(
            f"<tr><td class='l'><b>{e(lever_label(lever))}</b>{mark}</td>{''.join(cells)}</tr>"
        )
    focus = data.title(data.focus) if data.focus is not None else "the focus"
    head = (
        f"<p class='ranking'><b>Lever ranking</b>: what each lever brings, sorted by its effect on "
        f"{e(OUTCOMES[first].label)} within {e(focus)}; positive = better for communities and "
        "residents.</p>"
    )
    note = (
        "<p class='small'><i>In the reform</i>: "
        f"{e(focus)} minus {e(focus)} without the lever; <i>alone</i>: the lever added alone minus "
        f"{e(data.title(data.reference))}. Blue bars improve (lower burden; higher coverage, "
        "quality, satisfaction), orange bars worsen; values in brackets and faint bars have a 95% "
        "interval that includes 0."
    )
    if conflicts:
        note += (
            " <span class='flag'>⚠</span> The two estimates disagree (the lever's effect depends "
            "on the other levers): " + e("; ".join(conflicts)) + "."
        )
    note += "</p>"
    return (
        head + "<div class='scroll'><table class='levers'>"
        f"<tr><th class='l' rowspan='2'>lever</th>{head1}</tr><tr>{head2}</tr>"
        + "".join(body)
        + "</table></div>"
        + note
    )


def summary_html(data: ReportData) -> str:
    return (
        "<div class='answer'>"
        + verdict(data)
        + f"<p class='rests small'>{rests_on(data)}</p>"
        + definitions_html()
        + lever_ranking_html(data)
        + "</div>"
    )


# --- what is known and how well --------------------------------------------------------------
def _targets_table(rows: list[Any]) -> str:
    body = "".join(
        f"<tr><td class='l'>{e(r.description)}</td><td class='l'>{e(r.facts)}</td>"
        f"<td>{e(r.observed)}</td><td>{e(r.simulated or 'n/a')}</td>"
        f"<td class='{ {'yes': 'better', 'no': 'worse'}.get(r.met, '') }'>{e(r.met)}</td></tr>"
        for r in rows
    )
    return (
        "<div class='scroll'><table><tr><th class='l'>target</th><th class='l'>facts</th>"
        "<th>observed</th><th>simulated [interval]</th><th>met</th></tr>" + body + "</table></div>"
    )


def parameters_item(data: ReportData) -> str:
    p = data.parameters
    if p is None or p.table.empty:
        return (
            "Parameter uncertainty: not estimated in this report. Most parameters are "
            "assumptions (see <a href='#sensitivity'>the assumptions that matter most</a>); the "
            "intervals would widen if the calibration's posterior were propagated (pass "
            "<code>--uncertainty</code> with the results of "
            "<code>experiments/headline_posterior.toml</code>)."
        )
    return (
        f"Parameter uncertainty, from <code>{e(p.path)}</code> (a posterior experiment: "
        f"{count(int(p.table['n_draws'].max()), 'draw')} of the calibrated parameters, "
        f"{float(p.table['n_reps'].mean()):g} seeds each): the effects of {e(p.focus)} against "
        f"{e(p.reference)}: {e('; '.join(parameter_phrases(data)))}. The parameter interval "
        "holds the 2.5th to 97.5th percentiles of the effect across the posterior with seed "
        "noise removed; with a few dozen draws, read its ends as a range, not to the last digit."
    )


def structural_item(data: ReportData) -> str:
    s = data.structural
    if s is None:
        return (
            "Structural uncertainty: not estimated in this report. No structural variants of the "
            "model were run, so no conclusion here is known to survive a change in how the model "
            "is built (pass <code>--structural</code> with the results of "
            "<code>experiments/structural.toml</code>)."
        )
    variants = [v for v in s.variants if v != s.reference_variant]
    text = (
        f"Structural uncertainty, from <code>{e(s.path)}</code>: the headline conclusions under "
        f"{count(len(variants), 'variant')} of the model's structure ({e(', '.join(variants))}) "
        "against "
        f"the default model ({e(s.reference_variant)}), each on the same seeds."
    )
    text += (
        "<br><b>Survive every variant</b>: "
        + (e("; ".join(s.survive)) if s.survive else "none")
        + ".<br><b>Do not survive</b>: "
        + (e("; ".join(s.flip)) if s.flip else "none")
        + "."
    )
    return text


def known_html(data: ReportData) -> str:
    """How sure the numbers are, what the calibration fitted and held out, and which held-out
    patterns are met."""
    n_rep = int(data.cmp.long["n_runs"].max())
    out = [
        "<h3>How sure the numbers are</h3><ul>"
        f"<li>Seed noise: the intervals in brackets in the verdict and the tables are 95% "
        f"intervals over {n_rep} seeds of the model with its default parameters (an earlier "
        "point fit, not the posterior); they cover seed noise (run-to-run chance) and nothing "
        "else.</li>"
        f"<li>{parameters_item(data)}</li><li>{structural_item(data)}</li></ul>"
    ]
    known = data.known
    out.append("<h3>What the calibration fitted and what it held out</h3>")
    if known is None:
        out.append(
            "<p>No targets file was given (<code>--targets</code>, a file under "
            "<code>scenarios/targets/</code>), so this report cannot list which observed "
            "patterns the calibration fitted, which it held out, and whether those are met. "
            "<code>docs/validation.md</code> describes the calibration.</p>"
        )
        return "".join(out)
    if not known.roles_declared:
        out.append(
            f"<p>The targets file <code>{e(known.path)}</code> gives its targets no roles, so all "
            f"{len(known.results)} are read as fitted: none is held out, and matching them shows "
            "only that the model can be tuned to them, not that it predicts anything it was not "
            "tuned to.</p>" + _targets_table(known.results)
        )
        return "".join(out)
    counts = {role: len(known.with_role(role)) for role in ROLES}
    out.append(
        f"<p>From <code>{e(known.path)}</code>: {count(counts['fit'], 'target')} "
        f"{ROLE_TITLES['fit']}, {counts['held_out']} {ROLE_TITLES['held_out']} and "
        f"{count(counts['check'], 'check')} {ROLE_TITLES['check'].removeprefix('checks ')}. "
        "Met or not is judged from "
        f"{e(known.source)}.</p>"
    )
    held = known.with_role("held_out")
    if held:
        met = [r for r in held if r.met == "yes"]
        missed = [r for r in held if r.met == "no"]
        unmeasured = [r for r in held if r.met == "not measured"]
        line = f"<p><b>Held-out patterns met: {len(met)} of {len(held)}</b>"
        if not known.out_of_sample:
            line = (
                "<p><b>Held-out patterns met with the default parameters (a check, not an "
                f"out-of-sample test): {len(met)} of {len(held)}</b>"
            )
        if met:
            line += " (" + e("; ".join(_short(r.description) for r in met)) + ")"
        if missed:
            line += ". Not met: " + e("; ".join(_short(r.description) for r in missed))
        if unmeasured:
            line += ". Not measurable from these results: " + e(
                "; ".join(_short(r.description) for r in unmeasured)
            )
        out.append(line + ".</p>" + _targets_table(held))
    for role in ("fit", "check"):
        rows = known.with_role(role)
        if rows:
            n_met = sum(r.met == "yes" for r in rows)
            n_measured = sum(r.met != "not measured" for r in rows)
            title = {
                "fit": "Targets fitted (in the calibration's distance)",
                "check": "Checks of policy inputs (never fitted)",
            }[role]
            out.append(
                f"<p>{title}: {n_met} of {n_measured} measured are met"
                + (
                    f" ({len(rows) - n_measured} not measurable from these results)"
                    if n_measured < len(rows)
                    else ""
                )
                + ".</p>"
                + _targets_table(rows)
            )
    return "".join(out)


# --- tables -----------------------------------------------------------------------------------
def comparison_table_html(
    cmp: Comparison, outcomes: list[str], caption: str, settings: list[str] | None = None
) -> str:
    """A table: one row per setting, per outcome the mean [CI], difference [CI] and d_z."""
    rs = cmp.results
    chosen = [OUTCOMES[o] for o in outcomes if o in {x.name for x in cmp.outcomes}]
    head1 = "".join(
        f'<th colspan="3">{e(o.label)}{e(f" ({o.display_unit})" if o.display_unit else "")}</th>'
        for o in chosen
    )
    head2 = "".join(
        f"<th>mean<br>[95% CI]</th><th>difference{e(f' ({o.diff_unit})' if o.diff_unit else '')}"
        "<br>[95% CI]</th><th>d<sub>z</sub></th>"
        for o in chosen
    )
    rows = []
    for setting in settings or list(dict.fromkeys(cmp.long["setting"])):
        cells = []
        is_ref = False
        for o in chosen:
            r = row(cmp.long, setting, o.name)
            if r is None:
                cells.append("<td></td><td></td><td></td>")
                continue
            is_ref = bool(r["is_reference"])
            mean = cell(
                fmt(r["mean"], o, minus=MINUS), fmt_ci(r["ci_low"], r["ci_high"], o, minus=MINUS)
            )
            diff = "reference" if is_ref else cell(*fmt_diff(r, o, MINUS))
            cells.append(
                f"<td>{mean}</td>"
                f'<td class="{gain_class(r, o)}">{diff}</td>'
                f"<td>{'' if is_ref else e(fmt_dz(r['d_z']).replace('-', MINUS))}</td>"
            )
        cls = ' class="ref"' if is_ref else ""
        rows.append(f'<tr{cls}><td class="l">{e(rs.title(setting))}</td>{"".join(cells)}</tr>')
    return (
        f"<div class='scroll'><table><caption class='small'>{e(caption)}</caption>"
        f'<tr><th class="l" rowspan="2">setting</th>{head1}</tr><tr>{head2}</tr>'
        + "".join(rows)
        + "</table></div>"
    )


def tables_html(data: ReportData) -> str:
    cmp, rs = data.cmp, data.rs
    window = cmp.window.describe(rs.frequency)
    headline = [o.name for o in cmp.outcomes]
    out = comparison_table_html(
        cmp,
        KEY_OUTCOMES,
        f"Outcomes for residents and communities, {window}; differences from "
        f"{data.title(cmp.reference)}, paired by replication. Blue cells: better with the 95% CI "
        "excluding 0; orange: worse.",
    )
    people = [o for o in ("n_orgs", "n_social_workers") if o in headline]
    money = [o for o in headline if o in OUTCOMES and o not in KEY_OUTCOMES and o not in people]
    if people:
        out += comparison_table_html(
            cmp, people, "Social organizations and social workers (same window and reference)."
        )
    if money:
        out += comparison_table_html(
            cmp,
            money,
            "Money (same window and reference). Spend is annualised (M yuan/year); cost per "
            "service hour is spend over hours delivered by organizations; money to local "
            "organizations is the share of contract and project money not paid to imported "
            "brand agencies (n/a where nothing was paid or delivered).",
        )
    if data.cmp_focus is not None and data.focus is not None:
        ablated = [s.label for s in rs.roles.ablations.values()]
        out += "<h3>Against the focus: the focus without each lever</h3>" + comparison_table_html(
            data.cmp_focus,
            KEY_OUTCOMES,
            f"Differences from {data.title(data.focus)}, paired by replication.",
            settings=[data.focus.label, *ablated],
        )
    return out


def _role_text(rs: ResultSet, label: str) -> str:
    roles = rs.roles
    s = rs.setting(label)
    if s.point == roles.reference.point:
        return "reference"
    if roles.focus is not None and s.point == roles.focus.point:
        return "focus"
    lever = roles.lever_role(s)
    if lever is None:
        return ""
    what = "the focus without" if lever[0] == "ablations" else "the reference plus only"
    return f"{what} {lever_label(lever[1])}"


def scenarios_html(data: ReportData) -> str:
    """What each setting changes, in plain words (the scenario descriptions), with its role."""
    rs = data.rs
    description = " ".join(str(rs.manifest.get("definition", {}).get("description", "")).split())
    intro = f"<p>{e(description)}</p>" if description else ""
    if rs.is_design:
        factors = "".join(
            f"<li><code>{e(f['key'])}</code>: "
            + (
                e(", ".join(map(str, f["values"])))
                if f.get("values")
                else e(f"{f['min']} to {f['max']}")
            )
            + (" (multiplies the base scenario's values)" if f.get("scale") else "")
            + "</li>"
            for f in rs.factors
        )
        base = rs.settings[0] if rs.settings else None
        return intro + (
            f"<p>A <b>{e(rs.method)}</b> design of {len(rs.settings)} points on the scenario "
            f"<b>{e(base.scenario if base else '')}</b>, varying:</p><ul>{factors}</ul>"
            f"<p>The base scenario: {e(base.description if base else '')}</p>"
        )
    rows = "".join(
        f'<tr><td class="l"><b>{e(rs.title(s))}</b><br>'
        f'<span class="small"><code>{e(s.scenario)}</code></span></td>'
        f'<td class="l">{e(_role_text(rs, s.label))}</td>'
        f'<td class="l">{e(" ".join(s.description.split()))}</td></tr>'
        for s in rs.settings
    )
    head = (
        '<tr><th class="l">setting</th><th class="l">role</th>'
        '<th class="l">what it changes</th></tr>'
    )
    return f"{intro}<table>{head}{rows}</table>"


def figures_html(data: ReportData) -> str:
    out = []
    for k, plot in enumerate(data.plots, 1):
        png = base64.b64encode(plot.png).decode("ascii")
        # The PNG carries its title and caption; the caption is also the alt text, so the
        # page stays readable without images and is not printed twice.
        out.append(
            f'<figure id="fig-{e(plot.name)}"><figcaption><b>Figure {k}. {e(plot.title)}.'
            f"</b> <span class='small'>(<code>figures/{e(plot.name)}.png</code>, .svg)</span>"
            f'</figcaption><img alt="{e(plot.title)}. {e(plot.caption)}" '
            f'src="data:image/png;base64,{png}"></figure>'
        )
    return "".join(out) or "<p>No figures apply to this experiment.</p>"


def _list(lines: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{e(line)}</li>" for line in lines) + "</ul>"


def tradeoffs_html(data: ReportData) -> str:
    """Trade-offs found by code: settings and levers with one outcome better and one worse."""
    rs = data.rs
    out = []
    ref = data.title(data.reference)
    out.append(
        f"<p>Settings against {e(ref)} where one key outcome improves and another worsens, each "
        "beyond its 95% interval (improvement signed positive):</p>"
        + (_list(data.tradeoffs) if data.tradeoffs else "<p class='small'>None found.</p>")
    )
    if data.cmp_focus is not None:
        out.append(
            "<p>Levers within the focus (the focus minus the focus without the lever) with the "
            "same kind of trade-off:</p>"
            + (
                _list(data.lever_tradeoffs)
                if data.lever_tradeoffs
                else "<p class='small'>None found.</p>"
            )
        )
    money = [
        n
        for n in ("spend", "local_money_share", "contract_hhi")
        if n in set(data.cmp.long["outcome"])
    ]
    if money:
        rows = []
        for setting in dict.fromkeys(data.cmp.long["setting"]):
            spend = row(data.cmp.long, setting, "spend")
            if spend is None or not np.isfinite(spend["mean"]) or spend["mean"] <= 0:
                continue
            cells = []
            for n in money:
                r = row(data.cmp.long, setting, n)
                o = OUTCOMES.get(n)
                if r is None or not np.isfinite(r["mean"]):
                    cells.append("<td>n/a</td>")
                elif o is not None and n == "contract_hhi":  # the header gives the scale
                    cells.append(f"<td>{e(fmt(r['mean'], o, minus=MINUS))}</td>")
                elif o is not None:
                    cells.append(f"<td>{e(with_unit(r['mean'], o))}</td>")
                else:
                    cells.append(f"<td>{r['mean']:.2f}</td>")
            rows.append(f"<tr><td class='l'>{e(rs.title(setting))}</td>{''.join(cells)}</tr>")
        heads = {
            "spend": "paid to organizations",
            "local_money_share": "share to local organizations",
            "contract_hhi": "concentration of contract money (HHI, 0-1)",
        }
        out.append(
            "<p>Who gets the money: the share of contract and project money paid to local "
            "organizations rather than imported brand agencies, and the concentration of contract "
            "money (Herfindahl index: 1 = one organization holds everything), for every setting "
            f"that pays organizations ({e(data.cmp.window.describe(rs.frequency))}):</p>"
            "<table><tr><th class='l'>setting</th>"
            + "".join(f"<th>{e(heads[n])}</th>" for n in money)
            + "</tr>"
            + "".join(rows)
            + "</table>"
        )
    if data.costs and data.focus is not None:
        out.append(
            f"<p>Cost per unit of outcome, {e(data.title(data.focus))} against {e(ref)}: "
            + e("; ".join(data.costs))
            + ".</p>"
        )
    if data.dips:
        out.append("<p>Transient dips (found in the monthly series):</p>" + _list(data.dips))
    elif data.focus is not None:
        out.append(
            f"<p class='small'>No transient dip under {e(data.title(data.focus))} is larger than "
            "twice the seed noise of the monthly mean.</p>"
        )
    return "".join(out)


def horizon_html(data: ReportData) -> str:
    """Has each outcome levelled off at the end of the runs (and of a longer run, if given)?"""
    if not data.levelling:
        return "<p>Levelling off needs monthly district results and a focus.</p>"
    out = [
        "<p>Whether each key outcome of the focus has levelled off: its trend over the last 12 "
        "months (a straight line fitted to each replication, in units a year) with a 95% "
        "interval over replications. Where it is still moving, the answer depends on when one "
        "looks.</p>"
    ]
    for year, lines in sorted(data.levelling.items()):
        out.append(f"<h3>At the end of {e(year)}</h3>" + _list(lines))
    if data.january:
        out.append("<h3>Steps at the turn of the year</h3>" + _list(data.january))
    if len(data.levelling) == 1:
        out.append(
            "<p class='small'>Pass <code>--horizon</code> with the results of "
            "<code>experiments/horizon.toml</code> (the same settings run on to 2020 with the last "
            "year's policy) to see whether the outcomes level off later.</p>"
        )
    return "".join(out)


def streets_html(data: ReportData) -> str:
    cmp_street, focus, rs = data.cmp_street, data.focus, data.rs
    if cmp_street is None:
        return "<p>Street results are not stored for this experiment.</p>"
    ext = street_extremes(cmp_street.long, cmp_street.outcomes)
    if ext.empty:
        return "<p>No street differences to report.</p>"
    intro = ""
    if focus is not None and data.streets:
        intro = (
            f"<p>Do streets differ in the effect of <b>{e(rs.title(focus))}</b> beyond seed "
            "noise? (One-way ANOVA of the paired per-seed differences by street.) Streets are "
            "ranked, and named as gaining most or least, only where they differ and two halves "
            "of the seeds rank them alike (Spearman rank correlation of the streets' mean gains "
            f"at least {STABLE_RANK}; the correlation is given with each line).</p>"
            + _list(data.streets)
        )
    rows = []
    for _, r in ext.iterrows():
        o = OUTCOMES[str(r["outcome"])]
        rows.append(
            f'<tr><td class="l">{e(rs.title(str(r["setting"])))}</td>'
            f'<td class="l">{e(o.label)}</td>'
            f"<td>{r['n_streets_better']}</td><td>{r['n_streets_worse']}</td></tr>"
        )
    return (
        intro + "<p>All settings: how many streets are better or worse off than under the "
        "reference, with the 95% CI excluding 0 "
        f"(of {int(ext['n_streets'].max())}). The street-by-street values are in "
        "<code>tables/compare_street_*.csv</code> and the street heatmaps.</p>"
        '<table><tr><th class="l">setting</th><th class="l">outcome</th>'
        "<th>streets better</th><th>streets worse</th></tr>" + "".join(rows) + "</table>"
    )


# --- caveats and sensitivity ----------------------------------------------------------------
def _param_source(key: str) -> tuple[str, str]:
    """(source, description) of a lever or parameter from sim.params, or ('', '')."""
    try:
        from sim.params import Params, Policy

        head, _, name = key.partition(".")
        cls = Policy if head == "policy" else Params
        info = cls.model_fields[name]
        return str((info.json_schema_extra or {}).get("source", "")), str(info.description or "")
    except (ImportError, KeyError):
        return "", ""


def sensitivity_html(data: ReportData) -> str:
    table, source = data.sensitivity, data.sensitivity_rs
    if table is None:
        try:
            from sim.params import Params

            fields = Params.model_fields.values()
            n = len(Params.model_fields)
            assumed = sum(
                "assumption" in str((f.json_schema_extra or {}).get("source", "")).lower()
                for f in fields
            )
            count = f"{assumed} of the model's {n} parameters are labelled assumptions "
        except ImportError:
            count = "Most model parameters are assumptions "
        return (
            f"<p>{e(count)}(see <code>docs/parameters.md</code>). No sensitivity analysis was "
            "given, so which of them matter most is not known from this report. Run "
            "<code>sanshe sweep experiments/sensitivity.toml</code> and pass its results with "
            "<code>--sensitivity</code>.</p>"
        )
    method = table.attrs.get("method", "morris")
    key, conf = ("mu_star", "mu_star_conf") if method == "morris" else ("ST", "ST_conf")
    rows = []
    for outcome, part in table[table["rank"] <= 3].groupby("outcome", sort=False):
        o = OUTCOMES.get(str(outcome))
        for _, r in part.iterrows():
            src, desc = _param_source(str(r["factor"]))
            scale = o.display_scale if (o and method == "morris") else 1.0
            unit = (o.diff_unit if o else "") if method == "morris" else ""
            rows.append(
                f'<tr><td class="l">{e(o.label if o else outcome)}</td><td>{int(r["rank"])}</td>'
                f'<td class="l"><code>{e(r["factor"])}</code><br><span class="small">'
                f"{e(desc)}</span></td>"
                f"<td>{r[key] * scale:.3g} ± {r[conf] * scale:.2g} {e(unit)}</td>"
                f'<td class="l small">{e(src)}</td></tr>'
            )
    label = "μ* ± 95% CI half-width" if method == "morris" else "ST ± 95% CI half-width"
    where = f" (from <code>{e(source.path)}</code>)" if source is not None else ""
    what = (
        "The indices describe how the reform's <i>effect</i> (reform minus no reform on the same "
        "seeds and parameter values) depends on each factor over its range"
        if table.attrs.get("quantity") == "effect"
        else "The indices describe how outcome <i>levels</i> under the screened scenario depend "
        "on each factor over its range, not how the reform's <i>effect</i> does"
    )
    warned = table.attrs.get("warnings") or []
    caution = (
        f" <b>The sample is too small for stable indices</b> for {len(warned)} outcome(s): "
        "read the ranks as rough."
        if warned
        else ""
    )
    return (
        f"<p>The three factors that move each outcome most, by {e(method)} screening"
        f"{where}. {e(table.attrs.get('note', ''))} {what}; a factor marked 'assumption' that "
        f"ranks high is where better evidence would most change the numbers.{caution}</p>"
        '<table><tr><th class="l">outcome</th><th>rank</th><th class="l">factor</th>'
        f'<th>{e(label)}</th><th class="l">source of its default</th></tr>'
        + "".join(rows)
        + "</table>"
    )


def caveats_html(data: ReportData) -> str:
    from sim.district import source_note

    cmp, rs = data.cmp, data.rs
    items = [
        "Confidence intervals cover the model's run-to-run randomness (replications) only. They "
        "do not cover uncertainty in the parameters, most of which are assumptions, nor in the "
        "model's structure.",
        f"{cmp.long['setting'].nunique() - 1} settings are compared with "
        f"{len(cmp.outcomes)} outcomes each; the CIs and p-values are not adjusted for these "
        "multiple comparisons. Effect sizes (d_z) are very large because run-to-run noise is "
        "small next to the differences and pairing removes the noise settings share; they say "
        "the difference is certain in the model, not that it is large in practice.",
        f"Headline values are {cmp.window.describe(rs.frequency)}; monthly values are noisy.",
    ]
    sources = {str((s.definition or {}).get("district", {}).get("source", "")) for s in rs.settings}
    items += [n for src in sorted(sources) if (n := source_note(src))]
    if data.target_checks:
        items.append(
            f"Against the observed record ({data.targets_path}): " + " ".join(data.target_checks)
        )
    items += data.calibration
    return "<ul>" + "".join(f"<li>{e(i)}</li>" for i in items) + "</ul>"


# --- provenance and files -------------------------------------------------------------------
def provenance_html(data: ReportData) -> str:
    rs, sens_rs = data.rs, data.sensitivity_rs
    m = rs.manifest
    seeds = m.get("seeds", {})
    versions = m.get("versions", {})
    report_versions = {}
    for pkg in ("matplotlib", "SALib", "scipy", "pandas", "numpy"):
        try:
            report_versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            report_versions[pkg] = "not installed"
    from sim.io import git_commit

    rows = [
        ("experiment", f"{m.get('experiment')} (hash {m.get('experiment_hash')})"),
        ("experiment file", m.get("experiment_path")),
        (
            "design",
            f"{rs.method}; {len(rs.settings)} settings x {m.get('replications')} replications",
        ),
        (
            "runs",
            f"{m.get('n_done', '?')} done, {m.get('n_failed', '?')} failed or missing "
            f"(status: {m.get('status')})",
        ),
        ("seeds", f"root seed {seeds.get('root_seed')}; {seeds.get('scheme', '')}"),
        ("roles", "declared in the experiment file" if rs.roles.declared else "not declared"),
        ("sweep started / ended", f"{m.get('started')} / {m.get('ended')}"),
        ("model commit (sweep)", m.get("git_commit")),
        ("model versions (sweep)", ", ".join(f"{k} {v}" for k, v in versions.items())),
        ("sweep host", m.get("host")),
        ("report written", datetime.now(UTC).isoformat(timespec="seconds")),
        ("report commit", git_commit()),
        ("report versions", ", ".join(f"{k} {v}" for k, v in report_versions.items())),
        ("results directory", str(rs.path.resolve())),
    ]
    if sens_rs is not None:
        sm = sens_rs.manifest
        rows.append(
            (
                "sensitivity experiment",
                f"{sm.get('experiment')} ({sens_rs.method}, {len(sens_rs.settings)} points x "
                f"{sm.get('replications')} replications, root seed "
                f"{sm.get('seeds', {}).get('root_seed')}, commit {sm.get('git_commit')}, "
                f"ended {sm.get('ended')}) in {sens_rs.path.resolve()}",
            )
        )
    body = "".join(f'<tr><th class="l">{e(k)}</th><td class="l">{e(v)}</td></tr>' for k, v in rows)
    return f"<table>{body}</table>"


def files_html(paths: list[Path], root: Path) -> str:
    items = "".join(
        f"<li><code>{e(p.relative_to(root) if p.is_relative_to(root) else p)}</code></li>"
        for p in paths
    )
    return f"<p>Written next to this report (in <code>{e(root)}</code>):</p><ul>{items}</ul>"


def build(data: ReportData) -> dict[str, tuple[str, str]]:
    """Every section in order: HTML id -> (heading, body)."""
    return {
        "summary": ("", summary_html(data)),
        "known": ("What is known and how well", known_html(data)),
        "tradeoffs": ("Trade-offs found in the results", tradeoffs_html(data)),
        "horizon": ("The horizon: have the outcomes levelled off?", horizon_html(data)),
        "scenarios": ("What each setting changes", scenarios_html(data)),
        "headline": ("Headline tables", tables_html(data)),
        "figures": ("Figures", figures_html(data)),
        "streets": ("Streets: who gains and who loses", streets_html(data)),
        "caveats": ("Key caveats", caveats_html(data)),
        "sensitivity": ("Assumptions that matter most", sensitivity_html(data)),
        "provenance": ("Provenance", provenance_html(data)),
        "files": ("Files", files_html(data.written, data.rs.path)),
    }
