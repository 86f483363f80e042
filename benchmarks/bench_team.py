"""Team benchmark: wall time of team_size 4 against team_size 1 for the same per-worker work.

The LLM, the search provider and the reader answer after fixed delays (simulated
latency), so the figure measures how well the workers overlap, plus the team's own
overhead (one search, the team-planner and the merger calls). team_size 1 researches
one landmark; each of the 4 workers researches one landmark the same way (same pages,
same number of steps: one answer rejected, then accepted). Target: ratio <= 1.3.

Usage: ``.venv/bin/python benchmarks/bench_team.py [--llm 0.3 --search 0.3 --read 0.5 --runs 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult

from deepsearch import Context, aask, build_graph
from deepsearch.settings import Settings
from deepsearch.tools.base import Page, SearchResponse
from tests.support.brain import Brain
from tests.support.chat_model import ScriptedChatModel
from tests.support.memory import MemoryReader, MemorySearch
from tests.support.testweb import WebPage

LANDMARKS = {
    "eiffel-tower": ("Eiffel Tower", "Paris", 1889),
    "statue-of-liberty": ("Statue of Liberty", "New York", 1886),
    "big-ben": ("Big Ben", "London", 1859),
    "golden-gate-bridge": ("Golden Gate Bridge", "San Francisco", 1937),
}
PAGES = {
    f"https://landmarks.example/{slug}": WebPage(
        name,
        [f"The {name} was completed in {year} in {city}."]
        + [
            f"Visitors to the {name} in {city} take photographs every day, report {i}."
            for i in range(30)
        ],
    )
    for slug, (name, city, year) in LANDMARKS.items()
}
SUBPROBLEMS = [f"When was the {name} completed?" for name, _, _ in LANDMARKS.values()]


class DelayedChatModel(ScriptedChatModel):
    """The scripted brain, answering after a fixed delay without blocking the event loop."""

    delay: float = 0.0

    async def _agenerate(self, messages: list[BaseMessage], *args: Any, **kw: Any) -> ChatResult:
        await asyncio.sleep(self.delay)
        return self._generate(messages, *args, **kw)


class DelayedSearch(MemorySearch):
    """In-memory search that answers after a fixed delay."""

    delay: float = 0.0

    async def search(self, query: str, **kw: Any) -> SearchResponse:
        await asyncio.sleep(self.delay)
        return await super().search(query, **kw)


class DelayedReader(MemoryReader):
    """In-memory reader that answers after a fixed delay."""

    delay: float = 0.0

    async def read(self, url: str) -> Page:
        await asyncio.sleep(self.delay)
        return await super().read(url)


async def one_run(team_size: int, llm: float, search_s: float, read_s: float) -> tuple[float, Any]:
    """Time one run; every worker (or the lone researcher) has one answer rejected first."""
    brain = Brain(fail_evaluations=team_size)
    brain.script("team-planner", {"subproblems": [{"question": q} for q in SUBPROBLEMS]})
    search, reader = DelayedSearch(PAGES), DelayedReader(PAGES)
    search.delay, reader.delay = search_s, read_s
    graph = build_graph(
        model=DelayedChatModel(brain=brain, delay=llm),
        search=search,
        reader=reader,
        settings=Settings(DEEPSEARCH_EMBEDDINGS="local", _env_file=None),  # type: ignore[call-arg]
    )
    question = (
        SUBPROBLEMS[0]
        if team_size == 1
        else "When were " + ", ".join(name for name, _, _ in LANDMARKS.values()) + " completed?"
    )
    start = time.perf_counter()
    result = await aask(question, graph=graph, context=Context(team_size=team_size))
    elapsed = time.perf_counter() - start
    llm_calls = sum(1 for c in brain.calls if c.role not in ("team-planner", "merger"))
    return elapsed, (result, llm_calls / team_size)


def main() -> None:
    """Print the wall times and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm", type=float, default=0.3, help="seconds per LLM call")
    parser.add_argument("--search", type=float, default=0.3, help="seconds per search")
    parser.add_argument("--read", type=float, default=0.5, help="seconds per page read")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times: dict[int, list[float]] = {1: [], 4: []}
    calls: dict[int, float] = {}
    for _ in range(args.runs):
        for size in (1, 4):
            elapsed, (result, per_worker) = asyncio.run(
                one_run(size, args.llm, args.search, args.read)
            )
            times[size].append(elapsed)
            calls[size] = per_worker
            assert result.references, f"team_size {size} found no evidence"
    print(f"delays: llm {args.llm}s, search {args.search}s, read {args.read}s; runs {args.runs}")
    for size in (1, 4):
        print(
            f"team_size {size}: median {statistics.median(times[size]):.2f}s "
            f"(min {min(times[size]):.2f}s), {calls[size]:.1f} loop LLM calls per worker"
        )
    ratio = statistics.median(times[4]) / statistics.median(times[1])
    print(f"ratio team_size 4 / team_size 1: {ratio:.2f}x (target <= 1.3x)")


if __name__ == "__main__":
    main()
