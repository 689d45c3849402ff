import re

import numpy as np
import pytest

from sim.errors import ScenarioError
from sim.params import Params, Policy, field_table

FACTS_ID = re.compile(r"\b[ABC]\d{0,2}\b")


@pytest.mark.parametrize("cls", [Policy, Params])
def test_every_default_has_unit_and_source(cls):
    for row in field_table(cls):
        assert row["unit"], f"{row['name']} has no unit"
        src = row["source"]
        assert "assumption" in src or FACTS_ID.search(src) or re.search(r"\d{4}", src), (
            f"{row['name']}: source {src!r} is neither a FACTS id, a citation nor 'assumption'"
        )
        assert row["doc"], f"{row['name']} has no description"


@pytest.mark.parametrize("cls", [Policy, Params])
def test_numeric_fields_are_bounded_and_defaults_inside(cls):
    for row in field_table(cls):
        if row["type"] in ("int", "float"):
            assert row["min"] is not None and row["max"] is not None, row["name"]
            assert row["min"] <= row["default"] <= row["max"], row["name"]


def test_policy_defaults_are_the_pre_reform_district():
    p = Policy()
    assert not p.entry_control
    assert p.purchase_budget == 0 and p.project_budget == 0
    assert (p.registration_members, p.registration_capital) == (50, 30_000)  # B4
    assert p.registration_prior_approval
    assert p.brand_agencies == 0 and p.service_centres == 0


def test_unknown_and_mistyped_fields_are_refused():
    with pytest.raises(ValueError):
        Policy(entry_controll=True)
    with pytest.raises(ValueError):
        Policy(entry_control="yes")  # strict: no silent coercion
    with pytest.raises(ValueError):
        Params(hours_per_item=-1)


def test_numbers_from_python_tools_are_plain_values():
    assert Policy(service_centres=np.int64(5)).service_centres == 5
    assert type(Policy(service_centres=np.int64(5)).service_centres) is int
    assert Policy(registration_members=5.0).registration_members == 5
    assert Policy(entry_control=np.bool_(True)).entry_control is True
    assert Policy(entry_control=1).entry_control is True  # documented: 1 / 0 for on/off
    assert Policy(entry_control=0).entry_control is False
    assert Params(hours_per_item=np.float32(9.5)).hours_per_item == 9.5
    assert Policy(purchase_budget=np.int64(3)).purchase_budget == 3.0


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"registration_members": 5.5}, "5.5 is not valid: it should be a whole number"),
        ({"entry_control": 2}, "2 is not valid: it should be true or false"),
        ({"entry_control": 1.0}, "1.0 is not valid"),  # floats are not booleans
        ({"purchase_budget": np.float64("nan")}, "not a number (NaN) is not valid"),
        ({"purchase_budget": np.int64(-9000)}, "-9000 is not valid: it should be at least 0"),
    ],
)
def test_bad_numbers_get_plain_messages(kwargs, words):
    from sim.model import DistrictModel

    with pytest.raises(ScenarioError) as err:
        DistrictModel(rng=1, **kwargs)
    assert words in str(err.value) and "np." not in str(err.value)


def test_mesa_batch_run_over_numpy_ranges():
    import mesa

    from sim.model import DistrictModel

    rows = mesa.batch_run(
        DistrictModel,
        parameters={
            "service_centres": np.arange(0, 10, 9),
            "entry_control": [np.bool_(False), 1],
            "burn_in_months": [np.int64(0)],
        },
        max_steps=1,
        display_progress=False,
        rng=[1],
    )
    assert len(rows) == 4
    assert {(r["service_centres"], bool(r["entry_control"])) for r in rows} == {
        (0, False),
        (0, True),
        (9, False),
        (9, True),
    }


def test_ema_workbench_parameters_drive_the_model():
    ema = pytest.importorskip("ema_workbench")
    from sim.model import DistrictModel

    def district(service_centres, entry_control, purchase_budget):
        model = DistrictModel(
            rng=1,
            service_centres=service_centres,
            entry_control=entry_control,
            purchase_budget=purchase_budget,
            burn_in_months=0,
        )
        model.run_for(1)
        return {"centres": float(model.streets.service_centres.sum())}

    model = ema.Model("sanshe", function=district)
    model.uncertainties = [
        ema.IntegerParameter("service_centres", 0, 9),
        ema.BooleanParameter("entry_control"),
        ema.RealParameter("purchase_budget", 0, 3e7),
    ]
    model.outcomes = [ema.ScalarOutcome("centres")]
    experiments, outcomes = ema.perform_experiments(model, scenarios=4)
    assert (outcomes["centres"] == experiments["service_centres"].to_numpy()).all()


def test_field_label_is_the_first_clause_of_the_description_cut_to_width():
    from sim.params import Policy, field_label

    assert field_label(Policy, "entry_enforcement") == "Enforcement strength of entry control"
    long = field_label(Policy, "purchase_budget", width=30)
    assert len(long) <= 30 and long.endswith("…")
    assert field_label(Policy, "no_such_lever") == "no_such_lever"
