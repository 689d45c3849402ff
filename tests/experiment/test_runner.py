import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from sim.cli import main
from sim.experiment.executors import LocalExecutor, SerialExecutor
from sim.experiment.runner import run_experiment
from sim.experiment.spec import ExperimentError, load_experiment
from sim.experiment.store import load_manifest, load_results

from ..conftest import ROOT
from .helpers import crash_one, fail_one, list_experiment

LEVELS = ("district", "street", "community")


def assert_same_results(a, b, levels=LEVELS):
    for level in levels:
        pd.testing.assert_frame_equal(load_results(a, level), load_results(b, level))


@pytest.fixture(scope="module")
def serial_reference(tmp_path_factory):
    """An uninterrupted serial sweep of the small experiment."""
    tmp = tmp_path_factory.mktemp("ref")
    exp = load_experiment(list_experiment(tmp, replications=4))
    report = run_experiment(exp, tmp / "out", SerialExecutor(), progress=False)
    assert report.ok and report.done == 8
    return exp, tmp / "out"


def test_store_holds_every_run_with_seeds_and_keys(serial_reference):
    _, out = serial_reference
    district = load_results(out, "district")
    assert set(district["scenario"]) == {"baseline_2013", "wuhou_reform"}
    assert district.groupby(["point", "replication"]).size().eq(6).all()  # 6 months each
    assert list(district.columns[:6]) == [
        "experiment",
        "scenario",
        "point",
        "replication",
        "seed_entropy",
        "seed_spawn_key",
    ]
    manifest = load_manifest(out)
    assert manifest["seeds"]["root_seed"] == 7 and manifest["status"] == "complete"
    assert [p["scenario"] for p in manifest["points"]] == ["baseline_2013", "wuhou_reform"]
    assert all(len(p["scenario_hash"]) == 16 for p in manifest["points"])
    assert manifest["n_done"] == 8 and {"started", "ended", "git_commit", "versions"} <= set(
        manifest
    )


def test_common_random_numbers_across_scenarios(serial_reference):
    _, out = serial_reference
    d = load_results(out, "community")
    seeds = d.groupby(["scenario", "replication"])["seed_spawn_key"].first().unstack(0)
    assert (seeds["baseline_2013"] == seeds["wuhou_reform"]).all()
    # Listed items come from the item stream alone, so replication r draws the very same listed
    # items in every scenario, month by month and community by community; the reform changes only
    # what happens to unlisted items (entry control, another stream). Items of unlisted types
    # listed at a review (list creep, model v2) come from that other stream too.
    unlisted = [
        "items_refused",
        "items_withheld",
        "items_funded",
        "items_unlisted_accepted",
        "items_crept",
    ]
    d = d.assign(listed=d["items_issued"] - d[unlisted].sum(axis=1) + d["items_refunded"])
    listed = d.set_index(["replication", "step", "community", "scenario"])["listed"].unstack()
    assert (listed["baseline_2013"] == listed["wuhou_reform"]).all()
    by_rep = listed["baseline_2013"].unstack("replication")
    assert (by_rep[0] != by_rep[1]).any()


def test_rerun_skips_finished_runs(serial_reference, capsys):
    exp, out = serial_reference
    report = run_experiment(exp, out, SerialExecutor(), progress=False)
    assert report.skipped == 8 and report.done == 0


def test_local_executor_equals_serial(serial_reference, tmp_path):
    exp, ref = serial_reference
    report = run_experiment(exp, tmp_path / "local", LocalExecutor(2), progress=False)
    assert report.ok
    assert_same_results(ref, tmp_path / "local")


def test_dask_local_cluster_equals_serial(serial_reference, tmp_path):
    pytest.importorskip("dask.distributed")
    exp, ref = serial_reference
    code = main(
        [
            "sweep",
            exp.path,
            "--executor",
            "dask",
            "--workers",
            "2",
            "--out",
            str(tmp_path / "dask"),
            "--quiet",
        ]
    )
    assert code == 0
    assert_same_results(ref, tmp_path / "dask")


def test_failing_run_is_recorded_and_the_others_finish(serial_reference, tmp_path):
    exp, ref = serial_reference
    out = tmp_path / "fail"
    report = run_experiment(exp, out, SerialExecutor(), progress=False, task_fn=fail_one)
    assert report.done == 7 and len(report.failed) == 1
    manifest = load_manifest(out)
    failed = [r for r in manifest["runs"] if r["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["run"] == "p00001-r00001"
    assert "deliberate failure" in failed[0]["error"] and "Traceback" in failed[0]["traceback"]
    assert manifest["status"] == "failed runs"
    # Rerunning retries the failed run only, and then the store equals an uninterrupted sweep.
    again = run_experiment(exp, out, SerialExecutor(), progress=False)
    assert again.done == 1 and again.skipped == 7 and again.ok
    assert_same_results(ref, out)


def test_a_worker_that_dies_takes_only_its_own_run(serial_reference, tmp_path):
    exp, _ = serial_reference
    report = run_experiment(
        exp, tmp_path / "crash", LocalExecutor(2), progress=False, task_fn=crash_one
    )
    failed = {f["run"] for f in report.failed}
    assert "p00000-r00002" in failed
    assert report.done >= 8 - len(failed) and report.done + len(failed) == 8
    statuses = {r["run"]: r["status"] for r in load_manifest(tmp_path / "crash")["runs"]}
    assert statuses["p00000-r00002"] == "failed"


def test_cli_exits_nonzero_when_a_run_failed(serial_reference, tmp_path, monkeypatch, capsys):
    exp, _ = serial_reference

    def broken(task):
        raise ValueError("model blew up")

    monkeypatch.setattr("sim.experiment.runner.simulate", broken)
    code = main(
        ["sweep", exp.path, "--executor", "serial", "--out", str(tmp_path / "o"), "--quiet"]
    )
    assert code == 1
    assert "model blew up" in capsys.readouterr().err


def test_fresh_starts_over_and_a_different_experiment_is_refused(serial_reference, tmp_path):
    exp, _ = serial_reference
    out = tmp_path / "o"
    run_experiment(exp, out, SerialExecutor(), progress=False)
    report = run_experiment(exp, out, SerialExecutor(), fresh=True, progress=False)
    assert report.skipped == 0 and report.done == 8
    other = load_experiment(list_experiment(tmp_path, replications=2))
    with pytest.raises(ExperimentError, match="different definition"):
        run_experiment(other, out, SerialExecutor(), progress=False)


def test_yearly_and_final_frequencies(tmp_path):
    path = list_experiment(tmp_path, replications=1, months=15, levels='["district", "community"]')
    text = path.read_text() + 'frequency = "yearly"\n'
    path.write_text(text)
    run_experiment(load_experiment(path), tmp_path / "y", SerialExecutor(), progress=False)
    yearly = load_results(tmp_path / "y", "district")
    assert sorted(yearly["year"].unique()) == [2013, 2014] and "step" not in yearly
    path.write_text(text.replace('"yearly"', '"final"'))
    run_experiment(load_experiment(path), tmp_path / "f", SerialExecutor(), progress=False)
    final = load_results(tmp_path / "f", "community")
    assert (final["month"] == "2014-12").all() and len(final) == 2 * 87


def sweep_command(experiment: str, out, workers: int = 2) -> list[str]:
    """``sanshe sweep`` on the local executor, as a subprocess command."""
    return [sys.executable, "-m", "sim", "sweep", experiment, "--workers", str(workers),
            "--out", str(out), "--quiet"]  # fmt: skip


def test_resume_after_sigkill_gives_the_same_dataset(serial_reference, tmp_path):
    exp, ref = serial_reference
    out = tmp_path / "killed"
    cmd = sweep_command(exp.path, out)
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        done = list((out / "status").glob("*.json")) if (out / "status").exists() else []
        if len(done) >= 3:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its workers, mid-way
    proc.wait()
    finished = len(list((out / "status").glob("*.json")))
    assert 3 <= finished < 8, "the kill should land mid-sweep"
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    rerun = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    manifest = load_manifest(out)
    assert manifest["status"] == "complete" and manifest["n_done"] == 8
    assert_same_results(ref, out)


def test_load_results_with_a_subset_of_columns(serial_reference):
    _, out = serial_reference
    frame = load_results(out, "district", columns=["scenario", "admin_burden"])
    assert list(frame.columns) == ["scenario", "admin_burden"] and len(frame) == 8 * 6


def _descendants(pid: int) -> list[str]:
    out, todo = [], [str(pid)]
    while todo:
        kids = subprocess.run(
            ["pgrep", "-P", todo.pop()], capture_output=True, text=True
        ).stdout.split()
        out += kids
        todo += kids
    return out


def _running(pid: str) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_killed_sweep_leaves_no_worker_behind(serial_reference, tmp_path):
    exp, _ = serial_reference
    out = tmp_path / "orphans"
    cmd = sweep_command(exp.path, out)
    proc = subprocess.Popen(cmd, cwd=ROOT)
    deadline = time.time() + 60
    tree: list[str] = []
    while time.time() < deadline and len(tree) < 3:  # forkserver, tracker and workers are up
        tree = _descendants(proc.pid)
        time.sleep(0.05)
    assert len(tree) >= 3, "the sweep should have started its workers"
    proc.kill()  # SIGKILL the sweep process alone, not its process group
    proc.wait()
    deadline = time.time() + 15
    while time.time() < deadline and any(_running(p) for p in tree):
        time.sleep(0.2)
    assert not [p for p in tree if _running(p)], "processes left running after the sweep was killed"


def test_a_sweeps_parent_process_stays_light():
    # The parent plans runs and collects statuses; only workers need the model and table libraries.
    code = (
        "import sys; import sim.cli; from sim.experiment import runner, executors, spec, design, store; "
        "heavy = [m for m in ('pandas', 'pyarrow', 'scipy', 'SALib', 'mesa', 'matplotlib') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert proc.stdout.strip() == ""


def test_quiet_sweep_still_prints_its_summary_line(serial_reference, tmp_path, capsys):
    exp, _ = serial_reference
    out = tmp_path / "o"
    args = ["sweep", exp.path, "--executor", "serial", "--out", str(out), "--quiet"]
    assert main(args) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "8 runs" in lines[0] and "0 failed" in lines[0]


@pytest.mark.parametrize("frequency", ["monthly", "yearly"])
def test_store_files_read_back_as_the_runs_tables(tmp_path, frequency):
    # What a run writes (one file per level, built in memory and renamed into place) reads back
    # as exactly the keyed tables the run made: same columns in the same order, same types, same
    # values and nulls. The run itself is computed once, so both sides see one model.
    import pyarrow.parquet as pq

    from sim import load_scenario
    from sim.experiment.runner import Task, run_task, simulate
    from sim.experiment.store import data_path

    from .helpers import short_scenarios

    scenario = load_scenario(short_scenarios(tmp_path, months=14)[1])
    task = Task("t", "p00001", 2, scenario, 7, {"design_x": 0.5}, LEVELS, frequency, str(tmp_path))
    made = {}

    def keep(t):
        made.update(simulate(t))
        return made

    assert run_task(task, simulate_fn=keep)["status"] == "done"
    assert set(made) == set(LEVELS) and made["district"].column_names[6] == "design_x"
    for level in LEVELS:
        read = pq.read_table(data_path(tmp_path, level, task.run_id))
        assert read.equals(made[level], check_metadata=True), level
    assert not list(tmp_path.rglob("*.tmp"))


def test_store_columns_are_nullable_only_where_a_run_has_nulls(tmp_path):
    # Columns without nulls are stored REQUIRED (cheaper to write); a column with a null stays
    # nullable, and a dataset whose files disagree (one run with a null, one without, in either
    # order) reads back every value and every null, as NaN in pandas.
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim import load_scenario
    from sim.experiment.runner import Task, _schema, run_task, simulate
    from sim.experiment.store import data_path

    from .helpers import short_scenarios

    scenario = load_scenario(short_scenarios(tmp_path, months=3)[0])
    task = Task("t", "p00001", 0, scenario, 7, {}, LEVELS, "monthly", str(tmp_path))
    for table in simulate(task).values():  # a real run's tables
        assert [f.nullable for f in table.schema] == [c.null_count > 0 for c in table.columns]

    def fake(ratio):
        columns = [pa.array([1, 2], pa.int64()), pa.array(ratio, pa.float64())]
        schema = _schema(["step", "ratio"], columns)
        return lambda task: {"district": pa.Table.from_arrays(columns, schema=schema)}

    for rep, ratio in ((0, [0.5, None]), (1, [0.25, 0.75]), (2, [None, 1.0])):
        task = Task("t", "p00000", rep, scenario, 7, {}, ("district",), "monthly", str(tmp_path))
        assert run_task(task, simulate_fn=fake(ratio))["status"] == "done"
    schemas = [
        pq.read_schema(data_path(tmp_path, "district", f"p00000-r{r:05d}")) for r in range(3)
    ]
    assert [s.field("ratio").nullable for s in schemas] == [True, False, True]
    assert not any(s.field("step").nullable for s in schemas)
    read = load_results(tmp_path, "district")
    assert read["ratio"].dtype == np.float64 and read["step"].dtype == np.int64
    # sorted by step (the fake tables have no point or replication), files in run order
    np.testing.assert_array_equal(read["ratio"], [0.5, 0.25, np.nan, np.nan, 0.75, 1.0])


def test_local_workers_free_each_run_and_share_their_imports(tmp_path):
    # A model is a web of reference cycles that the collector's rare full passes would free only
    # after many runs, so a worker collects after each run: the next run finds no model left. The
    # objects a worker inherits from the fork server are frozen (never scanned, so their pages stay
    # shared and a collection costs about a millisecond), and workers import no plotting library
    # (the server imported pyarrow.parquet for them).
    from sim.experiment.executors import LocalExecutor
    from sim.experiment.runner import plan

    from .helpers import probe_worker

    exp = load_experiment(list_experiment(tmp_path, replications=2, levels='["district"]'))
    _, tasks = plan(exp, tmp_path / "out")
    statuses = list(LocalExecutor(1).map_unordered(probe_worker, tasks))
    assert [s["status"] for s in statuses] == ["done"] * 4
    probes = [s["probe"] for s in statuses]
    assert len({p["pid"] for p in probes}) == 1  # one worker ran them all, one after another
    assert [p["models"] for p in probes] == [0, 0, 0, 0]
    assert all(p["frozen"] > 10_000 for p in probes)  # numpy, pandas, mesa, the model's modules
    assert all(p["modules"] == [] for p in probes)
    assert probes[0]["parquet"]  # imported by the fork server, before the worker's first write


def test_serial_sweep_frees_each_run_and_unfreezes_after(tmp_path):
    # The serial executor runs in the caller's process: it freezes what is alive at the start for
    # the sweep's duration, collects after each run (no model left from the run before), and
    # undoes the freeze at the end, so nothing of the caller's stays out of the collector's reach
    # (Python has one frozen set: what was frozen before, such as the few hundred objects frozen
    # at interpreter start, is unfrozen too).
    import gc

    from sim.experiment.executors import SerialExecutor
    from sim.experiment.runner import plan

    from .helpers import probe_worker

    exp = load_experiment(list_experiment(tmp_path, replications=2, levels='["district"]'))
    _, tasks = plan(exp, tmp_path / "out")
    statuses = list(SerialExecutor().map_unordered(probe_worker, tasks))
    assert [s["status"] for s in statuses] == ["done"] * 4
    probes = [s["probe"] for s in statuses]
    # Models the test process held before the sweep (other tests') are counted in every probe;
    # each run's own model is gone before the next starts.
    assert [p["models"] for p in probes] == [probes[0]["models"]] * 4
    assert all(p["frozen"] > 10_000 for p in probes)
    assert gc.get_freeze_count() == 0
