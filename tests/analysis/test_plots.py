import warnings

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection

from sim.analysis import fonts, plots
from sim.analysis.compare import compare
from sim.analysis.results import ResultSet
from sim.errors import UserError

from .helpers import FOUR_ROLES, crn_values, make_store

MEANS = {
    "baseline_2013": 0.60,
    "wuhou_reform": 0.30,
    "reform_minus_entry_control": 0.40,
    "baseline_plus_entry_control": 0.50,
}


@pytest.fixture(scope="module")
def rs(tmp_path_factory):
    root = tmp_path_factory.mktemp("plots")
    values = crn_values(MEANS, n=5)
    offsets = {"wuhou_reform": {"浆洗街": -0.05, "玉林": 0.04}}
    make_store(root, values, street_offsets=offsets, trend=0.002, roles=FOUR_ROLES)
    return ResultSet(root), values


def _legend_texts(fig):
    texts = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    for ax in fig.axes:
        if ax.get_legend() is not None:
            texts += [t.get_text() for t in ax.get_legend().get_texts()]
    return texts


def _fig_texts(fig):
    return [t.get_text() for t in fig.texts]


def test_setting_groups(rs):
    result, _ = rs
    ref = result.default_reference()
    groups = dict(plots.setting_groups(result, ref))
    assert [s.scenario for s in groups["main"]] == ["baseline_2013", "wuhou_reform"]
    assert [s.scenario for s in groups["ablations"]] == [
        "baseline_2013",
        "wuhou_reform",
        "reform_minus_entry_control",
    ]
    assert groups["single_levers"][-1].scenario == "baseline_plus_entry_control"


def test_reform_month_from_the_scenario_definitions(rs):
    result, _ = rs
    assert plots.reform_month(result) == "2013-10"


def test_timeseries_plots_the_replication_means(rs):
    result, values = rs
    ref = result.default_reference()
    settings = result.settings[:2]
    plot = plots.timeseries_figure(result, settings, ref, name="ts")
    fig = plot.figure
    ax = fig.axes[0]
    assert ax.get_title() == "admin burden"
    assert ax.get_ylabel() == "admin burden (%)"
    assert "month" in ax.get_xlabel()
    lines = [ln for ln in ax.get_lines() if ln.get_label() in ("baseline 2013", "wuhou reform")]
    assert len(lines) == 2
    steps = np.arange(1, 25)
    for line, scenario in zip(lines, ("baseline_2013", "wuhou_reform"), strict=True):
        expected = (values[scenario].mean() + 0.002 * (steps - 24)) * 100
        np.testing.assert_allclose(line.get_ydata(), expected, rtol=1e-9)
        x = pd.to_datetime(pd.Series(line.get_xdata()))
        assert x.iloc[0] == pd.Timestamp("2013-01-01") and x.iloc[-1] == pd.Timestamp("2014-12-01")
    assert len(ax.collections) == 2  # one CI band per setting
    band = ax.collections[1].get_paths()[0].vertices[:, 1]
    v = values["wuhou_reform"] * 100
    half = 2.776445105 * v.std(ddof=1) / np.sqrt(5)  # t(0.975, 4)
    assert band.max() == pytest.approx(v.mean() + half, rel=1e-6)
    reform = [ln for ln in ax.get_lines() if ln.get_linestyle() == ":"]
    x0 = reform[0].get_xdata()[0]
    x0 = mdates.num2date(x0) if isinstance(x0, float) else pd.Timestamp(x0)
    assert x0.strftime("%Y-%m") == "2013-10"
    legend = _legend_texts(fig)
    assert "baseline 2013 (reference)" in legend and "wuhou reform" in legend
    assert "reform starts (2013-10)" in legend
    assert [a.get_title() for a in fig.axes[:4]] == [
        "admin burden",
        "service coverage",
        "service quality",
        "satisfaction",
    ]
    assert fig.axes[2].get_ylabel() == "service quality (score 0-100)"
    # the caption is drawn in the figure (wrapped) and returned for the report
    assert " ".join(plot.caption.split()) in [" ".join(t.split()) for t in _fig_texts(fig)]
    assert plot.title in _fig_texts(fig)
    assert "95%" in plot.caption and "2013-10" in plot.caption


def test_text_is_at_least_9_points(rs):
    result, _ = rs
    plot = plots.timeseries_figure(result, result.settings[:2], result.default_reference())
    fig = plot.figure
    sizes = [t.get_fontsize() for t in fig.findobj(lambda a: hasattr(a, "get_fontsize"))]
    assert min(sizes) >= 9


def test_street_heatmap_data_labels_and_no_missing_glyphs(rs):
    result, values = rs
    cmp = compare(result, None, "street", "final", ["admin_burden", "service_quality"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would raise here
        plot = plots.street_heatmap(cmp, "admin_burden")
        plot.figure.canvas.draw()
        plots.save(plot, result.path / "figures")
    ax = plot.figure.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["浆洗街 Jiangxijie", "望江路 Wangjianglu", "玉林 Yulin"]
    xlabels = [t.get_text() for t in ax.get_xticklabels()]
    assert xlabels == ["wuhou reform", "wuhou reform without entry control", "entry control alone"]
    data = np.asarray(ax.images[0].get_array())
    d = (values["wuhou_reform"] - values["baseline_2013"]).mean()
    np.testing.assert_allclose(data[:, 0], np.array([d - 0.05, d, d + 0.04]) * 100, rtol=1e-9)
    assert ax.get_xlabel() == "setting" and ax.get_ylabel() == "street"
    assert plot.figure.axes[1].get_ylabel() == "change in admin burden (pp)"
    assert _legend_texts(plot.figure) == ["better", "worse"]
    assert (result.path / "figures" / "streets_admin_burden.png").stat().st_size > 10_000
    assert (result.path / "figures" / "streets_admin_burden.svg").is_file()


def test_pinyin_fallback_without_cjk_font(rs, monkeypatch):
    result, _ = rs
    latin = frozenset(range(32, 0x250)) | {0x2212, 0x2190, 0x2192, 0x3BC}
    monkeypatch.setattr(fonts, "covered_codepoints", lambda: latin)
    monkeypatch.setattr(plots, "font_families", lambda: [fonts.LATIN_FAMILY])
    cmp = compare(result, None, "street", "final", ["admin_burden"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot = plots.street_heatmap(cmp, "admin_burden")
        plot.figure.canvas.draw()
    labels = [t.get_text() for t in plot.figure.axes[0].get_yticklabels()]
    assert labels == ["Jiangxijie", "Wangjianglu", "Yulin"]


def test_community_distribution(rs):
    result, values = rs
    ref = result.default_reference()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot = plots.community_distribution(result, result.settings[:2], ref, at="final")
        plot.figure.canvas.draw()
    ax = plot.figure.axes[0]
    assert ax.get_title() == "service coverage"
    assert ax.get_ylabel() == "community service coverage (%)"
    points = [c for c in ax.collections if len(c.get_offsets()) == 6]
    assert len(points) == 2  # 6 communities per setting
    y = np.sort(points[1].get_offsets()[:, 1])
    base = values["wuhou_reform"].mean()
    expected = np.sort(np.array([base - 0.05] * 2 + [base] * 2 + [base + 0.04] * 2) * 100)
    np.testing.assert_allclose(y, expected, rtol=1e-9)
    assert _legend_texts(plot.figure) == ["baseline 2013", "wuhou reform"]
    assert "worse off" in plot.caption


def test_tradeoff_points_are_setting_means(rs):
    result, values = rs
    cmp = compare(result, None, "district", "final", ["admin_burden", "service_quality", "spend"])
    plot = plots.tradeoff_scatter(cmp)
    ax = plot.figure.axes[0]
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    offsets = np.array([c.get_offsets()[0] for c in points])
    expected = np.array([[v.mean() * 100, v.mean() * 100] for v in values.values()])
    np.testing.assert_allclose(offsets, expected, rtol=1e-9)
    assert ax.get_xlabel().startswith("admin burden (%)")
    assert ax.get_ylabel().startswith("service quality (score 0-100)")
    assert _legend_texts(plot.figure)[:2] == ["1  baseline 2013", "2  wuhou reform"]
    assert plot.figure.axes[1].get_ylabel() == "spend (M yuan/year)"


def test_response_curves_for_a_grid(tmp_path):
    values = crn_values({"a": 0.6, "b": 0.5, "c": 0.45}, n=4)
    design = {
        k: [{"design_purchase_budget_scale": x}]
        for k, x in zip(values, (0.0, 1.0, 2.0), strict=True)
    }
    factors = [
        {
            "key": "policy.purchase_budget",
            "column": "design_purchase_budget_scale",
            "values": [0.0, 1.0, 2.0],
            "min": None,
            "max": None,
            "scale": True,
        }
    ]
    make_store(
        tmp_path, values, levels=("district",), method="grid", design=design, factors=factors
    )
    result = ResultSet(tmp_path)
    assert [s.label for s in result.settings] == [
        "purchase_budget_scale=0",
        "purchase_budget_scale=1",
        "purchase_budget_scale=2",
    ]
    plot = plots.response_curves(result, at="final")
    ax = plot.figure.axes[0]
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_xdata(), [0.0, 1.0, 2.0])
    np.testing.assert_allclose(line.get_ydata(), [v.mean() * 100 for v in values.values()])
    assert ax.get_xlabel() == "purchase budget (× base scenario's value)"
    assert ax.get_ylabel() == "admin burden (%)"
    assert "95% CI band" in _legend_texts(plot.figure)


def test_sensitivity_bars():
    table = pd.DataFrame(
        {
            "outcome": ["admin_burden"] * 3,
            "factor": ["params.a", "params.b", "policy.c"],
            "rank": [1, 2, 3],
            "mu_star": [0.3, 0.2, 0.01],
            "mu_star_conf": [0.05, 0.04, 0.01],
            "mu": [0.3, -0.2, 0.0],
            "sigma": [0.1, 0.1, 0.0],
        }
    )
    plot = plots.sensitivity_bars(table, "morris")
    ax = plot.figure.axes[0]
    widths = [p.get_width() for p in ax.patches]
    np.testing.assert_allclose(widths, [1.0, 20.0, 30.0])  # smallest at the bottom, in pp
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c", "b", "a"]
    assert ax.get_xlabel() == "μ* (pp over the factor's range)"
    assert _legend_texts(plot.figure) == ["μ* with 95% bootstrap CI"]


def test_make_figures_saves_png_and_svg(rs):
    result, _ = rs
    made = plots.make_figures(result, kinds=["tradeoff"])
    assert [p.name for p in made] == ["tradeoff"]
    png = result.path / "figures" / "tradeoff.png"
    assert png.read_bytes()[:4] == b"\x89PNG" and made[0].png == png.read_bytes()
    assert (result.path / "figures" / "tradeoff.svg").read_text().lstrip().startswith("<?xml")
    assert made[0].paths == [png, result.path / "figures" / "tradeoff.svg"]
    with pytest.raises(UserError, match="--kind response: needs a grid design"):
        plots.make_figures(result, kinds=["response"])
    with pytest.raises(UserError, match="not a figure kind"):
        plots.make_figures(result, kinds=["pie"])
