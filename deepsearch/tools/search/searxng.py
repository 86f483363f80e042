"""SearXNG: a self-hosted metasearch engine's JSON API (``GET /search?format=json``)."""

from __future__ import annotations

from typing import Any

import httpx

from deepsearch.tools.base import ProviderError, SearchResponse
from deepsearch.tools.search.provider import HTTPSearch, collect_results


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
    results = collect_results(data.get("results", []), limit, date_key="publishedDate")
    return SearchResponse(results=results)


class SearxngSearch(HTTPSearch):
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
        search_url = base if base.endswith("/search") else f"{base}/search"
        super().__init__(base_url=search_url, timeout=timeout, retries=retries, client=client)

    async def run_query(self, query: str, limit: int, language: str | None) -> SearchResponse:
        """Return the instance's results (``language`` maps to ``language``)."""
        params = {"q": query, "format": "json", "language": language or "all"}
        try:
            data = await self._call("GET", params=params, headers={"Accept": "application/json"})
        except ProviderError as exc:
            if "HTTP 403" in str(exc):
                raise ProviderError(
                    self.name,
                    "HTTP 403: enable the JSON format (search.formats: [html, json]) "
                    "in the instance's settings.yml",
                ) from None
            raise
        return parse_searxng(data, limit)
