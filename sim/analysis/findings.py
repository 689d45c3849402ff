"""Findings the report states, found by code from a results store rather than by hand.

* :func:`tradeoffs` — every setting (against the reference) and every lever (the focus against the
  focus without it) where one key outcome improves and another worsens, each beyond its 95% CI;
* :func:`cost_per_unit` — the extra money paid to organizations per unit of improvement;
* :func:`dips` — transient dips in a setting's monthly series: a fall from a peak larger than the
  band of seed noise, followed by a recovery;
* :func:`levelling` — whether each outcome has levelled off at the end of the runs: the trend
  over the last 12 months (per replication, then a t-interval) against zero;
* :func:`street_variation` — whether streets differ in a setting's effect beyond seed noise
  (one-way ANOVA of the per-replication paired differences by street), and how stable the
  street ranking is across seeds (Spearman correlation of the streets' mean effects between the
  two halves of the replications; a ranking is shown only from :data:`STABLE_RANK` up).

Outcomes come from :mod:`sim.analysis.outcomes`; directions ("better") decide what is an
improvement. Every function returns a table; the ``*_sentences`` helpers turn them into text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from sim.analysis.display import MINUS
from sim.analysis.outcomes import KEY_OUTCOMES, OUTCOMES, Outcome, run_values
from sim.analysis.stats import CONFIDENCE

if TYPE_CHECKING:
    from sim.analysis.compare import Comparison
    from sim.analysis.results import ResultSet, Setting


# A street ranking is shown only if the two halves of the seeds rank the streets alike at least
# this well (Spearman; issue 10's criterion for the street ranking).
STABLE_RANK = 0.8


def _sign(o: Outcome) -> float:
    return {"higher": 1.0, "lower": -1.0}.get(o.better or "", 0.0)


def _num(x: float, digits: int, signed: bool = True) -> str:
    """A number with more decimals (up to 3 more) where it would otherwise read as 0."""
    while x != 0 and round(abs(x), digits) == 0 and digits < 6:
        digits += 1
    text = f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"
    return text.replace("-", MINUS)


# --- trade-offs -------------------------------------------------------------------------------
def tradeoffs(
    cmp: Comparison, outcomes: list[str] | None = None, flip: bool = False
) -> pd.DataFrame:
    """One row per setting with an outcome that surely improves and another that surely worsens.

    ``flip`` reads each difference as reference minus setting (what the reference has that the
    setting lacks): used with the focus as reference, where a setting is the focus without a
    lever, so the row describes the lever itself.
    """
    names = [n for n in (outcomes or KEY_OUTCOMES) if n in {o.name for o in cmp.outcomes}]
    long = cmp.long[~cmp.long["is_reference"]]
    rows = []
    for setting, part in long.groupby("setting", sort=False):
        better, worse = [], []
        for name in names:
            o = OUTCOMES[name]
            r = part[part["outcome"] == name]
            if r.empty or _sign(o) == 0:
                continue
            r = r.iloc[0]
            k = _sign(o) * (-1.0 if flip else 1.0)
            lo, hi = sorted([k * r["diff_ci_low"], k * r["diff_ci_high"]])
            if not (np.isfinite(lo) and np.isfinite(hi)):
                continue
            gain = (
                name,
                k * r["diff"] * o.display_scale,
                lo * o.display_scale,
                hi * o.display_scale,
            )
            if lo > 0:
                better.append(gain)
            elif hi < 0:
                worse.append(gain)
        if better and worse:
            rows.append({"setting": setting, "improves": better, "worsens": worse})
    return pd.DataFrame(rows, columns=["setting", "improves", "worsens"])


def _gain_text(items: list[tuple[str, float, float, float]]) -> str:
    out = []
    for name, value, lo, hi in items:
        o = OUTCOMES[name]
        digits = o.digits
        while round(min(abs(lo), abs(hi), abs(value)), digits) == 0 and digits < o.digits + 3:
            digits += 1  # the same decimals for the value and its bounds
        out.append(
            f"{o.label} {_num(value, digits)} {o.diff_unit} "
            f"[{_num(lo, digits)}, {_num(hi, digits)}]"
        )
    return ", ".join(out)


def tradeoff_sentences(table: pd.DataFrame, title: object, what: str = "") -> list[str]:
    """'<setting> improves A (+x [lo, hi]) but worsens B (...)', improvement signed positive."""
    return [
        f"{what}{title(r.setting)}: improves {_gain_text(r.improves)} but worsens "  # type: ignore[operator]
        f"{_gain_text(r.worsens)}"
        for r in table.itertuples()
    ]


# --- cost per unit of outcome ------------------------------------------------------------------
def cost_per_unit(cmp: Comparison, setting: str) -> pd.DataFrame:
    """Extra money paid to organizations (setting minus reference, M yuan a year) per unit of
    improvement in each key outcome (per pp or point), where the improvement is sure."""
    spend = cmp.long[(cmp.long["setting"] == setting) & (cmp.long["outcome"] == "spend")]
    if spend.empty:
        return pd.DataFrame(columns=["outcome", "extra_spend", "improvement", "per_unit"])
    extra = float(spend.iloc[0]["diff"]) * 1e-6
    rows = []
    for name in KEY_OUTCOMES:
        o = OUTCOMES[name]
        r = cmp.long[(cmp.long["setting"] == setting) & (cmp.long["outcome"] == name)]
        if r.empty or _sign(o) == 0:
            continue
        r = r.iloc[0]
        gain = _sign(o) * r["diff"] * o.display_scale
        lo = min(_sign(o) * r["diff_ci_low"], _sign(o) * r["diff_ci_high"]) * o.display_scale
        if lo > 0 and extra > 0:
            rows.append({"outcome": name, "extra_spend": extra, "improvement": gain,
                         "per_unit": extra / gain})  # fmt: skip
    return pd.DataFrame(rows, columns=["outcome", "extra_spend", "improvement", "per_unit"])


# --- time series: dips and levelling off -------------------------------------------------------
def monthly_values(rs: ResultSet, setting: Setting, outcomes: list[str]) -> pd.DataFrame:
    """One row per replication and month of a setting: each outcome (stored units)."""
    chosen = [OUTCOMES[n] for n in outcomes]
    needs = list(dict.fromkeys(c for o in chosen for c in o.needs))
    frame = rs.load("district", needs)
    frame = frame[frame["point"] == setting.point]
    out = frame[["replication", "month"]].copy()
    for o in chosen:
        out[o.name] = np.asarray(o.values(frame), dtype=float)
    return out.sort_values(["replication", "month"]).reset_index(drop=True)


def dips(
    values: pd.DataFrame, outcomes: list[str] | None = None, after: str | None = None
) -> pd.DataFrame:
    """Transient dips in the mean monthly series (after month ``after``, if given).

    The series is signed so that up is better and smoothed over 3 months. A dip is the largest
    fall from a running peak to a later trough that (a) exceeds twice the median 95% CI half-width
    of the monthly mean (seed noise) and (b) is followed by a recovery of at least half the fall.
    """
    rows = []
    for name in outcomes or KEY_OUTCOMES:
        o = OUTCOMES[name]
        s = _sign(o)
        if s == 0 or name not in values.columns:
            continue
        grouped = values.groupby("month")[name]
        mean = grouped.mean() * s * o.display_scale
        n = grouped.count()
        if int(n.max()) < 2:
            continue  # no seed noise to compare a dip with
        half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * grouped.std() / np.sqrt(n)
        noise = float(np.nanmedian(half * o.display_scale))
        if after is not None:
            mean = mean[mean.index >= after]
        smooth = mean.rolling(3, center=True, min_periods=1).mean()
        if len(smooth) < 6:
            continue
        peak = smooth.cummax()
        fall = peak - smooth
        trough = fall.idxmax()
        depth = float(fall.loc[trough])
        if not np.isfinite(depth) or depth <= 2 * noise or depth <= 0:
            continue
        before = smooth.loc[:trough]
        peak_month = before.idxmax()
        later = smooth.loc[trough:]
        recovered = later[later >= smooth.loc[trough] + depth / 2]
        if recovered.empty:
            continue
        rows.append(
            {
                "outcome": name,
                "peak_month": peak_month,
                "trough_month": trough,
                "recovered_by": recovered.index[0],
                "depth": depth,
                "noise": noise,
            }
        )
    return pd.DataFrame(
        rows, columns=["outcome", "peak_month", "trough_month", "recovered_by", "depth", "noise"]
    )


def dip_sentences(table: pd.DataFrame, who: str) -> list[str]:
    out = []
    for r in table.itertuples():
        o = OUTCOMES[r.outcome]
        word = "rises" if o.better == "lower" else "falls"
        out.append(
            f"Under {who}, {o.label} {word} for a while: {_num(r.depth, o.digits, False)} "
            f"{o.diff_unit} worse at {r.trough_month} than at {r.peak_month}, back at least half "
            f"way by {r.recovered_by} (seed noise of the monthly mean: about "
            f"{_num(r.noise, o.digits, False)} {o.diff_unit})."
        )
    return out


def levelling(
    values: pd.DataFrame, outcomes: list[str] | None = None, months: int = 12
) -> pd.DataFrame:
    """The trend over the last ``months`` months of each replication (OLS slope, per year) with a
    t-based 95% CI over replications; an outcome has levelled off if that CI includes 0. It
    ``swings`` if at least a quarter of the replications rise and a quarter fall: the runs are in
    different phases of a cycle, and the mean trend is not one any run follows."""
    last = sorted(values["month"].unique())[-months:]
    part = values[values["month"].isin(last)]
    index = {m: i for i, m in enumerate(last)}
    rows = []
    for name in outcomes or KEY_OUTCOMES:
        o = OUTCOMES[name]
        if name not in part.columns:
            continue
        slopes = []
        for _, rep in part.groupby("replication"):
            xs = rep["month"].map(index).to_numpy(float)
            ys = rep[name].to_numpy(float) * o.display_scale
            ok = np.isfinite(ys)
            if ok.sum() >= 3:
                slopes.append(np.polyfit(xs[ok], ys[ok], 1)[0] * 12)
        v = np.asarray(slopes)
        if len(v) < 2:
            continue
        mean = float(v.mean())
        half = float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
        level = float(np.nanmean(part[name]) * o.display_scale)
        rows.append(
            {
                "outcome": name,
                "first_month": last[0],
                "last_month": last[-1],
                "level": level,
                "trend_per_year": mean,
                "ci_low": mean - half,
                "ci_high": mean + half,
                "levelled": bool(mean - half <= 0 <= mean + half),
                "n_rising": int((v > 0).sum()),
                "n_falling": int((v < 0).sum()),
                "slope_min": float(v.min()),
                "slope_max": float(v.max()),
                "swings": bool(min((v > 0).sum(), (v < 0).sum()) >= len(v) / 4),
            }
        )
    return pd.DataFrame(rows)


def levelling_sentences(table: pd.DataFrame) -> list[str]:
    out = []
    for r in table.itertuples():
        o = OUTCOMES[r.outcome]
        trend = (
            f"{_num(r.trend_per_year, o.digits)} {o.diff_unit} a year "
            f"[{_num(r.ci_low, o.digits)}, {_num(r.ci_high, o.digits)}]"
        )
        if r.levelled:
            verdict = "has levelled off (the 95% CI of its trend includes 0)"
        else:
            verdict = "is still " + ("rising" if r.trend_per_year > 0 else "falling")
        text = (
            f"{o.label.capitalize()} {verdict}: trend {trend} over {r.first_month} to "
            f"{r.last_month}."
        )
        if r.swings and not r.levelled:  # (a levelled outcome's runs scatter around 0 anyway)
            text += (
                f" But the runs disagree: {r.n_falling} of {r.n_falling + r.n_rising} replications "
                f"fall and {r.n_rising} rise (from {_num(r.slope_min, o.digits)} to "
                f"{_num(r.slope_max, o.digits)} {o.diff_unit} a year), so the mean trend is an "
                "average over runs in different phases of a swing, not a path any run follows."
            )
        out.append(text)
    return out


# --- streets ---------------------------------------------------------------------------------
def street_variation(
    rs: ResultSet,
    setting: Setting,
    reference: Setting,
    at: str,
    outcomes: list[str] | None = None,
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Per outcome: do streets differ in the setting's effect beyond seed noise?

    The effect in street s and replication r is the paired difference (setting minus reference,
    same seed). A one-way ANOVA across streets compares the between-street variance of the mean
    effects with the within-street (seed-to-seed) variance. Ranking stability
    (``rank_stability``) is the Spearman correlation between the streets' mean effects over the
    first and over the second half of the replications: whether another set of seeds would rank
    the streets alike. ``rank_stability_runs`` is the mean Spearman correlation over pairs of
    single replications (how alike two single runs rank them; much lower). ``ranked`` says
    whether streets differ beyond noise and rank stably (from :data:`STABLE_RANK`); ``ranking``
    lists the streets from most to least gain.
    """
    names = outcomes or KEY_OUTCOMES
    chosen = [OUTCOMES[n] for n in names]
    needs = list(dict.fromkeys(c for o in chosen for c in o.needs))
    frame = rs.load("street", needs)
    rows_, _ = rs.window(frame, at)
    rows_ = rows_[rows_["point"].isin([setting.point, reference.point])]
    runs = run_values(rows_, chosen, ["street"], ["scenario"])
    a = runs[runs["point"] == setting.point].set_index(["street", "replication"])
    b = runs[runs["point"] == reference.point].set_index(["street", "replication"])
    out = []
    for o in chosen:
        diff = (a[o.name] - b[o.name]).dropna().reset_index()
        diff[o.name] *= o.display_scale * (_sign(o) or 1.0)  # gain: positive is better
        groups = [g[o.name].to_numpy() for _, g in diff.groupby("street")]
        if len(groups) < 2 or min(len(g) for g in groups) < 2:
            continue
        f, p = stats.f_oneway(*groups)
        wide = diff.pivot(index="replication", columns="street", values=o.name)
        rhos = []
        reps = list(wide.index)
        for i in range(len(reps)):
            for j in range(i + 1, len(reps)):
                x, y = wide.loc[reps[i]].to_numpy(), wide.loc[reps[j]].to_numpy()
                if np.ptp(x) == 0 or np.ptp(y) == 0:
                    continue  # no ranking in a replication where every street is equal
                rho = stats.spearmanr(x, y).statistic
                if np.isfinite(rho):
                    rhos.append(rho)
        half = len(reps) // 2
        halves = np.nan
        if half >= 1:
            first, second = wide.iloc[:half].mean(), wide.iloc[half:].mean()
            if np.ptp(first) > 0 and np.ptp(second) > 0:
                halves = float(stats.spearmanr(first, second).statistic)
        means = diff.groupby("street")[o.name].mean().sort_values(ascending=False)
        real = bool(p < 1 - confidence)
        out.append(
            {
                "outcome": o.name,
                "n_streets": len(groups),
                "replications": int(wide.shape[0]),
                "F": float(f),
                "p_value": float(p),
                "real": real,
                "rank_stability": halves,
                "rank_stability_runs": float(np.mean(rhos)) if rhos else np.nan,
                "ranked": real and bool(halves >= STABLE_RANK),
                "ranking": [str(x) for x in means.index],
                "best_street": str(means.index[0]),
                "best_gain": float(means.iloc[0]),
                "worst_street": str(means.index[-1]),
                "worst_gain": float(means.iloc[-1]),
                "spread": float(means.iloc[0] - means.iloc[-1]),
            }
        )
    return pd.DataFrame(out)


def street_sentences(table: pd.DataFrame, who: str, street_label: object) -> list[str]:
    """One sentence per outcome: whether streets differ beyond noise, and a ranking only where it
    is stable across seeds (with its rank correlation); otherwise that streets cannot be told
    apart."""
    out = []
    for r in table.itertuples():
        o = OUTCOMES[r.outcome]
        label = street_label  # type: ignore[assignment]
        rho = (
            f"rank correlation between the two halves of the seeds {r.rank_stability:.2f}"
            if np.isfinite(r.rank_stability)
            else "too few seeds to check the ranking's stability"
        )
        if r.ranked:
            order = " > ".join(label(s) for s in r.ranking)  # type: ignore[operator]
            out.append(
                f"{o.label.capitalize()}: streets differ in the effect of {who} beyond seed noise "
                f"(F = {r.F:.1f}, p = {r.p_value:.2g}) and rank alike across seeds ({rho}); "
                f"{label(r.best_street)} gains most ({_num(r.best_gain, o.digits)} "  # type: ignore[operator]
                f"{o.diff_unit}), {label(r.worst_street)} least "  # type: ignore[operator]
                f"({_num(r.worst_gain, o.digits)}). Ranking by gain: {order}."
            )
        elif r.real:
            out.append(
                f"{o.label.capitalize()}: streets differ in the effect of {who} beyond seed noise "
                f"(F = {r.F:.1f}, p = {r.p_value:.2g}; spread between streets "
                f"{_num(r.spread, o.digits, False)} {o.diff_unit}), but their order is not "
                f"stable across seeds ({rho}, below {STABLE_RANK}), so no street is named as "
                "gaining most or least: the streets cannot be ranked on this outcome."
            )
        else:
            out.append(
                f"{o.label.capitalize()}: streets do not differ in the effect of {who} beyond seed "
                f"noise (F = {r.F:.1f}, p = {r.p_value:.2g}; spread between streets "
                f"{_num(r.spread, o.digits, False)} {o.diff_unit}; {rho}): the streets cannot "
                "be told apart, so no street is named as gaining or losing."
            )
    return out


# --- steps at the turn of the year ----------------------------------------------------------
def january_steps(
    values: pd.DataFrame, outcomes: list[str] | None = None, after: str | None = None
) -> pd.DataFrame:
    """The mean change from December to January against the other months' changes.

    Changes are of the mean monthly series, in display units; ``after`` drops the months before
    it (e.g. the reform's start). A step is reported where the January change is more than 2.5
    times the mean absolute change of the other months (months other than January and February).
    """
    rows = []
    for name in outcomes or KEY_OUTCOMES:
        o = OUTCOMES[name]
        if name not in values.columns:
            continue
        mean = values.groupby("month")[name].mean() * o.display_scale
        if after is not None:
            mean = mean[mean.index >= after]
        change = mean.diff().dropna()
        jan = change[change.index.str.endswith("-01")]
        feb = change[change.index.str.endswith("-02")]
        other = change[~change.index.str.endswith(("-01", "-02"))]
        if jan.empty or other.empty:
            continue
        typical = float(other.abs().mean())
        rows.append(
            {
                "outcome": name,
                "january": float(jan.mean()),
                "february": float(feb.mean()) if not feb.empty else np.nan,
                "other_months": typical,
                "years": len(jan),
                "step": bool(abs(jan.mean()) > 2.5 * typical),
            }
        )
    return pd.DataFrame(
        rows, columns=["outcome", "january", "february", "other_months", "years", "step"]
    )


def january_sentences(table: pd.DataFrame, who: str) -> list[str]:
    steps = table[table["step"]]
    if steps.empty:
        return []
    parts = []
    for r in steps.itertuples():
        o = OUTCOMES[r.outcome]
        parts.append(
            f"{o.label} {_num(r.january, o.digits)} {o.diff_unit} in January and "
            f"{_num(r.february, o.digits)} in February (other months: about "
            f"{_num(r.other_months, o.digits, False)} a month)"
        )
    return [
        f"Under {who}, outcomes step at each turn of the year (means over "
        f"{int(steps['years'].max())} years): {'; '.join(parts)}. January starts the contract "
        "year: the model lets the "
        "catalogue contracts for the budget year in January (docs/ODD.md), lots that change hands "
        "are delivered only in part while their new holders hire, and those items fall back on "
        "community staff for the month; a change in the year's budget moves the level from "
        "February on."
    ]
