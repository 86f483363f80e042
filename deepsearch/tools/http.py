"""Provider HTTP calls: retries with backoff, Retry-After, body limits, concurrency limits.

:func:`request_with_retries` turns every failure into :class:`ProviderError`
with a message that is safe to show (secrets scrubbed, body excerpt bounded).
:func:`provider_limiter` hands out one semaphore per provider and event loop.
"""

from __future__ import annotations

import asyncio
import email.utils
import html
import json
import random
import re
import time
import weakref
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from deepsearch.tools.base import ProviderError

DEFAULT_MAX_BYTES = 5_000_000
MAX_RETRY_WAIT = 30.0
_SECRET_HEADERS = ("authorization", "x-api-key", "x-subscription-token", "api-key", "cookie")
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
_DEFAULT_CONCURRENCY = 4
PROVIDER_CONCURRENCY: dict[str, int] = {"arxiv": 1, "duckduckgo": 2}
"""Concurrent requests allowed per provider (others get 4)."""

_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)
_last_start: dict[str, float] = {}


def provider_limiter(provider: str, limit: int | None = None) -> asyncio.Semaphore:
    """Return the semaphore bounding concurrent calls to ``provider`` in this event loop.

    Args:
        provider: The provider name (``"jina"``, ``"arxiv"``, ...).
        limit: Concurrency for a provider seen for the first time; defaults to
            :data:`PROVIDER_CONCURRENCY` or 4.

    Returns:
        A semaphore shared by every caller in the running loop.
    """
    loop = asyncio.get_running_loop()
    per_loop = _limiters.setdefault(loop, {})
    if provider not in per_loop:
        size = limit or PROVIDER_CONCURRENCY.get(provider, _DEFAULT_CONCURRENCY)
        per_loop[provider] = asyncio.Semaphore(max(1, size))
    return per_loop[provider]


@asynccontextmanager
async def limited(
    provider: str, limit: int | None = None, min_interval: float = 0.0
) -> AsyncIterator[None]:
    """Hold the provider's concurrency slot, spacing starts by ``min_interval`` seconds.

    Args:
        provider: The provider name.
        limit: See :func:`provider_limiter`.
        min_interval: Least seconds between two request starts (polite APIs such
            as arXiv ask for 3 s); 0 disables spacing.
    """
    async with provider_limiter(provider, limit):
        if min_interval > 0:
            wait = _last_start.get(provider, 0.0) + min_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            _last_start[provider] = time.monotonic()
        yield


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Parse a ``Retry-After`` header (delay in seconds or an HTTP date).

    Args:
        value: The header value.
        now: The current UNIX time (for tests); defaults to ``time.time()``.

    Returns:
        Seconds to wait (never negative), or ``None`` if absent or unparsable.
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _secrets(client: httpx.AsyncClient, headers: Any) -> list[str]:
    found: list[str] = []
    merged = httpx.Headers(client.headers)
    if headers:
        merged.update(httpx.Headers(headers))
    for name in _SECRET_HEADERS:
        value = merged.get(name)
        if value:
            found.append(value)
            if " " in value:  # "Bearer <key>": scrub the key alone too
                found.append(value.split(" ", 1)[1])
    return [s for s in found if len(s) >= 4]


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret in ``text`` with ``***``.

    Args:
        text: A message that may echo a key.
        secrets: Values to hide.

    Returns:
        The scrubbed text.
    """
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


class _BodyTooLarge(Exception):
    pass


async def _read_bounded(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise _BodyTooLarge(f"response of {declared} bytes exceeds the {max_bytes}-byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise _BodyTooLarge(f"response exceeds the {max_bytes}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _backoff(attempt: int, base: float, max_wait: float) -> float:
    return min(max_wait, base * (2**attempt)) * (0.5 + random.random() / 2)


def _excerpt(body: bytes, limit: int = 200) -> str:
    text = body[:limit].decode("utf-8", "replace")
    return " ".join(text.split())


async def request_with_retries(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    provider: str,
    retries: int = 3,
    backoff_base: float = 0.5,
    max_wait: float = MAX_RETRY_WAIT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    **kw: Any,
) -> httpx.Response:
    """Send a request, retrying transient failures, and return a successful response.

    Retries 408/425/429/5xx answers, connection errors and timeouts with
    exponential backoff and jitter, honouring ``Retry-After``. When the server asks
    to wait longer than ``max_wait`` the call gives up at once (retryable), so a
    fallback provider can take over instead of stalling the run.

    Args:
        client: The client to send with (its timeout bounds each attempt).
        method: HTTP method.
        url: Request URL.
        provider: Provider name, used in error messages.
        retries: Extra attempts after the first.
        backoff_base: First backoff delay in seconds (doubles per attempt).
        max_wait: Longest single wait in seconds.
        max_bytes: Largest response body accepted.
        **kw: Passed to ``client.build_request`` (params, headers, json, ...).

    Returns:
        The response (2xx, body read).

    Raises:
        ProviderError: With ``retryable`` telling whether trying later or another
            provider may help. Messages never contain API keys.
    """
    secrets = _secrets(client, kw.get("headers"))
    last_error = "no attempt made"
    for attempt in range(retries + 1):
        wait: float | None = None
        try:
            request = client.build_request(method, url, **kw)
            response = await client.send(request, stream=True)
            try:
                body = await _read_bounded(response, max_bytes)
            finally:
                await response.aclose()
        except _BodyTooLarge as exc:
            raise ProviderError(provider, scrub(str(exc), secrets)) from None
        except httpx.InvalidURL as exc:
            raise ProviderError(provider, scrub(f"invalid URL: {exc}", secrets)) from None
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            last_error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        except httpx.HTTPError as exc:
            raise ProviderError(provider, scrub(f"request failed: {exc}", secrets)) from None
        else:
            status = response.status_code
            if 200 <= status < 300:
                headers = httpx.Headers(response.headers)
                for name in ("content-encoding", "content-length", "transfer-encoding"):
                    headers.pop(name, None)  # the body is already decoded
                return httpx.Response(
                    status,
                    headers=headers,
                    content=body,
                    request=request,
                    extensions={"http_version": response.http_version.encode()},
                )
            last_error = f"HTTP {status}: {_excerpt(body)}".rstrip(": ")
            if status not in _RETRY_STATUS:
                hint = " (check the API key)" if status in (401, 403) else ""
                raise ProviderError(provider, scrub(last_error + hint, secrets), retryable=False)
            wait = retry_after_seconds(response.headers.get("retry-after"))
            if wait is not None and wait > max_wait:
                raise ProviderError(
                    provider,
                    scrub(f"{last_error} (asked to retry after {wait:.0f} s)", secrets),
                    retryable=True,
                )
        if attempt < retries:
            await asyncio.sleep(
                wait if wait is not None else _backoff(attempt, backoff_base, max_wait)
            )
    raise ProviderError(
        provider,
        scrub(f"gave up after {retries + 1} attempts: {last_error}", secrets),
        retryable=True,
    )


MAX_RESULTS = 20
"""Most results any provider is asked for in one query."""

_TAG = re.compile(r"<[^>]{0,200}>")


def parse_json(response: httpx.Response, provider: str) -> Any:
    """Decode a provider's JSON body, or raise :class:`ProviderError` (retryable).

    Args:
        response: A successful response.
        provider: Provider name for the error message.

    Returns:
        The decoded JSON value.
    """
    try:
        return json.loads(response.content)
    except ValueError:
        snippet = _excerpt(response.content, 80)
        raise ProviderError(
            provider, f"invalid JSON in response: {snippet!r}", retryable=True
        ) from None


def clean_text(value: Any, limit: int = 1000) -> str:
    """Return ``value`` as one line of plain text (HTML tags and entities removed), bounded.

    Args:
        value: Anything a provider put in a text field; non-strings give ``""``.
        limit: Most characters kept.

    Returns:
        The cleaned text.
    """
    if not isinstance(value, str):
        return ""
    text = html.unescape(_TAG.sub("", value)) if "<" in value or "&" in value else value
    return " ".join(text.split())[:limit]


def clamp_results(num_results: int) -> int:
    """Bound a requested result count to ``1..MAX_RESULTS``."""
    return max(1, min(int(num_results), MAX_RESULTS))


@asynccontextmanager
async def provider_client(
    client: httpx.AsyncClient | None, timeout: float
) -> AsyncIterator[httpx.AsyncClient]:
    """Yield ``client`` if given, else a fresh client closed on exit.

    A fresh client per call keeps providers usable from any event loop.

    Args:
        client: A client to reuse (its owner closes it), or ``None``.
        timeout: Timeout for a fresh client, in seconds.
    """
    if client is not None:
        yield client
        return
    async with httpx.AsyncClient(
        timeout=timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT}
    ) as fresh:
        yield fresh


USER_AGENT = "deepsearch/0.1 (research agent)"
MAX_QUERY_CHARS = 500
"""Longest query sent to a provider."""
