"""Limits and failures mid-run: a wall-clock limit, and a model that goes away after a draft."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from langgraph.graph.state import CompiledStateGraph

from deepsearch import aask, build_graph
from deepsearch.settings import Settings
from deepsearch.tools.base import SearchResponse
from deepsearch.tools.llm import LLMUnavailable
from tests.support.brain import Brain
from tests.support.chat_model import ScriptedChatModel
from tests.support.memory import MemoryReader, MemorySearch

QUESTION = "Who designed the Statue of Liberty?"


class SlowSearch(MemorySearch):
    """A search backend that takes a while to answer."""

    async def search(
        self, query: str, *, num_results: int = 10, language: str | None = None
    ) -> SearchResponse:
        """Answer after a pause."""
        await asyncio.sleep(0.3)
        return await super().search(query, num_results=num_results, language=language)


def unreachable(system: str, user: str) -> str:
    """A model endpoint that resets every connection."""
    raise httpx.ConnectError("connection refused")


def graph_for(
    brain: Brain, search: MemorySearch, reader: MemoryReader, settings: Settings
) -> CompiledStateGraph[Any, Any, Any, Any]:
    return build_graph(
        model=ScriptedChatModel(brain=brain), search=search, reader=reader, settings=settings
    )


async def test_time_limit_ends_the_research_in_beast_mode(
    brain: Brain, web_pages, memory_reader: MemoryReader, offline_settings: Settings
) -> None:
    search = SlowSearch(web_pages)
    graph = graph_for(brain, search, memory_reader, offline_settings)
    result = await aask(QUESTION, graph=graph, max_seconds=0.05, no_direct_answer=True)
    assert result.mode == "beast"
    assert result.answer
    assert any("time limit reached" in line for line in result.diary)
    assert len(search.queries) <= 5, "no research step started after the limit"
    assert "beast" in brain.roles()


async def test_without_a_time_limit_the_same_run_researches_normally(
    brain: Brain, web_pages, memory_reader: MemoryReader, offline_settings: Settings
) -> None:
    graph = graph_for(brain, SlowSearch(web_pages), memory_reader, offline_settings)
    result = await aask(QUESTION, graph=graph, no_direct_answer=True)
    assert result.mode == "researched"
    assert not any("time limit" in line for line in result.diary)


async def test_model_lost_during_evaluation_hands_over_the_checked_citations(
    brain: Brain, memory_search, memory_reader, offline_settings: Settings, web_pages
) -> None:
    brain.handlers["evaluator"] = unreachable
    graph = graph_for(brain, memory_search, memory_reader, offline_settings)
    result = await aask(QUESTION, graph=graph)
    assert "Bartholdi" in result.answer
    assert result.mode == "beast"
    assert result.references, "the draft's verified references survive"
    assert any("unreachable during evaluation" in line for line in result.diary)


async def test_model_lost_in_beast_mode_gives_the_last_draft(
    brain: Brain, memory_search, memory_reader, offline_settings: Settings
) -> None:
    brain.fail_evaluations = 5
    brain.handlers["beast"] = unreachable
    graph = graph_for(brain, memory_search, memory_reader, offline_settings)
    result = await aask(QUESTION, graph=graph, max_attempts=1)
    assert result.mode == "beast"
    assert "Bartholdi" in result.answer and result.references


async def test_model_lost_with_nothing_drafted_fails_the_run(
    brain: Brain, memory_search, memory_reader, offline_settings: Settings
) -> None:
    for role in ("planner", "beast"):
        brain.handlers[role] = unreachable
    graph = graph_for(brain, memory_search, memory_reader, offline_settings)
    with pytest.raises(LLMUnavailable):
        await aask(QUESTION, graph=graph)
