import re

import numpy as np
import pytest

from sim.dashboard.district_view import (
    METRICS,
    NO_DATA,
    cell_colors,
    color_range,
    community_frame,
    community_lines,
    district_svg,
)
from sim.dashboard.setting import DashboardModel

from .conftest import REFORM, SCENARIOS


@pytest.fixture(scope="module")
def run():
    m = DashboardModel(scenario_file=str(REFORM), seed=1)
    m.run_for(12)
    return m


def test_one_row_per_community_with_the_last_month_of_the_results(run):
    frame = community_frame(run)
    assert len(frame) == 87 and frame["street"].nunique() == 13
    last = run.results()["community"].query("step == 12").reset_index(drop=True)
    for column in ("admin_burden", "service_quality", "satisfaction", "residents"):
        np.testing.assert_allclose(frame[column], last[column])
    assert (frame["month"] == "2013-12").all()
    # a community's place in the schematic: its street's row, its rank within the street
    for _, group in frame.groupby("street_index"):
        assert list(group["position"]) == list(range(len(group)))


def test_before_the_first_month_only_the_structure_is_known():
    frame = community_frame(DashboardModel(scenario_file=str(REFORM), seed=1))
    assert frame["admin_burden"].isna().all() and (frame["residents"] > 0).all()
    assert set(cell_colors(frame, "admin_burden")) == {NO_DATA}
    assert "not run yet" in community_lines(frame.iloc[0].to_dict())[-1]


@pytest.mark.parametrize("metric", list(METRICS))
def test_cells_are_coloured_by_the_chosen_outcome(run, metric):
    frame = community_frame(run)
    colors = cell_colors(frame, metric)
    assert len(colors) == 87 and NO_DATA not in colors
    # same value, same colour; the highest and lowest communities differ
    hi, lo = frame[metric].idxmax(), frame[metric].idxmin()
    assert colors[hi] != colors[lo]
    assert color_range(frame, metric, stretch=False) == (0.0, 1.0)
    lo_v, hi_v = color_range(frame, metric, stretch=True)
    assert lo_v == frame[metric].min() and hi_v == frame[metric].max()


def test_svg_has_a_cell_with_numbers_for_every_community(run):
    frame = community_frame(run)
    svg = district_svg(frame, "service_quality")
    cells = re.findall(
        r'<rect class="sanshe-community" data-community="([^"]+)" data-value="([^"]*)"', svg
    )
    assert [c for c, _ in cells] == list(frame["community"])
    assert [float(v) for _, v in cells] == pytest.approx(list(frame["service_quality"]), abs=1e-3)
    first = frame.iloc[0]
    assert f"<title>{first['community']} ({first['street']}), 2013-12\nadmin burden: " in svg
    assert "Service quality (score 0-100) — 2013-12" in svg  # the output table's label and unit
    assert ">浆洗街 Jiangxijie</text>" in svg  # Chinese street name with its pinyin
    assert 'class="sanshe-legend-high">100.0</text>' in svg  # the scale in display units
    assert "service quality (score 0-100), higher is better" in svg


def test_a_csv_district_is_drawn_too():
    m = DashboardModel(scenario_file=str(SCENARIOS / "example_csv_district.toml"), seed=1)
    m.run_for(2)
    frame = community_frame(m)
    assert len(frame) == 12 and frame["street"].nunique() == 3
    assert district_svg(frame).count('class="sanshe-community"') == 12


def test_the_picture_fits_half_the_page_and_names_streets_in_the_embedded_font(run):
    svg = district_svg(community_frame(run), "admin_burden")
    width = int(re.search(r'<svg [^>]*width="(\d+)"', svg).group(1))
    assert width <= 480  # the grid's half-width cell at 1400 px: nothing of the legend is cut off
    xs = [int(x) for x in re.findall(r'<text x="(\d+)"', svg)]
    assert max(xs) + 65 <= width  # the last legend text ("no value yet", ~62 px) fits inside
    assert re.search(r"font-family=\"'Sanshe CJK Subset', sans-serif\"", svg)
    assert ">no value yet</text>" in svg
