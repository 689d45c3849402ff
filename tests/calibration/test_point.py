"""sanshe posterior-point: candidate points of a posterior, scored by the fit targets, written
into sim/params.py's defaults without touching anything else."""

import ast
import importlib.util
import sys

import numpy as np
import pandas as pd
import pytest

from sim.calibration.abc import weighted_quantile
from sim.calibration.point import (
    CANDIDATES,
    DEFAULTS,
    calibrated_source,
    candidate_points,
    choose,
    current_sources,
    fit_facts,
    fit_score,
    rewrite_defaults,
)
from sim.calibration.targets import load_targets
from sim.cli import main
from sim.params import Params

from ..conftest import ROOT
from .helpers import tiny_targets

WUHOU = ROOT / "scenarios" / "targets" / "wuhou.toml"


def _posterior(targets, n=50, seed=3):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({p.key: p.prior_quantile(rng.random(n)) for p in targets.parameters})
    frame["weight"] = rng.random(n) + 0.01
    frame["weight"] /= frame["weight"].sum()
    return frame


def test_candidates_are_the_weighted_median_mean_on_the_prior_scale_and_heaviest_particle():
    targets = load_targets(WUHOU)
    post = _posterior(targets)
    w = post["weight"].to_numpy()
    points = candidate_points(targets, post)
    assert tuple(points) == CANDIDATES
    heaviest = post.iloc[int(np.argmax(w))]
    for p in targets.parameters:
        v = post[p.key].to_numpy()
        med, mean, top = (points[c][p.key] for c in CANDIDATES)
        if p.integer:
            assert all(isinstance(x, int) for x in (med, mean, top))
            assert med == round(weighted_quantile(v, w, 0.5))
            assert top == round(heaviest[p.key])
            continue
        assert med == pytest.approx(weighted_quantile(v, w, 0.5), rel=1e-5)
        assert top == pytest.approx(heaviest[p.key], rel=1e-5)
        arithmetic = float(w @ v)
        if p.prior == "log-uniform":  # geometric: below the arithmetic mean
            assert mean == pytest.approx(float(np.exp(w @ np.log(v))), rel=1e-5)
            assert mean < arithmetic
        else:
            assert mean == pytest.approx(arithmetic, rel=1e-5)


def test_choose_takes_the_most_fit_targets_met_then_the_smallest_distance_never_the_defaults():
    table = pd.DataFrame(
        {
            "point": [DEFAULTS, "median", "mean", "max-weight"],
            "fit_distance": [0.5, 5.2, 5.1, 4.3],
            "fit_met": [6, 4, 3, 2],
        }
    )
    assert choose(table) == "median"  # the smallest distance misses more targets
    table.loc[table["point"] == "mean", "fit_met"] = 4  # a tie in targets met: the distance
    assert choose(table) == "mean"
    table.loc[table["point"] == "mean", "fit_distance"] = 5.2  # a full tie: the listed order
    assert choose(table) == "median"


def test_fit_score_uses_fit_targets_only():
    targets = load_targets(WUHOU)
    rows = []
    for t in targets.targets:
        lo, hi = t.bounds
        inside = t.observed if t.observed is not None else (lo + hi) / 2
        rows.append(
            {"target": t.name, "role": t.role, "simulated_mean": inside, "within_tolerance": "yes"}
        )
    table = pd.DataFrame(rows)
    assert fit_score(targets, table) == {
        "fit_distance": 0.0,
        "fit_met": len(targets.fit),
        "held_out_met": len(targets.with_role("held_out")),
    }
    held = table["role"] == "held_out"
    table.loc[held, "simulated_mean"] = 1e9  # held-out misses do not move the distance
    assert fit_score(targets, table)["fit_distance"] == 0.0
    orgs = table["target"] == "orgs_2016"  # 1,450 +- 100: two tolerances off
    table.loc[orgs, "simulated_mean"] = 1650
    assert fit_score(targets, table)["fit_distance"] == pytest.approx(2.0)


def test_source_says_where_the_value_came_from_and_keeps_the_prior_note():
    facts = fit_facts(load_targets(WUHOU))
    assert facts == "A13, B8, A12, A5, B5"
    new = calibrated_source("weighted median", "post/dir", facts, "assumption, x; prior note: B8")
    assert new.startswith("calibrated: ABC posterior weighted median, post/dir (fit targets A13")
    assert new.endswith("; prior note: B8")
    assert calibrated_source("m", "d", facts, new).endswith("; prior note: B8")  # idempotent
    assert calibrated_source("m", "d", facts, "assumption (B19: x; y)").endswith("note: B19: x; y")
    assert "prior note" not in calibrated_source("m", "d", facts, "assumption")


def _load(text, tmp_path):
    path = tmp_path / "params_rewritten.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("params_rewritten", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["params_rewritten"] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["params_rewritten"]
    return module


def test_rewrite_changes_only_the_named_defaults_and_sources(tmp_path):
    text = (ROOT / "sim" / "params.py").read_text(encoding="utf-8")
    values = {"group_formation_rate": 0.0123456, "initial_agencies": 17, "relabel_propensity": 0.5}
    old = current_sources(Params, list(values))
    long = " ".join(['a long note with a quote " and a backslash \\'] * 4)
    sources = {n: calibrated_source("weighted mean", "x/y", "A1", o) for n, o in old.items()}
    sources["relabel_propensity"] += long
    new = rewrite_defaults(text, values, sources)
    assert max(len(line) for line in new.splitlines()) <= 100
    module = _load(new, tmp_path)
    fields = module.Params.model_fields
    for name, value in values.items():
        assert module.Params().model_dump()[name] == value
        assert fields[name].json_schema_extra["source"] == sources[name]
    for name, info in Params.model_fields.items():  # every other field as it was
        if name not in values:
            assert fields[name].default == info.default, name
            assert fields[name].json_schema_extra == info.json_schema_extra, name
    assert ast.dump(ast.parse(new).body[0]) == ast.dump(ast.parse(text).body[0])  # docstring
    assert rewrite_defaults(new, values, sources) == new  # idempotent
    with pytest.raises(ValueError, match=r"Params\.no_such_field"):
        rewrite_defaults(text, {"no_such_field": 1.0}, {"no_such_field": "x"})


def test_posterior_point_compares_chooses_and_writes_the_defaults(tmp_path, capsys):
    path = tiny_targets(tmp_path)
    targets = load_targets(path)
    post = _posterior(targets, n=12)
    post.to_parquet(tmp_path / "posterior.parquet")
    params_py = tmp_path / "params.py"
    params_py.write_text((ROOT / "sim" / "params.py").read_text(encoding="utf-8"))
    doc = tmp_path / "validation.md"
    doc.write_text("x\n<!-- BEGIN posterior-point -->\nold\n<!-- END posterior-point -->\ny\n")
    args = ["posterior-point", str(path), "--posterior", str(tmp_path / "posterior.parquet"),
            "--out", str(tmp_path / "out"), "--executor", "serial", "--replications", "2",
            "--write-params", str(params_py), "--docs", str(doc), "--quiet"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    section = doc.read_text()
    assert "old" not in section and section.startswith("x\n") and section.endswith("y\n")
    assert "| **" in section and "`group_formation_rate`" in section  # scores and values
    table = pd.read_csv(tmp_path / "out" / "points" / "points.csv")
    assert list(table["point"]) == [DEFAULTS, *CANDIDATES]
    assert (table["fit_met"] <= len(targets.fit)).all() and (table["fit_distance"] >= 0).all()
    chosen = choose(table)
    assert f"chosen: {chosen} (" in out
    point = candidate_points(targets, post)[chosen]
    module = _load(params_py.read_text(encoding="utf-8"), tmp_path)
    for key, value in point.items():
        name = key.split(".", 1)[1]
        assert getattr(module.Params(), name) == value
        assert (
            module.Params.model_fields[name]
            .json_schema_extra["source"]
            .startswith("calibrated: ABC posterior ")
        )
    # the defaults as they were are the comparison's first row: the same seeds, no overrides
    assert table.loc[0, "orgs"] != table.loc[1, "orgs"]


def test_posterior_point_refuses_a_posterior_of_other_parameters(tmp_path, capsys):
    path = tiny_targets(tmp_path)
    pd.DataFrame({"params.other": [1.0], "weight": [1.0]}).to_parquet(tmp_path / "p.parquet")
    assert main(["posterior-point", str(path), "--posterior", str(tmp_path / "p.parquet")]) == 2
    err = capsys.readouterr().err
    assert "no column params.group_formation_rate" in err and len(err.strip().splitlines()) == 1
