"""What checkpointing costs a run: no checkpointer vs SQLite vs PostgreSQL.

Runs the same questions on the research loop with instant in-memory providers and
the scripted brain, so the difference between rows is the checkpointer's work
(one checkpoint per step). PostgreSQL is a private server started from Debian's
binaries (skipped when they are missing). Also prints the checkpoint storage a run
leaves behind on SQLite.

    .venv/bin/python -m benchmarks.bench_persistence [--runs 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from deepsearch import build_graph
from deepsearch.context import Context
from deepsearch.persistence import postgres_checkpointer, sqlite_checkpointer, thread_config
from deepsearch.settings import Settings
from tests.support.brain import Brain
from tests.support.chat_model import ScriptedChatModel
from tests.support.memory import MemoryReader, MemorySearch
from tests.support.postgres import PostgresUnavailable, running_postgres
from tests.support.testweb import DEFAULT_PAGES

QUESTIONS = [
    "Who designed the Statue of Liberty?",
    "When was the Eiffel Tower completed?",
    "Where was Gustave Eiffel born?",
]


def make_graph(saver: Any) -> Any:
    """Build the research loop on instant providers and the scripted brain."""
    pages = {f"https://example.org{p}": v for p, v in DEFAULT_PAGES.items()}
    return build_graph(
        model=ScriptedChatModel(brain=Brain()),
        search=MemorySearch(pages),
        reader=MemoryReader(pages),
        settings=Settings(DEEPSEARCH_EMBEDDINGS="local", _env_file=None),  # type: ignore[call-arg]
        checkpointer=saver,
        team=False,
    )


async def timed_run(graph: Any, i: int) -> tuple[float, int]:
    """Run question ``i`` on its own thread; return wall time (ms) and steps."""
    config = thread_config(f"bench-{i}") if graph.checkpointer is not None else {}
    start = time.perf_counter()
    out = await graph.ainvoke(
        {"question": QUESTIONS[i % len(QUESTIONS)]}, config=config, context=Context()
    )
    return (time.perf_counter() - start) * 1000, int(out["step"])


def report(label: str, results: list[tuple[float, int]]) -> None:
    """Print one row: median and p90 per run, mean per step."""
    times = sorted(t for t, _ in results)
    p90 = times[int(0.9 * (len(times) - 1))]
    per_step = sum(times) / sum(s for _, s in results)
    print(
        f"{label:<10} median {statistics.median(times):7.1f} ms/run   p90 {p90:7.1f} ms/run"
        f"   {per_step:6.2f} ms/step"
    )


async def main(runs: int) -> None:
    """Time the same runs on each checkpointer, interleaved so load affects all alike."""
    async with contextlib.AsyncExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        db = tmp / "bench.sqlite3"
        graphs = {
            "none": make_graph(None),
            "sqlite": make_graph(await stack.enter_async_context(sqlite_checkpointer(db))),
        }
        try:
            dsn = stack.enter_context(running_postgres())
            graphs["postgres"] = make_graph(
                await stack.enter_async_context(postgres_checkpointer(dsn))
            )
        except PostgresUnavailable as exc:
            print(f"postgres skipped: {exc}")
        for graph in graphs.values():  # warm up imports, pools and caches
            await timed_run(graph, -1)
        results: dict[str, list[tuple[float, int]]] = {name: [] for name in graphs}
        for i in range(runs):
            for name, graph in graphs.items():
                results[name].append(await timed_run(graph, i))
        print(f"{runs} runs each (interleaved), research loop, instant providers")
        for name, rows in results.items():
            report(name, rows)
        print(f"SQLite checkpoints after {runs + 1} runs: {db.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    asyncio.run(main(parser.parse_args().runs))
