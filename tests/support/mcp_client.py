"""Talk to DeepSearch's MCP server with the official MCP client SDK, over both transports.

Helpers for the MCP tests: open a session (streamable HTTP or a ``deepsearch mcp``
subprocess on stdio), record progress notifications, cancel a call the way a client
does (``notifications/cancelled``), and check that a result's quotes occur in the
pages of the test web.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlparse

import anyio
import httpx
from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from deepsearch.citations import normalize
from tests.support.testweb import TestWeb

PROJECT = Path(__file__).resolve().parents[2]
QUESTION = "Who designed the Statue of Liberty?"
OTHER_QUESTION = "Where was Gustave Eiffel born?"


@asynccontextmanager
async def http_session(
    url: str, headers: Mapping[str, str] | None = None
) -> AsyncIterator[ClientSession]:
    """Open an initialized MCP session on a streamable HTTP endpoint."""
    timeout = httpx.Timeout(30, read=300)
    async with (
        httpx.AsyncClient(headers=dict(headers or {}), timeout=timeout) as http,
        streamable_http_client(url, http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def stdio_env(home: Path, **values: str) -> dict[str, str]:
    """Return a clean environment for ``deepsearch mcp``: this checkout, nothing inherited."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PYTHONPATH": str(PROJECT),
        "LANG": "C.UTF-8",
        "LANGSMITH_TRACING": "false",
        "NO_PROXY": "*",
        **values,
    }


def web_env(home: Path, llm_url: str, web: TestWeb, **values: str) -> dict[str, str]:
    """Return the environment of a server whose LLM and web are the local test servers."""
    return stdio_env(
        home,
        OPENAI_BASE_URL=llm_url + "/v1",
        OPENAI_API_KEY="sk-test-not-a-real-key",
        DEEPSEARCH_MODEL="brain",
        DEEPSEARCH_SEARCH_PROVIDER="searxng",
        SEARXNG_URL=web.base_url,
        DEEPSEARCH_ALLOW_PRIVATE_URLS="1",
        DEEPSEARCH_EMBEDDINGS="local",
        DEEPSEARCH_READER="direct",
        DEEPSEARCH_CACHE=str(home / "cache.sqlite3"),
        **values,
    )


def server_command() -> list[str]:
    """Return the argv of ``deepsearch mcp`` with this interpreter."""
    return [sys.executable, "-m", "deepsearch.cli", "mcp"]


@asynccontextmanager
async def stdio_session(
    env: Mapping[str, str], cwd: Path, errlog: TextIO
) -> AsyncIterator[ClientSession]:
    """Start ``deepsearch mcp`` as a subprocess and open an initialized session on its stdio."""
    command, *args = server_command()
    params = StdioServerParameters(command=command, args=args, env=dict(env), cwd=cwd)
    async with (
        stdio_client(params, errlog=errlog) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


@dataclass
class Progress:
    """Progress notifications of one call, as the client received them."""

    seen: list[tuple[float, float | None, str | None]] = field(default_factory=list)

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        """Record one notification (the SDK's progress callback)."""
        self.seen.append((progress, total, message))

    @property
    def messages(self) -> list[str]:
        """Return the messages received, in order."""
        return [message or "" for _, _, message in self.seen]


def next_request_id(session: ClientSession) -> int:
    """Return the JSON-RPC id the session gives its next request.

    The SDK numbers requests itself and offers no other way to learn the id a
    ``notifications/cancelled`` must name.
    """
    return int(session._request_id)


async def cancel(session: ClientSession, request_id: int) -> None:
    """Cancel a request the way a client does: send ``notifications/cancelled``."""
    await session.send_notification(
        types.ClientNotification(
            types.CancelledNotification(
                params=types.CancelledNotificationParams(
                    requestId=request_id, reason="user stopped it"
                )
            )
        )
    )


async def wait_until(condition: Callable[[], bool], what: str, limit: float = 60) -> None:
    """Wait for ``condition`` (polling; the limit only bounds a hung test)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        await anyio.sleep(0.02)


def unverified_quotes(content: Mapping[str, Any], web: TestWeb) -> list[str]:
    """Return the references whose quote does not occur in their page of the test web."""
    bad = []
    for ref in content["references"]:
        page = web.pages.get(urlparse(ref["url"]).path)
        text = normalize(page.text()) if page else ""
        if not ref["exactQuote"] or normalize(ref["exactQuote"]) not in text:
            bad.append(f"{ref['url']}: {ref['exactQuote']!r}")
    return bad


def text_of(result: types.CallToolResult) -> str:
    """Return the text content of a tool result."""
    return "".join(block.text for block in result.content if isinstance(block, types.TextContent))
