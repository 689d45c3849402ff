"""Fonts for figures: Chinese street and community names must render, never as empty boxes.

Text is drawn with a fallback list of families (matplotlib >= 3.6 takes each glyph from the first
family that has it):

1. DejaVu Sans (matplotlib's own) for Latin text, digits and symbols;
2. "Sanshe CJK Subset", bundled in ``sim/analysis/data/``: a subset of Noto Sans CJK SC (SIL Open
   Font License) with the 3,755 common simplified characters of GB 2312 level 1, which covers
   Wuhou's street and community names and those of most districts;
3. any CJK font the system has (``fc-list :lang=zh``), for rarer characters.

Before a name is drawn, :func:`place_label` checks that every character has a glyph in one of
these fonts; if not, it falls back to pinyin (known for Wuhou's streets, ``sim.district``) or to a
neutral label such as "street 3", so a figure never shows a missing glyph.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

from sim.district import STREET_PINYIN

BUNDLED_FONT = Path(__file__).resolve().parent / "data" / "SansheCJKSubset-Regular.otf"
BUNDLED_FAMILY = "Sanshe CJK Subset"
LATIN_FAMILY = "DejaVu Sans"
PINYIN = STREET_PINYIN


def system_cjk_fonts() -> list[Path]:
    """Font files with Chinese coverage that fontconfig knows of (empty without fc-list)."""
    if shutil.which("fc-list") is None:
        return []
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    paths = {Path(line.split(":")[0].strip()) for line in out.splitlines() if line.strip()}
    return sorted(p for p in paths if p.suffix.lower() in (".ttf", ".otf", ".ttc"))


@cache
def font_files() -> tuple[tuple[str, Path], ...]:
    """(family, file) pairs of the fallback list, registering the bundled and system CJK fonts."""
    from matplotlib import font_manager

    latin = Path(font_manager.findfont(LATIN_FAMILY, fallback_to_default=True))
    out = [(LATIN_FAMILY, latin)]
    candidates = ([BUNDLED_FONT] if BUNDLED_FONT.is_file() else []) + system_cjk_fonts()
    for path in candidates:
        try:
            font_manager.fontManager.addfont(str(path))
            family = font_manager.FontProperties(fname=str(path)).get_name()
        except (OSError, RuntimeError, ValueError):
            continue  # an unreadable font file: skip it
        if family not in {f for f, _ in out}:
            out.append((family, path))
    return tuple(out)


def font_families() -> list[str]:
    """The ``font.family`` fallback list for figures."""
    return [family for family, _ in font_files()]


@cache
def _charmap(path: Path) -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    try:
        return frozenset(FT2Font(str(path)).get_charmap())
    except (OSError, RuntimeError):
        return frozenset()


def covered_codepoints() -> frozenset[int]:
    """Code points that some font of the fallback list can draw."""
    out: set[int] = set()
    for _, path in font_files():
        out |= _charmap(path)
    return frozenset(out)


def can_render(text: str) -> bool:
    """Whether every character of ``text`` has a glyph in the fallback fonts."""
    covered = covered_codepoints()
    return all(ch.isspace() or ord(ch) in covered for ch in text)


def place_label(name: str, kind: str = "street", index: int | None = None) -> str:
    """A label for a street or community name that is sure to render.

    Street names gain their pinyin when known ("浆洗街 Jiangxijie"). A name with a character no
    font can draw becomes pinyin ("Jiangxijie", "Jiangxijie 3" for community 浆洗街3), or else
    "<kind> <index>" (or "<kind> ?" without an index).
    """
    pinyin = PINYIN.get(name)
    if can_render(name):
        return f"{name} {pinyin}" if kind == "street" and pinyin else name
    if pinyin:
        return pinyin
    match = re.fullmatch(r"(.+?)(\d+)", name)
    if match and match.group(1) in PINYIN:
        return f"{PINYIN[match.group(1)]} {match.group(2)}"
    ascii_name = "".join(ch for ch in name if ord(ch) < 128).strip()
    if ascii_name and can_render(ascii_name) and ascii_name != name and index is None:
        return ascii_name
    return f"{kind} {index + 1}" if index is not None else f"{kind} ?"


def safe_text(text: str) -> str:
    """``text`` with any character no font can draw replaced by '?' (labels of user scenarios)."""
    covered = covered_codepoints()
    return "".join(ch if ch.isspace() or ord(ch) in covered else "?" for ch in text)
