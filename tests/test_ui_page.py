"""The chat page against a scripted endpoint: rendering, options, auth, errors, stop, safety.

These tests pin how the page reads the streaming wire format (SPEC §2), including edge
cases the real server rarely produces; tests/test_ui_e2e.py runs it against the real server.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from deepsearch.server.ui import STATIC_DIR, asset_path
from tests.support.browser import browser_page, chromium  # noqa: F401  (fixtures)
from tests.support.fake_chat import FakeChat, Hold, HttpError, chunk, citation, final_chunk
from tests.support.servers import serve

TOWER = "https://example.org/wiki/eiffel-tower"
QUOTE = "The tower is 330 metres tall"
ANSWER = (
    "The Eiffel Tower is **330 metres** tall[^1].\n\n"
    "| fact | value |\n|---|---|\n| height | 330 m |\n| opened | 1889 |\n\n"
    "```python\nprint('<b>not bold</b>')\n```\n"
)


def story(answer: str = ANSWER, annotations: list[dict[str, Any]] | None = None) -> list[Any]:
    """A complete run: think tags split across chunks, reasoning lines, answer, final chunk."""
    return [
        chunk("<thi", type_="think"),
        chunk("nk>", type_="think"),
        chunk("Step 1: searching for eiffel tower height\n", type_="think"),
        chunk(f"Reading {TOWER}\n", type_="think"),
        chunk("Verdict: the answer passed every check. 1,000 / 500,000 tokens\n", type_="think"),
        chunk("</thi", type_="think"),
        chunk("nk>\n\n", type_="think"),
        chunk(answer[:7], type_="text"),
        chunk(answer[7:], type_="text"),
        final_chunk(
            annotations
            if annotations is not None
            else [citation(TOWER, "Eiffel Tower", QUOTE, "2024-03-01")],
            read=[TOWER],
            visited=[TOWER, "https://example.org/blog/paris-travel"],
        ),
        "[DONE]",
    ]


@pytest.fixture
def fake() -> FakeChat:
    """The scripted endpoint's state."""
    return FakeChat()


@pytest.fixture
def base_url(fake: FakeChat) -> Iterator[str]:
    """The fake server's address."""
    with serve(fake.app()) as base:
        yield base


@pytest.fixture
def page(browser_page: Any, base_url: str) -> Any:  # noqa: F811
    """The chat page, loaded and ready."""
    browser_page.goto(base_url + "/")
    browser_page.wait_for_selector("body.ready")
    return browser_page


def ask(page: Any, question: str) -> None:
    """Type a question and send it with the Enter key."""
    page.fill("#question", question)
    page.press("#question", "Enter")


def wait_idle(page: Any) -> None:
    """Wait until the run has ended (the Stop button is hidden again)."""
    page.wait_for_selector(".turn.assistant.done")
    page.wait_for_selector("#stop", state="hidden")


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


HOSTILE = (
    'Result: <img src="x" onerror="window.pwned=1"> <script>window.pwned=2</script> '
    "[click](javascript:window.pwned=3) and ![pic](https://tracker.example/p.png)[^1]"
)


def test_hostile_answer_quote_title_and_url_do_not_execute(fake: FakeChat, page: Any) -> None:
    evil = citation(
        "javascript:window.pwned=4",
        '<img src=x onerror="window.pwned=5">',
        '<script>window.pwned=6</script><img src=x onerror="window.pwned=7">',
    )
    fake.queue(story(HOSTILE, [evil]))
    ask(page, "Tell me about the hostile page")
    wait_idle(page)
    page.click("button.footnote-marker")
    answer = page.locator(".answer")
    assert answer.locator("script, img, [onerror]").count() == 0
    assert page.locator(".turn.assistant a[href^='javascript']").count() == 0
    assert page.locator(".turn.assistant img").count() == 0
    assert answer.locator("a[href='https://tracker.example/p.png']").inner_text() == "[pic]"
    quote = page.locator(".citation-slot blockquote").inner_text()
    assert quote == '<script>window.pwned=6</script><img src=x onerror="window.pwned=7">'
    assert page.evaluate("window.pwned") is None
    assert page.outside_requests == []


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


def test_think_splitter_handles_tags_split_at_any_point(page: Any) -> None:
    stream = "<think>Step 1: search\nReading https://a.example/x\n</think>\n\nThe answer [^1]."
    results = page.evaluate(
        """async (stream) => {
            const { ThinkSplitter } = await import("/ui/static/sse.js");
            const out = [];
            for (let i = 0; i <= stream.length; i++) {
                for (let j = i; j <= stream.length; j++) {
                    const splitter = new ThinkSplitter();
                    let think = "", answer = "";
                    for (const part of [stream.slice(0, i), stream.slice(i, j), stream.slice(j)]) {
                        const got = splitter.push(part);
                        think += got.think; answer += got.answer;
                    }
                    const rest = splitter.flush();
                    out.push([think + rest.think, answer + rest.answer]);
                }
            }
            return out;
        }""",
        stream,
    )
    expected = ["Step 1: search\nReading https://a.example/x\n", "The answer [^1]."]
    assert len(results) > 1000
    assert all(result == expected for result in results)


XSS_PAYLOADS = [
    '<svg onload="window.pwned=1"></svg>',
    '<iframe srcdoc="<script>parent.pwned=2</script>"></iframe>',
    "[x](javascript:window.pwned=3)",
    "[y](data:text/html,<script>window.pwned=4</script>)",
    '<a href=" jAvAsCrIpT:window.pwned=5">z</a>',
    '<details open ontoggle="window.pwned=6">d</details>',
    '<math><mi xlink:href="javascript:window.pwned=7">m</mi></math>',
    '<form action="javascript:window.pwned=8"><button>go</button></form>',
    '<img src=x onerror="window.pwned=9">',
    "`<script>window.pwned=10</script>` and [^1]",
    '<p style="background:url(javascript:window.pwned=11)">s</p>',
]


def test_rendered_markdown_keeps_no_script_handler_or_unsafe_link(page: Any) -> None:
    report = page.evaluate(
        """async (payloads) => {
            const { renderAnswer } = await import("/ui/static/render.js");
            const box = document.createElement("div");
            document.body.append(box);
            renderAnswer(box, payloads.join("\\n\\n"), [], () => {});
            await new Promise((resolve) => setTimeout(resolve, 200));
            const all = [...box.querySelectorAll("*")];
            return {
                handlers: all.flatMap((e) => [...e.attributes].map((a) => a.name))
                    .filter((name) => name.startsWith("on") || name === "style"
                        || name === "srcdoc" || name.includes("href") && name !== "href"),
                tags: all.map((e) => e.tagName.toLowerCase()),
                hrefs: [...box.querySelectorAll("[href]")].map((e) => e.getAttribute("href")),
                code: [...box.querySelectorAll("code")].map((e) => e.textContent),
                buttons: [...box.querySelectorAll("button")].map((e) => e.className),
            };
        }""",
        XSS_PAYLOADS,
    )
    assert report["handlers"] == []
    assert not {"script", "iframe", "form", "img", "input"} & set(report["tags"])
    assert report["buttons"] == ["footnote-marker"]  # only our own [^1] marker
    assert all(href.startswith(("http://", "https://")) for href in report["hrefs"])
    assert report["code"] == ["<script>window.pwned=10</script>"]
    assert page.evaluate("window.pwned") is None
