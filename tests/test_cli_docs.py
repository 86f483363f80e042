"""The CLI's documentation and its configuration report stay in step with the settings."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from rich.console import Console

from deepsearch.api import DeepSearchResult
from deepsearch.cli.doctor import describe, problems, redact_url
from deepsearch.cli.view import RunView, print_result
from deepsearch.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def _aliases() -> list[str]:
    return [info.alias or name.upper() for name, info in Settings.model_fields.items()]


def test_every_environment_variable_is_documented_in_the_readme() -> None:
    text = README.read_text()
    missing = [var for var in _aliases() if f"`{var}`" not in text]
    assert not missing


def test_the_report_lists_every_variable_and_hides_every_secret() -> None:
    settings = Settings(
        OPENAI_API_KEY=SecretStr("sk-one"),
        JINA_API_KEY=SecretStr("jina-two"),
        DEEPSEARCH_API_KEY=SecretStr("srv-three"),
        SEARXNG_URL="https://user:pw@search.example/?token=four",
        _env_file=None,  # type: ignore[call-arg]
    )
    rows = dict(describe(settings))
    assert list(rows) == _aliases()
    assert rows["OPENAI_API_KEY"] == "set" and rows["BRAVE_API_KEY"] == "missing"
    shown = " ".join(rows.values())
    for secret in ("sk-one", "jina-two", "srv-three", "pw", "four", "user"):
        assert secret not in shown
    assert rows["SEARXNG_URL"] == "https://search.example/"
    assert redact_url("not a url") == "not a url"


def test_problems_name_the_missing_variable_for_the_chosen_provider() -> None:
    bare = Settings(DEEPSEARCH_SEARCH_PROVIDER="serper", _env_file=None)  # type: ignore[call-arg]
    found = [p.what for p in problems(bare)]
    assert found[0] == "LLM endpoint"
    assert any("SERPER_API_KEY" in what for what in found)
    ready = Settings(OPENAI_BASE_URL="http://127.0.0.1:1/v1", _env_file=None)  # type: ignore[call-arg]
    assert problems(ready) == []


EVENTS: list[dict[str, Any]] = [
    {
        "type": "progress",
        "kind": "start",
        "text": "Question: Q?",
        "step": 0,
        "tokens_used": 0,
        "budget_tokens": 1000,
    },
    {
        "type": "progress",
        "kind": "plan",
        "text": "Search.",
        "action": "search",
        "step": 1,
        "tokens_used": 100,
        "budget_tokens": 1000,
    },
    {
        "type": "progress",
        "kind": "query",
        "text": "q [bold]x",
        "step": 1,
        "worker": "worker-1",
        "tokens_used": 150,
        "budget_tokens": 1000,
    },
    {
        "type": "progress",
        "kind": "verdict",
        "text": "Rejected (definitive): vague",
        "passed": False,
        "step": 3,
        "tokens_used": 900,
        "budget_tokens": 1000,
    },
    {"type": "result"},
]


def test_the_log_view_prints_one_line_per_event_and_keeps_markup_literal() -> None:
    buffer = io.StringIO()
    view = RunView(Console(file=buffer, width=200), live=False)
    with view:
        for event in EVENTS:
            view.handle(event)
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 4
    assert "search: Search." in lines[1]
    assert "worker-1" in lines[2] and "q [bold]x" in lines[2]
    assert "Rejected (definitive)" in lines[3] and "900/1,000 tok" in lines[3]
    assert (view.step, view.action, view.tokens_used) == (3, "search", 900)


def test_the_live_view_draws_on_a_terminal() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=120, force_terminal=True)
    with RunView(console) as view:
        for event in EVENTS:
            view.handle(event)
    assert "Rejected (definitive)" in buffer.getvalue()
    assert "tokens" in buffer.getvalue()


def test_the_answer_shows_footnotes_as_numbers_and_lists_references() -> None:
    result = DeepSearchResult(
        question="Q?",
        answer="Bartholdi designed it.[^1] **Paris** too.[^2]",
        references=[
            {
                "url": "https://a.example/x",
                "title": "A",
                "exactQuote": "designed  it",
                "dateTime": None,
            },
            {"url": "https://b.example/y", "title": "", "exactQuote": "", "dateTime": None},
        ],
        visited_urls=[],
        read_urls=[],
        usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        mode="researched",
    )
    buffer = io.StringIO()
    print_result(Console(file=buffer, width=200), result)
    text = buffer.getvalue()
    assert "[^" not in text and "[1]" in text and "[2]" in text
    assert "[1] A https://a.example/x" in text and "[2] https://b.example/y" in text
    assert "\u201cdesigned it\u201d" in text
