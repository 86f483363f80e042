"""The chat page never runs markup from answers, quotes, titles or URLs; think tags split safely."""

from __future__ import annotations

from typing import Any

from tests.support.browser import browser_page, chromium  # noqa: F401  (fixtures)
from tests.support.fake_chat import FakeChat, citation
from tests.support.ui_page import (  # noqa: F401  (fixtures)
    ask,
    base_url_fixture,
    fake_fixture,
    page_fixture,
    story,
    wait_idle,
)

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
