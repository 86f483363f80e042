"""``POST /v1/chat/completions``: parse, check, run DeepSearch, answer in OpenAI's format.

A run lives exactly as long as its client: a disconnect cancels it (stream and non-stream).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, TypeVar

from langgraph.graph.state import CompiledStateGraph
from pydantic import ValidationError
from sse_starlette import EventSourceResponse
from starlette.requests import Request
from starlette.responses import Response

from deepsearch.api import DeepSearchResult, astream_run, build_graph
from deepsearch.server.attachments import run_input
from deepsearch.server.chunks import Completion, progress_of, think_line
from deepsearch.server.config import ServerSettings
from deepsearch.server.context_limit import fit_to_context
from deepsearch.server.errors import APIError, SafeJSONResponse, bad_request, from_run_failure
from deepsearch.server.param_errors import from_validation
from deepsearch.server.request_body import ClientGone, read_json_object
from deepsearch.server.schemas import ChatCompletionRequest
from deepsearch.settings import NO_LLM_MESSAGE, ConfigurationError, Settings, get_settings
from deepsearch.tools.context_window import context_window_for

T = TypeVar("T")
Graph = CompiledStateGraph[Any, Any, Any, Any]
Event = dict[str, Any]
PING_SECONDS = 15
QUEUED: Event = {
    "type": "progress",
    "kind": "queued",
    "text": "The server is busy: waiting for a free run slot.",
}


@dataclass
class GraphSource:
    """The graph runs use: the one given, or the default built on first use."""

    graph: Graph | None = None
    settings: Settings | None = None

    def __post_init__(self) -> None:
        self.is_default = self.graph is None

    def get(self) -> Graph:
        """Return the graph, building the default one on first use."""
        if self.graph is None:
            self.graph = build_graph(settings=self.settings)
        return self.graph

    def run_settings(self) -> Settings:
        """Return the settings runs use (given, else from the environment)."""
        return self.settings or get_settings()

    def preflight(self) -> None:
        """Fail fast (503) when the default graph has no LLM to call."""
        if self.is_default and not self.run_settings().llm_configured():
            raise from_run_failure(ConfigurationError(NO_LLM_MESSAGE))


async def parse_request(request: Request) -> ChatCompletionRequest:
    """Read (within the body limits), decode and validate a chat completion request."""
    data = await read_json_object(request)
    try:
        return ChatCompletionRequest.model_validate(data)
    except ValidationError as exc:
        raise from_validation(exc) from None
    except RecursionError:
        raise bad_request("The request is nested too deeply.") from None


def check_search_provider(name: str | None, settings: Settings) -> None:
    """Refuse (400) a per-request search provider that this server cannot use."""
    if name is None:
        return
    from deepsearch.tools.search import make_search_provider

    try:
        make_search_provider(name, settings)
    except ConfigurationError as exc:
        raise bad_request(
            f"search_provider '{name}' is not available on this server: {exc}"[:800],
            param="search_provider",
            code="unsupported_value",
        ) from None


async def wait_for_disconnect(request: Request) -> None:
    """Return when the client goes away (the body has been read already)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def unless_disconnected(request: Request, work: Coroutine[Any, Any, T]) -> T:
    """Run ``work``; cancel it and raise :class:`ClientGone` if the client disconnects."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(wait_for_disconnect(request))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pending in (task, watcher):
            if not pending.done():
                pending.cancel()
    if not task.done() or task.cancelled():
        await asyncio.gather(task, return_exceptions=True)
        raise ClientGone()
    return task.result()


async def final_result(batches: AsyncIterator[list[Event]]) -> DeepSearchResult:
    """Drain a run's events and return its result."""
    async with aclosing(batches):  # type: ignore[type-var]
        async for batch in batches:
            for event in batch:
                if event.get("type") == "result":
                    result: DeepSearchResult = event["result"]
                    return result
    raise RuntimeError("the run ended without a result")


def sse(*payloads: str) -> bytes:
    """Frame payloads as SSE ``data:`` events, to be written in one go."""
    return "".join(f"data: {p}\n\n" for p in payloads).encode()


async def sse_chunks(
    completion: Completion, batches: AsyncIterator[list[Event]], include_usage: bool
) -> AsyncIterator[bytes]:
    """Yield the SSE bytes of a streamed completion: think block, answer, final chunk, [DONE].

    Events that are ready together go out in one write (one think chunk for their lines).
    """
    yield sse(completion.content("<think>", "think", first=True))
    pending: list[str] = []
    try:
        result: DeepSearchResult | None = None
        async with aclosing(batches):  # type: ignore[type-var]
            async for batch in batches:
                lines = []
                progress: dict[str, Any] | None = None
                for event in batch:
                    if event.get("type") == "result":
                        result = event["result"]
                    elif (line := think_line(event)) is not None:
                        lines.append(line)
                        progress = progress_of(event)
                if lines:
                    pending.append(completion.content("".join(lines), "think", progress=progress))
                if result is None and pending:
                    yield sse(*pending)
                    pending = []
        if result is None:
            raise RuntimeError("the run ended without a result")
        pending.append(completion.content("</think>\n\n", "think"))
        if result.answer:
            pending.append(completion.content(result.answer, completion.answer_type))
        pending.append(completion.final(result, with_usage=not include_usage))
        if include_usage:
            pending.append(completion.usage_chunk(result))
    except Exception as exc:
        err = from_run_failure(exc)
        pending.append(completion.content("</think>\n\n", "think"))
        pending.append(completion.error(err.message, err.code, err.status))
    yield sse(*pending, "[DONE]")


@dataclass
class CompletionsEndpoint:
    """The chat completions handler, bound to a graph source and the server settings.

    ``active_runs`` counts runs in progress (``/health`` reports it).
    """

    graphs: GraphSource
    server: ServerSettings
    active_runs: int = 0

    _runs: set[asyncio.Task[None]] = field(default_factory=set)
    _slots: asyncio.Semaphore | None = None

    def slots(self) -> asyncio.Semaphore:
        """Return the semaphore that bounds concurrent runs."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.server.max_concurrent_runs)
        return self._slots

    async def run_in_own_task(self, events: AsyncIterator[Event]) -> AsyncIterator[list[Event]]:
        """Drive a run in its own task and relay its events in batches of those ready
        together; closing this cancels the run.

        A task of its own gets one plain cancellation it can clean up after, where the
        response's cancel scope would keep cancelling LangGraph's own cleanup and leave
        node tasks orphaned.
        """
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        async def pump() -> None:
            slots = self.slots()
            if slots.locked():
                queue.put_nowait(("event", QUEUED))
            try:
                async with slots:
                    self.active_runs += 1
                    try:
                        async with aclosing(events):  # type: ignore[type-var]
                            async for event in events:
                                queue.put_nowait(("event", event))
                    finally:
                        self.active_runs -= 1
            except Exception as exc:
                queue.put_nowait(("error", exc))
            else:
                queue.put_nowait(("end", None))

        task = asyncio.create_task(pump(), name="deepsearch-run")
        self._runs.add(task)
        task.add_done_callback(self._runs.discard)
        try:
            while True:
                items = [await queue.get()]
                while not queue.empty():
                    items.append(queue.get_nowait())
                batch = [value for kind, value in items if kind == "event"]
                if batch:
                    yield batch
                kind, value = items[-1]
                if kind == "error":
                    raise value
                if kind == "end":
                    return
        finally:
            task.cancel()

    async def __call__(self, request: Request) -> Response:
        """Answer one chat completion request (SSE when ``stream`` is true)."""
        try:
            req = await parse_request(request)
        except ClientGone:
            return Response(status_code=499)
        context = req.to_context(self.server.max_team_size)
        run = await run_input(req.messages, self.server.max_file_bytes)
        settings = self.graphs.run_settings()
        check_search_provider(context.search_provider, settings)
        fit_to_context(run, await context_window_for(settings))
        self.graphs.preflight()
        events = self.run_in_own_task(
            astream_run(
                run.messages,
                graph=self.graphs.get(),
                context=context,
                knowledge=run.knowledge,
                images=run.images,
            )
        )
        completion = Completion(req.model_name, json_answer=context.response_schema is not None)
        if req.stream:
            return EventSourceResponse(
                sse_chunks(completion, events, req.include_usage),
                ping=PING_SECONDS,
                sep="\n",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        try:
            result = await unless_disconnected(request, final_result(events))
        except ClientGone:
            return Response(status_code=499)
        except APIError:
            raise
        except Exception as exc:
            raise from_run_failure(exc) from None
        return SafeJSONResponse(completion.body(result))
