"""The need-type module: one order, used by every need-indexed array."""

import pytest

from sim.needs import N_NEEDS, NEED_INDEX, NEED_TYPES, need_index


def test_need_types_are_the_five_of_issue_10_in_order() -> None:
    assert NEED_TYPES == ("elderly", "children", "disabled", "low_income", "migrants")
    assert N_NEEDS == 5
    assert [need_index(n) for n in NEED_TYPES] == list(range(N_NEEDS))
    assert {n: i for i, n in enumerate(NEED_TYPES)} == NEED_INDEX


def test_unknown_need_type_names_the_allowed_ones() -> None:
    with pytest.raises(KeyError, match="allowed: elderly, children"):
        need_index("students")
