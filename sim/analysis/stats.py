"""Statistics across replications: t-based confidence intervals, paired differences, effect sizes.

Replication r of every scenario uses the same seed (common random numbers, CRN), so the runs of two
scenarios are matched pairs: the difference is computed per replication and its CI comes from the
spread of those differences. When the two scenarios' runs are positively correlated (they share
item flows, hires, entries), this CI is narrower than the unpaired (Welch) one.

Formulas (n values, mean m, sample standard deviation s with ddof = 1, confidence 1 − α):

* mean CI: m ± t(1 − α/2, n − 1) · s / √n;
* paired difference: d_r = y_r − x_r over replications r present in both, then the mean CI of d;
* effect size: Cohen's d_z = mean(d) / sd(d) (the paired, "d for repeated measures" variant);
* unpaired (Welch) CI, for comparison: (m_y − m_x) ± t(1 − α/2, ν) · √(s_y²/n_y + s_x²/n_x), with
  the Welch-Satterthwaite ν.

NaN values are dropped first; fewer than 2 values give a NaN interval (the mean is still given).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A mean with its confidence interval."""

    n: int
    mean: float
    sd: float
    low: float
    high: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


@dataclass(frozen=True)
class PairedDifference:
    """Treatment minus reference, matched on replication (common random numbers)."""

    n_pairs: int
    mean: float
    sd: float
    low: float
    high: float
    d_z: float  # Cohen's d for paired data: mean / sd of the differences
    p_value: float  # two-sided paired t-test
    unpaired_low: float  # Welch interval on the same runs, ignoring the pairing
    unpaired_high: float


def t_quantile(n: np.ndarray | int, confidence: float = CONFIDENCE) -> np.ndarray | float:
    """The two-sided t quantile for n values (NaN where n < 2)."""
    n_arr = np.asarray(n, dtype=float)
    df = np.where(n_arr >= 2, n_arr - 1, np.nan)
    q = sps.t.ppf(0.5 + confidence / 2, df)
    return float(q) if np.ndim(q) == 0 else q


def ci_bounds(
    mean: np.ndarray, sd: np.ndarray, n: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper t-based CI bounds from means, sample sds (ddof 1) and counts (vectorised)."""
    mean, sd, n = (np.asarray(a, dtype=float) for a in (mean, sd, n))
    with np.errstate(invalid="ignore", divide="ignore"):
        half = t_quantile(n, confidence) * sd / np.sqrt(n)
    return mean - half, mean + half


def _clean(values: pd.Series | np.ndarray | list[float]) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    return arr[~np.isnan(arr)]


def mean_ci(
    values: pd.Series | np.ndarray | list[float], confidence: float = CONFIDENCE
) -> Interval:
    """Mean and t-based CI of values across replications (NaN CI if fewer than 2 values)."""
    x = _clean(values)
    n = len(x)
    if n == 0:
        return Interval(0, np.nan, np.nan, np.nan, np.nan)
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if n > 1 else np.nan
    low, high = ci_bounds(mean, sd, n, confidence)
    return Interval(n, mean, sd, float(low), float(high))


def cohens_dz(differences: pd.Series | np.ndarray | list[float]) -> float:
    """Cohen's d_z: mean of paired differences over their sample sd.

    0/0 (identical runs) is NaN; a constant non-zero difference is ±inf.
    """
    d = _clean(differences)
    if len(d) < 2:
        return np.nan
    mean, sd = d.mean(), d.std(ddof=1)
    if sd == 0:
        return np.nan if mean == 0 else float(np.sign(mean) * np.inf)
    return float(mean / sd)


def welch_bounds(
    mean_y: np.ndarray,
    sd_y: np.ndarray,
    n_y: np.ndarray,
    mean_x: np.ndarray,
    sd_x: np.ndarray,
    n_x: np.ndarray,
    confidence: float = CONFIDENCE,
) -> tuple[np.ndarray, np.ndarray]:
    """Unpaired (Welch) CI bounds of mean_y − mean_x from summaries (vectorised)."""
    my, sy, ny, mx, sx, nx = (
        np.asarray(a, dtype=float) for a in (mean_y, sd_y, n_y, mean_x, sd_x, n_x)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        vy, vx = sy**2 / ny, sx**2 / nx
        se2 = vy + vx
        df = se2**2 / (vy**2 / (ny - 1) + vx**2 / (nx - 1))
        half = np.where(se2 == 0, 0.0, sps.t.ppf(0.5 + confidence / 2, df) * np.sqrt(se2))
    ok = (ny >= 2) & (nx >= 2)
    diff = my - mx
    return np.where(ok, diff - half, np.nan), np.where(ok, diff + half, np.nan)


def welch_interval(
    treatment: pd.Series | np.ndarray | list[float],
    reference: pd.Series | np.ndarray | list[float],
    confidence: float = CONFIDENCE,
) -> tuple[float, float]:
    """Unpaired (Welch) CI of mean(treatment) − mean(reference), ignoring any pairing."""
    y, x = _clean(treatment), _clean(reference)
    if len(y) < 2 or len(x) < 2:
        return np.nan, np.nan
    low, high = welch_bounds(
        y.mean(), y.std(ddof=1), len(y), x.mean(), x.std(ddof=1), len(x), confidence
    )
    return float(low), float(high)


def paired_difference(
    treatment: pd.Series, reference: pd.Series, confidence: float = CONFIDENCE
) -> PairedDifference:
    """Treatment − reference, paired on the index (the replication number).

    Only replications present (and not NaN) in both series are paired.
    """
    both = pd.concat({"y": treatment, "x": reference}, axis=1, join="inner").dropna()
    d = (both["y"] - both["x"]).to_numpy(dtype=float)
    interval = mean_ci(d, confidence)
    if interval.n >= 2 and interval.sd > 0:
        p = float(
            2 * sps.t.sf(abs(interval.mean) / (interval.sd / np.sqrt(interval.n)), interval.n - 1)
        )
    else:
        p = np.nan
    u_low, u_high = welch_interval(treatment, reference, confidence)
    return PairedDifference(
        n_pairs=interval.n,
        mean=interval.mean,
        sd=interval.sd,
        low=interval.low,
        high=interval.high,
        d_z=cohens_dz(d),
        p_value=p,
        unpaired_low=u_low,
        unpaired_high=u_high,
    )


def summarize(
    frame: pd.DataFrame, by: list[str], value: str, confidence: float = CONFIDENCE
) -> pd.DataFrame:
    """Per group of ``by``: n, mean, sd, ci_low, ci_high of column ``value`` (NaN dropped).

    The vectorised form of :func:`mean_ci`, for many groups at once.
    """
    grouped = frame.groupby(by, sort=False, observed=True)[value]
    out = grouped.agg(n="count", mean="mean", sd="std").reset_index()
    out.loc[out["n"] < 2, "sd"] = np.nan
    out["ci_low"], out["ci_high"] = ci_bounds(out["mean"], out["sd"], out["n"], confidence)
    return out


def summarize_paired(
    frame: pd.DataFrame, by: list[str], value: str, reference: str, confidence: float = CONFIDENCE
) -> pd.DataFrame:
    """Per group: the paired difference ``value − reference`` (columns already matched by row).

    Returns n_pairs, diff, diff_sd, diff_ci_low, diff_ci_high, d_z and p_value, the vectorised
    form of :func:`paired_difference`. Rows where either column is NaN are dropped.
    """
    d = frame[by].copy()
    d["_d"] = frame[value] - frame[reference]
    d = d.dropna(subset=["_d"])
    grouped = d.groupby(by, sort=False, observed=True)["_d"]
    out = grouped.agg(n_pairs="count", diff="mean", diff_sd="std").reset_index()
    n, mean, sd = (
        out["n_pairs"].to_numpy(float),
        out["diff"].to_numpy(float),
        out["diff_sd"].to_numpy(float),
    )
    sd = np.where(n >= 2, sd, np.nan)
    out["diff_sd"] = sd
    out["diff_ci_low"], out["diff_ci_high"] = ci_bounds(mean, sd, n, confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        dz = mean / sd
        dz = np.where(sd == 0, np.where(mean == 0, np.nan, np.sign(mean) * np.inf), dz)
        tstat = np.abs(mean) / (sd / np.sqrt(n))
        p = np.where((n >= 2) & (sd > 0), 2 * sps.t.sf(tstat, np.maximum(n - 1, 1)), np.nan)
    out["d_z"] = dz
    out["p_value"] = p
    return out
