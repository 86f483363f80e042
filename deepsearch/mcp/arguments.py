"""The ``deep_search`` tool's arguments: their JSON schema, their checks, the run's options.

The schema a host sees is generated from :class:`DeepSearchArguments`, so what it is
told and what is checked cannot drift apart. Checks are pydantic's, but a failure is
reported as one short line per bad argument (``budget_tokens: must be at least 1000,
got 5``) that a host's model can act on, not pydantic's multi-line report.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from deepsearch.context import Context
from deepsearch.settings import SearchProviderName

MAX_QUESTION_CHARS = 20_000
MAX_BUDGET = 100_000_000
MAX_TEAM_SIZE = 8
MAX_HOSTNAMES = 100

LanguageCode = Annotated[
    str,
    Field(
        min_length=2,
        max_length=16,
        pattern=r"^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8}){0,3}$",
        examples=["en", "de", "zh-CN"],
    ),
]
Hostnames = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=253)]],
    Field(max_length=MAX_HOSTNAMES),
]


class DeepSearchArguments(BaseModel):
    """Research one question on the web and answer it with cited, verifiable sources."""

    model_config = ConfigDict(extra="forbid", title="deep_search arguments")

    question: str = Field(
        min_length=1,
        max_length=MAX_QUESTION_CHARS,
        description=(
            "One self-contained question, with every detail needed to understand it "
            "(names, dates, places); the tool does not see the conversation."
        ),
    )
    reasoning_effort: Literal["low", "medium", "high"] = Field(
        default="medium",
        description=(
            "How hard to research: low = 100,000 tokens and 1 attempt (quick facts), "
            "medium = 500,000 and 2, high = 1,000,000 and 4 (hard multi-hop questions)."
        ),
    )
    budget_tokens: int | None = Field(
        default=None,
        ge=1_000,
        le=MAX_BUDGET,
        description="Total token budget of the run; overrides the effort's budget.",
    )
    max_attempts: int | None = Field(
        default=None,
        ge=1,
        le=20,
        description="Failed answer evaluations allowed before answering anyway.",
    )
    team_size: int = Field(
        default=1,
        ge=1,
        le=MAX_TEAM_SIZE,
        description="Above 1: split the question into that many sub-problems, researched "
        "in parallel.",
    )
    no_direct_answer: bool = Field(
        default=False,
        description="Never answer from the model's own knowledge without searching.",
    )
    max_seconds: float | None = Field(
        default=None,
        gt=0,
        le=86_400,
        description="Wall-clock limit in seconds; then the run answers from what it found.",
    )
    boost_hostnames: Hostnames = Field(
        default_factory=list, description="Hosts to prefer when choosing pages to read."
    )
    bad_hostnames: Hostnames = Field(default_factory=list, description="Hosts never to read.")
    only_hostnames: Hostnames = Field(
        default_factory=list, description="Read only pages of these hosts."
    )
    search_provider: SearchProviderName | None = Field(
        default=None,
        description="Search provider for this run (the server's default when omitted); "
        "arxiv grounds the answer on arXiv papers.",
    )
    search_language_code: LanguageCode | None = Field(
        default=None, description="Language of the search queries, e.g. 'de'."
    )
    language_code: LanguageCode | None = Field(
        default=None, description="Language of the answer (default: the question's)."
    )

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @field_validator("boost_hostnames", "bad_hostnames", "only_hostnames", mode="before")
    @classmethod
    def _list_from_text(cls, value: Any) -> Any:
        """Accept a list written as a JSON string or as comma-separated text.

        Some hosts send list arguments as text; a lone hostname is a list of one.
        """
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                return value
        return [part for part in (p.strip() for p in text.split(",")) if part]

    def to_context(self) -> Context:
        """Return the run's options (hostnames trimmed and lowercased)."""
        return Context(
            reasoning_effort=self.reasoning_effort,
            budget_tokens=self.budget_tokens,
            max_attempts=self.max_attempts,
            team_size=self.team_size,
            no_direct_answer=self.no_direct_answer,
            max_seconds=self.max_seconds,
            boost_hostnames=_hosts(self.boost_hostnames),
            bad_hostnames=_hosts(self.bad_hostnames),
            only_hostnames=_hosts(self.only_hostnames),
            search_provider=self.search_provider,
            search_language_code=self.search_language_code,
            language_code=self.language_code,
        )


def _hosts(values: list[str]) -> list[str]:
    return [v.strip().lower() for v in values if v.strip()]


def input_schema() -> dict[str, Any]:
    """Return the JSON schema of the tool's arguments."""
    return DeepSearchArguments.model_json_schema()


class ArgumentsError(ValueError):
    """The arguments of a call are not valid; the message says which and why."""


def parse_arguments(arguments: dict[str, Any] | None) -> DeepSearchArguments:
    """Check a call's arguments and return them typed.

    Raises:
        ArgumentsError: One line per bad argument, naming it and what it accepts.
    """
    try:
        return DeepSearchArguments.model_validate(arguments or {})
    except ValidationError as exc:
        problems = [_problem(error) for error in exc.errors(include_url=False)]
        raise ArgumentsError("Invalid arguments for deep_search: " + "; ".join(problems)) from None


_NAMES = ", ".join(DeepSearchArguments.model_fields)


def _problem(error: Any) -> str:
    """Describe one validation error in a short line."""
    where = ".".join(str(part) for part in error["loc"]) or "arguments"
    kind = error["type"]
    given = error.get("input")
    context = error.get("ctx") or {}
    if kind == "extra_forbidden":
        return f"'{where}' is not an argument of deep_search (its arguments: {_NAMES})"
    if kind == "missing":
        return f"{where} is required"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {
            "greater_than_equal": f"at least {context.get('ge')}",
            "greater_than": f"more than {context.get('gt')}",
            "less_than_equal": f"at most {context.get('le')}",
            "less_than": f"less than {context.get('lt')}",
        }[kind]
        return f"{where} must be {bound}, got {_short(given)}"
    if kind == "literal_error":
        return f"{where} must be one of {context.get('expected')}, got {_short(given)}"
    message = str(error.get("msg", "is not valid"))
    message = message.removeprefix("Value error, ")
    return f"{where}: {message[:1].lower()}{message[1:]} (got {_short(given)})"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
