"""The one place for outputs: every column the model writes, declared once.

Each :class:`Output` says at which levels it exists (community, street, district), its unit and
kind, how community values aggregate to streets and the district, its stored type, how it is shown
(label, display scale and unit, decimals), which direction is better, and a one-line doc. From this
table come, with no second list anywhere:

* the monthly recording and the street and district aggregation (:mod:`sim.metrics`);
* the result tables and their types at every level and store frequency (:func:`arrow_schema`);
* Mesa's DataCollector reporters (every district output, each a scalar);
* ``docs/outputs.md`` (``sanshe docs``);
* the analysis outcomes (:mod:`sim.analysis.outcomes`), the CLI table, the dashboard's units.

Adding an output is one :func:`register` call here (plus, for a district-only output, the line
that measures it in :func:`sim.metrics.district_record` or a ``measure`` function).

**Display.** Every place that shows a number (``sanshe run``, ``sanshe compare``, the report, the
dashboard) shows ``value * display_scale`` with ``digits`` decimals (:func:`format_value`), in
``display_unit``, over the same default time window, :data:`DEFAULT_WINDOW`: the mean over each
run's last full calendar year (a single month is noisy, and calendar years match the budget
books).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

LEVELS = ("community", "street", "district")
# The need types of sim.needs.NEED_TYPES, in its order (this module imports nothing of sim;
# tests/test_outputs.py checks that the two agree).
NEED_TYPES = ("elderly", "children", "disabled", "low_income", "migrants")
ALL = LEVELS
DISTRICT = ("district",)
UNITS = ("street", "district")  # levels aggregated from communities

# Kinds: when a value is measured.
KINDS = {
    "flow": "what happened during this month (items, hours, money, counts of events)",
    "stock": "the state at the end of the month",
    "share": "a ratio of this month's quantities (0-1)",
    "ytd": "year to date: the sum from January of the current calendar year to this month",
    "lever": "echo of a policy lever in force this month",
    "structure": "fixed for the run",
}
# How a street or district value comes from community values.
AGGREGATIONS = {
    "sum": "sum over communities",
    "ratio": "ratio of sums: Σ numerator / Σ denominator (NaN where the denominator is 0)",
    "weighted": "weighted mean: Σ (value · weight) / Σ weight (NaN where Σ weight is 0)",
    "count": "number of communities",
    "none": "district only: measured from the agents and books, not from community rows",
}
DTYPES = ("int64", "float64", "bool")

# The default time window of every displayed number (see the module docstring).
DEFAULT_WINDOW = "final-year"
DEFAULT_WINDOW_TEXT = "mean over the last calendar year of each run"


@dataclass(frozen=True, kw_only=True)
class Output:
    """One output column (see the module docstring)."""

    name: str
    levels: tuple[str, ...]
    unit: str
    kind: str
    doc: str  # one line: what it measures and how
    aggregate: str = "none"  # see AGGREGATIONS
    dtype: str = "float64"  # stored type in monthly and final tables
    label: str = ""  # short label for tables and axes (default: name with spaces)
    better: str | None = None  # "lower", "higher" or None
    display_scale: float = 1.0  # multiply to show (100 for a share shown as %)
    display_unit: str = ""  # unit after scaling (default: unit)
    diff_unit: str = ""  # unit of a difference after scaling (default: display_unit)
    digits: int = 3
    role: str | None = None  # "key" (the four key outcomes) or "headline" (district tables)
    group: str = "community"  # section of docs/outputs.md
    # community outputs: the community-table column recorded each month
    source: str | None = None
    # ratio: numerator and denominator (summed outputs); weighted: the weight (a summed output)
    numerator: str | None = None
    denominator: str | None = None
    weight: str | None = None
    # district-only outputs: how the month's value is measured (default: metrics.district_record)
    # A community output with ``measured_at_district`` takes its district value from there too
    # (equal to the aggregate up to float rounding: it sums in another order).
    measured_at_district: bool = False
    measure: Callable[[Any], Any] | None = field(default=None, compare=False)
    # time windows: the columns a window value needs and how it is computed from their window
    # means (default: the window mean of the column itself)
    needs: tuple[str, ...] = ()
    compute: Callable[[pd.DataFrame], pd.Series] | None = field(default=None, compare=False)
    window_doc: str = ""  # how a window reduces it, if not the mean of the monthly values
    stored: bool = True  # False: only a window outcome, computed from stored columns
    notes: str = ""  # longer explanation (docs/outputs.md)

    def __post_init__(self) -> None:
        if not set(self.levels) <= set(LEVELS) or not self.levels:
            raise ValueError(f"{self.name}: levels {self.levels} (allowed: {LEVELS})")
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind {self.kind!r} (allowed: {', '.join(KINDS)})")
        if self.aggregate not in AGGREGATIONS:
            raise ValueError(f"{self.name}: aggregate {self.aggregate!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"{self.name}: dtype {self.dtype!r} (allowed: {DTYPES})")
        if self.better not in (None, "lower", "higher"):
            raise ValueError(f"{self.name}: better {self.better!r}")
        if self.aggregate == "ratio" and not (self.numerator and self.denominator):
            raise ValueError(f"{self.name}: a ratio needs numerator and denominator")
        if self.aggregate == "weighted" and not self.weight:
            raise ValueError(f"{self.name}: a weighted mean needs a weight")
        if self.aggregate == "none" and self.levels != DISTRICT:
            raise ValueError(f"{self.name}: only district outputs are not aggregated")
        if not self.label:
            object.__setattr__(self, "label", self.name.replace("_", " "))
        if not self.display_unit:
            object.__setattr__(self, "display_unit", self.unit)
        if not self.diff_unit:
            object.__setattr__(self, "diff_unit", self.display_unit)
        if not self.needs:
            object.__setattr__(self, "needs", (self.name,))

    # -- analysis -------------------------------------------------------------------------------
    @property
    def description(self) -> str:
        """How the outcome is computed over a window, for table notes."""
        return self.window_doc or f"{self.doc} (window mean)"

    @property
    def axis_label(self) -> str:
        return f"{self.label} ({self.display_unit})" if self.display_unit else self.label

    def values(self, means: pd.DataFrame) -> pd.Series:
        """The window value from window-mean columns (one row per run and unit)."""
        if self.compute is not None:
            return self.compute(means)
        return means[self.needs[0]].astype(float)

    def format(self, value: float | None, signed: bool = False) -> str:
        """The value in display units (see :func:`format_value`)."""
        return format_value(value, self, signed)

    @property
    def recorded_at_community(self) -> bool:
        """Recorded from community rows (and aggregated), rather than measured district-wide."""
        return self.stored and "community" in self.levels

    def dtype_at(self, level: str, frequency: str = "monthly") -> str:
        """Stored type at a level and store frequency.

        Monthly and final rows keep the declared type at every level (so ``contracted`` is an
        integer count of contracted communities everywhere: 0 or 1 for a community). Yearly rows
        are calendar-year means, so every column is float64 except lever echoes, which keep their
        type and show the value in force in the year's last month.
        """
        if self.aggregate in ("ratio", "weighted") and level != "community":
            return "float64"
        if frequency == "yearly" and self.kind != "lever":
            return "float64"
        return self.dtype


_REGISTRY: dict[str, Output] = {}
_CHECKED = False  # set once the built-in table is declared
# Views of the registry that every run's tables read (outputs of a level, column types, Arrow
# schemas), built once; emptied whenever an output is registered or removed.
_VIEWS: dict[tuple[str, ...], Any] = {}


def _view(key: tuple[str, ...], build: Callable[[], Any]) -> Any:
    try:
        return _VIEWS[key]
    except KeyError:
        value = _VIEWS[key] = build()
        return value


def register(output: Output) -> Output:
    """Add an output to the table (its name must be new)."""
    if output.name in _REGISTRY:
        raise ValueError(f"output {output.name!r} is already declared")
    _VIEWS.clear()
    _REGISTRY[output.name] = output
    if _CHECKED:
        try:
            check_table()
        except ValueError:
            del _REGISTRY[output.name]
            raise
    return output


def check_table() -> None:
    """Raise ValueError unless every ratio and weighted mean refers to summed outputs at the
    same levels."""
    for o in _REGISTRY.values():
        for ref in (o.numerator, o.denominator, o.weight):
            if ref is None:
                continue
            r = _REGISTRY.get(ref)
            if r is None or r.aggregate != "sum" or not set(o.levels) <= set(r.levels):
                raise ValueError(f"{o.name}: {ref!r} must be a summed output at its levels")


def unregister(name: str) -> None:
    """Remove an output (for tests that register a throwaway output)."""
    _VIEWS.clear()
    del _REGISTRY[name]


@contextmanager
def registered(output: Output) -> Iterator[Output]:
    """Register an output for the duration of a ``with`` block."""
    register(output)
    try:
        yield output
    finally:
        unregister(output.name)


class _Table(Mapping[str, Output]):
    """Read-only live view of the registry: always the outputs declared now."""

    def __getitem__(self, name: str) -> Output:
        return _REGISTRY[name]

    def __iter__(self) -> Iterator[str]:
        return iter(_REGISTRY)

    def __len__(self) -> int:
        return len(_REGISTRY)


OUTPUTS: Mapping[str, Output] = _Table()


def at_level(level: str) -> list[Output]:
    """Stored outputs of a level, in table order (community outputs first at street and district
    level, then district-only ones)."""
    return list(
        _view(
            ("at_level", level),
            lambda: tuple(o for o in _REGISTRY.values() if o.stored and level in o.levels),
        )
    )


def community_outputs() -> list[Output]:
    """Outputs recorded from community rows (every level)."""
    return list(
        _view(
            ("community_outputs",),
            lambda: tuple(o for o in _REGISTRY.values() if o.recorded_at_community),
        )
    )


def aggregated_outputs() -> list[Output]:
    """Outputs of streets and the district computed from community rows."""
    return list(
        _view(
            ("aggregated_outputs",),
            lambda: tuple(o for o in _REGISTRY.values() if o.stored and o.aggregate != "none"),
        )
    )


def district_only() -> list[Output]:
    """Outputs measured for the district as a whole."""
    return [o for o in _REGISTRY.values() if o.stored and o.aggregate == "none"]


def district_measured() -> list[Output]:
    """Outputs whose district value is measured from the agents and books each month."""
    return list(
        _view(
            ("district_measured",),
            lambda: tuple(
                o
                for o in _REGISTRY.values()
                if o.stored and (o.aggregate == "none" or o.measured_at_district)
            ),
        )
    )


def key_outcomes() -> list[str]:
    """The four key outcomes (admin burden, coverage, quality, satisfaction)."""
    return [o.name for o in _REGISTRY.values() if o.role == "key"]


def headline_outcomes() -> list[str]:
    """Outcomes shown by default in district tables: the key outcomes, then the headline ones."""
    return [*key_outcomes(), *(o.name for o in _REGISTRY.values() if o.role == "headline")]


# -- display ------------------------------------------------------------------------------------
def diff_digits(value: float | None, output: Output) -> int:
    """Decimals to show a difference: the output's, plus up to 3 more if it would read 0."""
    digits = output.digits
    x = abs(value * output.display_scale) if value is not None and math.isfinite(value) else 0.0
    while x != 0 and round(x, digits) == 0 and digits < output.digits + 3:
        digits += 1
    return digits


def format_value(
    value: float | None,
    output: Output,
    signed: bool = False,
    minus: str = "-",
    digits: int | None = None,
) -> str:
    """A value in display units (e.g. 0.257 -> '25.7' for a % output); 'n/a' for NaN or None.

    Signed values (differences) that would round to zero get more decimals (:func:`diff_digits`).
    """
    try:
        v = float(value)  # type: ignore[arg-type]
    except TypeError:  # None, pandas' NA
        return "n/a"
    if not math.isfinite(v):
        return "n/a" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    x = v * output.display_scale
    if digits is None:
        digits = diff_digits(v, output) if signed else output.digits
    text = f"{x:+,.{digits}f}" if signed else f"{x:,.{digits}f}"
    if text.lstrip("+-").strip("0.,") == "":
        text = f"{0:.{digits}f}"  # no "-0.0" or "+0.0"
    return text.replace("-", minus)


# -- store schema -------------------------------------------------------------------------------
TIME_COLUMNS = {"step": "int64", "month": "string", "year": "int64"}
UNIT_COLUMNS = {
    "community": {"community": "string", "street": "string"},
    "street": {"street": "string"},
    "district": {"district": "string"},
}


def column_types(level: str, frequency: str = "monthly") -> dict[str, str]:
    """Every column of a level's table (keys first) with its type at a store frequency."""
    return dict(_view(("column_types", level, frequency), lambda: _column_types(level, frequency)))


def _column_types(level: str, frequency: str) -> dict[str, str]:
    time = dict(TIME_COLUMNS)
    if frequency == "yearly":
        time = {"year": "int64"}
    out = {**time, **UNIT_COLUMNS[level]}
    out.update({o.name: o.dtype_at(level, frequency) for o in at_level(level)})
    return out


def arrow_schema(level: str, frequency: str = "monthly") -> pa.Schema:
    """The Parquet schema of a level's table (without the experiment's key columns)."""
    return _view(("arrow_schema", level, frequency), lambda: _arrow_schema(level, frequency))


def _arrow_schema(level: str, frequency: str) -> pa.Schema:
    import pyarrow as pa

    types = {
        "int64": pa.int64(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
        "string": pa.string(),
    }
    return pa.schema([(k, types[v]) for k, v in column_types(level, frequency).items()])


def to_arrow(columns: Mapping[str, Any], level: str, frequency: str = "monthly") -> pa.Table:
    """A level's columns as an Arrow table of the declared schema: NaN becomes NULL, counts are
    integers. Columns not in the table's schema (e.g. experiment keys) keep their own type.
    Columns may be numpy arrays, pandas columns or Arrow arrays (the text columns of
    :func:`sim.metrics.result_columns` with ``arrow_text``)."""
    import pyarrow as pa

    return pa.table(arrow_arrays(columns, level, frequency))


def arrow_arrays(
    columns: Mapping[str, Any], level: str, frequency: str = "monthly"
) -> dict[str, pa.Array]:
    """The columns of :func:`to_arrow`'s table as Arrow arrays, by name: for callers that add
    columns before making the table (taking a table's columns apart again costs more than
    making it)."""
    import numpy as np
    import pyarrow as pa

    types = _view(
        ("arrow_types", level, frequency),
        lambda: {f.name: f.type for f in arrow_schema(level, frequency)},
    )
    arrays = {}
    for name, values in columns.items():
        typ = types.get(name)
        if isinstance(values, (pa.Array, pa.ChunkedArray)):
            arrays[name] = values if typ is None or values.type == typ else values.cast(typ)
            continue
        if hasattr(values, "to_numpy"):
            values = values.to_numpy()
        arr = np.asarray(values)
        nan = True  # whether to look for NaN (pandas' missing values) to make NULL
        if arr.dtype.kind == "f":
            if typ is not None and (pa.types.is_integer(typ) or pa.types.is_boolean(typ)):
                if np.isnan(arr).any():
                    raise ValueError(f"{level}.{name}: missing values in an integer column")
                if not np.array_equal(arr, np.round(arr)):
                    raise ValueError(f"{level}.{name}: fractional values in an integer column")
            else:  # a sum is NaN if any value is (or if +inf meets -inf: then look anyway)
                nan = bool(np.isnan(np.add.reduce(arr, axis=None)))
        arrays[name] = pa.array(arr, type=typ, from_pandas=nan)
    return arrays


# -- the table ----------------------------------------------------------------------------------
def _share(**kw: Any) -> Output:
    kw.setdefault("unit", "share 0-1")
    return Output(display_scale=100.0, display_unit="%", diff_unit="pp", digits=1, **kw)


def _score(**kw: Any) -> Output:
    return Output(
        display_scale=100.0, display_unit="score 0-100", diff_unit="points", digits=1, **kw
    )


def _count(**kw: Any) -> Output:
    kw.setdefault("dtype", "int64")
    kw.setdefault("digits", 0)
    return Output(**kw)


def _hours(**kw: Any) -> Output:
    kw.setdefault("unit", "staff hours")
    return Output(kind=kw.pop("kind", "flow"), aggregate="sum", digits=0, **kw)


def _summed_items(name: str, doc: str) -> Output:
    return _count(
        name=name, levels=ALL, unit="items", kind="flow", aggregate="sum", source=name, doc=doc
    )


SPEND_COLUMNS = ("purchase_spend", "project_spend", "funded_item_spend")


def _spend(m: pd.DataFrame) -> pd.Series:
    return 12 * sum(m[c] for c in SPEND_COLUMNS)


def _cost_per_hour(m: pd.DataFrame) -> pd.Series:
    hours = m["org_item_hours"] + m["project_hours"]
    spend = sum(m[c] for c in SPEND_COLUMNS)
    return (spend / hours.where(hours > 0)).astype(float)


def _need_outputs() -> list[Output]:
    """Need, need met, unmet need and coverage by need type (model v2, ODD 7.7)."""
    from sim.needs import NEED_TYPES  # the one list of need types

    out = []
    for t in NEED_TYPES:
        need, served = f"need_hours_{t}", f"served_hours_{t}"
        out += [
            _hours(
                name=need,
                levels=ALL,
                unit="hours",
                source=f"need_{t}",
                group="needs",
                doc=f"need of type {t} (services and resident-facing items) this month",
            ),
            _hours(
                name=served,
                levels=ALL,
                unit="hours",
                source=f"served_{t}",
                group="needs",
                doc=f"need of type {t} met this month",
            ),
            _hours(
                name=f"unmet_hours_{t}",
                levels=ALL,
                unit="hours",
                source=f"unmet_{t}",
                group="needs",
                better="lower",
                doc=f"need of type {t} not met this month, `{need} − {served}` (who is left out)",
            ),
            _share(
                name=f"coverage_{t}",
                levels=ALL,
                kind="share",
                aggregate="ratio",
                numerator=served,
                denominator=need,
                source=f"coverage_{t}",
                group="needs",
                better="higher",
                doc=f"share of need of type {t} met, `{served} / {need}`",
            ),
        ]
    return out


for _o in (
    # --- community outputs, aggregated to streets and the district ----------------------------
    _count(
        name="residents",
        levels=ALL,
        unit="residents",
        kind="structure",
        aggregate="sum",
        source="residents",
        doc="residents",
    ),
    _count(
        name="staff",
        levels=ALL,
        unit="staff",
        kind="structure",
        aggregate="sum",
        source="staff",
        doc="community staff",
    ),
    _share(
        name="admin_burden",
        levels=ALL,
        kind="share",
        aggregate="ratio",
        numerator="admin_hours",
        denominator="staff_hours_used",
        source="admin_burden",
        label="admin burden",
        better="lower",
        role="key",
        doc="share of the staff hours used this month that went to administrative work",
        window_doc="share of community staff hours spent on administrative work (window mean)",
        notes="`admin_hours / staff_hours_used`, where `admin_hours` = min(item demand + "
        "supervision, available − statutory) (items landed on staff this month, items returned "
        "by an overloaded contract holder, the backlog, and `supervision_share` × hours the "
        "contract holder delivered; overtime included) and `staff_hours_used` = statutory + "
        "admin + self-governance + service hours = max(regular hours, statutory + admin). "
        "Statutory duties are not counted as administrative.",
    ),
    _hours(
        name="admin_hours",
        levels=ALL,
        source="hours_admin",
        doc="hours spent on administrative items and on supervising purchased work, overtime "
        "included (ODD 7.6)",
    ),
    _hours(
        name="staff_hours_available",
        levels=ALL,
        source="hours_available",
        doc="most hours staff could work this month: `staff · staff_hours_per_month · (1 − "
        "burnout_absence · burnout) · (1 + overtime_cap)`, with burnout as at the start of the "
        "month",
    ),
    _hours(
        name="staff_hours_used",
        levels=ALL,
        source="hours_used",
        doc="statutory + admin + self-governance + service hours",
    ),
    _hours(
        name="self_governance_hours",
        levels=ALL,
        source="hours_self_governance",
        doc="`self_governance_share` of the regular hours left after statutory duties and admin "
        "work",
    ),
    _hours(
        name="staff_service_hours",
        levels=ALL,
        source="hours_services",
        doc="the rest of those free hours: direct services to residents",
    ),
    _summed_items(
        "items_issued",
        "administrative items departments and streets sent this month, whatever became of them, "
        "each counted once: catalogue + other listed + crept + funded + withdrawn + accepted "
        "unlisted + refused − `items_refunded` (a refused item its issuer then funds counts once, "
        "as funded)",
    ),
    _summed_items(
        "items_received",
        "items that reached the community: `items_issued` minus withdrawn (refused items count: "
        "they were pushed and refused)",
    ),
    _summed_items(
        "items_refused",
        "unlisted items pushed (directly or handed down by the street) and refused by the "
        "community (entry control only; ODD 7.3)",
    ),
    _summed_items(
        "items_withheld",
        "unlisted items their issuers withdrew instead of sending (entry control only)",
    ),
    _summed_items(
        "items_funded",
        "unlisted items sent with funding (费随事转), refused items re-sent with funding, and "
        "items of types listed at a review with funding (entry control only); done by the lot "
        "holder if there is one, else by the street's best registered agency if any, else by "
        "staff",
    ),
    _summed_items(
        "items_refunded",
        "refused items their issuer then sent with funding: counted in `items_refused` (the "
        "refusal) and in `items_funded` (the item), so `items_refused − items_refunded` were "
        "given up (entry control only)",
    ),
    _summed_items(
        "items_via_street",
        "unlisted department items the street handed down as its own task (relayed; accepted or "
        "refused; entry control only)",
    ),
    _summed_items(
        "items_crept",
        "items of types listed without funding at a list review (relabelling, list creep); land "
        "on staff and cannot be refused",
    ),
    _summed_items(
        "items_retaliated",
        "refusals this month that the issuer punished through the street's appraisal",
    ),
    _summed_items(
        "items_unlisted_accepted",
        "unlisted items accepted without funding (all unlisted items when entry control is off)",
    ),
    _hours(
        name="backlog_hours",
        levels=ALL,
        kind="stock",
        source="backlog",
        doc="administrative work carried to next month, after this month's expiry "
        "(`backlog_expiry`); supervision hours not done are not carried",
    ),
    _hours(
        name="undone_item_hours",
        levels=ALL,
        source="undone_hours",
        doc="item hours nobody does: (refused + withdrawn) · `hours_per_item` + the item part of "
        "the backlog that expired this month",
    ),
    _hours(
        name="org_item_hours",
        levels=ALL,
        unit="hours",
        source="org_item_delivered",
        doc="hours of catalogue and funded items **delivered** by the contract holder this month "
        "(items it could not staff were returned to community staff and are not included)",
    ),
    _hours(
        name="funded_org_hours",
        levels=ALL,
        unit="hours",
        source="funded_org_delivered",
        doc="hours of funded items delivered by the street's agency for a community without a "
        "holder of that lot (费随事转 outside the purchase budget; ODD 7.3, 7.5)",
    ),
    *(
        _hours(
            name=f"unmet_item_hours_{_need}",
            levels=ALL,
            unit="hours",
            measure=(lambda j: lambda model: model.world.need_unmet[:, j])(_j),
            label=f"unmet {_need.replace('_', ' ')} service hours",
            better="lower",
            doc=f"unlisted service items for vulnerable residents of need type `{_need}` "
            "(sim/needs.py) left undone this month: withdrawn, or refused and given up, plus the "
            "part of those items in the staff backlog that expired (ODD 7.3, 7.6)",
        )
        for _j, _need in enumerate(NEED_TYPES)
    ),
    Output(
        name="refusal_stance",
        levels=ALL,
        unit="log-odds",
        kind="stock",
        aggregate="weighted",
        weight="residents",
        source="refusal_stance",
        digits=2,
        doc="what a community adds to its odds of refusing an unlisted item, from its past "
        "refusals and the reprisals they met (ODD 7.3); streets and district: resident-weighted",
    ),
    _hours(
        name="volunteer_hours",
        levels=ALL,
        unit="hours",
        source="volunteer_hours",
        doc="everyday volunteer hours of grassroots groups based in this community: Σ members · "
        "`volunteer_hours_per_member`",
    ),
    _hours(
        name="project_hours",
        levels=ALL,
        unit="hours",
        source="project_hours",
        doc="public-interest project hours delivered in this community (by agencies' workers or "
        "groups' members)",
    ),
    _hours(
        name="service_need_hours",
        levels=ALL,
        unit="hours",
        source="need_hours",
        doc="resident need, see `service_coverage`",
    ),
    _hours(
        name="served_hours",
        levels=ALL,
        unit="hours",
        source="served_hours",
        doc="need met, see `service_coverage`",
    ),
    _hours(
        name="delivered_hours",
        levels=ALL,
        unit="hours",
        source="delivered_hours",
        doc="service hours of all sources plus resident-facing item hours done (may exceed need); "
        "the weight of `delivered_quality`",
    ),
    _share(
        name="service_coverage",
        levels=ALL,
        kind="share",
        aggregate="ratio",
        numerator="served_hours",
        denominator="service_need_hours",
        source="service_coverage",
        label="service coverage",
        better="higher",
        role="key",
        doc="share of resident need met this month",
        window_doc="share of resident service need met (window mean)",
        notes="Model v2: `served_hours / service_need_hours` (0 if need is 0), over the five need "
        "types of `sim/needs.py` (ODD 7.7). Need of type k = households with that need (from "
        "household size and the community's covariates) · `need_weight_<k>` · "
        "`need_hours_per_resident` · `need_index`, plus the resident-facing part of this month's "
        "items (`resident_facing_share · items_issued · hours_per_item`) in the community's "
        "proportions of need. Service hours come from four sources (staff services; groups: "
        "volunteers and micro-projects; local agencies' projects; brand agencies' projects); each "
        "spreads its hours over the need types in proportion to need × fit and meets `fit` of an "
        "hour of that need (`sim/needs.py: SERVICE_FIT`, scaled by `service_fit_spread`). Need "
        "met of a type is capped at its need; items done by staff or contract holders meet item "
        "need. Refused, withdrawn and expired items are in the need but served by no one. "
        "Because `served_hours` never exceeds `service_need_hours` in a community, every "
        "aggregate coverage is within 0-1.",
    ),
    _score(
        name="service_quality",
        levels=ALL,
        unit="quality 0-1",
        kind="share",
        aggregate="weighted",
        weight="service_need_hours",
        source="service_quality",
        label="service quality",
        better="higher",
        role="key",
        doc="share of resident need met at full quality this month (model v2: measured against "
        "need)",
        window_doc="share of resident service need met at full quality (window mean)",
        notes="Model v2 (replaces v1's mean quality per delivered hour, kept as "
        "`delivered_quality`): Σ over need types of min(need met, quality-weighted effective "
        "hours) / `service_need_hours`. It is at most `service_coverage`. More hours of a weaker "
        "provider never lower it, and a change of provider mix moves it only through what "
        "residents get. Qualities: staff `staff_base_quality · (1 − burnout_quality_penalty · "
        "staff burnout)`, volunteers `min(1, volunteer_quality + 0.4 · group capacity)`, "
        "projects and purchased items the organization's delivered quality (ODD 7.5). Street "
        "and district values are weighted by need hours.",
    ),
    _score(
        name="delivered_quality",
        levels=ALL,
        unit="quality 0-1",
        kind="share",
        aggregate="weighted",
        weight="delivered_hours",
        source="delivered_quality",
        label="delivered quality",
        doc="v1's `service_quality`: the mean quality per delivered hour (kept for comparison)",
        notes="Σ(hours × quality) / `delivered_hours` (0 if nothing was delivered), with the "
        "qualities of `service_quality`. Because it is a mean per delivered hour, the mix of "
        "providers moves it: more low-quality hours lower it even when residents get more.",
    ),
    _score(
        name="satisfaction",
        levels=ALL,
        unit="share 0-1",
        kind="stock",
        aggregate="weighted",
        weight="residents",
        source="satisfaction",
        label="satisfaction",
        better="higher",
        role="key",
        doc="resident satisfaction at the end of the month",
        window_doc="resident satisfaction, resident-weighted (window mean)",
        notes="Moves each month toward a mix of this month's coverage and quality: "
        "`satisfaction += satisfaction_adjust · (satisfaction_weight_coverage · service_coverage "
        "+ (1 − satisfaction_weight_coverage) · service_quality − satisfaction)`; in the first "
        "simulated month (the start of the burn-in, see ODD 5) it is set to that mix directly.",
    ),
    _share(
        name="participation",
        levels=ALL,
        unit="share of residents",
        kind="stock",
        aggregate="weighted",
        weight="residents",
        source="participation",
        better="higher",
        doc="share of residents active in community life; moves by `participation_adjust` toward "
        "`participation_max · e / (e + participation_half_hours)`, with e = (self-governance + "
        "volunteer hours) per 1,000 residents",
    ),
    _score(
        name="staff_burnout",
        levels=ALL,
        unit="burnout 0-1",
        kind="stock",
        aggregate="weighted",
        weight="staff",
        source="burnout",
        label="staff burnout",
        better="lower",
        doc="staff burnout at the end of the month (ODD 7.6)",
    ),
    Output(
        name="purchase_spend",
        levels=ALL,
        unit="yuan",
        kind="flow",
        aggregate="sum",
        source="purchase_spend",
        measured_at_district=True,
        display_scale=1e-6,
        display_unit="M yuan",
        digits=3,
        group="money",
        doc="paid this month from the purchase budget to contract holders: monthly contract fee "
        "× share of arriving catalogue and funded item hours delivered (the full fee in a month "
        "when none arrived); payments for funded items are not included",
    ),
    _count(
        name="lots_held",
        levels=ALL,
        unit="lots",
        kind="stock",
        aggregate="sum",
        source="lots_held",
        doc="purchase lots (one per item category, A3) that had a holder when this month's work "
        "was delivered",
    ),
    _count(
        name="n_groups",
        levels=ALL,
        unit="groups",
        kind="stock",
        aggregate="sum",
        label="grassroots groups",
        doc="alive grassroots groups based in the community, registered or not, at the end of the "
        "month",
    ),
    _count(
        name="contracted",
        levels=ALL,
        unit="communities",
        kind="stock",
        aggregate="sum",
        label="contracted communities",
        doc="communities with at least one purchase lot held at the end of the month (an integer "
        "at every level: 0 or 1 for a community)",
    ),
    *_need_outputs(),
    Output(
        name="admin_hours_per_staff",
        levels=ALL,
        unit="staff hours per staff member",
        kind="flow",
        aggregate="ratio",
        numerator="admin_hours",
        denominator="staff",
        digits=1,
        label="admin hours per staff",
        better="lower",
        doc="`admin_hours / staff`",
    ),
    _count(
        name="n_communities",
        levels=UNITS,
        unit="communities",
        kind="structure",
        aggregate="count",
        doc="number of communities in the street or district",
    ),
):
    register(_o)


_MYUAN = {"display_scale": 1e-6, "display_unit": "M yuan", "digits": 3}
_MYUAN_YEAR = {"display_scale": 1e-6, "display_unit": "M yuan/year", "digits": 2}


def _district(group: str, items: tuple[tuple[str, str, str, str, dict[str, Any]], ...]) -> None:
    """Register district-only outputs: (name, unit, kind, doc, extra fields)."""
    counts = {"organizations", "registrations", "lots", "projects", "workers", "centres", "streets"}
    for name, unit, kind, doc, extra in items:
        extra = dict(extra)
        if unit in counts:
            extra.setdefault("dtype", "int64")
            extra.setdefault("digits", 0)
        register(
            Output(name=name, levels=DISTRICT, unit=unit, kind=kind, doc=doc, group=group, **extra)
        )


_district(
    "organizations",
    (
        ("n_orgs", "organizations", "stock",
         "alive simulated organizations of all kinds, registered or not, **plus** `n_orgs_other` "
         "(the aggregate stock of registered organizations outside community services, ODD 2); "
         "compare with A13",
         {"label": "organizations", "role": "headline"}),
        ("n_orgs_grassroots", "organizations", "stock",
         "alive grassroots community groups (registered or only filed)",
         {"label": "grassroots groups"}),
        ("n_orgs_agency", "organizations", "stock",
         "alive local professional social-work agencies (registered or awaiting registration)",
         {"label": "local agencies"}),
        ("n_orgs_brand", "organizations", "stock", "alive imported brand agencies",
         {"label": "brand agencies"}),
        ("n_orgs_other", "organizations", "stock",
         "the aggregate stock `other_orgs` after this month's entries and exits", {}),
        ("n_registered", "organizations", "stock",
         "alive registered simulated organizations **plus** `n_orgs_other`", {}),
        ("n_registered_new_rule", "organizations", "stock",
         "alive groups that registered while a threshold looser than the 1998 rule (B4) was in "
         "force; compare with A12", {}),
        ("registrations", "registrations", "flow",
         "grassroots groups that registered this month (agencies' registrations are not "
         "counted)", {}),
        ("registrations_new_rule", "registrations", "flow",
         "those of this month's registrations made under a threshold looser than B4", {}),
        ("orgs_formed", "organizations", "flow", "new grassroots groups formed this month", {}),
        ("agencies_founded", "organizations", "flow",
         "new local agencies founded this month (brand agencies arriving are not counted)", {}),
        ("org_exits", "organizations", "flow",
         "simulated organizations that exited this month (exit hazard, dissolution or "
         "insolvency); excludes the `other_orgs` stock", {}),
        ("org_entry_rate", "per year", "flow",
         "new groups and agencies this month × 12, over simulated organizations alive at the end "
         "of the month (annualised entry rate; compare B8: 4-5% a year)",
         {"display_scale": 100.0, "display_unit": "% a year", "diff_unit": "pp a year",
          "digits": 1}),
        ("org_exit_rate", "per year", "flow",
         "exits this month × 12, over simulated organizations alive at the start of the month "
         "(annualised exit rate; compare B8: 1-2% a year)",
         {"display_scale": 100.0, "display_unit": "% a year", "diff_unit": "pp a year",
          "digits": 1}),
        ("org_exits_registered", "organizations", "flow", "those exits that were registered", {}),
        ("n_incubated", "organizations", "stock",
         "alive organizations being incubated at the end of the month", {}),
        ("n_hosted", "organizations", "stock",
         "alive groups hosted in a resident service centre", {}),
        ("mean_capacity", "capacity 0-1", "stock",
         "mean capacity of all alive simulated organizations (groups included); NULL if none", {}),
        ("mean_capacity_professional", "capacity 0-1", "stock",
         "mean capacity of alive agencies and brand agencies; NULL if none", {}),
        ("contracts_active", "lots", "stock",
         "purchase lots (community × category) with a holder at the end of the month", {}),
        ("projects_active", "projects", "stock",
         "alive organizations holding a public-interest project", {}),
        ("contract_hhi", "index 0-1", "flow",
         "Herfindahl-Hirschman index of this month's contract and project money across "
         "organizations: Σ s², with s an organization's share of (contract income incl. "
         "funded-item payments + project income); NULL if no money was paid", {}),
        ("local_money_share", "share 0-1", "flow",
         "share of that money paid to local organizations (agencies and groups, not brand "
         "agencies); NULL if no money was paid",
         {"label": "money to local organizations", "display_scale": 100.0,
          "display_unit": "%", "diff_unit": "pp", "digits": 1,
          "window_doc": "share of contract and project money paid to local organizations rather "
          "than imported brand agencies (window mean of the monthly shares; NaN where no money "
          "was paid; district only)"}),
        ("largest_provider_share", "share 0-1", "flow",
         "the largest single organization's share of that money (model v2); NULL if no money was "
         "paid",
         {"label": "largest provider's share", "display_scale": 100.0, "display_unit": "%",
          "diff_unit": "pp", "digits": 1, "better": "lower"}),
        ("largest_provider_workers", "workers", "stock",
         "social workers employed by that organization at the end of the month (model v2; 0 if "
         "no money was paid)", {"digits": 0}),
    ),
)  # fmt: skip
_district(
    "workers",
    (
        ("n_social_workers", "workers", "stock", "employed social workers at the end of the month",
         {"label": "social workers", "role": "headline"}),
        ("social_workers_pool", "workers", "stock",
         "social workers in the district without a post (the pool)", {}),
        ("mean_skill", "skill 0-1", "stock", "mean skill of employed workers; NULL if none", {}),
        ("certified_share", "share 0-1", "stock",
         "share of employed workers holding the certificate; NULL if none",
         {"display_scale": 100.0, "display_unit": "%", "diff_unit": "pp", "digits": 1}),
        ("turnover", "per month", "flow",
         "quits this month / `n_social_workers` (0 if none employed); quits include workers who "
         "moved to the pool, not lay-offs or workers whose employer folded. Not annualised",
         {"display_scale": 100.0, "display_unit": "% a month", "diff_unit": "pp a month",
          "digits": 2}),
        ("hires", "workers", "flow", "workers hired this month, from the pool and career switchers",
         {}),
        ("switchers_hired", "workers", "flow", "of those, untrained career switchers", {}),
        ("layoffs", "workers", "flow",
         "workers laid off by organizations that no longer needed them (not counting those whose "
         "employer exited)", {}),
    ),
)  # fmt: skip
_district(
    "money",
    (
        ("project_spend", "yuan", "flow",
         "paid from the project budget this month: Σ monthly project fee × share delivered",
         _MYUAN),
        ("funded_item_spend", "yuan", "flow",
         "paid by issuers for funded items done by contract holders (费随事转), outside both "
         "budget lines: `items_funded · hours_per_item · service_hour_price` × delivered share",
         _MYUAN),
        ("spend", "yuan/year", "flow",
         "public money paid to organizations, annualised: 12 × window mean of monthly "
         "(`purchase_spend` + `project_spend` + `funded_item_spend`); for a full calendar year, "
         "that year's total. Computed from a time window only, not stored",
         {"stored": False, "display_scale": 1e-6, "display_unit": "M yuan/year", "digits": 2,
          "role": "headline", "needs": SPEND_COLUMNS, "compute": _spend,
          "window_doc": "public money paid to organizations, annualised: 12 x mean monthly "
          "(purchase + project + funded-item) spend (district only)"}),
        ("cost_per_service_hour", "yuan per hour", "flow",
         "(`purchase_spend` + `funded_item_spend` + `project_spend`) / (hours delivered by "
         "contract holders, funded items included, + project hours delivered); NULL if nothing "
         "was delivered",
         {"label": "cost per service hour", "display_unit": "yuan/hour", "digits": 1,
          "better": "lower", "role": "headline",
          "needs": (*SPEND_COLUMNS, "org_item_hours", "project_hours"),
          "compute": _cost_per_hour,
          "window_doc": "spend / hours delivered by organizations (contract items + projects), a "
          "ratio of window means; NaN where nothing was delivered (district only)"}),
        ("purchase_appropriated_ytd", "yuan", "ytd",
         "purchase budget appropriated this calendar year so far (Σ `purchase_budget` / 12 over "
         "the months)", _MYUAN),
        ("purchase_spent_ytd", "yuan", "ytd", "purchase budget paid this calendar year so far",
         _MYUAN),
        ("project_appropriated_ytd", "yuan", "ytd",
         "project budget appropriated this calendar year so far", _MYUAN),
        ("project_spent_ytd", "yuan", "ytd", "project budget paid this calendar year so far",
         _MYUAN),
    ),
)  # fmt: skip
_district(
    "lists",
    (
        ("n_listed_types", "item types", "stock",
         "item types on the lists: `n_item_types` until entry control first applies, then "
         "`listed_types_after_cut` plus the types admitted at list reviews (ODD 7.3)",
         {"dtype": "int64", "digits": 0, "label": "listed item types"}),
        ("n_purchasable_types", "item types", "stock",
         "listed types that are purchasable: 0 before the cut, `purchasable_types_after_cut` "
         "after it, plus types admitted at a review with funding",
         {"dtype": "int64", "digits": 0, "label": "purchasable item types"}),
        ("n_crept_types", "item types", "stock",
         "types admitted at list reviews so far (list creep, funded or not)",
         {"dtype": "int64", "digits": 0}),
        ("list_petitions", "petitions", "flow",
         "petitions to list an unlisted type at this month's review (0 without a review)",
         {"dtype": "int64", "digits": 0}),
        ("list_admitted", "item types", "flow", "petitions admitted at this month's review",
         {"dtype": "int64", "digits": 0}),
        ("campaigns_active", "issuers", "stock", "issuers running a campaign this month",
         {"dtype": "int64", "digits": 0}),
        ("issuer_fund_share", "share 0-1", "flow",
         "mean over issuers of the chance a routine unlisted item is sent with funding (0 without "
         "entry control)", {}),
        ("issuer_expected_refusal", "share 0-1", "stock",
         "mean over issuers of the refusal rate they expect for items they push directly", {}),
    ),
)  # fmt: skip
_district(
    "inequality",
    (
        ("coverage_gini", "Gini 0-1", "flow",
         "Gini coefficient of community `service_coverage`, communities unweighted (0 = equal; 0 "
         "if all coverages are 0)", {"better": "lower"}),
        ("quality_p10_p90", "ratio", "flow",
         "10th percentile / 90th percentile of community `service_quality` (numpy linear "
         "quantiles, communities unweighted; 1 = equal); NULL if the 90th percentile is 0",
         {"better": "higher"}),
        *(
            (f"{short}_{measure}", unit, "flow", doc.format(col=col), extra)
            for short, col in (
                ("burden", "admin_burden"),
                ("coverage", "service_coverage"),
                ("quality", "service_quality"),
            )
            for measure, unit, doc, extra in (
                ("street_gap", "share 0-1",
                 "best minus worst street of `{col}` (street values as in the street table; "
                 "model v2)", {"better": "lower"}),
                ("p10_p90", "ratio",
                 "10th percentile / 90th percentile of community `{col}` (numpy linear "
                 "quantiles, communities unweighted; 1 = equal; model v2); NULL if the 90th "
                 "percentile is 0", {}),
                ("gini", "Gini 0-1",
                 "Gini coefficient of community `{col}`, communities unweighted (0 = equal; 0 if "
                 "all values are 0; model v2)", {"better": "lower"}),
            )
            if f"{short}_{measure}" not in ("coverage_gini", "quality_p10_p90")
        ),
    ),
)  # fmt: skip
_district(
    "levers",
    (
        ("service_centres", "centres", "stock",
         "resident service centres open this month (lever `service_centres`, placed by process "
         "1)", {}),
        ("streets_with_centres", "streets", "stock",
         "streets hosting at least one service centre", {}),
        ("incubation_centres", "centres", "lever", "incubation centres in force", {}),
        ("entry_control", "bool", "lever", "entry control in force this month",
         {"dtype": "bool", "digits": 0}),
        ("purchase_budget", "yuan/year", "lever",
         "purchase budget lever in force this month (an annual rate)", _MYUAN_YEAR),
        ("project_budget", "yuan/year", "lever",
         "project budget lever in force this month (an annual rate)", _MYUAN_YEAR),
    ),
)  # fmt: skip
del _o
check_table()
_CHECKED = True
