import tomllib

import pandas as pd
import pytest

from sim import load_scenario
from sim.calibration.fit import calibrate, write_fitted_scenario
from sim.calibration.targets import load_targets
from sim.cli import main
from sim.experiment.executors import SerialExecutor

from .helpers import tiny_targets


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cal")
    targets = load_targets(tiny_targets(tmp))
    summary = calibrate(targets, tmp / "out", SerialExecutor(), progress=False)
    return tmp, targets, summary


def test_tiny_calibration_end_to_end(tiny):
    tmp, targets, summary = tiny
    trace = pd.read_parquet(tmp / "out" / "trace.parquet")
    # DE: an initial population and one generation (scipy keeps at least 5 candidates)
    sizes = trace.groupby("batch").size()
    assert len(sizes) == 2 and sizes.iloc[0] == sizes.iloc[1] >= 4
    assert summary["population"] == sizes.iloc[0]
    assert summary["best_distance"] == trace["distance"].min()
    for p in targets.parameters:
        assert trace[p.name].between(p.low, p.high).all()
    assert set(summary["best_target_means"]) == {"orgs", "burden_change"}
    path = write_fitted_scenario(summary, tmp / "fit.toml", "sanshe calibrate tiny.toml")
    fitted = load_scenario(path)  # a scenario that `sanshe run` accepts
    assert fitted.params.group_formation_rate == pytest.approx(
        summary["best_params"]["params.group_formation_rate"]
    )
    raw = tomllib.loads(path.read_text())
    assert "sanshe calibrate tiny.toml" in raw["description"] and "extends" in raw


def test_calibration_is_reproducible_and_resumes_from_its_store(tiny, tmp_path):
    tmp, targets, summary = tiny
    again = calibrate(
        targets, tmp / "out", SerialExecutor(), progress=False
    )  # same store: all cached
    assert again["best_params"] == summary["best_params"]
    fresh = calibrate(targets, tmp_path / "other", SerialExecutor(), progress=False)  # from scratch
    assert fresh["best_params"] == summary["best_params"]
    a = pd.read_parquet(tmp / "out" / "trace.parquet").drop(columns="batch_dir")
    b = pd.read_parquet(tmp_path / "other" / "trace.parquet").drop(columns="batch_dir")
    pd.testing.assert_frame_equal(a, b)


def test_validate_fit_and_screen_commands(tiny, capsys):
    tmp, targets, summary = tiny
    fit = write_fitted_scenario(summary, tmp / "fit.toml", "test")
    doc = tmp / "validation.md"
    doc.write_text("x\n<!-- BEGIN fit-table -->\nold\n<!-- END fit-table -->\n"
                   "<!-- BEGIN screening -->\nold\n<!-- END screening -->\n")  # fmt: skip
    out = tmp / "v"
    args = [
        targets.path,
        "--scenario",
        str(fit),
        "--out",
        str(out),
        "--executor",
        "serial",
        "--quiet",
    ]
    assert main(["validate-fit", *args, "--docs", str(doc)]) == 0
    table = pd.read_csv(out / "validation.csv")
    assert list(table["target"]) == ["orgs", "burden_change"]
    assert (table["replications"] == 3).all() and set(table["within_tolerance"]) <= {"yes", "no"}
    assert (table["ci_low"] <= table["simulated_mean"]).all()
    assert (out / "validation.png").stat().st_size > 10_000
    text = doc.read_text()
    assert "| orgs |" in text and "old\n<!-- END fit-table" not in text
    assert (
        main(
            [
                "screen",
                targets.path,
                "--out",
                str(out),
                "--executor",
                "serial",
                "--quiet",
                "--docs",
                str(doc),
            ]
        )
        == 0
    )
    morris = pd.read_csv(out / "screening" / "morris.csv")
    assert set(morris["parameter"]) == {"group_formation_rate", "switchers_per_month"}
    assert (morris["mu_star"] >= 0).all() and "target orgs" in set(morris["output"])
    assert "switchers_per_month" in doc.read_text()
    capsys.readouterr()


def test_bad_targets_file_exits_2(tmp_path, capsys):
    path = tmp_path / "t.toml"
    path.write_text("[[target]]\nname = 3\n")
    assert main(["calibrate", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "target[0].name" in capsys.readouterr().err
