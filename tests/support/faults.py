"""Seeded, rate-based fault injection for the local LLM server, search endpoint and pages.

:class:`FaultInjector` draws one fault (or none) per request from fixed rates with
its own seeded RNG, and counts what it injected. :class:`FaultyApp` wraps any ASGI
app (``LLMServer.app``, ``TestWeb.app``) and delivers the drawn fault on the wire:
HTTP 500, 429 with ``Retry-After``, a hang until the client gives up, a TCP reset,
a truncated body, invalid JSON, schema-violating JSON, or an empty answer.

It is an ASGI wrapper rather than ``LLMServer``'s ``fault`` hook because resets and
truncated bodies need the raw connection, which only the outermost app can reach.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import struct
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TRANSPORT_FAULTS = ("http_500", "http_429", "timeout", "reset", "truncated")
CONTENT_FAULTS = ("invalid_json", "schema_violation", "empty")
ALL_FAULTS = TRANSPORT_FAULTS + CONTENT_FAULTS


@dataclass
class FaultInjector:
    """Draw faults at fixed rates from a seeded RNG; thread-safe; counts everything.

    Attributes:
        rates: fault kind -> probability per request (their sum must be at most 1).
        seed: RNG seed, so a failing run can be replayed.
        planned: faults (or ``None``) for the first requests, before the rates apply.
        requests: requests seen.
        injected: faults injected, by kind.
    """

    rates: Mapping[str, float]
    seed: int = 0
    planned: list[str | None] = field(default_factory=list)
    requests: int = 0
    injected: Counter[str] = field(default_factory=Counter)
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        unknown = (set(self.rates) | set(self.planned)) - {*ALL_FAULTS, None}
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(map(str, unknown))}")
        if sum(self.rates.values()) > 1.0 + 1e-9:
            raise ValueError("fault rates add up to more than 1")
        self._rng = random.Random(self.seed)

    @classmethod
    def uniform(cls, rate: float, kinds: tuple[str, ...] = ALL_FAULTS, seed: int = 0) -> Any:
        """Spread a total fault ``rate`` evenly over ``kinds``."""
        return cls({k: rate / len(kinds) for k in kinds}, seed=seed)

    def draw(self) -> str | None:
        """Return the fault for the next request, or ``None`` to answer normally."""
        with self._lock:
            self.requests += 1
            if self.planned:
                kind = self.planned.pop(0)
                if kind is not None:
                    self.injected[kind] += 1
                return kind
            roll = self._rng.random()
            edge = 0.0
            for kind, rate in self.rates.items():
                edge += rate
                if roll < edge:
                    self.injected[kind] += 1
                    return kind
            return None

    @property
    def total_injected(self) -> int:
        """Return how many faults were injected."""
        return sum(self.injected.values())


ContentFault = Callable[[str, dict[str, Any] | None], tuple[str, bytes]]
"""Build a content fault's ``(media type, body)`` from its kind and the JSON request body."""


def search_content(kind: str, request: dict[str, Any] | None) -> tuple[str, bytes]:
    """Broken answers of a SearXNG-compatible ``/search`` endpoint."""
    bodies = {
        "invalid_json": b'{"query": "x", "results": [{"url": "http',
        "schema_violation": b'{"results": {"url": 42, "title": ["not", "text"]}}',
        "empty": b'{"query": "x", "number_of_results": 0, "results": []}',
    }
    return "application/json", bodies[kind]


def page_content(kind: str, request: dict[str, Any] | None) -> tuple[str, bytes]:
    """Broken pages: garbage bytes served as HTML, or an empty document."""
    if kind == "empty":
        return "text/html", b""
    return "text/html", bytes(range(256)) * 8


def llm_content(kind: str, request: dict[str, Any] | None) -> tuple[str, bytes]:
    """Broken Chat Completions answers, in the stream or non-stream wire format."""
    if kind == "invalid_json":
        return "application/json", b'{"id": "chatcmpl-x", "choices": [{"message": {"content'
    # A well-formed envelope whose content is useless to every role.
    content = '{"unexpected": ["field"], "action": 7}' if kind == "schema_violation" else ""
    model = (request or {}).get("model", "brain")
    cid, created = f"chatcmpl-{uuid.uuid4().hex[:12]}", int(time.time())
    # Bill the prompt like a real server would, so budgets still bind under faults.
    prompt = max(1, len(json.dumps((request or {}).get("messages", []))) // 4)
    usage = {"prompt_tokens": prompt, "completion_tokens": 1, "total_tokens": prompt + 1}
    if (request or {}).get("stream"):
        chunks: list[dict[str, Any]] = [
            {"choices": [{"index": 0, "delta": {"role": "assistant", "content": content}}]},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": usage},
        ]
        lines = [
            "data: "
            + json.dumps(
                {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    **c,
                }
            )
            + "\n\n"
            for c in chunks
        ]
        return "text/event-stream", ("".join(lines) + "data: [DONE]\n\n").encode()
    body = {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": usage,
    }
    return "application/json", json.dumps(body).encode()


def _raw_transport(send: Send) -> Any:
    # uvicorn's send is a bound method of the request cycle, which owns the transport
    # (an asyncio or uvloop transport: duck-typed).
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    return transport if hasattr(transport, "abort") else None


@dataclass
class FaultyApp:
    """An ASGI wrapper that injects the injector's faults into matching requests.

    Attributes:
        app: the wrapped ASGI app.
        injector: decides which requests fail and how.
        content: builds content faults (``invalid_json``, ``schema_violation``, ``empty``).
        applies: which paths are subject to faults (default: all).
        retry_after: the ``Retry-After`` seconds sent with 429 answers.
        hang_seconds: the longest a ``timeout`` fault waits for the client to give up.
    """

    app: ASGIApp
    injector: FaultInjector
    content: ContentFault = page_content
    applies: Callable[[str], bool] = lambda path: True
    retry_after: float = 0.0
    hang_seconds: float = 30.0
    hung: int = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, or fail it as the injector decides."""
        if scope["type"] != "http" or not self.applies(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        kind = self.injector.draw()
        if kind is None:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        await self._deliver(kind, body, receive, send)

    async def _deliver(self, kind: str, body: bytes, receive: Receive, send: Send) -> None:
        if kind == "http_500":
            await _respond(send, 500, "application/json", b'{"error": {"message": "injected"}}')
        elif kind == "http_429":
            headers = [(b"retry-after", f"{self.retry_after:g}".encode())]
            await _respond(send, 429, "application/json", b'{"error": "slow down"}', headers)
        elif kind == "timeout":
            await self._hang(receive, send)
        elif kind == "reset":
            await _reset(send)
        elif kind == "truncated":
            await _truncate(send)
        else:
            try:
                request = json.loads(body) if body else None
            except ValueError:
                request = None
            media_type, payload = self.content(kind, request if isinstance(request, dict) else None)
            await _respond(send, 200, media_type, payload)

    async def _hang(self, receive: Receive, send: Send) -> None:
        self.hung += 1
        try:
            async with asyncio.timeout(self.hang_seconds):
                while (await receive())["type"] != "http.disconnect":
                    pass
            return  # the client gave up: nothing to answer
        except TimeoutError:
            await _respond(send, 504, "text/plain", b"gateway timeout")
        finally:
            self.hung -= 1


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _respond(
    send: Send,
    status: int,
    media_type: str,
    body: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", media_type.encode()),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _reset(send: Send) -> None:
    """Abort the connection with a TCP RST, before any response byte."""
    transport = _raw_transport(send)
    if transport is None:
        raise ConnectionResetError("injected reset (no raw transport to abort)")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    await asyncio.sleep(0.01)  # let the server notice the disconnect before we return


async def _truncate(send: Send) -> None:
    """Promise a body, send half of it, then close the connection."""
    body = b'{"partial": "' + b"x" * 200
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body) * 2).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": True})
    transport = _raw_transport(send)
    if transport is None:
        raise ConnectionAbortedError("injected truncation")
    transport.close()
    await asyncio.sleep(0.01)
