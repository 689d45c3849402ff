"""Numbers and names as readers see them: values in display units, differences with their CIs,
street names with pinyin. Used by ``sanshe compare``'s tables, the report and the figures, so the
same outcome reads the same everywhere.

The display scale, unit and digits of each outcome come from the output table
(:mod:`sim.outputs`); this module only turns them into text.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sim.analysis.outcomes import OUTCOMES, Outcome
from sim.analysis.results import scenario_label
from sim.district import STREET_PINYIN
from sim.outputs import diff_digits, format_value

MINUS = "\u2212"  # the typographic minus sign, for text meant for reading


def fmt(
    value: float,
    outcome: Outcome,
    signed: bool = False,
    minus: str = "-",
    digits: int | None = None,
) -> str:
    """A value in display units (e.g. 0.257 -> '25.7' for a % outcome); 'n/a' for NaN.

    The one display rule of every table, :func:`sim.outputs.format_value`.
    """
    return format_value(value, outcome, signed, minus, digits)


def fmt_ci(
    low: float,
    high: float,
    outcome: Outcome,
    signed: bool = False,
    minus: str = "-",
    digits: int | None = None,
) -> str:
    """'[low, high]' in display units, or '[n/a]'."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "[n/a]"
    lo = fmt(low, outcome, signed, minus, digits)
    hi = fmt(high, outcome, signed, minus, digits)
    return f"[{lo}, {hi}]"


def fmt_diff(
    row: pd.Series, outcome: Outcome, minus: str = "-", prefix: str = ""
) -> tuple[str, str]:
    """A difference and its CI with the same decimals: ('-39.8', '[-40.5, -39.1]')."""
    d = diff_digits(row[f"{prefix}diff"], outcome)
    return (
        fmt(row[f"{prefix}diff"], outcome, True, minus, d),
        fmt_ci(row[f"{prefix}diff_ci_low"], row[f"{prefix}diff_ci_high"], outcome, True, minus, d),
    )


def fmt_dz(d: float) -> str:
    if d is None or np.isnan(d):
        return "n/a"
    if not np.isfinite(d):
        return "inf" if d > 0 else "-inf"
    return f"{d:+.2f}"


def street(name: str) -> str:
    """'浆洗街 (Jiangxijie)' for streets whose pinyin is known (sim.district), else the name."""
    pinyin = STREET_PINYIN.get(str(name))
    return f"{name} ({pinyin})" if pinyin else str(name)


def with_unit(value: float, o: Outcome, minus: str = MINUS) -> str:
    """'25.7%', '50.5 (score 0-100)', '33.67 M yuan/year'."""
    text = fmt(value, o, minus=minus)
    if o.display_unit == "%":
        return f"{text}%"
    if o.display_unit.startswith("score"):
        return f"{text} ({o.display_unit})"
    return f"{text} {o.display_unit}".strip()


def diff_text(row: pd.Series, o: Outcome, minus: str = MINUS) -> str:
    """'−39.9 pp [−40.8, −39.1]' (plain text)."""
    unit = f" {o.diff_unit}" if o.diff_unit else ""
    value, ci = fmt_diff(row, o, minus)
    return f"{value}{unit} {ci}"


def extremes_sentences(
    ext: pd.DataFrame, minus: str = "-", title: Callable[[str], str] = scenario_label
) -> list[str]:
    """One bullet per setting and outcome: where the change is best and worst (``title`` names
    a setting, e.g. :meth:`ResultSet.title`)."""
    lines = []
    for _, r in ext.iterrows():
        o = OUTCOMES[str(r["outcome"])]
        best, best_ci = fmt_diff(r, o, minus, prefix="most_gain_")
        worst, worst_ci = fmt_diff(r, o, minus, prefix="least_gain_")
        unit = f" {o.diff_unit}" if o.diff_unit else ""
        worst_gain = (1 if o.better == "higher" else -1) * r["least_gain_diff"]
        verb = "loses most" if worst_gain < 0 else "gains least"
        lines.append(
            f"- {title(str(r['setting']))}, {o.label}: {street(r['most_gain_street'])} "
            "gains most "
            f"({best}{unit} {best_ci}), "
            f"{street(r['least_gain_street'])} {verb} "
            f"({worst}{unit} {worst_ci}); "
            f"{r['n_streets_better']} of {r['n_streets']} streets better, "
            f"{r['n_streets_worse']} worse (95% CI excludes 0)"
        )
    return lines
