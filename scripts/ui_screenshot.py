"""Take the README's screenshot of the chat page: two finished runs against the real server.

The server runs the real graph on the scripted test model and in-memory test pages, on
loopback only. Needs chromium (scripts/install-browser.sh) and playwright.

    .venv/bin/python scripts/ui_screenshot.py [docs/screenshot.png]
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.async_model import AsyncScriptedChatModel  # noqa: E402
from tests.support.brain import Brain  # noqa: E402
from tests.support.browser import CHROMIUM_ARGS, chromium_path  # noqa: E402
from tests.support.servers import serve  # noqa: E402
from tests.support.ui_server import ui_app  # noqa: E402

QUESTIONS = ["Who designed the Statue of Liberty?", "Where was Gustave Eiffel born?"]


def main(out: Path) -> None:
    """Run two questions in the page and save a screenshot of the result to ``out``."""
    executable = chromium_path()
    if executable is None:
        raise SystemExit("chromium is not installed: run scripts/install-browser.sh")
    model = AsyncScriptedChatModel(brain=Brain())
    with serve(ui_app(model)) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 1200}, device_scale_factor=1)
        page.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith(("http://127.0.0.1", "data:"))
                else route.abort()
            ),
        )
        page.goto(base + "/")
        page.wait_for_selector("body.ready")
        for n, question in enumerate(QUESTIONS):
            page.fill("#question", question)
            page.click("#send")
            page.wait_for_selector(f".turn.assistant.done >> nth={n}")
        last = page.locator(".turn.assistant").last
        last.locator(".thinking summary").click()
        last.locator(".url-lists summary").click()
        last.locator("button.footnote-marker").first.click()
        page.click("#options summary")
        page.fill("#question", "And when did he die?")
        # A viewport as tall as the page keeps the sticky header and composer in place.
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": 1000, "height": height})
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out))
        browser.close()
    print(f"saved {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshot.png")
