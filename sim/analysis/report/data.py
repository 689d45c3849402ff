"""What the report shows, computed once by the pipeline and read by every section."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.compare import Comparison
from sim.analysis.results import ResultSet, Setting


@dataclass
class ReportData:
    """Everything the sections show, computed from one results store."""

    rs: ResultSet
    reference: Setting
    focus: Setting | None
    cmp: Comparison  # district, against the reference
    cmp_focus: Comparison | None = None  # district, against the focus (when ablations exist)
    cmp_street: Comparison | None = None
    sensitivity: pd.DataFrame | None = None
    sensitivity_rs: ResultSet | None = None
    plots: list[Any] = field(default_factory=list)
    calibration: list[str] = field(default_factory=list)
    target_checks: list[str] = field(default_factory=list)
    targets_path: str | None = None
    year: int | None = None  # the calendar year the headline window falls in, if one
    written: list[Path] = field(default_factory=list)
    # findings (sim.analysis.findings), as sentences
    tradeoffs: list[str] = field(default_factory=list)  # settings against the reference
    lever_tradeoffs: list[str] = field(default_factory=list)  # levers within the focus
    costs: list[str] = field(default_factory=list)
    dips: list[str] = field(default_factory=list)
    levelling: dict[str, list[str]] = field(default_factory=dict)  # "2016" -> sentences
    january: list[str] = field(default_factory=list)
    streets: list[str] = field(default_factory=list)
    real_street_outcomes: set[str] = field(default_factory=set)
    # what is known and how well (sim.analysis.report.known): targets by role, met or not
    known: Any = None  # a Known, when a targets file (or an ABC fit table) is given
    # uncertainty beyond seed noise (sim.analysis.report.beyond_seeds), when given
    parameters: Any = None  # a ParameterEffects (--uncertainty: a posterior experiment)
    structural: Any = None  # a StructuralConclusions (--structural: a variants experiment)

    def title(self, setting: Setting | str) -> str:
        return self.rs.title(setting)
