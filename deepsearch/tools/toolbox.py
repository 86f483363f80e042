"""The run's connection to the outside world: the LLM and the providers.

A :class:`Toolbox` is built once per graph. Explicit provider objects (for
embedding and tests) win; otherwise providers are made from settings, by name,
the first time a run asks for them, so nothing needs a key at import time. Every
search provider and reader is wrapped so that what it fetches is screened for
orders to the assistant before any node sees it (:mod:`deepsearch.tools.screening`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deepsearch.settings import Settings, get_settings
from deepsearch.tools.base import Reader, Relevance, SearchProvider
from deepsearch.tools.llm import LLM, make_llm
from deepsearch.tools.screening import screened_reader, screened_search
from deepsearch.tools.tracing import traced_reader, traced_search


@dataclass
class Toolbox:
    """LLM, search, reader and relevance scorer for the nodes of one graph.

    ``screen_content`` and ``check_answers`` exist for ablation benchmarks that measure
    what the prompt-injection defences stop; a product never turns them off.
    """

    settings: Settings = field(default_factory=get_settings)
    llm_override: LLM | None = None
    search_override: SearchProvider | None = None
    reader_override: Reader | None = None
    relevance_override: Relevance | None = None
    screen_content: bool = True
    check_answers: bool = True
    _search_cache: dict[str, SearchProvider] = field(default_factory=dict)
    _llm: LLM | None = None
    _readers: dict[str, Reader] = field(default_factory=dict)
    _relevance: Relevance | None = None

    @property
    def llm(self) -> LLM:
        """Return the LLM (built from settings on first use)."""
        if self.llm_override is not None:
            return self.llm_override
        if self._llm is None:
            self._llm = make_llm(self.settings)
        return self._llm

    def search(self, name: str | None = None) -> SearchProvider:
        """Return the search provider for this run: explicit, per-run name, or the default."""
        explicit = self.search_override is not None and not name
        key = "" if explicit else (name or self.settings.effective_search_provider())
        if key not in self._search_cache:
            if self.search_override is not None and explicit:
                provider = self.search_override
            else:
                from deepsearch.tools.search import make_search_provider

                provider = make_search_provider(key, self.settings)
            traced = traced_search(provider)
            self._search_cache[key] = screened_search(traced) if self.screen_content else traced
        return self._search_cache[key]

    def _reader_named(self, name: str) -> Reader:
        """Return the (traced) reader called ``name``, the explicit one under ``""``."""
        if name not in self._readers:
            if self.reader_override is not None and not name:
                reader = self.reader_override
            else:
                from deepsearch.tools.read import make_reader

                reader = make_reader(name, self.settings)
            traced = traced_reader(reader)
            self._readers[name] = screened_reader(traced) if self.screen_content else traced
        return self._readers[name]

    @property
    def reader(self) -> Reader:
        """Return the reader (explicit, else from settings)."""
        if self.reader_override is not None:
            return self._reader_named("")
        return self._reader_named(self.settings.effective_reader())

    def reader_for(self, search_provider: str | None) -> Reader:
        """Return the reader that matches a per-run search provider (the corpus reads itself)."""
        provider = search_provider or (
            None if self.search_override else self.settings.effective_search_provider()
        )
        if provider == "local" and self.reader_override is None:
            return self._reader_named("local")
        return self.reader

    @property
    def relevance(self) -> Relevance:
        """Return the relevance scorer (reranker, embeddings or lexical)."""
        if self.relevance_override is not None:
            return self.relevance_override
        if self._relevance is None:
            from deepsearch.tools.embeddings import make_relevance

            self._relevance = make_relevance(self.settings)
        return self._relevance
