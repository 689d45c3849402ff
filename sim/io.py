"""Writing results: atomic files (temporary file, then rename) and run manifests.

Files get ordinary permissions (0666 less the process umask, as ``open`` would give), not the
0600 of the temporary file they are written through.
"""

from __future__ import annotations

import json
import os
import tempfile
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


def umask() -> int:
    """The process umask, read without changing it where the system allows (/proc on Linux)."""
    try:
        status = Path("/proc/self/status").read_text()
        line = next(ln for ln in status.splitlines() if ln.startswith("Umask:"))
        return int(line.split()[1], 8)
    except (OSError, StopIteration, ValueError, IndexError):
        mask = os.umask(0o022)
        os.umask(mask)
        return mask


def file_mode() -> int:
    """Mode of a new results file: 0666 less the umask (0644 under the usual umask 022)."""
    return 0o666 & ~umask()


def _atomic(path: Path, write: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(table: pd.DataFrame | pa.Table, path: str | Path) -> None:
    """Write a DataFrame or Arrow table as Parquet (lz4), atomically.

    Text columns are dictionary-encoded (they repeat: months, streets, communities); statistics are
    skipped, since result files are read whole.
    """
    import pyarrow as pa  # here, not at import: a sweep's parent process writes no tables
    import pyarrow.parquet as pq

    if not isinstance(table, pa.Table):
        table = pa.Table.from_pandas(table, preserve_index=False)
    text = [
        f.name
        for f in table.schema
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]
    _atomic(
        Path(path),
        lambda tmp: pq.write_table(
            table, tmp, compression="lz4", use_dictionary=text or False, write_statistics=False
        ),
    )


def write_json(obj: Any, path: str | Path) -> None:
    """Write JSON (UTF-8, indented), atomically."""

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, ensure_ascii=False, indent=2, default=str)
            fh.write("\n")

    _atomic(Path(path), write)


def write_bytes(data: bytes, path: str | Path) -> None:
    """Write bytes (an image, say), atomically; readable as the umask allows."""

    def write(tmp: str) -> None:
        Path(tmp).write_bytes(data)

    _atomic(Path(path), write)


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
