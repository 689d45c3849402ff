"""Headless Chromium for the browser tests (the dashboard, the report's first screen).

Uses Debian's Chromium (``apt-get install chromium``; ``.ci/run`` installs it), since a test tool's
own browser download does not work everywhere. Without Chromium or Playwright a test skips, unless
``SANSHE_REQUIRE_BROWSER`` is set (as in CI), which makes that a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium's own connections are refused on a closed
# network; a fresh profile (user-data-dir) per run keeps runs independent.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_browser() -> None:
    """Skip (or fail, where SANSHE_REQUIRE_BROWSER is set) without Chromium and Playwright."""
    required = bool(os.environ.get("SANSHE_REQUIRE_BROWSER"))
    problem = None
    if not CHROMIUM.is_file():
        problem = f"{CHROMIUM} not found (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "playwright is not installed (pip install .[dashboard])"
    if problem and required:
        pytest.fail(f"SANSHE_REQUIRE_BROWSER is set but {problem}")
    if problem:
        pytest.skip(f"browser test skipped: {problem}; set SANSHE_REQUIRE_BROWSER=1 to require it")
