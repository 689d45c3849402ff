"""ABC-SMC through pyabc's dask sampler, end to end (issue 11: it was only checked by hand).

A dask.distributed LocalCluster with in-process threaded workers (``processes=False``) stands for
a real cluster, reached through its scheduler address as ``sanshe calibrate --method abc
--executor dask --scheduler ...`` reaches one. One generation of 4 particles over short runs.
"""

import pytest

from sim.calibration.abc import read_posterior, run_abc
from sim.calibration.targets import load_targets
from sim.experiment.executors import DaskExecutor

from .helpers import tiny_targets

distributed = pytest.importorskip("dask.distributed", reason="dask[distributed] is not installed")


def test_abc_runs_a_generation_on_a_dask_cluster(tmp_path, dask_cluster):
    targets = load_targets(tiny_targets(tmp_path))
    executor = DaskExecutor(scheduler=dask_cluster.scheduler_address)
    summary = run_abc(
        targets, tmp_path / "abc", executor, progress=False,
        population=4, generations=1, replications=1,
    )  # fmt: skip
    post, info = read_posterior(tmp_path / "abc" / "posterior.parquet")
    assert len(post) == 4 and post["weight"].sum() == pytest.approx(1.0)
    for p in targets.parameters:
        assert post[p.key].between(p.low, p.high).all()
    assert (
        info["sampler"].startswith("dask (") and dask_cluster.scheduler_address in info["sampler"]
    )
    assert not info["reproducible_from_seed"]  # the dask sampler's order is not deterministic
    assert info["model_runs"] == 2 * info["model_evaluations"] >= 8  # reform and counterfactual
    assert summary["generations"] == 1
