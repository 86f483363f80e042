"""The standard Chat Completions parameters, typed as strictly as OpenAI checks them.

Types follow OpenAI's current API reference (the ``openai`` SDK's
``CompletionCreateParams``). Values are never coerced: ``"yes"`` is not a boolean, ``1.0``
is not an integer. Unknown keys are kept, at the top level and inside objects, since
clients send newer fields before servers know them.

A parameter that takes several JSON shapes (``stop``: a string or an array) is a union
whose arm :func:`by_kind` picks; the arms carry ``~`` tags, which
:mod:`deepsearch.server.param_errors` drops from error paths, so an error names
``tools.0.function.name``, not an internal arm.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MAX = 2**31 - 1
# OpenAI's pattern for function and response-format names.
NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,64}$"


class Strict(BaseModel):
    """A JSON object checked without coercion; unknown keys are kept."""

    model_config = ConfigDict(strict=True, extra="allow", allow_inf_nan=False)


def json_kind(value: Any) -> str | None:
    """Return the JSON kind of a decoded value: ``string``, ``array`` or ``object``."""
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return None


def by_kind(expected: str, object_types: tuple[str, ...] = ()) -> Discriminator:
    """Pick a union's arm by the value's JSON kind, and an object's arm by its ``type``.

    Arms are tagged ``~string``, ``~array``, ``~object``, or ``~<type>`` for each of
    ``object_types``; an object of another ``type`` goes to ``~object``, whose own
    ``type`` check then names the bad value.

    Args:
        expected: What the value should be, for the error on any other kind.
        object_types: The ``type`` values that have their own arm.
    """

    def pick(value: Any) -> str | None:
        kind = json_kind(value)
        if kind == "object" and value.get("type") in object_types:
            return f"~{value['type']}"
        return f"~{kind}" if kind else None

    return Discriminator(
        pick, custom_error_type="invalid_type", custom_error_message=f"expected {expected}"
    )


FunctionName = Annotated[str, Field(pattern=NAME_PATTERN)]
# Bounds of decimal fields are floats: errors then say "decimal", as OpenAI's do.
Temperature = Annotated[float, Field(ge=0.0, le=2.0)]
TopP = Annotated[float, Field(ge=0.0, le=1.0)]
Penalty = Annotated[float, Field(ge=-2.0, le=2.0)]
Seed = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
PositiveInt32 = Annotated[int, Field(ge=1, le=INT32_MAX)]
TopLogprobs = Annotated[int, Field(ge=0, le=20)]
Metadata = Annotated[
    dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=512)]],
    Field(max_length=16),
]
LogitBias = dict[
    Annotated[str, Field(pattern=r"^[0-9]{1,10}$")], Annotated[int, Field(ge=-100, le=100)]
]
Stop: TypeAlias = Annotated[
    Annotated[str, Tag("~string")] | Annotated[list[str], Field(max_length=4), Tag("~array")],
    by_kind("a string or an array of at most 4 strings"),
]


class StreamOptions(Strict):
    """``stream_options`` (only allowed with ``stream: true``)."""

    include_usage: bool | None = None
    include_obfuscation: bool | None = None


class TextPart(Strict):
    """A text content part."""

    type: Literal["text"]
    text: str


PredictionContent: TypeAlias = Annotated[
    Annotated[str, Tag("~string")] | Annotated[list[TextPart], Tag("~array")],
    by_kind("a string or an array of text parts"),
]


class Prediction(Strict):
    """``prediction``: static content the answer is expected to match."""

    type: Literal["content"]
    content: PredictionContent


class VoiceId(Strict):
    """A custom voice reference."""

    id: str


Voice: TypeAlias = Annotated[
    Annotated[str, Tag("~string")] | Annotated[VoiceId, Tag("~object")],
    by_kind("a voice name or a voice object"),
]


class AudioOutput(Strict):
    """``audio``: parameters of audio output."""

    format: Literal["wav", "aac", "mp3", "flac", "opus", "pcm16"]
    voice: Voice


class ApproximateLocation(Strict):
    """An approximate user location for web search."""

    city: str | None = None
    country: str | None = None
    region: str | None = None
    timezone: str | None = None


class UserLocation(Strict):
    """``web_search_options.user_location``."""

    type: Literal["approximate"]
    approximate: ApproximateLocation


class WebSearchOptions(Strict):
    """``web_search_options``."""

    search_context_size: Literal["low", "medium", "high"] | None = None
    user_location: UserLocation | None = None


class JSONSchemaSpec(Strict):
    """``response_format.json_schema``: a named JSON schema."""

    name: FunctionName
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class TextFormat(Strict):
    """``{"type": "text"}``."""

    type: Literal["text"]


class JSONObjectFormat(Strict):
    """``{"type": "json_object"}``."""

    type: Literal["json_object"]


class JSONSchemaFormat(Strict):
    """``{"type": "json_schema", "json_schema": {...}}``."""

    type: Literal["json_schema"]
    json_schema: JSONSchemaSpec


class OtherFormat(Strict):
    """The arm of an unknown response format type: reports the ``type`` that is wrong."""

    type: Literal["text", "json_object", "json_schema"]


ResponseFormat: TypeAlias = Annotated[
    Annotated[TextFormat, Tag("~text")]
    | Annotated[JSONObjectFormat, Tag("~json_object")]
    | Annotated[JSONSchemaFormat, Tag("~json_schema")]
    | Annotated[OtherFormat, Tag("~object")],
    by_kind("a response format object", ("text", "json_object", "json_schema")),
]


class ModerationMode(Strict):
    """A moderation policy for input or output."""

    mode: Literal["score", "block"]


class ModerationPolicy(Strict):
    """``moderation.policy``."""

    input: ModerationMode | None = None
    output: ModerationMode | None = None


class Moderation(Strict):
    """``moderation``."""

    model: str
    policy: ModerationPolicy | None = None


class PromptCacheOptions(Strict):
    """``prompt_cache_options``."""

    mode: Literal["implicit", "explicit"] | None = None
    ttl: Literal["30m"] | None = None
