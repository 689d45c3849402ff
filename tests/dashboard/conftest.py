"""Fixtures for the dashboard tests: the launch configuration and a page rendered without a browser."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

pytest.importorskip(
    "solara", reason="the dashboard extra is not installed (pip install .[dashboard])"
)

import solara

from sim.dashboard.setting import DashboardConfig, DashboardModel

from ..conftest import SCENARIOS

REFORM = SCENARIOS / "wuhou_reform.toml"
BASELINE = SCENARIOS / "baseline_2013.toml"


@pytest.fixture
def config() -> DashboardConfig:
    return DashboardConfig(REFORM.resolve(), SCENARIOS.resolve(), None)


@dataclass
class RenderedPage:
    """A page rendered with ``solara.render``: its root widget and the page's model."""

    root: Any
    rc: Any
    model: solara.Reactive[DashboardModel]


@pytest.fixture
def page(config: DashboardConfig):
    """The whole page inside Solara's AppLayout (so the sidebar is rendered too)."""
    from sim.dashboard.app import Dashboard

    model = solara.reactive(DashboardModel(scenario_file=str(config.scenario), seed=1))
    root, rc = solara.render(
        solara.AppLayout(children=[Dashboard(config, model)]), handle_error=False
    )
    yield RenderedPage(root, rc, model)
    rc.close()
