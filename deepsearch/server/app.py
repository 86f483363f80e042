"""The OpenAI-compatible DeepSearch API as a FastAPI app.

``app`` (this module) is what ``langgraph.json`` mounts through ``http.app`` and what
``uvicorn deepsearch.server.app:app`` serves; it needs no API key to import.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from langgraph.graph.state import CompiledStateGraph

from deepsearch.server.completions import CompletionsEndpoint, GraphSource
from deepsearch.server.config import MODEL_ID, ServerSettings
from deepsearch.server.errors import APIError, SafeJSONResponse, install_error_handlers
from deepsearch.server.guards import BodyLimitMiddleware, RateLimiter, check_api_key, client_key
from deepsearch.server.mcp_route import add_mcp_route, mcp_endpoint
from deepsearch.settings import Settings

STARTED = int(time.time())


def model_card(model_id: str = MODEL_ID) -> dict[str, Any]:
    """Return the OpenAI model object of DeepSearch."""
    return {"id": model_id, "object": "model", "created": STARTED, "owned_by": "deepsearch"}


def create_app(
    *,
    graph: CompiledStateGraph[Any, Any, Any, Any] | None = None,
    settings: Settings | None = None,
    server_settings: ServerSettings | None = None,
    api_key: str | None = None,
    mcp_path: str | None = "/mcp",
) -> FastAPI:
    """Build the API app.

    Args:
        graph: the DeepSearch graph to run; defaults to ``build_graph(settings=settings)``,
            built on the first request.
        settings: provider settings for the default graph; defaults to the environment.
        server_settings: auth, limits and CORS; defaults to the environment.
        api_key: the bearer key clients must send; overrides ``DEEPSEARCH_API_KEY``.
        mcp_path: where the MCP endpoint (streamable HTTP) answers; None for none.
    """
    server = server_settings or ServerSettings()
    secret = server.api_key or (settings.api_key if settings else None)
    key = api_key or (secret.get_secret_value() if secret else None)
    limiter = RateLimiter(server.rate_limit_per_minute)
    graphs = GraphSource(graph, settings)
    completions = CompletionsEndpoint(graphs, server)
    mcp = mcp_endpoint(graph if graph is not None else graphs.get, settings, server)

    def within_rate_limit(request: Request) -> None:
        check_api_key(request, key)
        limiter.check(client_key(request))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with mcp.lifespan():
            yield

    app = FastAPI(
        title="DeepSearch",
        summary="OpenAI-compatible deep search: search, read and reason until proven.",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=server.body_limit, idle_seconds=server.body_timeout
    )
    if server.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=server.cors_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["*"],
        )

    @app.get("/health", tags=["meta"])
    async def health() -> dict[str, Any]:
        """Tell that the server is up, and how many runs are in progress."""
        return {"status": "ok", "active_runs": completions.active_runs + mcp.mcp.active_runs}

    @app.get("/v1/models", tags=["openai"])
    async def list_models() -> dict[str, Any]:
        """List the one model."""
        return {"object": "list", "data": [model_card()]}

    @app.get("/v1/models/{model_id}", tags=["openai"])
    async def get_model(model_id: str) -> dict[str, Any]:
        """Return the model object, or a 404."""
        if model_id != MODEL_ID:
            raise APIError(
                404,
                f"The model '{model_id[:100]}' does not exist.",
                param="model",
                code="model_not_found",
            )
        return model_card()

    app.add_api_route(
        "/v1/chat/completions",
        completions,
        methods=["POST"],
        dependencies=[Depends(within_rate_limit)],
        response_class=SafeJSONResponse,
        tags=["openai"],
        summary="Create a chat completion (a DeepSearch run)",
    )
    if mcp_path:
        add_mcp_route(app, mcp_path, mcp, api_key=key, allowed_origins=server.cors_origins)
    _include_ui(app)
    return app


def _include_ui(app: FastAPI) -> None:
    """Mount the chat UI's router when ``deepsearch/server/ui.py`` exists."""
    if importlib.util.find_spec("deepsearch.server.ui") is None:
        return
    ui = importlib.import_module("deepsearch.server.ui")
    router = getattr(ui, "router", None)
    if router is not None:
        app.include_router(router)


app = create_app()
