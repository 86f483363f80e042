"""What the search providers share: query handling, configuration, one call, result lists.

:class:`QuerySearch` trims and bounds every query; :class:`HTTPSearch` holds an
endpoint, API key, timeout, retries and an optional shared client, and sends one
request with retries. :func:`collect_results` turns the common "list of result
dicts" shape into :class:`SearchResult`s.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import httpx

from deepsearch.tools.base import SearchResponse, SearchResult
from deepsearch.tools.http import (
    MAX_QUERY_CHARS,
    clamp_results,
    clean_text,
    parse_json,
    provider_client,
    request_with_retries,
)


def prepare_query(query: str, num_results: int) -> tuple[str, int] | None:
    """Trim and bound a query and its result count; None for an empty query."""
    query = query.strip()[:MAX_QUERY_CHARS]
    return (query, clamp_results(num_results)) if query else None


def collect_results(
    items: Iterable[Any],
    limit: int,
    *,
    url_keys: tuple[str, ...] = ("url",),
    snippet_key: str = "content",
    date_key: str = "date",
) -> list[SearchResult]:
    """Keep up to ``limit`` results from result dicts, skipping non-web and repeated URLs.

    Args:
        items: Decoded result entries; entries that are not dicts are skipped.
        limit: Most results kept.
        url_keys: Keys tried in order for the result's URL.
        snippet_key: Key of the result's description.
        date_key: Key of the result's date, if any.

    Returns:
        Results with a title (300 chars), snippet (1000) and date (40) each.
    """
    results: list[SearchResult] = []
    seen: set[str] = set()
    for item in items:
        if len(results) >= limit:
            break
        if not isinstance(item, dict):
            continue
        url = next((item[key] for key in url_keys if item.get(key)), None)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or url in seen:
            continue
        seen.add(url)
        results.append(
            SearchResult(
                url=url,
                title=clean_text(item.get("title"), 300),
                snippet=clean_text(item.get(snippet_key), 1000),
                date=clean_text(item.get(date_key), 40) or None,
            )
        )
    return results


class QuerySearch:
    """Base of search providers: trims and bounds the query, then runs it.

    An empty query answers with no results without asking the provider.
    """

    name: str

    async def search(
        self, query: str, *, num_results: int = 10, language: str | None = None
    ) -> SearchResponse:
        """Return the provider's results for ``query`` (see :meth:`run_query`)."""
        prepared = prepare_query(query, num_results)
        if prepared is None:
            return SearchResponse(results=[])
        query, limit = prepared
        return await self.run_query(query, limit, language)

    async def run_query(self, query: str, limit: int, language: str | None) -> SearchResponse:
        """Run a trimmed, non-empty query for at most ``limit`` results."""
        raise NotImplementedError


class HTTPSearch(QuerySearch):
    """Base of search providers that call one HTTP endpoint (with an API key, if any)."""

    default_url: ClassVar[str]
    default_timeout: ClassVar[float] = 20.0

    def __init__(
        self,
        api_key: str = "",
        *,
        base_url: str | None = None,
        timeout: float | None = None,
        retries: int = 2,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        """Configure the provider.

        Args:
            api_key: The provider's API key (empty for keyless providers).
            base_url: The search endpoint (overridable for tests and proxies).
            timeout: Seconds per attempt; the provider's default when None.
            retries: Extra attempts on transient failures.
            client: A client to reuse; by default one per call.
        """
        self._api_key = api_key
        self._base_url = base_url or self.default_url
        self._timeout = timeout if timeout is not None else self.default_timeout
        self._retries = retries
        self._client = client

    async def _request(self, method: str, **request: Any) -> httpx.Response:
        """Send one request (with retries) to the endpoint and return the response."""
        async with provider_client(self._client, self._timeout) as client:
            return await request_with_retries(
                client,
                method,
                self._base_url,
                provider=self.name,
                retries=self._retries,
                **request,
            )

    async def _call(self, method: str, **request: Any) -> Any:
        """Send one request (with retries) to the endpoint and return its decoded JSON."""
        return parse_json(await self._request(method, **request), self.name)
