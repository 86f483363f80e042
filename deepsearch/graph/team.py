"""The DeepSearch graph: the research loop, extended with a team map-reduce.

One graph serves every ``team_size``. With 1, ``prepare`` routes straight into the
research loop's ``plan`` (no subgraph, so breakpoints and traces see the loop's own
nodes). With N > 1: ``prepare`` → ``team_plan`` (N sub-problems, budget shares) →
``Send`` one ``worker`` per sub-problem, each the research loop compiled as a
subgraph with its own attempts and budget share → ``team_merge`` (one answer,
references renumbered and deduplicated) → ``finalize``. Workers share the Toolbox,
so they share its providers and their cache: a page read by one worker is not paid
for again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send

from deepsearch.context import Context
from deepsearch.graph.research import research_builder
from deepsearch.nodes.common import run_options
from deepsearch.nodes.routing import next_step
from deepsearch.nodes.team_merge import make_team_merge
from deepsearch.nodes.team_plan import make_team_plan, team_size_of, worker_task
from deepsearch.nodes.team_worker import make_worker
from deepsearch.progress import emit
from deepsearch.state import WorkerInput
from deepsearch.state.team import TeamState, WorkerOutput, WorkerTask
from deepsearch.tools.toolbox import Toolbox

START_TARGETS = ("team_plan", "plan", "beast_mode")


def route_start(state: Mapping[str, Any], ctx: Context) -> str:
    """After ``prepare``: a team is planned first; one researcher starts the loop.

    A budget too small to share among workers is researched by one researcher.
    """
    size = team_size_of(ctx, state.get("budget_tokens"))
    if 1 == size < team_size_of(ctx):
        emit(state, "team-size", "The budget is too small to share: one researcher works alone.")
    return "team_plan" if size > 1 else next_step(state, ctx)


async def dispatch_workers(state: TeamState, runtime: Runtime[Context]) -> list[Send]:
    """Fan out: one worker per sub-problem, each with its own input and budget share."""
    ctx = run_options(runtime)
    return [Send("worker", worker_task(state, sub, ctx)) for sub in state["subproblems"]]


def build_team_graph(
    tools: Toolbox, *, checkpointer: Any = None, name: str = "deepsearch"
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the DeepSearch graph: the research loop, with a team branch for team_size > 1."""
    worker_loop = research_builder(
        tools, input_schema=WorkerInput, output_schema=WorkerOutput
    ).compile(name="worker")
    builder = research_builder(
        tools, state_schema=TeamState, route_start=(route_start, START_TARGETS)
    )
    builder.add_node("team_plan", make_team_plan(tools))
    builder.add_node("worker", make_worker(worker_loop), input_schema=WorkerTask)
    builder.add_node("team_merge", make_team_merge(tools))
    builder.add_conditional_edges("team_plan", dispatch_workers, ["worker"])
    builder.add_edge("worker", "team_merge")
    builder.add_edge("team_merge", "finalize")
    return builder.compile(checkpointer=checkpointer, name=name)
