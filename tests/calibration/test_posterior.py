"""What a posterior says (sim.calibration.posterior), on tiny weighted samples worked out by hand."""

import numpy as np
import pandas as pd
import pytest

from sim.calibration.abc import PREDICTIVE_STREAM
from sim.calibration.posterior import (
    correlations,
    draw_particles,
    effective_sample_size,
    identifiability,
    identifiability_markdown,
    pairs_figure,
    parameter_label,
    predictive_markdown,
    predictive_runs,
    predictive_table,
    sampled,
    summary_markdown,
)
from sim.calibration.targets import FreeParameter, Target, Targets

RATE, SWITCH = "params.group_formation_rate", "params.switchers_per_month"


def _targets(targets=(), parameters=None) -> Targets:
    parameters = parameters or (
        FreeParameter(SWITCH, 0.0, 12.0),
        FreeParameter(RATE, 1.0, float(np.e**3), "log-uniform"),
    )
    return Targets("t", "", "t.toml", tuple(targets), "r", "c", tuple(parameters), root_seed=5)


def _target(name, role, **kw) -> Target:
    base = dict(quantity="n_orgs", when="2014-05", statistic="value", scenario="reform",
                facts="F1", why="test", description="")  # fmt: skip
    return Target(name=name, role=role, **(base | kw))


# Three draws, weights 2 : 1 : 1 (not normalised): switchers 0, 3, 6 (uniform prior 0-12) and the
# rate 1, e², e (log-uniform prior 1-e³, so on the prior's scale 0, 2, 1). Normalised weights
# 1/2, 1/4, 1/4: switchers' mean 9/4, variance 99/16; the rate's log mean 3/4, variance 11/16;
# covariance 21/16, so the correlation is (21/16) / √(99/16 · 11/16) = (21/16) / (33/16) = 7/11.
POSTERIOR = pd.DataFrame(
    {SWITCH: [0.0, 3.0, 6.0], RATE: [1.0, np.e**2, np.e], "weight": [2.0, 1.0, 1.0]}
)


def test_weighted_correlation_of_three_draws_is_seven_elevenths():
    c = correlations(_targets(), POSTERIOR)
    assert len(c) == 1
    row = c.iloc[0]
    assert (row["a"], row["b"]) == (SWITCH, RATE)
    assert row["correlation"] == pytest.approx(7 / 11, abs=1e-12)
    # the weights are a ratio: scaled, nothing changes
    again = correlations(_targets(), POSTERIOR.assign(weight=POSTERIOR["weight"] / 4))
    assert again.iloc[0]["correlation"] == pytest.approx(7 / 11, abs=1e-12)


def test_identifiability_of_three_weighted_draws_by_hand():
    ident = identifiability(_targets(), POSTERIOR).set_index("parameter")
    sw, rate = ident.loc[SWITCH], ident.loc[RATE]
    # weighted quantiles (abc.weighted_quantile): sorted values at cumulative weights minus half
    # their own, 1/4, 5/8, 7/8; the median interpolates 2/3 of the way from the first to the
    # second, the 5% and 95% quantiles are the extremes
    assert (sw["median"], sw["p05"], sw["p95"]) == pytest.approx((2.0, 0.0, 6.0), abs=1e-12)
    assert rate["median"] == pytest.approx(1 + 2 / 3 * (np.e - 1), abs=1e-12)
    assert (rate["p05"], rate["p95"]) == pytest.approx((1.0, np.e**2), abs=1e-12)
    # widths: posterior sd over the prior's (12/√12 on the natural scale, 3/√12 on the log scale)
    assert sw["width_ratio"] == pytest.approx(np.sqrt(99 / 16) / (12 / np.sqrt(12)), abs=1e-12)
    assert rate["width_ratio"] == pytest.approx(np.sqrt(11 / 16) / (3 / np.sqrt(12)), abs=1e-12)
    assert sw["correlation"] == rate["correlation"] == pytest.approx(7 / 11, abs=1e-12)
    assert sw["strongest_with"] == parameter_label("group_formation_rate")
    assert rate["strongest_with"] == parameter_label("switchers_per_month")
    assert rate["prior"] == f"log-uniform 1-{np.e**3:.4g}" and sw["prior"] == "uniform 0-12"


def test_effective_sample_size_is_kish_of_the_normalised_weights():
    # weights 1/2, 1/4, 1/4: 1 / (1/4 + 1/16 + 1/16) = 8/3
    assert effective_sample_size(POSTERIOR) == pytest.approx(8 / 3, abs=1e-12)
    assert effective_sample_size(POSTERIOR.assign(weight=[1.0, 1.0, 1.0])) == pytest.approx(3.0)


def test_particles_are_drawn_systematically_by_weight():
    # cumulative weights 1/2, 3/4, 1; four points (u + 0, 1, 2, 3) / 4 with 0 < u < 1 fall in
    # [0, 1/4), (1/4, 1/2), (1/2, 3/4), (3/4, 1): particles 0, 0, 1, 2 whatever u is
    drawn = draw_particles(POSTERIOR, 4, root_seed=5)
    assert list(drawn[SWITCH]) == [0.0, 0.0, 3.0, 6.0]
    assert list(drawn.index) == [0, 1, 2, 3]
    # one point among three equal weights: u from the predictive stream of the root seed picks it
    equal = POSTERIOR.assign(weight=1.0)
    for seed in range(6):
        u = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(PREDICTIVE_STREAM,)))
        expected = int(u.random() * 3)
        assert draw_particles(equal, 1, seed)[SWITCH].tolist() == [3.0 * expected]
    # a particle of weight 0 is never drawn; the last one is drawn to the end
    assert draw_particles(POSTERIOR.assign(weight=[0.0, 0.0, 1.0]), 3, 1)[SWITCH].tolist() == [
        6.0,
        6.0,
        6.0,
    ]


def test_a_posterior_row_is_the_models_input_in_logarithms_where_sampled_so():
    row = POSTERIOR.iloc[1]
    assert sampled(_targets(), row) == {SWITCH: 3.0, "log:" + RATE: pytest.approx(2.0, abs=1e-15)}


# Five draws of each target, one not finite (dropped): 1, 2, 3, 4, 5. np.quantile: median 3, 5%
# 1 + 0.05 · 4 = 1.2, 95% 4.8.
RUNS = pd.DataFrame(
    {
        "edge": [5.0, 1.0, np.nan, 4.0, 2.0, 3.0],
        "miss": [5.0, 1.0, np.inf, 4.0, 2.0, 3.0],
        "never": [np.nan] * 6,
    }
)


def test_predictive_verdicts_are_the_medians_within_tolerance_exactly_at_the_bound():
    targets = _targets(
        [
            _target("never", "check", lower=1.0),
            _target("miss", "held_out", observed=4.0, tolerance=0.999, denominator="n_groups"),
            _target("edge", "fit", observed=4.0, tolerance=1.0, change_from="2013-05"),
        ]
    )
    t = predictive_table(targets, RUNS)
    assert list(t["target"]) == ["edge", "miss", "never"]  # fit, held-out, checks
    assert list(t["role"]) == ["fit", "held_out", "check"]
    edge, miss, never = (t.iloc[i] for i in range(3))
    for r in (edge, miss):
        assert (r["median"], r["draws"]) == (3.0, 5)
        assert (r["p05"], r["p95"]) == pytest.approx((1.2, 4.8), abs=1e-12)
    # edge: 3 <= x <= 5 for 3, 4, 5 of the five, and the median 3 sits on the lower bound: met
    assert (edge["share_met"], edge["met"]) == (0.6, "yes")
    # miss: bounds 3.001 to 4.999: only 4 is within, the median is not
    assert (miss["share_met"], miss["met"]) == (0.2, "no")
    assert never["met"] == "not measured" and never["draws"] == 0
    assert np.isnan(never["median"]) and np.isnan(never["share_met"]) and np.isnan(never["p05"])
    assert edge["when"] == "2014-05 vs 2013-05" and miss["quantity"] == "n_orgs / n_groups"
    assert edge["observed"] == "4 ± 1" and never["observed"] == ">= 1"
    assert (edge["facts"], edge["statistic"], edge["scenario"]) == ("F1", "value", "reform")


def test_the_predictive_markdown_has_a_section_per_role_with_each_targets_line():
    targets = _targets(
        [
            _target("edge", "fit", observed=4.0, tolerance=1.0),
            _target("miss", "check", observed=4.0, tolerance=0.999, scenario="difference"),
        ]
    )
    text = predictive_markdown(predictive_table(targets, RUNS))
    head = (
        "| target | facts | quantity | when | observed | posterior-predictive median "
        "[90% interval] | draws within | met |\n|---|---|---|---|---|---|---|---|"
    )
    assert text == (
        f"**Fit targets (in the distance)**\n\n{head}\n"
        "| edge | F1 | n_orgs | 2014-05 (value) | 4 ± 1 | 3 [1.2, 4.8] | 60% | yes |\n\n"
        f"**Checks (policy inputs, never fitted)**\n\n{head}\n"
        "| miss | F1 | n_orgs (difference) | 2014-05 (value) | 4 ± 0.999 | 3 [1.2, 4.8] "
        "| 20% | no |"
    )


def test_the_identifiability_markdown_warns_below_thirty_effective_particles():
    ident = identifiability(_targets(), POSTERIOR)
    corr = correlations(_targets(), POSTERIOR)
    text = identifiability_markdown(ident, corr, ess=29.9)
    assert text.startswith("Effective sample size of the posterior: 29.9 particles (Kish). Widths")
    at = identifiability_markdown(ident, corr, ess=30.0)
    assert at.startswith("Effective sample size of the posterior: 30.0 particles (Kish).\n\n|")
    bare = identifiability_markdown(ident, corr)
    sw_label = parameter_label("switchers_per_month")
    rate_label = parameter_label("group_formation_rate")
    rate_median = 1 + 2 / 3 * (np.e - 1)
    assert bare.splitlines() == [
        "| parameter | prior | posterior median [90%] | posterior/prior width | strongest "
        "correlation |",
        "|---|---|---|---|---|",
        f"| {sw_label} (`switchers_per_month`) | uniform 0-12 | 2 [0, 6] "
        f"| {np.sqrt(99 / 16) / np.sqrt(12):.2f} | +0.64 with {rate_label} |",
        f"| {rate_label} (`group_formation_rate`) | log-uniform 1-20.09 "
        f"| {rate_median:.4g} [1, 7.389] | {np.sqrt(11 / 16) / (3 / np.sqrt(12)):.2f} "
        f"| +0.64 with {sw_label} |",
        "",
        "Strongest posterior correlations (ridges):",
        "",
        "| parameter | parameter | correlation |",
        "|---|---|---|",
        f"| {sw_label} | {rate_label} | +0.64 |",
    ]
    assert at.endswith(bare)


def test_the_identifiability_markdown_lists_the_six_strongest_pairs_unless_told():
    # five parameters: ten pairs, six listed by default, all ten with top=10
    keys = ["group_formation_rate", "switchers_per_month", "participation_max",
            "agency_lookahead_months", "outside_wage"]  # fmt: skip
    params = tuple(FreeParameter(f"params.{k}", 0.0, 100.0) for k in keys)
    rng = np.random.default_rng(4)
    post = pd.DataFrame({f"params.{k}": rng.random(9) for k in keys}).assign(weight=1.0)
    targets = _targets(parameters=params)
    corr = correlations(targets, post)
    assert len(corr) == 10
    assert list(corr["correlation"].abs()) == sorted(corr["correlation"].abs(), reverse=True)
    ident = identifiability(targets, post)

    def ridges(text):
        return text.split("(ridges):", 1)[1].strip().splitlines()[2:]

    assert len(ridges(identifiability_markdown(ident, corr))) == 6
    assert len(ridges(identifiability_markdown(ident, corr, top=10))) == 10


def test_predictive_runs_are_the_drawn_particles_and_the_models_values_in_draw_order(monkeypatch):
    import sim.calibration.posterior as posterior

    made = []

    class Model:
        def __init__(self, targets, replications, stream, reform_path):
            made.append((replications, stream, reform_path))

        def __call__(self, pars):
            return {"edge": pars[SWITCH] + pars["log:" + RATE]}

    monkeypatch.setattr(posterior, "ParticleModel", Model)
    runs = predictive_runs(_targets(), POSTERIOR, 4, 3, reform_path="x.toml")
    assert made == [(3, PREDICTIVE_STREAM, "x.toml")]
    # the draws of test_particles_are_drawn_systematically_by_weight: particles 0, 0, 1, 2
    assert list(runs.columns) == [SWITCH, RATE, "edge", "draw"]
    assert list(runs[SWITCH]) == [0.0, 0.0, 3.0, 6.0] and list(runs["draw"]) == [0, 1, 2, 3]
    assert list(runs[RATE]) == [1.0, 1.0, np.e**2, np.e]
    assert list(runs["edge"]) == pytest.approx([0.0, 0.0, 5.0, 7.0], abs=1e-12)


INFO = {
    "pyabc_version": "0.12",
    "sampler": "serial",
    "generations": 3,
    "population": 4,
    "replications": 2,
    "epsilon_schedule": [float("inf"), 2.5, 1.25],
    "model_evaluations": 1234,
    "model_runs": 2468,
    "root_seed": 5,
    "git_commit": "0123456789abcdef",
}


def test_the_summary_says_how_the_distance_and_epsilon_were_set():
    adaptive = INFO | {"distance": "adaptive", "scale": "rmsd", "scale_floor": 0.5,
                       "epsilon_quantile": 0.7, "kernel_scaling": 2.0,
                       "effective_sample_size": [4.0, 3.25]}  # fmt: skip
    assert summary_markdown(adaptive) == (
        "ABC-SMC (pyabc 0.12, serial sampler): 3 generations of 4 particles, 2 replications each "
        "(reform and counterfactual on the same seeds); adaptive distance (scales: rmsd of the "
        "previous generation's errors, at least 0.5 tolerance), epsilon the 0.7 quantile of the "
        "previous generation's distances, perturbation kernel covariance 2 x Silverman's rule of "
        "thumb; epsilon inf, 2.5, 1.25; effective sample size of the last generation 3.2; 1,234 "
        "particles simulated (2,468 model runs); root seed 5; commit 0123456789ab."
    )
    # a run from before these settings were kept: fixed distance, median, no kernel scaling,
    # no effective sample size
    assert summary_markdown(INFO) == (
        "ABC-SMC (pyabc 0.12, serial sampler): 3 generations of 4 particles, 2 replications each "
        "(reform and counterfactual on the same seeds); fixed distance (tolerances), epsilon the "
        "0.5 quantile of the previous generation's distances, perturbation kernel covariance 1 x "
        "Silverman's rule of thumb; epsilon inf, 2.5, 1.25; effective sample size of the last "
        "generation nan; 1,234 particles simulated (2,468 model runs); root seed 5; commit "
        "0123456789ab."
    )


def test_the_pairs_figure_is_the_weighted_posterior_over_the_priors():
    fig = pairs_figure(_targets(), POSTERIOR)
    (sw_hist, corr_cell), (scatter, rate_hist) = np.reshape(fig.axes, (2, 2))
    # diagonal: weighted histograms over the prior (log bins and axis for the rate)
    heights = [p.get_height() for p in sw_hist.patches]
    assert sum(heights) == 4.0 and max(heights) == 2.0  # the weights 2, 1, 1
    assert sw_hist.get_xlim() == (0.0, 12.0) and sw_hist.patches[0].get_alpha() == 0.7
    assert rate_hist.get_xscale() == "log" and sum(p.get_height() for p in rate_hist.patches) == 4
    # below: every particle, sized by weight, no edge; above: the correlation, red from 0.5
    dots = scatter.collections[0]
    assert list(dots.get_sizes()) == [66.0, 36.0, 36.0] and list(dots.get_linewidths()) == [0]
    assert scatter.get_yscale() == "log" and scatter.get_xlim() == (0.0, 12.0)
    (text,) = corr_cell.texts
    assert text.get_text() == "+0.64" and text.get_color() == "tab:red"
    assert text.get_fontsize() == pytest.approx(8 + 6 * 7 / 11)
    # labels on the outer edges only
    assert not sw_hist.xaxis.get_tick_params()["labelbottom"]
    assert scatter.xaxis.get_tick_params()["labelbottom"]
    assert scatter.get_ylabel() != "" and sw_hist.get_ylabel() == ""
    assert fig.get_suptitle() == "Posterior (ABC-SMC): pairs, weighted; red: |correlation| >= 0.5"
    assert pairs_figure(_targets(), POSTERIOR, title="t").get_suptitle() == "t"
