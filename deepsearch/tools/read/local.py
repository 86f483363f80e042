"""The ``local`` reader: documents of the local corpus, by their ``corpus://`` URL."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from deepsearch.settings import Settings, get_settings
from deepsearch.tools.base import Page, ProviderError
from deepsearch.tools.corpus import read_document, resolve_corpus_db


class LocalCorpusReader:
    """Read documents from the corpus index that ``DEEPSEARCH_CORPUS`` names.

    Any URL the index holds can be read: ``corpus://...`` URLs and the own URLs
    of indexed JSONL/HTML documents. A passage URL (``...#3``) returns the whole
    document (a bounded window around that passage for very long documents).
    """

    name = "local"

    def __init__(self, settings: Settings | None = None, *, db_path: str | Path | None = None):
        """Open the index at ``db_path``, else the one ``settings.corpus`` points to.

        Raises:
            ConfigurationError: When no corpus is configured or it is not indexed yet,
                with the command that fixes it.
        """
        if db_path is None:
            db_path = resolve_corpus_db((settings or get_settings()).corpus)
        self.db_path = Path(db_path)

    async def read(self, url: str) -> Page:
        """Return the document behind ``url`` as a page of plain text.

        Raises:
            ProviderError: When the corpus does not hold the URL or the index is unusable.
        """
        try:
            doc = await asyncio.to_thread(read_document, self.db_path, url)
        except (OSError, sqlite3.Error) as exc:
            raise ProviderError(self.name, f"corpus index unusable: {exc}") from None
        if doc is None:
            raise ProviderError(self.name, f"{url!r} is not in the local corpus")
        return Page(
            url=url,
            text="\n\n".join(doc.passages),
            title=doc.title,
            date=doc.date,
            final_url=doc.url,
            content_type="text/plain",
        )
