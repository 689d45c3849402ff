import numpy as np
import pytest

from sim.district import WUHOU_STREETS, load_district_csv, synthetic_wuhou
from sim.errors import ScenarioError

from .conftest import ROOT


def test_synthetic_wuhou_matches_the_facts():
    d = synthetic_wuhou()
    assert d.n_streets == 13 and d.street_names == tuple(s[0] for s in WUHOU_STREETS)  # B1
    assert d.n_communities == 87 and d.residents.sum() == 1_260_000  # A2
    assert np.bincount(d.community_street).min() >= 6
    ratio = d.residents / d.households
    assert ratio.min() >= 2.6 and ratio.max() <= 3.7  # B2 household sizes
    assert (d.staff >= 7).all()
    assert d.need_index.mean() == pytest.approx(1.0)


def test_synthetic_wuhou_is_the_same_every_time():
    a, b = synthetic_wuhou(), synthetic_wuhou()
    assert np.array_equal(a.residents, b.residents) and a.community_names == b.community_names


def test_example_csv_loads_and_round_trips(tmp_path):
    d = load_district_csv(ROOT / "data" / "example_district.csv")
    assert d.n_streets == 3 and d.n_communities == 12
    path = tmp_path / "wuhou.csv"
    synthetic_wuhou().to_frame().to_csv(path, index=False)
    back = load_district_csv(path)
    assert back.residents.sum() == 1_260_000 and back.n_streets == 13


GOOD = "street,community,residents,households,staff\nA,a1,1000,300,3\nA,a2,2000,700,4\n"


@pytest.mark.parametrize(
    "text, key",
    [
        ("street,community,residents,households\nA,a1,1000,300\n", "columns"),
        (GOOD.replace("1000", "-5"), "residents"),
        (GOOD.replace("1000", "many"), "residents"),
        (GOOD.replace(",3\n", ",0\n"), "staff"),
        (GOOD + "A,a1,10,3,1\n", "community"),
        ("street,community,residents,households,staff,colour\nA,a,1,1,1,red\n", "columns"),
        ("street,community,residents,households,staff\n", "rows"),
    ],
)
def test_bad_csv_names_file_and_column(tmp_path, text, key):
    path = tmp_path / "district.csv"
    path.write_text(text)
    with pytest.raises(ScenarioError) as err:
        load_district_csv(path)
    assert err.value.key.startswith(key)
    assert str(path) in str(err.value)


def test_missing_csv(tmp_path):
    with pytest.raises(ScenarioError, match="not found"):
        load_district_csv(tmp_path / "nope.csv")
