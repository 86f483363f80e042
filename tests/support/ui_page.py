"""The chat page on a scripted endpoint: fixtures, a canned run and page helpers for UI tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.fake_chat import FakeChat, chunk, citation, final_chunk
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


@pytest.fixture(name="fake")
def fake_fixture() -> FakeChat:
    """The scripted endpoint's state."""
    return FakeChat()


@pytest.fixture(name="base_url")
def base_url_fixture(fake: FakeChat) -> Iterator[str]:
    """The fake server's address."""
    with serve(fake.app()) as base:
        yield base


@pytest.fixture(name="page")
def page_fixture(browser_page: Any, base_url: str) -> Any:
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
