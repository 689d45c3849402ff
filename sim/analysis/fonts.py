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

Web pages (the report, the dashboard) cannot count on a system CJK font either: a browser on a
machine without one draws Chinese as empty boxes. :func:`css_font_face` cuts the bundled subset
down to the Chinese characters a page actually shows and embeds them as an ``@font-face`` rule
(a few kB), limited by ``unicode-range`` to CJK code points so Latin text keeps its own font.
"""

from __future__ import annotations

import base64
import io
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


# Code points a page's CJK face may draw: CJK radicals, symbols and punctuation, ideographs
# (with extension A and compatibility ideographs), and full-width forms.
CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x2E80, 0x2FFF),
    (0x3000, 0x303F),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFF00, 0xFFEF),
)


def is_cjk(ch: str) -> bool:
    """Whether a character falls in :data:`CJK_RANGES`."""
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in CJK_RANGES)


def cjk_characters(text: str) -> str:
    """The distinct CJK characters of ``text``, sorted."""
    return "".join(sorted({ch for ch in text if is_cjk(ch)}))


def uncovered_cjk(text: str) -> str:
    """The CJK characters of ``text`` that the bundled font has no glyph for (a browser draws them
    from a system font if it has one, else as boxes)."""
    cmap = _charmap(BUNDLED_FONT) if BUNDLED_FONT.is_file() else frozenset()
    return "".join(ch for ch in cjk_characters(text) if ord(ch) not in cmap)


@cache
def _subset_otf(chars: str) -> bytes:
    """The bundled font cut down to ``chars`` (OpenType/CFF bytes)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(BUNDLED_FONT))
    options = subset.Options()
    options.layout_features = []
    options.name_IDs = ["*"]  # keep the renamed family and the licence notice
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def css_font_face(text: str) -> str:
    """An ``@font-face`` rule for family :data:`BUNDLED_FAMILY` holding the glyphs of the CJK
    characters of ``text``, embedded as a data URI; '' if ``text`` has none (or the bundled font
    is missing). Put the family *first* in a ``font-family`` list: its ``unicode-range`` keeps it
    to CJK code points, and Chromium does not fall back past a font such as Arial that a system
    alias resolves to."""
    missing = set(uncovered_cjk(text))
    chars = "".join(ch for ch in cjk_characters(text) if ch not in missing)
    if not chars or not BUNDLED_FONT.is_file():
        return ""
    data = base64.b64encode(_subset_otf(chars)).decode("ascii")
    ranges = ", ".join(f"U+{lo:X}-{hi:X}" for lo, hi in CJK_RANGES)
    return (
        f'@font-face {{ font-family: "{BUNDLED_FAMILY}"; '
        f'src: url(data:font/otf;base64,{data}) format("opentype"); unicode-range: {ranges}; }}\n'
    )
