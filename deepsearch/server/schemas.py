"""The chat completion request (SPEC §2) and its mapping onto a run's :class:`Context`.

Every standard OpenAI field is type- and range-checked the way OpenAI checks it (see
:mod:`deepsearch.server.openai_params`); those that cannot change a DeepSearch answer
(``temperature``, ``seed``, ``tools``, ...) are then ignored. Values that OpenAI accepts
but DeepSearch cannot honour (``n`` > 1, audio output, a forced tool call) are a 400,
since the client would otherwise get a response of another shape than it asked for.
Unknown fields are accepted and ignored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from jsonschema import SchemaError
from jsonschema.validators import validator_for
from pydantic import Field

from deepsearch.context import Context
from deepsearch.server.config import MODEL_ID
from deepsearch.server.errors import bad_request
from deepsearch.server.openai_params import (
    AudioOutput,
    JSONSchemaFormat,
    LogitBias,
    Metadata,
    Moderation,
    Penalty,
    PositiveInt32,
    Prediction,
    PromptCacheOptions,
    ResponseFormat,
    Seed,
    Stop,
    StreamOptions,
    Strict,
    Temperature,
    TextFormat,
    TopLogprobs,
    TopP,
    WebSearchOptions,
)
from deepsearch.server.openai_tools import (
    MAX_TOOLS,
    AllowedToolsChoice,
    FunctionCall,
    FunctionDefinition,
    NamedCustomChoice,
    NamedFunction,
    NamedToolChoice,
    Tool,
    ToolChoice,
)
from deepsearch.settings import SearchProviderName

MAX_MESSAGES = 10_000
MAX_BUDGET = 100_000_000
# Deeper answer schemas overflow the schema checker's recursion; OpenAI's structured
# outputs allow far less nesting (10 levels) anyway.
MAX_SCHEMA_DEPTH = 64
Effort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
# OpenAI's effort levels onto DeepSearch's three presets.
EFFORT_LEVELS = {
    "none": "low",
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "high",
    "max": "high",
}
# A BCP 47-like tag: "en", "zh-CN", "sr-Latn-RS", "pt_BR". It reaches prompts verbatim.
LanguageCode = Annotated[
    str, Field(min_length=2, max_length=16, pattern=r"^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8}){0,3}$")
]
# A hostname, or a URL or "*.host" pattern (both tolerated by the ranking).
Hostnames = Annotated[list[Annotated[str, Field(max_length=2048)]], Field(max_length=100)]


class ChatMessage(Strict):
    """One message; ``content`` is text or a list of parts (checked in attachments)."""

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: Any = None  # checked in attachments, for clearer errors than a union's
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    refusal: str | None = None


class OpenAIRequest(Strict):
    """The standard Chat Completions fields, checked as OpenAI checks them."""

    model: str | None = Field(default=None, max_length=256)
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    temperature: Temperature | None = None
    top_p: TopP | None = None
    n: Annotated[int, Field(ge=1, le=128)] | None = None
    stop: Stop | None = None
    user: str | None = None
    seed: Seed | None = None
    tools: Annotated[list[Tool], Field(max_length=MAX_TOOLS)] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    functions: Annotated[list[FunctionDefinition], Field(max_length=MAX_TOOLS)] | None = None
    function_call: FunctionCall | None = None
    max_tokens: PositiveInt32 | None = None
    max_completion_tokens: Annotated[int, Field(ge=1, le=MAX_BUDGET)] | None = None
    presence_penalty: Penalty | None = None
    frequency_penalty: Penalty | None = None
    logit_bias: LogitBias | None = None
    logprobs: bool | None = None
    top_logprobs: TopLogprobs | None = None
    metadata: Metadata | None = None
    modalities: list[Literal["text", "audio"]] | None = None
    audio: AudioOutput | None = None
    store: bool | None = None
    service_tier: Literal["auto", "default", "flex", "scale", "priority", "fast"] | None = None
    response_format: ResponseFormat | None = None
    reasoning_effort: Effort | None = None
    prediction: Prediction | None = None
    web_search_options: WebSearchOptions | None = None
    verbosity: Literal["low", "medium", "high"] | None = None
    safety_identifier: str | None = Field(default=None, max_length=128)
    prompt_cache_key: str | None = None
    prompt_cache_retention: Literal["in_memory", "24h"] | None = None
    prompt_cache_options: PromptCacheOptions | None = None
    moderation: Moderation | None = None

    def check_supported(self) -> None:
        """Reject combinations OpenAI rejects, and values DeepSearch cannot honour."""
        if self.stream_options is not None and self.stream is not True:
            raise bad_request(
                "The 'stream_options' parameter is only allowed when 'stream' is true.",
                param="stream_options",
                code="invalid_value",
            )
        if self.top_logprobs is not None and self.logprobs is not True:
            raise bad_request(
                "'logprobs' must be true when 'top_logprobs' is given.",
                param="top_logprobs",
                code="invalid_value",
            )
        if self.n is not None and self.n > 1:
            raise unsupported("n", "DeepSearch returns one choice: 'n' must be 1.")
        if self.modalities and "audio" in self.modalities:
            raise unsupported("modalities", "DeepSearch answers in text only: no audio output.")
        if _forces_tool_call(self.tool_choice) or isinstance(self.function_call, NamedFunction):
            param = "tool_choice" if self.tool_choice is not None else "function_call"
            raise unsupported(
                param, "DeepSearch never calls client tools, so it cannot be made to call one."
            )


class ChatCompletionRequest(OpenAIRequest):
    """A ``POST /v1/chat/completions`` body: OpenAI's fields and DeepSearch's."""

    budget_tokens: Annotated[int, Field(ge=1, le=MAX_BUDGET)] | None = None
    max_attempts: Annotated[int, Field(ge=1, le=20)] | None = None
    team_size: Annotated[int, Field(ge=1)] | None = None  # at most the server's limit
    no_direct_answer: bool | None = None
    boost_hostnames: Hostnames | None = None
    bad_hostnames: Hostnames | None = None
    only_hostnames: Hostnames | None = None
    search_provider: SearchProviderName | None = None
    search_language_code: LanguageCode | None = None
    language_code: LanguageCode | None = None
    max_returned_urls: Annotated[int, Field(ge=0, le=10_000)] | None = None
    max_annotations: Annotated[int, Field(ge=0, le=1000)] | None = None
    max_seconds: Annotated[float, Field(gt=0.0, le=86_400.0)] | None = None

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
        if fmt is None or isinstance(fmt, TextFormat):
            return None
        if not isinstance(fmt, JSONSchemaFormat):
            return {"type": "object"}
        schema = fmt.json_schema.schema_
        if schema is None:
            raise bad_request(
                "response_format.json_schema.schema is required: DeepSearch shapes its "
                "answer by it.",
                param="response_format.json_schema.schema",
                code="missing_required_parameter",
            )
        if json_depth(schema) > MAX_SCHEMA_DEPTH:
            raise bad_request(
                f"response_format.json_schema.schema is nested too deeply: at most "
                f"{MAX_SCHEMA_DEPTH} levels of objects and arrays.",
                param="response_format.json_schema.schema",
                code="invalid_value",
            )
        try:
            validator_for(schema).check_schema(schema)
        except SchemaError as exc:
            raise bad_request(
                f"response_format.json_schema.schema is not a valid JSON schema: {exc.message}"[
                    :500
                ],
                param="response_format.json_schema.schema",
                code="invalid_value",
            ) from None
        return schema

    def to_context(self, max_team_size: int) -> Context:
        """Build the run's options; fields left unset keep the Context defaults."""
        self.check_supported()
        if self.team_size is not None and self.team_size > max_team_size:
            raise bad_request(
                f"Invalid 'team_size': integer above maximum value. Expected a value <= "
                f"{max_team_size} (this server's DEEPSEARCH_MAX_TEAM_SIZE), but got "
                f"{self.team_size} instead.",
                param="team_size",
                code="integer_above_max_value",
            )
        effort = self.reasoning_effort
        options: dict[str, Any] = {
            "reasoning_effort": EFFORT_LEVELS[effort] if effort else None,
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


def unsupported(param: str, message: str) -> Exception:
    """Return the 400 for a value OpenAI accepts but DeepSearch cannot honour."""
    return bad_request(message, param=param, code="unsupported_value")


def _forces_tool_call(choice: object) -> bool:
    """Tell whether a ``tool_choice`` requires the model to call a tool."""
    if choice == "required" or isinstance(choice, NamedToolChoice | NamedCustomChoice):
        return True
    return isinstance(choice, AllowedToolsChoice) and choice.allowed_tools.mode == "required"


def json_depth(value: Any) -> int:
    """Return how deeply objects and arrays nest in a decoded JSON value (without recursion)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth) for child in children)
    return deepest


def _hosts(values: list[str] | None) -> list[str] | None:
    """Normalize hostnames: trimmed, lowercased, empty ones dropped."""
    if values is None:
        return None
    return [v.strip().lower() for v in values if v.strip()]
