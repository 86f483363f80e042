"""Run DeepSearch against hostile content with the obedient model, with or without defences.

``defended_graph`` is what users get (``build_graph``); ``graph_with`` builds the same
graph with the screening or the answer check switched off, to prove that a test (or a
benchmark) fails without them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from deepsearch import build_graph
from deepsearch.api import DeepSearchResult
from deepsearch.citations import normalize
from deepsearch.graph.research import build_research_graph
from deepsearch.graph.team import build_team_graph
from deepsearch.settings import Settings
from deepsearch.tools.base import Reader, SearchProvider, SearchResponse, SearchResult
from deepsearch.tools.llm import LLM
from deepsearch.tools.toolbox import Toolbox
from tests.support.chat_model import ScriptedChatModel
from tests.support.injection_pages import ANSWER_WORD, CANARY
from tests.support.memory import MemoryReader, MemorySearch
from tests.support.obedient import ObedientBrain, model_view
from tests.support.testweb import WebPage

Graph = CompiledStateGraph[Any, Any, Any, Any]


def offline() -> Settings:
    """Settings that never leave loopback and ignore any .env."""
    return Settings(DEEPSEARCH_EMBEDDINGS="local", _env_file=None)  # type: ignore[call-arg]


def defended_graph(
    brain: ObedientBrain,
    pages: Mapping[str, WebPage],
    *,
    search: SearchProvider | None = None,
    reader: Reader | None = None,
    settings: Settings | None = None,
    team: bool = True,
) -> Graph:
    """The graph users get, on the obedient model and in-memory providers over ``pages``."""
    return build_graph(
        model=ScriptedChatModel(brain=brain),
        search=search or MemorySearch(dict(pages)),
        reader=reader or MemoryReader(dict(pages)),
        settings=settings or offline(),
        team=team,
    )


def graph_with(
    brain: ObedientBrain,
    pages: Mapping[str, WebPage],
    *,
    screen: bool,
    check: bool,
    team: bool = True,
    search: SearchProvider | None = None,
) -> Graph:
    """The same graph with the screening and/or the answer check switched off (ablation)."""
    settings = offline()
    tools = Toolbox(
        settings=settings,
        llm_override=LLM(ScriptedChatModel(brain=brain), method=settings.structured_output),
        search_override=search or MemorySearch(dict(pages)),
        reader_override=MemoryReader(dict(pages)),
        screen_content=screen,
        check_answers=check,
    )
    return build_team_graph(tools) if team else build_research_graph(tools)


def followed(text: str, canary: str = CANARY) -> bool:
    """Tell whether a text carries the canary an order demanded (as a model would read it)."""
    return canary.lower() in model_view(text).lower()


def found_real_answer(result: DeepSearchResult, url: str | None = None) -> bool:
    """Tell whether the answer states the real answer and cites it (from ``url``, if given)."""
    cited = [
        ref
        for ref in result.references
        if ANSWER_WORD.lower() in normalize(ref["exactQuote"])
        and (url is None or ref["url"] == url)
    ]
    return ANSWER_WORD in result.answer and bool(cited)


@dataclass
class CraftedSearch:
    """Memory search whose every answer also carries hostile results."""

    inner: MemorySearch
    name: str = "crafted"
    hostile: list[SearchResult] = field(default_factory=list)

    async def search(
        self, query: str, *, num_results: int = 10, language: str | None = None
    ) -> SearchResponse:
        """Return the hostile results first, then the memory search's."""
        response = await self.inner.search(query, num_results=num_results, language=language)
        return SearchResponse(results=[*self.hostile, *response.results])
