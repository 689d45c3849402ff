"""Posterior designs: draws by weight, parameters on every scenario, seeds, store, resume, errors."""

import json
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.experiment.design import design_points, posterior_draws
from sim.experiment.executors import SerialExecutor
from sim.experiment.posterior import PosteriorError
from sim.experiment.runner import plan, run_experiment
from sim.experiment.spec import ExperimentError, load_experiment
from sim.experiment.store import load_manifest, load_results, read_status

from .helpers import experiment_file, posterior_experiment, posterior_file, short_scenarios


def test_draws_follow_the_weights_and_the_root_seed(tmp_path):
    post = posterior_file(
        tmp_path, {"params.group_formation_rate": [0.1, 0.2, 0.3]}, weights=[0.0, 0.2, 0.8]
    )
    exp = load_experiment(posterior_experiment(tmp_path, draws=2000, posterior=post))
    draws = posterior_draws(exp)
    rows = np.array([d.particle.row for d in draws])
    assert 0 not in rows  # zero weight: never drawn
    assert (rows == 2).mean() == pytest.approx(0.8, abs=0.03)
    again = [d.particle.row for d in posterior_draws(load_experiment(exp.path))]
    assert again == rows.tolist()  # same file, same draws
    text = Path(exp.path).read_text().replace("root_seed = 11", "root_seed = 12")
    moved = load_experiment(experiment_file(tmp_path, text, name="post12"))
    assert [d.particle.row for d in posterior_draws(moved)] != rows.tolist()


def test_tasks_apply_each_draws_parameters_and_share_seeds_within_a_draw(tmp_path):
    exp = load_experiment(posterior_experiment(tmp_path, draws=3, replications=2))
    assert [p.scenario.name for p in design_points(exp)] == ["baseline_2013", "wuhou_reform"]
    _, tasks = plan(exp, tmp_path / "out")
    assert len(tasks) == 2 * 3 * 2
    assert len({t.run_id for t in tasks}) == len(tasks)
    draws = posterior_draws(exp)
    for t in tasks:
        d = draws[t.draw["draw"]]
        rate = dict(d.particle.values)["params.group_formation_rate"]
        assert t.scenario.params.group_formation_rate == rate
        assert t.scenario.params.agency_lookahead_months == round(
            dict(d.particle.values)["params.agency_lookahead_months"]
        )
        assert t.replication == t.draw["draw"] * 2 + t.draw_replication
    state = {}
    for t in tasks:
        state.setdefault((t.spawn_key, t.point_id), t.seed().generate_state(2).tolist())
    base = {k: v for (k, p), v in state.items() if p == "p00000"}
    reform = {k: v for (k, p), v in state.items() if p == "p00001"}
    assert base == reform  # CRN: the scenarios of a draw and seed share it
    assert len({tuple(v) for v in base.values()}) == 6  # and no two draws or seeds do


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("post")
    exp = load_experiment(posterior_experiment(tmp, draws=2, replications=2, months=3))
    report = run_experiment(exp, tmp / "out", SerialExecutor(), progress=False)
    assert report.ok and report.done == 8
    return exp, tmp / "out"


def test_store_records_draw_and_parameters_with_every_run(swept):
    exp, out = swept
    d = load_results(out, "district")
    assert {"draw", "draw_replication", "particle", "param_group_formation_rate"} <= set(d)
    runs = d.groupby(["point", "replication"]).first()
    assert (
        runs["seed_spawn_key"]
        == runs["draw"].astype(str) + "," + runs["draw_replication"].astype(str)
    ).all()
    manifest = load_manifest(out)
    assert manifest["method"] == "posterior" and manifest["draws"] == 2
    post = manifest["posterior"]
    assert post["sha256"] == exp.posterior.sha256 and post["provenance"] == {"method": "test"}
    assert [s["draw"] for s in post["sample"]] == [0, 1]
    status = read_status(out, "p00001-r00003")
    sample = post["sample"][1]
    assert status["posterior"]["parameters"] == sample["parameters"]
    assert status["seed_spawn_key"] == [1, 1]
    by_run = runs.reset_index()
    for _, row in by_run.iterrows():
        params = post["sample"][row["draw"]]["parameters"]
        assert row["param_group_formation_rate"] == params["params.group_formation_rate"]


def test_resume_skips_finished_runs_and_a_new_posterior_file_is_refused(swept, tmp_path):
    exp, out = swept
    again = run_experiment(load_experiment(exp.path), out, SerialExecutor(), progress=False)
    assert again.skipped == 8 and again.done == 0
    post = posterior_file(tmp_path, {"params.group_formation_rate": [0.11, 0.22]})
    changed = load_experiment(
        posterior_experiment(tmp_path, draws=2, replications=2, months=3, posterior=post)
    )
    with pytest.raises(ExperimentError, match="different definition"):
        run_experiment(changed, out, SerialExecutor(), progress=False)


BAD = [
    ("missing", None, "design.posterior"),
    ("no weight", {"drop": "weight"}, "weight: column is missing"),
    ("bad sum", {"weights": [0.5, 0.2]}, "weights sum to 0.7"),
    ("negative", {"weights": [1.5, -0.5]}, "negative"),
    ("unknown parameter", {"values": {"params.no_such_rate": [0.1, 0.2]}}, "params.no_such_rate"),
    ("policy column", {"values": {"policy.purchase_budget": [0.0, 1.0]}}, "policy.purchase_budget"),
    (
        "nan",
        {"values": {"params.group_formation_rate": [0.1, float("nan")]}},
        "missing or infinite",
    ),
    ("out of bounds", {"values": {"params.group_formation_rate": [0.1, -3.0]}}, "-3.0"),
]


@pytest.mark.parametrize(("case", "change", "expect"), BAD, ids=[b[0] for b in BAD])
def test_bad_posterior_file_gives_one_line_naming_file_and_key(
    tmp_path, capsys, case, change, expect
):
    if change is None:
        post = tmp_path / "absent.parquet"
    elif "drop" in change:
        import pyarrow.parquet as pq

        path = posterior_file(tmp_path)
        pq.write_table(pq.read_table(path).drop_columns(["weight"]), path)
        post = path
    else:
        values = change.get("values", {"params.group_formation_rate": [0.1, 0.2]})
        post = posterior_file(tmp_path, values, weights=change.get("weights"))
    exp = posterior_experiment(tmp_path, posterior=post)
    with pytest.raises(PosteriorError):
        load_experiment(exp)
    assert main(["validate", str(exp)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert expect in err and str(post.name) in err


def test_a_posterior_design_needs_a_list_of_scenarios(tmp_path):
    post = posterior_file(tmp_path)
    body = (
        'name = "x"\nreplications = 2\nroot_seed = 1\n'
        f'[design]\nmethod = "posterior"\nposterior = "{post}"\ndraws = 2\n'
    )
    with pytest.raises(ExperimentError, match="scenarios: is missing"):
        load_experiment(experiment_file(tmp_path, body))
    ref, _ = short_scenarios(tmp_path)
    body = body.replace("root_seed = 1\n", f'root_seed = 1\nscenarios = ["{ref.name}"]\n')
    for extra, key in (("samples = 3\n", "design.samples"), ("draws = 0\n", "design.draws")):
        text = body.replace("draws = 2\n", extra)
        with pytest.raises(ExperimentError, match=key):
            load_experiment(experiment_file(tmp_path, text))


def test_manifest_lists_every_draw_and_seed(swept):
    _, out = swept
    manifest = json.loads((out / "manifest.json").read_text())
    assert [r["spawn_key"] for r in manifest["seeds"]["replications"]] == [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
    ]
    assert "spawn_key=(draw, r)" in manifest["seeds"]["scheme"]


def test_sweep_takes_another_posterior_and_number_of_draws(tmp_path, capsys):
    exp = posterior_experiment(tmp_path, draws=3, replications=1, months=2)
    other = posterior_file(tmp_path, {"params.group_formation_rate": [0.5]}, name="other.parquet")
    out = tmp_path / "out"
    args = ["sweep", str(exp), "--posterior", str(other), "--draws", "2"]
    assert main([*args, "--executor", "serial", "--out", str(out), "--quiet"]) == 0
    manifest = load_manifest(out)
    assert manifest["draws"] == 2 and manifest["posterior"]["file"] == str(other)
    assert {
        s["parameters"]["params.group_formation_rate"] for s in manifest["posterior"]["sample"]
    } == {0.5}
    assert manifest["definition"]["design"]["draws"] == 2  # what ran is what is stored
    listed = short_scenarios(tmp_path)
    plain = experiment_file(
        tmp_path,
        f'name = "l"\nreplications = 1\nroot_seed = 1\nscenarios = ["{listed[0]}"]\n',
        name="plain",
    )
    capsys.readouterr()
    assert main(["sweep", str(plain), "--draws", "2", "--out", str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err
    assert "design.draws: can only be set for a posterior design" in err and "plain.toml" in err


def _parquet(tmp_path, columns, metadata=None, name="p.parquet"):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(columns)
    if metadata is not None:
        table = table.replace_schema_metadata(metadata)
    path = tmp_path / name
    pq.write_table(table, path)
    return path


def test_a_posterior_file_is_read_with_its_particle_numbers_provenance_and_hash(tmp_path):
    import hashlib

    from sim.experiment.posterior import DRAW_STREAM, read_posterior

    path = _parquet(
        tmp_path,
        {
            "params.group_formation_rate": [0.1, 0.2, 0.3],
            "weight": [0.25, 0.25, 0.5],
            "generation": [4, 4, 4],
            "particle": [7, 3, 9],
        },
        {b"sanshe.provenance": b'{"method": "abc", "generations": 5}'},
    )
    sample = read_posterior(path, "e.toml")
    assert [p.particle for p in sample.particles] == [7, 3, 9]
    assert [p.row for p in sample.particles] == [0, 1, 2]
    assert [p.generation for p in sample.particles] == [4, 4, 4]
    assert [p.weight for p in sample.particles] == [0.25, 0.25, 0.5]
    assert sample.provenance == {"method": "abc", "generations": 5}
    assert sample.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    # Kish: 1 / (1/16 + 1/16 + 1/4) = 8/3
    assert sample.manifest() == {
        "file": str(path),
        "sha256": sample.sha256,
        "parameters": ["params.group_formation_rate"],
        "n_particles": 3,
        "effective_sample_size": 2.67,
        "provenance": {"method": "abc", "generations": 5},
        "draw_seed": "numpy.random.default_rng(SeedSequence([root_seed, "
        f"{DRAW_STREAM}])).choice(n_particles, draws, replace=True, p=weight)",
    }
    # without the metadata key or the particle and generation columns: rows and generation 0
    bare = _parquet(tmp_path, {"params.group_formation_rate": [0.1], "weight": [1.0]}, name="b")
    sample = read_posterior(bare, "e.toml")
    assert sample.provenance is None
    assert (sample.particles[0].particle, sample.particles[0].generation) == (0, 0)


PARTICLE_ERRORS = [
    ({"particle": [0.5, 1.0]}, None, "particle: holds fractions"),
    ({"params.group_formation_rate": []}, None, "(rows): the file has no particles"),
    ({"params.group_formation_rate": None}, None, "(columns): no parameter columns"),
    ({}, {b"sanshe.provenance": b"{not json"}, "sanshe.provenance: metadata is not JSON"),
]


@pytest.mark.parametrize(
    ("change", "metadata", "expect"),
    PARTICLE_ERRORS,
    ids=["fractional particle", "no rows", "no parameter columns", "provenance not json"],
)
def test_bad_particles_columns_and_provenance_are_named(tmp_path, change, metadata, expect):
    from sim.experiment.posterior import read_posterior

    columns = {"params.group_formation_rate": [0.1, 0.2], "weight": [0.5, 0.5], "particle": [0, 1]}
    columns |= change
    if change.get("params.group_formation_rate", 0) is None:
        del columns["params.group_formation_rate"]
    elif columns["params.group_formation_rate"] == []:
        columns = {k: [] for k in columns}
    path = _parquet(tmp_path, columns, metadata)
    with pytest.raises(PosteriorError) as err:
        read_posterior(path, "e.toml")
    assert str(err.value).startswith(f"{path}: {expect} (allowed: ")


def test_draws_are_the_seeded_choice_by_normalised_weight(tmp_path):
    # weights summing to 1 + 5e-7 are accepted (within 1e-6) and drawn by weight / sum: the draws
    # are numpy's choice with those probabilities, from SeedSequence([root_seed, DRAW_STREAM])
    from sim.experiment.posterior import DRAW_STREAM, read_posterior

    weights = [0.2, 0.3, 0.5 + 5e-7]
    path = _parquet(tmp_path, {"params.group_formation_rate": [0.1, 0.2, 0.3], "weight": weights})
    sample = read_posterior(path, "e.toml")
    draws = sample.draw(50, root_seed=11)
    rng = np.random.default_rng(np.random.SeedSequence([11, DRAW_STREAM]))
    w = np.array(weights)
    expected = rng.choice(3, size=50, replace=True, p=w / w.sum())
    assert [d.particle.row for d in draws] == expected.tolist()
    assert [d.index for d in draws] == list(range(50))
