"""``sanshe dashboard``: serve the dashboard on this machine (127.0.0.1 only).

Registration imports nothing heavy: Solara is imported when the command runs, and a missing
``dashboard`` extra gives one message and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import socket
from pathlib import Path
from typing import Any

from sim.errors import UserError

HOST = "127.0.0.1"  # the dashboard is for the person at this machine; never listen wider
DEFAULT_PORT = 8765
APP = "sim.dashboard.app"
MISSING_EXTRA = (
    "the dashboard needs its optional dependencies: pip install .[dashboard] "
    "(or pip install 'sanshe[dashboard]'); missing: {name}"
)


def register(subparsers: Any) -> None:
    """Add ``sanshe dashboard`` to the CLI."""
    p = subparsers.add_parser(
        "dashboard",
        help="serve the interactive dashboard on localhost",
        description="Serve the policy dashboard (Mesa SolaraViz) at http://127.0.0.1:PORT.",
    )
    p.add_argument(
        "--scenario", help="scenario file to open first (default: the library's reform scenario)"
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument(
        "--scenarios-dir",
        help="folder of scenario files for the picker and for saved exports (default: the "
        "scenario file's folder, else ./scenarios, else the source tree's scenarios/)",
    )
    p.add_argument(
        "--results", help="results store (from `sanshe sweep`) whose comparison table to show"
    )
    p.add_argument("--open", action="store_true", help="open the page in a web browser")
    p.set_defaults(func=run_dashboard)


def check_extra() -> None:
    """Raise UserError naming the extra if the dashboard's dependencies are missing."""
    for name in ("solara", "mesa.visualization"):
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise UserError(MISSING_EXTRA.format(name=exc.name or name)) from None


def config_from_args(args: argparse.Namespace) -> Any:
    """The launch configuration (checked: files and folders exist)."""
    from sim.dashboard.setting import DashboardConfig, repo_scenarios_dir

    scenario = Path(args.scenario).resolve() if args.scenario else None
    if scenario is not None and not scenario.is_file():
        raise UserError(f"--scenario {args.scenario}: no such file")
    if args.scenarios_dir:
        folder = Path(args.scenarios_dir).resolve()
    elif scenario is not None:
        folder = scenario.parent
    elif Path("scenarios").is_dir():
        folder = Path("scenarios").resolve()
    else:
        folder = repo_scenarios_dir()
    if not folder.is_dir():
        raise UserError(f"--scenarios-dir {folder}: no such folder")
    results = Path(args.results).resolve() if args.results else None
    if results is not None and not results.is_dir():
        raise UserError(f"--results {args.results}: no such folder (run `sanshe sweep` first)")
    if not 0 < args.port < 65536:
        raise UserError(f"--port {args.port}: must be from 1 to 65535")
    with socket.socket() as s:
        try:
            s.bind((HOST, args.port))
        except OSError:
            raise UserError(f"--port {args.port}: in use; choose another port") from None
    return DashboardConfig(scenario, folder, results)


def run_dashboard(args: argparse.Namespace) -> int:
    """Start the Solara server with the dashboard page; returns when it stops."""
    check_extra()
    config = config_from_args(args)
    # Validate the first scenario now, so a bad file is a one-line error, not a broken page.
    if config.scenario is not None:
        from sim.scenario import load_scenario

        load_scenario(config.scenario)
    os.environ.update(config.to_env())
    # No usage reports from a policy team's machine (and none attempted on a closed network).
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    from solara.__main__ import run

    print(f"sanshe dashboard: http://{HOST}:{args.port}  (Ctrl-C to stop)", flush=True)
    argv = [APP, "--host", HOST, "--port", str(args.port), "--production", "--no-check-version"]
    argv.append("--open" if args.open else "--no-open")
    run.main(args=argv, prog_name="sanshe dashboard", standalone_mode=False)
    return 0
