"""A scripted stand-in for the chat-completions endpoint, for testing the chat page alone.

It serves the real page router plus ``POST /v1/chat/completions`` that replays the
replies queued in order: an SSE stream (a list of chunk dicts, raw ``data:`` strings
and ``Hold`` markers) or an HTTP error. Requests are recorded, so tests can check what
the page sent. The real server is exercised by the end-to-end tests.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from deepsearch.server.ui import router


@dataclass
class Hold:
    """Pause the stream here until the test calls ``FakeChat.release()`` (or the client leaves)."""


@dataclass
class HttpError:
    """Answer with an OpenAI-style error and this status."""

    status: int
    message: str
    code: str = "error"


def chunk(content: str = "", *, type_: str | None = None, **extra: Any) -> dict[str, Any]:
    """Return one ``chat.completion.chunk`` with ``content`` on the delta."""
    body: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "jina-deepsearch-v1",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}],
    }
    if type_:
        body["choices"][0]["delta"]["type"] = type_
    body.update(extra)
    return body


def final_chunk(
    annotations: list[dict[str, Any]], read: list[str], visited: list[str]
) -> dict[str, Any]:
    """Return the last chunk: annotations, URL lists and usage."""
    body = chunk("", type_="text")
    body["choices"][0]["delta"]["annotations"] = annotations
    body["choices"][0]["finish_reason"] = "stop"
    body.update(
        visitedURLs=visited,
        readURLs=read,
        numURLs=len(visited),
        usage={"prompt_tokens": 900, "completion_tokens": 334, "total_tokens": 1234},
    )
    return body


def citation(url: str, title: str, quote: str, date: str = "2024-03-01") -> dict[str, Any]:
    """Return one ``url_citation`` annotation."""
    return {
        "type": "url_citation",
        "url_citation": {"title": title, "exactQuote": quote, "url": url, "dateTime": date},
    }


Reply = list[dict[str, Any] | str | Hold] | HttpError


@dataclass
class FakeChat:
    """The fake server's state: queued replies, recorded requests, disconnect signals."""

    replies: deque[Reply] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    auth_headers: list[str | None] = field(default_factory=list)
    disconnected: threading.Event = field(default_factory=threading.Event)
    holding: threading.Event = field(default_factory=threading.Event)
    _release: threading.Event = field(default_factory=threading.Event)

    def queue(self, *replies: Reply) -> FakeChat:
        """Queue replies for the next requests, in order."""
        self.replies.extend(replies)
        return self

    def release(self) -> None:
        """Let a held stream go on."""
        self._release.set()

    def app(self) -> FastAPI:
        """Return the ASGI app: the page router and the scripted endpoint."""
        app = FastAPI()
        app.include_router(router)
        app.add_api_route("/v1/chat/completions", self.completions, methods=["POST"])
        return app

    async def completions(self, request: Request) -> Response:
        """Replay the next queued reply."""
        self.requests.append(await request.json())
        self.auth_headers.append(request.headers.get("authorization"))
        reply = self.replies.popleft()
        if isinstance(reply, HttpError):
            error = {"message": reply.message, "type": "error", "param": None, "code": reply.code}
            return JSONResponse({"error": error}, status_code=reply.status)
        return StreamingResponse(self.stream(reply, request), media_type="text/event-stream")

    async def stream(
        self, events: list[dict[str, Any] | str | Hold], request: Request
    ) -> AsyncIterator[str]:
        """Send the scripted events; a Hold waits until released or the client disconnects."""
        try:
            for event in events:
                if isinstance(event, Hold):
                    self.holding.set()
                    while not self._release.is_set():
                        if await request.is_disconnected():
                            self.disconnected.set()
                            return
                        await asyncio.sleep(0.05)
                    continue
                data = event if isinstance(event, str) else json.dumps(event)
                yield f"data: {data}\n\n"
        except asyncio.CancelledError:
            self.disconnected.set()
            raise
