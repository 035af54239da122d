"""Headless Chromium for the tests of the HTML view: the executable, and the DOM of a page after Chromium ran it.

CI installs Debian's ``chromium`` (``.ci/run``), so there a missing browser fails the test instead of skipping it.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import ModuleType

from tiny_models import scaled_timeout, skip_or_fail

#: Virtual time Chromium lets pass before it dumps the DOM: load and error events, autofocus and timers fire within
#: it, however slow the machine (virtual time waits for the page, not for the clock).
VIRTUAL_TIME_MS = 5000


def chromium_executable() -> str:
    """The path of ``chromium`` (or ``chromium-browser``); skips the test without one (fails it under ``CI=true``)."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        skip_or_fail("headless Chromium is not installed (Debian: apt-get install -y chromium)")
    return executable


def pillow_image() -> ModuleType:
    """``PIL.Image``, to read screenshots; skips the test without Pillow (the ``dev`` extra installs it; fails the test
    under ``CI=true``)."""
    try:
        return importlib.import_module("PIL.Image")
    except ImportError:
        skip_or_fail("Pillow is needed to read the screenshot (pip install -e '.[dev]')")


def rendered_dom(html_path: Path) -> str:
    """The DOM of ``html_path`` serialised by headless Chromium after loading it, with JavaScript on: whatever the
    page runs (scripts, event handlers, ``javascript:`` frames) has changed it by then."""
    executable = chromium_executable()
    with tempfile.TemporaryDirectory() as profile:  # a throw-away profile: no state shared with other runs
        result = subprocess.run(
            [executable, "--headless", "--disable-gpu", "--no-sandbox", f"--user-data-dir={profile}",
             f"--virtual-time-budget={VIRTUAL_TIME_MS}", "--dump-dom", html_path.resolve().as_uri()],
            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=scaled_timeout(120),
        )
    assert result.returncode == 0 and "<html" in result.stdout, (
        f"chromium failed (exit {result.returncode}): {result.stderr[-2000:]}")
    return result.stdout
