"""Relevance scorers: Jina reranker, OpenAI-compatible embeddings, or local lexical.

:func:`make_relevance` picks one from settings. Remote scorers are wrapped in
:class:`FallbackRelevance`, so a provider failure degrades to lexical scoring
instead of crashing a run.
"""

from __future__ import annotations

import logging
import math

from deepsearch.settings import Settings
from deepsearch.tools.base import Embedder, ProviderError, Relevance, bills_tokens
from deepsearch.tools.embeddings.local import LexicalRelevance, lexical_scores, similarity

__all__ = [
    "EmbeddingRelevance",
    "FallbackRelevance",
    "LexicalRelevance",
    "cosine",
    "lexical_scores",
    "make_relevance",
    "similarity",
]

log = logging.getLogger(__name__)


class FallbackRelevance:
    """Score with ``primary``; on a provider failure, score lexically instead.

    After ``max_failures`` consecutive failures the primary is skipped for the
    rest of the process, so a dead provider does not slow every step.
    """

    def __init__(
        self, primary: Relevance, fallback: Relevance | None = None, *, max_failures: int = 3
    ) -> None:
        """Wrap ``primary`` with ``fallback`` (lexical by default)."""
        self.primary = primary
        self.bills = bills_tokens(primary)
        self.fallback: Relevance = fallback or LexicalRelevance()
        self.name = primary.name
        self.max_failures = max_failures
        self.failures = 0

    async def score(self, query: str, documents: list[str]) -> tuple[list[float], int]:
        """Return the primary's scores, or the fallback's when the primary fails.

        Args:
            query: The question or query.
            documents: The texts to score.

        Returns:
            One score in [0, 1] per document, and the provider tokens spent.
        """
        if not documents:
            return [], 0
        if self.failures < self.max_failures:
            try:
                scores, tokens = await self.primary.score(query, documents)
                if len(scores) == len(documents):
                    self.failures = 0
                    return [min(max(float(s), 0.0), 1.0) for s in scores], tokens
                log.warning(
                    "relevance %s returned %d scores for %d docs",
                    self.name,
                    len(scores),
                    len(documents),
                )
            except ProviderError as exc:
                self.failures += 1
                log.warning("relevance %s failed, scoring lexically: %s", self.name, exc)
        return await self.fallback.score(query, documents)


class EmbeddingRelevance:
    """Relevance as cosine similarity between embeddings of the query and each document."""

    def __init__(self, embedder: Embedder) -> None:
        """Score with vectors from ``embedder``."""
        self.embedder = embedder
        self.name = embedder.name
        self.bills = bills_tokens(embedder)

    async def score(self, query: str, documents: list[str]) -> tuple[list[float], int]:
        """Embed the query and documents together and return their cosine similarities.

        Args:
            query: The question or query.
            documents: The texts to score.

        Returns:
            One score in [0, 1] per document (negative cosines clip to 0), and tokens spent.
        """
        if not documents:
            return [], 0
        result = await self.embedder.embed([query, *documents])
        if len(result.vectors) != len(documents) + 1:
            raise ProviderError(self.name, "embeddings count does not match inputs")
        q = result.vectors[0]
        return [max(cosine(q, v), 0.0) for v in result.vectors[1:]], result.tokens


def cosine(a: list[float], b: list[float]) -> float:
    """Return the cosine similarity of two vectors (0.0 when either is empty or zero).

    Args:
        a: A vector.
        b: Another vector of the same length.

    Returns:
        The cosine in [-1, 1].
    """
    if not a or not b or len(a) != len(b):
        return 0.0
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    if na == 0.0 or nb == 0.0:
        return 0.0
    return dot / (na * nb)


def make_relevance(settings: Settings) -> Relevance:
    """Build the relevance scorer the settings ask for.

    ``DEEPSEARCH_EMBEDDINGS`` wins when set; otherwise the Jina reranker is used
    when ``JINA_API_KEY`` exists, else the local lexical scorer. Remote scorers
    fall back to lexical scoring on failure.

    Args:
        settings: Process settings.

    Returns:
        A :class:`~deepsearch.tools.base.Relevance` implementation.
    """
    kind = settings.effective_embeddings()
    if kind == "jina" and settings.jina_api_key is not None:
        from deepsearch.tools.embeddings.jina import JinaReranker

        return FallbackRelevance(JinaReranker(settings))
    if kind == "openai":
        from deepsearch.tools.embeddings.openai import OpenAIEmbeddings

        return FallbackRelevance(EmbeddingRelevance(OpenAIEmbeddings(settings)))
    if kind == "jina":
        log.warning("DEEPSEARCH_EMBEDDINGS=jina but JINA_API_KEY is not set: scoring lexically")
    return LexicalRelevance()
