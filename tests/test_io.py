import io
import json
import os

import pandas as pd
import pytest

from sim.io import write_json, write_parquet, write_text


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


def _table():
    import pyarrow as pa

    return pa.table(
        {
            "month": pa.array(["2014-01", "2014-02", "2014-01"]),
            "n": pa.array([1, 2, 3], pa.int64()),
            "share": pa.array([0.5, None, 0.25], pa.float64()),
            "flag": pa.array([True, False, True]),
        }
    )


def test_parquet_is_written_in_one_piece_and_reads_back_identically(tmp_path):
    # The file is built in memory and written in one call; it must be the very file pyarrow writes
    # to disk with the same options, and read back to the same table (types, nulls, order).
    import pyarrow.parquet as pq

    table = _table()
    write_parquet(table, tmp_path / "sub" / "t.parquet")  # the folder is created
    pq.write_table(
        table,
        tmp_path / "direct.parquet",
        compression="lz4",
        use_dictionary=["month"],
        write_statistics=False,
    )
    written = (tmp_path / "sub" / "t.parquet").read_bytes()
    assert written == (tmp_path / "direct.parquet").read_bytes()
    assert pq.read_table(tmp_path / "sub" / "t.parquet").equals(table, check_metadata=True)
    meta = pq.read_metadata(tmp_path / "sub" / "t.parquet")
    month = meta.row_group(0).column(0)
    assert "PLAIN_DICTIONARY" in month.encodings or "RLE_DICTIONARY" in month.encodings
    assert month.compression == "LZ4" and not month.is_stats_set
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["t.parquet"]


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077])
def test_files_get_the_mode_open_would_give(tmp_path, mask):
    # The temporary file is created with 0666 and the kernel applies the umask (no chmod).
    old = os.umask(mask)
    try:
        write_parquet(_table(), tmp_path / "t.parquet")
        write_json({"a": 1}, tmp_path / "s.json")
        write_text("x", tmp_path / "x.txt")
    finally:
        os.umask(old)
    for name in ("t.parquet", "s.json", "x.txt"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~mask, name


def test_json_bytes_are_unchanged(tmp_path):
    obj = {"street": "浆洗街", "n": 3, "when": pytest}  # default=str for what JSON cannot hold
    write_json(obj, tmp_path / "m.json")
    expected = json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n"
    assert (tmp_path / "m.json").read_bytes() == expected.encode("utf-8")


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    write_json({"v": 1}, path)

    class Full(io.FileIO):
        def write(self, data):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr("sim.io.open", lambda fd, mode: Full(fd, "wb"), raising=False)
    with pytest.raises(OSError, match="No space"):
        write_json({"v": 2}, path)
    assert json.loads(path.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_parquet_batches_change_no_value_and_no_byte_of_a_small_table(tmp_path):
    # write_parquet hands the column writers _WRITE_BATCH values at a time (pyarrow: 1,024). A
    # table of at most one batch gives the very bytes of pyarrow's default; a larger one, whose
    # columns span several batches and pages (2.4 MB of float64 against 1 MB pages), reads back
    # equal, nulls included.
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.io import _WRITE_BATCH

    rng = np.random.default_rng(5)

    def table(n: int) -> pa.Table:
        x = rng.normal(size=n)
        return pa.table(
            {
                "x": pa.array(x, mask=x > 1.5),
                "k": pa.array(rng.integers(0, 9, n)),
                "s": pa.array(rng.choice(["a", "bb", "ccc"], n)),
            }
        )

    small = table(_WRITE_BATCH)
    write_parquet(small, tmp_path / "small.parquet", dictionary=False, arrow_schema=False)
    sink = pa.BufferOutputStream()
    pq.write_table(
        small,
        sink,
        compression="lz4",
        use_dictionary=False,
        write_statistics=False,
        store_schema=False,
    )
    assert (tmp_path / "small.parquet").read_bytes() == sink.getvalue().to_pybytes()

    big = table(300_000)
    write_parquet(big, tmp_path / "big.parquet")
    back = pq.read_table(tmp_path / "big.parquet")
    assert back.equals(big)
    assert (
        pq.read_metadata(tmp_path / "big.parquet").row_group(0).column(0).total_compressed_size
        > 2**20
    )
