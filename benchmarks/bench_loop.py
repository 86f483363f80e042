"""Orchestration overhead of the research loop per step, with instant fakes.

The model (a rule-based brain answering on the event loop), search and reader answer
instantly, so the time measured is orchestration: LangGraph's scheduling plus
DeepSearch's own work (prompt rendering, parsing, ranking, passage selection,
citation checks) and LangChain's chat-model call path. The brain's own time is
excluded. A trivial LangGraph graph with the same number of node executions and a
state as wide gives LangGraph's share; timing every model call gives LangChain's.
The run is streamed as the server streams it. Target: under 5 ms a step.

The short benchmark runs (three steps) carry a run's fixed work too (prepare, one
evaluation, finalize), so the time is also split by node: the nodes every step runs
(plan, the action, rank_urls after search/read) against the once-a-run nodes.

The event loop is uvloop, as in the server (uvicorn picks it up when installed);
``--loop asyncio`` measures the standard library's loop instead.

    .venv/bin/python -m benchmarks.bench_loop [--runs 100] [--rounds 5] [--bare] [--loop asyncio]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import operator
import statistics
import time
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph

from deepsearch import build_graph
from deepsearch.api import make_input
from deepsearch.context import Context
from deepsearch.settings import Settings
from tests.support.brain import Brain
from tests.support.chat_model import ScriptedChatModel
from tests.support.memory import MemoryReader, MemorySearch
from tests.support.testweb import DEFAULT_PAGES

# The nodes a step is made of (plan, one action, and rank_urls after search/read);
# prepare, evaluate and finalize run once a run (evaluate once per answer attempt).
STEP_NODES = frozenset({"plan", "search", "rank_urls", "read", "reflect", "answer"})
QUESTIONS = [
    "Who designed the Statue of Liberty?",
    "When was the Eiffel Tower completed?",
    "Where was Gustave Eiffel born?",
]


async def langgraph_baseline(nodes: int, channels: int, runs: int = 30) -> float:
    """Return LangGraph's own cost per node execution (ms): trivial nodes, same state width.

    The chain has ``nodes`` nodes over a state of ``channels`` keys (LangGraph's
    per-step work grows with the number of channels it copies and versions).
    """
    fields: dict[str, Any] = {f"k{i}": int for i in range(max(channels - 1, 0))}
    fields["n"] = Annotated[int, operator.add]
    state: Any = TypedDict("BaselineState", fields)  # type: ignore[misc]

    async def node(values: Any) -> dict[str, int]:
        return {"n": 1}

    builder: Any = StateGraph(state)
    names = [f"n{i}" for i in range(nodes)]
    for name in names:
        builder.add_node(name, node)
    builder.add_edge(START, names[0])
    for a, b in itertools.pairwise(names):
        builder.add_edge(a, b)
    builder.add_edge(names[-1], END)
    graph = builder.compile()
    await graph.ainvoke({"n": 0})
    start = time.perf_counter()
    for _ in range(runs):
        async for _ in graph.astream({"n": 0}, stream_mode=["custom", "updates"]):
            pass
    return (time.perf_counter() - start) / runs / nodes * 1000


class _TimedModel(ScriptedChatModel):
    """The scripted model, adding up the wall time of its calls (LangChain's path + brain)."""

    spent: float = 0.0

    async def ainvoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        """Answer as the scripted model does, timing the whole call."""
        t = time.perf_counter()
        try:
            return await super().ainvoke(input, config, **kwargs)
        finally:
            self.spent += time.perf_counter() - t


@dataclass
class Round:
    """What one round of runs measured (times in seconds, brain excluded)."""

    per_step: list[float] = field(default_factory=list)  # ms a step, one per run
    cpu_per_step: list[float] = field(default_factory=list)
    by_node: dict[str, float] = field(default_factory=dict)  # time up to each node's update
    runs: int = 0
    nodes: int = 0
    steps: int = 0
    total: float = 0.0
    chat: float = 0.0
    baseline: float = 0.0  # LangGraph's trivial-graph cost, ms a node (slower of before/after)

    def step_nodes_ms(self) -> float:
        """Milliseconds a step spent in the nodes every step runs."""
        return sum(v for k, v in self.by_node.items() if k in STEP_NODES) * 1000 / self.steps

    def run_nodes_ms(self) -> float:
        """Milliseconds a run spent in the once-a-run nodes."""
        return sum(v for k, v in self.by_node.items() if k not in STEP_NODES) * 1000 / self.runs


async def measure_round(graph: Any, model: _TimedModel, brain: Brain, runs: int) -> Round:
    """Run the loop ``runs`` times, streamed as the server streams a run."""
    out = Round(runs=runs)
    brain_time = 0.0
    reply = brain.reply

    def timed(system: str, user: str) -> str:
        nonlocal brain_time
        t = time.perf_counter()
        try:
            return str(reply(system, user))
        finally:
            brain_time += time.perf_counter() - t

    brain.reply = timed  # type: ignore[method-assign]
    try:
        for i in range(runs):
            brain_time = 0.0
            model.spent = 0.0
            steps = 0
            start = time.perf_counter()
            cpu_start = time.thread_time()
            mark, brain_mark = start, 0.0
            async for mode, chunk in graph.astream(
                make_input(QUESTIONS[i % len(QUESTIONS)]),
                context=Context(),
                stream_mode=["custom", "updates"],
            ):
                if mode != "updates" or not isinstance(chunk, dict):
                    continue
                out.nodes += 1
                now = time.perf_counter()
                # The graph is a chain: the time since the last update is this node's.
                spent = now - mark - (brain_time - brain_mark)
                for name in chunk:
                    out.by_node[name] = out.by_node.get(name, 0.0) + spent / len(chunk)
                mark, brain_mark = now, brain_time
                for update in chunk.values():
                    if isinstance(update, dict) and "step" in update:
                        steps = max(steps, int(update["step"]))
            elapsed = time.perf_counter() - start - brain_time
            cpu = time.thread_time() - cpu_start - brain_time
            out.per_step.append(elapsed / max(1, steps) * 1000)
            out.cpu_per_step.append(cpu / max(1, steps) * 1000)
            out.steps += steps
            out.total += elapsed
            out.chat += model.spent - brain_time
    finally:
        brain.reply = reply  # type: ignore[method-assign]
    return out


def report(best: Round, width: int) -> None:
    """Print the figures of one round."""
    ms = sorted(best.per_step)
    nodes_per_step = best.nodes / best.steps
    chat = best.chat * 1000 / best.steps
    own = (best.total * 1000 - best.baseline * best.nodes) / best.steps - chat
    print(
        f"runs: {best.runs}  steps: {best.steps}  node executions: {best.nodes} "
        f"({nodes_per_step:.1f} per step)"
    )
    print(
        f"orchestration per step: median {statistics.median(ms):.2f} ms, "
        f"p95 {ms[int(0.95 * (len(ms) - 1))]:.2f} ms"
    )
    print(
        f"  LangGraph's own scheduling ({width}-key state): {best.baseline:.2f} ms per node "
        f"execution = {best.baseline * nodes_per_step:.2f} ms per step"
    )
    print(f"  LangChain's chat-model call path (brain excluded): {chat:.2f} ms per step")
    print(f"  the rest (DeepSearch's nodes and LangGraph beyond the baseline): {own:.2f} ms")
    print(
        f"CPU per step (this thread, brain excluded): median "
        f"{statistics.median(best.cpu_per_step):.2f} ms"
    )
    print(
        f"split: {best.step_nodes_ms():.2f} ms a step in the nodes every step runs "
        f"({', '.join(sorted(STEP_NODES))}) + {best.run_nodes_ms():.2f} ms a run in the "
        f"others ({', '.join(sorted(k for k in best.by_node if k not in STEP_NODES))})"
    )
    for name, spent in sorted(best.by_node.items(), key=lambda kv: -kv[1]):
        print(f"  {name:10s} {spent * 1000 / best.runs:6.2f} ms a run")


def bench_graph(team: bool = True) -> tuple[Any, _TimedModel, Brain]:
    """The graph the benchmark runs: a timed scripted model, in-memory search and pages."""
    pages = {f"https://example.org{p}": v for p, v in DEFAULT_PAGES.items()}
    settings = Settings(DEEPSEARCH_EMBEDDINGS="local", _env_file=None)  # type: ignore[call-arg]
    brain = Brain()
    model = _TimedModel(brain=brain)
    graph = build_graph(
        model=model,
        search=MemorySearch(pages),
        reader=MemoryReader(pages),
        settings=settings,
        team=team,
    )
    return graph, model, brain


async def main(runs: int, team: bool = True, rounds: int = 5) -> None:
    """Measure ``rounds`` rounds of ``runs // rounds`` runs each on one compiled graph.

    One graph serves every run, as in the server: compiling the graph and the first
    call's one-off work (imports, model serialisation) are not per-step costs. Each
    round is framed by LangGraph's trivial baseline, measured before and after it (the
    slower of the two counts); the detailed figures are those of the round whose
    baseline was fastest (the quietest host), chosen by the baseline and not by
    DeepSearch's own figure. Shared hosts drift by 2x in minutes.
    """
    graph, model, brain = bench_graph(team)
    width = sum(1 for k in graph.channels if not k.startswith(("__", "branch:")))
    await measure_round(graph, model, brain, 1)  # warm-up: first-call work
    per_round = max(1, runs // rounds)
    done: list[Round] = []
    chain = 11  # nodes a benchmark run executes (the baseline's chain length)
    for _ in range(rounds):
        before = await langgraph_baseline(chain, width)
        fig = await measure_round(graph, model, brain, per_round)
        chain = max(2, round(fig.nodes / fig.runs))
        # The host counts as quiet for the round only if it was quiet at both ends.
        fig.baseline = max(before, await langgraph_baseline(chain, width))
        done.append(fig)
    print("round  LangGraph baseline  median per step  step nodes  run nodes")
    for n, fig in enumerate(done, 1):
        print(
            f"{n:5d}  {fig.baseline:10.2f} ms/node  {statistics.median(fig.per_step):10.2f} ms"
            f"  {fig.step_nodes_ms():7.2f} ms  {fig.run_nodes_ms():6.2f} ms"
        )
    print("quietest round (fastest baseline):")
    report(min(done, key=lambda f: f.baseline), width)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100, help="runs over all rounds")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--bare", action="store_true", help="the research loop alone, without the team branch"
    )
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    args = parser.parse_args()
    print(f"event loop: {args.loop}")
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(main(args.runs, team=not args.bare, rounds=args.rounds))
    else:
        asyncio.run(main(args.runs, team=not args.bare, rounds=args.rounds))
