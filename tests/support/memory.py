"""In-process search and reader over a dict of test pages (for graph-level tests)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from deepsearch.tools.base import Page, ProviderError, SearchResponse, SearchResult
from tests.support.testweb import STOP, WebPage

_WORD = re.compile(r"\w+")


@dataclass
class MemorySearch:
    """Keyword search over pages keyed by URL."""

    pages: dict[str, WebPage]
    name: str = "memory"
    queries: list[str] = field(default_factory=list)
    fail: bool = False

    async def search(
        self, query: str, *, num_results: int = 10, language: str | None = None
    ) -> SearchResponse:
        """Return pages sharing words with the query, most overlap first."""
        self.queries.append(query)
        if self.fail:
            raise ProviderError(self.name, "search backend down", retryable=True)
        terms = {w for w in _WORD.findall(query.lower()) if w not in STOP}
        scored = []
        for url, page in self.pages.items():
            overlap = len(terms & set(_WORD.findall(page.text().lower())))
            if overlap:
                scored.append((overlap, url, page))
        scored.sort(key=lambda t: -t[0])
        results = [
            SearchResult(url=url, title=p.title, snippet=p.paragraphs[0][:200], date=p.date)
            for _, url, p in scored[:num_results]
        ]
        return SearchResponse(results=results, tokens=0)


@dataclass
class MemoryReader:
    """Reads pages from the same dict; unknown URLs fail like a 404."""

    pages: dict[str, WebPage]
    name: str = "memory"
    reads: list[str] = field(default_factory=list)

    async def read(self, url: str) -> Page:
        """Return the page's text."""
        self.reads.append(url)
        page = self.pages.get(url)
        if page is None:
            raise ProviderError(self.name, f"404 for {url}")
        return Page(
            url=url,
            text="\n\n".join(page.paragraphs),
            title=page.title,
            date=page.date,
            links=page.links,
        )
