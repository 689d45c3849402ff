"""Plain-text tables for the terminal that line up with Chinese names.

A CJK character takes two terminal columns, so padding by ``len`` (as ``DataFrame.to_string``
does) shifts every number after a street name such as 浆洗街. Widths here come from
:func:`wcwidth.wcswidth`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from wcwidth import wcswidth

if TYPE_CHECKING:
    import pandas as pd


def width(text: str) -> int:
    """Terminal columns taken by ``text`` (CJK characters count two)."""
    w = wcswidth(text)
    return w if w >= 0 else len(text)  # control characters: fall back to one column each


def pad(text: str, cols: int, right: bool = False) -> str:
    fill = " " * max(cols - width(text), 0)
    return fill + text if right else text + fill


def text_table(header: Sequence[str], rows: Sequence[Sequence[Any]], digits: int = 3) -> str:
    """Rows under a header; the first column left-aligned, the others (numbers) right-aligned."""

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.{digits}f}"
        return str(v)

    cells = [[str(h) for h in header], *([cell(v) for v in r] for r in rows)]
    cols = [max(width(r[i]) for r in cells) for i in range(len(header))]
    lines = [
        "  ".join(pad(c, cols[i], right=i > 0) for i, c in enumerate(r)).rstrip() for r in cells
    ]
    return "\n".join(lines)


def frame_table(df: pd.DataFrame, digits: int = 3) -> str:
    """A DataFrame as an aligned text table, laid out like ``DataFrame.to_string``: the column
    header, then the index name on a line of its own (if it has one), then one line per row."""
    header = ["", *map(str, df.columns)]
    rows = [[str(i), *row] for i, row in zip(df.index, df.itertuples(index=False), strict=True)]
    lines = text_table(header, rows, digits).splitlines()
    if df.index.name:
        lines.insert(1, str(df.index.name))
    return "\n".join(lines)
