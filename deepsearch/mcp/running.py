"""Drive one run for an MCP call: in a task of its own, stopped for good when the call ends.

The MCP SDK cancels a call through an anyio cancel scope, which keeps cancelling
whatever runs inside it; LangGraph's own clean-up of its node tasks would be cut
short there and leave them running (still calling the model). So the run gets an
asyncio task of its own: the call relays its events, and if the call is cancelled
the task gets one plain cancellation and the call waits (shielded, bounded) until
it has stopped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio

from deepsearch.api import DeepSearchResult
from deepsearch.settings import ConfigurationError
from deepsearch.tools.base import ProviderError
from deepsearch.tools.llm import LLMUnavailable

log = logging.getLogger(__name__)

Event = dict[str, Any]
# How long a cancelled run may take to unwind before the call stops waiting for it.
STOP_SECONDS = 10.0


class RunFailed(RuntimeError):
    """A run ended without a result; the message says why, for the client."""


async def relay_run(
    events: AsyncIterator[Event],
    on_event: Callable[[Event], Awaitable[None]],
    *,
    on_start: Callable[[], None] = lambda: None,
    on_stop: Callable[[], None] = lambda: None,
) -> DeepSearchResult:
    """Run ``events`` in their own task, pass each progress event on, return the result.

    Args:
        events: A run's event stream (:func:`deepsearch.api.astream_run`).
        on_event: Called with every progress event, in order.
        on_start: Called when the run's task starts.
        on_stop: Called when the run's task has ended, however it ended.

    Raises:
        RunFailed: The run raised; the message is fit for the client.
    """
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    async def pump() -> None:
        on_start()
        try:
            async for event in events:
                queue.put_nowait(("event", event))
        except Exception as exc:
            queue.put_nowait(("error", exc))
        else:
            queue.put_nowait(("end", None))
        finally:
            on_stop()

    task = asyncio.create_task(pump(), name="deepsearch-mcp-run")
    result: DeepSearchResult | None = None
    try:
        while True:
            kind, value = await queue.get()
            if kind == "error":
                raise RunFailed(failure_message(value)) from value
            if kind == "end":
                break
            if value.get("type") == "result":
                result = value["result"]
            else:
                await on_event(value)
    finally:
        if not task.done():
            task.cancel()
            with anyio.CancelScope(shield=True):
                await asyncio.wait({task}, timeout=STOP_SECONDS)
            if task.done():
                log.info("deep_search: the run was cancelled and has stopped")
            else:
                log.warning("deep_search: a cancelled run did not stop in %s s", STOP_SECONDS)
    if result is None:
        raise RunFailed("The run ended without an answer.")
    return result


def failure_message(exc: BaseException) -> str:
    """Return what the client is told about a failed run (never a traceback)."""
    if isinstance(exc, ConfigurationError):
        return str(exc)
    if isinstance(exc, LLMUnavailable):
        return f"The LLM endpoint failed: {exc}"[:800]
    if isinstance(exc, ProviderError):
        return f"The upstream service '{exc.provider}' failed: {exc}"[:800]
    log.error("deep_search: the run failed", exc_info=exc)
    return f"The run failed unexpectedly ({type(exc).__name__}); the server log has the details."
