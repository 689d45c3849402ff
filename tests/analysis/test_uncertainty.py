"""The variance decomposition of effects across posterior draws, on synthetic data with known parts."""

import json

import numpy as np
import pandas as pd
import pytest

from sim.analysis.uncertainty import decompose_frame


def synthetic(draws, reps, mu, tau, sigma, seed=1, drop=0.0):
    """x[d, r] = mu + u[d] + e[d, r], u ~ N(0, tau²), e ~ N(0, sigma²)."""
    rng = np.random.default_rng(seed)
    u = rng.normal(0, tau, draws)
    d = np.repeat(np.arange(draws), reps)
    x = mu + u[d] + rng.normal(0, sigma, draws * reps)
    frame = pd.DataFrame({"g": "a", "draw": d, "x": x})
    if drop:
        frame = frame.drop(frame.sample(frac=drop, random_state=seed).index)
    return frame, u


def one(frame):
    return decompose_frame(frame, ["g"], "x").iloc[0]


def test_recovers_known_components():
    frame, u = synthetic(400, 10, mu=2.0, tau=1.0, sigma=2.0)
    r = one(frame)
    assert r["var_seed"] == pytest.approx(4.0, rel=0.05)
    assert r["var_param"] == pytest.approx(1.0, rel=0.2)
    assert r["var_param"] == pytest.approx(u.var(ddof=1), rel=0.1)
    assert r["share_param"] == pytest.approx(0.2, abs=0.04)
    assert r["share_seed"] + r["share_param"] == pytest.approx(1.0)
    # seed-only interval: +- t * sigma / sqrt(D * R)
    assert (r["seed_high"] - r["seed_low"]) / 2 == pytest.approx(1.96 * 2 / np.sqrt(4000), rel=0.05)
    assert r["seed_low"] < r["effect"] < r["seed_high"]
    # parameter interval: the 2.5-97.5 percentiles of mu + u, i.e. about mu -+ 1.96 tau
    assert r["param_low"] == pytest.approx(2 - 1.96, abs=0.25)
    assert r["param_high"] == pytest.approx(2 + 1.96, abs=0.25)
    assert r["n_draws"] == 400 and r["n_reps"] == 10


def test_parameter_interval_removes_the_seed_noise_of_draw_means():
    """Few seeds per draw and loud seeds: raw percentiles of draw means are far too wide (their
    variance is tau² + sigma²/R); the adjusted interval is not."""
    frame, u = synthetic(300, 3, mu=0.0, tau=1.0, sigma=4.0, seed=3)
    r = one(frame)
    raw = frame.groupby("draw")["x"].mean().quantile([0.025, 0.975]).to_numpy()
    truth = np.quantile(u, [0.025, 0.975])
    assert raw[1] - raw[0] > 1.8 * (truth[1] - truth[0])
    width = r["param_high"] - r["param_low"]
    assert width == pytest.approx(truth[1] - truth[0], rel=0.3)
    # louder parameters, same seeds: a larger share and a wider interval
    louder = one(synthetic(300, 3, mu=0.0, tau=3.0, sigma=4.0, seed=3)[0])
    assert louder["share_param"] > r["share_param"] + 0.2
    assert louder["param_high"] - louder["param_low"] > 2 * width


def test_no_parameter_effect_gives_a_point_parameter_interval():
    frame, _ = synthetic(1000, 5, mu=1.0, tau=0.0, sigma=1.0, seed=5)
    r = one(frame)
    assert r["share_param"] < 0.05 and r["share_seed"] > 0.95
    assert r["param_high"] - r["param_low"] < 0.2 * (1.96 * 2)  # vs what seeds alone would give
    assert r["param_low"] <= r["effect"] <= r["param_high"]


def test_exactly_no_parameter_effect_is_exactly_zero():
    frame = pd.DataFrame(
        {"g": "a", "draw": np.repeat([0, 1, 2], 2), "x": [1.0, 3.0, 1.0, 3.0, 1.0, 3.0]}
    )
    r = one(frame)
    assert r["var_param"] == 0 and r["share_param"] == 0 and r["share_seed"] == 1
    assert r["param_low"] == r["param_high"] == r["effect"] == 2.0


def test_no_seed_noise_gives_the_draw_values_and_a_zero_seed_interval():
    frame, u = synthetic(100, 4, mu=-3.0, tau=2.0, sigma=0.0, seed=7)
    r = one(frame)
    assert r["var_seed"] == pytest.approx(0.0, abs=1e-20)
    assert r["share_seed"] == pytest.approx(0.0, abs=1e-12) and r["share_param"] == 1.0
    assert r["seed_high"] - r["seed_low"] == pytest.approx(0.0, abs=1e-9)
    expect = np.quantile(-3.0 + u, [0.025, 0.975])
    assert [r["param_low"], r["param_high"]] == pytest.approx(expect)


def test_identical_runs_have_no_shares():
    frame = pd.DataFrame({"g": "a", "draw": np.repeat([0, 1], 3), "x": 0.0})
    r = one(frame)
    assert r["effect"] == 0 and np.isnan(r["share_param"]) and np.isnan(r["share_seed"])


def test_unequal_seeds_per_draw_and_several_groups():
    a, ua = synthetic(300, 8, mu=1.0, tau=1.0, sigma=1.0, seed=11, drop=0.3)
    b, ub = synthetic(300, 8, mu=5.0, tau=0.5, sigma=2.0, seed=12)
    frame = pd.concat([a, b.assign(g="b")])
    out = decompose_frame(frame, ["g"], "x").set_index("g")
    # against the variance the draws' parameter effects actually had (this sample's u)
    assert out.loc["a", "var_param"] == pytest.approx(ua.var(ddof=1), rel=0.15)
    assert out.loc["a", "var_seed"] == pytest.approx(1.0, rel=0.08)
    assert out.loc["b", "var_param"] == pytest.approx(ub.var(ddof=1), rel=0.3)
    assert out.loc["b", "share_param"] == pytest.approx(0.25 / 4.25, abs=0.04)
    assert out.loc["a", "n_reps"] == pytest.approx(8 * 0.7, abs=0.01)
    assert out.loc["b", "effect"] == pytest.approx(5.0, abs=0.1)


def test_one_seed_per_draw_cannot_be_split():
    frame, _ = synthetic(50, 1, mu=0.0, tau=1.0, sigma=1.0)
    r = one(frame)
    assert np.isnan(r["share_param"]) and np.isnan(r["seed_low"])
    raw = frame["x"].quantile([0.025, 0.975]).to_numpy()
    assert [r["param_low"], r["param_high"]] == pytest.approx(raw)


# --- on a real (tiny) posterior sweep --------------------------------------------------------
@pytest.fixture(scope="module")
def posterior_store(tmp_path_factory):
    from sim.experiment.executors import SerialExecutor
    from sim.experiment.runner import run_experiment
    from sim.experiment.spec import load_experiment

    from ..experiment.helpers import posterior_experiment

    tmp = tmp_path_factory.mktemp("post")
    exp = load_experiment(posterior_experiment(tmp, draws=3, replications=2, months=3))
    assert run_experiment(exp, tmp / "out", SerialExecutor(), progress=False).ok
    return tmp / "out"


def test_compare_gives_both_intervals_side_by_side(posterior_store, capsys):
    from sim.analysis.compare import compare
    from sim.cli import main

    cmp = compare(posterior_store, at="final")
    reform = cmp.long[(cmp.long["setting"] == "wuhou_reform")].set_index("outcome")
    burden = reform.loc["admin_burden"]
    assert burden["n_draws"] == 3 and burden["n_reps"] == 2 and burden["n_runs"] == 6
    assert (
        burden["diff_ci_low"] == burden["seed_low"]
        and burden["diff_ci_high"] == burden["seed_high"]
    )
    # the effect and shares recomputed from the stored runs, paired on draw and seed
    from sim.experiment.store import load_results

    d = load_results(posterior_store, "district")
    last = d[d["step"] == d["step"].max()].set_index(["replication", "scenario"])["admin_burden"]
    diff = last.xs("wuhou_reform", level="scenario") - last.xs("baseline_2013", level="scenario")
    draws = d.groupby("replication")["draw"].first()
    frame = pd.DataFrame({"g": "a", "draw": draws.loc[diff.index].to_numpy(), "x": diff.to_numpy()})
    expect = decompose_frame(frame, ["g"], "x").iloc[0]
    for column in ("effect", "seed_low", "param_low", "param_high", "share_param"):
        stored = burden["diff"] if column == "effect" else burden[column]
        assert stored == pytest.approx(expect[column], nan_ok=True), column
    assert (
        main(["compare", str(posterior_store), "--at", "final", "--outcomes", "admin_burden"]) == 0
    )
    out = capsys.readouterr().out
    assert "seed noise only [95% CI]" in out and "parameter uncertainty [95%]" in out
    assert "| wuhou_reform | 3 x 2 |" in out and "variance share: seeds / params" in out
    distinct = len(set(d["particle"]))
    assert f"The 3 draws hold {distinct} distinct parameter sets (particles) of the 4" in out
    assert "effective sample size of 4.0" in out and "Warning: with so few distinct" in out
    wide = pd.read_csv(posterior_store / "tables" / "compare_district_final.csv")
    assert {"admin_burden_param_low", "admin_burden_share_param"} <= set(wide)
    cols = pd.read_csv(posterior_store / "tables" / "compare_district_final_columns.csv")
    assert cols["column"].is_unique and "share_seed" in set(cols["column"])


def test_effects_table_interface(posterior_store, tmp_path):
    from sim.analysis.uncertainty import TABLE_COLUMNS, effects_table
    from sim.errors import UserError

    table = effects_table(posterior_store, at="final", outcomes=["admin_burden", "n_orgs"])
    assert tuple(table.columns[: len(TABLE_COLUMNS)]) == TABLE_COLUMNS
    assert list(table["contrast"]) == ["wuhou_reform", "wuhou_reform"]
    assert (table["reference"] == "baseline_2013").all()
    from sim.analysis.compare import compare

    long = compare(posterior_store, at="final", outcomes=["admin_burden", "n_orgs"]).long
    long = long[~long["is_reference"]].reset_index(drop=True)
    assert table["effect"].to_numpy() == pytest.approx(long["diff"].to_numpy())
    for c in ("seed_low", "param_high", "share_param", "n_reps"):
        assert table[c].to_numpy() == pytest.approx(long[c].to_numpy(), nan_ok=True)
    assert (table["share_seed"] + table["share_param"]).dropna().to_numpy() == pytest.approx(1.0)
    from ..analysis.helpers import crn_values, make_store

    make_store(tmp_path, crn_values({"baseline_2013": 0.6, "wuhou_reform": 0.3}, n=3))
    with pytest.raises(UserError, match="not a posterior one"):
        effects_table(tmp_path)


def test_a_tiny_posterior_of_unequal_draws_has_its_hand_computed_parts():
    # draw 0: 0, 1/2 (mean 1/4); draw 1: 1/4, 1/2, 3/4 (mean 1/2); draw 2: 3/2, 2 (mean 7/4).
    # N = 7, D = 3. Within sums of squares 1/8 each: σ² = (3/8) / (N − D) = 3/32.
    # Grand mean 11/14; MSB = Σ n_d (m_d − 11/14)² / 2 = 75/56; n₀ = (7 − 17/7) / 2 = 16/7;
    # τ² = (75/56 − 3/32) / (16/7) = 279/512. Shares: τ² / (τ² + σ²) = 93/109, σ²: 16/109.
    frame = pd.DataFrame(
        {"g": "a", "draw": [0, 0, 1, 1, 1, 2, 2], "x": [0, 0.5, 0.25, 0.5, 0.75, 1.5, 2.0]}
    )
    r = one(frame)
    assert r["var_seed"] == pytest.approx(3 / 32, abs=1e-15)
    assert r["var_param"] == pytest.approx(279 / 512, abs=1e-15)
    assert r["share_param"] == pytest.approx(93 / 109, abs=1e-15)
    assert r["share_seed"] == pytest.approx(16 / 109, abs=1e-15)
    # the effect is the mean of the draw means (each draw counts once), not the grand mean 11/14
    assert r["effect"] == pytest.approx(5 / 6, abs=1e-15)
    assert r["n_draws"] == 3 and r["n_reps"] == pytest.approx(7 / 3)
    # seed-only interval: 5/6 ± t(0.975, 4) · √(σ² · (1/2 + 1/3 + 1/2)) / 3 = ± t · √(1/8) / 3,
    # with t(0.975, 4) = 2.7764451052 (tables)
    half = 2.7764451052 * np.sqrt(1 / 8) / 3
    assert (r["seed_low"], r["seed_high"]) == pytest.approx((5 / 6 - half, 5 / 6 + half), abs=1e-9)
    # parameter interval: draw means pulled towards 5/6 by √(τ² / s²_m), s²_m = 31/48 (their
    # sample variance), i.e. by √(27/32); then numpy's linear percentiles of three values:
    # 2.5% at 0.05 of the way from the first to the second, 97.5% at 0.95 from the second to
    # the third
    a = 5 / 6 + (np.array([0.25, 0.5, 1.75]) - 5 / 6) * np.sqrt(27 / 32)
    low, high = a[0] + 0.05 * (a[1] - a[0]), a[1] + 0.95 * (a[2] - a[1])
    assert (r["param_low"], r["param_high"]) == pytest.approx((low, high), abs=1e-12)


def _posterior_store(root, values, draws, posterior=None):
    """A synthetic posterior store (tests/analysis/helpers.py) whose replication r is of draw
    ``draws[r]``: every district outcome of a run is its level, n_orgs 1000 times it.
    ``posterior``: the manifest's description of the posterior sample, if any."""
    from sim.io import write_json, write_parquet

    from .helpers import make_store

    make_store(root, values, levels=("district",), method="posterior")
    if posterior:
        manifest = json.loads((root / "manifest.json").read_text())
        write_json(manifest | {"posterior": posterior}, root / "manifest.json")
    for path in sorted((root / "data" / "district").glob("*.parquet")):
        frame = pd.read_parquet(path)
        frame.insert(4, "draw", draws[int(frame["replication"].iloc[0])])
        write_parquet(frame, path)
    return root


def test_effects_table_is_the_decomposition_of_each_settings_paired_runs_in_experiment_order(
    tmp_path,
):
    # 2 draws x 2 seeds. zeta − base per replication: 1/8, 1/4 (draw 0), 3/4, 7/8 (draw 1):
    # effect 1/2, σ² = (4 · (1/16)²) / (4 − 2) = 1/128, MSB = 2 · 2 · (5/16)² = 25/64,
    # n₀ = 2, τ² = (25/64 − 1/128) / 2 = 49/256. alpha equals base: effect 0, no shares.
    from sim.analysis.uncertainty import TABLE_COLUMNS, effects_table

    base = np.array([0.5, 0.25, 0.5, 0.25])
    values = {
        "base": base,
        "zeta": base + np.array([0.125, 0.25, 0.75, 0.875]),
        "alpha": base.copy(),
    }
    store = _posterior_store(tmp_path, values, draws=[0, 0, 1, 1])
    table = effects_table(store, at="final", outcomes=["n_orgs", "admin_burden"])
    assert tuple(table.columns[: len(TABLE_COLUMNS)]) == TABLE_COLUMNS
    assert list(table["contrast"]) == ["zeta", "zeta", "alpha", "alpha"]
    assert list(table["outcome"]) == ["n_orgs", "admin_burden"] * 2
    assert (table["reference"] == "base").all()
    assert list(table["n_draws"]) == [2] * 4 and list(table["n_reps"]) == [2.0] * 4
    zeta = table.iloc[1]
    assert (zeta["effect"], zeta["var_seed"], zeta["var_param"]) == (0.5, 1 / 128, 49 / 256)
    assert zeta["share_param"] == pytest.approx((49 / 256) / (49 / 256 + 1 / 128), abs=1e-15)
    # n_orgs is 1000 times admin_burden: its effect and intervals 1000 times, its variances 10⁶
    scaled = table.iloc[0]
    for c in ("effect", "seed_low", "seed_high", "param_low", "param_high"):
        assert scaled[c] == pytest.approx(1000 * zeta[c], abs=1e-9), c
    assert scaled["var_param"] == pytest.approx(1e6 * 49 / 256)
    assert scaled["share_param"] == pytest.approx(zeta["share_param"])
    # the same numbers as decompose_frame of the paired runs
    frame = pd.DataFrame({"g": "a", "draw": [0, 0, 1, 1], "x": values["zeta"] - values["base"]})
    expect = one(frame)
    for c in ("effect", "seed_low", "seed_high", "param_low", "param_high", "share_seed"):
        assert zeta[c] == pytest.approx(expect[c], abs=1e-15), c
    alpha = table.iloc[2]
    assert alpha["effect"] == 0 and alpha["param_low"] == alpha["param_high"] == 0
    assert np.isnan(alpha["share_param"]) and np.isnan(alpha["share_seed"])


def test_compare_of_a_posterior_store_shows_both_intervals_of_each_difference(tmp_path):
    # the store of the effects_table test: zeta − base 1/8, 1/4 (draw 0), 3/4, 7/8 (draw 1).
    # Seed-only interval 1/2 ± t(0.975, 2) · √(1/128) / 2 = 1/2 ± 0.190152 (t = 4.3026527);
    # parameter interval: the draw means 3/16, 13/16 pulled towards 1/2 by √(τ²/s²_m) =
    # √((49/256) / (50/256)), then their 2.5 and 97.5 percentiles: 0.206109, 0.793891;
    # shares σ² : τ² = 1/128 : 49/256 = 2 : 49 (4% / 96%)
    from sim.analysis.compare import compare, markdown

    base = np.array([0.5, 0.25, 0.5, 0.25])
    values = {
        "base": base,
        "zeta": base + np.array([0.125, 0.25, 0.75, 0.875]),
        "alpha": base.copy(),
    }
    posterior = {
        "draws": 2,
        "file": "posterior.csv",
        "replications_per_draw": 2,
        "provenance": {"method": "abc-smc"},
        "sample": [{"particle": 3}, {"particle": 7}],
        "n_particles": 40,
        "effective_sample_size": 12.5,
    }
    store = _posterior_store(tmp_path, values, draws=[0, 0, 1, 1], posterior=posterior)
    cmp = compare(store, at="final", outcomes=["admin_burden"])
    zeta = cmp.long.set_index("setting").loc["zeta"]
    half = 4.302652729749464 * np.sqrt(1 / 128) / 2
    assert (zeta["diff"], zeta["n_draws"], zeta["n_reps"], zeta["n_runs"]) == (0.5, 2, 2.0, 4)
    assert (zeta["diff_ci_low"], zeta["diff_ci_high"]) == (zeta["seed_low"], zeta["seed_high"])
    assert (zeta["seed_low"], zeta["seed_high"]) == pytest.approx((0.5 - half, 0.5 + half))
    a = 0.5 + np.array([-0.3125, 0.3125]) * np.sqrt(49 / 50)
    expect = (a[0] + 0.025 * (a[1] - a[0]), a[0] + 0.975 * (a[1] - a[0]))
    assert (zeta["param_low"], zeta["param_high"]) == pytest.approx(expect)
    assert zeta["share_seed"] == pytest.approx(2 / 51) and zeta["share_param"] == pytest.approx(
        49 / 51
    )
    # d_z and the p-value pool the four runs: 1/2 over their sd √(13/96)
    assert zeta["d_z"] == pytest.approx(0.5 * np.sqrt(96 / 13))
    lines = markdown(cmp).splitlines()
    head = (
        "| setting | draws x seeds | mean (%) | difference (pp) | seed noise only [95% CI] | "
        "parameter uncertainty [95%] | variance share: seeds / params |"
    )
    assert head in lines
    assert "| base | 2 x 2 | 37.5 | (reference) |  |  |  |" in lines
    assert "| zeta | 2 x 2 | 87.5 | +50.0 | [+31.0, +69.0] | [+20.6, +79.4] | 4% / 96% |" in lines
    assert "| alpha | 2 x 2 | 37.5 | 0.0 | [0.0, 0.0] | [0.0, 0.0] | n/a |" in lines
    assert cmp.notes[1].startswith(
        "Posterior experiment: 2 draws from the posterior sample posterior.csv (abc-smc) x 2 "
        "seeds per draw;"
    )
    assert cmp.notes[-1].startswith(
        "The 2 draws hold 2 distinct parameter sets (particles) of the 40 in the file, whose "
        "weights give a Kish effective sample size of 12.5. Warning:"
    )


def test_compare_of_a_posterior_store_without_its_description_says_what_is_unknown(tmp_path):
    from sim.analysis.compare import compare

    values = {"base": np.array([0.5, 0.25]), "zeta": np.array([0.625, 0.5])}
    cmp = compare(_posterior_store(tmp_path, values, draws=[0, 1]), at="final")
    assert cmp.notes[1].startswith(
        "Posterior experiment: ? draws from the posterior sample ? x ? seeds per draw;"
    )
    assert cmp.notes[-1].startswith(
        "The 0 draws hold 0 distinct parameter sets (particles) of the ?"
    )
