"""Export the dashboard's setting as a scenario file that ``sanshe run`` accepts.

The file extends the scenario the setting started from (a path relative to where the file is
saved) and lists the moved levers under ``[policy]``, each as one value for the whole run, which is
what the dashboard ran. The seed is not part of a scenario; the description says which one to pass.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

import solara
import tomli_w

from sim.dashboard.setting import Setting
from sim.errors import UserError
from sim.scenario import load_scenario


def export_name(setting: Setting) -> str:
    """The exported scenario's default name."""
    return f"{setting.name}_dashboard"


def export_document(
    setting: Setting, target: Path | None = None, today: date | None = None
) -> dict[str, Any]:
    """The scenario file's content as a dict.

    Args:
        setting: what to export.
        target: where the file will be saved (``extends`` is relative to its folder); None when
            not known (a download): then ``extends`` is the file name of the base scenario, for a
            file saved beside it.
        today: the export date (default: today).
    """
    today = today or date.today()
    moved = ", ".join(f"{k} = {v!r}" for k, v in setting.overrides.items())
    change = f"with {moved} held for the whole run" if moved else "unchanged"
    doc: dict[str, Any] = {
        "name": target.stem if target is not None else export_name(setting),
        "description": (
            f"Exported from the sanshe dashboard on {today.isoformat()}: {setting.name} {change}. "
            f"The dashboard ran it with seed {setting.seed} (sanshe run FILE --seed "
            f"{setting.seed})."
        ),
    }
    if setting.scenario_file:
        base = Path(setting.scenario_file).resolve()
        folder = target.resolve().parent if target is not None else base.parent
        doc["extends"] = Path(os.path.relpath(base, folder)).as_posix()
    if setting.overrides:
        doc["policy"] = dict(setting.overrides)
    return doc


def export_text(setting: Setting, target: Path | None = None, today: date | None = None) -> str:
    """The scenario file as TOML text, with a comment saying where it came from."""
    doc = export_document(setting, target, today)
    header = "# Scenario exported from the sanshe dashboard (sanshe dashboard -> Export).\n"
    if target is None and "extends" in doc:
        header += f"# Save it beside {doc['extends']}, or change `extends` to that file's path.\n"
    return header + tomli_w.dumps(doc)


def write_export(
    setting: Setting, path: str | Path, today: date | None = None, overwrite: bool = False
) -> Path:
    """Write the setting as a scenario file and check that it loads; returns the path.

    Raises:
        UserError: the file exists (and ``overwrite`` is false), or its folder does not.
    """
    path = Path(path)
    if path.suffix != ".toml":
        raise UserError(f"{path}: a scenario file name must end in .toml")
    if not path.parent.is_dir():
        raise UserError(f"{path.parent}: no such folder")
    if path.exists() and not overwrite:
        raise UserError(f"{path} exists already: choose another name")
    text = export_text(setting, path, today)
    tomllib.loads(text)  # valid TOML before anything touches the disk
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    try:
        load_scenario(tmp)  # sanshe run will accept it (extends resolves from the same folder)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


@solara.component
def ExportView(setting: Setting, folder: Path) -> None:
    """Preview the scenario file of the current run; save it to ``folder`` or download it."""
    file_name, set_file_name = solara.use_state(f"{export_name(setting)}.toml")
    message, set_message = solara.use_state(None)
    target = folder / (file_name or "")

    def save() -> None:
        try:
            written = write_export(setting, target)
        except UserError as exc:
            set_message(("error", str(exc)))
            return
        set_message(
            ("ok", f"Saved {written}. Run it with: sanshe run {written} --seed {setting.seed}")
        )

    with solara.Column(classes=["sanshe-export"]):
        solara.Text(
            "The setting of the current run as a scenario file: it extends the scenario you "
            "picked and holds each lever you moved at its value for the whole run. "
            "`sanshe run FILE --seed N` runs it."
        )
        solara.HTML(
            tag="pre",
            unsafe_innerHTML=escape(export_text(setting, target)),
            classes=["sanshe-export-preview"],
            style="background: #f5f5f5; padding: 12px; font-size: 0.85em; white-space: pre-wrap;",
        )
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.InputText(
                f"File name (saved in {folder})", value=file_name, on_value=set_file_name
            )
            solara.Button("Save scenario file", on_click=save, color="primary")
            solara.FileDownload(
                lambda: export_text(setting),
                filename=file_name or "scenario.toml",
                label="Download",
                mime_type="application/toml",
            )
        if message:
            kind, text = message
            (solara.Success if kind == "ok" else solara.Error)(text)
