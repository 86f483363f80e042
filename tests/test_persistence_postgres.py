"""Several stateless replicas share a real PostgreSQL checkpointer (LangGraph's own saver).

The server is started by the fixture from Debian's ``postgresql`` binaries; the tests
skip, saying why, only where those cannot be found or started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Any

import psycopg
import pytest

from deepsearch.api import build_graph
from deepsearch.context import Context
from deepsearch.persistence import (
    aresume,
    open_checkpointer,
    pending_nodes,
    postgres_checkpointer,
    thread_config,
)
from deepsearch.settings import Settings
from tests.support.brain import Brain
from tests.support.chat_model import ScriptedChatModel
from tests.support.memory import MemoryReader, MemorySearch
from tests.support.postgres import PostgresUnavailable, running_postgres

QUESTION = "Who designed the Statue of Liberty?"


@pytest.fixture(scope="module")
def postgres_dsn() -> Iterator[str]:
    """A private PostgreSQL server on loopback for this module."""
    try:
        with running_postgres() as dsn:
            yield dsn
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc}")


@pytest.fixture
def database(postgres_dsn: str, request: pytest.FixtureRequest) -> str:
    """A fresh database per test, so tests see only their own threads."""
    name = "t_" + request.node.name.lower().replace("-", "_")[:50]
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres_dsn.rsplit("/", 1)[0] + "/" + name


def replica_graph(
    checkpointer: Any,
    brain: Brain,
    search: MemorySearch,
    reader: MemoryReader,
    settings: Settings,
) -> Any:
    """Build the graph one server replica would hold: its own model and providers."""
    return build_graph(
        model=ScriptedChatModel(brain=brain),
        search=search,
        reader=reader,
        settings=settings,
        checkpointer=checkpointer,
        team=False,
    )


async def test_a_run_paused_on_one_replica_is_finished_by_another(
    database: str,
    brain: Brain,
    memory_search: MemorySearch,
    memory_reader: MemoryReader,
    offline_settings: Settings,
) -> None:
    ctx = Context(reasoning_effort="low")
    async with AsyncExitStack() as stack:
        # Both replicas start at once; schema setup must not race.
        saver_a, saver_b = await asyncio.gather(
            stack.enter_async_context(postgres_checkpointer(database)),
            stack.enter_async_context(postgres_checkpointer(database)),
        )
        replica_a = replica_graph(saver_a, brain, memory_search, memory_reader, offline_settings)
        replica_b = replica_graph(saver_b, brain, memory_search, memory_reader, offline_settings)

        async for _ in replica_a.astream(
            {"question": QUESTION},
            config=thread_config("shared-thread"),
            context=ctx,
            interrupt_before=["answer"],
        ):
            pass
        assert await pending_nodes(replica_b, "shared-thread") == ["answer"]
        planner_calls = brain.roles().count("planner")
        queries = list(memory_search.queries)

        result = await aresume("shared-thread", graph=replica_b, context=ctx)

        assert "Bartholdi" in result.answer and result.steps == 3
        assert brain.roles().count("planner") == planner_calls
        assert memory_search.queries == queries
        state = await replica_a.aget_state(thread_config("shared-thread"))
        assert state.next == () and state.values["answer"]["text"] == result.answer


async def test_concurrent_runs_on_two_replicas_keep_their_threads_apart(
    database: str,
    brain: Brain,
    memory_search: MemorySearch,
    memory_reader: MemoryReader,
    offline_settings: Settings,
) -> None:
    questions = {
        "liberty": QUESTION,
        "tower": "When was the Eiffel Tower completed?",
        "eiffel": "Where was Gustave Eiffel born?",
        "height": "How tall is the Eiffel Tower?",
    }
    async with (
        postgres_checkpointer(database) as saver_a,
        open_checkpointer(database) as saver_b,
    ):
        replicas = [
            replica_graph(s, brain, memory_search, memory_reader, offline_settings)
            for s in (saver_a, saver_b)
        ]
        runs = [
            replicas[i % 2].ainvoke(
                {"question": q}, config=thread_config(tid), context=Context(reasoning_effort="low")
            )
            for i, (tid, q) in enumerate(questions.items())
        ]
        await asyncio.gather(*runs)
        states = {
            tid: (await replicas[0].aget_state(thread_config(tid))).values for tid in questions
        }
    for tid, question in questions.items():
        assert states[tid]["original_question"] == question
        assert states[tid]["answer"]["references"], tid
    assert "Bartholdi" in states["liberty"]["answer"]["text"]
    assert "Eiffel Tower" in states["tower"]["answer"]["text"]
    assert "Dijon" in states["eiffel"]["answer"]["text"]
