"""A headless Chromium for end-to-end tests of the chat page (Debian's /usr/bin/chromium).

Tests skip with a clear message when the browser or Playwright is missing; install the
browser with ``scripts/install-browser.sh`` (never with ``playwright install``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    """Return the system Chromium executable, or None when it is not installed."""
    explicit = os.environ.get("DEEPSEARCH_CHROMIUM")
    if explicit and os.path.exists(explicit):
        return explicit
    if os.path.exists("/usr/bin/chromium"):
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """A Playwright Browser on the system Chromium, shared by a test module.

    Module scope, not session: each test module imports this fixture, and two live
    Playwright drivers cannot share one thread.
    """
    executable = chromium_path()
    if executable is None:
        pytest.skip("chromium is not installed: run scripts/install-browser.sh")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: pip install playwright"
    )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    """A fresh page in its own context, with console errors and failed requests recorded.

    Every request that does not go to 127.0.0.1 is aborted and recorded, so a test can
    assert that the page works offline (no CDN) and never leaks traffic.
    """
    context = chromium.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.console_errors = []
    page.outside_requests = []

    def guard(route: Any) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            page.outside_requests.append(url)
            route.abort()

    page.route("**/*", guard)

    def record_console(message: Any) -> None:
        if message.type == "error":
            page.console_errors.append(f"{message.text} @ {message.location.get('url', '')}")

    page.on("console", record_console)
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()
