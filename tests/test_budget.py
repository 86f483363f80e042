"""The token budget is a cap: every call is fitted to what is left, the final answer included.

Runs go through the public API (``deepsearch.aask``, and the HTTP API with the official
openai SDK); a model whose answers never pass keeps researching until the budget stops it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from deepsearch import aask, build_graph
from deepsearch.nodes.beast_mode import NO_BUDGET
from deepsearch.prompts.fit import MIN_REPLY_TOKENS, Section, fit_prompt
from deepsearch.server.app import create_app
from deepsearch.settings import Settings
from deepsearch.tools.base import Page, SearchResponse
from deepsearch.tools.embeddings.local import lexical_scores
from deepsearch.tools.tokens import TokenCounter
from tests.support.api_server import QUESTION, new_model, scripted_graph, server_settings
from tests.support.brain import Brain
from tests.support.chat_model import ScriptedChatModel
from tests.support.memory import MemoryReader, MemorySearch
from tests.support.servers import serve
from tests.support.testweb import WebPage

# Long pages: every step that reads one makes the next prompts expensive.
LONG_PAGES = {
    f"https://landmarks.example/{i}": WebPage(
        f"Statue of Liberty, part {i}",
        ["The Statue of Liberty was designed by Frédéric Auguste Bartholdi."]
        + [f"The statue in New York Harbor has had visitors, story {j} of {i}." for j in range(200)],
    )
    for i in range(8)
}


def unsatisfied_graph(offline_settings: Settings, brain: Brain) -> Any:
    """A graph whose reviewer rejects every answer: research runs until the budget ends it."""
    brain.fail_reviews = 10_000
    return build_graph(
        model=ScriptedChatModel(brain=brain),
        search=MemorySearch(LONG_PAGES),
        reader=MemoryReader(LONG_PAGES),
        settings=offline_settings,
        team=False,
    )


@pytest.mark.parametrize("budget", [1_000, 4_000, 20_000, 60_000])
async def test_a_run_ends_well_formed_within_its_budget(offline_settings, budget: int) -> None:
    brain = Brain()
    graph = unsatisfied_graph(offline_settings, brain)
    result = await aask(QUESTION, graph=graph, budget_tokens=budget, max_attempts=20)
    assert result.usage["total_tokens"] <= 1.1 * budget
    assert result.answer.strip()
    assert result.mode in ("beast", "failed")
    if budget >= 4_000:  # enough for research: the answer is found and cited
        assert "Bartholdi" in result.answer and result.references


async def test_a_budget_too_small_for_any_call_says_so(offline_settings) -> None:
    brain = Brain()
    result = await aask(QUESTION, graph=unsatisfied_graph(offline_settings, brain), budget_tokens=50)
    assert result.answer == NO_BUDGET
    assert result.usage["total_tokens"] == 0
    assert brain.calls == []


def test_fitting_keeps_small_sections_whole_and_shares_the_rest() -> None:
    counter = TokenCounter(chars_per_token=4.0)
    big = "x" * 40_000
    sections = [
        Section("a", lambda n: big[:n], 40_000),
        Section("b", lambda n: "small"[:n], 1_000),
        Section("c", lambda n: big[:n], 40_000, floor=400),
    ]
    fitted = fit_prompt("sys", "{a}|{b}|{c}", sections, counter=counter, limit=3_000, cap=512)
    assert fitted is not None and fitted.trimmed
    a, b, c = fitted.user.split("|")
    assert b == "small" and len(a) == len(c)  # the big ones share what is left equally
    assert fitted.prompt_tokens + fitted.max_tokens <= 3_000
    assert fitted.max_tokens >= MIN_REPLY_TOKENS


def test_fitting_shrinks_the_reply_before_giving_up() -> None:
    counter = TokenCounter(chars_per_token=4.0)
    sections = [Section("a", lambda n: "y" * min(n, 800), 800, floor=800)]
    fitted = fit_prompt("s", "{a}", sections, counter=counter, limit=500, cap=1_000)
    assert fitted is not None and fitted.max_tokens < 1_000
    assert fitted.prompt_tokens + fitted.max_tokens <= 500
    assert fit_prompt("s", "{a}", sections, counter=counter, limit=300, cap=1_000) is None


@pytest.fixture
def client() -> Iterator[openai.OpenAI]:
    model = new_model(Brain(fail_reviews=10_000))
    app = create_app(
        graph=scripted_graph(model, pages=LONG_PAGES), server_settings=server_settings()
    )
    with serve(app) as base:
        yield openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0)


@pytest.mark.parametrize("stream", [False, True])
def test_the_api_keeps_budget_tokens(client: openai.OpenAI, stream: bool) -> None:
    budget = 5_000
    request = {
        "model": "jina-deepsearch-v1",
        "messages": [{"role": "user", "content": QUESTION}],
        "extra_body": {"budget_tokens": budget, "max_attempts": 20},
    }
    if stream:
        chunks = list(client.chat.completions.create(stream=True, **request))  # type: ignore[call-overload]
        usage = next(c.usage for c in reversed(chunks) if c.usage)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        answer = text.split("</think>", 1)[-1]
    else:
        reply = client.chat.completions.create(**request)  # type: ignore[call-overload]
        usage, answer = reply.usage, reply.choices[0].message.content or ""
    assert usage is not None and 0 < usage.total_tokens <= 1.1 * budget
    assert "Bartholdi" in answer


class BilledSearch(MemorySearch):
    """In-memory search that bills tokens per query, as Jina Search does."""

    bills = True

    async def search(
        self, query: str, *, num_results: int = 10, language: str | None = None
    ) -> SearchResponse:
        response = await super().search(query, num_results=num_results, language=language)
        response.tokens = 3_000
        return response


class BilledReader(MemoryReader):
    """In-memory reader that bills tokens per page, as Jina Reader does."""

    bills = True

    async def read(self, url: str) -> Page:
        page = await super().read(url)
        page.tokens = 2_500
        return page


@pytest.mark.parametrize("budget", [8_000, 20_000])
async def test_provider_costs_count_and_are_planned_for(offline_settings, budget: int) -> None:
    brain = Brain(fail_reviews=10_000)
    graph = build_graph(
        model=ScriptedChatModel(brain=brain),
        search=BilledSearch(LONG_PAGES),
        reader=BilledReader(LONG_PAGES),
        settings=offline_settings,
        team=False,
    )
    result = await aask(QUESTION, graph=graph, budget_tokens=budget, max_attempts=20)
    assert result.usage["total_tokens"] <= 1.1 * budget
    assert result.usage["total_tokens"] >= 3_000  # the billed search counted
    assert result.answer.strip()


class BilledScorer:
    """A relevance scorer that bills tokens per call, as a hosted reranker does."""

    name = "billed-reranker"
    bills = True

    def __init__(self) -> None:
        self.calls = 0

    async def score(self, query: str, documents: list[str]) -> tuple[list[float], int]:
        self.calls += 1
        return lexical_scores(query, documents), 4_000


async def test_a_paid_scorer_gives_way_to_free_scoring_when_the_budget_is_short(
    offline_settings,
) -> None:
    scorer = BilledScorer()
    graph = build_graph(
        model=ScriptedChatModel(brain=Brain(fail_reviews=10_000)),
        search=MemorySearch(LONG_PAGES),
        reader=MemoryReader(LONG_PAGES),
        relevance=scorer,
        settings=offline_settings,
        team=False,
    )
    budget = 14_000
    result = await aask(QUESTION, graph=graph, budget_tokens=budget, max_attempts=20)
    assert scorer.calls >= 1
    assert result.usage["total_tokens"] <= 1.1 * budget
    assert "Bartholdi" in result.answer
