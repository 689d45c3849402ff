"""End to end: ``sanshe dashboard`` in a subprocess, opened in headless Chromium with Playwright.

Uses Debian's Chromium (``apt-get install chromium``; ``.ci/run`` installs it), since a test tool's
own browser download does not work everywhere. Skipped when Chromium is absent, unless
``SANSHE_REQUIRE_BROWSER`` is set (as in CI), which makes that a failure. Screenshots are saved to
``tests/dashboard/artifacts/`` (git-ignored).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from ..browser import CHROMIUM, CHROMIUM_ARGS, require_browser
from ..conftest import ROOT
from .conftest import REFORM

ARTIFACTS = Path(__file__).parent / "artifacts"
DOCS_FIGURES = Path(__file__).resolve().parents[2] / "docs" / "figures"


def chart_screenshot(chart: Any, tries: int = 5) -> bytes:
    """A screenshot of a chart's image, taken again if the page replaced the element meanwhile.

    Solara may render a chart's ``img`` anew (for instance on a second render of the first load, on
    a busy machine); the locator then finds the new element on the next try. Any other error, or
    the same one ``tries`` times, fails the test.
    """
    from playwright.sync_api import Error as PlaywrightError

    for attempt in range(tries):
        try:
            return chart.screenshot()
        except PlaywrightError as exc:
            if "not attached to the DOM" not in str(exc) or attempt == tries - 1:
                raise
            time.sleep(0.2)
    raise AssertionError("unreachable")


def save_docs_figure(screenshot: Path, name: str) -> None:
    """With SANSHE_UPDATE_DOCS_FIGURES=1, a small copy of a screenshot for docs/figures/ (960 px
    wide, 256 colours): the dashboard as docs/dashboard.md shows it."""
    if not os.environ.get("SANSHE_UPDATE_DOCS_FIGURES"):
        return
    from PIL import Image

    with Image.open(screenshot) as im:
        small = im.convert("RGB").resize((960, round(im.height * 960 / im.width)), Image.LANCZOS)
    small.quantize(256, method=Image.Quantize.FASTOCTREE).save(DOCS_FIGURES / name, optimize=True)


CHARTS = ("burden", "services", "satisfaction", "organizations", "workers", "spend")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A running ``sanshe dashboard`` on a free localhost port; its URL."""
    require_browser()
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sim",
                "dashboard",
                "--port",
                str(port),
                "--scenario",
                str(REFORM),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the dashboard server exited:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the dashboard server did not answer:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_run_in_a_real_browser_updates_the_charts(server, tmp_path):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1400, "height": 2000},
        )
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(server)

            # first load: the reform scenario, nothing run yet, empty charts
            status = page.locator(".sanshe-status")
            expect(status).to_have_text("Not run yet: 48 months from 2013-01", timeout=60_000)
            burden = page.locator(".sanshe-chart-burden")
            expect(burden.locator(".sanshe-chart-status")).to_have_text("0 of 48 months")
            expect(page.locator("rect.sanshe-community")).to_have_count(87)
            chart = burden.locator("img")
            chart.wait_for()
            page.wait_for_function(
                "el => el.complete && el.naturalWidth > 0", arg=chart.element_handle()
            )
            before = chart_screenshot(chart)
            page.screenshot(path=ARTIFACTS / "dashboard-first-load.png")

            # Step (SolaraViz's button): one month
            page.get_by_role("button", name="Step").click()
            expect(status).to_have_text("Month 1 of 48 (2013-01)", timeout=30_000)
            expect(burden.locator(".sanshe-chart-status")).to_have_text("1 of 48 months")

            # Run (SolaraViz's ▶): the charts fill in month by month ...
            page.get_by_role("button", name="▶").click()
            later = re.compile(r"^([3-9]|[1-4][0-9]) of 48 months$")
            expect(burden.locator(".sanshe-chart-status")).to_have_text(later, timeout=30_000)
            page.wait_for_timeout(300)  # let the new chart image decode before comparing
            assert chart_screenshot(chart) != before, "the burden chart did not change"
            # ... and Run to end runs the rest at once (unless ▶ got there first)
            try:
                page.get_by_role("button", name="Run to end").click(timeout=3_000)
            except PlaywrightTimeout:
                assert page.get_by_role("button", name="Run to end").is_disabled()
            expect(status).to_have_text("Month 48 of 48 (2016-12)", timeout=60_000)
            for key in CHARTS:
                expect(page.locator(f".sanshe-chart-{key} .sanshe-chart-status")).to_have_text(
                    "48 of 48 months", timeout=30_000
                )
            expect(page.locator("rect.sanshe-community[fill='#dddddd']")).to_have_count(0)
            page.wait_for_timeout(500)
            page.evaluate("document.fonts.ready.then(() => true)")
            page.screenshot(path=ARTIFACTS / "dashboard-after-run.png")
            save_docs_figure(ARTIFACTS / "dashboard-after-run.png", "dashboard-after-run.png")
            # no framework leftovers: months, not "Time: 48.0"; no "Page 0" tab or "Use Threads"
            expect(page.locator(".sanshe-month")).to_have_text("Month 48 of 48 (2016-12)")
            assert "Time:" not in page.locator("body").inner_text()
            expect(page.get_by_text("Page 0")).to_be_hidden()
            expect(page.get_by_text("Use Threads")).to_be_hidden()
            # the map: Chinese street names with pinyin, and a scale in the report's units
            labels = page.locator(".sanshe-street-label")
            expect(labels).to_have_count(13)
            expect(labels.first).to_have_text("浆洗街 Jiangxijie")
            expect(labels.last).to_have_text("华兴 Huaxing")
            expect(page.locator(".sanshe-legend-low")).to_have_text("0.0%")
            expect(page.locator(".sanshe-legend-high")).to_have_text("100.0%")
            expect(page.locator(".sanshe-legend-unit")).to_have_text(
                "admin burden (%), lower is better"
            )
            expect(page.locator(".sanshe-district")).to_contain_text("no value yet")
            # ... chosen by the output's label, not its code name
            expect(page.locator(".sanshe-district .v-select__selection")).to_have_text(
                "Admin burden (%)"
            )
            # ... in a font that has the Chinese glyphs (the machine has none: boxes without it)
            faces = page.evaluate(
                "Array.from(document.fonts).map(f => [f.family.replace(/\"/g, ''), f.status])"
            )
            assert ["Sanshe CJK Subset", "loaded"] in faces, faces
            assert labels.first.evaluate("el => getComputedStyle(el).fontFamily").startswith(
                '"Sanshe CJK Subset"'
            )
            # ... and the whole legend inside the picture's box (none of it cut off)
            box = page.locator("svg.sanshe-district-svg").bounding_box()
            cell = page.locator(".sanshe-district").bounding_box()
            assert box["x"] + box["width"] <= cell["x"] + cell["width"] + 1
            legend = page.locator(".sanshe-district text", has_text="no value yet").bounding_box()
            assert legend["x"] + legend["width"] <= box["x"] + box["width"]

            # a lever: switch entry control off, then Reset starts a run that holds it off
            entry = page.locator(".sanshe-levers .sanshe-lever-entry_control")
            entry.get_by_text("in force").click()
            expect(entry).to_contain_text("override: held at this value for the whole run")
            expect(page.locator(".sanshe-pending")).to_contain_text("The setting has changed")
            page.get_by_role("button", name="Reset").click()
            expect(status).to_have_text("Not run yet: 48 months from 2013-01", timeout=30_000)
            expect(page.locator(".sanshe-overrides")).to_contain_text("entry_control = off")
            expect(page.locator(".sanshe-pending")).to_have_count(0)
            page.get_by_role("button", name="Step").click()
            expect(status).to_have_text("Month 1 of 48 (2013-01)", timeout=30_000)
            assert not errors, errors
        finally:
            browser.close()
