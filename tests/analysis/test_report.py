import re
from html.parser import HTMLParser

import numpy as np
import pytest
from SALib.sample import morris as morris_sample

from sim.analysis.report import SECTIONS, build_report
from sim.analysis.sensitivity import salib_problem
from sim.errors import UserError

from .helpers import FOUR_ROLES, crn_values, make_store
from .test_sensitivity import FACTORS, _store


class Page(HTMLParser):
    """Collects ids, references to other resources and the visible text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.images: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self.style = ""
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        for key in ("src", "href", "data", "poster", "srcset"):
            if key in a:
                self.refs.append((tag, key, a[key] or ""))
        if tag == "img":
            self.images.append(a.get("src", ""))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.style += data
        else:
            self.text.append(data)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    means = {
        "baseline_2013": 0.60,
        "wuhou_reform": 0.30,
        "reform_minus_entry_control": 0.40,
        "baseline_plus_entry_control": 0.50,
    }
    make_store(
        root,
        crn_values(means, n=4),
        descriptions={"wuhou_reform": "The Wuhou reform on its dates."},
        street_offsets={"wuhou_reform": {"玉林": 0.03}},
        roles=FOUR_ROLES,
    )
    sens = tmp_path_factory.mktemp("sens")
    X = morris_sample.sample(salib_problem(FACTORS), 4, num_levels=4, seed=1)
    _store(sens, X, 1, "morris")
    messages: list[str] = []
    kinds = ["sensitivity", "tradeoff"]  # fewer figures keep the test fast
    out = build_report(root, sensitivity_dir=sens, progress=messages.append, kinds=kinds)
    page = Page()
    page.feed(out.read_text(encoding="utf-8"))
    return out, page, messages


def test_report_has_every_section(report):
    _, page, _ = report
    for section in SECTIONS:
        assert section in page.ids, section
    text = " ".join(page.text)
    assert "What each setting changes" in text and "The Wuhou reform on its dates." in text
    assert "Provenance" in text and "abc123" in text  # the sweep's commit
    assert "root seed 7" in text
    assert "params.a" in text  # the factor that matters most, from the sensitivity analysis


def test_report_opens_offline(report):
    out, page, _ = report
    for tag, attr, value in page.refs:
        assert not re.match(r"^\s*(https?:)?//", value), (tag, attr, value)
        assert value.startswith("data:") or tag == "a", (tag, attr, value)
    assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
    # CSS may only pull in data: URIs (the embedded CJK font), nothing from elsewhere
    for url in re.findall(r"url\(([^)]*)\)", page.style):
        assert url.strip("'\" ").startswith("data:"), url[:40]
    assert "@import" not in page.style
    html = out.read_text(encoding="utf-8")
    assert "http://" not in html.replace("http://www.w3.org", "")
    assert "https://" not in html


def test_report_embeds_the_figures(report):
    out, page, _ = report
    assert len(page.images) == 2
    assert all(src.startswith("data:image/png;base64,") for src in page.images)
    folder = out.parent / "figures"
    assert (folder / "tradeoff.png").is_file()
    assert (folder / "sensitivity.svg").is_file()
    assert (out.parent / "tables" / "compare_district_final-year.csv").is_file()
    assert (out.parent / "tables" / "compare_district_final-year_vs_wuhou_reform.csv").is_file()
    assert (out.parent / "tables" / "sensitivity_morris_final-year.csv").is_file()


def section_text(html: str, section: str) -> str:
    """The visible text of one section, whitespace collapsed."""
    body = html.split(f'<section id="{section}">', 1)[1].split("</section>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def test_report_states_the_headline_numbers(report):
    out, _, _ = report
    text = section_text(out.read_text(encoding="utf-8"), "summary")
    # One verdict sentence naming the year: admin burden 30% vs 60%, a 30 pp fall (CRN shared
    # noise cancels in the difference); the other outcomes equal burden in this store, so fall.
    assert (
        "Verdict. In 2014, wuhou reform improves admin burden and worsens service coverage, "
        in text
    )
    assert re.search(r"admin burden 30\.\d% against 60\.\d% \(\u221230\.\d pp \[", text)
    # a one-line definition of each key outcome
    # (the doc of each output in sim/outputs.py)
    assert "Admin burden (%): Share of the staff hours used this month that went to admin" in text
    assert "Satisfaction (score 0-100): Resident satisfaction" in text
    # the lever ranking from the roles: entry control within the reform lowers burden by 10 pp
    # (reform 30% against 40% without it), and alone by 10 pp (50% against 60%)
    assert re.search(r"entry control (\+(9|10)\.\d ){2}", text)
    assert re.search(r"Lever ranking ?: what each lever brings", text) and "disagree" not in text


def test_lever_ranking_flags_levers_whose_two_estimates_disagree(tmp_path):
    # d (the lever alone) raises burden while removing it from b (the focus) also raises it
    means = {"a": 0.60, "b": 0.30, "c": 0.40, "d": 0.70}
    roles = {"reference": "a", "focus": "b", "ablations": {"x": "c"}, "added_alone": {"x": "d"}}
    make_store(tmp_path, crn_values(means, n=4), levels=("district",), roles=roles)
    out = build_report(tmp_path, kinds=["tradeoff"])
    text = section_text(out.read_text(encoding="utf-8"), "summary")
    assert "\u26a0" in text and "x, admin burden: improves it within the reform" in text
    assert re.search(r"x \u26a0 \+(9|10)\.\d \u2212(9|10)\.\d", text)


def test_neutral_names_give_the_same_report(report, tmp_path):
    """Roles, not names: the same store with scenarios called a, b, c, d gives the same sections
    and the same first screen, with only the names changed."""
    out, page, _ = report
    names = dict(zip(FOUR_ROLES_NAMES, "abcd", strict=True))
    means = {"a": 0.60, "b": 0.30, "c": 0.40, "d": 0.50}
    roles = {"reference": "a", "focus": "b", "ablations": {"entry_control": "c"},
             "added_alone": {"entry_control": "d"}}  # fmt: skip
    make_store(
        tmp_path / "r", crn_values(means, n=4), street_offsets={"b": {"玉林": 0.03}}, roles=roles
    )
    sens = tmp_path / "sens"
    X = morris_sample.sample(salib_problem(FACTORS), 4, num_levels=4, seed=1)
    _store(sens, X, 1, "morris")
    neutral = build_report(tmp_path / "r", sensitivity_dir=sens, kinds=["sensitivity", "tradeoff"])
    html_a, html_b = out.read_text(encoding="utf-8"), neutral.read_text(encoding="utf-8")
    page_b = Page()
    page_b.feed(html_b)
    assert [i for i in page.ids if i in SECTIONS] == [i for i in page_b.ids if i in SECTIONS]
    expected = section_text(html_a, "summary")
    for old, new in names.items():
        expected = expected.replace(old.replace("_", " "), new)
    assert section_text(html_b, "summary") == expected
    assert "b without entry control" in section_text(html_b, "headline")


FOUR_ROLES_NAMES = [
    "baseline_2013",
    "wuhou_reform",
    "reform_minus_entry_control",
    "baseline_plus_entry_control",
]


def test_without_roles_the_first_setting_is_the_reference_and_no_lever_is_ranked(tmp_path):
    make_store(tmp_path, crn_values({"p": 0.6, "q": 0.3}, n=3), levels=("district",))
    out = build_report(tmp_path, kinds=["tradeoff"])
    text = section_text(out.read_text(encoding="utf-8"), "summary")
    assert "In 2014, q improves admin burden" in text and "against p" in text
    assert "Lever ranking" not in text


def test_report_prints_progress(report):
    _, _, messages = report
    assert messages[0].startswith("[1/5]") and messages[-1].startswith("wrote ")


def test_report_rejects_a_bad_sensitivity_dir_before_working(tmp_path):
    make_store(tmp_path / "r", {"a": np.array([0.5, 0.6])}, levels=("district",))
    make_store(tmp_path / "s", {"a": np.array([0.5, 0.6])}, levels=("district",))
    with pytest.raises(UserError, match="allowed: the results of a morris or sobol design"):
        build_report(tmp_path / "r", sensitivity_dir=tmp_path / "s")
    assert not (tmp_path / "r" / "tables").exists()
