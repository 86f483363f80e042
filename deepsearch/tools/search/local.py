"""The ``local`` search provider: BM25 over the embedded corpus index (no network)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from deepsearch.tools.base import ProviderError, SearchResponse, SearchResult
from deepsearch.tools.corpus import search_corpus
from deepsearch.tools.search.provider import QuerySearch


class LocalSearch(QuerySearch):
    """Search the local corpus index built by ``deepsearch index``."""

    name = "local"

    def __init__(self, db_path: str | Path) -> None:
        """Use the index at ``db_path`` (see :func:`deepsearch.tools.corpus.resolve_corpus_db`)."""
        self.db_path = Path(db_path)

    async def run_query(self, query: str, limit: int, language: str | None) -> SearchResponse:
        """Return the best passages, one per document (the corpus has no language filter)."""
        try:
            hits = await asyncio.to_thread(search_corpus, self.db_path, query, limit * 3)
        except (OSError, sqlite3.Error) as exc:
            raise ProviderError(self.name, f"corpus index unusable: {exc}") from None
        results: list[SearchResult] = []
        seen: set[str] = set()
        for hit in hits:
            if hit.doc_url in seen:
                continue
            seen.add(hit.doc_url)
            results.append(
                SearchResult(url=hit.url, title=hit.title, snippet=hit.text[:1000], date=hit.date)
            )
            if len(results) >= limit:
                break
        return SearchResponse(results=results)
