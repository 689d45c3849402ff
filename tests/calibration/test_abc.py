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
    FAILED_DISTANCE,
    FitDistance,
    ParticleModel,
    error_scale,
    evaluation_seeds,
    make_distance,
    observed,
    read_posterior,
    run_abc,
)
from sim.calibration.targets import load_targets
from sim.cli import main
from sim.errors import UserError
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
    assert eps[0] == np.inf and np.isfinite(eps[1:]).all()  # adaptive: scales differ by generation
    from sim.calibration.posterior import summary_markdown

    assert "adaptive distance (scales: rmsd" in summary_markdown(info)
    every = pd.read_parquet(tmp / "a" / "abc_generations.parquet")
    g0 = every[every["generation"] == 0]  # generation 0 weighs the tolerances alone
    np.testing.assert_allclose(g0["fit_distance"], g0["distance"])


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


def _observed_and_errors(targets, errors):
    """Simulated target values whose fit-target standardised errors are ``errors``."""
    x = observed(targets)
    for t, e in zip(targets.fit, errors, strict=True):
        if t.observed is not None:
            x[t.name] = t.observed + e * t.tolerance
        else:
            lo, hi = t.bounds
            half = (hi - lo) / 2
            x[t.name] = (hi + e * half) if e > 0 else (lo + e * half) if e < 0 else (lo + hi) / 2
    return x


def test_error_scale_is_the_spread_of_errors_floored_and_ignores_failed_particles():
    rng = np.random.default_rng(1)
    missed = 6.0 + rng.normal(0, 0.5, 200)  # every particle misses by about six tolerances
    met = np.zeros(200)  # every particle meets it
    close = rng.normal(0, 0.2, 200)  # met within a fifth of a tolerance
    spread = rng.normal(0, 3.0, 200)  # unbiased, spread over three tolerances
    x = np.column_stack([missed, met, close, spread])
    s0 = np.zeros(4)
    rmsd = error_scale(samples=x, s0=s0, kind="rmsd", floor=1.0)
    assert rmsd[0] == pytest.approx(6.0, abs=0.2)  # a shared bias counts: it weighs 1/6
    assert rmsd[1] == rmsd[2] == 1.0  # floored: weight of its tolerance, never more
    assert rmsd[3] == pytest.approx(3.0, abs=0.4)
    mad = error_scale(samples=x, s0=s0, kind="mad", floor=1.0)
    assert mad[0] == 1.0  # mad measures spread about the centre: the bias does not count
    std = error_scale(samples=x, s0=s0, kind="std", floor=0.1)
    assert std[0] == pytest.approx(0.5, abs=0.1) and std[1] == 0.1  # a lower floor
    # a failed particle (errors FAILED_DISTANCE) and a NaN row leave the scale unchanged
    bad = np.vstack([x, np.full(4, FAILED_DISTANCE), np.full(4, np.nan)])
    np.testing.assert_allclose(error_scale(samples=bad, s0=s0), rmsd)
    assert error_scale(samples=np.full((3, 4), np.nan), s0=s0, floor=2.0).tolist() == [2.0] * 4


def _population(targets, error_rows):
    from pyabc import Parameter
    from pyabc.population import Particle, Population

    n = len(error_rows)
    return Population([
        Particle(0, Parameter({}), 1 / n, _observed_and_errors(targets, e), 0.0)
        for e in error_rows
    ])  # fmt: skip


def test_adaptive_distance_down_weights_a_target_every_particle_misses():
    from pyabc.population import Sample

    targets = load_targets(ROOT / "scenarios" / "targets" / "wuhou.toml")
    assert targets.abc.distance == "adaptive" and targets.abc.replications == 2
    n_fit = len(targets.fit)
    obs = observed(targets)
    # generation 0: the tolerances alone (the fixed distance), whatever the sample
    d0 = make_distance(targets, 0)
    d0.initialize(t=0, get_sample=lambda: None, x_0=obs, total_sims=0)
    probe = _observed_and_errors(targets, [2.0] + [0.0] * (n_fit - 2) + [-3.0])
    assert (
        d0(probe, obs, t=0)
        == pytest.approx(FitDistance(targets)(probe))
        == pytest.approx(np.sqrt(13))
    )
    # a previous generation that misses the last fit target by 8 tolerances, the first by 0-2
    rows = [[0.5 * (i % 5)] + [0.0] * (n_fit - 2) + [-8.0] for i in range(40)]
    sample = Sample.from_population(_population(targets, rows))
    d1 = make_distance(targets, 1)
    d1.initialize(t=1, get_sample=lambda: sample, x_0=obs, total_sims=40)
    only_first = _observed_and_errors(targets, [2.0] + [0.0] * (n_fit - 1))
    only_last = _observed_and_errors(targets, [0.0] * (n_fit - 1) + [-8.0])
    rms_first = np.sqrt(np.mean([(0.5 * (i % 5)) ** 2 for i in range(40)]))
    assert d1(only_first, obs, t=1) == pytest.approx(2.0 / max(rms_first, 1.0))
    assert d1(only_last, obs, t=1) == pytest.approx(1.0)  # 8 tolerances over a scale of 8
    assert FitDistance(targets)(only_last) == pytest.approx(8.0)  # the fixed distance: 8
    # a failed particle is never accepted
    assert d1({t.name: np.nan for t in targets.targets}, obs, t=1) >= FAILED_DISTANCE
    assert isinstance(make_distance(replace_abc(targets, distance="fixed"), 1), FitDistance)


def replace_abc(targets, **kw):
    import dataclasses

    return dataclasses.replace(targets, abc=dataclasses.replace(targets.abc, **kw))


def test_a_particle_is_the_mean_of_its_replications(tmp_path):
    targets = load_targets(tiny_targets(tmp_path))
    model = ParticleModel(targets, 2)
    pars = {"params.group_formation_rate": 0.2, "params.switchers_per_month": 20.0}
    per_rep = model.values(pars)
    assert all(len(v) == 2 for v in per_rep.values())
    assert per_rep["orgs"].iloc[0] != per_rep["orgs"].iloc[1]  # two seeds, two runs
    sampled = {"log:params.group_formation_rate": np.log(0.2), "params.switchers_per_month": 20.0}
    means = model(sampled)
    assert means["orgs"] == pytest.approx(per_rep["orgs"].mean())
    assert means["burden_change"] == pytest.approx(per_rep["burden_change"].mean())


def test_fixed_distance_and_median_epsilon_remain_an_option(tmp_path):
    path = tiny_targets(tmp_path)
    text = path.read_text().replace(
        "[calibration.parameters]",
        '[calibration.abc]\ndistance = "fixed"\nepsilon_quantile = 0.5\nkernel_scaling = 2\n'
        "\n[calibration.parameters]",
    )
    path.write_text(text)
    targets = load_targets(path)
    assert targets.abc.distance == "fixed" and targets.abc.epsilon_quantile == 0.5
    summary = run_abc(targets, tmp_path / "f", SerialExecutor(), progress=False, **SMALL)
    assert "fixed distance" in summary["method"] and summary["epsilon_quantile"] == 0.5
    assert summary["kernel_scaling"] == 2 and "kernel scaled 2" in summary["method"]
    eps = summary["epsilon_schedule"]
    assert eps[0] == np.inf and eps[1] >= eps[2]  # one distance: epsilon shrinks
    every = pd.read_parquet(tmp_path / "f" / "abc_generations.parquet")
    last = every[every["generation"] == 2]
    assert (last["distance"] <= eps[2] + 1e-12).all()  # accepted within epsilon
    np.testing.assert_allclose(every["fit_distance"], every["distance"])  # one distance
    from sim.calibration.posterior import summary_markdown

    assert "fixed distance (tolerances), epsilon the 0.5 quantile" in summary_markdown(summary)
    # gen 1's epsilon is the median (0.5 quantile, weighted) of generation 0's distances
    g0 = every[every["generation"] == 0]
    assert eps[1] == pytest.approx(weighted_quantile_pyabc(g0), rel=1e-9)
    # the distance settings belong to the definition: another quantile is refused on resume
    path.write_text(text.replace("epsilon_quantile = 0.5", "epsilon_quantile = 0.8"))
    with pytest.raises(UserError, match="epsilon_quantile"):
        run_abc(load_targets(path), tmp_path / "f", SerialExecutor(), progress=False, **SMALL)


def weighted_quantile_pyabc(frame):
    from pyabc.weighted_statistics import weighted_quantile

    return weighted_quantile(frame["distance"].to_numpy(), frame["weight"].to_numpy(), alpha=0.5)
