"""DeepSearch inside other LangChain / LangGraph apps: as a tool, a Runnable, or a node.

    tool = as_tool(reasoning_effort="low")           # for a ReAct agent
    chain = prompt_to_question | as_runnable() | format_answer   # LCEL
    builder.add_node("research", as_node())          # a node of your StateGraph

The compiled graph itself (``build_graph()``) is also a valid subgraph node of any
``StateGraph`` whose state shares its keys (``question``/``messages`` in,
``answer`` and friends out). Keyword options are :class:`~deepsearch.context.Context`
fields; they apply to every run. The graph is built lazily, so making a tool or a
runnable needs no API key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.graph.state import CompiledStateGraph
from pydantic import BaseModel, Field

from deepsearch.api import DeepSearchResult, aask, ask, build_graph
from deepsearch.context import Context

Graph = CompiledStateGraph[Any, Any, Any, Any]

TOOL_DESCRIPTION = (
    "Deep web research: searches the web, reads pages and reasons in a loop until it can "
    "answer with cited sources. Use it for hard, multi-hop or fresh factual questions. "
    "Input is one self-contained question; output is the answer with numbered sources."
)


class DeepSearchInput(BaseModel):
    """The tool's arguments as an agent sees them."""

    question: str = Field(description="One self-contained question, with all needed context.")


def _context(defaults: Mapping[str, Any]) -> Context:
    names = {f.name for f in dataclasses.fields(Context)}
    unknown = sorted(set(defaults) - names)
    if unknown:
        raise TypeError(f"unknown DeepSearch options: {', '.join(unknown)}")
    return Context(**defaults)


class _LazyGraph:
    """Holds the graph, building the default one on first use."""

    def __init__(self, graph: Graph | None) -> None:
        self._graph = graph

    def get(self) -> Graph:
        if self._graph is None:
            self._graph = build_graph()
        return self._graph


def format_answer(result: DeepSearchResult) -> str:
    """Render a result as the answer text followed by its numbered sources."""
    lines = [result.answer.strip()]
    if result.references:
        lines.append("")
        lines.append("Sources:")
        for n, ref in enumerate(result.references, start=1):
            title = ref.get("title") or ref["url"]
            lines.append(f"[^{n}]: {title} - {ref['url']}")
    return "\n".join(lines)


def as_tool(
    graph: Graph | None = None,
    *,
    name: str = "deepsearch",
    description: str = TOOL_DESCRIPTION,
    **context_defaults: Any,
) -> BaseTool:
    """Wrap DeepSearch as a LangChain tool an agent can call with a question.

    The tool's content is the answer with its sources; its artifact is the full
    result as a dict (``ToolMessage.artifact`` when the agent calls it).

    Args:
        graph: the compiled DeepSearch graph; built from the environment when omitted.
        name: the tool name the agent sees.
        description: what the agent is told the tool does.
        **context_defaults: :class:`Context` fields applied to every run.
    """
    ctx = _context(context_defaults)
    lazy = _LazyGraph(graph)

    async def run_async(question: str) -> tuple[str, dict[str, Any]]:
        result = await aask(question, graph=lazy.get(), context=ctx)
        return format_answer(result), result.to_dict()

    def run_sync(question: str) -> tuple[str, dict[str, Any]]:
        result = ask(question, graph=lazy.get(), context=ctx)
        return format_answer(result), result.to_dict()

    return StructuredTool.from_function(
        func=run_sync,
        coroutine=run_async,
        name=name,
        description=description,
        args_schema=DeepSearchInput,
        response_format="content_and_artifact",
    )


def _question(value: Any) -> str | list[Any]:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        if value.get("question"):
            return str(value["question"])
        if value.get("messages"):
            return list(value["messages"])
    if isinstance(value, list):
        return value
    raise TypeError("DeepSearch expects a question string, {'question': ...} or messages")


def as_runnable(
    graph: Graph | None = None,
    *,
    output: Literal["answer", "text", "result"] = "answer",
    **context_defaults: Any,
) -> Runnable[Any, Any]:
    """Wrap DeepSearch as a Runnable for LCEL chains.

    Input: a question string, ``{"question": ...}``, ``{"messages": [...]}`` or a message
    list. Output by ``output``: ``"answer"`` the bare answer text, ``"text"`` the answer
    with its sources, ``"result"`` the whole result as a dict.

    Args:
        graph: the compiled DeepSearch graph; built from the environment when omitted.
        output: what the runnable returns.
        **context_defaults: :class:`Context` fields applied to every run.
    """
    ctx = _context(context_defaults)
    lazy = _LazyGraph(graph)

    def shape(result: DeepSearchResult) -> Any:
        if output == "result":
            return result.to_dict()
        if output == "text":
            return format_answer(result)
        return result.answer

    async def run_async(value: Any, config: RunnableConfig) -> Any:
        result = await aask(_question(value), graph=lazy.get(), context=ctx)
        return shape(result)

    def run_sync(value: Any, config: RunnableConfig) -> Any:
        return shape(ask(_question(value), graph=lazy.get(), context=ctx))

    return RunnableLambda(run_sync, afunc=run_async, name="deepsearch")


def as_node(
    graph: Graph | None = None,
    *,
    question_key: str = "question",
    answer_key: str = "answer",
    result_key: str | None = None,
    **context_defaults: Any,
) -> Runnable[Any, dict[str, Any]]:
    """Wrap DeepSearch as a node for a ``StateGraph`` whose state has other key names.

    The node reads the question from ``state[question_key]`` and writes the answer text
    to ``answer_key`` (and the full result dict to ``result_key`` when given). Use the
    compiled graph itself as the node when your state already uses DeepSearch's keys.

    Args:
        graph: the compiled DeepSearch graph; built from the environment when omitted.
        question_key: the state key holding the question (or a message list).
        answer_key: the state key that receives the answer text.
        result_key: optional state key that receives the whole result as a dict.
        **context_defaults: :class:`Context` fields applied to every run.
    """
    ctx = _context(context_defaults)
    lazy = _LazyGraph(graph)

    async def research(state: Mapping[str, Any], config: RunnableConfig) -> dict[str, Any]:
        result = await aask(_question(state[question_key]), graph=lazy.get(), context=ctx)
        update: dict[str, Any] = {answer_key: result.answer}
        if result_key:
            update[result_key] = result.to_dict()
        return update

    return RunnableLambda(research, name="deepsearch")
