import pandas as pd
import pytest

from sim.calibration.caveats import calibration_caveats, open_targets, target_checks
from sim.errors import UserError

from ..conftest import ROOT


def test_calibration_caveats_list_misses_and_influential_parameters(tmp_path):
    (tmp_path / "screening").mkdir()
    pd.DataFrame(
        {
            "target": ["orgs", "spend_2014"],
            "facts": ["A13", "A5"],
            "observed": ["1,450 ± 100", "30,850,000 ± 3,085,000"],
            "simulated_mean": [1431.0, 26_380_858.0],
            "replications": [30, 30],
            "within_tolerance": ["yes", "no"],
        }
    ).to_csv(tmp_path / "validation.csv", index=False)
    pd.DataFrame(
        {
            "output": ["target orgs", "target orgs", "service_quality (2016, reform)"],
            "parameter": ["group_formation_rate", "switchers_per_month", "participation_max"],
            "mu_star": [4000.0, 10.0, 0.04],
            "rank": [1, 2, 1],
        }
    ).to_csv(tmp_path / "screening" / "morris.csv", index=False)
    fit, screening = calibration_caveats(tmp_path)
    assert "1 of 2 targets met on 30 fresh seeds" in fit and "spend_2014 (A5)" in fit
    assert "orgs (A13)" not in fit
    assert "group_formation_rate (orgs)" in screening
    assert "participation_max (service_quality (2016, reform))" in screening
    assert "switchers_per_month" not in screening
    assert "docs/validation.md" in calibration_caveats(None)[0]
    with pytest.raises(UserError, match="--calibration"):
        calibration_caveats(tmp_path / "nowhere")


def _district(n_orgs: float, burden: float, reps: int = 4) -> pd.DataFrame:
    months = [f"{y}-{m:02d}" for y in (2015, 2016) for m in range(1, 13)]
    rows = [
        {
            "replication": r,
            "month": mo,
            "year": int(mo[:4]),
            "n_orgs": n_orgs + r,
            "admin_burden": burden + 0.001 * r,
            "purchase_spend": 3e6,
        }
        for r in range(reps)
        for mo in months
    ]
    return pd.DataFrame(rows)


def test_target_checks_compare_stored_rows_with_the_observed_values():
    targets = open_targets(ROOT / "scenarios" / "targets" / "wuhou.toml")
    focus, reference = _district(1440.0, 0.25), _district(400.0, 0.60)
    lines = target_checks(targets, focus, reference, ("the reform", "no reform"))
    text = " ".join(lines)
    # A13: 1,441.5 on average against 1,450 ± 100 (observed value read from the targets file)
    orgs = next(line for line in lines if "(A13;" in line)
    assert "the reform gives 1,442 [" in orgs and "1,450 ± 100" in orgs and "within" in orgs
    # A5, 2016: 12 x 3 M = 36 M against 37.53 M ± 10%; 2014 is not stored, so not checked
    spend = [line for line in lines if "(A5;" in line]
    assert len(spend) == 2 and all("36,000,000" in line for line in spend)
    # A15 difference: burden falls by about 0.35, inside the range -0.5 to -0.1
    assert "the reform minus no reform gives -0.35" in text
    # quantities not stored (service centres) are listed as not checked, not invented
    assert "(A11;" not in text and "Not checked" in lines[-1] and "service_centres" in lines[-1]


def test_target_checks_say_outside_when_a_value_misses():
    targets = open_targets(ROOT / "scenarios" / "targets" / "wuhou.toml")
    frame = _district(900.0, 0.3).drop(columns=["purchase_spend", "admin_burden"])
    lines = target_checks(targets, frame, None, ("r", "c"))
    assert len(lines) == 2 and "outside the tolerance" in lines[0] and "(A13;" in lines[0]
    assert "burden_change_2016" in lines[1]  # a difference target without a reference


def test_open_targets_rejects_a_bad_targets_file(tmp_path):
    bad = tmp_path / "t.toml"
    bad.write_text('[[target]]\nname = "x"\nquantity = "n_orgs"\nwhen = "2016"\nfacts = "A1"\n'
                   'why = "w"\nobserved = 1\ntolerance = 1\n')  # fmt: skip
    with pytest.raises(UserError, match="statistic 'value'"):
        open_targets(bad)


def test_open_targets_takes_text_paths_and_names_a_missing_file(tmp_path):
    targets = open_targets(str(ROOT / "scenarios" / "targets" / "wuhou.toml"))
    assert any(t.facts == "A13" and t.observed == 1450 for t in targets.targets)
    with pytest.raises(UserError, match=r"nowhere\.toml"):
        open_targets(str(tmp_path / "nowhere.toml"))
