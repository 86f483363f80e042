"""Make search and read calls show up in traces as tool runs.

LangSmith (and any LangChain callback handler) sees the graph's nodes and the
role-tagged LLM calls on its own; provider calls are plain coroutines, so the
wrappers here open a ``tool`` run around each one, nested under the node that
made it. Tracing stays off unless the user's LangSmith variables
(``LANGSMITH_TRACING=true`` and ``LANGSMITH_API_KEY``) turn it on.

    search = traced_search(make_search_provider("searxng", settings))
    reader = traced_reader(make_reader("direct", settings))
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks.base import BaseCallbackManager
from langchain_core.runnables.config import ensure_config, get_async_callback_manager_for_config

from deepsearch.tools.base import Page, Reader, SearchProvider, SearchResponse, bills_tokens

TRACE_TAG = "deepsearch"


@dataclass
class ToolRun:
    """The open trace run of one provider call; set ``output`` to what the trace shows."""

    output: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)


@asynccontextmanager
async def tool_run(
    name: str, inputs: Mapping[str, Any], *, kind: str, provider: str
) -> AsyncIterator[ToolRun]:
    """Trace the block as a ``tool`` run named ``name``, child of the current graph step.

    Outside a graph run, and with no handler or tracer configured, this costs next to nothing.
    """
    config = ensure_config()
    run = ToolRun()
    inherited = config.get("callbacks")
    # Inside a graph step the step's manager already holds every handler and tracer
    # configured for the run: with none, skip building a manager (a cost every step).
    if isinstance(inherited, BaseCallbackManager) and not inherited.handlers:
        yield run
        return
    manager = get_async_callback_manager_for_config(config)
    if not manager.handlers:  # nobody listens: no run to open
        yield run
        return
    manager.add_tags([TRACE_TAG, f"tool:{kind}", f"provider:{provider}"], inherit=False)
    manager.add_metadata({"provider": provider, "tool_kind": kind}, inherit=False)
    child = await manager.on_tool_start(
        {"name": name, "description": f"DeepSearch {kind} provider {provider}"},
        str(dict(inputs)),
        name=name,
        inputs=dict(inputs),
    )
    try:
        yield run
    except BaseException as exc:
        await child.on_tool_error(exc)
        raise
    await child.on_tool_end(run.output)


class TracedSearch:
    """A search provider whose every query is traced as a tool run."""

    def __init__(self, inner: SearchProvider) -> None:
        """Wrap ``inner``; the wrapper keeps its name."""
        self.inner = inner
        self.name = inner.name
        self.bills = bills_tokens(inner)

    async def search(
        self, query: str, *, num_results: int = 10, language: str | None = None
    ) -> SearchResponse:
        """Run the query on the wrapped provider inside a ``search.<provider>`` tool run."""
        inputs = {"query": query, "num_results": num_results, "language": language}
        async with tool_run(
            f"search.{self.name}", inputs, kind="search", provider=self.name
        ) as run:
            response = await self.inner.search(query, num_results=num_results, language=language)
            run.output = {
                "results": [{"url": r.url, "title": r.title} for r in response.results],
                "tokens": response.tokens,
            }
        return response


class TracedReader:
    """A reader whose every page is traced as a tool run."""

    def __init__(self, inner: Reader) -> None:
        """Wrap ``inner``; the wrapper keeps its name."""
        self.inner = inner
        self.name = inner.name
        self.bills = bills_tokens(inner)

    async def read(self, url: str) -> Page:
        """Read ``url`` with the wrapped reader inside a ``read.<reader>`` tool run."""
        async with tool_run(
            f"read.{self.name}", {"url": url}, kind="read", provider=self.name
        ) as run:
            page = await self.inner.read(url)
            run.output = {
                "url": page.final_url or page.url,
                "title": page.title,
                "chars": len(page.text),
                "tokens": page.tokens,
            }
        return page


def traced_search(provider: SearchProvider) -> SearchProvider:
    """Return ``provider`` wrapped for tracing (unchanged when it already is)."""
    return provider if isinstance(provider, TracedSearch) else TracedSearch(provider)


def traced_reader(reader: Reader) -> Reader:
    """Return ``reader`` wrapped for tracing (unchanged when it already is)."""
    return reader if isinstance(reader, TracedReader) else TracedReader(reader)


def step_metadata(state: Mapping[str, Any]) -> dict[str, Any]:
    """Return the run metadata worth attaching to a node's LLM calls: step, tokens, budget."""
    meta = {
        "step": state.get("step", 0),
        "tokens_used": state.get("tokens_used", 0),
        "budget_tokens": state.get("budget_tokens", 0),
    }
    if state.get("worker"):
        meta["worker"] = state["worker"]
    return meta
