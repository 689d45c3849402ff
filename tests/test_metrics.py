import mesa
import numpy as np
import pandas as pd
import pytest

from sim import DistrictModel
from sim.metrics import district_record, gini
from sim.outputs import district_measured


def test_district_record_measures_every_declared_district_output(reform):
    declared = {o.name for o in district_measured() if o.measure is None}
    assert set(district_record(reform)) == declared


def test_gini():
    assert gini([1, 1, 1, 1]) == 0
    assert gini([0, 0, 0, 4]) == 0.75  # (n - 1) / n for one holder of everything
    assert gini([]) == 0


def test_mesa_batch_run_drives_the_model_by_keyword():
    rows = mesa.batch_run(
        DistrictModel,
        parameters={"entry_control": [False, True]},
        max_steps=12,
        number_processes=1,
        display_progress=False,
        rng=[5],
    )
    df = pd.DataFrame(rows).set_index("entry_control")
    assert {"admin_burden", "service_quality", "items_refused", "n_orgs"} <= set(df.columns)
    # every district output, each a scalar (no community array column in batch_run rows)
    assert {"participation", "staff_burnout", "admin_hours", "n_social_workers"} <= set(df.columns)
    assert "community" not in df.columns
    assert all(np.isscalar(v) for row in rows for v in row.values())
    assert df.loc[False, "items_refused"] == 0 and df.loc[True, "items_refused"] > 0


def test_get_model_vars_dataframe_has_flat_district_columns(reform, reform_results):
    frame = reform.datacollector.get_model_vars_dataframe()
    assert len(frame) == 48 and "n_social_workers" in frame
    district = reform_results["district"]
    for name in ("admin_burden", "service_quality", "items_refused"):
        assert frame[name].to_numpy() == pytest.approx(district[name].to_numpy())
