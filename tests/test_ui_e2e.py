"""The chat page in a real headless Chromium against the real API server (create_app).

The server runs the real graph on a scripted model with in-memory search and reading,
served on loopback; the browser may reach nothing else.
"""

from __future__ import annotations

from typing import Any

from deepsearch.server.app import create_app
from deepsearch.settings import NO_LLM_MESSAGE
from tests.support.api_server import PNG_BYTES, QUESTION, local_settings, server_settings
from tests.support.brain import Brain
from tests.support.browser import browser_page, chromium  # noqa: F401  (fixtures)
from tests.support.gated_model import GatedChatModel
from tests.support.servers import serve
from tests.support.ui_server import HOSTILE_QUESTION, HOSTILE_URL, ui_app

STATUE = "https://example.org/news/statue-of-liberty"


def open_chat(page: Any, base_url: str) -> None:
    """Load the chat page from the server root (which redirects to /ui)."""
    page.goto(base_url + "/")
    page.wait_for_selector("body.ready")
    assert page.url == base_url + "/ui"


def ask(page: Any, question: str) -> None:
    """Type a question and press Send."""
    page.fill("#question", question)
    page.click("#send")


def wait_idle(page: Any) -> None:
    """Wait until the run has ended."""
    page.wait_for_selector(".turn.assistant.done")
    page.wait_for_selector("#stop", state="hidden")


def test_thinking_streams_while_running_then_answer_and_references_render(
    browser_page: Any,  # noqa: F811
) -> None:
    model = GatedChatModel(brain=Brain(), hold_role="answerer")
    with serve(ui_app(model)) as base:
        open_chat(browser_page, base)
        ask(browser_page, QUESTION)
        browser_page.wait_for_selector(f".think-log li:has-text('Reading {STATUE}')")
        assert model.held.wait(20)
        # The answerer is held: the run is still going while its steps are on screen.
        log = browser_page.locator(".think-log li").all_inner_texts()
        assert any(line.startswith(f"Searching: {QUESTION}") for line in log)
        assert browser_page.locator(f".think-log a[href='{STATUE}']").count() >= 1
        assert browser_page.is_visible("#stop") and browser_page.is_disabled("#send")
        assert browser_page.inner_text(".answer").strip() in ("", "…")
        model.gate.set()
        wait_idle(browser_page)

        answer = browser_page.locator(".answer")
        assert "Bartholdi" in answer.inner_text()
        assert "[^1]" not in answer.inner_text()
        answer.locator("button.footnote-marker").first.click()
        card = browser_page.locator(".citation-slot .citation")
        assert "Bartholdi" in card.locator("blockquote").inner_text()
        assert card.locator("a").first.get_attribute("href") == STATUE
        assert card.locator("a").first.inner_text() == "Statue of Liberty"
        assert "2022-06-10" in card.inner_text()
        browser_page.click(".url-lists summary")
        read = browser_page.locator(".url-lists .url-list").first.locator("a").all_inner_texts()
        assert STATUE in read
        assert "passed" in " ".join(browser_page.locator(".think-log li").all_text_contents())
        assert "tokens used" in browser_page.inner_text(".usage")
        assert browser_page.console_errors == []
        assert browser_page.outside_requests == []


def test_stop_cancels_the_run_on_the_server(browser_page: Any) -> None:  # noqa: F811
    model = GatedChatModel(brain=Brain(), block=True)
    with serve(ui_app(model)) as base:
        open_chat(browser_page, base)
        ask(browser_page, QUESTION)
        assert model.started.wait(20)
        browser_page.wait_for_selector(".think-log li")
        browser_page.click("#stop")
        browser_page.wait_for_selector(".turn-note.stopped")
        assert model.cancelled.wait(20), "the server did not cancel the run after Stop"
        assert browser_page.is_enabled("#send")


def test_markup_from_a_hostile_page_is_shown_as_text_and_never_runs(
    browser_page: Any,  # noqa: F811
) -> None:
    model = GatedChatModel(brain=Brain(), hold_role="none")
    with serve(ui_app(model)) as base:
        open_chat(browser_page, base)
        ask(browser_page, HOSTILE_QUESTION)
        wait_idle(browser_page)
        answer = browser_page.locator(".answer")
        assert "Dr Quux Vantablack" in answer.inner_text()
        browser_page.locator("button.footnote-marker").first.click()
        card = browser_page.locator(".citation-slot .citation")
        assert card.locator("a").first.get_attribute("href") == HOSTILE_URL
        assert "<script>window.pwned=3</script>" in card.locator("blockquote").inner_text()
        turn = browser_page.locator(".turn.assistant")
        assert turn.locator("script, img, [onerror]").count() == 0
        assert browser_page.evaluate("window.pwned") is None
        # Chromium reports inline handlers that DOMPurify's inert parser document sees (and
        # the page policy forbids); those never run. Nothing else may complain.
        others = [e for e in browser_page.console_errors if "purify.es.js" not in e]
        assert others == []


def test_server_key_is_asked_for_and_kept_in_the_browser(browser_page: Any) -> None:  # noqa: F811
    model = GatedChatModel(brain=Brain(), hold_role="none")
    with serve(ui_app(model, api_key="s3cret-key")) as base:
        open_chat(browser_page, base)
        ask(browser_page, QUESTION)
        browser_page.wait_for_selector("#key-dialog[open]")
        browser_page.fill("#key-input", "wrong")
        browser_page.click("#key-save")
        browser_page.wait_for_selector("#key-dialog[open]")
        assert "rejected" in browser_page.inner_text("#key-reason")
        browser_page.fill("#key-input", "s3cret-key")
        browser_page.check("#key-remember")
        browser_page.click("#key-save")
        wait_idle(browser_page)
        assert "Bartholdi" in browser_page.inner_text(".answer")
        stored = browser_page.evaluate("localStorage.getItem('deepsearch.apiKey')")
        assert stored == "s3cret-key"


def test_missing_llm_configuration_is_explained(browser_page: Any) -> None:  # noqa: F811
    app = create_app(settings=local_settings(), server_settings=server_settings())
    with serve(app) as base:
        open_chat(browser_page, base)
        ask(browser_page, QUESTION)
        wait_idle(browser_page)
        note = browser_page.inner_text(".turn-note.error")
        assert NO_LLM_MESSAGE[:40] in note


def test_attached_text_file_and_image_reach_the_model(browser_page: Any) -> None:  # noqa: F811
    brain = Brain()
    model = GatedChatModel(brain=brain, hold_role="none")
    note = b"Field notes: the Plimbo trophy went to Ada Grune in 1999."
    with serve(ui_app(model)) as base:
        open_chat(browser_page, base)
        browser_page.set_input_files(
            "#files",
            [
                {"name": "notes.txt", "mimeType": "text/plain", "buffer": note},
                {"name": "dot.png", "mimeType": "image/png", "buffer": PNG_BYTES},
            ],
        )
        browser_page.wait_for_selector(".attachment >> nth=1")
        ask(browser_page, "Who won the Plimbo trophy?")
        wait_idle(browser_page)
        assert browser_page.locator(".turn-note.error").count() == 0
    assert any("Ada Grune" in call.user for call in brain.calls)
    assert model.images and model.images[0].startswith("data:image/png;base64,")
