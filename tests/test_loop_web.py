"""The research loop against the local test web: the real SearXNG provider and direct reader."""

from __future__ import annotations

from deepsearch import aask, build_graph
from deepsearch.citations import normalize
from tests.support.chat_model import ScriptedChatModel
from tests.support.testweb import searxng_settings


async def test_loop_over_the_local_web(testweb, brain, tmp_path) -> None:
    graph = build_graph(
        model=ScriptedChatModel(brain=brain), settings=searxng_settings(testweb.base_url, str(tmp_path / "cache.sqlite3"))
    )
    result = await aask("When was Gustave Eiffel born?", graph=graph)
    assert "1832" in result.answer
    assert testweb.queries, "the SearXNG endpoint was queried"
    assert result.references
    for ref in result.references:
        path = ref["url"].removeprefix(testweb.base_url)
        assert testweb.hits[path] >= 1, "the cited page was really fetched"
        assert normalize(ref["exactQuote"]) in normalize(testweb.pages[path].text())
    assert all(u.startswith(testweb.base_url) for u in result.read_urls)


async def test_private_addresses_are_refused_by_default(testweb, brain, tmp_path) -> None:
    settings = searxng_settings(testweb.base_url, str(tmp_path / "cache.sqlite3")).model_copy(
        update={"allow_private_urls": False}
    )
    graph = build_graph(model=ScriptedChatModel(brain=brain), settings=settings)
    before = sum(testweb.hits.values())
    result = await aask(
        f"What does {testweb.base_url}/wiki/eiffel-tower say?", graph=graph, budget_tokens=20_000
    )
    # the pasted loopback URL was not fetched: the page counters did not move
    assert sum(testweb.hits.values()) == before
    assert result.read_urls == []
