"""The district's structure: streets and communities, synthetic Wuhou or loaded from a CSV.

Space in this model is the administrative hierarchy district -> streets -> communities. The
structure is fixed for a run and identical across seeds, so replications and scenarios vary the
behaviour, not the map.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.errors import ScenarioError

if TYPE_CHECKING:
    import pandas as pd

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
WUHOU_COMMUNITIES = 87  # A2
WUHOU_RESIDENTS = 1_260_000  # A2
# The synthetic layout is drawn once from this fixed seed (the reform's launch date, A1), so every
# run uses the same district. Community counts per street were not found (B1), hence synthetic.
STRUCTURE_SEED = 20131001
RESIDENTS_LOG_SD = 0.3  # assumption: spread of community size around 14,500 (C)
HOUSEHOLD_SIZE_RANGE = (2.7, 3.6)  # B2: 2.72 and 3.66 residents per household
RESIDENTS_PER_STAFF = 1100.0  # B2: 15 staff / 15,856 and 13 / 15,363 residents
STAFF_RANGE = (7, 25)  # assumption; B3: about 5 committee members plus service-hall staff
NEED_INDEX_LOG_SD = 0.2  # assumption: older estates need more services

# (name, value, unit, source) of the synthetic layout's constants, for docs/parameters.md
STRUCTURE_CONSTANTS = (
    ("streets", len(WUHOU_STREETS), "streets", "B1"),
    ("communities", WUHOU_COMMUNITIES, "communities", "A2"),
    ("residents", WUHOU_RESIDENTS, "residents", "A2"),
    ("STRUCTURE_SEED", STRUCTURE_SEED, "seed", "assumption (fixed so every run shares one map)"),
    ("RESIDENTS_LOG_SD", RESIDENTS_LOG_SD, "log-sd", "assumption; mean 14,500 residents (C)"),
    ("HOUSEHOLD_SIZE_RANGE", HOUSEHOLD_SIZE_RANGE, "residents/household", "B2"),
    ("RESIDENTS_PER_STAFF", RESIDENTS_PER_STAFF, "residents/staff", "B2"),
    ("STAFF_RANGE", STAFF_RANGE, "staff", "assumption; B3"),
    ("NEED_INDEX_LOG_SD", NEED_INDEX_LOG_SD, "log-sd", "assumption"),
)

REQUIRED_COLUMNS = ("street", "community", "residents", "households", "staff")


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
    need_index: np.ndarray  # relative service need, mean about 1

    @property
    def n_streets(self) -> int:
        return len(self.street_names)

    @property
    def n_communities(self) -> int:
        return len(self.community_names)

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
        )


def _round_to_total(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``weights`` that sum exactly to ``total`` (largest remainder)."""
    raw = weights / weights.sum() * total
    out = np.floor(raw).astype(np.int64)
    short = total - out.sum()
    out[np.argsort(raw - out)[::-1][:short]] += 1
    return out


def synthetic_wuhou() -> District:
    """Wuhou District: 13 streets (B1), 87 communities, 1.26 million residents (A2)."""
    rng = np.random.default_rng(STRUCTURE_SEED)
    n_streets = len(WUHOU_STREETS)
    per_street = np.full(n_streets, WUHOU_COMMUNITIES // n_streets)
    extra = rng.choice(n_streets, WUHOU_COMMUNITIES - per_street.sum(), replace=False)
    per_street[extra] += 1
    street = np.repeat(np.arange(n_streets), per_street)
    residents = _round_to_total(
        rng.lognormal(0.0, RESIDENTS_LOG_SD, WUHOU_COMMUNITIES), WUHOU_RESIDENTS
    )
    hh_size = rng.uniform(*HOUSEHOLD_SIZE_RANGE, WUHOU_COMMUNITIES)
    households = np.round(residents / hh_size).astype(np.int64)
    staff = np.clip(np.round(residents / RESIDENTS_PER_STAFF), *STAFF_RANGE).astype(np.int64)
    need = rng.lognormal(0.0, NEED_INDEX_LOG_SD, WUHOU_COMMUNITIES)
    names = []
    for s in range(n_streets):
        names += [f"{WUHOU_STREETS[s][0]}{k + 1}" for k in range(per_street[s])]
    return District(
        name="Wuhou (synthetic)",
        street_names=tuple(s[0] for s in WUHOU_STREETS),
        street_labels=tuple(s[1] for s in WUHOU_STREETS),
        community_names=tuple(names),
        community_street=street,
        residents=residents,
        households=households,
        staff=staff,
        need_index=need / need.mean(),
    )


def load_district_csv(path: str | Path) -> District:
    """Read a district from a CSV with one row per community.

    Columns: street, community, residents, households, staff; optionally need_index (default 1).
    Raises :class:`ScenarioError` naming the file, the column and what is allowed.
    """
    import pandas as pd  # here, not at import: a sweep's parent process never reads CSVs

    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise ScenarioError(where, "district", "file not found", "a CSV file path")
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ScenarioError(where, "district", f"cannot be read as CSV ({exc})", "CSV") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ScenarioError(
            where,
            "columns",
            "missing " + ", ".join(missing),
            "columns " + ", ".join(REQUIRED_COLUMNS) + " (need_index optional)",
        )
    unknown = [c for c in df.columns if c not in (*REQUIRED_COLUMNS, "need_index")]
    if unknown:
        raise ScenarioError(
            where,
            "columns",
            "unknown column " + ", ".join(unknown),
            "columns " + ", ".join(REQUIRED_COLUMNS) + " (need_index optional)",
        )
    if df.empty:
        raise ScenarioError(where, "rows", "the file has no communities", "one row per community")
    if "need_index" not in df.columns:
        df["need_index"] = 1.0
    checks = {
        "residents": (1, "a whole number of at least 1"),
        "households": (0, "a whole number of at least 0"),
        "staff": (1, "a whole number of at least 1"),
        "need_index": (0, "a number of at least 0"),
    }
    for col, (lowest, allowed) in checks.items():
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna() | (values < lowest)
        if col != "need_index":
            bad |= values.notna() & (values != values.round())
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ScenarioError(
                where,
                f"{col} (row {row + 2}, community {df['community'].iloc[row]!r})",
                f"{df[col].iloc[row]!r} is not valid",
                allowed,
            )
        df[col] = values
    dupes = df.duplicated(["street", "community"])
    if dupes.any():
        row = int(np.flatnonzero(dupes.to_numpy())[0])
        raise ScenarioError(
            where,
            f"community (row {row + 2})",
            f"{df['community'].iloc[row]!r} appears twice in street {df['street'].iloc[row]!r}",
            "unique community names within a street",
        )
    streets = tuple(dict.fromkeys(str(s) for s in df["street"]))
    index = {s: i for i, s in enumerate(streets)}
    need = df["need_index"].to_numpy(float)
    return District(
        name=path.stem,
        street_names=streets,
        street_labels=streets,
        community_names=tuple(str(c) for c in df["community"]),
        community_street=np.array([index[str(s)] for s in df["street"]]),
        residents=df["residents"].to_numpy(np.int64),
        households=df["households"].to_numpy(np.int64),
        staff=df["staff"].to_numpy(np.int64),
        need_index=need / need.mean() if need.mean() > 0 else need,
    )
