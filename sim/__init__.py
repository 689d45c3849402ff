"""三社联动: an agent-based model of community governance reform (Wuhou District, Chengdu)."""

from sim.district import District, load_district_csv, synthetic_wuhou
from sim.errors import ScenarioError, UserError
from sim.model import DistrictModel
from sim.params import Params, Policy
from sim.scenario import Scenario, load_scenario

__version__ = "0.1.0"

__all__ = [
    "District",
    "DistrictModel",
    "Params",
    "Policy",
    "Scenario",
    "ScenarioError",
    "UserError",
    "__version__",
    "load_district_csv",
    "load_scenario",
    "synthetic_wuhou",
]
