"""The MCP server: one tool, ``deep_search``, on the official SDK's low-level server.

The low-level server is used rather than FastMCP because this server is one tool
whose shape matters: its schemas are generated from the pydantic models in
:mod:`.arguments` and :mod:`.output`, bad arguments get one readable line each (FastMCP
would wrap pydantic's multi-line report), the result carries Markdown *and*
structured content, and progress goes out per call. A transport (:mod:`.stdio`,
:mod:`.http`) runs :attr:`DeepSearchMCP.server`.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from langgraph.graph.state import CompiledStateGraph
from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.session import ServerSession

from deepsearch.api import DeepSearchResult, astream_run, build_graph
from deepsearch.mcp.arguments import (
    ArgumentsError,
    DeepSearchArguments,
    input_schema,
    parse_arguments,
)
from deepsearch.mcp.output import markdown, output_schema, structured
from deepsearch.mcp.progress import ProgressReporter
from deepsearch.mcp.running import RunFailed, relay_run
from deepsearch.settings import ConfigurationError, Settings, get_settings

log = logging.getLogger(__name__)

Graph = CompiledStateGraph[Any, Any, Any, Any]
TOOL_NAME = "deep_search"
TOOL_DESCRIPTION = (
    "Deep web research. Searches the web, reads pages and reasons in a loop until the "
    "answer to one hard question (multi-hop, recent, niche) is proven with citations, "
    "then returns it in Markdown with [^n] footnotes whose quotes occur in the pages "
    "read. Takes from under a minute (reasoning_effort 'low') to many minutes ('high'); "
    "progress is reported while it runs. Ask one self-contained question per call."
)
INSTRUCTIONS = (
    "DeepSearch answers factual questions by researching the web. Call deep_search with "
    "one self-contained question; cite its footnotes when you use the answer. Use "
    "reasoning_effort 'low' for quick facts and 'high' for hard multi-hop questions."
)


def _version() -> str:
    try:
        return version("deepsearch")
    except PackageNotFoundError:
        return "0"


def deep_search_tool() -> types.Tool:
    """Return the tool's definition: name, description, input and output schemas."""
    return types.Tool(
        name=TOOL_NAME,
        title="DeepSearch",
        description=TOOL_DESCRIPTION,
        inputSchema=input_schema(),
        outputSchema=output_schema(),
        annotations=types.ToolAnnotations(
            title="DeepSearch",
            readOnlyHint=True,
            destructiveHint=False,
            idempotentHint=False,
            openWorldHint=True,
        ),
    )


def tool_error(message: str) -> types.CallToolResult:
    """Return a tool result that reports an error to the client's model."""
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=message)], isError=True
    )


class DeepSearchMCP:
    """DeepSearch as an MCP server.

    Args:
        graph: The graph to run, or a function that returns the default one (called
            once an LLM is found configured); defaults to ``build_graph(settings=settings)``.
        settings: Provider settings; defaults to the environment, read at each call
            so a configuration problem is a tool error, not a server that will not start.
        max_team_size: The largest ``team_size`` a call may ask for.
        max_concurrent_runs: Runs beyond this wait for a slot (and say so as progress).
    """

    def __init__(
        self,
        *,
        graph: Graph | Callable[[], Graph] | None = None,
        settings: Settings | None = None,
        max_team_size: int = 8,
        max_concurrent_runs: int = 64,
    ) -> None:
        self._graph: Graph | None = None
        self._make_graph: Callable[[], Graph] | None = None
        if isinstance(graph, CompiledStateGraph):
            self._graph = graph
        elif graph is not None:
            self._make_graph = graph
        self._settings = settings
        self.max_team_size = max_team_size
        self.max_concurrent_runs = max_concurrent_runs
        self.active_runs = 0
        self._slots: asyncio.Semaphore | None = None
        self._log_levels: weakref.WeakKeyDictionary[ServerSession, types.LoggingLevel] = (
            weakref.WeakKeyDictionary()
        )
        self.server: Server[Any, Any] = Server(
            "deepsearch", version=_version(), instructions=INSTRUCTIONS
        )
        self.server.list_tools()(self._list_tools)
        # Arguments are checked here, with messages a model can act on.
        self.server.call_tool(validate_input=False)(self._call_tool)
        self.server.set_logging_level()(self._set_logging_level)

    async def _list_tools(self) -> list[types.Tool]:
        return [deep_search_tool()]

    async def _set_logging_level(self, level: types.LoggingLevel) -> None:
        self._log_levels[self.server.request_context.session] = level

    def settings(self) -> Settings:
        """Return the settings runs use (raises :class:`ConfigurationError` if unusable)."""
        return self._settings or get_settings()

    def graph(self) -> Graph:
        """Return the graph to run; the default one needs an LLM to be configured.

        Raises:
            ConfigurationError: No LLM is configured (the message says how to set one).
        """
        if self._graph is not None:
            return self._graph
        settings = self.settings()
        settings.require_llm()
        if self._make_graph is not None:
            return self._make_graph()
        self._graph = build_graph(settings=settings)
        return self._graph

    def check(self, args: DeepSearchArguments) -> None:
        """Refuse what this server cannot run: too big a team, a provider it lacks.

        Raises:
            ArgumentsError: The message names the argument and the limit.
        """
        if args.team_size > self.max_team_size:
            raise ArgumentsError(
                f"Invalid arguments for deep_search: team_size must be at most "
                f"{self.max_team_size} on this server, got {args.team_size}"
            )
        if args.search_provider is not None:
            from deepsearch.tools.search import make_search_provider

            try:
                make_search_provider(args.search_provider, self.settings(), use_cache=False)
            except ConfigurationError as exc:
                raise ArgumentsError(
                    f"Invalid arguments for deep_search: search_provider "
                    f"'{args.search_provider}' is not available on this server: {exc}"[:800]
                ) from None

    async def _call_tool(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        if name != TOOL_NAME:
            return tool_error(f"Unknown tool '{name[:100]}': this server has one, {TOOL_NAME}.")
        try:
            args = parse_arguments(arguments)
            self.check(args)
            graph = self.graph()
        except (ArgumentsError, ConfigurationError) as exc:
            return tool_error(str(exc))
        request = self.server.request_context
        reporter = ProgressReporter(
            session=request.session,
            request_id=request.request_id,
            token=request.meta.progressToken if request.meta else None,
            log_level=self._log_levels.get(request.session),
        )
        try:
            result = await self.run(args, graph, reporter)
        except RunFailed as exc:
            return tool_error(str(exc))
        return self.tool_result(result)

    async def run(
        self, args: DeepSearchArguments, graph: Graph, reporter: ProgressReporter
    ) -> DeepSearchResult:
        """Run one call's research within the concurrency limit, reporting its progress."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_concurrent_runs)
        if self._slots.locked():
            await reporter.report(
                {"type": "progress", "kind": "queued", "text": "Waiting for a free run slot."}
            )
        async with self._slots:
            return await relay_run(
                astream_run(args.question, graph=graph, context=args.to_context()),
                reporter.report,
                on_start=self._started,
                on_stop=self._stopped,
            )

    def _started(self) -> None:
        self.active_runs += 1

    def _stopped(self) -> None:
        self.active_runs -= 1

    @staticmethod
    def tool_result(result: DeepSearchResult) -> types.CallToolResult:
        """Return a finished run as the tool's result (an error result when it has no answer)."""
        failed = result.mode == "failed" or not result.answer.strip()
        text = markdown(result) if result.answer.strip() else "The run produced no answer."
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=text)],
            structuredContent=structured(result),
            isError=failed,
        )
