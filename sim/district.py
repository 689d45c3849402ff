"""The district's structure: streets and communities, synthetic Wuhou or loaded from a CSV.

Space in this model is the administrative hierarchy district -> streets -> communities. The
structure is fixed for a run and identical across seeds, so replications and scenarios vary the
behaviour, not the map.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import ScenarioError, did_you_mean, plain
from sim.needs import COVARIATES, DEFAULT_SHARES

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# numpy is imported where arrays are made, so validating a scenario (which reads the CSV but builds
# no arrays) stays fast.

# B1: Wuhou's 13 streets, c. 2013-2016, with pinyin for plots that cannot render Chinese.
WUHOU_STREETS: tuple[tuple[str, str], ...] = (
    ("浆洗街", "Jiangxijie"),
    ("望江路", "Wangjianglu"),
    ("玉林", "Yulin"),
    ("跳伞塔", "Tiaosanta"),
    ("火车南站", "Huochenanzhan"),
    ("双楠", "Shuangnan"),
    ("晋阳", "Jinyang"),
    ("红牌楼", "Hongpailou"),
    ("簇桥", "Cuqiao"),
    ("机投桥", "Jitouqiao"),
    ("金花桥", "Jinhuaqiao"),
    ("簇锦", "Cujin"),
    ("华兴", "Huaxing"),
)
# Pinyin of every street name the shipped districts use, for labels (figures, report, dashboard).
STREET_PINYIN: dict[str, str] = dict(WUHOU_STREETS)
WUHOU_COMMUNITIES = 87  # A2
WUHOU_RESIDENTS = 1_260_000  # A2
# What a reader of results must know about each built-in district source (report caveats).
SOURCE_NOTES: dict[str, str] = {
    "wuhou": "The district is Wuhou's 13 streets and 87 communities with 1.26 million residents "
    "(A2), but the number of communities per street and their populations and staff are "
    "synthetic (B1: not published), so street results show how the mechanisms play out on a "
    "plausible map, not on the real one.",
}


def source_note(source: str) -> str | None:
    """The caveat that goes with a district source (``[district] source``), if any."""
    return SOURCE_NOTES.get(str(source))


# The synthetic layout is drawn once from this fixed seed (the reform's launch date, A1), so every
# run uses the same district. Community counts per street were not found (B1), hence synthetic.
STRUCTURE_SEED = 20131001
RESIDENTS_LOG_SD = 0.3  # assumption: spread of community size within a street
RESIDENTS_PER_STAFF = 1100.0  # B2: 15 staff / 15,856 and 13 / 15,363 residents
STAFF_RANGE = (7, 25)  # assumption; B3: about 5 committee members plus service-hall staff
MIN_COMMUNITIES_PER_STREET = 2  # assumption (华兴 had 3 villages and few communities, B14)
COVARIATE_LOG_SD = 0.15  # assumption: spread of a covariate across communities of one street

# Street types (model v2). Old-town streets (老城区) have older residents, smaller households and
# fewer migrants; fringe streets (城乡结合部) have far more migrants and some still had villages
# (B14, B15). Household sizes: B2 (洗面桥, old town: 15,856 / 5,829 = 2.72; 簇锦, fringe:
# 15,363 / 4,199 = 3.66); the middle type is an assumption between them.
STREET_TYPES: dict[str, dict[str, float]] = {
    # elderly 60+: assumption around B16 (17.6-19.4% of registered residents aged 60+ in a
    # neighbouring old-town street, 2013-16): older in the old town, younger where migrants of
    # working age dilute the population. Disabled: assumption (about 6% of residents, the order of
    # the 2006 national sample survey); low income: assumption.
    "old": {
        "household_size": 2.72,
        "elderly_share": 0.22,
        "children_share": 0.09,
        "disabled_share": 0.065,
        "low_income_share": 0.03,
        "migrant_share": 0.30,
    },
    "middle": {
        "household_size": 3.1,
        "elderly_share": 0.17,
        "children_share": 0.11,
        "disabled_share": 0.06,
        "low_income_share": 0.025,
        "migrant_share": 0.38,
    },
    "fringe": {
        "household_size": 3.66,
        "elderly_share": 0.12,
        "children_share": 0.12,
        "disabled_share": 0.055,
        "low_income_share": 0.035,
        "migrant_share": 0.60,
    },
}
# B1's 13 streets: (type, residents if a figure exists, overrides of the type's covariates). Street
# figures are from different years (B14: 2010-2020) and weak; they fix relative sizes and the
# migrant shares that are known; the streets without a figure share the rest of A2's total equally.
WUHOU_STREET_PROFILES: dict[str, tuple[str, int | None, dict[str, float]]] = {
    "浆洗街": ("old", 87_954, {"migrant_share": 0.29}),  # B14: 62,804 + 25,150 temporary
    "望江路": ("old", 90_000, {}),  # B14 (2020)
    "玉林": ("old", None, {"migrant_share": 0.44}),  # B15: 棕南 6,710+ of 15,407 floating
    "跳伞塔": ("old", 69_153, {}),  # B14 (2010)
    "火车南站": ("middle", None, {}),
    "双楠": ("middle", None, {}),
    "晋阳": ("fringe", 96_900, {"migrant_share": 0.78}),  # B14: 75.3k of 96.9k floating
    "红牌楼": ("middle", None, {}),
    "簇桥": ("fringe", 111_400, {"migrant_share": 0.66}),  # B14: 38k registered of 111.4k
    "机投桥": ("fringe", None, {}),
    "金花桥": ("fringe", None, {}),
    "簇锦": ("fringe", None, {}),
    # B14 (end-2011): 13,645 people, 3,869 floating (28%), 16% aged 65+ (about 23% aged 60+ at the
    # 2010 census ratio of 60+ to 65+, 1.45), 10% aged 0-14, 3 villages.
    "华兴": (
        "fringe",
        13_645,
        {"migrant_share": 0.28, "elderly_share": 0.23, "children_share": 0.10},
    ),
}

# (name, value, unit, source) of the synthetic layout's constants, for docs/parameters.md
STRUCTURE_CONSTANTS = (
    ("streets", len(WUHOU_STREETS), "streets", "B1"),
    ("communities", WUHOU_COMMUNITIES, "communities", "A2"),
    ("residents", WUHOU_RESIDENTS, "residents", "A2"),
    ("STRUCTURE_SEED", STRUCTURE_SEED, "seed", "assumption (fixed so every run shares one map)"),
    ("RESIDENTS_LOG_SD", RESIDENTS_LOG_SD, "log-sd", "assumption"),
    ("RESIDENTS_PER_STAFF", RESIDENTS_PER_STAFF, "residents/staff", "B2"),
    ("STAFF_RANGE", STAFF_RANGE, "staff", "assumption; B3"),
    ("MIN_COMMUNITIES_PER_STREET", MIN_COMMUNITIES_PER_STREET, "communities", "assumption"),
    ("COVARIATE_LOG_SD", COVARIATE_LOG_SD, "log-sd", "assumption"),
    *(
        (
            f"{kind}: {key}",
            value,
            "share" if key.endswith("share") else "residents/household",
            "B2" if key == "household_size" else "assumption (B14-B16 as orders of magnitude)",
        )
        for kind, values in STREET_TYPES.items()
        for key, value in values.items()
    ),
    *(
        (
            f"street {name}",
            f"{kind}; residents {size if size else 'rest of A2'}"
            + "".join(f"; {k} {v}" for k, v in extra.items()),
            "profile",
            "B14, B15" if (size or extra) else "assumption (type only)",
        )
        for name, (kind, size, extra) in WUHOU_STREET_PROFILES.items()
    ),
)

REQUIRED_COLUMNS = ("street", "community", "residents", "households", "staff")
OPTIONAL_NOTE = " (optional: need_index, " + ", ".join(COVARIATES) + ")"


@dataclass(frozen=True)
class District:
    """Streets and communities with their populations and staff."""

    name: str
    street_names: tuple[str, ...]
    street_labels: tuple[str, ...]  # ASCII fallback for figures
    community_names: tuple[str, ...]
    community_street: np.ndarray  # street index of each community
    residents: np.ndarray
    households: np.ndarray
    staff: np.ndarray
    need_index: np.ndarray  # relative service need (a multiplier on all need), mean about 1
    # shares of residents (households) with each need, communities x N_NEEDS (sim.needs); None
    # for the same DEFAULT_SHARES everywhere
    covariates: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.covariates is None:
            import numpy as np

            shares = np.tile(np.array(DEFAULT_SHARES, float), (len(self.community_names), 1))
            object.__setattr__(self, "covariates", shares)

    @property
    def n_streets(self) -> int:
        return len(self.street_names)

    @property
    def n_communities(self) -> int:
        return len(self.community_names)

    def size(self) -> dict[str, Any]:
        """Name, residents, communities and streets (what scaling needs)."""
        return {
            "name": self.name,
            "residents": int(self.residents.sum()),
            "communities": self.n_communities,
            "streets": self.n_streets,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per community, in the CSV format :func:`load_district_csv` reads."""
        import pandas as pd

        return pd.DataFrame(
            {
                "street": [self.street_names[s] for s in self.community_street],
                "community": self.community_names,
                "residents": self.residents,
                "households": self.households,
                "staff": self.staff,
                "need_index": self.need_index,
            }
            | {name: self.covariates[:, k] for k, name in enumerate(COVARIATES)}
        )


WUHOU_SIZE = {
    "name": "Wuhou (synthetic)",
    "residents": WUHOU_RESIDENTS,
    "communities": WUHOU_COMMUNITIES,
    "streets": len(WUHOU_STREETS),
}


def _round_to_total(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``weights`` that sum exactly to ``total`` (largest remainder)."""
    import numpy as np

    raw = weights / weights.sum() * total
    out = np.floor(raw).astype(np.int64)
    short = total - out.sum()
    out[np.argsort(raw - out)[::-1][:short]] += 1
    return out


def synthetic_wuhou() -> District:
    """Wuhou District: 13 streets (B1), 87 communities, 1.26 million residents (A2).

    Street sizes and covariates follow ``WUHOU_STREET_PROFILES`` (sourced where B14/B15 give a
    figure, otherwise the street type's assumption); communities per street are proportional to
    population, and communities within a street vary around the street's values.
    """
    import numpy as np

    rng = np.random.default_rng(STRUCTURE_SEED)
    n_streets = len(WUHOU_STREETS)
    profiles = [WUHOU_STREET_PROFILES[name] for name, _ in WUHOU_STREETS]
    known = np.array([size or 0 for _, size, _ in profiles], float)
    unknown = known == 0
    known[unknown] = (WUHOU_RESIDENTS - known.sum()) / unknown.sum()
    street_pop = _round_to_total(known, WUHOU_RESIDENTS)
    spare = WUHOU_COMMUNITIES - MIN_COMMUNITIES_PER_STREET * n_streets
    per_street = MIN_COMMUNITIES_PER_STREET + _round_to_total(
        np.maximum(
            street_pop / street_pop.sum() * WUHOU_COMMUNITIES - MIN_COMMUNITIES_PER_STREET, 0.0
        ),
        spare,
    )
    street = np.repeat(np.arange(n_streets), per_street)
    size = rng.lognormal(0.0, RESIDENTS_LOG_SD, WUHOU_COMMUNITIES)
    residents = np.zeros(WUHOU_COMMUNITIES, np.int64)
    for s in range(n_streets):
        mine = street == s
        residents[mine] = _round_to_total(size[mine], int(street_pop[s]))
    values = [STREET_TYPES[kind] | extra for kind, _, extra in profiles]
    hh_size = np.array([v["household_size"] for v in values])[street]
    hh_size = hh_size * rng.uniform(0.95, 1.05, WUHOU_COMMUNITIES)
    households = np.round(residents / hh_size).astype(np.int64)
    staff = np.clip(np.round(residents / RESIDENTS_PER_STAFF), *STAFF_RANGE).astype(np.int64)
    street_shares = np.array([[v[name] for name in COVARIATES] for v in values])
    spread = rng.lognormal(0.0, COVARIATE_LOG_SD, (WUHOU_COMMUNITIES, len(COVARIATES)))
    covariates = np.clip(street_shares[street] * spread, 0.0, 0.95)
    names = []
    for s in range(n_streets):
        names += [f"{WUHOU_STREETS[s][0]}{k + 1}" for k in range(per_street[s])]
    return District(
        name=WUHOU_SIZE["name"],
        street_names=tuple(s[0] for s in WUHOU_STREETS),
        street_labels=tuple(s[1] for s in WUHOU_STREETS),
        community_names=tuple(names),
        community_street=street,
        residents=residents,
        households=households,
        staff=staff,
        need_index=np.ones(WUHOU_COMMUNITIES),
        covariates=covariates,
    )


def street_types() -> tuple[str, ...]:
    """Type ("old", "middle", "fringe") of each of the synthetic district's streets, in B1 order."""
    return tuple(WUHOU_STREET_PROFILES[name][0] for name, _ in WUHOU_STREETS)


CSV_COLUMNS = (*REQUIRED_COLUMNS, "need_index", *COVARIATES)
CSV_FORMAT = (
    "a UTF-8 CSV with a header row street,community,residents,households,staff (need_index "
    "optional) and one row per community"
)
# Sanity limits for one community (the largest urban communities have about 100,000 residents).
MAX_COMMUNITY_RESIDENTS = 2_000_000
MAX_COMMUNITY_STAFF = 10_000
MAX_NEED_INDEX = 100.0
MAX_COMMUNITIES = 20_000
CONVERT_HINT = (
    "re-save it as UTF-8: in Excel 'CSV UTF-8 (comma delimited)', in WPS '另存为 CSV UTF-8', or "
    "iconv -f GB18030 -t UTF-8 old.csv > new.csv"
)


@dataclass(frozen=True)
class CsvDistrict:
    """A district CSV, read and checked, as plain Python values (no arrays yet)."""

    name: str
    street_names: tuple[str, ...]
    community_names: tuple[str, ...]
    community_street: tuple[int, ...]
    residents: tuple[int, ...]
    households: tuple[int, ...]
    staff: tuple[int, ...]
    need_index: tuple[float, ...]
    covariates: tuple[tuple[float, ...], ...] = ()  # per community, in COVARIATES order

    def size(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "residents": sum(self.residents),
            "communities": len(self.community_names),
            "streets": len(self.street_names),
        }

    def to_district(self) -> District:
        import numpy as np

        need = np.array(self.need_index, dtype=float)
        return District(
            name=self.name,
            street_names=self.street_names,
            street_labels=self.street_names,
            community_names=self.community_names,
            community_street=np.array(self.community_street, dtype=np.int64),
            residents=np.array(self.residents, dtype=np.int64),
            households=np.array(self.households, dtype=np.int64),
            staff=np.array(self.staff, dtype=np.int64),
            need_index=need / need.mean(),
            covariates=np.array(self.covariates, dtype=float) if self.covariates else None,
        )


def load_district_csv(path: str | Path) -> District:
    """A district from a CSV with one row per community (see :func:`read_district_csv`)."""
    return read_district_csv(path).to_district()


def read_district_csv(path: str | Path) -> CsvDistrict:
    """Read and check a district CSV with one row per community.

    Columns: street, community, residents, households, staff; optionally need_index (default 1).
    The file must be UTF-8 (a byte-order mark is fine); a GBK/GB18030 file, as Chinese spreadsheets
    often save, is refused with how to convert it, since guessing an encoding can silently garble
    names. Every value is checked: names non-empty and (street, community) pairs unique; residents
    and staff whole numbers of at least 1; households a whole number from 0 to residents;
    need_index a finite number above 0. Raises :class:`ScenarioError` naming the file, the row
    (as a spreadsheet numbers it, header = row 1), the column and what is allowed.

    Reads with the standard library only, so validating a scenario imports no table libraries.
    """
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise ScenarioError(where, "district", "file not found", "a CSV file path")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(
            where, "district", f"cannot be read ({exc.strerror})", CSV_FORMAT
        ) from None
    text = _decode(raw, where)
    if not text.strip():
        raise ScenarioError(where, "district", "the file is empty", CSV_FORMAT)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ScenarioError(
            where, "district", f"cannot be read as CSV ({exc})", CSV_FORMAT
        ) from None
    header = [h.strip() for h in rows[0]]
    _check_header(header, where)
    col = {name: header.index(name) for name in header}
    body = [(i + 2, r) for i, r in enumerate(rows[1:]) if any(cell.strip() for cell in r)]
    if not body:
        raise ScenarioError(where, "rows", "the file has no communities", "one row per community")
    if len(body) > MAX_COMMUNITIES:
        raise ScenarioError(
            where, "rows", f"{len(body):,} communities", f"at most {MAX_COMMUNITIES:,} rows"
        )
    seen: dict[tuple[str, str], int] = {}
    streets: dict[str, int] = {}
    names, street_of, residents, households, staff, need = [], [], [], [], [], []
    covariates: list[tuple[float, ...]] = []
    for line, r in body:
        if len(r) != len(header):
            raise ScenarioError(
                where,
                f"row {line}",
                f"has {len(r)} fields but the header has {len(header)}",
                "one value per column (quote names that contain commas)",
            )
        street = _name(r[col["street"]], where, line, "street")
        community = _name(r[col["community"]], where, line, "community")
        if (street, community) in seen:
            raise ScenarioError(
                where,
                f"row {line}, column community",
                f"{plain(community)} appears twice in street {plain(street)} "
                f"(rows {seen[street, community]} and {line})",
                "unique community names within a street",
            )
        seen[street, community] = line
        cell = _Cell(where, line, community)
        n_res = cell.whole(r[col["residents"]], "residents", 1, MAX_COMMUNITY_RESIDENTS)
        n_hh = cell.whole(r[col["households"]], "households", 0, n_res)
        n_staff = cell.whole(r[col["staff"]], "staff", 1, MAX_COMMUNITY_STAFF)
        idx = cell.number(r[col["need_index"]], "need_index") if "need_index" in col else 1.0
        covariates.append(
            tuple(
                cell.share(r[col[name]], name) if name in col else default
                for name, default in zip(COVARIATES, DEFAULT_SHARES, strict=True)
            )
        )
        names.append(community)
        street_of.append(streets.setdefault(street, len(streets)))
        residents.append(n_res)
        households.append(n_hh)
        staff.append(n_staff)
        need.append(idx)
    return CsvDistrict(
        name=path.stem,
        street_names=tuple(streets),
        community_names=tuple(names),
        community_street=tuple(street_of),
        residents=tuple(residents),
        households=tuple(households),
        staff=tuple(staff),
        need_index=tuple(need),
        covariates=tuple(covariates),
    )


def _decode(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        try:
            raw.decode("gb18030")
        except UnicodeDecodeError:
            problem = f"is not UTF-8 text (undecodable byte 0x{raw[exc.start]:02x} in row {line})"
            raise ScenarioError(where, "encoding", problem, "UTF-8 text") from None
        raise ScenarioError(
            where,
            "encoding",
            f"is not UTF-8 (row {line} reads as GBK/GB18030, the encoding Chinese spreadsheets "
            "often save in)",
            f"UTF-8; {CONVERT_HINT}",
        ) from None


def _check_header(header: list[str], where: str) -> None:
    allowed = "columns " + ", ".join(REQUIRED_COLUMNS) + OPTIONAL_NOTE
    for name in header:
        if name not in CSV_COLUMNS:
            hint = did_you_mean(name, CSV_COLUMNS)
            problem = f"unknown column {plain(name)}" + (f"; {hint}" if hint else "")
            raise ScenarioError(where, "columns", problem, allowed)
        if header.count(name) > 1:
            raise ScenarioError(where, "columns", f"column {name} appears twice", allowed)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ScenarioError(where, "columns", "missing " + ", ".join(missing), allowed)


def _cell_text(text: str) -> str:
    text = text.strip()
    if not text:
        return "an empty cell"
    return text if len(text) <= 40 else text[:37] + "..."


def _name(value: str, where: str, line: int, column: str) -> str:
    name = value.strip()
    if not name:
        raise ScenarioError(
            where, f"row {line}, column {column}", "is empty", f"a {column} name (any text)"
        )
    return name


@dataclass(frozen=True)
class _Cell:
    where: str
    line: int
    community: str

    def _fail(self, column: str, text: str, problem: str, allowed: str) -> ScenarioError:
        return ScenarioError(
            self.where,
            f"row {self.line}, column {column} (community {plain(self.community)})",
            f"{_cell_text(text)} {problem}",
            allowed,
        )

    def _float(self, text: str, column: str, allowed: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise self._fail(column, text, "is not a number", allowed) from None
        if not math.isfinite(value):
            raise self._fail(column, text, "is not a finite number", allowed)
        return value

    def whole(self, text: str, column: str, lowest: int, highest: int) -> int:
        """A whole number from ``lowest`` to ``highest`` (integral floats such as 12.0 are fine)."""
        allowed = f"a whole number from {lowest:,} to {highest:,}, without thousands separators"
        if column == "households":
            allowed = f"a whole number from 0 to the community's residents ({highest:,})"
        value = self._float(text, column, allowed)
        if not value.is_integer():
            raise self._fail(column, text, "is not a whole number", allowed)
        if not lowest <= value <= highest:
            what = "is more than the residents" if column == "households" else "is out of range"
            raise self._fail(column, text, what, allowed)
        return int(value)

    def number(self, text: str, column: str) -> float:
        allowed = f"a number above 0 and at most {MAX_NEED_INDEX:g} (relative need, mean about 1)"
        value = self._float(text, column, allowed)
        if not 0 < value <= MAX_NEED_INDEX:
            raise self._fail(column, text, "is out of range", allowed)
        return value

    def share(self, text: str, column: str) -> float:
        allowed = "a share from 0 to 1"
        value = self._float(text, column, allowed)
        if not 0 <= value <= 1:
            raise self._fail(column, text, "is out of range", allowed)
        return value
