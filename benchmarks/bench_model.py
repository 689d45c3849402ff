"""Benchmark: the default wuhou_reform run against Mesa's BoltzmannWealth, in one process.

Times the full district over 48 months with its output tables (``results()``), and Mesa's bundled
BoltzmannWealth example sized to the same number of agent-steps (agents alive summed over months).
Runs alternate, so both see the same machine load; the ratio is the figure to report.

    python benchmarks/bench_model.py [--repeats N] [--smoke]

Targets: issue 2, the full run under 0.25 s; issue 12, at most 0.15 times BoltzmannWealth's time
per agent-step (median of at least 7 alternating runs; 0.1 is the moonshot). An agent-step is one
agent alive in one month (burn-in months included), counted from the model's tables, so it does
not depend on when Mesa agent objects are made. ``--smoke`` runs once for 3 months (CI), and its
figures mean nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario, BoltzmannWealth

from sim import DistrictModel, Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]


def time_district(scenario: Scenario) -> tuple[float, int]:
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
    parser.add_argument("--smoke", action="store_true", help="one 3-month run (CI)")
    args = parser.parse_args()
    overrides = ["run.months=3"] if args.smoke else []
    if args.smoke:
        args.repeats = 1
    scenario = load_scenario(ROOT / "scenarios" / "wuhou_reform.toml", overrides)
    load = os.getloadavg()[0]
    time_district(scenario)  # warm-up: imports and caches
    ours, theirs = [], []
    agent_steps = 0
    for _ in range(args.repeats):
        seconds, agent_steps = time_district(scenario)
        ours.append(seconds)
        theirs.append(time_boltzmann(round(agent_steps / scenario.months), scenario.months))
    ours_med, theirs_med = statistics.median(ours), statistics.median(theirs)
    ratio = statistics.median(a / b for a, b in zip(ours, theirs, strict=True))
    print(
        f"wuhou_reform, {scenario.months} months with output: median {ours_med:.3f} s over "
        f"{args.repeats} runs (min {min(ours):.3f}, max {max(ours):.3f}); target < 0.25 s"
    )
    print(f"agent-steps: {agent_steps:,} ({agent_steps // scenario.months:,} agents a month)")
    print(
        f"per agent-step: sanshe {ours_med / agent_steps * 1e6:.2f} us, "
        f"BoltzmannWealth {theirs_med / agent_steps * 1e6:.2f} us (medians)"
    )
    print(
        f"ratio sanshe / BoltzmannWealth per agent-step: {ratio:.3f}, median of {args.repeats} "
        f"alternating pairs (ratio of medians {ours_med / theirs_med:.3f}); target <= 0.15; "
        f"load average before: {load:.1f} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
