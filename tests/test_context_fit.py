"""Every prompt fits the model's context, at 4k, 8k and 32k (issue 17).

The model sits behind :class:`~tests.support.llama_server.LlamaCppServer`, which holds
its window as llama.cpp does: it counts the templated prompt with a tokenizer of its
own, refuses a prompt longer than the window with llama.cpp's HTTP 400, and cuts a
reply where the window ends. DeepSearch is given nothing but the server's URL: it
learns the window from ``/props`` and fits every role's prompt (sources, knowledge,
diary, evaluations, conversation) into it with room for the reply.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from deepsearch import Context, DeepSearchResult, aask, build_graph
from deepsearch.citations import MARKER
from deepsearch.server.app import create_app
from deepsearch.settings import Settings
from deepsearch.tools import context_window
from tests.support.api_server import server_settings
from tests.support.brain import Brain, field_of
from tests.support.llama_server import LlamaCppServer, local_model_settings
from tests.support.long_pages import (
    ANSWER,
    ANSWER_SENTENCE,
    MAIN_URL,
    QUESTION,
    long_conversation,
    long_pages,
)
from tests.support.memory import MemoryReader, MemorySearch
from tests.support.servers import serve
from tests.support.testweb import WebPage

LOOP_ROLES = {"planner", "reflector", "answerer", "evaluator", "reviewer", "beast", "formatter"}
TEAM_ROLES = {"team-planner", "merger"}
ROLES = {"human": "user", "ai": "assistant"}  # LangChain message types as chat roles


@pytest.fixture(autouse=True)
def fresh_discovery() -> Iterator[None]:
    """Each test's server is asked for its window afresh."""
    context_window.forget_discovered()
    yield
    context_window.forget_discovered()


@dataclass
class Window:
    """A context-holding model server and a graph pointed at it (through its URL only)."""

    server: LlamaCppServer
    settings: Settings
    pages: dict[str, WebPage]

    def graph(self) -> object:
        """Build the default graph over the long pages (the LLM comes from settings)."""
        return build_graph(
            settings=self.settings, search=MemorySearch(self.pages), reader=MemoryReader(self.pages)
        )

    def assert_always_fitted(self) -> None:
        """No prompt was refused, and every reply had its whole cap of room."""
        assert self.server.requests, "the model was never called"
        assert self.server.overflows == 0, "a prompt overflowed the context"
        assert self.server.no_room == 0, "a prompt left less room than the reply's cap"
        assert self.server.cut == 0
        assert max(self.server.prompt_sizes) <= self.server.n_ctx

    def roles(self) -> set[str]:
        """Return the roles the model played."""
        return set(self.server.brain.roles())


@pytest.fixture
def window(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Window]:
    """Serve the brain with the context size given as the test's parameter."""
    n_ctx, brain = request.param if isinstance(request.param, tuple) else (request.param, Brain())
    server = LlamaCppServer(brain, n_ctx=n_ctx)
    with serve(server.app) as base:
        settings = local_model_settings(base, str(tmp_path / "cache.sqlite3"))
        yield Window(server, settings, long_pages())


def assert_cited_answer(result: DeepSearchResult) -> None:
    """The answer names the moon and cites the sentence that says so, on its page."""
    assert ANSWER in result.answer
    assert MARKER.search(result.answer), "the answer carries no footnote marker"
    pages = long_pages()
    for ref in result.references:
        assert ref["exactQuote"] in pages[ref["url"]].text()
    assert any(
        ref["url"] == MAIN_URL and ref["exactQuote"] in ANSWER_SENTENCE for ref in result.references
    )


@pytest.mark.parametrize("window", [4_096, 8_192, 32_768], indirect=True)
async def test_long_pages_fit_every_window(window: Window) -> None:
    result = await aask(QUESTION, graph=window.graph(), context=Context(reasoning_effort="low"))  # type: ignore[arg-type]
    assert_cited_answer(result)
    window.assert_always_fitted()
    used = max(window.server.prompt_sizes)
    # The prompts grow with the window: the 32k one is not fitted as if it were 4k.
    assert used > window.server.n_ctx // 4


@pytest.mark.parametrize("window", [4_096, 8_192], indirect=True)
async def test_a_long_conversation_fits(window: Window) -> None:
    conversation = long_conversation(turns=10, chars=6_000)  # ~15k tokens of history
    result = await aask(conversation, graph=window.graph(), context=Context(reasoning_effort="low"))  # type: ignore[arg-type]
    assert_cited_answer(result)
    window.assert_always_fitted()


def every_role_brain() -> Brain:
    """A brain that reflects once, fails its first check and every strict review.

    So one run plays every role of the loop: planner, reflector, answerer, evaluator,
    reviewer, then beast mode, and the formatter (a JSON answer is asked for).
    """
    brain = Brain(fail_evaluations=1, fail_reviews=99)
    reflected: list[bool] = []

    def planner(system: str, user: str) -> str:
        allowed = [a.strip() for a in field_of(user, "Allowed actions").split(",")]
        if "reflect" in allowed and not reflected:
            reflected.append(True)
            return json.dumps({"think": "What is missing?", "action": "reflect", "questions": []})
        return Brain._planner(brain, system, user)

    brain.handlers["planner"] = planner
    brain.handlers["formatter"] = lambda system, user: json.dumps({"moon": ANSWER})
    return brain


@pytest.mark.parametrize("window", [(4_096, every_role_brain())], indirect=True)
async def test_every_role_fits_a_4k_window(window: Window) -> None:
    schema = {"type": "object", "properties": {"moon": {"type": "string"}}, "required": ["moon"]}
    context = Context(reasoning_effort="medium", response_schema=schema)
    result = await aask(long_conversation(), graph=window.graph(), context=context)  # type: ignore[arg-type]
    assert json.loads(result.answer) == {"moon": ANSWER}
    assert result.references and result.references[0]["url"] == MAIN_URL
    assert window.roles() >= LOOP_ROLES
    window.assert_always_fitted()


@pytest.mark.parametrize("window", [4_096, 8_192], indirect=True)
async def test_a_team_fits(window: Window) -> None:
    window.server.brain.team_size_hint = 2
    question = f"{QUESTION} and what do the Kestrel-9 probe launch records say?"
    context = Context(reasoning_effort="low", team_size=2)
    result = await aask(question, graph=window.graph(), context=context)  # type: ignore[arg-type]
    assert window.roles() >= TEAM_ROLES
    assert result.mode == "merged" and result.references
    assert {int(n) for n in MARKER.findall(result.answer)} == set(
        range(1, len(result.references) + 1)
    )
    window.assert_always_fitted()


@pytest.mark.parametrize("window", [4_096], indirect=True)
async def test_the_api_refuses_a_question_too_long_for_the_discovered_window(
    window: Window,
) -> None:
    """The server's own check uses the window the model's server reports, not 32k."""
    app = create_app(
        graph=window.graph(),  # type: ignore[arg-type]
        settings=window.settings,
        server_settings=server_settings(),
    )
    long_question = QUESTION + " " + " ".join(["Consider the probe's thermal history."] * 200)
    with serve(app) as base:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            refused = await client.post(
                "/v1/chat/completions",
                json={
                    "model": "deepsearch",
                    "messages": [{"role": "user", "content": long_question}],
                },
            )
            answered = await client.post(
                "/v1/chat/completions",
                json={
                    "model": "deepsearch",
                    "reasoning_effort": "low",
                    "messages": [
                        {"role": ROLES[m.type], "content": m.content} for m in long_conversation()
                    ],
                },
            )
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "context_length_exceeded" and "4096 tokens" in error["message"]
    assert answered.status_code == 200, answered.text
    assert ANSWER in answered.json()["choices"][0]["message"]["content"]
    window.assert_always_fitted()


class NoPropsServer(LlamaCppServer):
    """A llama.cpp-like server that does not say its context (like llama-cpp-python's)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.app.router.routes[:] = [
            r for r in self.app.router.routes if getattr(r, "path", "") != "/props"
        ]


async def test_a_refused_prompt_teaches_the_window(tmp_path: Path) -> None:
    """With no window to discover, the first overflow names it, and the run recovers."""
    server = NoPropsServer(Brain(), n_ctx=4_096)
    with serve(server.app) as base:
        # An unknown model: the 32k default is assumed.
        settings = local_model_settings(base, str(tmp_path / "cache.sqlite3"), "mystery-model")
        pages = long_pages()
        graph = build_graph(
            settings=settings, search=MemorySearch(pages), reader=MemoryReader(pages)
        )
        first = await aask(QUESTION, graph=graph, context=Context(reasoning_effort="low"))
        refused = server.overflows
        second = await aask(QUESTION, graph=graph, context=Context(reasoning_effort="low"))
    assert refused == 1  # the answerer's first prompt, sized for 32k
    assert server.overflows == 1  # never again: the window was learnt from the refusal
    assert_cited_answer(second)
    assert first.mode != "failed"
