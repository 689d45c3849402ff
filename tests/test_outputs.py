"""The output table (sim/outputs.py): one declaration feeds the tables, their types, Mesa's
reporters, the docs and the analysis; missing values are Parquet NULLs."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from sim import DistrictModel
from sim.analysis.outcomes import OUTCOMES, resolve_outcomes
from sim.docs_gen import render_outputs, write_output_docs
from sim.experiment.executors import make_executor
from sim.experiment.runner import run_experiment
from sim.experiment.spec import load_experiment
from sim.io import save_run
from sim.metrics import Recorder
from sim.outputs import (
    ALL,
    OUTPUTS,
    Output,
    arrow_schema,
    at_level,
    column_types,
    community_outputs,
    format_value,
    key_outcomes,
    register,
    registered,
    to_arrow,
)
from sim.world import COMMUNITY_FLOATS

from .conftest import ROOT
from .experiment.helpers import experiment_file, short_scenarios


def test_committed_outputs_page_is_current():
    path = ROOT / "docs" / "outputs.md"
    assert not write_output_docs(path, check=True), "docs/outputs.md is stale: run `make docs`"


def test_every_output_is_documented_once():
    text = render_outputs()
    for o in OUTPUTS.values():
        assert f"`{o.name}`" in text, o.name
    for o in at_level("community"):
        assert text.count(f"| `{o.name}` | {o.unit} |") == 1, o.name


def test_the_four_key_outcomes_are_declared_once():
    assert key_outcomes() == ["admin_burden", "service_coverage", "service_quality", "satisfaction"]


def test_community_outputs_read_existing_columns():
    for o in community_outputs():
        assert o.source is None or o.source in COMMUNITY_FLOATS, o.name


def test_a_bad_declaration_is_refused():
    with pytest.raises(ValueError, match="summed output"):
        register(Output(name="x", levels=ALL, unit="", kind="share", doc="x",
                        aggregate="ratio", numerator="satisfaction", denominator="staff"))  # fmt: skip
    assert "x" not in OUTPUTS
    with pytest.raises(ValueError, match="kind"):
        Output(name="y", levels=ALL, unit="", kind="sometimes", doc="y")


def test_adding_an_output_is_a_one_place_change():
    extra = Output(
        name="households_throwaway",
        levels=ALL,
        unit="households",
        kind="structure",
        aggregate="sum",
        source="households",
        label="households",
        doc="households (a throwaway output declared by a test)",
    )
    with registered(extra):
        assert "| `households_throwaway` | households |" in render_outputs()
        assert OUTCOMES["households_throwaway"] is extra
        assert resolve_outcomes(["households_throwaway"], "street", ["households_throwaway"])
        model = DistrictModel(rng=1)
        model.run_for(2)
        tables = model.results()
        households = model.district.households.sum()
        assert tables["district"]["households_throwaway"].tolist() == pytest.approx(
            [households] * 2
        )
        assert tables["street"]["households_throwaway"].sum() == pytest.approx(2 * households)
        assert "households_throwaway" in model.datacollector.get_model_vars_dataframe()
        assert arrow_schema("district").field("households_throwaway").type == pa.float64()
    assert "households_throwaway" not in OUTPUTS
    assert "households_throwaway" not in render_outputs()


def test_types_are_fixed_at_every_level_and_frequency():
    for level in ("community", "street", "district"):
        monthly, yearly = column_types(level), column_types(level, "yearly")
        assert monthly["contracted"] == "int64"  # a count of contracted communities everywhere
        assert monthly["residents"] == monthly["items_refused"] == "int64"
        assert monthly["admin_burden"] == yearly["admin_burden"] == "float64"
        assert yearly["items_refused"] == "float64"  # a yearly mean of monthly counts
        assert "step" not in yearly and yearly["year"] == "int64"
    district = column_types("district", "yearly")
    assert district["entry_control"] == column_types("district")["entry_control"] == "bool"
    assert column_types("district")["n_orgs"] == "int64"


def test_integer_columns_refuse_fractions_and_gaps():
    with pytest.raises(ValueError, match="fractional"):
        to_arrow({"n_orgs": np.array([1.0, 2.5])}, "district")
    with pytest.raises(ValueError, match="missing"):
        to_arrow({"n_orgs": np.array([1.0, np.nan])}, "district")


def test_recorded_counts_are_whole_numbers(reform):
    """The recorder keeps floats; every integer output must be exactly whole before its cast."""
    rec: Recorder = reform.recorder
    cols = rec.community_columns()
    for o in rec.community_outputs:
        if o.dtype == "int64":
            assert np.array_equal(cols[o.name], np.round(cols[o.name])), o.name
    district = rec.district[: rec.n]
    for k, o in enumerate(rec.district_outputs):
        if o.dtype in ("int64", "bool"):
            assert np.array_equal(district[:, k], np.round(district[:, k])), o.name


def _no_float_nan(table: pa.Table) -> dict[str, int]:
    """Null counts of float columns, after checking that none holds a float NaN."""
    nulls = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_floating(col.type):
            assert pc.sum(pc.is_nan(col)).as_py() in (0, None), f"{name} holds float NaN"
            nulls[name] = col.null_count
    return nulls


def test_missing_values_are_parquet_nulls(tmp_path, baseline):
    save_run(baseline, tmp_path / "run")
    table = pq.read_table(tmp_path / "run" / "district.parquet")
    nulls = _no_float_nan(table)
    # no money is paid before the reform: cost per service hour and the HHI are undefined
    assert nulls["cost_per_service_hour"] == table.num_rows
    assert nulls["contract_hhi"] == table.num_rows
    assert table.schema.field("n_orgs").type == pa.int64()
    assert table.schema.field("entry_control").type == pa.bool_()
    frame = table.to_pandas()
    assert frame["cost_per_service_hour"].isna().all()  # NULL reads back as NaN in pandas
    duckdb = pytest.importorskip("duckdb")
    path = tmp_path / "run" / "district.parquet"
    avg = duckdb.sql(f"select avg(cost_per_service_hour) from '{path}'").fetchone()[0]
    assert avg is None


@pytest.mark.parametrize("frequency", ["monthly", "yearly", "final"])
def test_the_store_keeps_the_declared_schema(tmp_path, frequency):
    files = short_scenarios(tmp_path, months=15)
    listed = ", ".join(f'"{f.name}"' for f in files)
    path = experiment_file(
        tmp_path,
        f'name = "t"\nreplications = 1\nroot_seed = 7\nscenarios = [{listed}]\n'
        f'[outputs]\nlevels = ["district", "street", "community"]\nfrequency = "{frequency}"\n',
    )
    run_experiment(load_experiment(path), tmp_path / "out", make_executor("serial"), progress=False)
    for level in ("district", "street", "community"):
        for file in sorted((tmp_path / "out" / "data" / level).glob("*.parquet")):
            table = pq.read_table(file)
            expected = arrow_schema(level, frequency)
            for field in expected:
                assert table.schema.field(field.name).type == field.type, (level, field.name)
            assert set(expected.names) <= set(table.column_names)
            nulls = _no_float_nan(table)
            if level == "district" and file.stem.startswith("p00000"):  # the baseline
                assert nulls["cost_per_service_hour"] == table.num_rows
    if frequency == "yearly":
        reform = pq.read_table(tmp_path / "out" / "data" / "district" / "p00001-r00000.parquet")
        # lever echoes keep their type: the value in force in the year's last month
        assert reform.column("entry_control").to_pylist() == [True, True]
        assert reform.column("year").to_pylist() == [2013, 2014]


def test_mesa_reporters_are_scalar_district_outputs(reform):
    frame = reform.datacollector.get_model_vars_dataframe()
    assert list(frame.columns) == [o.name for o in at_level("district")]
    assert "community" not in frame.columns
    for name in ("participation", "staff_burnout", "admin_hours", "n_orgs"):
        assert name in frame.columns
    assert all(np.isscalar(v) for v in frame.iloc[-1])
    # a reporter called directly gives the last month's value, as Mesa's collect would
    for name in ("admin_burden", "n_orgs", "entry_control"):
        reporter = reform.datacollector.model_reporters[name]
        assert reporter(reform) == frame[name].iloc[-1]


def test_display_follows_the_table():
    burden, quality = OUTPUTS["admin_burden"], OUTPUTS["service_quality"]
    assert format_value(0.2571, burden) == "25.7" and burden.display_unit == "%"
    assert format_value(-0.0004, burden, signed=True) == "-0.04"  # more decimals, not "-0.0"
    assert format_value(float("nan"), quality) == "n/a"
    assert format_value(None, quality) == "n/a"
    assert format_value(30.85e6, OUTPUTS["purchase_budget"]) == "30.85"


def test_need_types_of_the_output_table_are_those_of_sim_needs():
    from sim import needs, outputs

    assert outputs.NEED_TYPES == needs.NEED_TYPES
    for name in needs.NEED_TYPES:
        assert f"unmet_item_hours_{name}" in {o.name for o in outputs.at_level("community")}
