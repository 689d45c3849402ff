"""The dask path of the runner, end to end (issue 11: `--executor dask` was only checked by hand).

A dask.distributed LocalCluster with in-process threaded workers (``processes=False``) stands for
a real cluster: the sweep reaches it through ``--scheduler`` as it would reach one on other
machines, and its results must equal a serial sweep's row for row (same seeds, same tables).
About 5 s on an idle core. The default of ``--executor dask`` without ``--scheduler``, a LocalCluster
of worker processes, is tested too when ``SANSHE_DASK_PROCESSES=1`` (it spawns a worker that
imports the model: 16 s on the busy 2-core machine, so it is left out of the normal suite).
"""

import os

import pandas as pd
import pytest

from sim.cli import main
from sim.experiment.executors import DaskExecutor, SerialExecutor
from sim.experiment.runner import run_experiment
from sim.experiment.spec import load_experiment
from sim.experiment.store import load_manifest, load_results

from .helpers import list_experiment

distributed = pytest.importorskip("dask.distributed", reason="dask[distributed] is not installed")


def test_a_sweep_on_a_dask_cluster_equals_the_serial_sweep(tmp_path, dask_cluster):
    exp = load_experiment(
        list_experiment(tmp_path, replications=2, months=4, levels='["district"]')
    )
    serial = run_experiment(exp, tmp_path / "serial", SerialExecutor(), progress=False)
    executor = DaskExecutor(scheduler=dask_cluster.scheduler_address)
    dask = run_experiment(exp, tmp_path / "dask", executor, progress=False)
    assert serial.ok and dask.ok and dask.done == serial.done == 4 and not dask.failed
    pd.testing.assert_frame_equal(
        load_results(tmp_path / "serial", "district"), load_results(tmp_path / "dask", "district")
    )
    assert load_manifest(tmp_path / "dask")["status"] == "complete"
    # the executor closed only its own client: the cluster and its worker are still there
    with distributed.Client(dask_cluster.scheduler_address) as client:
        assert sum(client.nthreads().values()) == 2


def test_sweep_command_with_executor_dask_and_a_scheduler_resumes(tmp_path, dask_cluster, capsys):
    path = list_experiment(tmp_path, replications=2, months=4, levels='["district"]')
    args = ["sweep", str(path), "--executor", "dask", "--scheduler", dask_cluster.scheduler_address,
            "--out", str(tmp_path / "out"), "--quiet"]  # fmt: skip
    assert main(args) == 0
    assert "4 runs, 0 already done, 4 run now, 0 failed" in capsys.readouterr().out
    first = load_results(tmp_path / "out", "district")
    assert main(args) == 0  # a second sweep finds every run done
    assert "4 runs, 4 already done, 0 run now" in capsys.readouterr().out
    pd.testing.assert_frame_equal(first, load_results(tmp_path / "out", "district"))


@pytest.mark.skipif(
    os.environ.get("SANSHE_DASK_PROCESSES", "") in ("", "0"),
    reason="spawns a dask worker process (about 16 s on a busy 2-core machine); "
    "set SANSHE_DASK_PROCESSES=1 to run it",
)
def test_the_default_dask_executor_runs_a_local_cluster_of_processes(tmp_path):
    exp = load_experiment(
        list_experiment(tmp_path, replications=2, months=4, levels='["district"]')
    )
    serial = run_experiment(exp, tmp_path / "serial", SerialExecutor(), progress=False)
    report = run_experiment(exp, tmp_path / "dask", DaskExecutor(workers=1), progress=False)
    assert serial.ok and report.ok and report.done == 4
    pd.testing.assert_frame_equal(
        load_results(tmp_path / "serial", "district"), load_results(tmp_path / "dask", "district")
    )
