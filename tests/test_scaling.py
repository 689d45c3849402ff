"""Scaling Wuhou-sized scenarios to another district, and levers checked against the district."""

import numpy as np
import pytest

from sim.errors import ScenarioError
from sim.params import Params, Policy
from sim.scaling import REFERENCE_PER_RESIDENT, REFERENCE_SIZE, scale_value, scaled_fields
from sim.scenario import load_scenario

from .conftest import ROOT, SCENARIOS

FIVE = ROOT / "tests" / "data" / "five_streets.csv"  # 5 streets, 25 communities, 244,446 residents


def small_reform(tmp_path, extra=""):
    path = tmp_path / "five.toml"
    path.write_text(
        f'name = "five"\nextends = "{SCENARIOS / "wuhou_reform.toml"}"\n'
        f'[district]\nsource = "{FIVE}"\n{extra}',
        encoding="utf-8",
    )
    return path


def test_every_district_wide_quantity_declares_its_scaling():
    # budgets, organization and worker counts, brand agencies, centres: Wuhou's, scaled
    assert scaled_fields(Policy) == {
        "purchase_budget": "residents",
        "project_budget": "residents",
        "service_centres": "communities",
        "service_centre_streets": "streets",
        "incubation_centres": "residents",
        "brand_agencies": "residents",
    }
    assert set(scaled_fields(Params)) >= {
        "initial_agencies",
        "initial_pool",
        "graduates_per_year",
        "switchers_per_month",
        "other_orgs_initial",
    }
    # departments are district-wide but deliberately not scaled, and say why
    extra = Params.model_fields["n_departments"].json_schema_extra
    assert "scale" not in extra and extra["scale_note"]


def test_wuhou_is_the_reference_and_nothing_changes():
    sc = load_scenario(SCENARIOS / "wuhou_reform.toml")
    assert sc.scaling.mode == "reference" and sc.scaling.changes == () and not sc.scaling.warnings
    assert sc.scaling.factors == {"residents": 1.0, "communities": 1.0, "streets": 1.0}
    assert sc.params == Params.model_validate(sc.definition.get("params", {}))


def test_csv_district_scales_budgets_per_resident_to_wuhous(tmp_path):
    sc = load_scenario(small_reform(tmp_path))
    ref = load_scenario(SCENARIOS / "wuhou_reform.toml")
    residents = 244_446
    assert sc.scaling.mode == "residents" and sc.scaling.district["residents"] == residents
    for step in range(sc.months):
        p, w = sc.schedule.at(step), ref.schedule.at(step)
        assert p.purchase_budget / residents == pytest.approx(w.purchase_budget / 1_260_000)
        assert p.project_budget / residents == pytest.approx(w.project_budget / 1_260_000)
        assert p.service_centre_streets <= 5 and p.service_centres <= 25
        assert (p.brand_agencies > 0) == (w.brand_agencies > 0)  # rounded, never to nothing
    f = residents / REFERENCE_SIZE["residents"]
    assert sc.params.switchers_per_month == pytest.approx(ref.params.switchers_per_month * f)
    assert sc.params.initial_agencies == round(ref.params.initial_agencies * f)
    assert not sc.scaling.warnings
    # the summary and manifest say what was scaled
    text = "\n".join(sc.scaling.summary())
    assert "scaled from Wuhou" in text and "policy.purchase_budget" in text
    manifest = sc.scaling.to_dict()
    assert manifest["scaled"]["params.initial_pool"] == {"wuhou": 40, "scaled": 8}


def test_scale_none_takes_values_as_given_and_warns_on_budgets_per_resident(tmp_path):
    sc = load_scenario(small_reform(tmp_path, 'scale = "none"\n'))
    assert sc.schedule.policies[-1].purchase_budget == 37_530_000
    assert sc.params.initial_pool == 40
    warnings = sc.scaling.warnings
    assert (
        len(warnings) == 2 and "purchase_budget" in warnings[0] and "times Wuhou's" in warnings[0]
    )


@pytest.mark.parametrize(
    "factor, expected",
    [(4.0, None), (1 / 4, None), (2.9, ()), (1 / 2.9, ())],
)
def test_budget_warning_threshold_is_three_times(tmp_path, factor, expected):
    budget = REFERENCE_PER_RESIDENT["purchase_budget"] * 244_446 * factor
    sc = load_scenario(
        small_reform(tmp_path, 'scale = "none"\n[policy]\nproject_budget = 0\n'),
        [f"policy.purchase_budget={budget:.0f}"],
    )
    if expected is None:
        assert len(sc.scaling.warnings) == 1
    else:
        assert sc.scaling.warnings == expected


@pytest.mark.parametrize(
    "override, key, words",
    [
        ("policy.service_centre_streets=8", "policy.service_centre_streets", "5 streets"),
        ("policy.service_centres=26", "policy.service_centres", "25 communities"),
    ],
)
def test_levers_counting_streets_or_communities_are_never_clipped(tmp_path, override, key, words):
    path = small_reform(tmp_path, 'scale = "none"\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(path, [override])
    assert err.value.key == key and words in str(err.value)
    load_scenario(path, [override.replace("=8", "=5").replace("=26", "=25")])  # the limit is fine


def test_scaled_values_round_to_whole_numbers_and_keep_a_facility():
    assert scale_value(1, 0.2) == 1 and scale_value(0, 0.2) == 0
    assert scale_value(8, 0.2) == 2 and scale_value(9, 0.5) == 5  # half rounds up
    assert scale_value(30_850_000.0, 0.5) == 15_425_000.0
    assert scale_value(True, 0.5) is True  # not a quantity
    assert scale_value(np.int64(8), 0.5) == 4


def test_set_district_source_is_relative_to_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT / "tests")
    sc = load_scenario(SCENARIOS / "wuhou_reform.toml", ["district.source=data/five_streets.csv"])
    assert sc.district_source == str(FIVE)
    with pytest.raises(ScenarioError, match="paths in --set to the current directory"):
        load_scenario(SCENARIOS / "wuhou_reform.toml", ["district.source=five_streets.csv"])


def test_unspent_share_follows_scaling_not_district_size(tmp_path):
    """The mechanism: a district's organizations can absorb money in proportion to its size.
    Scaled to a district one fifth of Wuhou's, the reform leaves about Wuhou's share unspent;
    Wuhou's budgets unscaled leave far more unspent (no agency can take it on)."""
    from sim.model import DistrictModel

    def unspent_share(scenario):
        model = DistrictModel(scenario, rng=1)
        model.run_for(scenario.months)
        books = model.budget_books()
        books = books[books["year"] >= 2014]
        return books["purchase_unspent"].sum() / books["purchase_appropriated"].sum()

    wuhou = unspent_share(load_scenario(SCENARIOS / "wuhou_reform.toml"))
    scaled = unspent_share(load_scenario(small_reform(tmp_path)))
    unscaled = unspent_share(load_scenario(small_reform(tmp_path), ["district.scale=none"]))
    assert abs(scaled - wuhou) < 0.15
    assert unscaled > scaled + 0.2
