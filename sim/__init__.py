"""三社联动: an agent-based model of community governance reform (Wuhou District, Chengdu).

Names are loaded on first use (PEP 562), so ``import sim.analysis`` or ``import sim.experiment``
does not import the model, and analysis code provably only reads stored results.
"""

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "District": "sim.district",
    "load_district_csv": "sim.district",
    "synthetic_wuhou": "sim.district",
    "ScenarioError": "sim.errors",
    "UserError": "sim.errors",
    "DistrictModel": "sim.model",
    "Params": "sim.params",
    "Policy": "sim.params",
    "Scenario": "sim.scenario",
    "load_scenario": "sim.scenario",
}

__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
