"""The import contracts of pyproject.toml ([tool.importlinter]) hold, so `make test` alone catches
an import that goes back up a layer or closes a cycle (CI also runs `make lint`)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT


def test_import_contracts_are_kept():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "lint-imports is missing: install the dev extra (pip install -e '.[dev]')"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's sim, not an installed one
    done = subprocess.run(
        [exe, "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout
