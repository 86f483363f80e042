"""Fetching for the direct reader: one guarded GET, bounded in time and size.

The SSRF guard checks the URL, every redirect hop and every resolved address
(:func:`~deepsearch.tools.urls.make_guarded_client`); the caller bounds the total
time (connecting, and a server that trickles bytes forever); reading stops at
``max_bytes``, keeping what fits.
"""

from __future__ import annotations

from dataclasses import dataclass

from deepsearch.tools.base import ProviderError
from deepsearch.tools.read.sniff import is_binary_type, parse_content_type
from deepsearch.tools.urls import PUBLIC_ONLY, AddressPolicy, Resolver, make_guarded_client

USER_AGENT = (
    "Mozilla/5.0 (compatible; DeepSearch/0.1; +https://github.com/jina-ai/node-DeepResearch)"
)
ACCEPT = "text/html,application/xhtml+xml,text/plain;q=0.9,application/pdf;q=0.8,*/*;q=0.5"
HEADERS = {"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Language": "en;q=0.9,*;q=0.5"}


@dataclass(frozen=True)
class FetchedBody:
    """A fetched (possibly truncated) body and what the server said about it."""

    body: bytes
    content_type: str
    charset: str | None
    final_url: str


async def fetch_body(
    url: str,
    *,
    timeout: float,
    max_bytes: int,
    allow_private: bool,
    resolver: Resolver | None = None,
    policy: AddressPolicy = PUBLIC_ONLY,
    reader_name: str = "direct",
) -> FetchedBody:
    """GET ``url`` through the guarded client and return at most ``max_bytes`` of its body.

    Args:
        url: An http(s) URL (already checked by the caller or not: the client checks again).
        timeout: Seconds for each connect, read, write and pool wait.
        max_bytes: Bytes to keep at most; a truncated page still has text.
        allow_private: ``True`` turns the SSRF guard off.
        resolver: Name resolution for the guard (tests inject one).
        policy: Which addresses the guard refuses (default: every non-public one).
        reader_name: Names the reader in errors.

    Returns:
        The body, its media type and charset, and the URL after redirects.

    Raises:
        BlockedURLError: When the guard refuses the URL or a redirect hop.
        ProviderError: On HTTP errors (4xx/5xx) and binary media types.
        httpx.HTTPError: On transport failures (the caller maps them).
    """
    client = make_guarded_client(
        allow_private=allow_private,
        timeout=timeout,
        resolver=resolver,
        policy=policy,
        headers=HEADERS,
    )
    async with client, client.stream("GET", url) as response:
        final_url = str(response.url)
        status = response.status_code
        if status >= 400:
            retryable = status in (408, 425, 429) or status >= 500
            raise ProviderError(reader_name, f"{url}: HTTP {status}", retryable=retryable)
        content_type, charset = parse_content_type(response.headers.get("content-type"))
        if is_binary_type(content_type):
            raise ProviderError(reader_name, f"{url}: unsupported content type {content_type!r}")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            chunks.append(chunk[: max_bytes - size])
            size += len(chunk)
            if size >= max_bytes:
                break
    return FetchedBody(b"".join(chunks), content_type, charset, final_url)
