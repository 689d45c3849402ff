"""Rebuild ``SansheCJKSubset-Regular.otf``: the CJK font bundled for street names in figures.

Not run by the package; kept so the bundled binary can be reproduced. It needs Debian's
``fonts-noto-cjk`` (``apt-get install fonts-noto-cjk``) and fontTools (a matplotlib dependency)::

    .venv/bin/python sim/analysis/data/build_font_subset.py

The subset holds the 3,755 level-1 characters of GB 2312 (the common simplified characters, which
cover the street and community names of most Chinese districts) plus any character of Wuhou's
street names outside them (楠). It is renamed, as the SIL Open Font License asks of a Modified
Version, so it never shadows an installed Noto font. About 0.8 MB.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SOURCE_INDEX = 2  # Noto Sans CJK SC in the collection
FAMILY = "Sanshe CJK Subset"
POSTSCRIPT = "SansheCJKSubset-Regular"
TARGET = Path(__file__).with_name(f"{POSTSCRIPT}.otf")
# Wuhou's streets (sim.district.WUHOU_STREETS) and a few words a caption may use.
EXTRA = (
    "浆洗街望江路玉林跳伞塔火车南站双楠晋阳红牌楼簇桥机投桥金花桥簇锦华兴"
    "武侯区成都市社区街道三社联动"
)


def gb2312_level1() -> list[str]:
    """The 3,755 level-1 hanzi of GB 2312 (rows 16-55)."""
    chars = []
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):  # 5 unused cells in row 55
                chars.append(bytes([hi, lo]).decode("gb2312"))
    return chars


def build(source: Path = SOURCE, target: Path = TARGET) -> Path:
    """Subset, rename and save the font; returns the target path."""
    font = TTCollection(str(source)).fonts[SOURCE_INDEX]
    options = subset.Options()
    options.layout_features = []  # labels need no vertical forms or locl substitutions
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted({ord(c) for c in gb2312_level1() + list(EXTRA)}))
    subsetter.subset(font)
    for table in ("VORG", "vhea", "vmtx", "BASE"):
        if table in font:
            del font[table]
    for record in font["name"].names:
        if record.nameID in (1, 16):
            record.string = FAMILY
        elif record.nameID == 4:
            record.string = f"{FAMILY} Regular"
        elif record.nameID == 6:
            record.string = POSTSCRIPT
        elif record.nameID == 3:
            record.string = f"{POSTSCRIPT};subset of Noto Sans CJK SC"
    cff = font["CFF "].cff
    cff.fontNames = [POSTSCRIPT]
    top = cff.topDictIndex[0]
    top.FamilyName = FAMILY
    top.FullName = f"{FAMILY} Regular"
    font.save(str(target))
    return target


if __name__ == "__main__":
    print(build())
