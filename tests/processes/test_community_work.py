import numpy as np

from ..conftest import finished_run


def test_hours_add_up_under_heavy_overload():
    # Items at ten times their workload: staff work the overtime cap, never beyond it.
    m = finished_run("baseline_2013", 2, ("params.hours_per_item=95",))
    c = m.results()["community"]
    assert (c["staff_hours_used"] <= c["staff_hours_available"] + 1e-9).all()
    assert np.isclose(c["staff_hours_used"], c["staff_hours_available"]).mean() > 0.9
    assert (c["backlog_hours"] > 0).all() and (c["staff_burnout"].iloc[-87:] > 0.9).all()
