"""Open an experiment's results directory and select a time window, with clear user errors.

A *setting* is one design point: a named scenario for scenario lists, a combination of factor
values for designs. Settings are kept in point order (the order of the experiment file).

Time windows (``--at``):

* ``final`` — each run's last stored row: its last month (monthly results), its last calendar year
  (yearly results, already a mean) or the stored final month (final results);
* ``final-year`` — each run's last calendar year, the mean over its months (less noisy than a
  single month). This is the default window of every command, table and view
  (``sim.outputs.DEFAULT_WINDOW``); for a store that keeps only each run's final month
  (``frequency = "final"``) the default falls back to ``final``;
* ``YYYY`` — calendar year YYYY, the mean over its months;
* ``YYYY-MM`` — one month (monthly results only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import UserError
from sim.experiment.store import KEY_COLUMNS, POSTERIOR_COLUMNS, load_manifest, load_results
from sim.outputs import DEFAULT_WINDOW

LEVEL_UNITS = {"district": [], "street": ["street"], "community": ["street", "community"]}
TIME_COLUMNS = ("step", "month", "year")
AT_CHOICES = "final, final-year, a year YYYY or a month YYYY-MM"


@dataclass(frozen=True)
class Window:
    """A time window: which rows of each run are averaged into one value per run."""

    kind: str  # "final", "final-year", "year" or "month"
    value: str | None = None  # the year or month for "year" and "month"

    @property
    def label(self) -> str:
        """Short text for file names and table headers: final, final-year, 2016, 2016-12."""
        return self.value if self.value is not None else self.kind

    def describe(self, frequency: str = "monthly") -> str:
        """Plain words, e.g. 'mean over the final calendar year of each run'."""
        if self.kind == "final":
            if frequency == "yearly":
                return "the last calendar year of each run (yearly means as stored)"
            return "the last month of each run"
        if self.kind == "final-year":
            return "mean over the last calendar year of each run"
        if self.kind == "year":
            return f"mean over the months of {self.value}"
        return f"the month {self.value}"


def parse_at(at: str) -> Window:
    """Parse ``--at`` (see the module docstring); raises UserError if it is not valid."""
    text = str(at).strip()
    if text in ("final", "final-year"):
        return Window(text)
    if re.fullmatch(r"\d{4}", text):
        return Window("year", text)
    if re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        return Window("month", text)
    raise UserError(f"--at {at!r} is not a time window (allowed: {AT_CHOICES})")


@dataclass
class Setting:
    """One design point of the experiment."""

    point: str
    scenario: str
    label: str
    description: str
    design: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    definition: dict[str, Any] | None = None


@dataclass(frozen=True)
class Roles:
    """What the settings are, as the experiment file declared them (``[roles]``, in the manifest).

    Without declared roles the reference is the first setting and the focus the second (scenario
    lists only); no setting is an ablation or a lever added alone. Names are never parsed.
    """

    reference: Setting
    focus: Setting | None
    ablations: dict[str, Setting]  # lever -> the focus without it
    added_alone: dict[str, Setting]  # lever -> the reference with only this lever
    declared: bool

    def lever_role(self, setting: Setting) -> tuple[str, str] | None:
        """('ablations' or 'added_alone', lever) for a setting with a lever role, else None."""
        for role in ("ablations", "added_alone"):
            for lever, s in getattr(self, role).items():
                if s.point == setting.point:
                    return role, lever
        return None

    @property
    def levers(self) -> list[str]:
        """Every lever named in a role, in the order of the experiment file."""
        return list(dict.fromkeys([*self.ablations, *self.added_alone]))


def lever_label(lever: str) -> str:
    """A lever's display name: 'entry_control' -> 'entry control'."""
    return lever.replace("_", " ")


class ResultSet:
    """A results directory written by ``sanshe sweep``: its manifest and its tables by level."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise UserError(f"{self.path}: no such results directory (run `sanshe sweep` first)")
        try:
            self.manifest: dict[str, Any] = load_manifest(self.path)
        except FileNotFoundError:
            raise UserError(
                f"{self.path}: no manifest.json, so not an experiment results directory "
                "(allowed: a directory written by `sanshe sweep`)"
            ) from None
        self._cache: dict[tuple[str, tuple[str, ...] | None], pd.DataFrame] = {}

    # --- what the experiment is -------------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self.manifest.get("experiment", self.path.name))

    @property
    def method(self) -> str:
        return str(self.manifest.get("method", "scenarios"))

    @property
    def frequency(self) -> str:
        return str(self.manifest.get("frequency", "monthly"))

    @property
    def levels(self) -> list[str]:
        return list(self.manifest.get("levels", []))

    @property
    def factors(self) -> list[dict[str, Any]]:
        return list(self.manifest.get("factors", []))

    @property
    def is_design(self) -> bool:
        return self.method != "scenarios"

    @cached_property
    def settings(self) -> list[Setting]:
        """Design points in point order, each with a readable label."""
        out = []
        for p in self.manifest.get("points", []):
            design = p.get("design") or {}
            label = p["scenario"] if not design else design_label(design)
            out.append(
                Setting(
                    point=p["point"],
                    scenario=p["scenario"],
                    label=label,
                    description=p.get("description", ""),
                    design=design,
                    overrides=p.get("overrides") or {},
                    definition=p.get("definition"),
                )
            )
        labels = [s.label for s in out]
        if len(set(labels)) != len(labels):  # e.g. a design whose rounding merges two points
            for s in out:
                s.label = f"{s.point} {s.label}"
        return out

    def setting(self, name: str) -> Setting:
        """A setting by label, scenario name or point id; raises UserError if unknown."""
        for s in self.settings:
            if name in (s.label, s.point):
                return s
        matches = [s for s in self.settings if s.scenario == name]
        if len(matches) == 1:
            return matches[0]
        allowed = ", ".join(s.label for s in self.settings[:20])
        more = " ..." if len(self.settings) > 20 else ""
        raise UserError(
            f"scenario {name!r} is not in {self.path} (allowed: {allowed}{more}, or a point id)"
        )

    @cached_property
    def roles(self) -> Roles:
        """The settings' roles from the manifest (see :class:`Roles`)."""
        if not self.settings:
            raise UserError(f"{self.path}: the manifest lists no design points")
        raw = self.manifest.get("roles") or {}
        by_scenario = {s.scenario: s for s in self.settings if not s.design}

        def find(name: Any) -> Setting | None:
            return by_scenario.get(str(name)) if name is not None else None

        reference = find(raw.get("reference")) or self.settings[0]
        focus = find(raw.get("focus"))
        if focus is None and not raw and not self.is_design and len(self.settings) > 1:
            focus = next(s for s in self.settings if s.point != reference.point)
        levers = {
            role: {
                lever: s
                for lever, name in (raw.get(role) or {}).items()
                if (s := find(name)) is not None
            }
            for role in ("ablations", "added_alone")
        }
        return Roles(reference, focus, levers["ablations"], levers["added_alone"], bool(raw))

    def default_reference(self) -> Setting:
        """The declared reference (``[roles] reference``), else the first setting."""
        return self.roles.reference

    def title(self, setting: Setting | str) -> str:
        """A setting's display name, from its role: 'wuhou reform without entry control',
        'entry control alone'; otherwise its label with spaces for underscores."""
        s = setting if isinstance(setting, Setting) else self._by_label().get(str(setting))
        if s is None:
            return scenario_label(str(setting))
        role = self.roles.lever_role(s)
        if role is not None and role[0] == "ablations" and self.roles.focus is not None:
            return f"{self.title(self.roles.focus)} without {lever_label(role[1])}"
        if role is not None and role[0] == "added_alone":
            return f"{lever_label(role[1])} alone"
        return scenario_label(s.label) if not s.design else s.label

    def _by_label(self) -> dict[str, Setting]:
        return {s.label: s for s in self.settings}

    # --- data -------------------------------------------------------------------------------
    def check_level(self, level: str) -> None:
        if level not in LEVEL_UNITS:
            raise UserError(
                f"--level {level!r} is not a level (allowed: district, street, community)"
            )
        if level not in self.levels or not (self.path / "data" / level).is_dir():
            stored = ", ".join(self.levels) or "none"
            raise UserError(
                f"level {level!r} is not stored in {self.path} (stored: {stored}; "
                "set [outputs] levels in the experiment file)"
            )

    def columns(self, level: str) -> list[str]:
        """Column names stored at a level (read from one file's schema)."""
        self.check_level(level)
        import pyarrow.parquet as pq

        files = sorted((self.path / "data" / level).glob("*.parquet"))
        if not files:
            return []
        return list(pq.read_schema(files[0]).names)

    def load(self, level: str, columns: list[str] | None = None) -> pd.DataFrame:
        """Finished runs at a level (all columns, or the key, unit, time and given columns)."""
        self.check_level(level)
        wanted = None
        if columns is not None:
            stored = self.columns(level)
            keep = [*KEY_COLUMNS, *TIME_COLUMNS, *LEVEL_UNITS[level], *columns]
            keep += [c for c in stored if c.startswith("design_") or c in POSTERIOR_COLUMNS]
            wanted = [c for c in dict.fromkeys(keep) if c in stored]
        key = (level, tuple(wanted) if wanted else None)
        if key not in self._cache:
            frame = load_results(self.path, level, columns=wanted)
            if frame.empty:
                raise UserError(f"{self.path}: no finished runs at level {level!r} yet")
            self._cache[key] = frame
        return self._cache[key]

    def window(self, frame: pd.DataFrame, at: str | Window) -> tuple[pd.DataFrame, Window]:
        """The rows of each run inside the window (see module docstring); UserError if empty."""
        window = at if isinstance(at, Window) else parse_at(at)
        run = ["point", "replication"]
        freq = self.frequency
        if freq == "final" and window.kind == "final-year" and window == parse_at(DEFAULT_WINDOW):
            window = Window("final")  # the default, where only each run's last month is stored
        if freq == "final" and window.kind != "final":
            raise UserError(
                f"--at {window.label}: {self.path} stores only each run's final month "
                "(frequency 'final'; allowed: --at final)"
            )
        if window.kind == "month" and "month" not in frame.columns:
            raise UserError(
                f"--at {window.label}: {self.path} stores {freq} rows, not months "
                "(allowed: final, final-year or a year YYYY)"
            )
        if window.kind == "final":
            time = "step" if "step" in frame.columns else "year"
            last = frame.groupby(run, sort=False)[time].transform("max")
            rows = frame[frame[time] == last]
        elif window.kind == "final-year":
            last = frame.groupby(run, sort=False)["year"].transform("max")
            rows = frame[frame["year"] == last]
        elif window.kind == "year":
            rows = frame[frame["year"] == int(window.value or 0)]
        else:
            rows = frame[frame["month"] == window.value]
        if rows.empty:
            raise UserError(f"--at {window.label}: no results in that window ({self.time_range()})")
        return rows, window

    def time_range(self) -> str:
        """'months 2013-01 to 2016-12' or 'years 2013 to 2016', from the stored runs."""
        level = self.levels[0] if self.levels else "district"
        frame = self.load(level, [])
        if "month" in frame.columns:
            return f"stored months {frame['month'].min()} to {frame['month'].max()}"
        return f"stored years {frame['year'].min()} to {frame['year'].max()}"


def design_label(design: dict[str, Any]) -> str:
    """'purchase_budget=0.75' for a design point (several factors joined by ', ')."""
    parts = []
    for column, value in design.items():
        name = column.removeprefix("design_")
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        parts.append(f"{name}={text}")
    return ", ".join(parts)


def scenario_label(name: str) -> str:
    """A readable label: underscores become spaces ('wuhou_reform' -> 'wuhou reform').

    Only a display change: what a setting *is* comes from the roles (:attr:`ResultSet.roles`).
    """
    return name.replace("_", " ")
