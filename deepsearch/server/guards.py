"""Request guards: a body size limit enforced while reading, bearer auth, a rate limit."""

from __future__ import annotations

import asyncio
import hmac
import time
from collections import deque

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deepsearch.server.errors import APIError


def body_too_large(max_bytes: int) -> APIError:
    """Return the 413 for a request body over the limit."""
    return APIError(
        413,
        f"The request body is larger than the limit of {max_bytes} bytes.",
        code="request_too_large",
    )


def body_too_slow(seconds: float) -> APIError:
    """Return the 408 for a body that stopped arriving."""
    return APIError(
        408,
        f"The request body stopped arriving: no data for {seconds:g} seconds (a body shorter "
        "than its Content-Length?).",
        code="request_timeout",
    )


class BodyLimitMiddleware:
    """Bound how a request body is read: its size, and the wait for each piece of it.

    A body whose Content-Length is over ``max_bytes`` is refused before a byte of it is
    read; a chunked one as soon as the bytes read pass the limit, so the rest is never
    read. Either way the client gets a 413. A body that stops arriving for
    ``idle_seconds`` (one shorter than its Content-Length, or a stalled upload) is
    refused with a 408: without that, its handler would wait for the missing bytes for
    as long as the client keeps the connection open.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, idle_seconds: float = 30.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.idle_seconds = idle_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with a receive channel that counts and times body bytes."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                await APIError(400, "Invalid Content-Length header.").response()(
                    scope, receive, send
                )
                return
            if too_big:
                await body_too_large(self.max_bytes).response()(scope, receive, send)
                return
        received = 0
        complete = False

        async def guarded_receive() -> Message:
            nonlocal received, complete
            if complete:  # the body is in; what follows is the wait for a disconnect
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.idle_seconds)
            except TimeoutError:
                raise body_too_slow(self.idle_seconds) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise body_too_large(self.max_bytes)
                complete = not message.get("more_body", False)
            return message

        await self.app(scope, guarded_receive, send)


def bearer_token(request: Request) -> str | None:
    """Return the bearer token of a request, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def check_api_key(request: Request, api_key: str | None) -> None:
    """Require ``Authorization: Bearer <api_key>`` when a key is configured (constant time)."""
    if not api_key:
        return
    token = bearer_token(request)
    if token is None:
        raise APIError(
            401,
            "Missing API key: send 'Authorization: Bearer <key>'.",
            code="invalid_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(token.encode("utf-8", "replace"), api_key.encode()):
        raise APIError(
            401,
            "Incorrect API key.",
            code="invalid_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )


class RateLimiter:
    """At most ``per_minute`` requests per client key in any 60-second window."""

    def __init__(self, per_minute: int, max_clients: int = 10_000) -> None:
        self.per_minute = per_minute
        self.max_clients = max_clients
        self._hits: dict[str, deque[float]] = {}

    def check(self, client: str) -> None:
        """Count one request for ``client``; raise a 429 when over the limit."""
        if self.per_minute <= 0:
            return
        now = time.monotonic()
        hits = self._hits.get(client)
        if hits is None:
            if len(self._hits) >= self.max_clients:
                self._forget_idle(now)
            hits = self._hits[client] = deque()
        while hits and now - hits[0] >= 60:
            hits.popleft()
        if len(hits) >= self.per_minute:
            retry = max(1, int(60 - (now - hits[0])) + 1)
            raise APIError(
                429,
                f"Rate limit reached: {self.per_minute} requests per minute. Retry in {retry} s.",
                type="requests",
                code="rate_limit_exceeded",
                headers={"Retry-After": str(retry)},
            )
        hits.append(now)

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or now - v[-1] >= 60]:
            del self._hits[key]
        if len(self._hits) >= self.max_clients:  # all busy: drop the oldest client
            del self._hits[next(iter(self._hits))]


def client_key(request: Request) -> str:
    """Identify the client for rate limiting: its API key, else its address."""
    token = bearer_token(request)
    if token:
        return "key:" + token
    return "ip:" + (request.client.host if request.client else "unknown")
