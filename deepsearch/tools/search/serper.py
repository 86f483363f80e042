"""Serper (``google.serper.dev``): Google results as JSON."""

from __future__ import annotations

from typing import Any

from deepsearch.tools.base import ProviderError, SearchResponse
from deepsearch.tools.http import clean_text
from deepsearch.tools.search.provider import HTTPSearch, collect_results

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
    results = collect_results(items, limit, url_keys=("link",), snippet_key="snippet")
    return SearchResponse(results=results)


class SerperSearch(HTTPSearch):
    """Search Google through Serper."""

    name = "serper"
    default_url = DEFAULT_URL

    async def run_query(self, query: str, limit: int, language: str | None) -> SearchResponse:
        """Return Google's organic results via Serper (``language`` maps to ``hl``)."""
        body: dict[str, Any] = {"q": query, "num": limit}
        if language:
            body["hl"] = language.strip().lower()
        headers = {"X-API-KEY": self._api_key, "Content-Type": "application/json"}
        data = await self._call("POST", json=body, headers=headers)
        return parse_serper(data, limit)
