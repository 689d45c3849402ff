"""The district model, Mesa's face of the simulation: one step is one month.

The state lives in a :class:`~sim.world.World` (built by :func:`~sim.population.build_world`);
each month runs the processes of :data:`MONTH` on it and the DataCollector measures (process 9).
The Mesa agents follow the world's row changes when they are looked at
(:meth:`DistrictModel.sync_agents`).
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import mesa
import numpy as np
import pandas as pd
from threadpoolctl import CONTROLLING_THREAD_OWNERSHIP, ThreadpoolController

from sim.agents import ORG_CLASSES, Community, Department, Residents, SocialWorker, Street
from sim.errors import ScenarioError, did_you_mean
from sim.metrics import OutputCollector, Recorder, build_results
from sim.params import Params, Policy
from sim.population import build_world
from sim.processes.community_work import allocate_staff_time
from sim.processes.delivery import deliver
from sim.processes.departments import departments_month
from sim.processes.items import flow_items
from sim.processes.labour import staff_organizations, workers_month
from sim.processes.organizations import organizations_month
from sim.processes.policy import apply_policy
from sim.processes.procurement import appropriate
from sim.processes.residents import serve_residents
from sim.scenario import Scenario, default_scenario
from sim.tables import Table
from sim.world import STREAMS, Process, Streams, World, YearBooks

# Processes 1-8 of a month, in order (see docs/ODD.md, 'Process overview and scheduling'); each
# is called as process(world, policy, params). Process 9 (measure) is the DataCollector.
MONTH: tuple[Process, ...] = (
    apply_policy,  # 1. policy
    appropriate,  # 4a. budgets; letting contracts and projects when due
    departments_month,  # 2a. campaigns; lists cut and reviewed (v2)
    flow_items,  # 2-3. items flow down; issuers and communities decide
    staff_organizations,  # 8a. organizations staff up for their work
    deliver,  # 5b. organizations deliver; payments
    allocate_staff_time,  # 5a. community staff time
    serve_residents,  # 6. residents are served
    organizations_month,  # 7. organizations live and die
    workers_month,  # 8b. social workers
)


class OneBlasThread:
    """While held, the loaded BLAS libraries run on one thread; the first holder to enter sets
    them to one, the last to leave sets back what they had (re-entrant and safe between threads).

    The model's numpy work runs under it (building, the months, ``results()``), so a run's results
    do not depend on the number of cores: a threaded BLAS product splits its sums over threads,
    and where OpenBLAS splits a large district's products (item flows, street sums) the last bits
    of the outputs moved with the thread count (benchmarks/README.md, 'Scale, profiled'). One
    thread is also faster for these products on a shared machine, and sweep workers do not each
    start a BLAS thread per core. Nothing is left changed when no model is working. threadpoolctl
    finds the libraries (numpy's OpenBLAS, and scipy's if loaded; MKL, BLIS, FlexiBLAS) once, at
    the first use; it calls their own get/set-threads functions, about 10 us a month.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._libraries: list[Any] | None = None
        self._saved: list[int | None] = []

    def __enter__(self) -> None:
        with self._lock:
            if self._depth == 0:
                if self._libraries is None:
                    found = ThreadpoolController().select(user_api="blas")
                    self._libraries = list(found.lib_controllers)
                self._saved = [lib.get_num_threads() for lib in self._libraries]
                self._set([1 if n is not None else None for n in self._saved])
            self._depth += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                self._set(self._saved)

    def _set(self, threads: list[int | None]) -> None:
        """Set each library's threads where they differ. threadpoolctl lets one Python thread at
        a time set OpenBLAS's shared pool (the one that set it last, until it lets go), so this
        thread takes it for the call and lets go after (unless it held it before), as
        threadpoolctl's own ``limit`` does: the last to leave may be another thread than the
        first to enter (a threaded dask worker, the dashboard's play thread)."""
        assert self._libraries is not None
        CONTROLLING_THREAD_OWNERSHIP.increment()
        try:
            for lib, n in zip(self._libraries, threads, strict=True):
                if n is not None and lib.get_num_threads() != n:
                    lib.set_num_threads(n)
        finally:
            CONTROLLING_THREAD_OWNERSHIP.decrement()


ONE_BLAS_THREAD = OneBlasThread()


def _one_blas_thread[**P, R](method: Callable[P, R]) -> Callable[P, R]:
    """Run ``method`` under :data:`ONE_BLAS_THREAD`."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with ONE_BLAS_THREAD:
            return method(*args, **kwargs)

    return wrapper


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

    @_one_blas_thread
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

        spec = scenario if scenario is not None else default_scenario()
        if overrides:
            spec = spec.with_overrides(_dotted(overrides))
        self.spec = spec
        self.schedule = spec.schedule
        self.params: Params = spec.params
        self.district = spec.district
        self.policy: Policy = self.schedule.at(0)  # the policy of the current month
        # All state the processes act on (sim.world); the model adds the Mesa face.
        self.world: World = build_world(
            self.params,
            self.district,
            self.schedule,
            Streams.from_seeds(children[1:]),
            start=spec.start,
            first_t=-self.params.burn_in_months,
        )
        # Mesa agent objects are made lazily, when someone looks at them (sync_agents).
        self._structure_agents_made = False
        self._org_agents: list[mesa.Agent] = []  # by row of world.orgs
        self._worker_agents: list[mesa.Agent] = []  # by row of world.workers
        self.agent_steps = 0  # agents alive summed over months (benchmarks/bench_model.py)
        self._burn_in()

        # 9. measure: outputs (sim/outputs.py) go to preallocated arrays; Mesa's tools read them
        # through a DataCollector whose reporters are every district output, as scalars.
        self.recorder = Recorder(self, self.spec.months)
        self.datacollector = OutputCollector(self.recorder)
        self.running = True

    # -- the month ------------------------------------------------------------------------------
    @_one_blas_thread
    def step(self) -> None:
        """One month: processes 1-9 (see docs/ODD.md, 'Process overview and scheduling')."""
        self._month(self.steps - 1)
        self.datacollector.collect(self)  # 9. measure
        if self.steps >= self.spec.months:
            self.running = False

    # Mesa's ways of running many months hold the one BLAS thread once, not once a month.
    @_one_blas_thread
    def run_for(self, duration: float | int) -> None:
        """Run ``duration`` months (Mesa's ``Model.run_for``)."""
        super().run_for(duration)

    @_one_blas_thread
    def run_until(self, end_time: float | int) -> None:
        """Run until month ``end_time`` (Mesa's ``Model.run_until``)."""
        super().run_until(end_time)

    @_one_blas_thread
    def run_model(self) -> None:
        """Run until ``running`` is False (Mesa's ``Model.run_model``)."""
        super().run_model()

    def _burn_in(self) -> None:
        """Simulate ``burn_in_months`` before the first month under its policy, unrecorded, then
        forget their money and counters: the run starts from the district's own steady state."""
        w = self.world
        for t in range(w.first_t, 0):
            self._month(t)
        w.books = {}
        w.lots.remaining = 0.0  # commitments of burn-in contracts are forgotten with the books
        w.month_stats = Counter()
        w.t = 0
        self.policy = self.schedule.at(0)

    def _month(self, t: int) -> None:
        """Processes 1-8 of month ``t``."""
        w = self.world
        w.t = t
        self.policy = self.schedule.at(t)
        w.month_stats = Counter()
        for process in MONTH:
            process(w, self.policy, self.params)
        # As many as len(self.agents) would be, counted from the tables without making agents.
        self.agent_steps += (
            2 * len(w.communities)  # Community and Residents
            + len(w.issuers)  # Department and Street
            + int(np.count_nonzero(w.orgs.alive))
            + int(np.count_nonzero(w.workers.alive))
        )

    # -- Mesa agents, made when looked at ---------------------------------------------------------
    # The processes act on the world's tables; the Mesa agent objects only mirror its rows. Making
    # them every month cost about a tenth of a run (issue 12), and a sweep never looks at them, so
    # they are made when Mesa's views (``agents``, ``agents_by_type``, ``agent_types``) or
    # ``org_agents``/``worker_agents`` are read: sync_agents replays the world's row changes in
    # order, so agents, their unique ids and their rows are the same as if they had been made
    # month by month (SolaraViz, which looks every step, pays as before).
    def sync_agents(self) -> None:
        """Create and remove the Mesa agents of the organization and worker rows the world added
        or removed since the last call, in the order it did so (the structure's agents first)."""
        if not self._structure_agents_made:
            self._structure_agents_made = True
            n_c, n_s, n_d = (
                self.district.n_communities,
                self.district.n_streets,
                self.params.n_departments,
            )
            Community.create_agents(self, n_c, row=np.arange(n_c))
            Residents.create_agents(self, n_c, row=np.arange(n_c))
            Department.create_agents(self, n_d, row=np.arange(n_d))
            Street.create_agents(
                self, n_s, row=np.arange(n_s), issuer_row=np.arange(n_d, n_d + n_s)
            )
        orgs = self.world.orgs
        for change in self.world.take_changes():
            rows = change.rows
            if change.table == "orgs" and change.added:
                cls = ORG_CLASSES[int(orgs.kind[rows[0]])]  # one kind per World.add_orgs call
                self._org_agents.extend(cls.create_agents(self, len(rows), row=rows))
            elif change.table == "workers" and change.added:
                self._worker_agents.extend(SocialWorker.create_agents(self, len(rows), row=rows))
            else:
                agents = self._org_agents if change.table == "orgs" else self._worker_agents
                for r in rows:
                    agents[r].remove()

    @property
    def agents(self) -> Any:
        """Mesa's set of all agents alive (made now if not yet)."""
        self.sync_agents()
        return super().agents

    @property
    def agents_by_type(self) -> dict[type, Any]:
        """Mesa's agent sets by type (made now if not yet)."""
        self.sync_agents()
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        self.sync_agents()
        return super().agent_types

    @property
    def org_agents(self) -> list[mesa.Agent]:
        """Mesa agent of each row of ``world.orgs`` (removed ones included), made now if not yet."""
        self.sync_agents()
        return self._org_agents

    @property
    def worker_agents(self) -> list[mesa.Agent]:
        """Mesa agent of each row of ``world.workers`` (removed ones included)."""
        self.sync_agents()
        return self._worker_agents

    def remove_all_agents(self) -> None:
        self.sync_agents()
        super().remove_all_agents()

    # -- the world, as seen from the model (read-only views for metrics, users and Mesa tools) --
    @property
    def communities(self) -> Table:
        return self.world.communities

    @property
    def streets(self) -> Table:
        return self.world.streets

    @property
    def issuers(self) -> Table:
        return self.world.issuers

    @property
    def lots(self) -> Table:
        return self.world.lots

    @property
    def orgs(self) -> Table:
        return self.world.orgs

    @property
    def workers(self) -> Table:
        return self.world.workers

    @property
    def books(self) -> dict[int, YearBooks]:
        return self.world.books

    @property
    def month_stats(self) -> Counter[str]:
        return self.world.month_stats

    @property
    def other_orgs(self) -> int:
        return self.world.other_orgs

    @property
    def t(self) -> int:
        """Month of the run, 0-based, set at each step; negative in the burn-in months."""
        return self.world.t

    @property
    def month_index(self) -> int:
        return self.world.month_index

    def year_books(self) -> YearBooks:
        """The books of the current calendar year."""
        return self.world.year_books()

    # -- outputs --------------------------------------------------------------------------------
    @_one_blas_thread
    def results(self) -> dict[str, pd.DataFrame]:
        """Tidy tables 'district', 'street', 'community': one row per month (and unit)."""
        return build_results(self)

    def budget_books(self) -> pd.DataFrame:
        """Money by calendar year: appropriated, committed, spent and unspent, per budget line."""
        rows = []
        for year, b in sorted(self.world.books.items()):
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
            hint = did_you_mean(key, [*Policy.model_fields, *Params.model_fields])
            raise ScenarioError(
                "DistrictModel(...)",
                key,
                "is not a policy lever or model parameter" + (f"; {hint}" if hint else ""),
                "a lever or parameter listed in docs/parameters.md",
            )
    return out
