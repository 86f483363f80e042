"""Retries, Retry-After, body limits and concurrency limits against a local server."""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import socket
import time

import httpx
import pytest

from deepsearch.tools.base import ProviderError
from deepsearch.tools.http import (
    limited,
    provider_limiter,
    request_with_retries,
    retry_after_seconds,
    scrub,
)
from tests.support_search.server import Recorded, Reply, serve

KEY = "sk-secret-key-123456"


def scripted(*replies: Reply):
    """Answer with ``replies`` in order, then repeat the last one."""
    queue = list(replies)

    def handle(request: Recorded) -> Reply:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return serve(handle)


async def test_retries_429_then_succeeds() -> None:
    with scripted(Reply(429, "slow down"), Reply(503, "busy"), Reply(200, {"ok": 1})) as server:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await request_with_retries(
                client, "GET", server.url, provider="p", backoff_base=0.01
            )
    assert response.json() == {"ok": 1}
    assert len(server.requests) == 3


async def test_honours_retry_after_seconds() -> None:
    with scripted(Reply(429, "", {"Retry-After": "0.3"}), Reply(200, {"ok": 1})) as server:
        async with httpx.AsyncClient(timeout=5) as client:
            started = time.monotonic()
            await request_with_retries(client, "GET", server.url, provider="p", backoff_base=0)
            assert time.monotonic() - started >= 0.28


async def test_gives_up_when_retry_after_is_too_long() -> None:
    with scripted(Reply(429, "quota", {"Retry-After": "3600"}), Reply(200, {})) as server:
        async with httpx.AsyncClient(timeout=5) as client:
            with pytest.raises(ProviderError) as err:
                await request_with_retries(client, "GET", server.url, provider="brave")
    assert err.value.retryable
    assert "HTTP 429" in str(err.value) and str(err.value).startswith("brave:")
    assert len(server.requests) == 1


def test_retry_after_parsing() -> None:
    now = time.time()
    date = email.utils.formatdate(now + 10, usegmt=True)
    assert retry_after_seconds("7") == 7
    assert 8 <= (retry_after_seconds(date, now=now) or 0) <= 11
    assert retry_after_seconds(email.utils.formatdate(now - 100, usegmt=True), now=now) == 0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


async def test_exhausted_retries_are_retryable_errors() -> None:
    with scripted(Reply(500, "boom")) as server:
        async with httpx.AsyncClient(timeout=5) as client:
            with pytest.raises(ProviderError) as err:
                await request_with_retries(
                    client, "GET", server.url, provider="p", retries=2, backoff_base=0.01
                )
    assert err.value.retryable
    assert "3 attempts" in str(err.value) and "HTTP 500" in str(err.value)
    assert len(server.requests) == 3


async def test_auth_errors_are_final_and_never_leak_the_key() -> None:
    with scripted(Reply(401, f"invalid key {KEY}")) as server:
        async with httpx.AsyncClient(timeout=5) as client:
            with pytest.raises(ProviderError) as err:
                await request_with_retries(
                    client,
                    "GET",
                    server.url,
                    provider="jina",
                    headers={"Authorization": f"Bearer {KEY}"},
                )
    assert not err.value.retryable
    assert KEY not in str(err.value)
    assert "check the API key" in str(err.value)
    assert len(server.requests) == 1


async def test_timeouts_are_retried() -> None:
    calls = 0

    def slow_then_fast(request: Recorded) -> Reply:
        nonlocal calls
        calls += 1
        if calls == 1:
            time.sleep(0.5)
        return Reply(200, {"calls": calls})

    with serve(slow_then_fast) as server:
        async with httpx.AsyncClient(timeout=0.2) as client:
            response = await request_with_retries(
                client, "GET", server.url, provider="p", backoff_base=0.01
            )
    assert response.json() == {"calls": 2}


async def test_connection_refused_is_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with httpx.AsyncClient(timeout=1) as client:
        with pytest.raises(ProviderError) as err:
            await request_with_retries(
                client, "GET", f"http://127.0.0.1:{port}/", provider="p", backoff_base=0.01
            )
    assert err.value.retryable and "ConnectError" in str(err.value)


async def test_body_limit() -> None:
    with scripted(Reply(200, b"x" * 5000)) as server:
        async with httpx.AsyncClient(timeout=5) as client:
            with pytest.raises(ProviderError, match="limit"):
                await request_with_retries(client, "GET", server.url, provider="p", max_bytes=1000)


def test_scrub() -> None:
    assert scrub(f"oops {KEY} again {KEY}", [KEY]) == "oops *** again ***"


async def test_provider_limiter_bounds_concurrency() -> None:
    active = peak = 0

    async def job() -> None:
        nonlocal active, peak
        async with limited("test-limit-provider", limit=2):
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.02)
            active -= 1

    await asyncio.gather(*(job() for _ in range(8)))
    assert peak == 2
    assert provider_limiter("test-limit-provider") is provider_limiter("test-limit-provider")
    assert provider_limiter("arxiv")._value == 1


async def test_min_interval_spaces_requests() -> None:
    starts: list[float] = []

    async def job() -> None:
        async with limited("test-interval-provider", limit=1, min_interval=0.1):
            starts.append(time.monotonic())

    await asyncio.gather(*(job() for _ in range(3)))
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(gap >= 0.09 for gap in gaps)


async def test_compressed_bodies_are_decoded_once() -> None:
    import gzip
    import json

    payload = gzip.compress(json.dumps({"web": {"results": []}}).encode())
    reply = Reply(200, payload, {"Content-Encoding": "gzip", "Content-Type": "application/json"})
    with serve(lambda r: reply) as server:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await request_with_retries(client, "GET", server.url, provider="p")
    assert response.json() == {"web": {"results": []}}
    assert "content-encoding" not in response.headers
