"""OpenAI-compatible embeddings client (``POST {base}/embeddings``).

Works with OpenAI and any server that speaks its format (vLLM, Ollama,
llama.cpp, LiteLLM, ...). The request and reply helpers live in
:mod:`deepsearch.tools.embeddings.remote`, shared with the Jina client.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from deepsearch.settings import Settings
from deepsearch.tools.embeddings.remote import (
    MAX_BATCH,
    MAX_INPUT_CHARS,
    BatchedEmbeddings,
    batched,
    bound_text,
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
    bills = True  # tokens per call, reported in the reply

    def endpoint(self, settings: Settings) -> str:
        """``DEEPSEARCH_EMBEDDINGS_BASE_URL`` (else ``OPENAI_BASE_URL``) + ``/embeddings``."""
        base = settings.embeddings_base_url or settings.openai_base_url or DEFAULT_BASE_URL
        return base.rstrip("/") + "/embeddings"

    def api_key(self, settings: Settings) -> SecretStr | None:
        """``OPENAI_API_KEY``, when set."""
        return settings.openai_api_key

    def request_body(self, batch: list[str]) -> dict[str, Any]:
        """Ask for float vectors of ``batch`` from the configured model."""
        return {"model": self.settings.embeddings_model, "input": batch, "encoding_format": "float"}
