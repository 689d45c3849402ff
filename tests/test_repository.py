"""The repository stands on its own and its analysis knows no case study by name."""

from __future__ import annotations

import ast
import subprocess

import pytest

from .conftest import ROOT


def tracked_files() -> list[str]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [p for p in out.decode().split("\0") if p]


def test_no_tracked_file_links_outside_the_repository():
    needle = "../" + "shared"  # split, so this file does not match itself
    offenders = []
    for name in tracked_files():
        path = ROOT / name
        if not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data[:4096]:
            continue  # binary (fonts, images)
        if needle in data.decode("utf-8", errors="replace"):
            offenders.append(name)
    assert offenders == []


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def case_study_mentions(source: str, word: str = "wuhou") -> list[str]:
    """Names and string values (not comments or docstrings) that mention ``word``."""
    tree = ast.parse(source)
    docs = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            text = node.value
        elif isinstance(node, ast.Name):
            text = node.id
        elif isinstance(node, ast.Attribute):
            text = node.attr
        elif isinstance(node, ast.alias):
            text = f"{node.name} {node.asname or ''}"
        elif isinstance(node, ast.ImportFrom):
            text = node.module or ""
        else:
            continue
        if word in text.lower():
            found.append(f"line {getattr(node, 'lineno', '?')}: {text[:60]!r}")
    return found


def test_the_mention_finder_can_fail():
    assert case_study_mentions('"""About Wuhou."""\n# Wuhou\nx = 1\n') == []
    assert case_study_mentions('x = "wuhou_reform"\n')
    assert case_study_mentions("from sim.district import WUHOU_STREETS\n")
    assert case_study_mentions("def f():\n    '''Wuhou.'''\n    return 'Wuhou'\n")


@pytest.mark.parametrize("package", ["sim/analysis", "sim/dashboard"])
def test_analysis_and_dashboard_name_no_case_study_in_code(package):
    offenders = {
        str(path.relative_to(ROOT)): hits
        for path in sorted((ROOT / package).rglob("*.py"))
        if (hits := case_study_mentions(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}
