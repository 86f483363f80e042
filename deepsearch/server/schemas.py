"""The chat completion request (SPEC §2) and its mapping onto a run's :class:`Context`.

Unknown OpenAI fields (``temperature``, ``tools``, ``user``, ...) are accepted and ignored.
"""

from __future__ import annotations

from typing import Any, Literal

from jsonschema import SchemaError
from jsonschema.validators import validator_for
from pydantic import BaseModel, ConfigDict, Field

from deepsearch.context import Context
from deepsearch.server.config import MODEL_ID
from deepsearch.server.errors import bad_request
from deepsearch.settings import SearchProviderName

Hostnames = list[str] | None
Effort = Literal["none", "minimal", "low", "medium", "high"]


class ChatMessage(BaseModel):
    """One message; ``content`` is text or a list of parts (checked in attachments)."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: Any = None  # checked in attachments, for clearer errors than a union's


class StreamOptions(BaseModel):
    """OpenAI's ``stream_options``."""

    model_config = ConfigDict(extra="allow")

    include_usage: bool | None = None


class ResponseFormat(BaseModel):
    """OpenAI's ``response_format``: text, a JSON object, or JSON valid against a schema."""

    model_config = ConfigDict(extra="allow")

    type: Literal["text", "json_object", "json_schema"]
    json_schema: dict[str, Any] | None = None


class ChatCompletionRequest(BaseModel):
    """A ``POST /v1/chat/completions`` body."""

    model_config = ConfigDict(extra="allow")

    model: str | None = Field(default=None, max_length=256)
    messages: list[ChatMessage] = Field(min_length=1, max_length=1000)
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    reasoning_effort: Effort | None = None
    budget_tokens: int | None = Field(default=None, ge=1, le=100_000_000)
    max_attempts: int | None = Field(default=None, ge=1, le=20)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=100_000_000)
    team_size: int | None = Field(default=None, ge=1)
    no_direct_answer: bool | None = None
    boost_hostnames: list[str] | None = Field(default=None, max_length=100)
    bad_hostnames: list[str] | None = Field(default=None, max_length=100)
    only_hostnames: list[str] | None = Field(default=None, max_length=100)
    search_provider: SearchProviderName | None = None
    search_language_code: str | None = Field(default=None, min_length=2, max_length=16)
    language_code: str | None = Field(default=None, min_length=2, max_length=16)
    max_returned_urls: int | None = Field(default=None, ge=0, le=10_000)
    max_annotations: int | None = Field(default=None, ge=0, le=1000)
    max_seconds: float | None = Field(default=None, gt=0, le=86_400)
    response_format: ResponseFormat | None = None

    @property
    def model_name(self) -> str:
        """Return the model name to echo back."""
        return self.model or MODEL_ID

    @property
    def include_usage(self) -> bool:
        """Tell whether the stream ends with OpenAI's separate usage chunk."""
        return bool(self.stream_options and self.stream_options.include_usage)

    def response_schema(self) -> dict[str, Any] | None:
        """Return the JSON schema the answer must follow, or None for a text answer."""
        fmt = self.response_format
        if fmt is None or fmt.type == "text":
            return None
        if fmt.type == "json_object":
            return {"type": "object"}
        spec = fmt.json_schema
        if spec is None:
            raise bad_request(
                "response_format.json_schema is required when type is 'json_schema'.",
                param="response_format.json_schema",
            )
        schema = spec.get("schema", spec if ("type" in spec or "properties" in spec) else None)
        if not isinstance(schema, dict):
            raise bad_request(
                "response_format.json_schema.schema must be a JSON schema object.",
                param="response_format.json_schema.schema",
            )
        try:
            validator_for(schema).check_schema(schema)
        except SchemaError as exc:
            raise bad_request(
                f"response_format.json_schema.schema is not a valid JSON schema: {exc.message}"[
                    :500
                ],
                param="response_format.json_schema.schema",
            ) from None
        return schema

    def to_context(self, max_team_size: int) -> Context:
        """Build the run's options; fields left unset keep the Context defaults."""
        if self.team_size is not None and self.team_size > max_team_size:
            raise bad_request(
                f"team_size must be at most {max_team_size}.",
                param="team_size",
                code="invalid_value",
            )
        effort = self.reasoning_effort
        options: dict[str, Any] = {
            "reasoning_effort": "low" if effort in ("none", "minimal") else effort,
            "budget_tokens": self.budget_tokens,
            "max_attempts": self.max_attempts,
            "max_completion_tokens": self.max_completion_tokens,
            "team_size": self.team_size,
            "no_direct_answer": self.no_direct_answer,
            "boost_hostnames": _hosts(self.boost_hostnames),
            "bad_hostnames": _hosts(self.bad_hostnames),
            "only_hostnames": _hosts(self.only_hostnames),
            "search_provider": self.search_provider,
            "search_language_code": self.search_language_code,
            "language_code": self.language_code,
            "max_returned_urls": self.max_returned_urls,
            "max_annotations": self.max_annotations,
            "max_seconds": self.max_seconds,
            "response_schema": self.response_schema(),
        }
        return Context(**{k: v for k, v in options.items() if v is not None})


def _hosts(values: list[str] | None) -> list[str] | None:
    """Normalize hostnames: trimmed, lowercased, empty ones dropped."""
    if values is None:
        return None
    return [v.strip().lower() for v in values if v.strip()]
