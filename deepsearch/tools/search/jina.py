"""Jina Search (``s.jina.ai``): web results with titles, descriptions and token usage."""

from __future__ import annotations

from typing import Any

from deepsearch.tools.base import ProviderError, SearchResponse, SearchResult
from deepsearch.tools.http import clean_text
from deepsearch.tools.search.provider import HTTPSearch

DEFAULT_URL = "https://s.jina.ai/"


def parse_jina(data: Any, limit: int) -> SearchResponse:
    """Turn a Jina Search JSON answer into a :class:`SearchResponse`.

    Args:
        data: The decoded body ``{"code": 200, "data": [...], "meta": {"usage": ...}}``.
        limit: Most results kept.

    Returns:
        The results and the tokens Jina billed.

    Raises:
        ProviderError: When the body reports an error or has no result list.
    """
    if not isinstance(data, dict):
        raise ProviderError("jina", "unexpected response shape", retryable=True)
    code = data.get("code")
    if isinstance(code, int) and code != 200:
        message = clean_text(data.get("readableMessage") or data.get("message"), 200)
        raise ProviderError("jina", f"error {code}: {message}", retryable=code >= 500)
    items = data.get("data")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise ProviderError("jina", "response has no result list", retryable=True)
    results: list[SearchResult] = []
    item_tokens = 0
    for item in items:
        if not isinstance(item, dict):
            continue
        usage = item.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("tokens"), int):
            item_tokens += usage["tokens"]
        url = item.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            continue
        if len(results) < limit:
            results.append(
                SearchResult(
                    url=url,
                    title=clean_text(item.get("title"), 300),
                    snippet=clean_text(item.get("description") or item.get("content"), 1000),
                    date=clean_text(item.get("date"), 40) or None,
                )
            )
    meta = data.get("meta")
    usage = meta.get("usage") if isinstance(meta, dict) else None
    tokens = usage.get("tokens") if isinstance(usage, dict) else None
    return SearchResponse(
        results=results, tokens=tokens if isinstance(tokens, int) else item_tokens
    )


class JinaSearch(HTTPSearch):
    """Search the web through Jina Search; reports the tokens it bills."""

    name = "jina"
    bills = True  # tokens per call, reported in the reply
    default_url = DEFAULT_URL
    default_timeout = 30.0

    async def run_query(self, query: str, limit: int, language: str | None) -> SearchResponse:
        """Return Jina's results for ``query`` (``language`` maps to ``hl``)."""
        params = {"q": query, "num": str(limit)}
        if language:
            params["hl"] = language
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Accept": "application/json",
            "X-Respond-With": "no-content",
        }
        data = await self._call("GET", params=params, headers=headers)
        return parse_jina(data, limit)
