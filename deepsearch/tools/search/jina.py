"""Jina Search (``s.jina.ai``): web results with titles, descriptions and token usage."""

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


class JinaSearch:
    """Search the web through Jina Search; reports the tokens it bills."""

    name = "jina"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_URL,
        timeout: float = 30.0,
        retries: int = 2,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        """Configure the provider.

        Args:
            api_key: The ``JINA_API_KEY``.
            base_url: The search endpoint (overridable for tests and proxies).
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
        """Return Jina's results for ``query`` (``language`` maps to ``hl``)."""
        query = query.strip()[:MAX_QUERY_CHARS]
        if not query:
            return SearchResponse(results=[])
        limit = clamp_results(num_results)
        params = {"q": query, "num": str(limit)}
        if language:
            params["hl"] = language
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Accept": "application/json",
            "X-Respond-With": "no-content",
        }
        async with provider_client(self._client, self._timeout) as client:
            response = await request_with_retries(
                client,
                "GET",
                self._base_url,
                provider=self.name,
                retries=self._retries,
                params=params,
                headers=headers,
            )
        return parse_jina(parse_json(response, self.name), limit)
