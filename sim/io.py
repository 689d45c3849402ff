"""Writing results: atomic files (temporary file, then rename) and run manifests.

Files get ordinary permissions (0666 less the process umask, as ``open`` would give): the temporary
file is created with them, not with ``tempfile.mkstemp``'s 0600.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


class FinishedRun(Protocol):
    """What :func:`save_run` needs of a run (a :class:`sim.model.DistrictModel`; this utility
    module sits below the model and does not import it)."""

    spec: Any  # a sim.scenario.Scenario (above this module in the layers)
    seed_info: dict[str, Any]
    steps: int

    def results(self) -> dict[str, pd.DataFrame]: ...

    def budget_books(self) -> pd.DataFrame: ...


PACKAGES = ("sanshe", "mesa", "numpy", "pandas", "scipy", "pyarrow", "pydantic")


def _temporary(path: Path) -> tuple[int, str]:
    """Create a new temporary file beside ``path`` (open for writing): its descriptor and name.

    Created with mode 0666, so the kernel applies the process umask (and a directory's default
    ACL) as ``open`` would: no chmod afterwards and no reading the umask. The name is random and
    the file created exclusively, as ``tempfile.mkstemp`` does.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for attempt in range(100):
        tmp = str(path.parent / f".{path.name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
        except FileNotFoundError:
            if attempt:
                raise
            path.parent.mkdir(parents=True, exist_ok=True)  # only when the folder is missing
    raise FileExistsError(f"{path.parent}: no free temporary file name for {path.name}")


def _atomic(path: Path, data: Any) -> None:
    """Write ``data`` (bytes or any buffer, such as an Arrow buffer) to ``path`` in one call,
    through a temporary file and a rename, so that the file is whole or absent."""
    fd, tmp = _temporary(path)
    try:
        with open(fd, "wb") as fh:  # owns and closes the descriptor
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# Values handed to Parquet's column writers at a time (write_parquet; pyarrow's default is 1,024).
# A page closes at the first batch boundary past its size (1 MB), so larger batches mean fewer
# checks and, in a column of more than 1 MB, pages up to a batch (64 kB of float64) larger.
_WRITE_BATCH = 8192


def write_parquet(
    table: pd.DataFrame | pa.Table,
    path: str | Path,
    *,
    dictionary: bool = True,
    arrow_schema: bool = True,
) -> None:
    """Write a DataFrame or Arrow table as Parquet (lz4), atomically.

    Statistics are skipped, since result files are read whole. The file is built in memory and
    written in one call: written straight to disk, pyarrow makes a write and a seek per page (about
    a thousand system calls for a run's three files, a fifth of the writing's cost).

    Args:
        dictionary: dictionary-encode the text columns (months, streets, communities repeat).
            False writes them plain: lz4 compresses repeated text as well either way (a run's
            files are the same size), and the writer saves building a dictionary per column.
        arrow_schema: store the Arrow schema in the file (pyarrow's default). False is for tables
            whose types Parquet holds as they are (int64, float64, bool, string): they read back
            with the same types without it.
    """
    import pyarrow as pa  # here, not at import: a sweep's parent process writes no tables
    import pyarrow.parquet as pq

    if not isinstance(table, pa.Table):
        table = pa.Table.from_pandas(table, preserve_index=False)
    text: list[str] | bool = False
    if dictionary:
        schema = table.schema
        ids = {pa.string().id, pa.large_string().id}
        text = [n for n, t in zip(schema.names, schema.types, strict=True) if t.id in ids] or False
    sink = pa.BufferOutputStream()
    pq.write_table(
        table,
        sink,
        compression="lz4",
        use_dictionary=text,
        write_statistics=False,
        store_schema=arrow_schema,
        # a run's three files of Wuhou (4,176 rows at most) are then written in one batch a
        # column: the same bytes, about 4% less writing time (issue 12)
        write_batch_size=_WRITE_BATCH,
    )
    _atomic(Path(path), sink.getvalue())


def write_json(obj: Any, path: str | Path) -> None:
    """Write JSON (UTF-8, indented), atomically."""
    text = json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n"
    _atomic(Path(path), text.encode("utf-8"))


def write_bytes(data: bytes, path: str | Path) -> None:
    """Write bytes (an image, say), atomically; readable as the umask allows."""
    _atomic(Path(path), data)


def write_text(text: str, path: str | Path) -> None:
    """Write UTF-8 text (CSV, Markdown, HTML), atomically; readable by all."""
    write_bytes(text.encode("utf-8"), path)


def git_commit() -> str:
    """The source tree's git commit (with '-dirty' if it has uncommitted changes), or 'unknown'."""
    import subprocess

    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def versions() -> dict[str, str]:
    """Versions of Python and the packages results depend on."""
    import platform
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def provenance() -> dict[str, Any]:
    """What produced a result: versions, commit, host and time."""
    import platform
    from datetime import UTC, datetime

    return {
        "versions": versions(),
        "git_commit": git_commit(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
    }


def run_manifest(model: FinishedRun) -> dict[str, Any]:
    """Manifest of one run: scenario, seed and provenance."""
    spec = model.spec
    return {
        "scenario": spec.name,
        "scenario_hash": spec.hash,
        "scenario_path": spec.path,
        "definition": spec.definition,
        "scaling": spec.scaling.to_dict() if spec.scaling else None,
        "seed": model.seed_info,
        "months": int(model.steps),
        "start": spec.start_month,
        **provenance(),
    }


def save_run(model: FinishedRun, out: str | Path) -> dict[str, pd.DataFrame]:
    """Write a finished run's tables and manifest into ``out``; returns the tables.

    The manifest is written last, so a directory with a manifest holds a complete run.
    """
    from sim.outputs import to_arrow

    out = Path(out)
    tables = model.results()
    for level, df in tables.items():
        write_parquet(to_arrow(df, level), out / f"{level}.parquet")
    write_parquet(model.budget_books(), out / "budget.parquet")
    write_json(run_manifest(model), out / "manifest.json")
    return tables
