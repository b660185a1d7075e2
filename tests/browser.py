"""Playwright (Python) driving Debian's Chromium against the live test server.

Screenshots of every page a browser test visits are written to artifacts/screenshots/
(kept by CI as artefacts; see docs/dashboard.md#tests-and-screenshots)."""

import os
import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_available() -> bool:
    return Path(CHROMIUM).exists()


requires_chromium = pytest.mark.skipif(
    not chromium_available(), reason="Debian's chromium is not installed (.ci/run installs it)"
)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (re.sub(r"[^a-z0-9_-]+", "-", name.lower()) + ".png")
    page.evaluate("window.scrollTo(0, 0)")  # sticky panes where they sit at the top
    page.screenshot(path=str(path), full_page=True)
    return path
