"""The report page: styles, escaping and the layout around the sections."""

from __future__ import annotations

import html
from typing import Any

CSS = """
body { font-family: "Sanshe CJK Subset", "Helvetica Neue", Helvetica, Arial, "Noto Sans CJK SC",
       "PingFang SC", "Microsoft YaHei", sans-serif; max-width: 1240px; margin: 1.2em auto;
       padding: 0 1.2em; color: #1b1b1b; line-height: 1.4; }
h1 { font-size: 1.45em; margin: 0 0 0.2em 0; } h2 { border-bottom: 2px solid #ddd;
     padding-bottom: 0.2em; margin-top: 2em; } h3 { margin-top: 1.4em; }
.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.88em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; vertical-align: top; }
th { background: #f2f2f2; } td.l, th.l { text-align: left; }
tr.ref td { background: #f7f7f7; font-style: italic; }
td.better { background: #deebf7; } td.worse { background: #fde0c5; }
figure { margin: 1.6em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #333; }
.answer { background: #f4f7fa; border-left: 4px solid #0072b2; padding: 0.4em 1em; }
.verdict { font-size: 1.05em; margin: 0.3em 0 0.4em 0; }
.ranking { margin: 0.5em 0 0.1em 0; }
.defs { margin: 0.2em 0; padding-left: 1.2em; font-size: 0.9em; }
.defs li { margin: 0.05em 0; }
table.levers { font-size: 0.82em; margin: 0.3em 0; }
table.levers td, table.levers th { padding: 0.1em 0.3em; border-color: #e3e3e3; }
table.levers th { font-weight: normal; } table.levers tr:first-child th { font-weight: bold; }
.bar { display: flex; align-items: center; width: 64px; height: 0.95em; position: relative; }
.bar .axis { position: absolute; left: 50%; top: -2px; bottom: -2px; border-left: 1px solid #777; }
.bar .pos { position: absolute; left: 50%; height: 100%; background: #0072b2; }
.bar .neg { position: absolute; right: 50%; height: 100%; background: #e69f00; }
.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
.flag { color: #a0522d; font-weight: bold; }
code { background: #f4f4f4; padding: 0 0.2em; }
.small { font-size: 0.85em; color: #555; }
.ci { font-size: 0.8em; color: #555; white-space: nowrap; }
.scroll { overflow-x: auto; }
"""


def font_face_css(text: str) -> str:
    """@font-face for the Chinese characters of ``text``: the bundled CJK subset cut down to them
    and embedded as a data URI, so 三社联动 and street names show offline on a machine without a
    CJK font (first in the body's font list, limited to CJK code points by unicode-range)."""
    from sim.analysis.fonts import css_font_face

    return css_font_face(text)


def e(text: Any) -> str:
    """HTML-escaped text."""
    return html.escape(str(text))


def cell(value: str, ci: str) -> str:
    """A value with its CI on a second, smaller line."""
    return f'{e(value)}<br><span class="ci">{e(ci)}</span>'


def page(title: str, subtitle: str, sections: dict[str, tuple[str, str]]) -> str:
    """The whole document. ``sections`` maps HTML id to (heading, body HTML); a heading of ''
    leaves the section without one (the first screen)."""
    body = "".join(
        f'<section id="{key}">' + (f"<h2>{e(heading)}</h2>" if heading else "") + f"{content}"
        "</section>"
        for key, (heading, content) in sections.items()
    )
    content = (
        f"<h1>{e(title)}</h1>"
        + (f"<p class='sub small'>{e(subtitle)}</p>" if subtitle else "")
        + body
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}</title><style>{font_face_css(title + content)}{CSS}</style></head>"
        f"<body>{content}</body></html>\n"
    )
