import sys
import types

import pandas as pd
import pytest

from sim.dashboard.compare import (
    OUTCOMES,
    difference_figure,
    differences,
    final_year,
    run_settings,
    store_table,
)
from sim.dashboard.setting import Setting
from sim.errors import UserError

from .conftest import BASELINE, REFORM


@pytest.fixture(scope="module")
def reform_vs_baseline():
    return run_settings(Setting(str(REFORM), {}, 11), Setting(str(BASELINE), {}, 99), 2)


def test_b_runs_on_a_s_seeds(reform_vs_baseline):
    runs = reform_vs_baseline
    assert set(runs["seed"]) == {11, 12}
    assert len(runs) == 2 * 2 * 48
    assert set(runs.groupby(["setting", "seed"]).size()) == {48}


def test_the_same_setting_twice_differs_by_nothing():
    a = Setting(str(REFORM), {"purchase_budget": 5e6}, 3)
    diff = differences(run_settings(a, a, 1))
    for column, _, _ in OUTCOMES:
        assert (diff[f"{column}_mean"] == 0).all()


def test_differences_are_b_minus_a_by_month(reform_vs_baseline):
    runs = reform_vs_baseline
    diff = differences(runs)
    assert len(diff) == 48
    a = runs[(runs.setting == "A") & (runs.seed == 11)].set_index("month")["admin_burden"]
    b = runs[(runs.setting == "B") & (runs.seed == 11)].set_index("month")["admin_burden"]
    row = diff.set_index("month").loc["2016-06"]
    assert row["admin_burden_min"] <= (b - a)["2016-06"] <= row["admin_burden_max"]
    # before the reform starts (2013-10) the two settings are the same district
    assert diff.set_index("month").loc["2013-05", "admin_burden_mean"] == 0
    assert diff.set_index("month").loc["2016-12", "admin_burden_mean"] > 0.1  # baseline: busier


def test_final_year_table(reform_vs_baseline):
    table = final_year(reform_vs_baseline)
    assert table.attrs["year"] == "2016"
    assert list(table["outcome"]) == [t for _, t, _ in OUTCOMES]
    burden = table.set_index("outcome").loc["Admin burden"]
    assert burden["B − A"] == pytest.approx(burden["B"] - burden["A"])
    assert burden["seeds with B > A"] == "2 of 2"
    fig = difference_figure(differences(reform_vs_baseline))
    assert len(fig.axes) == len(OUTCOMES)


def test_replications_are_bounded():
    with pytest.raises(UserError, match="replications"):
        run_settings(Setting(str(REFORM)), Setting(str(BASELINE)), 0)


@pytest.fixture
def analysis(monkeypatch):
    """``sim.analysis.compare``, or a stand-in module where it is not importable."""
    try:
        import sim.analysis.compare as module
    except ImportError:
        module = types.ModuleType("sim.analysis.compare")
        monkeypatch.setitem(sys.modules, "sim.analysis.compare", module)
    return module


def test_store_table_uses_the_analysis_compare_table(analysis, monkeypatch, tmp_path):
    calls = []

    def fake_compare_table(
        results_dir, reference=None, level="district", at="final", outcomes=None
    ):
        calls.append((results_dir, reference, level, at, outcomes))
        table = pd.DataFrame(
            {
                "setting": ["baseline_2013", "wuhou_reform"],
                "scenario": ["baseline_2013", "wuhou_reform"],
                "point": ["p00000", "p00001"],
                "is_reference": [True, False],
                "n_runs": [10, 10],
                "admin_burden_mean": [0.65, 0.26],
                "admin_burden_ci_low": [0.64, 0.25],
                "admin_burden_diff": [0.0, -0.39],
                "admin_burden_diff_ci_low": [0.0, -0.40],
                "admin_burden_diff_ci_high": [0.0, -0.38],
                "admin_burden_p_value": [1.0, 0.0],
            }
        )
        table.attrs = {"reference": "baseline_2013", "at": at, "notes": ["a note"]}
        return table

    monkeypatch.setattr(analysis, "compare_table", fake_compare_table, raising=False)
    table = store_table(tmp_path, None, "district", "final-year")
    assert calls == [(tmp_path, None, "district", "final-year", None)]
    assert list(table.columns) == [
        "setting",
        "n_runs",
        "admin_burden_mean",
        "admin_burden_diff",
        "admin_burden_diff_ci_low",
        "admin_burden_diff_ci_high",
    ]
    assert table.attrs["reference"] == "baseline_2013"

    import solara

    from sim.dashboard.compare import StoreTable

    from .helpers import texts

    root, rc = solara.render(StoreTable(tmp_path))
    shown = texts(root)
    assert f"Results store {tmp_path}" in shown and "(baseline_2013)" in shown and "a note" in shown
    rc.close()


def test_store_view_shows_the_analysis_error(analysis, monkeypatch, tmp_path):
    import solara

    from sim.dashboard.compare import StoreTable

    from .helpers import texts

    def missing(results_dir, **kwargs):
        raise UserError(f"{results_dir}: no such results directory (run `sanshe sweep` first)")

    monkeypatch.setattr(analysis, "compare_table", lambda d, *a, **k: missing(d), raising=False)
    root, rc = solara.render(StoreTable(tmp_path / "nowhere"))
    assert "no such results directory" in texts(root)
    rc.close()
