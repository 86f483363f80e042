"""Chat Completions tool parameters: ``tools``, ``tool_choice`` and the deprecated
``functions`` and ``function_call``, typed as OpenAI checks them.

DeepSearch never calls client tools; these are checked so a malformed request is
refused as OpenAI would refuse it, then ignored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from pydantic import Tag

from deepsearch.server.openai_params import FunctionName, Strict, by_kind

MAX_TOOLS = 128


class FunctionDefinition(Strict):
    """A function a tool or a (deprecated) ``functions`` entry describes."""

    name: FunctionName
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class FunctionTool(Strict):
    """``{"type": "function", "function": {...}}``."""

    type: Literal["function"]
    function: FunctionDefinition


class GrammarSpec(Strict):
    """The grammar of a custom tool's input."""

    definition: str
    syntax: Literal["lark", "regex"]


class CustomFormat(Strict):
    """A custom tool's input format: free text or a grammar."""

    type: Literal["text", "grammar"]
    grammar: GrammarSpec | None = None


class CustomToolSpec(Strict):
    """The properties of a custom tool."""

    name: str
    description: str | None = None
    format: CustomFormat | None = None


class CustomTool(Strict):
    """``{"type": "custom", "custom": {...}}``."""

    type: Literal["custom"]
    custom: CustomToolSpec


class OtherTool(Strict):
    """The arm of an unknown tool type: reports the ``type`` that is wrong."""

    type: Literal["function", "custom"]


Tool: TypeAlias = Annotated[
    Annotated[FunctionTool, Tag("~function")]
    | Annotated[CustomTool, Tag("~custom")]
    | Annotated[OtherTool, Tag("~object")],
    by_kind("a tool object", ("function", "custom")),
]


class NamedFunction(Strict):
    """``{"name": ...}``: the function or custom tool a choice names."""

    name: str


class NamedToolChoice(Strict):
    """``{"type": "function", "function": {"name": ...}}``: call this function."""

    type: Literal["function"]
    function: NamedFunction


class NamedCustomChoice(Strict):
    """``{"type": "custom", "custom": {"name": ...}}``: call this custom tool."""

    type: Literal["custom"]
    custom: NamedFunction


class AllowedTools(Strict):
    """The tools an ``allowed_tools`` choice allows, and whether one must be called."""

    mode: Literal["auto", "required"]
    tools: list[dict[str, Any]]


class AllowedToolsChoice(Strict):
    """``{"type": "allowed_tools", "allowed_tools": {...}}``."""

    type: Literal["allowed_tools"]
    allowed_tools: AllowedTools


class OtherToolChoice(Strict):
    """The arm of an unknown tool choice type: reports the ``type`` that is wrong."""

    type: Literal["function", "custom", "allowed_tools"]


ToolChoice: TypeAlias = Annotated[
    Annotated[Literal["none", "auto", "required"], Tag("~string")]
    | Annotated[NamedToolChoice, Tag("~function")]
    | Annotated[NamedCustomChoice, Tag("~custom")]
    | Annotated[AllowedToolsChoice, Tag("~allowed_tools")]
    | Annotated[OtherToolChoice, Tag("~object")],
    by_kind(
        "'none', 'auto', 'required' or a tool choice object",
        ("function", "custom", "allowed_tools"),
    ),
]
FunctionCall: TypeAlias = Annotated[
    Annotated[Literal["none", "auto"], Tag("~string")] | Annotated[NamedFunction, Tag("~object")],
    by_kind("'none', 'auto' or an object naming a function"),
]
