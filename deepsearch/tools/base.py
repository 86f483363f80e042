"""The protocols every provider implements, and the records they exchange.

Search, read, embed and rerank are small async protocols so that providers can be
swapped per run, and tests can run against real local servers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class ProviderError(Exception):
    """A provider failed; the run degrades instead of failing.

    ``retryable`` says whether another try (or another provider) may succeed.
    """

    def __init__(self, provider: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.retryable = retryable


class BlockedURLError(ProviderError):
    """The SSRF guard refused a URL (private address, bad scheme, ...)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__("url-guard", f"blocked {url!r}: {reason}")
        self.url = url
        self.reason = reason


@dataclass
class SearchResult:
    """One search hit: a candidate URL with the evidence the provider gave for it."""

    url: str
    title: str = ""
    snippet: str = ""
    date: str | None = None


@dataclass
class SearchResponse:
    """What one query returned, and what it cost in provider tokens (0 when free)."""

    results: list[SearchResult]
    tokens: int = 0
    instructions_removed: int = 0  # sentences screened out for giving orders to an AI
    demands: list[str] = field(default_factory=list)  # replies those sentences demanded


@dataclass
class Page:
    """A page's extracted text and metadata, as read by a reader."""

    url: str
    text: str
    title: str = ""
    date: str | None = None
    final_url: str | None = None
    links: list[str] = field(default_factory=list)
    content_type: str = "text/html"
    tokens: int = 0
    link_text: dict[str, str] = field(default_factory=dict)  # anchor text of links, where known
    instructions_removed: int = 0  # sentences screened out for giving orders to an AI
    demands: list[str] = field(default_factory=list)  # replies those sentences demanded


@dataclass
class Embeddings:
    """Vectors for a batch of texts, and what they cost in provider tokens."""

    vectors: list[list[float]]
    tokens: int = 0


def bills_tokens(provider: object) -> bool:
    """Tell whether a provider bills tokens per call (a ``bills`` attribute, False if absent).

    The budget prices such calls before making them (Jina Search and Reader do; free
    providers and wrappers around them do not).
    """
    return bool(getattr(provider, "bills", False))


@runtime_checkable
class SearchProvider(Protocol):
    """Runs one web (or corpus) query."""

    name: str

    async def search(
        self, query: str, *, num_results: int = 10, language: str | None = None
    ) -> SearchResponse:
        """Return the results for ``query``; raise :class:`ProviderError` on failure."""
        ...


@runtime_checkable
class Reader(Protocol):
    """Turns a URL into text."""

    name: str

    async def read(self, url: str) -> Page:
        """Fetch and extract ``url``; raise :class:`ProviderError` on failure."""
        ...


@runtime_checkable
class Embedder(Protocol):
    """Embeds texts into vectors."""

    name: str

    async def embed(self, texts: list[str]) -> Embeddings:
        """Return one vector per text."""
        ...


@runtime_checkable
class Relevance(Protocol):
    """Scores documents against a query (a reranker, embeddings, or lexical)."""

    name: str

    async def score(self, query: str, documents: list[str]) -> tuple[list[float], int]:
        """Return one relevance score in [0, 1] per document, and the provider tokens spent."""
        ...
