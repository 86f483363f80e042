"""OpenAI-compatible embeddings client (``POST {base}/embeddings``).

Works with OpenAI and any server that speaks its format (vLLM, Ollama,
llama.cpp, LiteLLM, ...). The request and reply helpers live in
:mod:`deepsearch.tools.embeddings.remote`, shared with the Jina client.
"""

from __future__ import annotations

from typing import Any

import httpx

from deepsearch.settings import Settings
from deepsearch.tools.embeddings.remote import (
    MAX_BATCH,
    MAX_INPUT_CHARS,
    BatchedEmbeddings,
    batched,
    bound_text,
    json_headers,
    parse_embeddings,
    post_json,
)

DEFAULT_BASE_URL = "https://api.openai.com/v1"

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_BATCH",
    "MAX_INPUT_CHARS",
    "OpenAIEmbeddings",
    "batched",
    "bound_text",
    "parse_embeddings",
    "post_json",
]


class OpenAIEmbeddings(BatchedEmbeddings):
    """An :class:`~deepsearch.tools.base.Embedder` for any OpenAI-compatible endpoint."""

    name = "openai"

    def __init__(
        self,
        settings: Settings,
        *,
        client: httpx.AsyncClient | None = None,
        retries: int = 2,
        backoff_base: float = 0.5,
    ) -> None:
        """Use ``DEEPSEARCH_EMBEDDINGS_BASE_URL`` (else ``OPENAI_BASE_URL``) and the model."""
        base = settings.embeddings_base_url or settings.openai_base_url or DEFAULT_BASE_URL
        key = settings.openai_api_key
        super().__init__(
            base.rstrip("/") + "/embeddings",
            json_headers(key.get_secret_value() if key is not None else None),
            settings.fetch_timeout,
            client=client,
            retries=retries,
            backoff_base=backoff_base,
        )
        self.model = settings.embeddings_model

    def request_body(self, batch: list[str]) -> dict[str, Any]:
        """Ask for float vectors of ``batch`` from the configured model."""
        return {"model": self.model, "input": batch, "encoding_format": "float"}
