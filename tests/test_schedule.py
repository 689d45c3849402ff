import pytest

from sim.errors import ScenarioError
from sim.schedule import PolicySchedule, format_month, parse_month

START = parse_month("2013-01")


def test_month_round_trip():
    assert format_month(parse_month("2013-10")) == "2013-10"
    assert parse_month("2014-01") - parse_month("2013-12") == 1
    for bad in ("2013-13", "2013-1", "13-01", "2013/01"):
        with pytest.raises(ValueError):
            parse_month(bad)


def test_timeline_values_hold_until_the_next_date():
    s = PolicySchedule.build(
        {"purchase_budget": {"2013-01": 0, "2014-01": 30_850_000, "2015-01": 37_310_000}}, START, 36
    )
    assert s.at(0).purchase_budget == 0
    assert s.at(11).purchase_budget == 0
    assert s.at(12).purchase_budget == 30_850_000
    assert s.at(35).purchase_budget == 37_310_000
    assert s.changed(12, "purchase_budget") and not s.changed(13, "purchase_budget")
    assert s.at(100) == s.at(35)  # the last policy holds after the end


def test_changed_compares_each_lever_with_the_month_before():
    # changed/changed_any against the definition (the lever's value differs from the previous
    # month's), over every step of a timeline where several levers move, some in the same month
    # and one back to an earlier value; out-of-range steps never change, step 0 always does.
    s = PolicySchedule.build(
        {
            "purchase_budget": {"2013-01": 0, "2014-01": 30_850_000, "2015-01": 37_310_000},
            "project_budget": {"2013-01": 0, "2014-01": 4_150_000},
            "entry_control": {"2013-01": False, "2013-10": True, "2014-06": False},
        },
        START,
        36,
    )
    levers = ("purchase_budget", "project_budget", "entry_control", "catalogue_size")
    for step in range(-2, 38):
        want = {
            lever: step == 0
            or (
                0 < step < 36
                and getattr(s.policies[step], lever) != getattr(s.policies[step - 1], lever)
            )
            for lever in levers
        }
        assert {lever: s.changed(step, lever) for lever in levers} == want
        assert s.changed_any(step, levers) == any(want.values())
        assert s.changed_any(step, levers[2:]) == (want["entry_control"] or step == 0)
        assert not s.changed_any(step, ())
    assert [t for t in range(36) if s.changed(t, "entry_control")] == [0, 9, 17]
    assert [t for t in range(36) if s.changed_any(t, levers[:2])] == [0, 12, 24]


def test_scalar_lever_is_constant_and_others_keep_defaults():
    s = PolicySchedule.build({"entry_control": True}, START, 12)
    assert all(p.entry_control for p in s.policies)
    assert all(p.purchase_budget == 0 for p in s.policies)


@pytest.mark.parametrize(
    "raw, key",
    [
        ({"nope": 1}, "policy.nope"),
        ({"entry_enforcement": 2.0}, "policy.entry_enforcement"),
        ({"entry_enforcement": {"2014-01": 0.5}}, "policy.entry_enforcement"),
        (
            {"entry_enforcement": {"2013-01": 0.5, "2014-01": "high"}},
            "policy.entry_enforcement.2014-01",
        ),
        ({"entry_enforcement": {"Jan 2013": 0.5}}, "policy.entry_enforcement.Jan 2013"),
        ({"entry_enforcement": {}}, "policy.entry_enforcement"),
    ],
)
def test_bad_timelines_name_the_key(raw, key):
    with pytest.raises(ScenarioError) as err:
        PolicySchedule.build(raw, START, 12, where="x.toml")
    assert err.value.key == key
    assert str(err.value).startswith("x.toml: ")
