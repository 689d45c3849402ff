import re

import pytest

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
