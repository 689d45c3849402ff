"""Process 9: measure. Monthly records, Mesa's DataCollector, and the tidy result tables.

What is measured is declared once, in :mod:`sim.outputs`. Each month the :class:`Recorder` writes
the community outputs (one row per community) and the district-only outputs into preallocated
arrays; street and district values of community outputs are aggregated from those rows by one
function (:func:`aggregate`), so the three levels always agree: shares are ratios of sums (hours),
and weighted means (satisfaction, participation, burnout, quality) use the declared weights.

Mesa's tools (``mesa.batch_run``, SolaraViz, ``get_model_vars_dataframe``) read the model's
:class:`OutputCollector`, a DataCollector whose reporters are every district output as a scalar,
computed from the recorder's arrays when asked for rather than copied month by month.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any, Protocol

import mesa
import numpy as np
import pandas as pd

from sim.outputs import (
    Output,
    aggregated_outputs,
    at_level,
    column_types,
    community_outputs,
    district_measured,
)
from sim.schedule import format_month
from sim.tables import Table
from sim.world import AGENCY, BRAND, GRASSROOTS, NEVER, YearBooks

if TYPE_CHECKING:
    from sim.district import District
    from sim.params import Policy
    from sim.scenario import Scenario


class DistrictModel(Protocol):
    """What the measures read of a model: the shape of :class:`sim.model.DistrictModel`, which
    imports this module (so this module names the shape instead of importing the model)."""

    communities: Table
    streets: Table
    lots: Table
    orgs: Table
    workers: Table
    month_stats: Counter[str]
    other_orgs: int
    t: int
    time: float
    policy: Policy
    district: District
    spec: Scenario
    recorder: Recorder

    def year_books(self) -> YearBooks: ...


# Community outputs measured from other tables than the community table (the rest are read from
# their ``source`` column); ratios without a source are computed from their numerator and
# denominator when the tables are built.
def _n_groups(model: DistrictModel) -> np.ndarray:
    c, o = model.communities, model.orgs
    groups = o.alive & (o.kind == GRASSROOTS)
    return np.bincount(o.community[groups], None, len(c))


def _contracted(model: DistrictModel) -> np.ndarray:
    return model.communities.lots_held > 0


COMMUNITY_MEASURES: dict[str, Callable[[DistrictModel], np.ndarray]] = {
    "n_groups": _n_groups,
    "contracted": _contracted,
}


def recorded_community_outputs() -> list[Output]:
    """Community outputs recorded each month (in table order)."""
    return [o for o in community_outputs() if o.source or o.measure or o.name in COMMUNITY_MEASURES]


def list_record(model: DistrictModel) -> dict[str, Any]:
    """The lists as state and what issuers do (model v2): listed and purchasable item types."""
    w = model.world
    types, iss = w.item_types, w.issuers
    cut = w.lists_cut_step != NEVER
    return {
        "n_listed_types": _count(types.listed),
        "n_purchasable_types": _count(types.purchasable) if cut else 0,
        "n_crept_types": _count(types.crept_step != NEVER),
        "list_petitions": w.list_stats["petitions"],
        "list_admitted": w.list_stats["admitted"],
        "campaigns_active": _count(iss.campaign_until > w.t),
        "issuer_fund_share": _mean(iss.fund_share) if model.policy.entry_control else 0.0,
        "issuer_expected_refusal": _mean(iss.belief_direct),
    }


def district_record(model: DistrictModel) -> dict[str, Any]:
    """This month's district-only columns: organizations, workers, money, inequality."""
    o, w, c, s = model.orgs, model.workers, model.communities, model.month_stats
    books = model.year_books()
    alive = o.alive
    # alive organizations by kind, and so all of them (counts, exact)
    by_kind = np.bincount(o.kind[alive], None, 3).tolist()
    n_alive = sum(by_kind)
    w_alive = w.alive
    employed = w_alive & (w.employer >= 0)
    n_emp = _count(employed)
    local, hhi, top_share, top_workers = _market(o, w)
    pro = alive & (o.kind != GRASSROOTS)
    contract_income, project_income = _sum(o.contract_income), _sum(o.project_income)
    purchase_spend = _sum(c.purchase_spend)
    spend = float(contract_income + project_income)  # incl. funded items
    service_delivered = float(
        _sum(c.org_item_delivered) + _sum(c.funded_org_delivered) + _sum(c.project_hours)
    )
    pol = model.policy
    exits = s["exits"]
    other_orgs = model.other_orgs
    n_centres, streets_with_centres = _centres(model.streets.service_centres)
    return {
        "n_orgs": n_alive + other_orgs,
        "n_orgs_grassroots": by_kind[GRASSROOTS],
        "n_orgs_agency": by_kind[AGENCY],
        "n_orgs_brand": by_kind[BRAND],
        "n_orgs_other": other_orgs,
        "n_registered": _count(alive & o.registered) + other_orgs,
        "n_registered_new_rule": _count(alive & o.new_rule),
        "registrations": s["registrations"],
        "registrations_new_rule": s["registrations_new_rule"],
        "orgs_formed": s["formed"],
        "agencies_founded": s["agencies_founded"],
        "org_exits": exits,
        "org_entry_rate": 12 * (s["formed"] + s["agencies_founded"]) / max(n_alive, 1),
        "org_exit_rate": 12 * exits / max(n_alive + exits, 1),
        "org_exits_registered": s["exits_registered"],
        "n_incubated": _count(alive & (o.incubated_until > model.t)),
        "n_hosted": _count(alive & o.hosted),
        "mean_capacity": _mean(o.capacity[alive]),
        "mean_capacity_professional": _mean(o.capacity[pro]),
        "contracts_active": _count(model.lots.holder >= 0),
        "projects_active": _count(alive & (o.project_community >= 0)),
        "contract_hhi": hhi,
        "local_money_share": local,
        "largest_provider_share": top_share,
        "largest_provider_workers": top_workers,
        "n_social_workers": n_emp,
        # (the alive without an employer: all alive but the employed)
        "social_workers_pool": _count(w_alive) - n_emp,
        "mean_skill": _mean(w.skill[employed]),
        # (a count over the employed: the same quotient as the mean of their 0/1 values)
        "certified_share": _count(w.certified & employed) / n_emp if n_emp else np.nan,
        "turnover": s["quits"] / n_emp if n_emp else 0.0,
        "hires": s["hires"],
        "switchers_hired": s["switchers_hired"],
        "layoffs": s["layoffs"],
        "purchase_spend": float(purchase_spend),
        "project_spend": float(project_income),
        "funded_item_spend": float(contract_income - purchase_spend),
        "cost_per_service_hour": spend / service_delivered if service_delivered > 0 else np.nan,
        "purchase_appropriated_ytd": books.purchase_appropriated,
        "purchase_spent_ytd": books.purchase_spent,
        "project_appropriated_ytd": books.project_appropriated,
        "project_spent_ytd": books.project_spent,
        **equity(model),
        **list_record(model),
        "service_centres": n_centres,
        "streets_with_centres": streets_with_centres,
        "incubation_centres": pol.incubation_centres,
        "entry_control": bool(pol.entry_control),
        "purchase_budget": pol.purchase_budget,
        "project_budget": pol.project_budget,
    }


# Memos (functools.lru_cache) of what the record computes again and again from inputs that
# rarely change, each keyed by its inputs' contents and bounded: a long-lived sweep worker that
# meets many districts, policies or table layouts keeps at most _MEMO entries of each. Each wraps
# a plain function, not ``@lru_cache`` (mutmut does not mutate decorated functions), and is
# listed in MEMOS (tests/conftest.py empties them before every test).
_MEMO = 64


def _centres(centres: np.ndarray) -> tuple[int, int]:
    """Service centres open and streets with one, kept by the streets' centre counts (they change
    only when the policy does)."""
    return _centre_counts(centres.dtype.str, centres.tobytes())


def _frozen(array: np.ndarray) -> np.ndarray:
    """``array``, read-only: a memo's arrays are shared by every caller."""
    array.flags.writeable = False
    return array


def _centre_counts_computed(dtype: str, raw: bytes) -> tuple[int, int]:
    centres = np.frombuffer(raw, dtype)
    return int(_sum(centres)), _count(centres > 0)


_centre_counts = lru_cache(maxsize=_MEMO)(_centre_counts_computed)


def local_share_and_hhi(orgs: Table) -> tuple[float, float]:
    """Share of this month's contract and project money won by local (non-brand) organizations,
    and the Herfindahl-Hirschman index of that money across organizations (0-1)."""
    money = orgs.contract_income + orgs.project_income
    total = _sum(money)
    if total <= 0:
        return float("nan"), float("nan")
    return _local_and_hhi(orgs, money, total)


def market_concentration(orgs: Table, workers: Table) -> tuple[float, float]:
    """The largest provider's share of this month's contract and project money, and the workers
    it employs (NaN and 0 when no money was paid)."""
    money = orgs.contract_income + orgs.project_income
    total = _sum(money)
    if total <= 0:
        return float("nan"), 0.0
    return _largest(workers, money, total)


def _market(orgs: Table, workers: Table) -> tuple[float, float, float, float]:
    """:func:`local_share_and_hhi` and :func:`market_concentration` from one sum of the money."""
    money = orgs.contract_income + orgs.project_income
    total = _sum(money)
    if total <= 0:
        return float("nan"), float("nan"), float("nan"), 0.0
    return (*_local_and_hhi(orgs, money, total), *_largest(workers, money, total))


def _local_and_hhi(orgs: Table, money: np.ndarray, total: float) -> tuple[float, float]:
    shares = money / total
    local = _sum(shares[orgs.kind != BRAND])
    return float(local), float(_sum(shares**2))


def _largest(workers: Table, money: np.ndarray, total: float) -> tuple[float, float]:
    top = int(np.argmax(money))
    employed = workers.alive & (workers.employer == top)
    return float(money[top] / total), float(_count(employed))


def equity(model: DistrictModel) -> dict[str, float]:
    """Model v2: street gaps (best minus worst street, street values as ratios of sums), 10th/90th
    percentile ratios and Gini coefficients across communities, for burden, coverage, quality
    (v1's coverage_gini and quality_p10_p90 among them)."""
    c = model.communities
    n_s = len(model.streets)
    street = c.street
    n_c = len(street)
    need = c.need_hours
    # Street gaps (best minus worst street, streets without a denominator left out, NaN if none
    # has one), the six street sums in one: burden, coverage and quality, numerator then
    # denominator; each sum adds the same values in the same order as a sum of its own.
    parts = np.empty((6, n_c))
    parts[0] = c.hours_admin
    parts[1] = c.hours_used
    parts[2] = c.served_hours
    parts[3] = need
    np.multiply(c.service_quality, need, out=parts[4])
    parts[5] = need
    sums = np.bincount(_street_index(street, n_s), parts.ravel(), 6 * n_s).reshape(3, 2, n_s)
    num, den = sums[:, 0], sums[:, 1]
    # a street without a denominator divides by NaN (the same quotients elsewhere, NaN there)
    v = num / np.where(den > 0, den, np.nan)
    spread = np.fmax.reduce(v, axis=1) - np.fmin.reduce(v, axis=1) if n_s else np.full(3, np.nan)
    gaps = spread.tolist()
    # each sorted once for its percentiles and Gini (the three in one sort, row by row)
    ranked = parts[:3]
    ranked[0] = c.admin_burden
    ranked[1] = c.service_coverage
    ranked[2] = c.service_quality
    ranked.sort(axis=1)
    (b10, b90), (c10, c90), (q10, q90) = _p10_p90_rows(ranked)
    return {
        "coverage_gini": _gini_sorted(ranked[1]),
        "burden_street_gap": gaps[0],
        "burden_p10_p90": b10 / b90 if b90 > 0 else np.nan,
        "burden_gini": _gini_sorted(ranked[0]),
        "coverage_street_gap": gaps[1],
        "coverage_p10_p90": c10 / c90 if c90 > 0 else np.nan,
        "quality_street_gap": gaps[2],
        "quality_gini": _gini_sorted(ranked[2]),
        "quality_p10_p90": q10 / q90 if q90 > 0 else np.nan,
    }


def _p10_p90_rows(ranked: np.ndarray) -> list[tuple[float, float]]:
    """:func:`_p10_p90_sorted` of each row of a 2-D array sorted ascending along its rows: the
    four order statistics of all rows in one take, interpolated in Python floats (the same
    operations in the same order as on numpy's scalars)."""
    n = ranked.shape[1]
    if n == 0:
        return [(np.nan, np.nan)] * len(ranked)
    index, f1, f9 = _quantile_points(n)
    return [
        (a + (b - a) * f1, c + (d - c) * f9) for a, b, c, d in ranked.take(index, axis=1).tolist()
    ]


def _quantile_points_computed(n: int) -> tuple[np.ndarray, float, float]:
    """Positions of the 10th and 90th percentiles in ``n`` sorted values: the four rows taken
    (low and high neighbour of each) and the two interpolation weights."""
    at = []
    for q in (0.1, 0.9):
        pos = (n - 1) * q
        lo = int(pos)
        at.append((lo, min(lo + 1, n - 1), pos - lo))
    (lo1, hi1, f1), (lo9, hi9, f9) = at
    return _frozen(np.array([lo1, hi1, lo9, hi9], np.intp)), f1, f9


_quantile_points = lru_cache(maxsize=_MEMO)(_quantile_points_computed)


def _street_index(street: np.ndarray, n_s: int) -> np.ndarray:
    """Bins of :func:`equity`'s six street sums (row k of the communities' values goes to bins
    ``k * n_s + street``), flattened; kept by the streets' contents (they do not change in a
    run, and building it cost about 10 us a month)."""
    return _street_bins(n_s, street.dtype.str, street.tobytes())


def _street_bins_computed(n_s: int, dtype: str, raw: bytes) -> np.ndarray:
    street = np.frombuffer(raw, dtype)
    return _frozen((street + n_s * np.arange(6)[:, None]).ravel())


_street_bins = lru_cache(maxsize=_MEMO)(_street_bins_computed)


def _p10_p90(x: np.ndarray) -> tuple[float, float]:
    """10th and 90th percentiles, numpy's default linear interpolation (faster than np.quantile
    for one small array)."""
    return _p10_p90_sorted(np.sort(x))


def _p10_p90_sorted(xs: np.ndarray) -> tuple[float, float]:
    """:func:`_p10_p90` of an array sorted ascending."""
    n = len(xs)
    if n == 0:
        return np.nan, np.nan
    out = []
    for q in (0.1, 0.9):
        pos = (n - 1) * q
        lo = int(pos)
        hi = min(lo + 1, n - 1)
        out.append(float(xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)))
    return out[0], out[1]


def gini(x: np.ndarray) -> float:
    """Gini coefficient of a non-negative array (0 = equal)."""
    return _gini_sorted(np.sort(np.asarray(x, float)))


def _gini_sorted(x: np.ndarray) -> float:
    """:func:`gini` of a float array sorted ascending."""
    n, total = len(x), _sum(x)
    if n == 0 or total <= 0:
        return 0.0
    return float(_gini_weights(n) @ x / (n * total))


def _gini_weights_computed(n: int) -> np.ndarray:
    """The Gini coefficient's rank weights ``2i - n - 1`` (i = 1..n), kept by length, as floats
    (integer weights are converted on every product: the same values, 4 us more)."""
    return _frozen((2 * np.arange(1, n + 1) - n - 1).astype(np.float64))


_gini_weights = lru_cache(maxsize=_MEMO)(_gini_weights_computed)
# Reductions called directly (ndarray.sum and .mean add two Python calls each, and the record
# makes about a hundred a month); the same pairwise sums, so the same values.
_sum = np.add.reduce


try:  # the C function behind np.count_nonzero(x), without its Python wrapper (0.5 us a call)
    from numpy._core.multiarray import count_nonzero as _count_nonzero
except ImportError:  # numpy < 2
    _count_nonzero = np.count_nonzero


def _count(x: np.ndarray) -> int:
    return int(_count_nonzero(x))


def _mean(x: np.ndarray) -> float:
    return float(_sum(x) / len(x)) if len(x) else np.nan


# -- recording ----------------------------------------------------------------------------------
class Recorder:
    """This run's monthly outputs in preallocated arrays (grown by doubling if the model is
    stepped past its scenario's months).

    ``community[s, j, i]`` is community output j (:attr:`community_names`: those read from a
    community column first, then the measured ones, each in table order) of community i in
    recorded month s; ``district[s, k]`` is district-only output k (:attr:`district_names`). Both
    are float64 (exact for the counts); the declared types are applied when tables are built.
    ``n`` months are recorded; it is raised only after a month's rows are written, so a reader in
    another thread (SolaraViz) never sees a half-written month.
    """

    def __init__(self, model: DistrictModel, capacity: int) -> None:
        self.n_communities = len(model.communities)
        # Outputs read straight from a community column first, read together (one attrgetter
        # call) into one run of rows (one np.concatenate: a tuple of arrays assigned to
        # fancy-indexed rows is converted element by element, about 30 us a month, issue 12);
        # then the measured ones, one by one. The tables take each output by name.
        recorded = recorded_community_outputs()
        is_column = [_is_column(o) for o in recorded]
        sources = [o for o, col in zip(recorded, is_column, strict=True) if col]
        measured = [o for o, col in zip(recorded, is_column, strict=True) if not col]
        community = sources + measured
        self.community_outputs = community
        self.community_names = [o.name for o in community]
        self._n_sources = len(sources)
        self._read_sources = operator.attrgetter(*(o.source for o in sources)) if sources else None
        self._measured: list[tuple[int, Callable[[DistrictModel], np.ndarray]]] = [
            (len(sources) + j, _community_reader(o)) for j, o in enumerate(measured)
        ]
        district = district_measured()
        self.district_outputs = district
        self.district_names = [o.name for o in district]
        self._district_measures = {o.name: o.measure for o in district if o.measure is not None}
        capacity = max(int(capacity), 1)
        self.community = np.zeros((capacity, len(community), self.n_communities))
        self.district = np.zeros((capacity, len(district)))
        self.n = 0

    def record(self, model: DistrictModel) -> None:
        """Write this month's rows."""
        s = self.n
        if s == len(self.district):
            self._grow()
        row = self.community[s]
        if self._read_sources is not None:
            columns = self._read_sources(model.communities)
            if self._n_sources == 1:  # attrgetter of one name gives the array itself
                row[0] = columns
            else:
                # (each column is one community row long: their concatenation fills the rows)
                np.concatenate(columns, out=row[: self._n_sources].reshape(-1))
        for j, read in self._measured:
            row[j] = read(model)
        values = district_record(model)
        for name, measure in self._district_measures.items():
            values[name] = measure(model)
        self.district[s] = [values[name] for name in self.district_names]
        self.n = s + 1

    def _grow(self) -> None:
        size = 2 * len(self.district)
        community = np.zeros((size, *self.community.shape[1:]))
        community[: self.n] = self.community[: self.n]
        district = np.zeros((size, self.district.shape[1]))
        district[: self.n] = self.district[: self.n]
        self.community, self.district = community, district

    def community_columns(self, n: int | None = None) -> dict[str, np.ndarray]:
        """Recorded community outputs of the first ``n`` months, each months x communities."""
        n = self.n if n is None else n
        rec = self.community[:n]
        return {name: rec[:, j, :] for j, name in enumerate(self.community_names)}

    def district_columns(self, n: int | None = None) -> dict[str, np.ndarray]:
        """Every district output of the first ``n`` months (aggregated community outputs, then
        district-only ones), typed as declared, in table order."""
        n = self.n if n is None else n
        types = column_types("district")
        return {name: _typed(values, types[name]) for name, values in self.district_values(n)}

    def district_values(
        self, n: int, cols: dict[str, np.ndarray] | None = None
    ) -> Iterator[tuple[str, np.ndarray]]:
        """:meth:`district_columns` as (name, float64 values) pairs, before typing; ``cols`` are
        :meth:`community_columns` of the same months if the caller has them."""
        if cols is None:
            cols = self.community_columns(n)
        summed = aggregate(cols, np.zeros(self.n_communities, np.int64), 1)
        district = self.district[:n]
        index = {name: k for k, name in enumerate(self.district_names)}
        for o in at_level("district"):
            if o.name in index:
                yield o.name, district[:, index[o.name]]
            else:
                yield o.name, summed[o.name][:, 0]


def _is_column(o: Output) -> bool:
    """Recorded from the community column named by its source."""
    return o.measure is None and o.name not in COMMUNITY_MEASURES


def _community_reader(o: Output) -> Callable[[DistrictModel], np.ndarray]:
    """How a community output that is not a plain column (:func:`_is_column`) is measured: its
    own measure, or the one :data:`COMMUNITY_MEASURES` names (plain columns are read together
    by the Recorder, not through here)."""
    return o.measure if o.measure is not None else COMMUNITY_MEASURES[o.name]


def _typed(values: np.ndarray, dtype: str) -> np.ndarray:
    return values if dtype == "float64" else values.astype(dtype)


def reporter_value(model: DistrictModel, name: str) -> Any:
    """A district output in the last recorded month (what a DataCollector reporter returns)."""
    recorder: Recorder = model.recorder
    n = recorder.n
    if n == 0:
        return None
    return recorder.district_columns(n)[name][n - 1].item()


class OutputCollector(mesa.DataCollector):
    """Mesa's DataCollector over the :class:`Recorder`: one scalar reporter per district output.

    ``collect`` records the month into the recorder's arrays (no per-reporter calls, no deep
    copies); ``model_vars`` (what ``batch_run`` and ``get_model_vars_dataframe`` read) is built
    from those arrays when read, and cached until the next month. The reporters themselves
    (:func:`reporter_value`) give the same values for the last recorded month.
    """

    def __init__(self, recorder: Recorder) -> None:
        self._recorder: Recorder | None = None
        self._vars_cache: tuple[int, dict[str, list[Any]]] | None = None
        names = [o.name for o in at_level("district")]
        super().__init__(model_reporters={k: partial(reporter_value, name=k) for k in names})
        self._recorder = recorder

    @property  # type: ignore[override]
    def model_vars(self) -> dict[str, list[Any]]:
        if self._recorder is None:  # during DataCollector.__init__
            return self._init_vars
        n = self._recorder.n
        if self._vars_cache is None or self._vars_cache[0] != n:
            columns = self._recorder.district_columns(n)
            self._vars_cache = (n, {k: v.tolist() for k, v in columns.items()})
        return self._vars_cache[1]

    @model_vars.setter
    def model_vars(self, value: dict[str, list[Any]]) -> None:
        self._init_vars = value

    def collect(self, model: DistrictModel) -> None:
        """Record this month (process 9)."""
        self._recorder.record(model)  # type: ignore[union-attr]
        self._collection_steps.append(model.time)


# -- aggregation and tables ---------------------------------------------------------------------
def aggregate(
    cols: dict[str, np.ndarray], groups: np.ndarray, n_groups: int
) -> dict[str, np.ndarray]:
    """Aggregate recorded community outputs (each months x communities) into groups.

    Follows each output's declared aggregation: sums, ratios of sums, weighted means, counts.
    Returns float arrays of shape months x groups (types are applied by the table builders).
    """
    onehot = np.zeros((len(groups), n_groups))
    onehot[np.arange(len(groups)), groups] = 1.0
    outputs = aggregated_outputs()
    out: dict[str, np.ndarray] = {}
    for o in outputs:
        if o.aggregate == "sum":
            out[o.name] = cols[o.name] @ onehot
    shape = next(iter(out.values())).shape if out else (len(next(iter(cols.values()))), n_groups)
    for o in outputs:
        if o.aggregate == "ratio":
            out[o.name] = _ratio(out[o.numerator], out[o.denominator])
        elif o.aggregate == "weighted":
            w = o.weight
            out[o.name] = _ratio((cols[o.name] * cols[w]) @ onehot, out[w])
        elif o.aggregate == "count":
            out[o.name] = np.broadcast_to(onehot.sum(axis=0).astype(np.int64), shape)
    return {o.name: out[o.name] for o in outputs if o.name in out}


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.full(np.shape(a), np.nan), where=b > 0)


def result_columns(model: DistrictModel, *, arrow_text: bool = False) -> dict[str, dict[str, Any]]:
    """The result tables as columns of equal length, by level (one row per month and unit), each
    column of its declared type (:func:`sim.outputs.column_types`); missing values are NaN.

    Columns are numpy arrays (the numeric ones rows of one 2-D array per type, see
    :class:`_Columns`); with ``arrow_text`` the text columns (month, names) are Arrow string
    arrays instead, taken from their few distinct values (converting thousands of numpy strings
    to Arrow or pandas costs more than the rest of the table).
    """
    text_type = "string" if arrow_text else None
    tables = _result_tables(model, text_type=text_type)
    if tables is None:
        return {"district": {}, "street": {}, "community": {}}
    return {level: table.columns() for level, table in tables.items()}


def result_arrow(model: DistrictModel) -> dict[str, dict[str, Any]]:
    """The result tables as Arrow arrays, by level and column: equal to
    ``sim.outputs.arrow_arrays`` of :func:`result_columns` with ``arrow_text`` (declared types,
    NaN as null), made with one conversion per type's block, sliced into its columns. For the
    experiment runner's store: converting a run's ~290 columns one by one cost about 2.2 ms,
    this about 1 ms."""
    import pyarrow as pa

    tables = _result_tables(model, text_type="string")
    if tables is None:
        return {"district": {}, "street": {}, "community": {}}
    out = {}
    for level, table in tables.items():
        table._check()
        n, slots, text = table.n_rows, table.layout.slots, table.text
        whole = {}
        for dtype, block in table.blocks.items():
            flat = block.reshape(-1)  # a sum is NaN if any value is (or if +inf meets -inf)
            nan = flat.dtype.kind == "f" and bool(np.isnan(np.add.reduce(flat)))
            whole[dtype] = pa.array(flat, from_pandas=nan)
        out[level] = {
            name: text[name] if name in text else whole[slots[name][0]].slice(slots[name][1] * n, n)
            for name in table.layout.names
        }
    return out


def _result_tables(model: DistrictModel, *, text_type: str | None) -> dict[str, _Columns] | None:
    """:func:`result_columns`' tables before they are taken apart (None before any month); text
    columns as numpy strings (``text_type`` None) or Arrow strings of that Arrow type."""
    d = model.district
    rec: Recorder = model.recorder
    n_steps = rec.n
    if n_steps == 0:
        return None
    steps = np.arange(1, n_steps + 1)
    months = [format_month(model.spec.start + s - 1) for s in range(1, n_steps + 1)]
    years = np.array([int(m[:4]) for m in months])
    cols = rec.community_columns(n_steps)
    n_c, n_s = d.n_communities, d.n_streets

    def text(values: Sequence[str], index: np.ndarray) -> Any:
        """``values[index]``, as numpy or Arrow strings."""
        if text_type is not None:
            import pyarrow as pa

            return pa.array(list(values), pa.type_for_alias(text_type)).take(index)
        return np.array(values)[index]

    def keys(level: str, n_units: int) -> _Columns:
        table = _Columns(column_types(level), n_steps, n_units)
        table["step"] = steps[:, None]
        table["month"] = text(months, np.repeat(np.arange(n_steps), n_units))
        table["year"] = years[:, None]
        return table

    community = keys("community", n_c)
    community["community"] = text(d.community_names, np.tile(np.arange(n_c), n_steps))
    community["street"] = text(d.street_names, np.tile(d.community_street, n_steps))
    for o in at_level("community"):
        # a recorded column, or a ratio computed from recorded columns
        values = cols[o.name] if o.name in cols else _ratio(cols[o.numerator], cols[o.denominator])
        community[o.name] = values

    street = keys("street", n_s)
    street["street"] = text(d.street_names, np.tile(np.arange(n_s), n_steps))
    by_street = aggregate(cols, d.community_street, n_s)
    for o in at_level("street"):
        street[o.name] = by_street[o.name]

    district = keys("district", 1)
    district["district"] = text([d.name], np.zeros(n_steps, np.intp))
    for name, values in rec.district_values(n_steps, cols):
        district[name] = values[:, None]
    return {"district": district, "street": street, "community": community}


class _Layout:
    """Where each column of a result table goes: numeric columns are rows of one 2-D array per
    type, text columns stand alone; with the DataFrame's column index and the blocks'
    placements, built once per set of columns (:func:`_layout`)."""

    def __init__(self, types: dict[str, str]) -> None:
        self.names = list(types)
        self.rows: dict[str, int] = {}  # rows of each type's block
        self.slots: dict[str, tuple[str, int]] = {}  # numeric column -> (type, row)
        places: dict[str, list[int]] = {}
        self.text_places: dict[str, np.ndarray] = {}
        for k, (name, dtype) in enumerate(types.items()):
            if dtype == "string":
                self.text_places[name] = np.array([k], np.intp)
                continue
            row = self.rows.get(dtype, 0)
            self.slots[name] = (dtype, row)
            self.rows[dtype] = row + 1
            places.setdefault(dtype, []).append(k)
        self.places = {dtype: np.array(p, np.intp) for dtype, p in places.items()}
        self.index = pd.Index(self.names)


def _layout(types: dict[str, str]) -> _Layout:
    """The :class:`_Layout` of a table's columns, kept by their names and types."""
    return _layout_of(tuple(types), tuple(types.values()))


def _layout_of_computed(names: tuple[str, ...], dtypes: tuple[str, ...]) -> _Layout:
    return _Layout(dict(zip(names, dtypes, strict=True)))


_layout_of = lru_cache(maxsize=_MEMO)(_layout_of_computed)


class _Columns:
    """A result table being filled: each numeric column is a row of one 2-D array per type, so
    the table becomes a DataFrame from a few blocks (pandas checks and copies each column of a
    dict one by one: about 12 us a column, some 270 columns a run), and columns are written
    straight into place (months x units), cast to their declared type as ``astype`` casts."""

    def __init__(self, types: dict[str, str], n_steps: int, n_units: int) -> None:
        self.layout = layout = _layout(types)
        self.n_rows = n = n_steps * n_units
        self.blocks = {dtype: np.empty((k, n), dtype) for dtype, k in layout.rows.items()}
        # each block as columns x months x units, the shape columns are written in
        self._targets = {
            dtype: block.reshape(-1, n_steps, n_units) for dtype, block in self.blocks.items()
        }
        self.text: dict[str, Any] = {}
        self.written: set[str] = set()

    def __setitem__(self, name: str, values: Any) -> None:
        """Write a column: numeric values broadcast to months x units, text as it is."""
        slot = self.layout.slots.get(name)
        if slot is None:
            self.text[name] = values
        else:
            self._targets[slot[0]][slot[1]] = values
        self.written.add(name)

    def _check(self) -> None:
        if len(self.written) != len(self.layout.names):
            missing = [k for k in self.layout.names if k not in self.written]
            raise RuntimeError(f"result columns never written: {missing}")

    def columns(self) -> dict[str, Any]:
        """Every column in table order (numeric ones as rows of their blocks)."""
        self._check()
        rows = {dtype: list(block) for dtype, block in self.blocks.items()}
        slots, text = self.layout.slots, self.text
        return {
            name: text[name] if name in text else rows[slots[name][0]][slots[name][1]]
            for name in self.layout.names
        }

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame, text columns as pandas strings (``str``)."""
        self._check()
        text_type = pd.api.types.pandas_dtype("str")
        make = getattr(getattr(pd.api, "internals", None), "create_dataframe_from_blocks", None)
        if make is None:  # pandas < 3: column by column
            return pd.DataFrame(
                {
                    k: pd.array(v, dtype=text_type) if k in self.text else v
                    for k, v in self.columns().items()
                }
            )
        layout = self.layout
        blocks: list[tuple[Any, np.ndarray]] = [
            (block, layout.places[dtype]) for dtype, block in self.blocks.items()
        ]
        blocks += [
            (pd.array(v, dtype=text_type), layout.text_places[k]) for k, v in self.text.items()
        ]
        return make(blocks, index=pd.RangeIndex(self.n_rows), columns=layout.index.copy())


TEXT_COLUMNS = ("month", "community", "street", "district")


def build_results(model: DistrictModel) -> dict[str, pd.DataFrame]:
    """Tidy tables keyed 'district', 'street' and 'community', one row per month (and unit)."""
    # (Arrow's large strings are what pandas' pyarrow-backed strings hold: no conversion)
    tables = _result_tables(model, text_type="large_string")
    if tables is None:
        return {level: pd.DataFrame({}) for level in ("district", "street", "community")}
    return {level: table.frame() for level, table in tables.items()}


MEMOS = (_centre_counts, _quantile_points, _street_bins, _gini_weights, _layout_of)
