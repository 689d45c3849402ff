import tomllib

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import load_scenario
from sim.calibration.fit import calibrate, write_fitted_scenario
from sim.calibration.targets import load_targets
from sim.cli import main
from sim.experiment.executors import SerialExecutor
from sim.experiment.store import load_results

from .helpers import tiny_targets


class CountingExecutor(SerialExecutor):
    """Runs tasks in this process and counts them."""

    def __init__(self) -> None:
        self.tasks = 0

    def map_unordered(self, fn, tasks):
        for task in tasks:
            self.tasks += 1
            yield fn(task)


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
    # Same store: every run is read back, none is simulated again.
    counting = CountingExecutor()
    again = calibrate(targets, tmp / "out", counting, progress=False)
    assert counting.tasks == 0
    assert again["best_params"] == summary["best_params"]
    counting = CountingExecutor()
    fresh = calibrate(targets, tmp_path / "other", counting, progress=False)  # from scratch
    assert counting.tasks >= 2 * summary["population"]  # reform and counterfactual per candidate
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
    # The orgs target (reform, n_orgs in 2014-05) recomputed from the stored validation runs.
    runs = load_results(out / "validation", "district")
    orgs = runs[(runs["point"] == "p00000") & (runs["month"] == "2014-05")]["n_orgs"]
    assert len(orgs) == 3 and orgs.std() > 0
    half = stats.t.ppf(0.975, 2) * orgs.std(ddof=1) / np.sqrt(3)
    row = table.set_index("target").loc["orgs"]
    assert row["simulated_mean"] == pytest.approx(orgs.mean())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(
        (orgs.mean() - half, orgs.mean() + half)
    )
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
    # Groups formed are organizations counted: the formation rate moves the orgs target more
    # than the supply of career switchers does.
    orgs = morris[morris["output"] == "target orgs"].set_index("parameter")["mu_star"]
    assert orgs["group_formation_rate"] > 2 * orgs["switchers_per_month"], orgs
    assert "switchers_per_month" in doc.read_text()
    capsys.readouterr()


def test_bad_targets_file_exits_2(tmp_path, capsys):
    path = tmp_path / "t.toml"
    path.write_text("[[target]]\nname = 3\n")
    assert main(["calibrate", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "target[0].name" in capsys.readouterr().err
