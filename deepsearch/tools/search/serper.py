"""Serper (``google.serper.dev``): Google results as JSON."""

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

DEFAULT_URL = "https://google.serper.dev/search"


def parse_serper(data: Any, limit: int) -> SearchResponse:
    """Turn a Serper JSON answer into a :class:`SearchResponse`.

    The answer box, when present, becomes the first result.

    Args:
        data: The decoded body ``{"organic": [{"title", "link", "snippet", "date"?}]}``.
        limit: Most results kept.

    Returns:
        The results (Serper bills credits, not tokens: 0).

    Raises:
        ProviderError: When the body is an error or not a Serper answer.
    """
    if not isinstance(data, dict):
        raise ProviderError("serper", "unexpected response shape", retryable=True)
    if "organic" not in data and isinstance(data.get("message"), str):
        raise ProviderError("serper", f"error: {clean_text(data['message'], 200)}")
    items = data.get("organic") or []
    if not isinstance(items, list):
        raise ProviderError("serper", "response has no result list", retryable=True)
    box = data.get("answerBox")
    if isinstance(box, dict) and isinstance(box.get("link"), str):
        answer = box.get("answer") or box.get("snippet")
        items = [{"title": box.get("title"), "link": box["link"], "snippet": answer}, *items]
    results: list[SearchResult] = []
    seen: set[str] = set()
    for item in items:
        if len(results) >= limit:
            break
        if not isinstance(item, dict):
            continue
        url = item.get("link")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or url in seen:
            continue
        seen.add(url)
        results.append(
            SearchResult(
                url=url,
                title=clean_text(item.get("title"), 300),
                snippet=clean_text(item.get("snippet"), 1000),
                date=clean_text(item.get("date"), 40) or None,
            )
        )
    return SearchResponse(results=results)


class SerperSearch:
    """Search Google through Serper."""

    name = "serper"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_URL,
        timeout: float = 20.0,
        retries: int = 2,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        """Configure the provider.

        Args:
            api_key: The ``SERPER_API_KEY`` (sent as ``X-API-KEY``).
            base_url: The search endpoint.
            timeout: Seconds per attempt.
            retries: Extra attempts on transient failures.
            client: A client to reuse; by default one per call.
        """
        self._api_key = api_key
        self._base_url = base_url
        self._timeout = timeout
        self._retries = retries
        self._client = client

    async def search(
        self, query: str, *, num_results: int = 10, language: str | None = None
    ) -> SearchResponse:
        """Return Google's organic results via Serper (``language`` maps to ``hl``)."""
        query = query.strip()[:MAX_QUERY_CHARS]
        if not query:
            return SearchResponse(results=[])
        limit = clamp_results(num_results)
        body: dict[str, Any] = {"q": query, "num": limit}
        if language:
            body["hl"] = language.strip().lower()
        headers = {"X-API-KEY": self._api_key, "Content-Type": "application/json"}
        async with provider_client(self._client, self._timeout) as client:
            response = await request_with_retries(
                client,
                "POST",
                self._base_url,
                provider=self.name,
                retries=self._retries,
                json=body,
                headers=headers,
            )
        return parse_serper(parse_json(response, self.name), limit)
