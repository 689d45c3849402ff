import pandas as pd
import pytest

from sim.io import write_json, write_parquet


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "x.parquet"
    write_parquet(pd.DataFrame({"a": [1, 2]}), path)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("pyarrow.parquet.write_table", boom)
    with pytest.raises(RuntimeError):
        write_parquet(pd.DataFrame({"a": [3]}), path)
    assert pd.read_parquet(path)["a"].tolist() == [1, 2]  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["x.parquet"]  # no temporary left


def test_json_is_utf8(tmp_path):
    write_json({"street": "浆洗街"}, tmp_path / "m.json")
    assert "浆洗街" in (tmp_path / "m.json").read_text(encoding="utf-8")
