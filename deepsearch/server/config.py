"""Settings of the HTTP server itself (auth, limits, CORS), read from the environment.

Kept apart from :mod:`deepsearch.settings`, which says which providers a run uses.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MODEL_ID = "jina-deepsearch-v1"
MIB = 1024 * 1024


class ServerSettings(BaseSettings):
    """What the OpenAI-compatible server enforces, from ``DEEPSEARCH_*`` variables."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    api_key: SecretStr | None = Field(default=None, alias="DEEPSEARCH_API_KEY")
    # Unset: room for one largest attachment as a base64 data URI (4/3 of its bytes) and
    # the rest of the request; 16 MiB with the default 10 MiB file limit.
    max_body_bytes: int | None = Field(default=None, alias="DEEPSEARCH_MAX_BODY_BYTES", gt=0)
    max_file_bytes: int = Field(default=10 * MIB, alias="DEEPSEARCH_MAX_FILE_BYTES", gt=0)
    body_timeout: float = Field(default=30.0, alias="DEEPSEARCH_BODY_TIMEOUT", gt=0)
    rate_limit_per_minute: int = Field(default=0, alias="DEEPSEARCH_RATE_LIMIT", ge=0)
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="DEEPSEARCH_CORS_ORIGINS"
    )
    max_team_size: int = Field(default=8, alias="DEEPSEARCH_MAX_TEAM_SIZE", ge=1)
    # Runs beyond this wait for a slot (their stream is already open), which keeps the
    # event loop responsive to new requests when the CPU is saturated.
    max_concurrent_runs: int = Field(default=64, alias="DEEPSEARCH_MAX_CONCURRENT_RUNS", ge=1)
    # Stateless MCP sessions: every request stands alone (needed behind several workers,
    # where one session's requests may reach different processes).
    mcp_stateless: bool = Field(default=False, alias="DEEPSEARCH_MCP_STATELESS")

    @property
    def body_limit(self) -> int:
        """Return the request body cap in bytes (configured, else derived from the file limit)."""
        if self.max_body_bytes is not None:
            return self.max_body_bytes
        return max(16 * MIB, -(-self.max_file_bytes * 4 // 3) + MIB)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept a comma-separated list (``*`` allows every origin)."""
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value
