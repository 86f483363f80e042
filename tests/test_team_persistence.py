"""The team graph (the default graph) keeps runs resumable: the loop inside resumes in place."""

from __future__ import annotations

from pathlib import Path

from deepsearch.api import astream_run
from deepsearch.context import Context
from deepsearch.persistence import aresume, pending_nodes, sqlite_checkpointer, thread_config
from deepsearch.tools.llm import LLMUnavailable
from tests.support.brain import Brain
from tests.support.memory import MemorySearch
from tests.support.resume import GraphOnCheckpointer, fail_answerer_once

QUESTION = "Who designed the Statue of Liberty?"


async def test_crashed_solo_run_resumes_inside_the_loop_at_the_failed_step(
    tmp_path: Path,
    brain: Brain,
    memory_search: MemorySearch,
    make_graph: GraphOnCheckpointer,
) -> None:
    failures = fail_answerer_once(brain)
    ctx = Context(reasoning_effort="low")
    async with sqlite_checkpointer(tmp_path / "crash.sqlite3") as saver:
        graph = make_graph(saver)
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
        roles = brain.roles()
        queries = list(memory_search.queries)

        result = await aresume("t-1", graph=graph, context=ctx)

    assert failures["left"] == 0
    assert "Bartholdi" in result.answer
    assert brain.roles()[len(roles) :][0] == "answerer", "the loop inside continued at its step"
    assert brain.roles().count("planner") == roles.count("planner"), "the loop started over"
    assert memory_search.queries == queries
    assert result.steps == 3


async def test_team_run_on_a_sqlite_checkpointer(
    tmp_path: Path, make_graph: GraphOnCheckpointer
) -> None:
    question = "Who designed the Statue of Liberty, and when was the Eiffel Tower completed?"
    async with sqlite_checkpointer(tmp_path / "team.sqlite3") as saver:
        graph = make_graph(saver)
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
