"""The DeepSearch graph: the research loop alone, or a team of them (map-reduce).

With ``team_size`` 1 the run goes straight into the research loop (``research``).
With N > 1: ``prepare`` → ``team_plan`` (N sub-problems, budget shares) → ``Send``
one ``worker`` per sub-problem, each the same research loop compiled as a subgraph
with its own attempts and budget share → ``team_merge`` (one answer, references
renumbered and deduplicated) → ``finalize``. Workers share the Toolbox, so they share
its providers and their cache: a page read by one worker is not paid for again.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send

from deepsearch.context import Context
from deepsearch.graph.research import research_builder
from deepsearch.graph.team_state import TeamState, WorkerOutput, WorkerTask
from deepsearch.nodes.common import run_options
from deepsearch.nodes.finalize import make_finalize
from deepsearch.nodes.prepare import prepare
from deepsearch.nodes.team_merge import make_team_merge
from deepsearch.nodes.team_plan import make_team_plan, team_size_of, worker_task
from deepsearch.nodes.team_worker import make_solo, make_worker
from deepsearch.state import InputState, OutputState, WorkerInput
from deepsearch.tools.toolbox import Toolbox


def route_team(state: TeamState, runtime: Runtime[Context]) -> Literal["research", "prepare"]:
    """Start: one researcher runs the loop directly; a team is planned first."""
    return "prepare" if team_size_of(run_options(runtime)) > 1 else "research"


def dispatch_workers(state: TeamState, runtime: Runtime[Context]) -> list[Send]:
    """Fan out: one worker per sub-problem, each with its own input and budget share."""
    ctx = run_options(runtime)
    return [Send("worker", worker_task(state, sub, ctx)) for sub in state["subproblems"]]


def build_team_graph(
    tools: Toolbox, *, checkpointer: Any = None, name: str = "deepsearch"
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the DeepSearch graph: the research loop, or a team of them when team_size > 1."""
    solo_loop = research_builder(tools).compile(name="research")
    worker_loop = research_builder(
        tools, input_schema=WorkerInput, output_schema=WorkerOutput
    ).compile(name="worker")

    builder = StateGraph(
        TeamState, context_schema=Context, input_schema=InputState, output_schema=OutputState
    )
    builder.add_node("research", make_solo(solo_loop))
    builder.add_node("prepare", prepare)
    builder.add_node("team_plan", make_team_plan(tools))
    builder.add_node("worker", make_worker(worker_loop), input_schema=WorkerTask)
    builder.add_node("team_merge", make_team_merge(tools))
    builder.add_node("finalize", make_finalize(tools))

    builder.add_conditional_edges(START, route_team, ["research", "prepare"])
    builder.add_edge("research", END)
    builder.add_edge("prepare", "team_plan")
    builder.add_conditional_edges("team_plan", dispatch_workers, ["worker"])
    builder.add_edge("worker", "team_merge")
    builder.add_edge("finalize", END)
    builder.add_edge("team_merge", "finalize")
    return builder.compile(checkpointer=checkpointer, name=name)
