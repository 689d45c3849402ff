import mesa
import numpy as np
import pandas as pd
import pytest

from sim import DistrictModel, load_scenario
from sim.metrics import district_record, gini
from sim.outputs import district_measured

from .conftest import SCENARIOS


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


def test_district_columns_match_the_communities_month_by_month():
    # Mesa's DataCollector and results() both read the monthly records, so each is checked
    # against sums over the community table taken right after each step, not against the other.
    m = DistrictModel(load_scenario(SCENARIOS / "wuhou_reform.toml"), rng=2)
    expected = []
    for _ in range(14):
        m.step()
        c = m.communities
        served, need = c.served_hours.sum(), c.need_hours.sum()
        expected.append(
            {
                "admin_burden": c.hours_admin.sum() / c.hours_used.sum(),
                "service_coverage": served / need,
                "service_quality": (c.service_quality * c.delivered_hours).sum()
                / c.delivered_hours.sum(),
                "satisfaction": (c.satisfaction * c.residents).sum() / c.residents.sum(),
                "items_refused": c.items_refused.sum(),
                "purchase_spend": c.purchase_spend.sum(),
                "n_social_workers": (m.workers.alive & (m.workers.employer >= 0)).sum(),
            }
        )
    expected = pd.DataFrame(expected)
    assert expected["items_refused"].iloc[-1] > 0 and expected["purchase_spend"].iloc[-1] > 0
    frame = m.datacollector.get_model_vars_dataframe()
    district = m.results()["district"]
    assert len(frame) == len(district) == 14
    for name in expected:
        assert frame[name].to_numpy() == pytest.approx(expected[name].to_numpy()), name
        assert district[name].to_numpy() == pytest.approx(expected[name].to_numpy()), name
