"""The interactive dashboard (``sanshe dashboard``): Mesa's SolaraViz page for policy teams.

Kept apart from the model, as in Mesa's own examples: nothing under ``sim`` outside this package
imports it, and only :mod:`sim.dashboard.app` composes the page. The modules:

* :mod:`~sim.dashboard.setting` — a dashboard setting (scenario file, lever overrides, seed) and
  :class:`~sim.dashboard.setting.DashboardModel`, the model built from it (no UI code);
* :mod:`~sim.dashboard.controls` — controls generated from :func:`sim.params.field_table`;
* :mod:`~sim.dashboard.charts`, :mod:`~sim.dashboard.district_view`,
  :mod:`~sim.dashboard.compare`, :mod:`~sim.dashboard.export` — the panels;
* :mod:`~sim.dashboard.app` — the page; :mod:`~sim.dashboard.commands` — the CLI command.

The panels need the optional ``dashboard`` extra (``pip install .[dashboard]``); ``setting`` and
``commands`` import without it.
"""
