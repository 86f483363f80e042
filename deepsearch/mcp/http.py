"""The MCP server over streamable HTTP, as an ASGI app to mount in a web app.

The SDK's session manager must run for as long as the web app does: enter
:meth:`StreamableHTTPEndpoint.lifespan` in the app's lifespan (a mounted sub-app's
own lifespan never runs). Each time the lifespan is entered a fresh manager starts,
since one manager runs only once; outside it the endpoint answers 503.

Sessions are stateful by default, so a client's ``notifications/cancelled`` reaches
the call it cancels. Behind several worker processes a session's requests may land
on different workers: there the endpoint runs stateless (every request stands
alone), and a call is cancelled when its client closes the request's stream.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from deepsearch.mcp.server import DeepSearchMCP

log = logging.getLogger(__name__)


class EndedStreamNoise(logging.Filter):
    """Drop the SDK's error report for a GET stream that ended with its session.

    When a client ends its session (``DELETE``) while its GET stream is open, the
    mcp 1.x transport's stream writer finds its stream closed and logs that as an
    error with a traceback, though nothing failed.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Tell whether the record is worth keeping."""
        closed = record.exc_info is not None and isinstance(
            record.exc_info[1], anyio.ClosedResourceError
        )
        return not (closed and record.getMessage() == "Error in standalone SSE writer")


def quiet_ended_streams() -> None:
    """Install :class:`EndedStreamNoise` on the SDK's transport logger (once)."""
    sdk = logging.getLogger("mcp.server.streamable_http")
    if not any(isinstance(f, EndedStreamNoise) for f in sdk.filters):
        sdk.addFilter(EndedStreamNoise())


class StreamableHTTPEndpoint:
    """An ASGI app serving :class:`DeepSearchMCP` over streamable HTTP.

    Args:
        mcp: The MCP server.
        stateless: Serve every request on its own (for several worker processes).
    """

    def __init__(self, mcp: DeepSearchMCP, *, stateless: bool = False) -> None:
        self.mcp = mcp
        self.stateless = stateless
        self._manager: StreamableHTTPSessionManager | None = None

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Run the session manager; the endpoint serves while this is entered."""
        quiet_ended_streams()
        manager = StreamableHTTPSessionManager(
            app=self.mcp.server, stateless=self.stateless, json_response=False
        )
        async with manager.run():
            self._manager = manager
            try:
                yield
            finally:
                self._manager = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one HTTP request of the MCP protocol."""
        if self._manager is None:
            response = JSONResponse(
                {"error": "The MCP endpoint is not running (the app's lifespan did not start)."},
                status_code=503,
            )
            await response(scope, receive, send)
            return
        await self._manager.handle_request(scope, receive, send)
