"""Golden regression test: refactors must leave the model's results bit-identical.

A few (scenario, seed) pairs are run for their full default months (burn-in included, so every
process runs), and every table of ``DistrictModel.results()`` (district, street, community) plus
``budget_books()`` is hashed in a canonical form and compared with the hashes recorded in
``tests/data/golden.json``.

Canonical form (so harmless schema typing changes do not count as a change):

- columns sorted by name, rows in the model's order;
- numeric and boolean columns (numpy or pandas nullable dtypes) cast to float64, every null or NaN
  to one NaN bit pattern, and -0.0 to 0.0;
- every other column as ``str``, with null as one marker.

So ``int64`` -> ``Int32``, ``bool`` -> ``int8``, float NaN -> Parquet-style NULL or ``object`` ->
``str`` keep the hash, while any changed number, string, column name, row or row order changes it.
Each column has its own hash in the JSON, so a failure names the columns that moved.

Updating after an INTENTIONAL model change (new mechanism, new output column, changed default)::

    SANSHE_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

rewrites ``tests/data/golden.json`` (the test then skips, saying so). Commit the new JSON in the
same commit as the change and say in its message why the results moved. A refactor must never need
this.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache

import numpy as np
import pandas as pd
import pytest

from sim import DistrictModel, load_scenario

from .conftest import ROOT, SCENARIOS

GOLDEN = ROOT / "tests" / "data" / "golden.json"
UPDATE = os.environ.get("SANSHE_UPDATE_GOLDEN", "") not in ("", "0")

PAIRS = (
    ("baseline_2013", 1),
    ("baseline_2013", 2),
    ("wuhou_reform", 1),
    ("wuhou_reform", 2),
    ("reform_commission", 1),
    ("reform_commission", 2),
)

_NAN = np.float64(np.nan)
_NULL_TEXT = "\x00<null>"


def canonical_column(series: pd.Series) -> bytes:
    """The column's values as canonical bytes (see the module docstring)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
        values[np.isnan(values)] = _NAN  # one NaN bit pattern
        values[values == 0.0] = 0.0  # -0.0 -> 0.0
        return b"f" + values.astype("<f8").tobytes()
    texts = [_NULL_TEXT if v is None or v is pd.NA or v != v else str(v) for v in series]
    return b"s" + "\x1f".join(texts).encode("utf-8")


def table_hashes(frame: pd.DataFrame) -> dict[str, str]:
    """sha256 per column (first 16 hex digits), plus ``"*"`` over the row count and all columns."""
    whole = hashlib.sha256(f"rows={len(frame)}".encode())
    out: dict[str, str] = {}
    for name in sorted(frame.columns):
        col = canonical_column(frame[name].reset_index(drop=True))
        digest = hashlib.sha256(col).hexdigest()[:16]  # per column: enough to name what moved
        out[name] = digest
        whole.update(name.encode() + b"=" + digest.encode())
    return {"*": whole.hexdigest(), **out}


@cache
def run_hashes(scenario: str, seed: int) -> dict[str, dict[str, str]]:
    model = DistrictModel(load_scenario(SCENARIOS / f"{scenario}.toml"), rng=seed)
    model.run_for(model.spec.months)
    tables = dict(model.results())
    tables["budget_books"] = model.budget_books()
    return {level: table_hashes(frame) for level, frame in sorted(tables.items())}


def _key(scenario: str, seed: int) -> str:
    return f"{scenario}.toml@seed={seed}"


def test_canonical_form_ignores_typing_but_not_values():
    base = pd.DataFrame({"b": [1, 2, 3], "a": [True, False, True], "s": ["x", "y", None]})
    retyped = pd.DataFrame(
        {
            "a": pd.array([1, 0, 1], dtype="Int8"),
            "s": pd.array(["x", "y", None], dtype="string"),
            "b": np.array([1.0, 2.0, 3.0]),
        }
    )
    assert table_hashes(base) == table_hashes(retyped)
    nan = pd.DataFrame({"v": [1.0, np.nan, -0.0]})
    null = pd.DataFrame({"v": pd.array([1.0, None, 0.0], dtype="Float64")})
    assert table_hashes(nan) == table_hashes(null)
    assert table_hashes(base)["*"] != table_hashes(base.assign(b=[1, 2, 4]))["*"]
    assert table_hashes(base)["*"] != table_hashes(base.rename(columns={"b": "c"}))["*"]
    assert table_hashes(base)["*"] != table_hashes(base.iloc[::-1])["*"]
    assert table_hashes(nan)["*"] != table_hashes(pd.DataFrame({"v": [1.0, 0.0, 0.0]}))["*"]


def test_update_golden():
    """With SANSHE_UPDATE_GOLDEN=1: record the hashes of every pair (then skip, saying so)."""
    if not UPDATE:
        pytest.skip("set SANSHE_UPDATE_GOLDEN=1 to re-record tests/data/golden.json")
    record = {_key(s, seed): run_hashes(s, seed) for s, seed in PAIRS}
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    pytest.skip(f"re-recorded {GOLDEN.relative_to(ROOT)}; commit it with the model change")


@pytest.mark.parametrize(("scenario", "seed"), PAIRS, ids=[_key(*p) for p in PAIRS])
def test_results_match_golden(scenario, seed):
    if UPDATE:
        pytest.skip("re-recording (SANSHE_UPDATE_GOLDEN=1)")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))[_key(scenario, seed)]
    got = run_hashes(scenario, seed)
    problems = []
    for level in sorted(set(expected) | set(got)):
        exp, new = expected.get(level, {}), got.get(level, {})
        if exp.get("*") == new.get("*"):
            continue
        missing = sorted(set(exp) - set(new))
        added = sorted(set(new) - set(exp))
        changed = sorted(k for k in set(exp) & set(new) if k != "*" and exp[k] != new[k])
        problems.append(
            f"{level}: changed {changed or '-'}; missing {missing or '-'}; new {added or '-'}"
            + ("" if changed or missing or added else " (row count)")
        )
    assert not problems, (
        f"results of {_key(scenario, seed)} differ from tests/data/golden.json:\n  "
        + "\n  ".join(problems)
        + "\nIf the model change is intended, re-record with "
        "SANSHE_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py (see its docstring)."
    )
