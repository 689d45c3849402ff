"""Sensitivity ranges from a posterior sample (issue 11; ``sanshe sensitivity-ranges``).

A Morris or Sobol design screens each factor over a range. For a parameter that the calibration
estimated, the honest range is where the posterior puts it, not a guess: this module derives it
from a stored posterior sample (the ABC calibration's ``posterior.parquet``, read and checked by
:mod:`sim.experiment.posterior`) and rewrites the ``min``/``max`` of the design's factors in the
experiment file.

For each factor of the design whose key is a column of the posterior (``params.<name>``, not
scaled), the range is

1. the weighted ``lower``-``upper`` quantiles of the particles' values (default 5-95%), each
   particle at the midpoint of its weight on the cumulative scale, linearly interpolated;
2. widened to hold the base scenario's value (the default in ``sim/params.py``, or the base
   scenario's own setting), so a screening still varies around the value the headline runs use,
   and the weighted median (the calibrated scenario's value);
3. rounded outward to three significant digits (whole numbers for integer parameters), then
   clipped to the parameter's own bounds.

Other factors (levers, scaled factors, parameters not in the posterior) keep their ranges. The file
is rewritten as text, so its comments stay; each rewritten factor's header line gets a comment
saying where its range comes from, and one generated comment block (between the marker lines
``BLOCK_START`` and ``BLOCK_END``) names the posterior file, its hash and the quantiles. The
rewritten file is re-read with :func:`sim.experiment.spec.load_experiment` before it is written,
so a range the parameter does not allow never reaches the file.
"""

from __future__ import annotations

import hashlib
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.errors import UserError
from sim.experiment.posterior import PosteriorSample, read_posterior
from sim.experiment.spec import Experiment, load_experiment
from sim.params import Params

BLOCK_START = "# --- ranges from the posterior (written by `sanshe sensitivity-ranges`) ---"
BLOCK_END = "# --- end of ranges from the posterior ---"
HEADER = re.compile(r'^\[design\.factors\."(?P<key>[^"]+)"\]')
SETTING = re.compile(r"^(?P<name>min|max)\s*=")
DIGITS = 3


@dataclass(frozen=True)
class PosteriorRange:
    """One factor's range from the posterior, and what it was derived from."""

    key: str
    q_low: float  # weighted lower quantile of the posterior
    median: float  # weighted median (the calibrated scenario's value)
    q_high: float  # weighted upper quantile
    default: float  # the base scenario's value
    low: float  # the range written: quantiles widened to hold default and median, rounded out
    high: float
    old_low: float
    old_high: float

    @property
    def widened(self) -> bool:
        """Whether the range had to grow beyond the quantiles to hold the default."""
        return self.default < self.q_low or self.default > self.q_high


@dataclass(frozen=True)
class RangesResult:
    """The ranges one experiment file gets from a posterior, and its text rewritten with them."""

    path: Path
    ranges: tuple[PosteriorRange, ...]
    kept: tuple[str, ...]  # factors whose ranges stay (not posterior parameters)
    unscreened: tuple[str, ...]  # posterior parameters that are not factors of the design
    text: str  # the rewritten file
    changed: bool


def weighted_quantiles(values: Any, weights: Any, qs: Any) -> Any:
    """Weighted quantiles: each sorted value sits at the midpoint of its weight on the cumulative
    weight scale (0 to 1), and the quantile is interpolated linearly between them (the lowest and
    highest values below the first and above the last midpoint). With equal weights this is the
    Hazen quantile, ``numpy.quantile(..., method="hazen")``."""
    import numpy as np

    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    keep = w > 0
    v, w = v[keep], w[keep] / w[keep].sum()
    mid = np.cumsum(w) - w / 2
    return np.interp(np.asarray(qs, dtype=float), mid, v)


def _bounds(name: str) -> tuple[float, float]:
    """The parameter's own bounds (pydantic ``ge``/``le``), infinite where it has none."""
    lo, hi = -math.inf, math.inf
    for m in Params.model_fields[name].metadata:
        if getattr(m, "ge", None) is not None:
            lo = float(m.ge)
        if getattr(m, "le", None) is not None:
            hi = float(m.le)
    return lo, hi


def round_out(value: float, up: bool, integer: bool = False) -> float:
    """``value`` rounded away from the range's inside: down for a low end, up for a high end, to
    :data:`DIGITS` significant digits (to whole numbers for an integer parameter)."""
    if integer:
        return float(math.ceil(value) if up else math.floor(value))
    if value == 0 or not math.isfinite(value):
        return value
    exponent = math.floor(math.log10(abs(value))) - (DIGITS - 1)
    step = 10.0**exponent
    n = math.ceil(value / step - 1e-9) if up else math.floor(value / step + 1e-9)
    return round(n * step, max(0, -exponent))


def posterior_ranges(
    exp: Experiment, sample: PosteriorSample, lower: float = 0.05, upper: float = 0.95
) -> tuple[list[PosteriorRange], list[str], list[str]]:
    """The ranges of ``exp``'s factors that are posterior parameters; the factors kept as they
    are; the posterior parameters the design does not screen."""
    if not 0 <= lower < 0.5 < upper <= 1:
        raise UserError(
            f"--quantiles {lower:g} {upper:g}: not valid (allowed: a lower quantile from 0 to "
            "below 0.5 and an upper one above 0.5 up to 1, e.g. 0.05 0.95)"
        )
    import numpy as np

    weights = np.array([p.weight for p in sample.particles])
    columns = {k: np.array([dict(p.values)[k] for p in sample.particles]) for k in sample.keys}
    base = exp.base_scenario().params
    out, kept = [], []
    for f in exp.factors:
        if f.key not in columns or f.scale or f.low is None or f.high is None:
            kept.append(f.key)
            continue
        name = f.name
        q_low, median, q_high = (
            float(x) for x in weighted_quantiles(columns[f.key], weights, [lower, 0.5, upper])
        )
        default = float(getattr(base, name))
        integer = Params.model_fields[name].annotation is int
        lo_bound, hi_bound = _bounds(name)
        low = max(lo_bound, round_out(min(q_low, default, median), up=False, integer=integer))
        high = min(hi_bound, round_out(max(q_high, default, median), up=True, integer=integer))
        if not low < high:  # every particle and the default at one value: nothing to screen
            raise UserError(
                f"{sample.path}: {f.key}: the posterior's {lower:g}-{upper:g} quantiles and the "
                f"default ({default:g}) give no range ({low:g} to {high:g}) (allowed: a posterior "
                "whose particles differ in this parameter, or drop the factor)"
            )
        out.append(PosteriorRange(f.key, q_low, median, q_high, default, low, high, f.low, f.high))
    screened = {f.key for f in exp.factors}
    unscreened = [k for k in sample.keys if k not in screened]
    return out, kept, unscreened


def _number(x: float) -> str:
    return repr(float(x))


def rewrite(text: str, ranges: list[PosteriorRange], note: list[str]) -> str:
    """``text`` (an experiment file) with each range's ``min``/``max`` lines replaced, the
    factor's header comment saying where the range comes from, and the generated block ``note``
    (comment lines) replaced or put before the first factor."""
    by_key = {r.key: r for r in ranges}
    lines = text.splitlines()
    if BLOCK_START in lines:
        start = lines.index(BLOCK_START)
        end = lines.index(BLOCK_END, start) if BLOCK_END in lines[start:] else start
        del lines[start : end + 1]
        if start < len(lines) and not lines[start].strip():
            del lines[start]
    out: list[str] = []
    current: PosteriorRange | None = None
    seen: set[str] = set()
    block = [BLOCK_START, *note, BLOCK_END, ""]
    for line in lines:
        header = HEADER.match(line)
        if header:
            if block:
                out.extend(block)
                block = []
            current = by_key.get(header["key"])
            if current is not None:
                seen.add(current.key)
                line = header.group(0) + "   # " + _origin(current)
        elif line.startswith("["):
            current = None
        elif current is not None and (setting := SETTING.match(line)):
            value = current.low if setting["name"] == "min" else current.high
            line = f"{setting['name']} = {_number(value)}"
        out.append(line)
    missing = set(by_key) - seen
    if missing:  # a factor written as an inline table or dotted keys: not rewritable as text
        raise UserError(
            f"factor {sorted(missing)[0]}: its range is not on min = / max = lines under a "
            f'[design.factors."<key>"] header (allowed: that layout, as in experiments/*.toml)'
        )
    return "\n".join(out) + "\n"


def _origin(r: PosteriorRange) -> str:
    text = "posterior"
    if r.widened:
        text += f", widened to hold the default {r.default:.4g}"
    return text


def ranges_from_posterior(
    experiment: str | Path,
    posterior: str | Path,
    lower: float = 0.05,
    upper: float = 0.95,
) -> RangesResult:
    """The ranges ``experiment``'s factors get from ``posterior``, and its text rewritten with
    them (nothing is written; see :func:`write_ranges`). Bad files raise :class:`UserError`."""
    path = Path(experiment)
    exp = load_experiment(path)
    if exp.method not in ("morris", "sobol"):
        raise UserError(
            f"{path}: design.method: {exp.method or 'a scenario list'} has no ranges to set "
            "(allowed: a morris or sobol experiment)"
        )
    sample = read_posterior(posterior, "sensitivity-ranges", "POSTERIOR")
    ranges, kept, unscreened = posterior_ranges(exp, sample, lower, upper)
    if not ranges:
        raise UserError(
            f"{path}: design.factors: no factor is a parameter of the posterior "
            f"{sample.path} (allowed: a design that screens one of {', '.join(sample.keys)})"
        )
    quantiles = "" if (lower, upper) == (0.05, 0.95) else f" --quantiles {lower:g} {upper:g}"
    note = [
        "# Each params.* factor marked 'posterior' ranges over its weighted "
        f"{lower * 100:g}-{upper * 100:g}% quantiles in",
        f"# {posterior}",
        f"# (sha256 {sample.sha256[:12]}, {len(sample.particles)} particles, effective sample "
        f"{sample.effective_sample_size:.1f}),",
        "# widened to hold the default and rounded outward to 3 significant digits.",
        "# Regenerate from the repository root:",
        f"# sanshe sensitivity-ranges {posterior} {experiment}{quantiles}",
    ]
    original = path.read_text(encoding="utf-8")
    text = rewrite(original, ranges, note)
    _check(path, text, ranges)
    return RangesResult(path, tuple(ranges), tuple(kept), tuple(unscreened), text, text != original)


def _check(path: Path, text: str, ranges: list[PosteriorRange]) -> None:
    """The rewritten text parses, loads as an experiment and holds exactly the new ranges."""
    factors = tomllib.loads(text)["design"]["factors"]
    for r in ranges:
        assert (factors[r.key]["min"], factors[r.key]["max"]) == (r.low, r.high), r.key
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    probe = path.with_name(f".{path.stem}.{digest}.ranges.toml")
    try:
        probe.write_text(text, encoding="utf-8")
        load_experiment(probe)
    finally:
        probe.unlink(missing_ok=True)


def write_ranges(result: RangesResult) -> None:
    """Write the rewritten experiment file (atomically)."""
    from sim.io import write_text

    write_text(result.text, result.path)
