"""Root test configuration shared by every test directory.

- Browser tests (pytest-playwright) run in Debian's Chromium, never a downloaded
  browser: ``/usr/bin/chromium``, or the executable named by ``$CHROMIUM``.
  ``playwright install`` is not needed (and cannot download on our machines).
- Without that executable, browser tests are *skipped* on a developer machine
  but *fail* in CI (``CI=true``), so a CI run can never pass without them.
- ``DJANGO_ALLOW_ASYNC_UNSAFE``: Playwright's sync API runs an event loop, so
  Django would otherwise raise ``SynchronousOnlyOperation`` in live-server tests.
- ``artifacts_dir``: where tests save screenshots and other files to look at
  (``test-artifacts/`` at the repository root, git-ignored).

Web-app fixtures live in ``tests/web/conftest.py``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

DEFAULT_CHROMIUM = "/usr/bin/chromium"
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


def chromium_path() -> str:
    return os.environ.get("CHROMIUM") or DEFAULT_CHROMIUM


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def pytest_configure(config: pytest.Config) -> None:
    # scripts/test.sh runs the database tests with -m "not nopostgres".
    config.addinivalue_line("markers", "nopostgres: not run in the PostgreSQL pass")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch Debian's Chromium headless (overrides pytest-playwright's fixture)."""
    exe = chromium_path()
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        msg = f"Chromium not found at {exe} (apt-get install chromium, or set CHROMIUM)"
        if in_ci():
            pytest.fail(f"{msg}; browser tests must run in CI", pytrace=False)
        pytest.skip(msg)
    return {**browser_type_launch_args, "executable_path": exe, "args": CHROMIUM_ARGS}


# How long an ``expect(...)`` waits for the page to show what it should: Playwright's 5 s was
# too short now and then for a POST, its redirect and the next page on a loaded 2-CPU machine
# (a rate change on the live page, once in a few dozen runs). A wait ends as soon as the page is
# right, so a longer bound slows nothing down; it only stops load from failing a correct page.
EXPECT_TIMEOUT_MS = 20_000


@pytest.fixture(scope="session", autouse=True)
def _patient_expectations() -> None:
    try:
        from playwright.sync_api import expect
    except ImportError:  # the browser tests are skipped without Playwright
        return
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@pytest.fixture(scope="session")
def artifacts_dir(pytestconfig: pytest.Config) -> Path:
    """``test-artifacts/`` at the repository root, created on first use."""
    path = pytestconfig.rootpath / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
