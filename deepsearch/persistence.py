"""Checkpointers for long runs: SQLite on one machine, PostgreSQL for several replicas.

A checkpointer saves the run's state after every step on a thread, so a run that
was interrupted (a breakpoint, a crash, a redeploy) resumes where it stopped:

    async with sqlite_checkpointer("runs.sqlite3") as saver:
        graph = build_graph(checkpointer=saver)
        result = await aresume("thread-1", graph=graph)

Both helpers are LangGraph's own savers; nothing here is a home-made store.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver

from deepsearch.context import Context
from deepsearch.settings import ConfigurationError

if TYPE_CHECKING:
    from langgraph.graph.state import CompiledStateGraph

    from deepsearch.api import DeepSearchResult

# Replicas that start together must not run the schema migrations at the same time.
_SETUP_LOCK_KEY = zlib.crc32(b"deepsearch-checkpoint-setup")

POSTGRES_HINT = (
    "The PostgreSQL checkpointer needs extra packages: "
    "pip install langgraph-checkpoint-postgres 'psycopg[binary]' psycopg-pool"
)


@asynccontextmanager
async def sqlite_checkpointer(path: str | Path) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """Open LangGraph's async SQLite checkpointer on ``path`` (created when missing).

    Args:
        path: a database file, or ``":memory:"`` for a throwaway store.
    """
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    target = str(path)
    if target != ":memory:":
        Path(target).expanduser().parent.mkdir(parents=True, exist_ok=True)
        target = str(Path(target).expanduser())
    async with AsyncSqliteSaver.from_conn_string(target) as saver:
        await saver.setup()
        yield saver


@asynccontextmanager
async def postgres_checkpointer(
    dsn: str, *, max_connections: int = 10, setup: bool = True
) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """Open LangGraph's async PostgreSQL checkpointer over a connection pool.

    Every replica of a server opens its own; they share threads through the database.
    Schema setup runs under an advisory lock, so replicas may start at the same time.

    Args:
        dsn: a libpq connection string (``postgresql://user@host:5432/db``).
        max_connections: the pool's upper bound.
        setup: create or migrate the checkpoint tables first.
    """
    try:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool
    except ImportError as exc:
        raise ConfigurationError(POSTGRES_HINT) from exc

    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        dsn,
        min_size=1,
        max_size=max(2, max_connections),
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        open=False,
    )
    await pool.open(wait=True)
    try:
        saver = AsyncPostgresSaver(pool)
        if setup:
            await _setup_once(pool, saver)
        yield saver
    finally:
        await pool.close()


async def _setup_once(pool: Any, saver: Any) -> None:
    """Run the saver's migrations while holding a session advisory lock.

    The lock is polled with ``pg_try_advisory_lock``: a session blocked inside
    ``pg_advisory_lock`` would hold a snapshot that the migrations'
    ``CREATE INDEX CONCURRENTLY`` waits for, and the two replicas would wait forever.
    """
    async with pool.connection() as lock_conn:
        while True:
            row = await (
                await lock_conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (_SETUP_LOCK_KEY,))
            ).fetchone()
            if row and row["ok"]:
                break
            await asyncio.sleep(0.05)
        try:
            await saver.setup()
        finally:
            await lock_conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK_KEY,))


@asynccontextmanager
async def open_checkpointer(url: str) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """Open the checkpointer a URL names: ``postgresql://...``, ``sqlite:///path`` or a path.

    Meant for command-line options such as ``deepsearch serve --checkpointer URL``.
    """
    if url.startswith(("postgres://", "postgresql://")):
        async with postgres_checkpointer(url) as saver:
            yield saver
        return
    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url
    async with sqlite_checkpointer(path) as saver:
        yield saver


def thread_config(thread_id: str, **extra: Any) -> RunnableConfig:
    """Return the run config that binds a run to ``thread_id`` on a checkpointer."""
    return {"configurable": {"thread_id": thread_id, **extra}}


async def pending_nodes(graph: CompiledStateGraph[Any, Any, Any, Any], thread_id: str) -> list[str]:
    """Return the nodes a thread has left unfinished (empty when it finished or never started).

    Those are the nodes it would run next, or, for a run killed after a step's results
    were saved but before the checkpoint that folds them in, the nodes whose saved
    results a resume applies without running them again.
    """
    snapshot = await graph.aget_state(thread_config(thread_id))
    return list(snapshot.next) or [task.name for task in snapshot.tasks]


async def aresume(
    thread_id: str,
    *,
    graph: CompiledStateGraph[Any, Any, Any, Any],
    context: Context | None = None,
    config: Mapping[str, Any] | None = None,
) -> DeepSearchResult:
    """Continue an interrupted run on ``thread_id`` from its last checkpoint.

    Args:
        thread_id: the thread the run was started on.
        graph: a graph compiled with the checkpointer that holds the thread.
        context: the run's options (pass the same ones the run started with).
        config: extra run config (callbacks, tags, ...).

    Raises:
        ValueError: the thread has nothing left to run.
    """
    from deepsearch.api import result_from_state

    if not await pending_nodes(graph, thread_id):
        raise ValueError(f"thread {thread_id!r} has no interrupted run to resume")
    ctx = context or Context()
    run_config = cast(
        RunnableConfig,
        {
            "recursion_limit": 4 * ctx.max_steps + 50,
            "run_name": "deepsearch",
            **(config or {}),
            **thread_config(thread_id),
        },
    )
    final = await graph.ainvoke(None, config=run_config, context=ctx)
    return result_from_state(final, ctx)
