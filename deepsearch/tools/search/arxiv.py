"""arXiv's export API: papers as an Atom feed, parsed with the standard library.

arXiv asks clients to send one request at a time and space them by about three
seconds; the provider enforces that itself, for every request it sends.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import httpx

from deepsearch.tools.base import ProviderError, SearchResponse, SearchResult
from deepsearch.tools.http import clean_text, limited
from deepsearch.tools.search.provider import HTTPSearch

DEFAULT_URL = "https://export.arxiv.org/api/query"
MIN_INTERVAL = 3.0
"""Seconds between two requests, as arXiv's API terms ask."""

_ATOM = "{http://www.w3.org/2005/Atom}"
_ABS_ID = re.compile(r"arxiv\.org/abs/(?P<id>[^\s?#]+?)(?:v\d+)?$")
_QUERY_NOISE = re.compile(r"[^\w\s\-.]+", re.UNICODE)
_OPERATORS = {"and", "or", "andnot", "not"}


def arxiv_query(query: str, operator: str = "AND") -> str:
    """Turn free text into an arXiv ``search_query`` over all fields.

    Field prefixes and boolean syntax are stripped so user text cannot change
    the query's structure; the words are joined with ``operator``.

    Args:
        query: Free text.
        operator: ``"AND"`` (precise) or ``"OR"`` (broad).

    Returns:
        e.g. ``"all:graph AND all:neural AND all:networks"``.
    """
    words = [
        w
        for w in _QUERY_NOISE.sub(" ", query.replace(":", " ")).split()
        if w.lower() not in _OPERATORS
    ][:12]
    return f" {operator} ".join(f"all:{w}" for w in words)


def parse_arxiv(body: bytes, limit: int) -> SearchResponse:
    """Parse an arXiv Atom feed into a :class:`SearchResponse`.

    Args:
        body: The Atom XML.
        limit: Most results kept.

    Returns:
        One result per entry: title, abstract URL (version-less), summary, date.

    Raises:
        ProviderError: For malformed XML, DTDs (refused), or arXiv's error entries.
    """
    if b"<!DOCTYPE" in body[:2000].upper() or b"<!ENTITY" in body.upper():
        raise ProviderError("arxiv", "refusing XML with a DTD")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ProviderError("arxiv", f"malformed Atom feed ({exc})", retryable=True) from None
    if root.tag != f"{_ATOM}feed":
        raise ProviderError("arxiv", "response is not an Atom feed", retryable=True)
    results: list[SearchResult] = []
    for entry in root.iter(f"{_ATOM}entry"):
        entry_id = (entry.findtext(f"{_ATOM}id") or "").strip()
        title = clean_text(entry.findtext(f"{_ATOM}title"), 300)
        summary = clean_text(entry.findtext(f"{_ATOM}summary"), 1500)
        if "/api/errors" in entry_id or (title == "Error" and "api/errors" in entry_id):
            raise ProviderError("arxiv", f"query error: {summary[:200]}")
        match = _ABS_ID.search(entry_id)
        if not match:
            continue
        published = (entry.findtext(f"{_ATOM}published") or "").strip()[:40] or None
        results.append(
            SearchResult(
                url=f"https://arxiv.org/abs/{match.group('id')}",
                title=title,
                snippet=summary,
                date=published,
            )
        )
        if len(results) >= limit:
            break
    return SearchResponse(results=results)


class ArxivSearch(HTTPSearch):
    """Search arXiv papers (titles, abstracts, authors, ...)."""

    name = "arxiv"
    default_url = DEFAULT_URL
    default_timeout = 30.0

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_URL,
        timeout: float = 30.0,
        retries: int = 2,
        min_interval: float = MIN_INTERVAL,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        """Configure the provider.

        Args:
            base_url: The export API query endpoint.
            timeout: Seconds per attempt.
            retries: Extra attempts on transient failures.
            min_interval: Least seconds between requests (one at a time).
            client: A client to reuse; by default one per call.
        """
        super().__init__(base_url=base_url, timeout=timeout, retries=retries, client=client)
        self._min_interval = min_interval

    async def _fetch(self, search_query: str, limit: int) -> SearchResponse:
        params = {
            "search_query": search_query,
            "start": "0",
            "max_results": str(limit),
            "sortBy": "relevance",
        }
        async with limited(self.name, 1, self._min_interval):
            response = await self._request(
                "GET", params=params, headers={"Accept": "application/atom+xml"}
            )
        return parse_arxiv(response.content, limit)

    async def run_query(self, query: str, limit: int, language: str | None) -> SearchResponse:
        """Return papers matching all words of ``query``, else any (no language filter)."""
        precise = arxiv_query(query, "AND")
        if not precise:
            return SearchResponse(results=[])
        response = await self._fetch(precise, limit)
        broad = arxiv_query(query, "OR")
        if not response.results and broad != precise:
            response = await self._fetch(broad, limit)
        return response
