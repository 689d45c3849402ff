"""Benchmark: the default wuhou_reform run against Mesa's BoltzmannWealth, in one process.

Times the full district over 48 months with its output tables (``results()``), and Mesa's bundled
BoltzmannWealth example sized to the same number of agent-steps (agents alive summed over months).
Runs alternate, so both see the same machine load; the ratio is the figure to report.

    python benchmarks/bench_model.py [--repeats N]

Targets (issue 2): the full run under 0.25 s, and no slower per agent-step than BoltzmannWealth.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario, BoltzmannWealth

from sim import DistrictModel, load_scenario

ROOT = Path(__file__).resolve().parents[1]


def time_district(scenario) -> tuple[float, int]:
    start = time.perf_counter()
    model = DistrictModel(scenario, rng=1)
    model.run_for(scenario.months)
    model.results()
    return time.perf_counter() - start, model.agent_steps


def time_boltzmann(n_agents: int, months: int) -> float:
    side = max(10, int((n_agents / 4) ** 0.5))  # about 4 agents per cell
    start = time.perf_counter()
    model = BoltzmannWealth(BoltzmannScenario(n=n_agents, width=side, height=side, rng=1))
    model.run_for(months)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    scenario = load_scenario(ROOT / "scenarios" / "wuhou_reform.toml")
    time_district(scenario)  # warm-up: imports and caches
    ours, theirs = [], []
    agent_steps = 0
    for _ in range(args.repeats):
        seconds, agent_steps = time_district(scenario)
        ours.append(seconds)
        theirs.append(time_boltzmann(round(agent_steps / scenario.months), scenario.months))
    ours_med, theirs_med = statistics.median(ours), statistics.median(theirs)
    per_ours = ours_med / agent_steps * 1e6
    per_theirs = theirs_med / agent_steps * 1e6
    print(
        f"wuhou_reform, 48 months with output: median {ours_med:.3f} s over {args.repeats} runs "
        f"(min {min(ours):.3f}, max {max(ours):.3f}); target < 0.25 s"
    )
    print(f"agent-steps: {agent_steps:,} ({agent_steps // scenario.months:,} agents a month)")
    print(f"per agent-step: sanshe {per_ours:.2f} us, BoltzmannWealth {per_theirs:.2f} us")
    print(
        f"ratio sanshe / BoltzmannWealth per agent-step: {per_ours / per_theirs:.2f} (target <= 1)"
    )


if __name__ == "__main__":
    main()
