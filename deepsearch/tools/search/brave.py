"""Brave Search API (``/res/v1/web/search``): independent web index."""

from __future__ import annotations

from typing import Any

from deepsearch.tools.base import ProviderError, SearchResponse, SearchResult
from deepsearch.tools.http import clean_text
from deepsearch.tools.search.provider import HTTPSearch

DEFAULT_URL = "https://api.search.brave.com/res/v1/web/search"
_LANGUAGE_CODES = {
    "ja": "jp",
    "zh": "zh-hans",
    "zh-cn": "zh-hans",
    "zh-tw": "zh-hant",
    "pt": "pt-pt",
}


def brave_language(language: str) -> str:
    """Map an ISO 639-1 code to Brave's ``search_lang`` spelling (``ja`` -> ``jp``)."""
    code = language.strip().lower().replace("_", "-")
    return _LANGUAGE_CODES.get(code, code)


def parse_brave(data: Any, limit: int) -> SearchResponse:
    """Turn a Brave web search JSON answer into a :class:`SearchResponse`.

    Args:
        data: The decoded body ``{"web": {"results": [...]}}``.
        limit: Most results kept.

    Returns:
        The results (Brave bills per request, so 0 tokens).

    Raises:
        ProviderError: When the body is not a Brave answer.
    """
    if not isinstance(data, dict):
        raise ProviderError("brave", "unexpected response shape", retryable=True)
    if data.get("type") == "ErrorResponse":
        error = data.get("error")
        detail = clean_text(error.get("detail") if isinstance(error, dict) else error, 200)
        raise ProviderError("brave", f"error: {detail}")
    web = data.get("web")
    items = web.get("results") if isinstance(web, dict) else []
    if not isinstance(items, list):
        raise ProviderError("brave", "response has no result list", retryable=True)
    results: list[SearchResult] = []
    for item in items:
        if len(results) >= limit:
            break
        if not isinstance(item, dict):
            continue
        url = item.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            continue
        snippet = clean_text(item.get("description"), 1000)
        extra = item.get("extra_snippets")
        if isinstance(extra, list) and len(snippet) < 300:
            snippet = " ".join([snippet, *(clean_text(x, 300) for x in extra[:2])]).strip()
        date = clean_text(item.get("page_age"), 40) or clean_text(item.get("age"), 40)
        results.append(
            SearchResult(
                url=url,
                title=clean_text(item.get("title"), 300),
                snippet=snippet,
                date=date or None,
            )
        )
    return SearchResponse(results=results)


class BraveSearch(HTTPSearch):
    """Search the web through the Brave Search API."""

    name = "brave"
    default_url = DEFAULT_URL

    async def run_query(self, query: str, limit: int, language: str | None) -> SearchResponse:
        """Return Brave's results (``language`` maps to ``search_lang``)."""
        params = {"q": query, "count": str(limit)}
        if language:
            params["search_lang"] = brave_language(language)
        headers = {
            "Accept": "application/json",
            "Accept-Encoding": "gzip",
            "X-Subscription-Token": self._api_key,
        }
        data = await self._call("GET", params=params, headers=headers)
        return parse_brave(data, limit)
