"""The research loop as a LangGraph state machine.

prepare → plan → (search → rank_urls | read → rank_urls | reflect | answer → evaluate)
→ back to plan, until the answer passes (finalize) or the budget, the attempts or
progress run out (beast_mode → finalize). The budget is checked before every step: by
``prepare`` at the start, then by each node that ends a step, as it chooses where to go
(``Command(goto=...)``, drawn as edges from the nodes' return types or destinations).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from deepsearch.context import Context
from deepsearch.nodes.answer import make_answer
from deepsearch.nodes.beast_mode import make_beast_mode
from deepsearch.nodes.evaluate import make_evaluate
from deepsearch.nodes.finalize import make_finalize
from deepsearch.nodes.plan import make_plan
from deepsearch.nodes.prepare import Route, make_prepare
from deepsearch.nodes.rank_urls import make_rank_urls
from deepsearch.nodes.read import make_read
from deepsearch.nodes.reflect import make_reflect
from deepsearch.nodes.routing import next_step
from deepsearch.nodes.search import make_search
from deepsearch.state import InputState, OutputState, ResearchState
from deepsearch.tools.toolbox import Toolbox


def research_builder(
    tools: Toolbox,
    *,
    state_schema: type[Any] = ResearchState,
    input_schema: type[Any] = InputState,
    output_schema: type[Any] = OutputState,
    route_start: tuple[Route, Sequence[str]] = (next_step, ("plan", "beast_mode")),
) -> StateGraph[Any, Any, Any, Any]:
    """Return the uncompiled research-loop graph wired to ``tools``.

    Team workers compile it with ``input_schema=WorkerInput`` so their budget share
    and name reach the loop. The team graph extends it (``state_schema=TeamState``)
    and routes the start through ``route_start`` (a route and its targets), so a
    single researcher runs the loop itself, with no subgraph around it.
    """
    builder = StateGraph(
        state_schema,
        context_schema=Context,
        input_schema=input_schema,
        output_schema=output_schema,
    )
    route, targets = route_start
    prepare = make_prepare(route, screen=tools.screen_content, tools=tools)
    builder.add_node("prepare", prepare, destinations=tuple(targets))
    builder.add_node("plan", make_plan(tools))
    builder.add_node("search", make_search(tools))
    builder.add_node("rank_urls", make_rank_urls(tools))
    builder.add_node("read", make_read(tools))
    builder.add_node("reflect", make_reflect(tools))
    builder.add_node("answer", make_answer(tools))
    builder.add_node("evaluate", make_evaluate(tools))
    builder.add_node("beast_mode", make_beast_mode(tools))
    builder.add_node("finalize", make_finalize(tools))

    builder.add_edge(START, "prepare")
    builder.add_edge("search", "rank_urls")
    builder.add_edge("read", "rank_urls")
    builder.add_edge("beast_mode", "finalize")
    builder.add_edge("finalize", END)
    return builder


def build_research_graph(
    tools: Toolbox, *, checkpointer: Any = None, name: str = "deepsearch"
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the research loop."""
    return research_builder(tools).compile(checkpointer=checkpointer, name=name)
