"""Experiments: scenario comparisons and designs, run in replications into a resumable store."""

from sim.experiment.spec import Experiment, ExperimentError, load_experiment
from sim.experiment.store import load_manifest, load_results

__all__ = ["Experiment", "ExperimentError", "load_experiment", "load_manifest", "load_results"]
