import socket
import subprocess
import sys
import textwrap

import pytest

import sim.dashboard.commands as commands
from sim.cli import main

from ..conftest import ROOT
from .conftest import REFORM, SCENARIOS

# Python run in a subprocess where the dashboard's dependencies cannot be imported.
WITHOUT_EXTRA = textwrap.dedent(
    """
    import sys
    BLOCKED = ("solara", "reacton", "ipyvuetify", "ipyvue", "altair", "playwright",
               "mesa.visualization")

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.startswith(BLOCKED):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    sys.meta_path.insert(0, Block())
    """
)


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRA + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_sim_imports_and_runs_without_the_dashboard_extra():
    done = python(
        f"""
        from sim import DistrictModel, load_scenario
        from sim.cli import build_parser
        build_parser()  # registering `sanshe dashboard` imports nothing heavy
        m = DistrictModel(load_scenario({str(REFORM)!r}), rng=1)
        m.run_for(3)
        assert len(m.results()["district"]) == 3
        assert not [n for n in sys.modules if n.startswith(BLOCKED)]
        print("ok")
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_sanshe_dashboard_without_the_extra_says_how_to_install_it():
    done = python(
        """
        from sim.cli import main
        sys.exit(main(["dashboard"]))
        """
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and len(done.stderr.splitlines()) == 1
    assert "pip install .[dashboard]" in done.stderr and "Traceback" not in done.stderr


def test_missing_extra_in_process(monkeypatch, capsys):
    real = commands.importlib.import_module

    def fake(name, *args):
        if name == "solara":
            raise ModuleNotFoundError("No module named 'solara'", name="solara")
        return real(name, *args)

    monkeypatch.setattr(commands.importlib, "import_module", fake)
    assert main(["dashboard", "--port", "8999"]) == 2
    err = capsys.readouterr().err
    assert "pip install .[dashboard]" in err and "missing: solara" in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--scenario", "nowhere.toml"], "no such file"),
        (["--scenarios-dir", "nowhere"], "no such folder"),
        (["--results", "nowhere"], "sanshe sweep"),
        (["--port", "70000"], "--port"),
        (["--port", "BUSY"], "in use"),
    ],
)
def test_bad_launch_options_are_user_errors(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        args = [str(busy.getsockname()[1]) if a == "BUSY" else a for a in args]
        assert main(["dashboard", *args]) == 2
    assert message in capsys.readouterr().err


def test_the_server_listens_on_localhost_only(monkeypatch, tmp_path):
    import solara.__main__

    seen = {}

    def fake_main(args, prog_name, standalone_mode):
        seen["args"] = args

    monkeypatch.setattr(solara.__main__.run, "main", fake_main)
    monkeypatch.setattr(commands.os, "environ", dict(commands.os.environ))
    results = tmp_path / "store"
    results.mkdir()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    code = main(["dashboard", "--scenario", str(REFORM), "--port", port, "--results", str(results)])
    assert code == 0
    args = seen["args"]
    assert args[0] == "sim.dashboard.app"
    assert args[args.index("--host") + 1] == "127.0.0.1" and "--no-open" in args
    assert args[args.index("--port") + 1] == port
    env = commands.os.environ
    assert env["SANSHE_DASHBOARD_SCENARIO"] == str(REFORM.resolve())
    assert env["SANSHE_DASHBOARD_SCENARIOS_DIR"] == str(SCENARIOS.resolve())
    assert env["SANSHE_DASHBOARD_RESULTS"] == str(results.resolve())
