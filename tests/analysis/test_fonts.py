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
