"""Property-based fuzzing of user input: scenario files, ``--set`` overrides and district CSVs,
mutated from the shipped ones (hypothesis, derandomized so CI is reproducible).

Property: ``sanshe validate`` (which checks everything ``run`` checks before its first month)
either exits 2 with one line that names the file, shows plain values and no traceback, or exits 0,
and then the input was genuinely valid: an independent check of the documented rules
(docs/parameters.md, the district CSV format in docs/ODD.md) agrees, and the value set is the
value the model gets. The checks go both ways: a valid mutation must also be accepted. A few
accepted inputs are then really run for two months.
"""

from __future__ import annotations

import copy
import csv
import io
import math
import shutil
import tempfile
import tomllib
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from sim.cli import main
from sim.params import Params, Policy, field_table
from sim.scenario import load_scenario

from .conftest import ROOT, SCENARIOS

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FUZZ = settings(
    deadline=None,
    derandomize=True,  # the same examples on every CI run
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SHIPPED = sorted(p for p in SCENARIOS.glob("*.toml"))
EXAMPLE_CSV = ROOT / "data" / "example_district.csv"
FIELDS = {
    "policy": {r["name"]: r for r in field_table(Policy)},
    "params": {r["name"]: r for r in field_table(Params)},
}
# Cross-field rules checked elsewhere than a field's own bounds (left to the one-way property).
# Fields with cross-field checks (sim.scenario): a value inside its own bounds may still be
# refused, with a message naming the other field. Model v2's list sizes are among them.
CROSS = {
    "catalogue_size",
    "n_assist_item_types",
    "n_item_types",
    "listed_types_after_cut",
    "purchasable_types_after_cut",
}

SPECIAL = [0, 1, 2, -1, 5, 8, 9, 13, 14, 87, 88, 0.0, 0.5, 1.0, 1.5, 5.0, 5.5, 1e308, -0.0]
SPECIAL += [float("nan"), float("inf"), 30_850_000, 5e8, 5e8 + 1, True, False, "", " ", "tender"]
SPECIAL += ["commission", "浆洗街", "2013-10", "yes"]
scalars = st.one_of(
    st.sampled_from(SPECIAL),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
    st.dates(),
)
months = st.sampled_from(["2012-06", "2013-01", "2013-10", "2014-01", "2015-07", "2013-13", "x"])
timelines = st.dictionaries(months, scalars, max_size=3)
values = st.one_of(scalars, scalars, timelines, st.lists(st.integers(0, 9), max_size=2))


def typo(name: str) -> st.SearchStrategy[str]:
    """A near-miss of a known name (a dropped, doubled or swapped letter)."""
    return st.integers(0, max(len(name) - 2, 0)).map(
        lambda i: (
            name[:i] + name[i + 1 :]
            if i % 3 == 0
            else name[:i] + name[i + 1] + name[i] + name[i + 2 :]
        )
    )


# -- running the CLI in-process --------------------------------------------------------------
def validate(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["validate", *args])
    return code, out.getvalue(), err.getvalue()


def assert_clean_rejection(code: int, err: str, *names: Path) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert any(str(n) in lines[0] for n in names), err
    for raw in ("Traceback", "np.", "datetime.", "numpy"):
        assert raw not in err, err


def write_scenario(folder: Path, source: Path, definition: dict[str, Any]) -> Path:
    """A mutated copy of a shipped scenario; its relative paths made absolute."""
    definition = copy.deepcopy(definition)
    if isinstance(definition.get("extends"), str):
        definition["extends"] = str((source.parent / definition["extends"]).resolve())
    borrow = definition.get("borrow")
    if isinstance(borrow, dict) and isinstance(borrow.get("from"), str):
        borrow["from"] = str((source.parent / borrow["from"]).resolve())
    district = definition.get("district")
    source_path = district.get("source") if isinstance(district, dict) else None
    if isinstance(source_path, str) and source_path != "wuhou":
        district["source"] = str((source.parent / source_path).resolve())
    path = folder / "mutated.toml"
    path.write_bytes(tomli_w.dumps(definition).encode())
    return path


# -- the documented rules, checked independently ---------------------------------------------
def valid_value(row: dict[str, Any], value: Any) -> bool:
    """Is ``value`` valid for a lever or parameter, by the rules in docs/parameters.md?"""
    kind = row["type"]
    if kind == "Literal":
        return isinstance(value, str) and value in row["choices"]
    if kind == "bool":
        return isinstance(value, bool) or (type(value) is int and value in (0, 1))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    if kind == "int" and isinstance(value, float) and not value.is_integer():
        return False
    return row["min"] <= value <= row["max"]


def expected(row: dict[str, Any], value: Any) -> Any:
    if row["type"] == "bool":
        return bool(value)
    if row["type"] == "int":
        return int(value)
    if row["type"] == "float":
        return float(value)
    return value


def valid_timeline(row: dict[str, Any], timeline: dict[str, Any]) -> bool:
    if not timeline:
        return False
    dates = []
    for month, value in timeline.items():
        parts = month.split("-")
        if len(parts) != 2 or not all(p.isdigit() for p in parts) or not 1 <= int(parts[1]) <= 12:
            return False
        if len(parts[0]) != 4 or len(parts[1]) != 2 or not valid_value(row, value):
            return False
        dates.append(month)
    return min(dates) <= "2013-01"  # every shipped scenario starts in 2013-01


# -- scenario files: one mutation, checked both ways -----------------------------------------
@st.composite
def one_field_mutation(draw):
    source = draw(st.sampled_from(SHIPPED))
    section = draw(st.sampled_from(["policy", "params"]))
    name = draw(st.sampled_from(sorted(FIELDS[section])))
    value = draw(st.one_of(scalars, timelines) if section == "policy" else scalars)
    return source, section, name, value


@settings(FUZZ, max_examples=160)
@given(one_field_mutation())
def test_one_mutated_lever_or_parameter(mutation):
    source, section, name, value = mutation
    definition = tomllib.loads(source.read_text(encoding="utf-8"))
    definition.setdefault(section, {})[name] = value
    folder = Path(tempfile.mkdtemp())
    try:
        path = write_scenario(folder, source, definition)
        code, _, err = validate(str(path))
        row = FIELDS[section][name]
        is_timeline = isinstance(value, dict)
        valid = valid_timeline(row, value) if is_timeline else valid_value(row, value)
        if code == 2:
            assert_clean_rejection(code, err, path)
            if name not in CROSS:
                assert not valid, f"valid {section}.{name} = {value!r} was refused: {err}"
            return
        assert code == 0 and valid, f"{section}.{name} = {value!r} was accepted"
        scenario = load_scenario(path)
        if scenario.scaling.mode == "reference" and not is_timeline:  # Wuhou: nothing scaled
            got = getattr(scenario.schedule.at(0) if section == "policy" else scenario.params, name)
            assert got == expected(row, value) and type(got) is type(expected(row, value))
    finally:
        shutil.rmtree(folder)


# -- scenario files: several structural mutations, checked one way ---------------------------
TOP = ["name", "description", "extends", "borrow", "run", "district", "policy", "params"]
known_keys = st.sampled_from(
    [*TOP, "start", "months", "source", "scale", *FIELDS["policy"], *FIELDS["params"]]
)
any_key = st.one_of(known_keys, known_keys.flatmap(typo), st.text(min_size=1, max_size=8))


@st.composite
def chaotic_scenario(draw):
    source = draw(st.sampled_from(SHIPPED))
    definition = tomllib.loads(source.read_text(encoding="utf-8"))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["set", "set_top", "delete", "replace_section", "nest"]))
        section = draw(st.sampled_from(["policy", "params", "run", "district", "borrow"]))
        if op == "set":
            table = definition.setdefault(section, {})
            if isinstance(table, dict):
                table[draw(any_key)] = draw(values)
        elif op == "set_top":
            definition[draw(st.sampled_from(TOP))] = draw(values)
        elif op == "delete" and definition:
            definition.pop(draw(st.sampled_from(sorted(definition))), None)
        elif op == "replace_section":
            definition[section] = draw(values)
        else:
            definition[section] = {draw(any_key): {draw(any_key): draw(values)}}
    return source, definition


@settings(FUZZ, max_examples=100)
@given(chaotic_scenario())
def test_chaotic_scenario_files(case):
    source, definition = case
    folder = Path(tempfile.mkdtemp())
    try:
        try:
            path = write_scenario(folder, source, definition)
        except (TypeError, ValueError):  # not writable as TOML (e.g. a mixed list): not a case
            return
        code, out, err = validate(str(path))
        if code == 2:
            assert_clean_rejection(code, err, path, *folder.glob("*"), source.parent)
        else:
            assert code == 0 and out.startswith("ok  "), err
    finally:
        shutil.rmtree(folder)


# -- --set overrides ---------------------------------------------------------------------------
override_keys = st.one_of(
    st.sampled_from(sorted(FIELDS["policy"])).map(lambda n: f"policy.{n}"),
    st.sampled_from(sorted(FIELDS["params"])).map(lambda n: f"params.{n}"),
    st.sampled_from(["run.months", "run.start", "district.source", "district.scale", "name"]),
    st.sampled_from(["policy.entry_control.2014-01", "policy.purchase_budget.2015-13"]),
    known_keys.flatmap(typo),
    st.text(max_size=12),
)
override_values = st.one_of(
    st.sampled_from(["0", "1", "-1", "5", "5.0", "5.5", "nan", "inf", "-inf", "1e308", "true"]),
    st.sampled_from(["false", '"tender"', "commission", '""', "[1, 2]", "{ a = 1 }", "2013-01-01"]),
    st.sampled_from(["data/nowhere.csv", "wuhou", "none", "residents", '"2013-10"']),
    st.integers(-(10**9), 10**9).map(str),
    st.floats().map(repr),
    st.text(max_size=10),
)


@settings(FUZZ, max_examples=120)
@given(st.sampled_from(SHIPPED), override_keys, override_values)
def test_overrides(source, key, text):
    code, _, err = validate(str(source), "--set", f"{key}={text}")
    if code == 2:
        assert_clean_rejection(code, err, source, Path("--set"))
        return
    assert code == 0, err
    section, _, name = key.partition(".")
    if section in FIELDS and name in FIELDS[section] and name not in CROSS:
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        row = FIELDS[section][name]
        assert valid_value(row, value), f"--set {key}={text} was accepted"


# -- district CSVs -----------------------------------------------------------------------------
CELLS = ["", " ", "nan", "inf", "-inf", "1e308", "-5", "0", "3.5", "12.0", "abc", "浆洗街"]
CELLS += ["1,000", " 7 ", "2000001", "150", "1e3", "0.0", "100", "100.5"]
cells = st.one_of(
    st.sampled_from(CELLS),
    st.integers(-10, 3_000_000).map(str),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6),
)


@st.composite
def mutated_csv(draw):
    rows = list(csv.reader(io.StringIO(EXAMPLE_CSV.read_text(encoding="utf-8"))))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["cell", "cell", "cell", "dup", "drop_col", "header", "short"]))
        r = draw(st.integers(0, len(rows) - 1))
        c = draw(st.integers(0, len(rows[0]) - 1))
        if op == "cell" and r > 0 and c < len(rows[r]):
            rows[r][c] = draw(cells)
        elif op == "dup" and r > 0:
            rows.append(list(rows[r]))
        elif op == "drop_col":
            rows = [row[:c] + row[c + 1 :] for row in rows]
        elif op == "header":
            rows[0][c] = draw(st.one_of(known_keys, known_keys.flatmap(typo), cells))
        elif op == "short" and r > 0:
            rows[r] = rows[r][: draw(st.integers(0, len(rows[r])))]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    text = buffer.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "gb18030"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return data


def valid_csv(data: bytes) -> bool:
    """The district CSV rules of docs/ODD.md, checked independently."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    if not text.strip():
        return False
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = [h.strip() for h in rows[0]]
    required = ["street", "community", "residents", "households", "staff"]
    if len(set(header)) != len(header) or not set(required) <= set(header):
        return False
    if not set(header) <= {*required, "need_index"}:
        return False
    body = [r for r in rows[1:] if any(cell.strip() for cell in r)]
    seen = set()
    for r in body:
        if len(r) != len(header):
            return False
        row = dict(zip(header, (cell.strip() for cell in r), strict=True))
        if not row["street"] or not row["community"] or (row["street"], row["community"]) in seen:
            return False
        seen.add((row["street"], row["community"]))
        try:
            res, hh, staff = (float(row[k]) for k in ("residents", "households", "staff"))
            need = float(row.get("need_index", 1.0))
        except ValueError:
            return False
        if not all(math.isfinite(x) for x in (res, hh, staff, need)):
            return False
        if not all(x.is_integer() for x in (res, hh, staff)):
            return False
        if not (1 <= res <= 2_000_000 and 0 <= hh <= res and 1 <= staff <= 10_000):
            return False
        if not 0 < need <= 100:
            return False
    return bool(body)


@settings(FUZZ, max_examples=160)
@given(mutated_csv())
def test_mutated_district_csv(data):
    folder = Path(tempfile.mkdtemp())
    try:
        csv_path = folder / "district.csv"
        csv_path.write_bytes(data)
        scenario = folder / "s.toml"
        scenario.write_text(
            f'name = "s"\nextends = "{SCENARIOS / "wuhou_reform.toml"}"\n'
            '[district]\nsource = "district.csv"\n',
            encoding="utf-8",
        )
        code, _, err = validate(str(scenario))
        if code == 2:
            assert_clean_rejection(code, err, csv_path)
            assert not valid_csv(data), f"a valid CSV was refused: {err}"
        else:
            assert code == 0 and valid_csv(data), f"an invalid CSV was accepted: {data[:200]!r}"
    finally:
        shutil.rmtree(folder)


# -- accepted inputs really run ----------------------------------------------------------------
@settings(FUZZ, max_examples=6)
@given(mutated_csv().filter(valid_csv), st.sampled_from(["residents", "none"]))
def test_accepted_districts_run(data, scale):
    from sim.model import DistrictModel

    folder = Path(tempfile.mkdtemp())
    try:
        (folder / "district.csv").write_bytes(data)
        scenario = folder / "s.toml"
        scenario.write_text(
            f'name = "s"\nextends = "{SCENARIOS / "wuhou_reform.toml"}"\n'
            f'[district]\nsource = "district.csv"\nscale = "{scale}"\n'
            '[params]\nburn_in_months = 0\n[run]\nstart = "2014-06"\nmonths = 2\n',
            encoding="utf-8",
        )
        try:
            sc = load_scenario(scenario)
        except Exception as exc:  # a structural bound (scale = "none" on a tiny district)
            assert "at most" in str(exc)
            return
        model = DistrictModel(sc, rng=1)
        model.run_for(sc.months)
        district = model.results()["district"]
        measures = district[["admin_burden", "service_coverage", "satisfaction"]]
        assert len(district) == 2 and measures.notna().all().all()
    finally:
        shutil.rmtree(folder)
