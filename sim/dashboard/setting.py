"""What the dashboard runs: a scenario file, the levers the user moved, and a seed.

No UI code here, so the rules the page follows (what an override is, how the model is built) are
tested without a browser.

**Overrides.** A lever's control starts at the scenario's own value (for a lever with a timeline,
the value in force in the run's last month). A lever the user moves becomes an *override*: it is
held at the chosen value for the whole run, replacing the scenario's timeline
(``DistrictModel(**levers)`` semantics), until the user restores the scenario's value.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from sim.errors import UserError
from sim.model import DistrictModel
from sim.params import Policy
from sim.scenario import LIBRARY_FOCUS, Scenario, default_scenario, load_scenario
from sim.schedule import format_month

LEVERS: tuple[str, ...] = tuple(Policy.model_fields)
DEFAULT_SCENARIO = LIBRARY_FOCUS  # the library's reform scenario


def repo_scenarios_dir() -> Path:
    """``scenarios/`` of the source tree this package sits in (an editable install)."""
    return Path(__file__).resolve().parents[2] / "scenarios"


def scenario_files(directory: str | Path) -> list[Path]:
    """The scenario files (``*.toml``) of a directory, sorted by name."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("*.toml") if p.is_file())


def load(path: str | Path) -> Scenario:
    """A scenario file, loaded once per file version (the page re-reads it often)."""
    path = Path(path).resolve()
    return _load_cached(str(path), path.stat().st_mtime_ns if path.is_file() else 0)


@lru_cache(maxsize=64)
def _load_cached(path: str, mtime: int) -> Scenario:
    return load_scenario(path)


def scenario_value(scenario: Scenario, lever: str) -> Any:
    """The value a control shows for a lever: the one in force in the run's last month."""
    return getattr(scenario.schedule.policies[-1], lever)


def timeline(scenario: Scenario, lever: str) -> list[tuple[str, Any]]:
    """(month, value) for each change of a lever over the run, the first month included."""
    return [(format_month(t), v) for t, name, v in scenario.schedule.changes if name == lever]


def has_timeline(scenario: Scenario, lever: str) -> bool:
    """Whether the lever changes during the run in this scenario."""
    return len(timeline(scenario, lever)) > 1


def same_value(a: Any, b: Any) -> bool:
    """Equal lever values (numbers within rounding: sliders hand back floats)."""
    if isinstance(a, bool | str) or isinstance(b, bool | str):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


def coerce(lever: str, value: Any) -> Any:
    """A control's value as the lever's type (a slider may hand back 3.0 for an int lever)."""
    kind = Policy.model_fields[lever].annotation
    if kind is bool:
        return bool(value)
    if kind is int:
        return round(float(value))
    if kind is float:
        return float(value)
    return value


def check_overrides(levers: Mapping[str, Any]) -> dict[str, Any]:
    """Lever overrides with each value as the lever's type; unknown names are refused."""
    unknown = [k for k in levers if k not in LEVERS]
    if unknown:
        raise UserError(f"dashboard: {unknown[0]!r} is not a policy lever ({', '.join(LEVERS)})")
    return {lever: coerce(lever, value) for lever, value in levers.items()}


def parse_seed(seed: Any) -> int:
    """A seed from a control (the seed box holds text): a whole number of at least 0."""
    try:
        value = int(str(seed).strip())
    except ValueError:
        raise UserError(f"seed {seed!r}: must be a whole number, e.g. 1") from None
    if value < 0:
        raise UserError(f"seed {seed!r}: must be 0 or more")
    return value


@dataclass(frozen=True)
class Setting:
    """A scenario file, lever overrides held constant over the run, and a seed."""

    scenario_file: str | None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 1

    @property
    def base(self) -> Scenario:
        """The scenario as its file defines it (no overrides)."""
        return load(self.scenario_file) if self.scenario_file else default_scenario()

    @property
    def name(self) -> str:
        return self.base.name

    def scenario(self) -> Scenario:
        """The scenario with the overrides applied (what the model runs)."""
        base = self.base
        if not self.overrides:
            return base
        return base.with_overrides({f"policy.{k}": v for k, v in self.overrides.items()})

    def model(self) -> DistrictModel:
        """A fresh model of this setting."""
        return DistrictModel(self.scenario(), rng=self.seed)

    def with_override(self, lever: str, value: Any) -> Setting:
        """This setting with ``lever`` held at ``value``.

        A value equal to the scenario's, for a lever that is not yet overridden, changes nothing:
        that is a control settling on the value it shows, not a move.
        """
        value = check_overrides({lever: value})[lever]
        if lever not in self.overrides and same_value(value, scenario_value(self.base, lever)):
            return self
        return replace(self, overrides={**self.overrides, lever: value})

    def without_override(self, lever: str) -> Setting:
        """This setting with the scenario's own value (or timeline) of ``lever`` restored."""
        return replace(self, overrides={k: v for k, v in self.overrides.items() if k != lever})

    def describe(self) -> str:
        """One line: scenario, overrides and seed."""
        moved = ", ".join(f"{k}={v!r}" for k, v in self.overrides.items()) or "no overrides"
        return f"{self.name} ({moved}), seed {self.seed}"


class SettingRef:
    """The page's current setting, shared with SolaraViz.

    SolaraViz's Reset rebuilds the model from the ``model_params`` it was given when the page was
    built, passing fixed values unchanged. The page gives it this reference, and points it at each
    new setting, so Reset always restarts the setting the controls show.
    """

    def __init__(self, setting: Setting) -> None:
        self.setting = setting

    def __repr__(self) -> str:
        return f"SettingRef({self.setting!r})"


class DashboardModel(DistrictModel):
    """The district model as the dashboard builds it: from a scenario file, a seed and overrides.

    The model itself is the unchanged :class:`~sim.model.DistrictModel`; the setting it runs is in
    ``self.setting``.

    Args:
        scenario_file: path of a scenario TOML file; empty for the model's defaults.
        seed: the seed, as a number or as text.
        setting: instead of the three, a :class:`Setting`, or a :class:`SettingRef` whose current
            setting to run (how SolaraViz's Reset rebuilds the page's setting).
        **levers: overridden levers and their values, each held constant over the run.
    """

    def __init__(
        self,
        scenario_file: str = "",
        seed: int | str = 1,
        *,
        setting: Setting | SettingRef | None = None,
        **levers: Any,
    ) -> None:
        # SolaraViz's Reset passes Mesa's own (experimental) Scenario object as ``scenario`` to a
        # model that takes **kwargs; this model's scenario comes from its setting instead.
        levers.pop("scenario", None)
        if isinstance(setting, SettingRef):
            setting = setting.setting
        if setting is None:
            setting = Setting(scenario_file or None, check_overrides(levers), parse_seed(seed))
        elif levers:
            raise TypeError("give either a setting or scenario_file, seed and levers")
        super().__init__(setting.scenario(), rng=setting.seed)
        self.setting = setting
        # Mesa's step advances time and then calls DistrictModel.step. Wrapped so that a click
        # after the last month cannot run past the scenario, and so that SolaraViz's play thread
        # and the page's Run to end never step the model at the same time.
        self._mesa_step = self.step
        self._step_lock = threading.Lock()
        self.step = self._step_within_run

    def _step_within_run(self) -> None:
        with self._step_lock:
            if self.running:
                self._mesa_step()

    @property
    def month(self) -> str | None:
        """The last simulated month (YYYY-MM), or None before the first step."""
        return format_month(self.spec.start + self.steps - 1) if self.steps else None

    def run_to_end(self) -> None:
        """Run the remaining months of the scenario, month by month."""
        while self.running:
            self.step()


@dataclass(frozen=True)
class DashboardConfig:
    """How the page was launched: first scenario, scenario directory, optional results store."""

    scenario: Path | None
    scenarios_dir: Path
    results: Path | None = None

    ENV: ClassVar[dict[str, str]] = {
        "scenario": "SANSHE_DASHBOARD_SCENARIO",
        "scenarios_dir": "SANSHE_DASHBOARD_SCENARIOS_DIR",
        "results": "SANSHE_DASHBOARD_RESULTS",
    }

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DashboardConfig:
        """Read the launch settings that ``sanshe dashboard`` passes to the server process."""
        env = os.environ if env is None else env
        scenarios_dir = Path(env.get(cls.ENV["scenarios_dir"]) or repo_scenarios_dir())
        scenario = env.get(cls.ENV["scenario"])
        if scenario:
            first: Path | None = Path(scenario)
        else:
            default = scenarios_dir / DEFAULT_SCENARIO
            files = scenario_files(scenarios_dir)
            first = default if default.is_file() else (files[0] if files else None)
        results = env.get(cls.ENV["results"])
        return cls(first, scenarios_dir, Path(results) if results else None)

    def to_env(self) -> dict[str, str]:
        """The environment variables that carry this configuration to the server."""
        out = {self.ENV["scenarios_dir"]: str(self.scenarios_dir)}
        if self.scenario is not None:
            out[self.ENV["scenario"]] = str(self.scenario)
        if self.results is not None:
            out[self.ENV["results"]] = str(self.results)
        return out

    def choices(self) -> dict[str, Path]:
        """The scenario picker: label -> file, for the directory's files and the launch file.

        A label is the file name without ``.toml``, or the whole path where two files share it.
        """
        files = scenario_files(self.scenarios_dir)
        if self.scenario is not None and self.scenario.resolve() not in {
            f.resolve() for f in files
        }:
            files.append(self.scenario)
        stems = [f.stem for f in files]
        return {(f.stem if stems.count(f.stem) == 1 else str(f)): f for f in files}


def label_of(choices: Mapping[str, Path], scenario_file: str | None) -> str | None:
    """The picker label of a scenario file, if it is one of the choices."""
    if not scenario_file:
        return None
    target = Path(scenario_file).resolve()
    return next((k for k, f in choices.items() if f.resolve() == target), None)
