import numpy as np
import pandas as pd
import pytest

from sim import DistrictModel, ScenarioError, load_scenario
from sim.agents import (
    BrandAgency,
    Community,
    Department,
    GrassrootsGroup,
    Residents,
    SocialWorker,
    Street,
)

from .conftest import SCENARIOS, finished_run


def test_interface_from_the_issue(reform_results):
    assert set(reform_results) == {"district", "street", "community"}
    d, s, c = reform_results["district"], reform_results["street"], reform_results["community"]
    assert len(d) == 48 and len(s) == 48 * 13 and len(c) == 48 * 87
    assert d["month"].iloc[0] == "2013-01" and d["month"].iloc[-1] == "2016-12"
    for level in (d, s, c):
        for col in ("admin_burden", "service_coverage", "service_quality", "satisfaction"):
            assert level[col].between(0, 1).all(), col
    for col in ("n_orgs", "n_social_workers", "purchase_spend", "items_refused"):
        assert col in d


def test_same_seed_same_tables():
    sc = load_scenario(SCENARIOS / "wuhou_reform.toml")
    runs = []
    for _ in range(2):
        m = DistrictModel(sc, rng=7)
        m.run_for(24)
        runs.append(m.results())
    for level in ("district", "street", "community"):
        pd.testing.assert_frame_equal(runs[0][level], runs[1][level])


def listed_items(model: DistrictModel) -> np.ndarray:
    """Items on the lists as they were before entry control, issued this month, per community:
    what is issued less the unlisted outcomes and less the types listed at a review since (list
    creep, model v2; drawn from the "entry" stream, funded ones among the funded items)."""
    c = model.communities
    given_up = c.items_refused - c.items_refunded
    unlisted = c.items_funded + c.items_withheld + c.items_unlisted_accepted + given_up
    return c.items_issued - unlisted - c.items_crept


def test_streams_are_separate_so_a_lever_does_not_shift_other_processes_draws():
    # Common random numbers: listed items are drawn from the "items" stream, entry control from
    # the "entry" stream. Switching entry control on draws more from "entry" but leaves every
    # month's listed items as they were; another seed gives other items.
    sc = load_scenario(SCENARIOS / "baseline_2013.toml")
    runs = {
        key: DistrictModel(sc, rng=seed, entry_control=control)
        for key, seed, control in (("off", 3, False), ("on", 3, True), ("other", 4, False))
    }
    same = differ = 0
    for _ in range(12):
        listed = {}
        for key, m in runs.items():
            m.step()
            listed[key] = listed_items(m)
        assert runs["on"].communities.items_refused.sum() > 0  # entry control did draw
        same += np.array_equal(listed["off"], listed["on"])
        differ += not np.array_equal(listed["off"], listed["other"])
    assert same == 12 and differ == 12


def test_seed_sequence_is_recorded_and_reproduces():
    child = np.random.SeedSequence(12345).spawn(3)[2]
    a = DistrictModel(rng=child)
    assert a.seed_info == {"entropy": 12345, "spawn_key": [2]}
    a.run_for(6)
    b = DistrictModel(rng=np.random.SeedSequence(12345, spawn_key=(2,)))
    b.run_for(6)
    pd.testing.assert_frame_equal(a.results()["district"], b.results()["district"])


def test_levers_as_keyword_arguments():
    m = DistrictModel(rng=1, entry_control=True, purchase_budget=1e7, hours_per_item=5.0)
    assert m.policy.entry_control and m.policy.purchase_budget == 1e7
    assert m.params.hours_per_item == 5.0
    with pytest.raises(ScenarioError, match="not a policy lever"):
        DistrictModel(rng=1, no_such_lever=3)


def test_agents_are_mesa_agents_backed_by_table_rows(reform):
    by_type = reform.agents_by_type
    assert len(by_type[Community]) == 87 and len(by_type[Residents]) == 87
    assert len(by_type[Street]) == 13 and len(by_type[Department]) == 30
    assert len(by_type[BrandAgency]) == int((reform.orgs.alive & (reform.orgs.kind == 2)).sum())
    groups = by_type[GrassrootsGroup]
    assert len(groups) == int((reform.orgs.alive & (reform.orgs.kind == 0)).sum())
    g = next(iter(groups))
    assert g.capacity == reform.orgs.capacity[g.row] and g.alive
    workers = by_type[SocialWorker]
    assert len(workers) == int(reform.workers.alive.sum())
    employed = workers.select(lambda w: w.employer >= 0)
    assert len(employed) == reform.results()["district"]["n_social_workers"].iloc[-1]


def test_mesa_scenario_objects_are_refused_clearly():
    from mesa.experimental.scenarios import Scenario as MesaScenario

    with pytest.raises(TypeError, match="sim Scenario"):
        DistrictModel(scenario=MesaScenario(rng=1))


def test_run_stops_after_the_scenario_months():
    m = DistrictModel(load_scenario(SCENARIOS / "baseline_2013.toml", ["run.months=5"]), rng=1)
    m.run_model()
    assert m.steps == 5 and len(m.results()["district"]) == 5


def test_csv_district_runs():
    m = finished_run("example_csv_district", 1)
    c = m.results()["community"]
    assert c["community"].nunique() == 12 and c["street"].nunique() == 3
    assert (
        c.groupby("month")["residents"].sum().iloc[0]
        == pd.read_csv(SCENARIOS.parent / "data" / "example_district.csv")["residents"].sum()
    )


def test_street_and_district_aggregate_the_communities(reform_results):
    c, s, d = (reform_results[k] for k in ("community", "street", "district"))
    last = c[c["step"] == 48]
    assert d["admin_hours"].iloc[-1] == pytest.approx(last["admin_hours"].sum())
    assert d["admin_burden"].iloc[-1] == pytest.approx(
        last["admin_hours"].sum() / last["staff_hours_used"].sum()
    )
    assert s[s["step"] == 48]["served_hours"].sum() == pytest.approx(last["served_hours"].sum())
    assert d["residents"].iloc[0] == 1_260_000


def test_results_before_the_first_month_are_three_empty_tables():
    m = DistrictModel(load_scenario(SCENARIOS / "baseline_2013.toml"), rng=1)
    res = m.results()
    assert sorted(res) == ["community", "district", "street"]
    assert all(len(t) == 0 for t in res.values())
    m.step()
    res = m.results()
    assert len(res["district"]) == 1 and len(res["community"]) == len(m.communities)
