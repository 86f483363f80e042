"""Serve the API with uvicorn (what ``deepsearch serve`` calls)."""

from __future__ import annotations

import os


def run_server(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    api_key: str | None = None,
    *,
    log_level: str = "info",
) -> None:
    """Run the OpenAI-compatible server until interrupted.

    Args:
        host: interface to bind (``0.0.0.0`` for every interface).
        port: TCP port.
        workers: worker processes (each runs its own graph).
        api_key: bearer key clients must send; overrides ``DEEPSEARCH_API_KEY``.
        log_level: uvicorn's log level.
    """
    import uvicorn

    if api_key:
        # Worker processes build their app from the environment, so the key travels there.
        os.environ["DEEPSEARCH_API_KEY"] = api_key
    if workers > 1:
        # An MCP session's requests may reach any worker: each must stand alone.
        os.environ.setdefault("DEEPSEARCH_MCP_STATELESS", "1")
    uvicorn.run(
        "deepsearch.server.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=max(1, workers),
        log_level=log_level,
        timeout_graceful_shutdown=10,
    )
