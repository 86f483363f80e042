"""Pause a long run and resume it later, even from another process (SQLite checkpoints).

    python examples/resume_run.py --db runs.sqlite3 --thread t1 --pause-before answer "Who ...?"
    python examples/resume_run.py --db runs.sqlite3 --thread t1 --resume

The first command researches until just before the answer is written and stops,
leaving the thread in the database; the second continues that thread where it
stopped instead of starting over. Use ``postgresql://...`` as ``--db`` to share
threads between machines (see docs/scaling.md).
"""

from __future__ import annotations

import argparse
import asyncio

from deepsearch import Context, build_graph
from deepsearch.persistence import aresume, open_checkpointer, pending_nodes, thread_config


async def start(db: str, thread: str, question: str, pause_before: list[str]) -> None:
    """Start a run on ``thread``; stop before the ``pause_before`` nodes."""
    async with open_checkpointer(db) as saver:
        graph = build_graph(checkpointer=saver, team=False)
        async for event in graph.astream(
            {"question": question},
            config=thread_config(thread),
            context=Context(reasoning_effort="low"),
            stream_mode="custom",
            interrupt_before=pause_before or None,
        ):
            print(f"  [{event['kind']}] {event['text']}"[:160])
        waiting = await pending_nodes(graph, thread)
        if waiting:
            print(f"Paused on thread {thread!r} before {waiting}.")
        else:
            state = await graph.aget_state(thread_config(thread))
            print("Answer:", state.values["answer"]["text"])


async def resume(db: str, thread: str) -> None:
    """Continue the interrupted run on ``thread``."""
    async with open_checkpointer(db) as saver:
        graph = build_graph(checkpointer=saver, team=False)
        print(f"Resuming thread {thread!r} at {await pending_nodes(graph, thread)}.")
        result = await aresume(thread, graph=graph, context=Context(reasoning_effort="low"))
        print("Answer:", result.answer)
        print(f"Steps: {result.steps}, tokens: {result.usage['total_tokens']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question", nargs="?")
    parser.add_argument("--db", default="deepsearch-runs.sqlite3")
    parser.add_argument("--thread", default="example")
    parser.add_argument("--pause-before", action="append", default=[])
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args()
    if args.resume:
        asyncio.run(resume(args.db, args.thread))
    elif args.question:
        asyncio.run(start(args.db, args.thread, args.question, args.pause_before))
    else:
        parser.error("give a question, or --resume")
