import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from SALib.sample import morris as morris_sample

from sim.analysis.report import SECTIONS, build_report
from sim.analysis.sensitivity import salib_problem
from sim.errors import UserError

from .helpers import crn_values, make_store
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


def test_report_states_the_headline_numbers(report):
    _, page, _ = report
    text = " ".join(page.text)
    # admin burden 30% vs 60%: a 30 pp fall (CRN shared noise cancels in the difference)
    assert re.search(r"admin burden\s*: 30\.\d% against 60\.\d%; difference \u221230\.\d pp", text)
    assert re.search(r"without\s*entry control\s*: admin burden \+(9|10)\.\d pp", text)


def test_report_prints_progress(report):
    _, _, messages = report
    assert messages[0].startswith("[1/5]") and messages[-1].startswith("wrote ")


def test_report_rejects_a_bad_sensitivity_dir_before_working(tmp_path):
    make_store(tmp_path / "r", {"a": np.array([0.5, 0.6])}, levels=("district",))
    make_store(tmp_path / "s", {"a": np.array([0.5, 0.6])}, levels=("district",))
    with pytest.raises(UserError, match="allowed: the results of a morris or sobol design"):
        build_report(tmp_path / "r", sensitivity_dir=tmp_path / "s")
    assert not (tmp_path / "r" / "tables").exists()


def test_calibration_caveats_list_misses_and_influential_parameters(tmp_path):
    from sim.analysis.report import calibration_caveats

    (tmp_path / "screening").mkdir()
    pd.DataFrame(
        {
            "target": ["orgs", "spend_2014"],
            "facts": ["A13", "A5"],
            "observed": ["1,450 ± 100", "30,850,000 ± 3,085,000"],
            "simulated_mean": [1431.0, 26_380_858.0],
            "replications": [30, 30],
            "within_tolerance": ["yes", "no"],
        }
    ).to_csv(tmp_path / "validation.csv", index=False)
    pd.DataFrame(
        {
            "output": ["target orgs", "target orgs", "service_quality (2016, reform)"],
            "parameter": ["group_formation_rate", "switchers_per_month", "participation_max"],
            "mu_star": [4000.0, 10.0, 0.04],
            "rank": [1, 2, 1],
        }
    ).to_csv(tmp_path / "screening" / "morris.csv", index=False)
    fit, screening = calibration_caveats(tmp_path)
    assert "1 of 2 targets met on 30 fresh seeds" in fit and "spend_2014 (A5)" in fit
    assert "orgs (A13)" not in fit
    assert "group_formation_rate (orgs)" in screening
    assert "participation_max (service_quality (2016, reform))" in screening
    assert "switchers_per_month" not in screening
    assert "docs/validation.md" in calibration_caveats(None)[0]
    with pytest.raises(UserError, match="--calibration"):
        calibration_caveats(tmp_path / "nowhere")
