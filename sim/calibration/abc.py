"""A posterior of the free parameters by ABC-SMC (approximate Bayesian computation, pyabc).

The sampler is pyabc's (Klinger, Rickert and Hasenauer 2018; Schälte et al. 2022): sequential Monte
Carlo with a multivariate normal perturbation kernel and, each generation, epsilon the
``epsilon_quantile`` (weighted) of the previous generation's distances (``pyabc.QuantileEpsilon``).
Nothing here samples parameters itself; this module gives pyabc

* the prior (:func:`prior`), one independent uniform or log-uniform per free parameter, as argued
  in the targets file;
* a model (:class:`ParticleModel`): one particle is run as the reform and its no-reform
  counterfactual, ``replications`` times each, in-process, on seeds from a numpy
  ``SeedSequence`` derived from the calibration's root seed and the particle's parameter values
  (so the same particle always meets the same seeds, whichever process runs it), the reform and
  the counterfactual of one replication sharing one seed (common random numbers). It returns the
  replication mean of every target, fit, held-out and check alike, so pyabc's database records
  them all;
* a distance (:func:`make_distance`) over the ``fit`` targets only, on their standardised errors
  (each target's error over its tolerance, 0 inside a range target): ``fixed``
  (:class:`FitDistance`, the root of their summed squares) or ``adaptive`` (pyabc's
  ``AdaptivePNormDistance``, each error also divided by its spread in the previous generation,
  :func:`error_scale`). Held-out and check targets never enter it.

Resume: pyabc keeps its history in SQLite (``abc.db`` in the output directory) and writes each
generation when it is complete. :func:`run_abc` runs one generation per ``ABCSMC.run`` call, after
seeding numpy's global generator (which pyabc's proposals use) from the root seed and the
generation's index; a killed calibration (even by kill -9) loses at most the generation in progress
and, run again with the same arguments, loads the history (``ABCSMC.load``) and goes on. With the
single-core sampler (``--executor serial``) a calibration is reproducible from its root seed, and a
resumed calibration equals an uninterrupted one. pyabc's multicore and dask samplers accept
whichever particles finish first and reseed their workers from the operating system, so their
posterior is a valid sample but not reproducible draw for draw; each particle's model runs still
are (their seeds come from its parameter values).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.fit import write_calibrated_scenario
from sim.calibration.targets import Targets, TargetsError, simulated_values
from sim.errors import UserError
from sim.io import provenance, write_json, write_parquet

ABC_STREAM = 0xABC  # spawn-key stream of the particles' model seeds
PREDICTIVE_STREAM = 0xABD  # spawn-key stream of the posterior-predictive runs (fresh seeds)
PROPOSAL_STREAM = 0xABE  # spawn-key stream seeding pyabc's proposals, one per generation
FAILED_DISTANCE = 1e12  # a particle whose runs failed is never accepted
DB_NAME = "abc.db"
RUN_FILE = "abc_run.json"
POSTERIOR_FILE = "posterior.parquet"
HISTORY_FILE = "abc_generations.parquet"
PROVENANCE_KEY = b"sanshe.provenance"


LOG = "log:"  # pyabc's name of a log-uniform parameter: it samples the logarithm


def sampled_name(p: Any) -> str:
    """The name pyabc samples a free parameter under: ``log:<key>`` for a log-uniform prior (the
    perturbation kernel then works where the prior is flat), the key itself otherwise."""
    return LOG + p.key if p.prior == "log-uniform" else p.key


def prior(targets: Targets) -> Any:
    """pyabc's prior: independent uniforms, on the logarithm for log-uniform parameters."""
    import pyabc

    rvs = {}
    for p in targets.parameters:
        if p.prior == "log-uniform":
            lo, hi = math.log(p.low), math.log(p.high)
            rvs[sampled_name(p)] = pyabc.RV("uniform", lo, hi - lo)
        else:
            rvs[p.key] = pyabc.RV("uniform", p.low, p.high - p.low)
    return pyabc.Distribution(**rvs)


def natural(targets: Targets, sampled: Any) -> dict[str, float]:
    """Parameter values by override key from pyabc's sampled values (exp of the logarithms)."""
    out = {}
    for p in targets.parameters:
        v = float(sampled[sampled_name(p)])
        out[p.key] = math.exp(v) if p.prior == "log-uniform" else v
    return out


def overrides(targets: Targets, values: dict[str, float]) -> dict[str, float | int]:
    """Scenario overrides for a particle: integer parameters rounded to whole numbers."""
    out: dict[str, float | int] = {}
    for p in targets.parameters:
        v = float(values[p.key])
        out[p.key] = round(v) if p.integer else v
    return out


def evaluation_seeds(
    root_seed: int, stream: int, values: Iterable[float], replications: int
) -> list[np.random.SeedSequence]:
    """One seed per replication for a parameter vector: a child of the root seed whose spawn key
    holds the stream and a hash of the values, so a particle's seeds depend on nothing else."""
    text = json.dumps([float(np.round(v, 12)) for v in values])
    digest = hashlib.sha256(text.encode()).digest()
    words = (int.from_bytes(digest[:4], "little"), int.from_bytes(digest[4:8], "little"))
    return [
        np.random.SeedSequence(root_seed, spawn_key=(stream, *words, r))
        for r in range(replications)
    ]


def _one_run(scenario: Any, seed: np.random.SeedSequence, replication: int) -> tuple:
    from sim.metrics import result_columns
    from sim.model import DistrictModel

    model = DistrictModel(scenario, rng=seed)
    model.run_for(scenario.months)
    district = pd.DataFrame(result_columns(model)["district"]).assign(replication=replication)
    books = model.budget_books().assign(replication=replication)
    return district, books


class ParticleModel:
    """pyabc's model: a particle's reform and counterfactual runs, as target means.

    Picklable (it holds paths and numbers; scenarios are loaded once per process).
    """

    def __init__(
        self,
        targets: Targets,
        replications: int,
        stream: int = ABC_STREAM,
        reform_path: str | None = None,
    ) -> None:
        self.targets = targets
        self.replications = replications
        self.stream = stream
        self.reform_path = reform_path or targets.reform
        self._scenarios: tuple[Any, Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return self.__dict__ | {"_scenarios": None}

    def scenarios(self) -> tuple[Any, Any]:
        if self._scenarios is None:
            from sim.scenario import load_scenario

            self._scenarios = (
                load_scenario(self.reform_path),
                load_scenario(self.targets.counterfactual),
            )
        return self._scenarios

    def values(self, pars: dict[str, float]) -> dict[str, pd.Series]:
        """Per-replication values of every target for one parameter vector."""
        over = overrides(self.targets, pars)
        reform, counterfactual = (s.with_overrides(over) for s in self.scenarios())
        keys = [p.key for p in self.targets.parameters]
        seeds = evaluation_seeds(
            self.targets.root_seed, self.stream, [pars[k] for k in keys], self.replications
        )
        runs: dict[str, list[tuple]] = {"reform": [], "counterfactual": []}
        for r, seed in enumerate(seeds):  # the same seed for both: common random numbers
            runs["reform"].append(_one_run(reform, seed, r))
            runs["counterfactual"].append(_one_run(counterfactual, seed, r))
        frames = {
            name: (
                pd.concat([d for d, _ in got], ignore_index=True),
                pd.concat([b for _, b in got], ignore_index=True),
            )
            for name, got in runs.items()
        }
        (rd, rb), (cd, cb) = frames["reform"], frames["counterfactual"]
        return simulated_values(self.targets, rd, cd, rb, cb)

    def __call__(self, pars: dict[str, float]) -> dict[str, float]:
        """Target means for pyabc's sampled values (logarithms for log-uniform parameters)."""
        try:
            values = self.values(natural(self.targets, pars))
        except Exception as exc:  # a failing particle is rejected, the calibration goes on
            logging.getLogger("sanshe.abc").warning("particle failed: %s: %s", type(exc), exc)
            return {t.name: math.nan for t in self.targets.targets}
        return {name: float(v.mean()) if len(v) else math.nan for name, v in values.items()}


class FitDistance:
    """Distance over the fit targets only: root of the summed squared standardised errors
    (``distance = "fixed"``: each target weighs by its tolerance alone)."""

    def __init__(self, targets: Targets) -> None:
        self.fit = targets.fit

    def __call__(self, x: dict, x_0: dict | None = None, *args: Any, **kwargs: Any) -> float:
        total = 0.0
        for t in self.fit:
            e = t.error(float(x.get(t.name, math.nan)))
            if not np.isfinite(e):
                return FAILED_DISTANCE
            total += e * e
        return float(math.sqrt(total))


def fit_errors(targets: Targets, x: dict) -> np.ndarray:
    """The standardised error of each fit target (0 inside a range target); a failed value
    (NaN) becomes ``FAILED_DISTANCE``, so the particle is never accepted after generation 0."""
    out = np.empty(len(targets.fit))
    for i, t in enumerate(targets.fit):
        e = t.error(float(x.get(t.name, math.nan)))
        out[i] = e if np.isfinite(e) else FAILED_DISTANCE
    return out


def _fit_errors_sumstat(targets: Targets) -> Any:
    """pyabc summary statistics: the fit targets' standardised errors (observed data: zeros)."""
    from pyabc.sumstat import Sumstat

    class FitErrors(Sumstat):
        def __init__(self) -> None:
            super().__init__()
            self.targets = targets

        def __call__(self, data: dict) -> np.ndarray:
            return fit_errors(self.targets, data)

        def get_ids(self) -> list[str]:
            return [t.name for t in self.targets.fit]

    return FitErrors()


def error_scale(
    *, samples: np.ndarray, s0: np.ndarray, kind: str = "rmsd", floor: float = 1.0, **_: Any
) -> np.ndarray:
    """A fit target's scale in the adaptive distance: the spread of the previous generation's
    standardised errors (``rmsd`` about the data, which counts a shared bias; ``mad`` or ``std``
    about their centre), never below ``floor`` tolerances. Failed particles are left out.

    The floor keeps a target that every particle meets (all errors 0) in the distance with the
    weight of its tolerance, instead of pyabc's weight 0 for a zero scale, and stops a target met
    within a fraction of its tolerance from dominating; above it, a target the whole population
    misses by much (a structural misfit) weighs less, so it cannot make every other target's
    error irrelevant."""
    x = np.asarray(samples, float)
    ok = np.isfinite(x).all(axis=1) & (np.abs(x) < FAILED_DISTANCE).all(axis=1)
    x = x[ok]
    if len(x) < 2:
        return np.full(np.shape(samples)[1], float(floor))
    if kind == "rmsd":
        scale = np.sqrt(np.mean((x - np.asarray(s0, float)) ** 2, axis=0))
    elif kind == "mad":
        scale = np.median(np.abs(x - np.median(x, axis=0)), axis=0)
    else:
        scale = np.std(x, axis=0)
    return np.maximum(scale, float(floor))


def make_distance(targets: Targets, t: int) -> Any:
    """The distance of generation ``t``. ``fixed``: :class:`FitDistance`. ``adaptive``: pyabc's
    ``AdaptivePNormDistance`` (p = 2, Prangle 2017) on the fit targets' standardised errors, each
    divided by its scale (:func:`error_scale`) in the previous generation; generation 0 (the prior
    sample, all accepted) uses the tolerances alone. Scales are fitted from the previous
    generation as stored in the database, so a resumed calibration uses the same ones."""
    settings = targets.abc
    if settings.distance == "fixed":
        return FitDistance(targets)
    import functools

    import pyabc

    scale = functools.partial(error_scale, kind=settings.scale, floor=settings.scale_floor)
    scale.__name__ = f"error_scale({settings.scale}, floor {settings.scale_floor:g})"  # type: ignore[attr-defined]
    initial = {t.name: 1.0 for t in targets.fit} if t == 0 else None
    return pyabc.AdaptivePNormDistance(
        p=2,
        initial_scale_weights=initial,
        scale_function=scale,
        all_particles_for_scale=False,
        sumstat=_fit_errors_sumstat(targets),
    )


def observed(targets: Targets) -> dict[str, float]:
    """The observed data pyabc stores: each target's observed value or the middle of its range."""
    out = {}
    for t in targets.targets:
        lo, hi = t.bounds
        if t.observed is not None:
            out[t.name] = float(t.observed)
        elif np.isfinite(lo) and np.isfinite(hi):
            out[t.name] = float((lo + hi) / 2)
        else:
            out[t.name] = float(lo if np.isfinite(lo) else hi)
    return out


def make_sampler(executor: Any) -> tuple[Any, str, bool]:
    """A pyabc sampler for a project executor; with its description and whether it is
    deterministic (reproducible from the root seed)."""
    from pyabc.sampler import MulticoreEvalParallelSampler, SingleCoreSampler

    from sim.experiment.executors import DaskExecutor, LocalExecutor

    if isinstance(executor, LocalExecutor) and (executor.workers or 2) > 1:
        n = executor.workers or 2
        return MulticoreEvalParallelSampler(n_procs=n), f"multicore ({n} processes)", False
    if isinstance(executor, DaskExecutor):
        import logging as _logging

        from dask.distributed import Client, LocalCluster
        from pyabc.sampler import DaskDistributedSampler

        if executor.scheduler:
            client = Client(executor.scheduler)
            where = executor.scheduler
        else:
            cluster = LocalCluster(
                n_workers=executor.workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=_logging.ERROR,
            )
            client = Client(cluster)
            where = f"local cluster of {executor.workers}"
        return DaskDistributedSampler(dask_client=client), f"dask ({where})", False
    return SingleCoreSampler(), "single core", True


def _definition(targets: Targets, population: int, replications: int, reform: str) -> dict:
    from sim.scenario import load_scenario

    return {
        "targets": targets.name,
        "targets_sha256": _sha256(targets.path),
        "reform_hash": load_scenario(reform).hash,
        "counterfactual_hash": load_scenario(targets.counterfactual).hash,
        "parameters": [[sampled_name(p), p.low, p.high, p.prior] for p in targets.parameters],
        "fit": [t.name for t in targets.fit],
        "population": population,
        "replications": replications,
        "root_seed": targets.root_seed,
        "distance": targets.abc.distance,
        "scale": targets.abc.scale,
        "scale_floor": targets.abc.scale_floor,
        "epsilon_quantile": targets.abc.epsilon_quantile,
        "kernel_scaling": targets.abc.kernel_scaling,
    }


def _sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _seed_proposals(root_seed: int, t: int) -> None:
    """Seed numpy's global generator, which pyabc's proposals draw from, for generation t."""
    state = np.random.SeedSequence(root_seed, spawn_key=(PROPOSAL_STREAM, t)).generate_state(1)
    np.random.seed(int(state[0]))  # noqa: NPY002 - pyabc draws from the legacy global generator


def run_abc(
    targets: Targets,
    out: str | Path,
    executor: Any = None,
    population: int | None = None,
    generations: int | None = None,
    replications: int | None = None,
    reform_path: str | None = None,
    fresh: bool = False,
    progress: bool = True,
    after_generation: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Run (or resume) ABC-SMC into ``out``; write ``posterior.parquet``; return a summary.

    ``after_generation`` is called with each finished generation's index (tests stop here).
    """
    import pyabc

    if not targets.parameters:
        raise TargetsError(
            targets.path, "calibration.parameters", "is empty", "one or more free parameters"
        )
    if not targets.fit:
        raise TargetsError(targets.path, "target.role", "no target is fitted", 'role = "fit"')
    out = Path(out)
    population = population or targets.abc.population
    generations = generations or targets.abc.generations
    replications = replications or targets.abc.replications
    reform = reform_path or targets.reform
    definition = _definition(targets, population, replications, reform)
    db = out / DB_NAME
    run_file = out / RUN_FILE
    if fresh:
        for path in (db, run_file, out / POSTERIOR_FILE):
            path.unlink(missing_ok=True)
    if db.exists() and run_file.is_file():
        before = json.loads(run_file.read_text(encoding="utf-8"))["definition"]
        if before != definition:
            changed = sorted(k for k in definition if before.get(k) != definition[k])
            raise UserError(
                f"{out}: holds an ABC calibration of another definition (differs in "
                f"{', '.join(changed)}) (allowed: the same targets and settings to resume, "
                "--fresh to start over, or another --out)"
            )
    elif db.exists():  # a database without its record: left by a run killed at its start
        db.unlink()
    out.mkdir(parents=True, exist_ok=True)
    if not progress:
        for name in ("ABC", "ABC.History", "ABC.Distance", "ABC.Sampler", "ABC.Epsilon"):
            logging.getLogger(name).setLevel(logging.WARNING)

    sampler, sampler_name, deterministic = make_sampler(executor)
    model = ParticleModel(targets, replications, ABC_STREAM, reform)
    the_prior = prior(targets)

    def make(t: int) -> Any:
        # Generation 0 accepts a sample of the prior (epsilon infinite); later generations take
        # the epsilon_quantile (weighted) of the stored previous generation's distances, under
        # this generation's distance. A fresh ABCSMC per generation, loaded from the database,
        # makes an uninterrupted run and a resumed one the same.
        alpha = targets.abc.epsilon_quantile
        first = np.inf if t == 0 else "from_sample"
        eps = pyabc.QuantileEpsilon(initial_epsilon=first, alpha=alpha)
        return pyabc.ABCSMC(
            model,
            the_prior,
            make_distance(targets, t),
            population_size=population,
            sampler=sampler,
            eps=eps,
            transitions=pyabc.MultivariateNormalTransition(scaling=targets.abc.kernel_scaling),
        )

    url = f"sqlite:///{db.resolve()}"
    started = time.time()
    fresh_abc = None
    history = None
    if db.exists():
        history = pyabc.History(url)
        history.id = 1
        try:
            history.max_t  # noqa: B018 - raises if the run was killed before pyabc stored it
        except Exception:
            history = None
            db.unlink()
    if history is None:
        write_json({"definition": definition, "created": provenance()["created"]}, run_file)
        fresh_abc = make(0)
        history = fresh_abc.new(url, observed(targets))
    try:
        while history.max_t + 1 < generations:
            t = history.max_t + 1
            abc = fresh_abc if (t == 0 and fresh_abc is not None) else make(t)
            if abc is not fresh_abc:
                abc.load(url, 1)
            _seed_proposals(targets.root_seed, t)
            history = abc.run(max_nr_populations=1)
            if progress:
                pops = history.get_all_populations()
                row = pops[pops["t"] == t].iloc[0]
                print(
                    f"  generation {t}: epsilon {row['epsilon']:.3g}, "
                    f"{int(row['samples'])} particles simulated for {population} accepted",
                    flush=True,
                )
            if after_generation is not None:
                after_generation(t)
    finally:
        shutdown = getattr(sampler, "shutdown", None)
        if shutdown is not None and not deterministic:
            with contextlib.suppress(Exception):  # closing a client must not hide the result
                shutdown()
    summary = summarise(targets, history, definition, sampler_name, deterministic, started)
    write_posterior(targets, history, summary, out)
    return summary


def summarise(
    targets: Targets,
    history: Any,
    definition: dict[str, Any],
    sampler: str,
    deterministic: bool,
    started: float,
) -> dict[str, Any]:
    """Provenance and run counts of an ABC calibration."""
    import pyabc

    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].sort_values("t")
    evaluations = int(pops["samples"].sum())
    reps = int(definition["replications"])
    abc = targets.abc
    if abc.distance == "adaptive":
        dist = f"adaptive p-norm distance (scale {abc.scale}, floor {abc.scale_floor:g})"
    else:
        dist = "fixed distance (tolerances)"
    return {
        "method": f"ABC-SMC (pyabc.ABCSMC, {dist}, epsilon the {abc.epsilon_quantile:g} "
        "quantile of the previous generation, multivariate normal kernel scaled "
        f"{abc.kernel_scaling:g})",
        "distance": abc.distance,
        "scale": abc.scale,
        "scale_floor": abc.scale_floor,
        "epsilon_quantile": abc.epsilon_quantile,
        "kernel_scaling": abc.kernel_scaling,
        "targets": targets.name,
        "targets_path": str(Path(targets.path).resolve()),
        "targets_sha256": definition["targets_sha256"],
        "reform": str(Path(targets.reform).resolve()),
        "counterfactual": str(Path(targets.counterfactual).resolve()),
        "root_seed": targets.root_seed,
        "pyabc_version": pyabc.__version__,
        "sampler": sampler,
        "reproducible_from_seed": deterministic,
        "population": int(definition["population"]),
        "replications": reps,
        "generations": len(pops),
        "epsilon_schedule": [float(e) for e in pops["epsilon"]],
        "effective_sample_size": [_ess(history, int(t)) for t in pops["t"]],
        "particles_simulated": [int(s) for s in pops["samples"]],
        "model_evaluations": evaluations,
        "model_runs": evaluations * reps * 2,  # reform and counterfactual per replication
        "fit_targets": [t.name for t in targets.fit],
        "parameters": [p.key for p in targets.parameters],
        "seconds_this_session": round(time.time() - started, 1),
        **provenance(),
    }


def _ess(history: Any, t: int) -> float:
    w = np.array([p.weight for p in history.get_population(t=t).particles], float)
    w = w / w.sum()
    return round(float(1.0 / np.sum(w * w)), 2)


def generations_frame(targets: Targets, history: Any) -> pd.DataFrame:
    """Every generation's particles: one float column per free parameter (its override key),
    ``weight`` (summing to 1 in each generation), ``distance`` (the generation's own, adaptive or
    fixed), ``fit_distance`` (the fixed distance, comparable across generations), ``generation``,
    ``particle``, and the particle's simulated target means (``target_<name>``, fit, held-out and
    check)."""
    rows = []
    fixed = FitDistance(targets)
    for t in range(history.max_t + 1):
        particles = history.get_population(t=t).particles
        total = float(sum(pt.weight for pt in particles))
        for i, pt in enumerate(particles):
            row: dict[str, Any] = dict(natural(targets, pt.parameter))
            row |= {"weight": pt.weight / total, "distance": float(pt.distance)}
            row["fit_distance"] = fixed(pt.sum_stat)  # the tolerances alone: comparable over t
            row |= {"generation": t, "particle": i}
            row |= {f"target_{k}": float(v) for k, v in pt.sum_stat.items()}
            rows.append(row)
    frame = pd.DataFrame(rows)
    return frame.astype({"generation": "int64", "particle": "int64"})


def write_posterior(targets: Targets, history: Any, summary: dict[str, Any], out: Path) -> None:
    """``posterior.parquet`` (the last generation; provenance as Parquet key-value metadata
    ``sanshe.provenance``), ``abc_generations.parquet`` (all of them) and ``abc.json``."""
    import pyarrow as pa

    every = generations_frame(targets, history)
    keep = [p.key for p in targets.parameters] + ["weight", "generation", "particle"]
    last = every.loc[every["generation"] == every["generation"].max(), keep]
    table = pa.Table.from_pandas(last.reset_index(drop=True), preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[PROVENANCE_KEY] = json.dumps(summary, sort_keys=True).encode()
    write_parquet(table.replace_schema_metadata(meta), out / POSTERIOR_FILE)
    write_parquet(every, out / HISTORY_FILE)
    write_json(summary, out / "abc.json")


def read_posterior(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A posterior sample and its provenance (``sanshe.provenance``)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    meta = table.schema.metadata or {}
    info = json.loads(meta[PROVENANCE_KEY]) if PROVENANCE_KEY in meta else {}
    return table.to_pandas(), info


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Quantile of a weighted sample (weights need not sum to 1)."""
    order = np.argsort(values)
    v, w = np.asarray(values, float)[order], np.asarray(weights, float)[order]
    cum = (np.cumsum(w) - 0.5 * w) / w.sum()
    return float(np.interp(q, cum, v))


def posterior_medians(targets: Targets, posterior: pd.DataFrame) -> dict[str, float | int]:
    """The weighted median of each free parameter (integers rounded)."""
    med = {
        p.key: weighted_quantile(posterior[p.key].to_numpy(), posterior["weight"].to_numpy(), 0.5)
        for p in targets.parameters
    }
    return overrides(targets, med)


def write_posterior_scenario(
    targets: Targets, posterior: pd.DataFrame, info: dict[str, Any], path: str | Path, command: str
) -> Path:
    """A scenario extending the calibrated reform with the posterior medians of the free
    parameters (weighted; integers rounded), saying so in its header."""
    import os

    path = Path(path).resolve()
    base = Path(info["reform"]).resolve()
    params = {k.split(".", 1)[1]: v for k, v in posterior_medians(targets, posterior).items()}
    eps = info["epsilon_schedule"][-1]
    lines = [
        f"{base.stem} with its free parameters set to their POSTERIOR MEDIANS (weighted, one",
        "parameter at a time; not a joint best fit, and not the posterior itself: the sample is",
        "posterior.parquet in the calibration's output directory) from ABC-SMC against the",
        f"fit targets of {os.path.relpath(info['targets_path'], path.parent)}, by",
        f"`{command}`",
        f"on {info['created'][:10]} (commit {info['git_commit'][:12]}).",
        f"pyabc {info['pyabc_version']}, {info['sampler']} sampler; {info['generations']} "
        f"generations of {info['population']} particles, {info['replications']} replications",
        f"each; final epsilon {eps:.3g}; {info['model_runs']:,} model runs; root seed "
        f"{info['root_seed']}.",
        "See docs/validation.md for the fit table with its held-out section.",
    ]
    return write_calibrated_scenario(path, base, params, lines, "sanshe calibrate --method abc")
