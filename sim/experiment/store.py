"""The results store of an experiment: one directory, readable as one table per level.

Layout of ``results/<experiment>/``::

    manifest.json                  experiment, points (scenario, hash, overrides), seeds,
                                   versions, git commit, start and end times, every run's status
    data/<level>/<point>-r<rep>.parquet   one file per run and level, written atomically
    status/<point>-r<rep>.json     done (with timing) or failed (with error and traceback)

A run counts as done only when its status file says so; its data files are written before it,
each by a temporary file and a rename, so a killed sweep never leaves a half-written run behind.
``data/<level>/`` is a Parquet dataset that pyarrow or DuckDB can query directly, e.g.
``SELECT * FROM read_parquet('results/headline/data/district/*.parquet')``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

KEY_COLUMNS = ("experiment", "scenario", "point", "replication", "seed_entropy", "seed_spawn_key")
# Posterior designs add these (and param_<name>, each run's parameter values) after the keys.
POSTERIOR_COLUMNS = ("draw", "draw_replication", "particle")


def run_id(point_id: str, replication: int) -> str:
    return f"{point_id}-r{replication:05d}"


def data_path(out: Path, level: str, rid: str) -> Path:
    return out / "data" / level / f"{rid}.parquet"


def status_path(out: Path, rid: str) -> Path:
    return out / "status" / f"{rid}.json"


def read_status(out: Path, rid: str) -> dict[str, Any] | None:
    path = status_path(out, rid)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, OSError):
        return None  # treated as not done; the run is redone


def reduce_frequency(table: pd.DataFrame, frequency: str) -> pd.DataFrame:
    """Keep monthly rows, yearly rows (calendar years), or only the final month.

    Yearly rows are the means of the monthly values, except lever echoes, which keep the value in
    force in the year's last month (and their type); see ``sim.outputs.Output.dtype_at``.
    """
    import pandas as pd

    from sim.outputs import OUTPUTS

    if frequency == "monthly" or table.empty:
        return table
    if frequency == "final":
        return table[table["step"] == table["step"].max()].reset_index(drop=True)
    keys = [c for c in ("year", "street", "community", "district") if c in table.columns]
    values = [c for c in table.columns if c not in (*keys, "step", "month")]
    how = {
        c: "last" if c in OUTPUTS and OUTPUTS[c].kind == "lever" else "mean"
        for c in values
        if c in OUTPUTS or table[c].dtype.kind in "iufb"
    }
    means = [c for c, h in how.items() if h == "mean"]
    # One astype for all columns: assigning them column by column fragments the frame (pandas
    # PerformanceWarning on every yearly store with v2's many outputs).
    frame = table[[*keys, *how]].astype(dict.fromkeys(means, float))
    groups = frame.groupby(keys, sort=False)
    lasts = [c for c, h in how.items() if h == "last"]
    # Two whole-frame reductions rather than agg({column: how}), which builds its result column by
    # column (a pandas PerformanceWarning for v2's many outputs); the columns keep their order.
    parts = [groups[means].mean(), groups[lasts].last()]
    return pd.concat(parts, axis=1)[list(how)].copy().reset_index()  # copy consolidates blocks


def load_manifest(out: str | Path) -> dict[str, Any]:
    path = Path(out) / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no manifest; is this an experiment results directory?")
    return json.loads(path.read_text(encoding="utf-8"))


def load_results(
    out: str | Path, level: str = "district", columns: list[str] | None = None
) -> pd.DataFrame:
    """All finished runs of one level as one DataFrame (rows of failed or unfinished runs excluded).

    Key columns: experiment, scenario, point, replication, seed_entropy, seed_spawn_key, the design
    columns ``design_<name>`` (for designs) or ``draw``, ``draw_replication``, ``particle`` and
    ``param_<name>`` (posterior designs), then the level's own columns (docs/outputs.md).
    """
    import pandas as pd
    import pyarrow.dataset as ds

    out = Path(out)
    folder = out / "data" / level
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no results at level {level!r}")
    done = {
        p.stem
        for p in (out / "status").glob("*.json")
        if (read_status(out, p.stem) or {}).get("status") == "done"
    }
    files = sorted(str(p) for p in folder.glob("*.parquet") if p.stem in done)
    if not files:
        return pd.DataFrame()
    table = ds.dataset(files, format="parquet").to_table(columns=columns)
    frame = table.to_pandas()
    keys = [k for k in ("point", "replication", "step") if k in frame]
    return frame.sort_values(keys, kind="stable").reset_index(drop=True) if keys else frame
