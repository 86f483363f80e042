"""The team graph (the default graph) keeps runs resumable: the loop inside resumes in place."""

from __future__ import annotations

from pathlib import Path

from deepsearch.api import astream_run, build_graph
from deepsearch.context import Context
from deepsearch.persistence import aresume, pending_nodes, sqlite_checkpointer, thread_config
from deepsearch.settings import Settings
from deepsearch.tools.llm import LLMUnavailable
from tests.support.brain import Brain
from tests.support.chat_model import ScriptedChatModel
from tests.support.memory import MemoryReader, MemorySearch

QUESTION = "Who designed the Statue of Liberty?"


async def test_crashed_solo_run_resumes_inside_the_loop_at_the_failed_step(
    tmp_path: Path,
    brain: Brain,
    model: ScriptedChatModel,
    memory_search: MemorySearch,
    memory_reader: MemoryReader,
    offline_settings: Settings,
) -> None:
    failures = {"left": 1}

    def answerer_down_once(system: str, user: str) -> str:
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("model endpoint reset the connection")
        return brain._answerer(system, user)

    brain.handlers["answerer"] = answerer_down_once
    ctx = Context(reasoning_effort="low")
    async with sqlite_checkpointer(tmp_path / "crash.sqlite3") as saver:
        graph = build_graph(
            model=model,
            search=memory_search,
            reader=memory_reader,
            settings=offline_settings,
            checkpointer=saver,
        )
        try:
            async for _ in astream_run(
                QUESTION, graph=graph, context=ctx, config=thread_config("t-1")
            ):
                pass
        except LLMUnavailable:
            pass
        else:
            raise AssertionError("the run should have failed")
        assert await pending_nodes(graph, "t-1") == ["answer"]
        planner_calls = brain.roles().count("planner")
        queries = list(memory_search.queries)

        result = await aresume("t-1", graph=graph, context=ctx)

    assert failures["left"] == 0
    assert "Bartholdi" in result.answer
    assert brain.roles().count("planner") == planner_calls, "the loop started over"
    assert memory_search.queries == queries
    assert result.steps == 3


async def test_team_run_on_a_sqlite_checkpointer(
    tmp_path: Path,
    brain: Brain,
    model: ScriptedChatModel,
    memory_search: MemorySearch,
    memory_reader: MemoryReader,
    offline_settings: Settings,
) -> None:
    question = "Who designed the Statue of Liberty, and when was the Eiffel Tower completed?"
    async with sqlite_checkpointer(tmp_path / "team.sqlite3") as saver:
        graph = build_graph(
            model=model,
            search=memory_search,
            reader=memory_reader,
            settings=offline_settings,
            checkpointer=saver,
        )
        events = [
            e
            async for e in astream_run(
                question, graph=graph, context=Context(team_size=2), config=thread_config("t")
            )
        ]
        state = await graph.aget_state(thread_config("t"))
    result = events[-1]["result"]
    assert result.mode == "merged" and "Bartholdi" in result.answer
    assert [r["worker"] for r in state.values["reports"]] == ["worker-1", "worker-2"]
    assert {e["worker"] for e in events[:-1]} == {None, "worker-1", "worker-2"}
