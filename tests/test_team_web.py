"""A team over the local test web through the real stack: ChatOpenAI, SearXNG, direct reader."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from deepsearch import Context, astream_run, build_graph
from deepsearch.citations import MARKER, normalize
from deepsearch.settings import Settings
from tests.support.brain import Brain
from tests.support.llm_server import LLMServer
from tests.support.servers import serve
from tests.support.testweb import TestWeb

QUESTION = "Who designed the Statue of Liberty, and when was Gustave Eiffel born?"


@pytest.fixture
def llm(brain: Brain) -> Iterator[tuple[str, LLMServer]]:
    """The brain behind an OpenAI-compatible server with some latency, on loopback."""
    server = LLMServer(brain, delay=0.05)
    with serve(server.app) as base:
        yield base, server


async def test_team_over_the_local_web_with_a_real_openai_client(
    testweb: TestWeb, brain: Brain, llm: tuple[str, LLMServer], tmp_path: Path
) -> None:
    base, server = llm
    settings = Settings(
        OPENAI_BASE_URL=base + "/v1",
        OPENAI_API_KEY=SecretStr("test-key"),
        DEEPSEARCH_MODEL="brain",
        DEEPSEARCH_SEARCH_PROVIDER="searxng",
        SEARXNG_URL=testweb.base_url,
        DEEPSEARCH_READER="direct",
        DEEPSEARCH_EMBEDDINGS="local",
        DEEPSEARCH_ALLOW_PRIVATE_URLS=True,
        DEEPSEARCH_CACHE=str(tmp_path / "cache.sqlite3"),
        _env_file=None,  # type: ignore[call-arg]
    )
    graph = build_graph(settings=settings)
    events = [e async for e in astream_run(QUESTION, graph=graph, context=Context(team_size=2))]
    result = events[-1]["result"]

    tasks = [e["text"] for e in events if e.get("kind") == "team-task"]
    assert [t.split(": ", 1)[1].split(" — ")[0] for t in tasks] == [
        "Who designed the Statue of Liberty?",
        "When was Gustave Eiffel born?",
    ]
    for sub in ("Who designed the Statue of Liberty?", "When was Gustave Eiffel born?"):
        assert sub in testweb.queries
    assert result.mode == "merged"
    assert "Bartholdi" in result.answer and "1832" in result.answer
    assert {int(n) for n in MARKER.findall(result.answer)} == set(
        range(1, len(result.references) + 1)
    )
    for ref in result.references:
        path = ref["url"].removeprefix(testweb.base_url)
        assert testweb.hits[path] >= 1, "the cited page was really fetched"
        assert normalize(ref["exactQuote"]) in normalize(testweb.pages[path].text())
    roles = brain.roles()
    assert roles[0] == "team-planner" and roles[-1] == "merger"
    assert len(server.requests) == len(roles)  # every model call went over HTTP
    assert result.usage["total_tokens"] <= Context().resolved_budget()
