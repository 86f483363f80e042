"""The chat page against a scripted endpoint: rendering, history, options, auth, errors, stop.

These tests pin how the page reads the streaming wire format (SPEC §2), including edge
cases the real server rarely produces; tests/test_ui_e2e.py runs it against the real server.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx

from deepsearch.server.ui import STATIC_DIR, asset_path
from tests.support.browser import browser_page, chromium  # noqa: F401  (fixtures)
from tests.support.fake_chat import FakeChat, Hold, HttpError, chunk
from tests.support.ui_page import (  # noqa: F401  (fixtures)
    QUOTE,
    TOWER,
    ask,
    base_url_fixture,
    fake_fixture,
    page_fixture,
    story,
    wait_idle,
)


def test_page_is_served_with_a_strict_policy(base_url: str) -> None:
    assert asset_path("../ui.py") is None and asset_path("/etc/passwd") is None
    assert asset_path("app.js") == STATIC_DIR.resolve() / "app.js"
    with httpx.Client(base_url=base_url) as client:
        root = client.get("/", follow_redirects=False)
        assert root.status_code in (302, 307) and root.headers["location"] == "/ui"
        page = client.get("/ui")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert client.get("/ui/static/app.js").headers["content-type"].startswith("text/javascript")
        assert client.get("/ui/static/marked.esm.js").status_code == 200
        assert client.get("/ui/static/LICENSE.marked.md").status_code == 200
        assert client.get("/ui/static/..%2fui.py").status_code == 404
        assert client.get("/ui/static/nope.js").status_code == 404


def test_streams_thinking_then_renders_answer_and_references(fake: FakeChat, page: Any) -> None:
    fake.queue(story())
    ask(page, "How tall is the Eiffel Tower?")
    wait_idle(page)

    lines = page.locator(".think-log li").all_text_contents()
    assert lines == [
        "Step 1: searching for eiffel tower height",
        f"Reading {TOWER}",
        "Verdict: the answer passed every check. 1,000 / 500,000 tokens",
    ]
    assert page.locator(".think-log a").first.get_attribute("href") == TOWER
    assert "1,234 / 500,000 tokens" in page.inner_text(".thinking summary")
    answer = page.locator(".answer")
    assert answer.locator("strong").inner_text() == "330 metres"
    assert answer.locator("table td").all_inner_texts() == ["height", "330 m", "opened", "1889"]
    assert answer.locator("pre code").inner_text().strip() == "print('<b>not bold</b>')"
    assert "<think>" not in answer.inner_text()

    marker = answer.locator("button.footnote-marker")
    assert marker.inner_text() == "1"
    marker.click()
    card = page.locator(".citation-slot .citation")
    assert QUOTE in card.locator("blockquote").inner_text()
    assert "2024-03-01" in card.inner_text()
    assert card.locator("a").first.get_attribute("href") == TOWER
    assert card.locator("a").first.inner_text() == "Eiffel Tower"
    assert page.locator(".reference-list li").count() == 1
    page.click(".url-lists summary")
    assert page.locator(".url-lists .url-list").nth(0).locator("a").all_inner_texts() == [TOWER]
    assert page.locator(".url-lists .url-list").nth(1).locator("li").count() == 2
    assert "1,234 tokens used" in page.inner_text(".usage")
    assert fake.requests[0]["stream"] is True
    assert fake.requests[0]["messages"] == [
        {"role": "user", "content": "How tall is the Eiffel Tower?"}
    ]
    assert page.console_errors == [] and page.outside_requests == []


def test_second_question_sends_the_whole_history(fake: FakeChat, page: Any) -> None:
    fake.queue(story("It is 330 metres tall[^1]."), story("It opened in 1889[^1]."))
    ask(page, "How tall is the Eiffel Tower?")
    wait_idle(page)
    ask(page, "And when did it open?")
    page.wait_for_selector(".turn.assistant.done >> nth=1")
    assert fake.requests[1]["messages"] == [
        {"role": "user", "content": "How tall is the Eiffel Tower?"},
        {"role": "assistant", "content": "It is 330 metres tall[^1]."},
        {"role": "user", "content": "And when did it open?"},
    ]
    assert page.locator(".turn.user").count() == 2


def test_options_and_attachments_are_sent(fake: FakeChat, page: Any) -> None:
    fake.queue(story())
    page.click("#options summary")
    page.select_option("#reasoning_effort", "high")
    page.fill("#budget_tokens", "20000")
    page.fill("#team_size", "3")
    page.check("#no_direct_answer")
    page.fill("#boost_hostnames", "wikipedia.org, arxiv.org")
    page.fill("#bad_hostnames", "spam.example")
    page.fill("#only_hostnames", "")
    page.select_option("#search_provider", "arxiv")
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPgPAAEDAQAIicLsAAAAAElFTkSuQmCC"
    )
    page.set_input_files(
        "#files",
        [
            {"name": "dot.png", "mimeType": "image/png", "buffer": png},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"tower notes"},
        ],
    )
    page.wait_for_selector(".attachment >> nth=1")
    ask(page, "What is in these files?")
    wait_idle(page)
    sent = fake.requests[0]
    assert sent["reasoning_effort"] == "high" and sent["budget_tokens"] == 20000
    assert sent["team_size"] == 3 and sent["no_direct_answer"] is True
    assert sent["boost_hostnames"] == ["wikipedia.org", "arxiv.org"]
    assert sent["bad_hostnames"] == ["spam.example"] and "only_hostnames" not in sent
    assert sent["search_provider"] == "arxiv"
    text, image, file = sent["messages"][0]["content"]
    assert text == {"type": "text", "text": "What is in these files?"}
    assert image["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(png).decode()
    assert file["file"] == {
        "filename": "notes.txt",
        "file_data": "data:text/plain;base64," + base64.b64encode(b"tower notes").decode(),
    }
    assert "Attached: dot.png, notes.txt" in page.inner_text(".turn.user")
    assert page.locator(".attachment").count() == 0


def test_unauthorized_asks_for_the_key_and_retries(fake: FakeChat, page: Any) -> None:
    fake.queue(HttpError(401, "Invalid API key", "invalid_api_key"), story())
    ask(page, "How tall is the Eiffel Tower?")
    page.wait_for_selector("#key-dialog[open]")
    page.fill("#key-input", "sk-secret")
    page.click("#key-save")
    wait_idle(page)
    assert fake.auth_headers == [None, "Bearer sk-secret"]
    assert page.evaluate("sessionStorage.getItem('deepsearch.apiKey')") == "sk-secret"
    assert page.evaluate("localStorage.getItem('deepsearch.apiKey')") is None
    assert page.locator(".turn.assistant").count() == 1
    assert "330 metres" in page.inner_text(".answer")


def test_server_errors_are_shown(fake: FakeChat, page: Any) -> None:
    no_llm = "No LLM is configured. Set OPENAI_API_KEY"
    fake.queue(HttpError(503, no_llm, "no_llm"))
    ask(page, "first")
    wait_idle(page)
    assert no_llm in page.inner_text(".turn.assistant .turn-note.error")

    broken = [chunk("<think>"), chunk("Step 1: searching\n"), {"error": {"message": "boom"}}]
    fake.queue([*broken, chunk("</think>\n\n", type_="error"), "[DONE]"])
    ask(page, "second")
    page.wait_for_selector(".turn.assistant.done >> nth=1")
    second = page.locator(".turn.assistant").nth(1)
    assert "boom" in second.locator(".turn-note.error").inner_text()
    assert second.locator(".think-log li").all_text_contents() == ["Step 1: searching"]


def test_network_failure_is_shown(page: Any) -> None:
    page.route("**/v1/chat/completions", lambda route: route.abort("connectionrefused"))
    ask(page, "anyone there?")
    wait_idle(page)
    assert "Network error" in page.inner_text(".turn-note.error")


def test_stop_aborts_the_request(fake: FakeChat, page: Any) -> None:
    fake.queue([chunk("<think>"), chunk("Step 1: searching\n"), Hold(), *story()[2:]])
    ask(page, "Take your time")
    page.wait_for_selector(".think-log li")
    assert fake.holding.wait(10)
    page.click("#stop")
    page.wait_for_selector(".turn-note.stopped")
    assert fake.disconnected.wait(10), "the server never saw the client go away"
    assert page.is_enabled("#send")
    fake.release()


def test_usable_on_a_phone_screen(fake: FakeChat, page: Any) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    fake.queue(story())
    ask(page, "How tall is the Eiffel Tower?")
    wait_idle(page)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert page.locator("#send").is_visible() and page.locator("#question").is_visible()


def test_budget_meter_follows_structured_progress_while_running(fake: FakeChat, page: Any) -> None:
    progress = {"kind": "query", "step": 2, "tokens_used": 12345, "budget_tokens": 100000}
    fake.queue([chunk("<think>"), chunk("Searching: tower\n", progress=progress), Hold()])
    ask(page, "How tall is the Eiffel Tower?")
    assert fake.holding.wait(10)
    page.wait_for_selector(".thinking summary:has-text('12,345 / 100,000 tokens')")
    assert "step 2" in page.inner_text(".thinking summary")
    assert page.get_attribute(".budget-meter", "value") == "12345"
    page.click("#stop")
    page.wait_for_selector(".turn-note.stopped")


def test_controls_are_labelled_and_the_page_works_from_the_keyboard(
    fake: FakeChat, page: Any
) -> None:
    labels = [
        "Your question",
        "Attach files",
        "Reasoning effort",
        "Token budget",
        "Team size",
        "Search provider",
        "Prefer hosts",
        "Never read hosts",
        "Read only hosts",
        "Always search first (no direct answer)",
    ]
    for label in labels:
        assert page.get_by_label(label, exact=True).count() == 1, label
    assert page.get_by_role("button", name="Send").count() == 1

    fake.queue([chunk("<think>"), chunk("Step 1: searching\n"), Hold()], story())
    page.focus("#question")
    page.keyboard.type("How tall is the Eiffel Tower?")
    page.keyboard.press("Enter")
    assert fake.holding.wait(10)
    page.wait_for_selector(".think-log[role='log'][aria-live='polite'] li")
    page.keyboard.press("Escape")
    page.wait_for_selector(".turn-note.stopped")
    assert fake.disconnected.wait(10)

    page.focus("#question")
    page.keyboard.type("Try again")
    page.keyboard.press("Enter")
    page.wait_for_selector(".turn.assistant.done >> nth=1")
    marker = page.locator(".turn.assistant").nth(1).locator("button.footnote-marker")
    marker.focus()
    page.keyboard.press("Enter")
    assert marker.get_attribute("aria-expanded") == "true"
    assert QUOTE in page.locator(".turn.assistant").nth(1).locator(".citation-slot").inner_text()
