"""Jina AI embeddings and reranker clients (``api.jina.ai`` wire format).

Embeddings: ``POST {"model","input":[...],"task"}`` ->
``{"data":[{"index","embedding"}],"usage":{"total_tokens"}}``.
Reranker: ``POST {"model","query","documents","top_n"}`` ->
``{"results":[{"index","relevance_score"}],"usage":{"total_tokens"}}``.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from deepsearch.settings import Settings
from deepsearch.tools.base import ProviderError
from deepsearch.tools.embeddings.remote import (
    MAX_INPUT_CHARS,
    BatchedEmbeddings,
    JSONEndpoint,
    bound_text,
)

EMBEDDINGS_MODEL = "jina-embeddings-v3"
RERANK_MODEL = "jina-reranker-v2-base-multilingual"
RERANK_MAX_DOCS = 256


class JinaEndpoint(JSONEndpoint):
    """Base of the Jina clients: the key is ``JINA_API_KEY``."""

    def api_key(self, settings: Settings) -> SecretStr | None:
        """``JINA_API_KEY``, when set."""
        return settings.jina_api_key


class JinaEmbeddings(JinaEndpoint, BatchedEmbeddings):
    """An :class:`~deepsearch.tools.base.Embedder` backed by Jina's embeddings API."""

    name = "jina"
    bills = True  # tokens per call, reported in the reply

    def __init__(
        self,
        settings: Settings,
        *,
        task: str = "text-matching",
        **options: Any,
    ) -> None:
        """Embed for ``task``; ``options`` are :class:`JSONEndpoint`'s (client, retries, ...)."""
        super().__init__(settings, **options)
        self.task = task

    def endpoint(self, settings: Settings) -> str:
        """``JINA_EMBEDDINGS_URL``."""
        return settings.jina_embeddings_url

    def request_body(self, batch: list[str]) -> dict[str, Any]:
        """Ask for ``batch``'s vectors for the configured task."""
        return {"model": EMBEDDINGS_MODEL, "input": batch, "task": self.task}


class JinaReranker(JinaEndpoint):
    """A :class:`~deepsearch.tools.base.Relevance` scorer backed by Jina's reranker."""

    name = "jina-reranker"
    bills = True  # tokens per call, reported in the reply

    def endpoint(self, settings: Settings) -> str:
        """``JINA_RERANK_URL``."""
        return settings.jina_rerank_url

    async def score(self, query: str, documents: list[str]) -> tuple[list[float], int]:
        """Rerank ``documents`` against ``query``.

        Args:
            query: The question or query.
            documents: The texts to score (each cut to a bounded length).

        Returns:
            One relevance score in [0, 1] per document, and the tokens Jina reports.

        Raises:
            ProviderError: On HTTP errors, rate limits after retries, or a malformed reply.
        """
        scores = [0.0] * len(documents)
        tokens = 0
        query = bound_text(query, 2000)
        for offset in range(0, len(documents), RERANK_MAX_DOCS):
            batch = [
                bound_text(d, MAX_INPUT_CHARS) for d in documents[offset : offset + RERANK_MAX_DOCS]
            ]
            body = {
                "model": RERANK_MODEL,
                "query": query,
                "documents": batch,
                "top_n": len(batch),
                "return_documents": False,
            }
            data = await self._post(body)
            batch_scores, batch_tokens = _parse_rerank(data, len(batch), self.name)
            scores[offset : offset + len(batch)] = batch_scores
            tokens += batch_tokens
        return scores, tokens


def _parse_rerank(data: Any, count: int, provider: str) -> tuple[list[float], int]:
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise ProviderError(provider, "malformed rerank reply: no results list")
    scores = [0.0] * count
    for item in data["results"]:
        try:
            index = int(item["index"])
            value = float(item["relevance_score"])
        except (KeyError, TypeError, ValueError):
            raise ProviderError(provider, "malformed rerank result") from None
        if 0 <= index < count:
            scores[index] = min(max(value, 0.0), 1.0)
    usage = data.get("usage")
    return scores, _int(usage.get("total_tokens") if isinstance(usage, dict) else 0)


def _int(value: Any) -> int:
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return 0
