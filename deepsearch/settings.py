"""Process-wide settings read from the environment and `.env`.

Settings say *which* providers and endpoints exist; per-run choices live in
:mod:`deepsearch.context`. Nothing here fails at import time: a missing key is
reported when a run needs it (see :func:`Settings.require_llm`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal, get_args

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SearchProviderName = Literal["jina", "brave", "serper", "duckduckgo", "searxng", "arxiv", "local"]
SEARCH_PROVIDERS: tuple[str, ...] = get_args(SearchProviderName)
ReaderName = Literal["jina", "direct"]
EmbeddingsName = Literal["jina", "openai", "local"]
StructuredMethod = Literal["auto", "json_schema", "function_calling", "json_mode", "prompt"]


class ConfigurationError(RuntimeError):
    """A run needs something that is not configured; the message says how to fix it."""


class Settings(BaseSettings):
    """Everything configurable through environment variables (and `.env`)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    openai_api_key: SecretStr | None = Field(default=None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, alias="OPENAI_BASE_URL")
    model: str = Field(default="gpt-4o-mini", alias="DEEPSEARCH_MODEL")
    planner_model: str | None = Field(default=None, alias="DEEPSEARCH_PLANNER_MODEL")
    evaluator_model: str | None = Field(default=None, alias="DEEPSEARCH_EVALUATOR_MODEL")
    answerer_model: str | None = Field(default=None, alias="DEEPSEARCH_ANSWERER_MODEL")
    structured_output: StructuredMethod = Field(
        default="auto", alias="DEEPSEARCH_STRUCTURED_OUTPUT"
    )
    llm_max_tokens: int = Field(default=4096, alias="DEEPSEARCH_LLM_MAX_TOKENS")
    llm_timeout: float = Field(default=120.0, alias="DEEPSEARCH_LLM_TIMEOUT")
    # The model's context window in tokens; unset: asked of the server, else a known value.
    llm_context: int | None = Field(default=None, alias="DEEPSEARCH_LLM_CONTEXT", gt=0)

    # One provider, or a fallback chain tried in order: "serper,brave,duckduckgo".
    search_provider: str | None = Field(default=None, alias="DEEPSEARCH_SEARCH_PROVIDER")
    reader: ReaderName | None = Field(default=None, alias="DEEPSEARCH_READER")
    embeddings: EmbeddingsName | None = Field(default=None, alias="DEEPSEARCH_EMBEDDINGS")
    embeddings_model: str = Field(
        default="text-embedding-3-small", alias="DEEPSEARCH_EMBEDDINGS_MODEL"
    )
    embeddings_base_url: str | None = Field(default=None, alias="DEEPSEARCH_EMBEDDINGS_BASE_URL")

    jina_api_key: SecretStr | None = Field(default=None, alias="JINA_API_KEY")
    brave_api_key: SecretStr | None = Field(default=None, alias="BRAVE_API_KEY")
    serper_api_key: SecretStr | None = Field(default=None, alias="SERPER_API_KEY")
    searxng_url: str | None = Field(default=None, alias="SEARXNG_URL")
    jina_search_url: str = Field(default="https://s.jina.ai/", alias="JINA_SEARCH_URL")
    jina_reader_url: str = Field(default="https://r.jina.ai/", alias="JINA_READER_URL")
    jina_embeddings_url: str = Field(
        default="https://api.jina.ai/v1/embeddings", alias="JINA_EMBEDDINGS_URL"
    )
    jina_rerank_url: str = Field(default="https://api.jina.ai/v1/rerank", alias="JINA_RERANK_URL")
    brave_url: str = Field(
        default="https://api.search.brave.com/res/v1/web/search", alias="BRAVE_SEARCH_URL"
    )
    serper_url: str = Field(default="https://google.serper.dev/search", alias="SERPER_URL")
    arxiv_url: str = Field(default="https://export.arxiv.org/api/query", alias="ARXIV_URL")

    allow_private_urls: bool = Field(default=False, alias="DEEPSEARCH_ALLOW_PRIVATE_URLS")
    api_key: SecretStr | None = Field(default=None, alias="DEEPSEARCH_API_KEY")
    corpus: str | None = Field(default=None, alias="DEEPSEARCH_CORPUS")
    cache_path: str | None = Field(default=None, alias="DEEPSEARCH_CACHE")
    cache_ttl: int = Field(default=86_400, alias="DEEPSEARCH_CACHE_TTL")
    fetch_timeout: float = Field(default=20.0, alias="DEEPSEARCH_FETCH_TIMEOUT")
    fetch_max_bytes: int = Field(default=10_000_000, alias="DEEPSEARCH_FETCH_MAX_BYTES")

    @field_validator("search_provider")
    @classmethod
    def _known_providers(cls, value: str | None) -> str | None:
        """Accept a provider name or a comma-separated fallback chain of known names."""
        if value is None or not value.strip():
            return None
        names = [n.strip().lower() for n in value.split(",") if n.strip()]
        unknown = [n for n in names if n not in SEARCH_PROVIDERS]
        if unknown:
            raise ValueError(
                f"unknown search provider {', '.join(map(repr, unknown))}: choose from "
                f"{', '.join(SEARCH_PROVIDERS)}, or several joined by commas as a fallback chain"
            )
        return ",".join(dict.fromkeys(names))

    def effective_search_provider(self) -> str:
        """Return the configured search provider (or chain), or the default for the keys present."""
        if self.search_provider:
            return self.search_provider
        return "jina" if self.jina_api_key else "duckduckgo"

    def effective_reader(self) -> ReaderName:
        """Return the configured reader: Jina Reader with a key, else direct fetching."""
        if self.reader:
            return self.reader
        return "jina" if self.jina_api_key else "direct"

    def effective_embeddings(self) -> EmbeddingsName:
        """Return the configured embeddings backend: Jina with a key, else local lexical."""
        if self.embeddings:
            return self.embeddings
        return "jina" if self.jina_api_key else "local"

    def llm_configured(self) -> bool:
        """Tell whether an LLM endpoint is configured (a key, or a base URL of a local server)."""
        return bool(self.openai_api_key or self.openai_base_url)

    def require_llm(self) -> None:
        """Raise :class:`ConfigurationError` with a how-to when no LLM endpoint is configured."""
        if not self.llm_configured():
            raise ConfigurationError(NO_LLM_MESSAGE)


NO_LLM_MESSAGE = (
    "No LLM is configured. Set OPENAI_API_KEY (OpenAI or any hosted OpenAI-compatible API), "
    "or point OPENAI_BASE_URL at a local OpenAI-compatible server, for example "
    "OPENAI_BASE_URL=http://localhost:11434/v1 DEEPSEARCH_MODEL=qwen2.5:7b for Ollama, "
    "http://localhost:8080/v1 for llama.cpp, http://localhost:8000/v1 for vLLM."
)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process settings, read once.

    Raises:
        ConfigurationError: When a variable holds a value that cannot be used; the
            message names the variable and what it accepts.
    """
    try:
        return Settings()
    except ValidationError as exc:
        lines = [
            f"{'.'.join(str(p) for p in err['loc'])}={err.get('input')!r}: {err['msg']}"
            for err in exc.errors()
        ]
        raise ConfigurationError("Invalid configuration: " + "; ".join(lines)) from None
