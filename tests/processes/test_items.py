from ..conftest import finished_run


def test_without_entry_control_no_item_is_refused_or_withheld(baseline):
    c = baseline.results()["community"]
    assert c["items_refused"].sum() == 0 and c["items_withheld"].sum() == 0
    assert c["items_funded"].sum() == 0


def test_entry_control_refuses_only_from_its_start(reform):
    d = reform.results()["district"]
    assert d.loc[d["month"] < "2013-10", "items_refused"].sum() == 0
    assert (d.loc[d["month"] >= "2013-10", "items_refused"] > 0).all()


def test_issuers_learn_to_comply_under_entry_control(reform, baseline):
    assert reform.issuers.compliance.mean() > baseline.issuers.compliance.mean()


def test_stronger_enforcement_refuses_more_and_lowers_burden():
    weak = finished_run(
        "baseline_2013", 3, ("policy.entry_control=true", "policy.entry_enforcement=0.2")
    )
    strong = finished_run(
        "baseline_2013", 3, ("policy.entry_control=true", "policy.entry_enforcement=1.0")
    )
    dw, ds = weak.results()["district"], strong.results()["district"]
    assert ds["items_refused"].sum() > dw["items_refused"].sum()
    assert ds["admin_burden"].iloc[-12:].mean() < dw["admin_burden"].iloc[-12:].mean()
