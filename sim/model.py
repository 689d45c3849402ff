"""The district model: one step is one month, processes 1-9 of MODEL_BRIEF in order."""

from __future__ import annotations

from collections import Counter
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim.errors import ScenarioError
from sim.metrics import build_results, model_reporters
from sim.params import Params, Policy
from sim.population import build_world
from sim.processes.community_work import allocate_staff_time
from sim.processes.delivery import deliver
from sim.processes.items import flow_items
from sim.processes.labour import staff_organizations, workers_month
from sim.processes.organizations import organizations_month
from sim.processes.policy import apply_policy
from sim.processes.procurement import YearBooks, appropriate
from sim.processes.residents import serve_residents
from sim.scenario import Scenario, default_scenario

# Independent random streams, one per process family: a lever that changes how often one process
# draws does not shift the draws of the others, so scenarios compared on the same seed share as
# much randomness as possible (common random numbers).
STREAMS = ("init", "items", "entry", "procurement", "orgs", "labour")


def seed_sequence(rng: Any) -> np.random.SeedSequence:
    """A SeedSequence from an int, a SeedSequence, a Generator or None (fresh entropy)."""
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.SeedSequence(None if rng is None else int(rng))
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(int(rng.integers(2**63)))
    raise TypeError(f"rng must be an int, a SeedSequence, a Generator or None, not {type(rng)}")


class DistrictModel(mesa.Model):
    """三社联动 in a district: communities, streets, departments, social organizations, workers.

    Args:
        scenario: a :class:`~sim.scenario.Scenario` (from :func:`~sim.load_scenario`); by default
            the pre-reform district with every default.
        rng: seed (int), ``numpy.random.SeedSequence``, Generator, or None for fresh entropy.
            The seed's entropy and spawn key are kept in ``seed_info``.
        **overrides: any policy lever or model parameter by name, held constant over the run
            (e.g. ``purchase_budget=0``), so Mesa's own tools can drive the model.

    Mesa's ``Model`` has an experimental ``scenario=`` argument of its own; this model keeps its
    scenario in ``self.spec`` and hands Mesa only the seed, so the two never clash.
    """

    def __init__(self, scenario: Scenario | None = None, *, rng: Any = None, **overrides: Any):
        if scenario is not None and not isinstance(scenario, Scenario):
            raise TypeError(
                "DistrictModel(scenario=...) takes a sim Scenario (from sim.load_scenario), not "
                f"{type(scenario).__name__}; Mesa's own experimental Scenario is not used here "
                "(levers go in as keyword arguments)"
            )
        seq = seed_sequence(rng)
        children = seq.spawn(len(STREAMS) + 1)
        super().__init__(rng=np.random.default_rng(children[0]))
        self.seed_info = {"entropy": seq.entropy, "spawn_key": list(seq.spawn_key)}
        self.streams = {
            name: np.random.default_rng(child)
            for name, child in zip(STREAMS, children[1:], strict=True)
        }

        spec = scenario if scenario is not None else default_scenario()
        if overrides:
            spec = spec.with_overrides(_dotted(overrides))
        self.spec = spec
        self.schedule = spec.schedule
        self.params: Params = spec.params
        self.district = spec.district
        # Month of the run, 0-based, set at each step; negative in the burn-in months before it.
        self.first_t = -self.params.burn_in_months
        self.t = self.first_t
        self.month_index = spec.start + self.t
        self.policy: Policy = self.schedule.at(0)
        self.books: dict[int, YearBooks] = {}
        self.month_stats: Counter[str] = Counter()
        self.brand_invited = 0
        self.project_money = 0.0  # project money not yet committed this budget year
        self.org_agents: list[mesa.Agent] = []
        self.worker_agents: list[mesa.Agent] = []
        build_world(self)
        self.org_load = np.zeros(len(self.orgs))
        self.agent_steps = 0
        self._burn_in()

        self.datacollector = mesa.DataCollector(model_reporters=model_reporters())
        self.running = True

    # -- the month ------------------------------------------------------------------------------
    def step(self) -> None:
        """One month: processes 1-9 (see docs/ODD.md, 'Process overview and scheduling')."""
        self._month(self.steps - 1)
        self.datacollector.collect(self)  # 9. measure
        if self.steps >= self.spec.months:
            self.running = False

    def _burn_in(self) -> None:
        """Simulate ``burn_in_months`` before the first month under its policy, unrecorded, then
        forget their money and counters: the run starts from the district's own steady state."""
        for t in range(self.first_t, 0):
            self._month(t)
        self.books = {}
        self.lots.remaining = 0.0  # commitments of burn-in contracts are forgotten with the books
        self.month_stats = Counter()
        self.t = 0
        self.month_index = self.spec.start
        self.policy = self.schedule.at(0)

    def _month(self, t: int) -> None:
        """Processes 1-8 of month ``t``."""
        self.t = t
        self.month_index = self.spec.start + t
        self.policy = self.schedule.at(t)
        self.month_stats = Counter()
        apply_policy(self)  # 1. policy
        appropriate(self)  # 4a. budgets; letting contracts and projects when due
        flow_items(self)  # 2-3. items flow down; entry control
        staff_organizations(self)  # 8a. organizations staff up for their work
        deliver(self)  # 5b. organizations deliver; payments
        allocate_staff_time(self)  # 5a. community staff time
        serve_residents(self)  # 6. residents are served
        organizations_month(self)  # 7. organizations live and die
        workers_month(self)  # 8b. social workers
        self.agent_steps += len(self.agents)

    # -- helpers used by processes --------------------------------------------------------------
    def year_books(self) -> YearBooks:
        """The books of the current calendar year."""
        return self.books.setdefault(self.month_index // 12, YearBooks())

    def workers_per_org(self) -> np.ndarray:
        w = self.workers
        employed = w.alive & (w.employer >= 0)
        return np.bincount(w.employer[employed], None, len(self.orgs))

    # -- outputs --------------------------------------------------------------------------------
    def results(self) -> dict[str, pd.DataFrame]:
        """Tidy tables 'district', 'street', 'community': one row per month (and unit)."""
        return build_results(self)

    def budget_books(self) -> pd.DataFrame:
        """Money by calendar year: appropriated, committed, spent and unspent, per budget line."""
        rows = []
        for year, b in sorted(self.books.items()):
            rows.append(
                {
                    "year": year,
                    "purchase_appropriated": b.purchase_appropriated,
                    "purchase_committed": b.purchase_committed,
                    "purchase_spent": b.purchase_spent,
                    "purchase_unspent": b.purchase_appropriated - b.purchase_spent,
                    "project_appropriated": b.project_appropriated,
                    "project_committed": b.project_committed,
                    "project_spent": b.project_spent,
                    "project_unspent": b.project_appropriated - b.project_spent,
                    "funded_item_spent": b.funded_item_spent,
                    "lots_offered": b.lots_offered,
                    "lots_let": b.lots_let,
                    "lots_relet": b.lots_relet,
                    "incubation_grants": b.incubation_grants,
                    "projects_applied": b.projects_applied,
                    "projects_funded": b.projects_funded,
                }
            )
        return pd.DataFrame(rows)


def _dotted(overrides: dict[str, Any]) -> dict[str, Any]:
    """Map keyword overrides to scenario keys, refusing names that are neither lever nor param."""
    out = {}
    for key, value in overrides.items():
        if key in Policy.model_fields:
            out[f"policy.{key}"] = value
        elif key in Params.model_fields:
            out[f"params.{key}"] = value
        else:
            raise ScenarioError(
                "DistrictModel(...)",
                key,
                "is not a policy lever or model parameter",
                "see docs/parameters.md",
            )
    return out
