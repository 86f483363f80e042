"""The MCP endpoint of the HTTP server: DeepSearch's ``deep_search`` tool over streamable HTTP.

It answers at one path (``/mcp`` on ``deepsearch serve``), behind the API's bearer key
when one is configured, and refuses browser requests from origins not allowed by
``DEEPSEARCH_CORS_ORIGINS``: browsers send an ``Origin`` header, so a web page that
reaches the server through DNS rebinding is turned away, while MCP clients (which
send none) are not affected.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI
from langgraph.graph.state import CompiledStateGraph
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from deepsearch.mcp.http import StreamableHTTPEndpoint
from deepsearch.mcp.server import DeepSearchMCP
from deepsearch.server.config import ServerSettings
from deepsearch.server.errors import APIError
from deepsearch.server.guards import check_api_key
from deepsearch.settings import Settings

Graph = CompiledStateGraph[Any, Any, Any, Any]


class GuardedEndpoint:
    """Check the Origin and the bearer key of each request, then pass it to ``app``.

    Args:
        app: The MCP endpoint.
        api_key: The bearer key clients must send, if any.
        allowed_origins: Browser origins allowed to call (``*`` for any).
    """

    def __init__(self, app: ASGIApp, api_key: str | None, allowed_origins: Sequence[str]) -> None:
        self.app = app
        self.api_key = api_key
        self.allowed_origins = set(allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse (403, 401) or serve one request."""
        request = Request(scope)
        origin = request.headers.get("origin")
        try:
            if origin and not ({"*", origin} & self.allowed_origins):
                raise APIError(
                    403,
                    f"Origin '{origin[:200]}' may not call the MCP endpoint (allow it with "
                    "DEEPSEARCH_CORS_ORIGINS).",
                    type="invalid_request_error",
                    code="origin_not_allowed",
                )
            check_api_key(request, self.api_key)
        except APIError as exc:
            await exc.response()(scope, receive, send)
            return
        await self.app(scope, receive, send)


def mcp_endpoint(
    graph: Graph | Callable[[], Graph] | None,
    settings: Settings | None,
    server: ServerSettings,
) -> StreamableHTTPEndpoint:
    """Return the streamable HTTP endpoint of a DeepSearch MCP server with the server's limits."""
    mcp = DeepSearchMCP(
        graph=graph,
        settings=settings,
        max_team_size=server.max_team_size,
        max_concurrent_runs=server.max_concurrent_runs,
    )
    return StreamableHTTPEndpoint(mcp, stateless=server.mcp_stateless)


def add_mcp_route(
    app: FastAPI,
    path: str,
    endpoint: StreamableHTTPEndpoint,
    *,
    api_key: str | None,
    allowed_origins: Sequence[str],
) -> None:
    """Serve ``endpoint`` at exactly ``path`` (no redirect to ``path/``)."""
    app.add_route(
        path,
        GuardedEndpoint(endpoint, api_key, allowed_origins),  # type: ignore[arg-type]
        methods=["GET", "POST", "DELETE"],
        include_in_schema=False,
    )
