"""SearXNG: a self-hosted metasearch engine's JSON API (``GET /search?format=json``)."""

from __future__ import annotations

from typing import Any

import httpx

from deepsearch.tools.base import ProviderError, SearchResponse, SearchResult
from deepsearch.tools.http import (
    MAX_QUERY_CHARS,
    clamp_results,
    clean_text,
    parse_json,
    provider_client,
    request_with_retries,
)


def parse_searxng(data: Any, limit: int) -> SearchResponse:
    """Turn a SearXNG JSON answer into a :class:`SearchResponse`.

    Args:
        data: The decoded body ``{"results": [{"url", "title", "content", "publishedDate"?}]}``.
        limit: Most results kept.

    Returns:
        The results (a self-hosted engine costs 0 tokens).

    Raises:
        ProviderError: When the body is not a SearXNG answer.
    """
    if not isinstance(data, dict) or not isinstance(data.get("results", []), list):
        raise ProviderError("searxng", "unexpected response shape", retryable=True)
    results: list[SearchResult] = []
    seen: set[str] = set()
    for item in data.get("results", []):
        if len(results) >= limit:
            break
        if not isinstance(item, dict):
            continue
        url = item.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or url in seen:
            continue
        seen.add(url)
        results.append(
            SearchResult(
                url=url,
                title=clean_text(item.get("title"), 300),
                snippet=clean_text(item.get("content"), 1000),
                date=clean_text(item.get("publishedDate"), 40) or None,
            )
        )
    return SearchResponse(results=results)


class SearxngSearch:
    """Search through a SearXNG instance (its JSON format must be enabled)."""

    name = "searxng"

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 20.0,
        retries: int = 2,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        """Configure the provider.

        Args:
            base_url: The instance's base URL (``SEARXNG_URL``); ``/search`` is appended.
            timeout: Seconds per attempt.
            retries: Extra attempts on transient failures.
            client: A client to reuse; by default one per call.
        """
        base = base_url.rstrip("/")
        self._url = base if base.endswith("/search") else f"{base}/search"
        self._timeout = timeout
        self._retries = retries
        self._client = client

    async def search(
        self, query: str, *, num_results: int = 10, language: str | None = None
    ) -> SearchResponse:
        """Return the instance's results (``language`` maps to ``language``)."""
        query = query.strip()[:MAX_QUERY_CHARS]
        if not query:
            return SearchResponse(results=[])
        params = {"q": query, "format": "json", "language": language or "all"}
        async with provider_client(self._client, self._timeout) as client:
            try:
                response = await request_with_retries(
                    client,
                    "GET",
                    self._url,
                    provider=self.name,
                    retries=self._retries,
                    params=params,
                    headers={"Accept": "application/json"},
                )
            except ProviderError as exc:
                if "HTTP 403" in str(exc):
                    raise ProviderError(
                        self.name,
                        "HTTP 403: enable the JSON format (search.formats: [html, json]) "
                        "in the instance's settings.yml",
                    ) from None
                raise
        return parse_searxng(parse_json(response, self.name), clamp_results(num_results))
