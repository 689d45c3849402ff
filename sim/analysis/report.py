"""One self-contained HTML report of an experiment (``sanshe report``).

The file opens offline: styles are inline, figures are embedded as base64 PNG, and it loads no
script, font or stylesheet. Sections (HTML ids): ``summary`` (the answer in words), ``scenarios``
(what each setting changes), ``headline`` (the tables), ``figures``, ``streets`` (who gains and
loses), ``caveats`` (with ``sensitivity``: the assumptions that matter most), ``provenance``
(versions, seeds, commit, dates) and ``files`` (every table and figure written).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.compare import (
    Comparison,
    compare,
    extremes_sentences,
    fmt,
    fmt_ci,
    fmt_diff,
    fmt_dz,
    street,
    street_extremes,
    write_comparison,
)
from sim.analysis.outcomes import DEFAULT_OUTCOMES, KEY_OUTCOMES, OUTCOMES, Outcome
from sim.analysis.results import ResultSet, Setting, scenario_label
from sim.errors import UserError
from sim.io import git_commit, write_text

MINUS = "\u2212"
SECTIONS = (
    "summary",
    "scenarios",
    "headline",
    "figures",
    "streets",
    "caveats",
    "sensitivity",
    "provenance",
    "files",
)
A13_ORGS = 1450  # FACTS A13: social organizations district-wide
A5_2016 = 37.53e6  # FACTS A5: purchase spending in 2016, yuan

CSS = """
body { font-family: "Helvetica Neue", Helvetica, Arial, "Noto Sans CJK SC", "PingFang SC",
       "Microsoft YaHei", "Sanshe CJK Subset", sans-serif; max-width: 1240px; margin: 2em auto;
       padding: 0 1.2em; color: #1b1b1b; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #ddd;
     padding-bottom: 0.2em; margin-top: 2em; } h3 { margin-top: 1.4em; }
.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.88em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; vertical-align: top; }
th { background: #f2f2f2; } td.l, th.l { text-align: left; }
tr.ref td { background: #f7f7f7; font-style: italic; }
td.better { background: #e3f0fa; } td.worse { background: #fbe5e1; }
figure { margin: 1.6em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #333; }
.answer { background: #f4f8f4; border-left: 4px solid #4a8a4a; padding: 0.6em 1em; }
code { background: #f4f4f4; padding: 0 0.2em; }
.small { font-size: 0.85em; color: #555; }
.ci { font-size: 0.8em; color: #555; white-space: nowrap; }
.scroll { overflow-x: auto; }
"""


def font_face_css() -> str:
    """@font-face for the bundled CJK subset as a data URI, so Chinese names show offline."""
    from sim.analysis.fonts import BUNDLED_FAMILY, BUNDLED_FONT

    if not BUNDLED_FONT.is_file():
        return ""
    data = base64.b64encode(BUNDLED_FONT.read_bytes()).decode("ascii")
    return (
        f'@font-face {{ font-family: "{BUNDLED_FAMILY}"; '
        f'src: url(data:font/otf;base64,{data}) format("opentype"); }}\n'
    )


def _e(text: Any) -> str:
    return html.escape(str(text))


def _row(long: pd.DataFrame, setting: str, outcome: str) -> pd.Series | None:
    part = long[(long["setting"] == setting) & (long["outcome"] == outcome)]
    return None if part.empty else part.iloc[0]


def _gain_class(row: pd.Series, o: Outcome) -> str:
    """'better' or 'worse' when the paired CI is entirely on one side, else ''."""
    if o.better is None or row["is_reference"]:
        return ""
    lo, hi = row["diff_ci_low"], row["diff_ci_high"]
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return ""
    sign = 1 if o.better == "higher" else -1
    if sign * lo > 0 and sign * hi > 0:
        return "better"
    if sign * lo < 0 and sign * hi < 0:
        return "worse"
    return ""


def diff_text(row: pd.Series, o: Outcome) -> str:
    """'−39.9 pp [−40.8, −39.1]' (plain text)."""
    unit = f" {o.diff_unit}" if o.diff_unit else ""
    value, ci = fmt_diff(row, o, MINUS)
    return f"{value}{unit} {ci}"


def with_unit(value: float, o: Outcome) -> str:
    """'25.7%', '50.5 (score 0-100)', '33.67 M yuan/year'."""
    text = fmt(value, o, minus=MINUS)
    if o.display_unit == "%":
        return f"{text}%"
    if o.display_unit.startswith("score"):
        return f"{text} ({o.display_unit})"
    return f"{text} {o.display_unit}".strip()


def _cell(value: str, ci: str) -> str:
    """A value with its CI on a second, smaller line (HTML)."""
    return f'{_e(value)}<br><span class="ci">{_e(ci)}</span>'


# --- sections --------------------------------------------------------------------------------
def comparison_table_html(cmp: Comparison, outcomes: list[str], caption: str) -> str:
    """A table: one row per setting, per outcome the mean [CI], difference [CI] and d_z."""
    chosen = [OUTCOMES[o] for o in outcomes if o in {x.name for x in cmp.outcomes}]
    head1 = "".join(
        f'<th colspan="3">{_e(o.label)}{_e(f" ({o.display_unit})" if o.display_unit else "")}</th>'
        for o in chosen
    )
    head2 = "".join(
        f"<th>mean<br>[95% CI]</th><th>difference{_e(f' ({o.diff_unit})' if o.diff_unit else '')}"
        "<br>[95% CI]</th><th>d<sub>z</sub></th>"
        for o in chosen
    )
    rows = []
    for setting in dict.fromkeys(cmp.long["setting"]):
        cells = []
        is_ref = False
        for o in chosen:
            r = _row(cmp.long, setting, o.name)
            if r is None:
                cells.append("<td></td><td></td><td></td>")
                continue
            is_ref = bool(r["is_reference"])
            mean = _cell(
                fmt(r["mean"], o, minus=MINUS), fmt_ci(r["ci_low"], r["ci_high"], o, minus=MINUS)
            )
            diff = "reference" if is_ref else _cell(*fmt_diff(r, o, MINUS))
            cls = _gain_class(r, o)
            cells.append(
                f"<td>{mean}</td>"
                f'<td class="{cls}">{diff}</td>'
                f"<td>{'' if is_ref else _e(fmt_dz(r['d_z']).replace('-', MINUS))}</td>"
            )
        cls = ' class="ref"' if is_ref else ""
        rows.append(
            f'<tr{cls}><td class="l">{_e(scenario_label(setting))}</td>{"".join(cells)}</tr>'
        )
    return (
        f"<div class='scroll'><table><caption class='small'>{_e(caption)}</caption>"
        f'<tr><th class="l" rowspan="2">setting</th>{head1}</tr><tr>{head2}</tr>'
        + "".join(rows)
        + "</table></div>"
    )


def _focus(rs: ResultSet, ref: Setting) -> Setting | None:
    """The main reform setting: ``wuhou_reform`` if present, else the first non-reference one."""
    for s in rs.settings:
        if s.scenario == "wuhou_reform" and not s.design and s.point != ref.point:
            return s
    return next((s for s in rs.settings if s.point != ref.point), None)


def summary_html(cmp: Comparison, focus: Setting | None, cmp_focus: Comparison | None) -> str:
    """The answer in words: the reform against the reference, the best settings, what levers add."""
    long = cmp.long
    parts = []
    if focus is not None:
        items = []
        for name in [*KEY_OUTCOMES, "spend", "cost_per_service_hour"]:
            o = OUTCOMES[name]
            r = _row(long, focus.label, name)
            ref_row = _row(long, cmp.reference, name)
            if r is None or ref_row is None:
                continue
            if not np.isfinite(ref_row["mean"]):
                items.append(
                    f"<li><b>{_e(o.label)}</b>: {_e(with_unit(r['mean'], o))} "
                    f"{_e(fmt_ci(r['ci_low'], r['ci_high'], o))} (no value under the "
                    "reference)</li>"
                )
                continue
            items.append(
                f"<li><b>{_e(o.label)}</b>: {_e(with_unit(r['mean'], o))} against "
                f"{_e(with_unit(ref_row['mean'], o))}; difference {_e(diff_text(r, o))}</li>"
            )
        parts.append(
            f"<p><b>{_e(scenario_label(focus.label))}</b> against "
            f"<b>{_e(scenario_label(cmp.reference))}</b>, "
            f"{_e(cmp.window.describe(cmp.results.frequency))} (paired differences with 95% CIs "
            "over replications):</p><ul>" + "".join(items) + "</ul>"
        )
    # Which settings lower burden and raise quality, both surely?
    both = []
    for setting in dict.fromkeys(long["setting"]):
        rb, rq = _row(long, setting, "admin_burden"), _row(long, setting, "service_quality")
        if rb is None or rq is None or rb["is_reference"]:
            continue
        ob, oq = OUTCOMES["admin_burden"], OUTCOMES["service_quality"]
        if _gain_class(rb, ob) == "better" and _gain_class(rq, oq) == "better":
            both.append((rb["diff"], rq["diff"], setting))
    if both:
        best_b = min(both)
        best_q = max(both, key=lambda t: t[1])
        parts.append(
            f"<p>{len(both)} of {long['setting'].nunique() - 1} settings lower the admin burden "
            "<i>and</i> raise service quality against the reference (both 95% CIs on the better "
            f"side). Largest fall in burden: <b>{_e(scenario_label(best_b[2]))}</b> "
            f"({_e(fmt(best_b[0], OUTCOMES['admin_burden'], True, MINUS))} pp); largest rise in "
            f"quality: <b>{_e(scenario_label(best_q[2]))}</b> "
            f"({_e(fmt(best_q[1], OUTCOMES['service_quality'], True, MINUS))} points).</p>"
        )
    if cmp_focus is not None and focus is not None:
        lines = []
        for setting in dict.fromkeys(cmp_focus.long["setting"]):
            if "_minus_" not in setting:
                continue
            cells = []
            for name in ("admin_burden", "service_quality"):
                r = _row(cmp_focus.long, setting, name)
                if r is not None:
                    cells.append(f"{OUTCOMES[name].label} {diff_text(r, OUTCOMES[name])}")
            lever = setting.split("_minus_", 1)[1].replace("_", " ")
            lines.append(f"<li>without <b>{_e(lever)}</b>: {_e('; '.join(cells))}</li>")
        if lines:
            parts.append(
                f"<p>What each lever contributes: the reform minus one lever, against "
                f"{_e(scenario_label(focus.label))} (a positive burden difference means the lever "
                "lowers burden; a negative quality difference means it raises quality):</p><ul>"
                + "".join(lines)
                + "</ul>"
            )
    return '<div class="answer">' + "".join(parts) + "</div>"


def scenarios_html(rs: ResultSet) -> str:
    """What each setting changes, in plain words (the scenario descriptions)."""
    if rs.is_design:
        factors = "".join(
            f"<li><code>{_e(f['key'])}</code>: "
            + (
                _e(", ".join(map(str, f["values"])))
                if f.get("values")
                else _e(f"{f['min']} to {f['max']}")
            )
            + (" (multiplies the base scenario's values)" if f.get("scale") else "")
            + "</li>"
            for f in rs.factors
        )
        base = rs.settings[0] if rs.settings else None
        return (
            f"<p>A <b>{_e(rs.method)}</b> design of {len(rs.settings)} points on the scenario "
            f"<b>{_e(base.scenario if base else '')}</b>, varying:</p><ul>{factors}</ul>"
            f"<p>The base scenario: {_e(base.description if base else '')}</p>"
        )
    rows = "".join(
        f'<tr><td class="l"><b>{_e(scenario_label(s.label))}</b><br>'
        f'<span class="small"><code>{_e(s.scenario)}</code></span></td>'
        f'<td class="l">{_e(" ".join(s.description.split()))}</td></tr>'
        for s in rs.settings
    )
    head = '<tr><th class="l">setting</th><th class="l">what it changes</th></tr>'
    return f"<table>{head}{rows}</table>"


def figures_html(plots: list[Any]) -> str:
    out = []
    for k, plot in enumerate(plots, 1):
        data = base64.b64encode(plot.png).decode("ascii")
        # The PNG carries its title and caption; the caption is also the alt text, so the
        # page stays readable without images and is not printed twice.
        out.append(
            f'<figure id="fig-{_e(plot.name)}"><figcaption><b>Figure {k}. {_e(plot.title)}.'
            f"</b> <span class='small'>(<code>figures/{_e(plot.name)}.png</code>, .svg)</span>"
            f'</figcaption><img alt="{_e(plot.title)}. {_e(plot.caption)}" '
            f'src="data:image/png;base64,{data}"></figure>'
        )
    return "".join(out) or "<p>No figures apply to this experiment.</p>"


def streets_html(cmp_street: Comparison | None, focus: Setting | None) -> str:
    if cmp_street is None:
        return "<p>Street results are not stored for this experiment.</p>"
    ext = street_extremes(cmp_street.long, cmp_street.outcomes)
    if ext.empty:
        return "<p>No street differences to report.</p>"
    first = ext[ext["setting"] == focus.label] if focus is not None else ext.iloc[:0]
    lines = extremes_sentences(first, minus=MINUS)
    items = "".join(f"<li>{_e(line[2:])}</li>" for line in lines)
    rows = []
    for _, r in ext.iterrows():
        o = OUTCOMES[str(r["outcome"])]
        rows.append(
            f'<tr><td class="l">{_e(scenario_label(str(r["setting"])))}</td>'
            f'<td class="l">{_e(o.label)}</td>'
            f'<td class="l">{_e(street(r["most_gain_street"]))} '
            f"({_e(fmt(r['most_gain_diff'], o, True, MINUS))})</td>"
            f'<td class="l">{_e(street(r["least_gain_street"]))} '
            f"({_e(fmt(r['least_gain_diff'], o, True, MINUS))})</td>"
            f"<td>{r['n_streets_better']}</td><td>{r['n_streets_worse']}</td></tr>"
        )
    return (
        (
            f"<p>Under <b>{_e(scenario_label(focus.label))}</b> against "
            f"{_e(scenario_label(cmp_street.reference))}:</p><ul>{items}</ul>"
            if focus is not None and items
            else ""
        )
        + "<p>All settings: the street with the largest gain and the one with the smallest gain "
        "(or largest loss), and how many streets are better or worse off with the 95% CI "
        f"excluding 0 (of {int(ext['n_streets'].max())}).</p>"
        '<table><tr><th class="l">setting</th><th class="l">outcome</th>'
        '<th class="l">gains most</th><th class="l">gains least / loses most</th>'
        "<th>streets better</th><th>streets worse</th></tr>" + "".join(rows) + "</table>"
    )


def _param_source(key: str) -> tuple[str, str]:
    """(source, description) of a lever or parameter from sim.params, or ('', '')."""
    try:
        from sim.params import Params, Policy

        head, _, name = key.partition(".")
        cls = Policy if head == "policy" else Params
        field = cls.model_fields[name]
        return str((field.json_schema_extra or {}).get("source", "")), str(field.description or "")
    except (ImportError, KeyError):
        return "", ""


def sensitivity_html(table: pd.DataFrame | None, source: ResultSet | None) -> str:
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
            f"<p>{_e(count)}(see <code>docs/parameters.md</code>). No sensitivity analysis was "
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
                f'<tr><td class="l">{_e(o.label if o else outcome)}</td><td>{int(r["rank"])}</td>'
                f'<td class="l"><code>{_e(r["factor"])}</code><br><span class="small">'
                f"{_e(desc)}</span></td>"
                f"<td>{r[key] * scale:.3g} ± {r[conf] * scale:.2g} {_e(unit)}</td>"
                f'<td class="l small">{_e(src)}</td></tr>'
            )
    label = "μ* ± 95% CI half-width" if method == "morris" else "ST ± 95% CI half-width"
    where = f" (from <code>{_e(source.path)}</code>)" if source is not None else ""
    return (
        f"<p>The three factors that move each outcome most, by {_e(method)} screening"
        f"{where}. {_e(table.attrs.get('note', ''))} The indices describe how outcome "
        "<i>levels</i> under the screened scenario depend on each factor over its range, not "
        "how the reform's <i>effect</i> does; a factor marked 'assumption' that ranks high is "
        "where better evidence would most change the numbers.</p>"
        '<table><tr><th class="l">outcome</th><th>rank</th><th class="l">factor</th>'
        f'<th>{_e(label)}</th><th class="l">source of its default</th></tr>'
        + "".join(rows)
        + "</table>"
    )


def calibration_caveats(calibration_dir: str | Path | None) -> list[str]:
    """Caveats from a stored calibration (``sanshe validate-fit`` and ``sanshe screen`` outputs):
    the targets not met, and the parameters the targets and outcomes depend on most."""
    if calibration_dir is None:
        return [
            "The model's free parameters are calibrated to the Wuhou record; how well each target "
            "is met, and which assumptions the results depend on most, is in docs/validation.md "
            "(pass --calibration results/calibration/wuhou to list them here)."
        ]
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
                    f"{r.target} ({r.facts}): "
                    + (
                        f"{r.simulated_mean:,.0f}"
                        if abs(r.simulated_mean) >= 1000
                        else f"{r.simulated_mean:.3g}"
                    )
                    + f" against {r.observed}"
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
            by_param.setdefault(r.parameter, []).append(str(r.output).removeprefix("target "))
        items.append(
            "Morris screening of the calibrated parameters: the outputs depend most on "
            + "; ".join(f"{p} ({', '.join(outs)})" for p, outs in by_param.items())
            + ". These are assumptions; distrust them first."
        )
    if not items:
        raise UserError(
            f"--calibration {folder}: no validation.csv or screening/morris.csv there (allowed: a "
            "directory written by sanshe validate-fit and sanshe screen)"
        )
    return items


def caveats_html(
    cmp: Comparison, focus: Setting | None, rs: ResultSet, calibration: list[str] | None = None
) -> str:
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
    if any((s.definition or {}).get("district", {}).get("source") == "wuhou" for s in rs.settings):
        items.append(
            "The district is Wuhou's 13 streets and 87 communities with 1.26 million residents "
            "(A2), but the number of communities per street and their populations and staff are "
            "synthetic (B1: not published), so street results show how the mechanisms play out "
            "on a plausible map, not on the real one."
        )
    if focus is not None and focus.scenario == "wuhou_reform":
        r = _row(cmp.long, focus.label, "n_orgs")
        if r is not None and np.isfinite(r["mean"]):
            items.append(
                f"Calibration check: the reform ends with {r['mean']:,.0f} social organizations "
                f"(95% CI {r['ci_low']:,.0f} to {r['ci_high']:,.0f}) against {A13_ORGS:,} "
                "reported for the district (A13)."
            )
        r = _row(cmp.long, focus.label, "spend")
        if r is not None and np.isfinite(r["mean"]):
            items.append(
                f"Calibration check: public spend on organizations in the window is "
                f"{r['mean'] / 1e6:.1f} M yuan/year (purchase, projects and funded items) against "
                f"{A5_2016 / 1e6:.2f} M spent on the 139 catalogue items in 2016 (A5) plus about "
                "4 M on projects (A6)."
            )
    items += calibration or []
    return "<ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>"


def provenance_html(rs: ResultSet, sens_rs: ResultSet | None) -> str:
    m = rs.manifest
    seeds = m.get("seeds", {})
    versions = m.get("versions", {})
    report_versions = {}
    for pkg in ("matplotlib", "SALib", "scipy", "pandas", "numpy"):
        try:
            report_versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            report_versions[pkg] = "not installed"
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
    body = "".join(
        f'<tr><th class="l">{_e(k)}</th><td class="l">{_e(v)}</td></tr>' for k, v in rows
    )
    return f"<table>{body}</table>"


def files_html(paths: list[Path], root: Path) -> str:
    items = "".join(
        f"<li><code>{_e(p.relative_to(root) if p.is_relative_to(root) else p)}</code></li>"
        for p in paths
    )
    return f"<p>Written next to this report (in <code>{_e(root)}</code>):</p><ul>{items}</ul>"


# --- the report ------------------------------------------------------------------------------
def build_report(
    results_dir: str | Path,
    sensitivity_dir: str | Path | None = None,
    reference: str | None = None,
    at: str = "final-year",
    progress: Callable[[str], None] | None = None,
    kinds: list[str] | None = None,
    calibration_dir: str | Path | None = None,
) -> Path:
    """Write RESULTS_DIR/report.html with its tables (tables/) and figures (figures/).

    Args:
        results_dir: an experiment's results directory.
        sensitivity_dir: optionally, the results of a Morris or Sobol experiment, whose indices
            name the assumptions that matter most (used automatically if ``results_dir`` is
            itself such a design).
        reference: the setting to difference against (default ``baseline_2013`` or the first).
        at: the time window of the tables (default ``final-year``).
        progress: called with a line of progress text at each step.
        kinds: figure kinds to draw (default: every kind that applies; see sim.analysis.plots).
        calibration_dir: optionally, a calibration's results (validation.csv and
            screening/morris.csv), whose unmet targets and influential parameters join the caveats.
    """
    from sim.analysis.plots import make_figures
    from sim.analysis.sensitivity import sensitivity_table, write_sensitivity

    say = progress or (lambda _msg: None)
    rs = ResultSet(results_dir)
    cal_items = calibration_caveats(calibration_dir)  # a bad --calibration fails before any work
    ref = rs.setting(reference) if reference else rs.default_reference()
    sens_rs = None  # open it now, so a bad --sensitivity fails before any work is done
    if rs.method in ("morris", "sobol"):
        sens_rs = rs
    elif sensitivity_dir is not None:
        sens_rs = ResultSet(sensitivity_dir)
        if sens_rs.method not in ("morris", "sobol"):
            raise UserError(
                f"--sensitivity {sensitivity_dir}: a {sens_rs.method!r} experiment (allowed: the "
                "results of a morris or sobol design, e.g. experiments/sensitivity.toml)"
            )
    written: list[Path] = []
    cmp = cmp_focus = cmp_street = None
    if "district" in rs.levels:
        say(f"[1/5] comparing {len(rs.settings)} settings at district level ({at})")
        names = list(DEFAULT_OUTCOMES["district"])
        if "local_money_share" in rs.columns("district"):
            names.append("local_money_share")  # who gets the money: local or imported agencies
        cmp = compare(rs, ref.point, "district", at, names)
        written += write_comparison(cmp).values()
    else:
        raise UserError(f"level 'district' is not stored in {rs.path}; the report needs it")
    focus = _focus(rs, ref)
    if focus is not None and any("_minus_" in s.scenario for s in rs.settings):
        cmp_focus = compare(rs, focus.point, "district", at)
        written += write_comparison(cmp_focus).values()
    if "street" in rs.levels and len(rs.settings) <= 30:
        say(f"[2/5] comparing streets ({at})")
        cmp_street = compare(rs, ref.point, "street", at)
        written += write_comparison(cmp_street).values()
    table = None
    if sens_rs is not None:
        say(f"[3/5] sensitivity indices ({sens_rs.method}) from {sens_rs.path}")
        table = sensitivity_table(sens_rs, at="final-year")
        written += write_sensitivity(rs, table).values()
    say("[4/5] drawing figures")
    plots = make_figures(
        rs,
        kinds=kinds,
        at=at,
        reference=ref.point,
        sensitivity=(table, str(table.attrs["method"])) if table is not None else None,
        progress=say,
    )
    for p in plots:
        written += p.paths
    say("[5/5] writing the report")
    headline_outcomes = [o.name for o in cmp.outcomes]
    tables = comparison_table_html(
        cmp,
        KEY_OUTCOMES,
        f"Outcomes for residents and communities, {cmp.window.describe(rs.frequency)}; "
        f"differences from {scenario_label(cmp.reference)}, paired by replication. Blue cells: "
        "better with the 95% CI excluding 0; red: worse.",
    )
    people = [o for o in ("n_orgs", "n_social_workers") if o in headline_outcomes]
    money = [o for o in headline_outcomes if o not in KEY_OUTCOMES and o not in people]
    if people:
        tables += comparison_table_html(
            cmp, people, "Social organizations and social workers (same window and reference)."
        )
    if money:
        tables += comparison_table_html(
            cmp,
            money,
            "Money (same window and reference). Spend is annualised (M yuan/year); cost per "
            "service hour is spend over hours delivered by organizations; money to local "
            "organizations is the share of contract and project money not paid to imported "
            "brand agencies (n/a where nothing was paid or delivered).",
        )
    if cmp_focus is not None:
        tables += "<h3>Against the reform: what each lever contributes</h3>" + (
            comparison_table_html(
                cmp_focus,
                KEY_OUTCOMES,
                f"Differences from {scenario_label(cmp_focus.reference)} (the full reform), "
                "paired by replication.",
            )
        )
    title = f"三社联动 simulation: {rs.name}"
    sections = {
        "summary": ("The answer in brief", summary_html(cmp, focus, cmp_focus)),
        "scenarios": ("What each setting changes", scenarios_html(rs)),
        "headline": ("Headline tables", tables),
        "figures": ("Figures", figures_html(plots)),
        "streets": ("Streets: who gains and who loses", streets_html(cmp_street, focus)),
        "caveats": ("Key caveats", caveats_html(cmp, focus, rs, cal_items)),
        "sensitivity": ("Assumptions that matter most", sensitivity_html(table, sens_rs)),
        "provenance": ("Provenance", provenance_html(rs, sens_rs)),
    }
    out = rs.path / "report.html"
    written.append(out)
    sections["files"] = ("Files", files_html(written, rs.path))
    body = "".join(
        f'<section id="{key}"><h2>{_e(heading)}</h2>{content}</section>'
        for key, (heading, content) in sections.items()
    )
    description = " ".join(str(rs.manifest.get("definition", {}).get("description", "")).split())
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{font_face_css()}{CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1><p class='sub'>{_e(description)}</p>"
        f"<p class='small'>Reference: <b>{_e(scenario_label(cmp.reference))}</b>; window: "
        f"{_e(cmp.window.describe(rs.frequency))}; {len(rs.settings)} settings x "
        f"{rs.manifest.get('replications')} replications (common random numbers).</p>"
        f"{body}</body></html>\n"
    )
    write_text(page, out)
    say(f"wrote {out}")
    return out
