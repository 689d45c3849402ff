"""The report's first screen, as a reader sees it: headless Chromium at 1400 x 900.

The verdict sentence with its year, the definitions of the key outcomes and the lever ranking must
all be visible without scrolling. A screenshot is saved to ``tests/analysis/artifacts/``
(git-ignored).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.analysis.report import build_report

from ..browser import CHROMIUM, CHROMIUM_ARGS, require_browser
from .helpers import crn_values, make_store

ARTIFACTS = Path(__file__).parent / "artifacts"
LEVERS = ("entry_control", "purchase", "projects", "threshold", "centres", "brand_agencies")

# Text nodes whose box lies (at least partly) inside the first screen, in document order.
VISIBLE_TEXT = """() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const out = [];
  const range = document.createRange();
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) {
      if (r.bottom > 0 && r.top < window.innerHeight && r.right > 0 &&
          r.left < window.innerWidth && r.width > 0) {
        out.push(node.textContent);
        break;
      }
    }
  }
  return out.join(" ").replace(/\\s+/g, " ");
}"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A headline-shaped experiment: a reference, a focus, six levers removed and added alone."""
    require_browser()
    root = tmp_path_factory.mktemp("first_screen")
    means = {"no_reform": 0.60, "reform": 0.30}
    for k, lever in enumerate(LEVERS):
        means[f"without_{lever}"] = 0.32 + 0.02 * k
        means[f"only_{lever}"] = 0.58 - 0.01 * k
    roles = {
        "reference": "no_reform",
        "focus": "reform",
        "ablations": {lever: f"without_{lever}" for lever in LEVERS},
        "added_alone": {lever: f"only_{lever}" for lever in LEVERS},
    }
    make_store(root, crn_values(means, n=3), levels=("district",), roles=roles)
    return build_report(root, kinds=["tradeoff"])


def test_first_screen_answers_at_1400_by_900(report, tmp_path):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1400, "height": 900},
        )
        try:
            page = browser.new_page()
            page.goto(report.resolve().as_uri())
            # the embedded CJK font: loaded (a unicode-range face loads only when used)
            faces = page.evaluate(
                "document.fonts.ready.then(() => Array.from(document.fonts)"
                ".map(f => [f.family.replace(/\"/g, ''), f.status]))"
            )
            title_font = page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
            page.screenshot(path=ARTIFACTS / "report-first-screen.png")
            text = page.evaluate(VISIBLE_TEXT)
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            ranking_right = page.evaluate(
                "document.querySelector('table.levers').getBoundingClientRect().right"
            )
        finally:
            browser.close()
    # the verdict, naming the year
    assert "Verdict. In 2014, reform improves admin burden" in text
    assert "against no reform" in text
    # what its intervals cover, and what it rests on, in plain words
    assert "seed noise only; parameter and structural uncertainty not included" in text
    assert "What this rests on:" in text
    # a one-line definition of each key outcome, from the output table
    from sim.outputs import OUTPUTS, key_outcomes

    for name in key_outcomes():
        o = OUTPUTS[name]
        line = f"{o.label.capitalize()} ({o.display_unit}): {o.doc[0].upper()}{o.doc[1:]}."
        assert line in text, line
    # the lever ranking, every lever on screen, sorted by what it brings to burden in the reform
    assert "Lever ranking" in text
    positions = [text.index(f" {lever.replace('_', ' ')} ") for lever in LEVERS[::-1]]
    assert positions == sorted(positions)
    assert scroll_width <= 1400 and ranking_right <= 1400  # nothing runs off the side
    # 三社联动 in the title is drawn from the embedded font, not as boxes: the face is loaded, comes
    # first in the font list (Chromium does not fall back past Arial's system alias), and holds a
    # glyph for every Chinese character of the page
    from sim.analysis.fonts import BUNDLED_FAMILY, cjk_characters, uncovered_cjk

    assert "三社联动" in text
    assert faces == [[BUNDLED_FAMILY, "loaded"]]
    assert title_font.startswith(f'"{BUNDLED_FAMILY}"')
    html_text = report.read_text(encoding="utf-8")
    assert cjk_characters(html_text) and not uncovered_cjk(html_text)
