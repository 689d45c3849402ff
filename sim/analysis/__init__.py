"""Analysis of experiment results: tables with confidence intervals, figures, sensitivity, report.

Everything here reads a results store written by ``sanshe sweep`` (:mod:`sim.experiment.store`)
and never imports or runs the model (a test checks that ``sim.model`` stays unimported).

Modules:

* :mod:`sim.analysis.results` — open a results directory, pick a time window (``--at``).
* :mod:`sim.analysis.outcomes` — the outcomes compared, with units and how a window reduces them.
* :mod:`sim.analysis.stats` — means with t-based CIs, paired differences (common random numbers),
  Cohen's d_z.
* :mod:`sim.analysis.compare` — the comparison table (``sanshe compare``).
* :mod:`sim.analysis.plots` — figures (``sanshe plot``); :mod:`sim.analysis.fonts` — CJK labels.
* :mod:`sim.analysis.sensitivity` — Morris and Sobol indices with SALib (``sanshe sensitivity``).
* :mod:`sim.analysis.report` — one self-contained HTML report (``sanshe report``).
* :mod:`sim.analysis.commands` — the command-line subcommands.

See ``docs/analysis.md``.
"""
