"""ABC-SMC (pyabc): reproducible from its seed, resumable after kill -9, and its outputs."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import tomllib

import numpy as np
import pandas as pd
import pytest

from sim.calibration.abc import (
    ABC_STREAM,
    FitDistance,
    evaluation_seeds,
    read_posterior,
    run_abc,
)
from sim.calibration.targets import load_targets
from sim.cli import main
from sim.experiment.executors import SerialExecutor

from ..conftest import ROOT
from .helpers import tiny_targets

SMALL = dict(population=4, generations=3, replications=1)


class Stop(Exception):
    """Stands for an interruption after a generation."""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("abc")
    path = tiny_targets(tmp)
    targets = load_targets(path)
    summary = run_abc(targets, tmp / "a", SerialExecutor(), progress=False, **SMALL)
    return tmp, path, targets, summary


def _generations_done(db) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            return con.execute("select count(*) from populations where t >= 0").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_posterior_is_the_interface_the_effects_read(tiny):
    tmp, _, targets, summary = tiny
    post, info = read_posterior(tmp / "a" / "posterior.parquet")
    keys = [p.key for p in targets.parameters]
    assert list(post.columns) == [*keys, "weight", "generation", "particle"]
    assert all(post[k].dtype == np.float64 for k in keys)
    assert post["generation"].dtype == np.int64 and post["particle"].dtype == np.int64
    assert len(post) == 4 and (post["generation"] == 2).all()
    assert post["weight"].sum() == pytest.approx(1.0)
    for p in targets.parameters:
        assert post[p.key].between(p.low, p.high).all()
    ess = info["effective_sample_size"]
    assert len(ess) == 3 and all(1 <= e <= 4 + 1e-9 for e in ess)
    for key in ("targets_sha256", "root_seed", "pyabc_version", "epsilon_schedule", "git_commit"):
        assert key in info, key
    assert info["generations"] == 3 and info["population"] == 4
    assert info["model_runs"] == 2 * info["model_evaluations"] >= 2 * 12
    assert info["reproducible_from_seed"] and info["model_runs"] == summary["model_runs"]
    eps = info["epsilon_schedule"]
    assert eps[0] == np.inf and eps[1] >= eps[2]  # epsilon shrinks over generations


def test_interrupted_then_resumed_equals_uninterrupted(tiny):
    tmp, _, targets, _ = tiny

    def stop_after_first(t):
        if t == 0:
            raise Stop

    with pytest.raises(Stop):
        run_abc(targets, tmp / "b", SerialExecutor(), progress=False,
                after_generation=stop_after_first, **SMALL)  # fmt: skip
    assert _generations_done(tmp / "b" / "abc.db") == 1
    assert not (tmp / "b" / "posterior.parquet").exists()
    resumed = run_abc(targets, tmp / "b", SerialExecutor(), progress=False, **SMALL)
    a, _ = read_posterior(tmp / "a" / "posterior.parquet")
    b, _ = read_posterior(tmp / "b" / "posterior.parquet")
    pd.testing.assert_frame_equal(a, b)  # reproducible from the seed, whatever the interruption
    assert resumed["generations"] == 3


def test_kill_9_then_resume_gives_the_complete_result(tiny):
    tmp, path, targets, _ = tiny
    out = tmp / "k"
    cmd = [sys.executable, "-m", "sim", "calibrate", str(path), "--method", "abc",
           "--executor", "serial", "--population", "4", "--generations", "3",
           "--replications", "1", "--draws", "2", "--out", str(out),
           "--write", str(tmp / "k.toml"), "--quiet"]  # fmt: skip
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while _generations_done(out / "abc.db") < 1 and time.time() < deadline:
        assert proc.poll() is None, "the calibration ended before it could be killed"
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 1 <= _generations_done(out / "abc.db") < 3
    assert not (out / "posterior.parquet").exists()
    # the same command again: it loads the history and completes it
    assert main(cmd[3:]) == 0
    a, _ = read_posterior(tmp / "a" / "posterior.parquet")
    k, info = read_posterior(out / "posterior.parquet")
    assert info["generations"] == 3 and len(k) == 4
    pd.testing.assert_frame_equal(a, k)
    # outputs: fit table in sections, identifiability, pairs plot, a scenario of medians
    md = (out / "abc_fit.md").read_text()
    assert "Fit targets" in md and "Held-out targets" in md and "posterior/prior width" in md
    table = pd.read_csv(out / "abc_fit.csv")
    assert list(table["role"]) == ["fit", "held_out"] and (table["draws"] == 2).all()
    assert (out / "pairs.png").stat().st_size > 1000
    scenario = tomllib.loads((tmp / "k.toml").read_text())
    assert "POSTERIOR MEDIANS" in scenario["description"]
    assert set(scenario["params"]) == {p.name for p in targets.parameters}


def test_a_store_of_another_definition_is_refused(tiny, capsys):
    tmp, path, _, _ = tiny
    code = main(["calibrate", str(path), "--method", "abc", "--executor", "serial",
                 "--population", "5", "--generations", "3", "--replications", "1",
                 "--out", str(tmp / "a"), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "population" in err and "--fresh" in err


def test_particle_seeds_depend_on_the_values_and_replication_only():
    a = evaluation_seeds(7, ABC_STREAM, [0.1, 2.0], 2)
    b = evaluation_seeds(7, ABC_STREAM, [0.1, 2.0], 2)
    c = evaluation_seeds(7, ABC_STREAM, [0.1, 2.0000001], 2)
    assert [s.generate_state(2).tolist() for s in a] == [s.generate_state(2).tolist() for s in b]
    assert a[0].generate_state(2).tolist() != a[1].generate_state(2).tolist()
    assert a[0].generate_state(2).tolist() != c[0].generate_state(2).tolist()
    assert a[0].entropy == 7  # children of the calibration's root seed


def test_distance_reads_fit_targets_only():
    targets = load_targets(ROOT / "scenarios" / "targets" / "wuhou.toml")
    d = FitDistance(targets)
    on_mark = {}
    for t in targets.targets:
        lo, hi = t.bounds
        on_mark[t.name] = t.observed if t.observed is not None else (lo + hi) / 2
    wild = on_mark | {t.name: -1e9 for t in targets.targets if t.role != "fit"}
    assert d(on_mark) == 0 and d(wild) == 0
    orgs = on_mark | {"orgs_2016": on_mark["orgs_2016"] + 300}  # three tolerances off
    assert d(orgs) == pytest.approx(3.0)
    assert d(on_mark | {"orgs_2016": float("nan")}) >= 1e12  # a failed particle is never accepted


def test_provenance_is_json_in_the_parquet_metadata(tiny):
    import pyarrow.parquet as pq

    tmp, *_ = tiny
    meta = pq.read_schema(tmp / "a" / "posterior.parquet").metadata
    info = json.loads(meta[b"sanshe.provenance"])
    assert info["targets_path"].endswith("tiny.toml") and len(info["targets_sha256"]) == 64


def test_identifiability_finds_a_known_ridge_and_an_unidentified_parameter(tmp_path):
    from sim.calibration.posterior import correlations, identifiability, pairs_figure

    path = tiny_targets(tmp_path)
    text = path.read_text().replace(
        '"params.switchers_per_month"',
        '"params.participation_max" = { min = 0.05, max = 0.3, why = "test" }\n'
        '"params.switchers_per_month"',
    )
    path.write_text(text)
    targets = load_targets(path)
    rng = np.random.default_rng(3)
    n = 4000
    u = rng.random(n)  # group formation: spread over its whole (log-uniform) prior
    gfr = np.exp(np.log(0.05) + u * (np.log(0.6) - np.log(0.05)))
    # participation: a ridge with formation (their product is pinned), switchers: pinned alone
    part = np.clip(0.3 - 0.25 * u + rng.normal(0, 0.01, n), 0.05, 0.3)
    sw = rng.normal(30, 1.0, n)
    post = pd.DataFrame({"params.group_formation_rate": gfr, "params.participation_max": part,
                         "params.switchers_per_month": sw, "weight": np.full(n, 1 / n)})  # fmt: skip
    ident = identifiability(targets, post).set_index("parameter")
    assert ident.loc["params.group_formation_rate", "width_ratio"] == pytest.approx(1, abs=0.05)
    assert ident.loc["params.switchers_per_month", "width_ratio"] < 0.1
    top = correlations(targets, post).iloc[0]
    assert {top["a"], top["b"]} == {"params.group_formation_rate", "params.participation_max"}
    assert top["correlation"] < -0.95
    assert ident.loc["params.participation_max", "strongest_with"].startswith("Formation rate")
    # weights matter: all weight on one half of the ridge narrows formation
    heavy = post.assign(weight=np.where(u < 0.5, 1.0, 1e-9))
    narrow = identifiability(targets, heavy).set_index("parameter")
    assert narrow.loc["params.group_formation_rate", "width_ratio"] < 0.6
    fig = pairs_figure(targets, post.sample(200, random_state=1))
    assert len(fig.axes) == 9
