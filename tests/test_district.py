import subprocess
import sys

import numpy as np
import pytest

from sim.district import WUHOU_STREETS, load_district_csv, street_types, synthetic_wuhou
from sim.errors import ScenarioError
from sim.needs import DEFAULT_SHARES

from .conftest import ROOT


def test_synthetic_wuhou_matches_the_facts():
    d = synthetic_wuhou()
    assert d.n_streets == 13 and d.street_names == tuple(s[0] for s in WUHOU_STREETS)  # B1
    assert d.n_communities == 87 and d.residents.sum() == 1_260_000  # A2
    # Model v2: communities per street follow street populations (B14 where known), at least 2.
    per_street = np.bincount(d.community_street)
    assert per_street.min() >= 2 and per_street[d.street_names.index("华兴")] == 2
    street_pop = np.bincount(d.community_street, d.residents)
    assert street_pop[d.street_names.index("跳伞塔")] == 69_153  # B14
    ratio = d.residents / d.households
    assert ratio.min() >= 2.72 * 0.95 - 1e-9 and ratio.max() <= 3.66 * 1.05 + 1e-9  # B2
    assert (d.staff >= 7).all()
    assert d.need_index.mean() == pytest.approx(1.0)


def test_synthetic_wuhou_old_town_is_older_and_the_fringe_has_more_migrants():
    d = synthetic_wuhou()
    kinds = np.array(street_types())[d.community_street]
    elderly, migrants = d.covariates[:, 0], d.covariates[:, 4]
    assert elderly[kinds == "old"].mean() > elderly[kinds == "fringe"].mean() + 0.05
    assert migrants[kinds == "fringe"].mean() > migrants[kinds == "old"].mean() + 0.2
    jinyang = d.community_street == d.street_names.index("晋阳")
    assert migrants[jinyang].mean() == pytest.approx(0.78, rel=0.1)  # B14


def test_csv_need_covariates_are_optional_and_checked(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(
        GOOD.replace("staff\n", "staff,elderly_share\n")
        .replace(",3\n", ",3,0.3\n")
        .replace(",4\n", ",4,0.1\n")
    )
    d = load_district_csv(path)
    assert d.covariates[:, 0].tolist() == [0.3, 0.1]
    assert d.covariates[:, 4].tolist() == [DEFAULT_SHARES[4]] * 2  # missing: the default
    path.write_text(
        GOOD.replace("staff\n", "staff,migrant_share\n")
        .replace(",3\n", ",3,1.5\n")
        .replace(",4\n", ",4,0.1\n")
    )
    with pytest.raises(ScenarioError) as err:
        load_district_csv(path)
    assert "column migrant_share" in err.value.key


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

# (label, file bytes, key prefix, words the message must contain)
BAD_CSVS = [
    (
        "missing column",
        b"street,community,residents,households\nA,a1,1000,300\n",
        "columns",
        "missing staff",
    ),
    (
        "unknown column",
        b"street,community,residents,households,staff,colour\nA,a,1,1,1,red\n",
        "columns",
        "colour",
    ),
    (
        "misspelt column",
        GOOD.replace("residents", "residnets").encode(),
        "columns",
        "did you mean residents",
    ),
    ("negative residents", GOOD.replace("1000", "-5").encode(), "row 2, column residents", "-5"),
    (
        "zero residents",
        GOOD.replace("1000,300", "0,0").encode(),
        "row 2, column residents",
        "out of range",
    ),
    (
        "text residents",
        GOOD.replace("1000", "many").encode(),
        "row 2, column residents",
        "not a number",
    ),
    (
        "inf residents",
        GOOD.replace("1000", "inf").encode(),
        "row 2, column residents",
        "not a finite number",
    ),
    (
        "1e308 residents",
        GOOD.replace("1000", "1e308").encode(),
        "row 2, column residents",
        "out of range",
    ),
    (
        "nan residents",
        GOOD.replace("1000", "nan").encode(),
        "row 2, column residents",
        "not a finite number",
    ),
    (
        "fractional staff",
        GOOD.replace(",3\n", ",2.5\n").encode(),
        "row 2, column staff",
        "whole number",
    ),
    ("zero staff", GOOD.replace(",3\n", ",0\n").encode(), "row 2, column staff", "out of range"),
    (
        "households > residents",
        GOOD.replace("1000,300", "1000,1300").encode(),
        "row 2, column households",
        "more than the residents",
    ),
    (
        "inf need_index",
        b"street,community,residents,households,staff,need_index\nA,a,10,3,1,inf\n",
        "row 2, column need_index",
        "finite",
    ),
    (
        "zero need_index",
        b"street,community,residents,households,staff,need_index\nA,a,10,3,1,0\n",
        "row 2, column need_index",
        "out of range",
    ),
    ("empty street", GOOD.replace("A,a2", ",a2").encode(), "row 3, column street", "is empty"),
    (
        "blank community",
        GOOD.replace("A,a2", "A,   ").encode(),
        "row 3, column community",
        "is empty",
    ),
    (
        "duplicate community",
        (GOOD + "A,a1,10,3,1\n").encode(),
        "row 4, column community",
        "rows 2 and 4",
    ),
    ("ragged row", (GOOD + "A,a3,10,3\n").encode(), "row 4", "4 fields"),
    ("no rows", b"street,community,residents,households,staff\n", "rows", "no communities"),
    ("empty file", b"", "district", "empty"),
    (
        "GBK file",
        "street,community,residents,households,staff\n浆洗街,南桥社区,1000,300,3\n".encode("gbk"),
        "encoding",
        "iconv",
    ),
    ("binary", b"\xff\xfe\x00\x01\x80\x81", "encoding", "UTF-8"),
]


@pytest.mark.parametrize("label, data, key, words", BAD_CSVS, ids=[b[0] for b in BAD_CSVS])
def test_bad_csv_names_file_row_and_column(tmp_path, label, data, key, words):
    path = tmp_path / "district.csv"
    path.write_bytes(data)
    with pytest.raises(ScenarioError) as err:
        load_district_csv(path)
    message = str(err.value)
    assert err.value.key.startswith(key), message
    assert str(path) in message and words in message and "\n" not in message
    assert "np." not in message


def test_csv_accepts_bom_spaces_in_names_chinese_and_integral_floats(tmp_path):
    path = tmp_path / "district.csv"
    text = (
        " street ,community,residents,households,staff,need_index\n"
        "浆洗街,南桥 社区,12000.0,4000,11,1.2\n"
        '"Old Town, East",Canal Side,9000,3000,8,0.8\n'
        "\n"
    )
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    d = load_district_csv(path)
    assert d.street_names == ("浆洗街", "Old Town, East")
    assert d.community_names == ("南桥 社区", "Canal Side")
    assert d.residents.tolist() == [12000, 9000] and d.residents.dtype == np.int64
    assert d.need_index.mean() == pytest.approx(1.0)


def test_csv_loader_imports_no_table_libraries():
    code = (
        "import sys; from sim.district import read_district_csv; "
        f"read_district_csv({str(ROOT / 'data' / 'example_district.csv')!r}); "
        "print(sorted(m for m in ('pandas', 'numpy', 'pyarrow', 'mesa') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_missing_csv(tmp_path):
    with pytest.raises(ScenarioError, match="not found"):
        load_district_csv(tmp_path / "nope.csv")
