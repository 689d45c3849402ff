"""The import contracts of pyproject.toml ([tool.importlinter]) hold, so `make test` alone catches
an import that goes back up a layer or closes a cycle (CI also runs `make lint`)."""

import os
import re
import shutil
import subprocess
import sys
import tomllib
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


def test_every_module_of_sim_is_in_a_layer():
    # A module in no layer would be unconstrained by the layers contract.
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c["layers"] for c in contracts if c["type"] == "layers")
    listed = {name.strip() for layer in layers for name in re.split(r"[|:]", layer)}
    modules = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / "sim").rglob("*.py")
    }
    outside = sorted(
        m for m in modules - {"sim"} if not any(m == n or m.startswith(n + ".") for n in listed)
    )
    assert not outside, f"add these modules to a layer in pyproject.toml: {outside}"
