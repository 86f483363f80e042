"""The public Python API: build the graph, ask a question, stream a run.

from deepsearch import aask
result = await aask("Who founded the company that makes the Model 3?")
print(result.answer, result.references)
"""

from __future__ import annotations

import asyncio
import dataclasses
import operator
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AnyMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

from deepsearch.budget import usage_of
from deepsearch.context import Context
from deepsearch.graph.research import build_research_graph
from deepsearch.settings import Settings, get_settings
from deepsearch.state import Knowledge, Reference, Usage, merge_unique
from deepsearch.tools.base import Reader, Relevance, SearchProvider
from deepsearch.tools.llm import LLM
from deepsearch.tools.tokens import configured_context_window
from deepsearch.tools.toolbox import Toolbox


@dataclass
class DeepSearchResult:
    """The outcome of a run: the answer, its references, the URLs and the tokens."""

    question: str
    answer: str
    references: list[Reference]
    visited_urls: list[str]
    read_urls: list[str]
    usage: Usage
    mode: str
    steps: int = 0
    diary: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-able data."""
        return dataclasses.asdict(self)


def build_graph(
    *,
    model: BaseChatModel | Mapping[str, BaseChatModel] | LLM | None = None,
    search: SearchProvider | None = None,
    reader: Reader | None = None,
    relevance: Relevance | None = None,
    settings: Settings | None = None,
    checkpointer: Any = None,
    team: bool = True,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Build the DeepSearch graph.

    Args:
        model: a LangChain chat model (or one per role: ``{"default": m, "planner": m2}``);
            defaults to ``ChatOpenAI`` from the environment, built when a run needs it.
        search: a search provider object; defaults to the configured provider.
        reader: a reader object; defaults to the configured reader.
        relevance: a relevance scorer; defaults to the configured embeddings/reranker.
        settings: process settings; defaults to the environment.
        checkpointer: a LangGraph checkpointer for persistence and resuming.
        team: include the team map-reduce (``team_size`` > 1) when it is available.
    """
    llm: LLM | None
    if model is None or isinstance(model, LLM):
        llm = model
    else:
        chosen = settings or get_settings()
        llm = LLM(
            model,
            method=chosen.structured_output,
            max_tokens=chosen.llm_max_tokens,
            context_window=configured_context_window(chosen),
            discover_context=chosen.llm_context is None,
        )
    tools = Toolbox(
        settings=settings or get_settings(),
        llm_override=llm,
        search_override=search,
        reader_override=reader,
        relevance_override=relevance,
    )
    if team:
        try:
            from deepsearch.graph.team import build_team_graph
        except ImportError:
            pass
        else:
            return build_team_graph(tools, checkpointer=checkpointer)
    return build_research_graph(tools, checkpointer=checkpointer)


def make_input(
    question: str | Sequence[AnyMessage | Mapping[str, Any]],
    knowledge: Sequence[Knowledge] = (),
    images: Sequence[str] = (),
) -> dict[str, Any]:
    """Turn a question or a conversation (plus seed knowledge and image data URIs) into input."""
    data: dict[str, Any] = (
        {"question": question} if isinstance(question, str) else {"messages": list(question)}
    )
    if knowledge:
        data["knowledge"] = list(knowledge)
    if images:
        data["images"] = list(images)
    return data


_RESULT_KEYS = (
    "original_question",
    "answer",
    "visited_urls",
    "read_urls",
    "usage",
    "step",
    "diary",
    "prompt_tokens",
    "completion_tokens",
    "tokens_used",
    "cached_prompt_tokens",
)


def result_from_state(state: Mapping[str, Any], ctx: Context) -> DeepSearchResult:
    """Build a :class:`DeepSearchResult` from a finished run's state."""
    answer = state.get("answer") or {}
    return DeepSearchResult(
        question=state.get("original_question") or answer.get("question", ""),
        answer=answer.get("text", ""),
        references=list(answer.get("references", [])),
        visited_urls=list(state.get("visited_urls", []))[: ctx.max_returned_urls],
        read_urls=list(state.get("read_urls", []))[: ctx.max_returned_urls],
        usage=cast(Usage, state.get("usage") or usage_of(state)),
        mode=answer.get("mode", "failed"),
        steps=state.get("step", 0),
        diary=list(state.get("diary", [])),
    )


def run_config(ctx: Context, config: RunnableConfig | None = None) -> RunnableConfig:
    """Merge the caller's LangChain config with what every run sets.

    The run is named ``deepsearch``, its recursion limit follows ``ctx.max_steps`` and
    its metadata carries the budget and team size; the caller's ``run_name``,
    ``recursion_limit``, ``callbacks``, ``tags`` and ``configurable`` (a thread id)
    are kept, and the caller's metadata is added (its keys win).

    Args:
        ctx: The run's options.
        config: The caller's config, if any.

    Returns:
        The config to run the graph with.
    """
    given: dict[str, Any] = dict(config or {})
    merged: dict[str, Any] = {
        "recursion_limit": 4 * ctx.max_steps + 50,
        "run_name": "deepsearch",
        **given,
    }
    merged["metadata"] = {
        "budget_tokens": ctx.resolved_budget(),
        "team_size": ctx.team_size,
        **(given.get("metadata") or {}),
    }
    return cast(RunnableConfig, merged)


async def astream_run(
    question: str | Sequence[AnyMessage | Mapping[str, Any]],
    *,
    graph: CompiledStateGraph[Any, Any, Any, Any] | None = None,
    context: Context | None = None,
    knowledge: Sequence[Knowledge] = (),
    config: RunnableConfig | None = None,
    images: Sequence[str] = (),
) -> AsyncIterator[dict[str, Any]]:
    """Run DeepSearch and yield its progress events, then ``{"type": "result", "result": ...}``.

    Progress events are the dicts nodes emit (``type == "progress"``); the last item
    carries the :class:`DeepSearchResult`. Cancelling the iteration cancels the run.
    ``knowledge`` seeds the run (e.g. attached files); ``images`` are data URIs the
    answering model sees. ``config`` is a LangChain config (callbacks, tags, metadata,
    run name, a thread id), merged by :func:`run_config`.
    """
    ctx = context or Context()
    g = graph or build_graph()
    final: dict[str, Any] = {}
    # "updates" rather than "values": the whole state is not copied out at every step.
    stream: AsyncIterator[Any] = g.astream(
        make_input(question, knowledge, images),
        config=run_config(ctx, config),
        context=ctx,
        stream_mode=["custom", "updates"],
    )
    async for mode, chunk in stream:
        if mode == "custom":
            yield chunk
        elif mode == "updates":
            for update in chunk.values():
                if isinstance(update, Mapping):
                    fold_update(final, update)
    yield {"type": "result", "result": result_from_state(final, ctx)}


# The reducers (and empty values) of the state fields a result reads; others are replaced.
_REDUCERS: dict[str, tuple[Any, Any]] = {
    "visited_urls": (merge_unique, []),
    "read_urls": (merge_unique, []),
    "diary": (operator.add, []),
    "prompt_tokens": (operator.add, 0),
    "completion_tokens": (operator.add, 0),
    "tokens_used": (operator.add, 0),
    "cached_prompt_tokens": (operator.add, 0),
}


def fold_update(final: dict[str, Any], update: Mapping[str, Any]) -> None:
    """Apply one node's update to the result fields, with the state's reducers."""
    for key, value in update.items():
        if key not in _RESULT_KEYS:
            continue
        if key in _REDUCERS:
            reducer, empty = _REDUCERS[key]
            final[key] = reducer(final.get(key, empty), value)
        else:
            final[key] = value


async def aask(
    question: str | Sequence[AnyMessage | Mapping[str, Any]],
    *,
    graph: CompiledStateGraph[Any, Any, Any, Any] | None = None,
    context: Context | None = None,
    config: RunnableConfig | None = None,
    **options: Any,
) -> DeepSearchResult:
    """Answer a question with DeepSearch.

    Args:
        question: The question, or a conversation whose last user message asks it.
        graph: A graph from :func:`build_graph`; defaults to one built from the environment.
        context: The run's options; defaults to ``Context(**options)``.
        config: A LangChain config for the run: ``callbacks`` (tracers, handlers that
            see every node and LLM call), ``tags``, ``metadata``, ``run_name``, and
            ``configurable`` (``thread_id`` with a checkpointed graph). Merged with what
            the run sets itself (see :func:`run_config`).
        **options: :class:`Context` fields, used when ``context`` is not given.

    Returns:
        The answer, its references, the URLs seen and read, and the tokens spent.
    """
    ctx = context or Context(**options)
    result: DeepSearchResult | None = None
    async for event in astream_run(question, graph=graph, context=ctx, config=config):
        if event.get("type") == "result":
            result = event["result"]
    assert result is not None
    return result


def ask(
    question: str | Sequence[AnyMessage | Mapping[str, Any]],
    *,
    graph: CompiledStateGraph[Any, Any, Any, Any] | None = None,
    context: Context | None = None,
    config: RunnableConfig | None = None,
    **options: Any,
) -> DeepSearchResult:
    """Answer a question with DeepSearch, blocking until done (see :func:`aask`)."""
    return asyncio.run(aask(question, graph=graph, context=context, config=config, **options))
