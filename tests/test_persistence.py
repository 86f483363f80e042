"""Long runs survive interruptions: SQLite checkpoints, resumed on the same thread."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from deepsearch.api import astream_run
from deepsearch.context import Context
from deepsearch.persistence import (
    aresume,
    open_checkpointer,
    pending_nodes,
    sqlite_checkpointer,
    thread_config,
)
from deepsearch.tools.llm import LLMUnavailable
from tests.support.brain import Brain
from tests.support.memory import MemoryReader, MemorySearch
from tests.support.resume import GraphOnCheckpointer, fail_answerer_once

QUESTION = "Who designed the Statue of Liberty?"


async def test_run_paused_before_answer_resumes_in_a_new_process_without_redoing_work(
    tmp_path: Path,
    make_graph: GraphOnCheckpointer,
    brain: Brain,
    memory_search: MemorySearch,
    memory_reader: MemoryReader,
) -> None:
    db = tmp_path / "runs" / "checkpoints.sqlite3"
    ctx = Context(reasoning_effort="low")
    async with sqlite_checkpointer(db) as saver:
        graph = make_graph(saver, team=False)
        async for _ in graph.astream(
            {"question": QUESTION},
            config=thread_config("t-1"),
            context=ctx,
            interrupt_before=["answer"],
        ):
            pass
        assert await pending_nodes(graph, "t-1") == ["answer"]
    roles_before = brain.roles()
    queries, reads = list(memory_search.queries), list(memory_reader.reads)
    assert "answerer" not in roles_before and queries and reads

    # A new checkpointer on the same file, a new graph: only the saved thread links them.
    async with sqlite_checkpointer(db) as saver:
        graph = make_graph(saver, team=False)
        result = await aresume("t-1", graph=graph, context=ctx)
        assert await pending_nodes(graph, "t-1") == []

    assert "Bartholdi" in result.answer and result.mode == "researched"
    new_roles = brain.roles()[len(roles_before) :]
    assert new_roles[0] == "answerer" and "planner" not in new_roles
    assert memory_search.queries == queries and memory_reader.reads == reads
    assert result.steps == 3
    assert result.read_urls == reads[: len(result.read_urls)]


async def test_run_that_crashed_on_a_model_error_resumes_at_the_failed_step(
    tmp_path: Path, make_graph: GraphOnCheckpointer, brain: Brain, memory_search: MemorySearch
) -> None:
    failures = fail_answerer_once(brain)
    ctx = Context(reasoning_effort="low")
    async with sqlite_checkpointer(tmp_path / "crash.sqlite3") as saver:
        graph = make_graph(saver, team=False)
        with pytest.raises(LLMUnavailable):
            async for _ in astream_run(
                QUESTION, graph=graph, context=ctx, config=thread_config("t-2")
            ):
                pass
        assert await pending_nodes(graph, "t-2") == ["answer"]
        planner_calls = brain.roles().count("planner")
        queries = list(memory_search.queries)

        result = await aresume("t-2", graph=graph, context=ctx)

    assert failures["left"] == 0
    assert "Bartholdi" in result.answer
    assert brain.roles().count("planner") == planner_calls, "the loop did not restart"
    assert memory_search.queries == queries
    assert result.steps == 3


async def test_run_killed_before_its_step_was_folded_in_resumes_without_redoing_the_step(
    tmp_path: Path, make_graph: GraphOnCheckpointer, brain: Brain
) -> None:
    # LangGraph saves a step's results, then the checkpoint that folds them in. A run
    # killed between the two leaves a thread whose last checkpoint has nothing "next"
    # but saved results: it is unfinished, and a resume goes on from those results.
    db = tmp_path / "killed.sqlite3"
    ctx = Context(reasoning_effort="low")
    async with sqlite_checkpointer(db) as saver:
        graph = make_graph(saver, team=False)
        finished = await graph.ainvoke(
            {"question": QUESTION}, config=thread_config("t-3"), context=ctx
        )
        history = [s async for s in graph.aget_state_history(thread_config("t-3"))]
    before_answer = next(s for s in history if s.next == ("answer",))
    cut = before_answer.config["configurable"]["checkpoint_id"]
    with sqlite3.connect(db) as conn:  # what the disk holds when the kill came then
        conn.execute(
            "DELETE FROM checkpoints WHERE thread_id = 't-3' AND checkpoint_id > ?", (cut,)
        )
        conn.execute("DELETE FROM writes WHERE thread_id = 't-3' AND checkpoint_id > ?", (cut,))
    answerer_calls = brain.roles().count("answerer")

    async with sqlite_checkpointer(db) as saver:
        graph = make_graph(saver, team=False)
        assert await pending_nodes(graph, "t-3") == ["answer"]
        result = await aresume("t-3", graph=graph, context=ctx)
        assert await pending_nodes(graph, "t-3") == []

    assert brain.roles().count("answerer") == answerer_calls, "the saved answer was redone"
    assert result.answer == finished["answer"]["text"]


async def test_a_finished_or_unknown_thread_cannot_be_resumed(
    make_graph: GraphOnCheckpointer,
) -> None:
    async with sqlite_checkpointer(":memory:") as saver:
        graph = make_graph(saver, team=False)
        with pytest.raises(ValueError, match="no interrupted run"):
            await aresume("never-started", graph=graph)
        result = await graph.ainvoke(
            {"question": QUESTION}, config=thread_config("done"), context=Context()
        )
        assert "Bartholdi" in result["answer"]["text"]
        with pytest.raises(ValueError, match="no interrupted run"):
            await aresume("done", graph=graph)


async def test_open_checkpointer_reads_sqlite_urls_and_paths(
    tmp_path: Path, make_graph: GraphOnCheckpointer
) -> None:
    for url in (f"sqlite:///{tmp_path}/a.sqlite3", str(tmp_path / "b.sqlite3")):
        async with open_checkpointer(url) as saver:
            graph = make_graph(saver, team=False)
            await graph.ainvoke(
                {"question": QUESTION}, config=thread_config("x"), context=Context()
            )
            state = await graph.aget_state(thread_config("x"))
            assert "Bartholdi" in state.values["answer"]["text"]
    assert (tmp_path / "a.sqlite3").stat().st_size > 0
    assert (tmp_path / "b.sqlite3").stat().st_size > 0
