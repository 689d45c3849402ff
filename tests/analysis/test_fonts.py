import pytest

from sim.analysis import fonts
from sim.district import WUHOU_STREETS


def test_bundled_font_is_in_the_fallback_list():
    assert fonts.BUNDLED_FONT.is_file()
    assert fonts.BUNDLED_FAMILY in fonts.font_families()
    assert fonts.font_families()[0] == fonts.LATIN_FAMILY


def test_every_wuhou_street_name_renders():
    for chinese, _ in WUHOU_STREETS:
        assert fonts.can_render(chinese), chinese
        assert fonts.can_render(f"{chinese}12")


def test_labels_with_cjk_font():
    assert fonts.place_label("浆洗街") == "浆洗街 Jiangxijie"
    assert fonts.place_label("浆洗街3", "community") == "浆洗街3"
    assert fonts.place_label("Old Town") == "Old Town"


@pytest.fixture
def latin_only(monkeypatch):
    """As on a machine where no CJK font could be loaded."""
    latin = frozenset(range(32, 0x250)) | {0x2212}
    monkeypatch.setattr(fonts, "covered_codepoints", lambda: latin)
    monkeypatch.setattr(fonts, "font_families", lambda: [fonts.LATIN_FAMILY])


def test_labels_fall_back_to_pinyin(latin_only):
    assert fonts.place_label("浆洗街") == "Jiangxijie"
    assert fonts.place_label("浆洗街3", "community") == "Jiangxijie 3"
    assert fonts.place_label("某某街", "street", 4) == "street 5"
    assert fonts.place_label("某某街") == "street ?"
    assert fonts.safe_text("reform 改革") == "reform ??"


def _embedded_font(css: str):
    """The font of a css_font_face rule, opened with fontTools."""
    import base64
    import io
    import re

    from fontTools.ttLib import TTFont

    data = re.search(r"base64,([A-Za-z0-9+/=]+)\)", css).group(1)
    return TTFont(io.BytesIO(base64.b64decode(data)))


def test_css_font_face_holds_exactly_the_pages_chinese_glyphs():
    text = "三社联动 simulation: 浆洗街 (Jiangxijie) gains most; 双楠 − 2016, 华兴"
    css = fonts.css_font_face(text)
    assert f'font-family: "{fonts.BUNDLED_FAMILY}"' in css
    assert "unicode-range: U+2E80-2FFF" in css and "U+4E00-9FFF" in css
    cmap = set(_embedded_font(css).getBestCmap())
    # every Chinese character of the text and nothing else (Latin text keeps its own font)
    assert {chr(c) for c in cmap} == set("三社联动浆洗街双楠华兴")
    assert len(css) < 40_000  # a few kB, not the 0.8 MB bundle


def test_css_font_face_without_chinese_or_with_a_rare_character():
    assert fonts.css_font_face("reform − no reform, 2016") == ""
    # 鑫 and 龘 are outside GB 2312 level 1, so outside the bundle: left to the system's fonts
    assert fonts.uncovered_cjk("浆洗街 鑫龘 浆") == "鑫龘"
    css = fonts.css_font_face("浆 鑫龘")
    assert {chr(c) for c in _embedded_font(css).getBestCmap()} == {"浆"}
    assert fonts.css_font_face("鑫龘") == ""
