"""The typed state of the research loop.

Everything is plain JSON-able data (TypedDicts), so checkpointers, the LangGraph
server and Studio can store and show it. Fields that parallel branches write
(team workers) have reducers.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, NotRequired

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict  # pydantic needs it for JSON schemas on Python < 3.12

Action = Literal["search", "read", "reflect", "answer"]
CheckType = Literal["definitive", "freshness", "plurality", "completeness", "strict"]


class Reference(TypedDict):
    """A footnote: a quote that occurs in the text read from ``url``."""

    url: str
    title: str
    exactQuote: str
    dateTime: str | None


class Knowledge(TypedDict):
    """Something learned: a question and its answer, with where it came from."""

    question: str
    answer: str
    kind: Literal["qa", "url", "side-info", "chat", "file"]
    references: list[Reference]
    date: str | None


class Candidate(TypedDict):
    """A URL that could be read, with the evidence that it is worth reading.

    ``weak`` marks a link found on a page (its title is the anchor text) rather than a
    search result. ``engine`` sums the reciprocal ranks the search engine gave the URL
    over the queries that found it; ``relevance`` is how well its own title and
    snippet match the question, as of the last ranking.
    """

    url: str
    title: str
    snippet: str
    date: str | None
    hits: int
    score: float
    weak: bool
    engine: NotRequired[float]
    relevance: NotRequired[float]


class PageRecord(TypedDict):
    """What was read from a URL: the selected passages the model saw."""

    url: str
    title: str
    date: str | None
    passages: list[str]


class Evaluation(TypedDict):
    """A failed evaluation: what went wrong and how to do better."""

    answer: str
    check: str
    analysis: str
    plan: str


class Usage(TypedDict):
    """Token usage of a run."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Answer(TypedDict):
    """An answer with its references (a draft, or the final one)."""

    question: str
    text: str
    references: list[Reference]
    mode: Literal["direct", "researched", "beast", "merged", "failed"]


def merge_dicts(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """Reducer: merge two mappings, the right side winning."""
    if not left:
        return dict(right)
    return {**left, **right}


def merge_unique(left: list[str], right: list[str]) -> list[str]:
    """Reducer: append the right items not already present, keeping order."""
    seen = set(left)
    return left + [x for x in right if not (x in seen or seen.add(x))]  # type: ignore[func-returns-value]


class InputState(TypedDict, total=False):
    """What a run is started with: a conversation, or just a question.

    ``knowledge`` seeds the run (e.g. text of attached files); ``images`` are data URIs
    shown to the answering model.
    """

    messages: Annotated[list[AnyMessage], add_messages]
    question: str
    knowledge: Annotated[list[Knowledge], operator.add]
    images: list[str]


class OutputState(TypedDict, total=False):
    """What a run ends with."""

    messages: Annotated[list[AnyMessage], add_messages]
    original_question: str
    answer: Answer
    visited_urls: Annotated[list[str], merge_unique]
    read_urls: Annotated[list[str], merge_unique]
    usage: Usage
    step: int
    diary: Annotated[list[str], operator.add]


class WorkerInput(InputState, total=False):
    """Input of the research loop run as a team worker: its share of the budget and its name."""

    budget_tokens: int
    max_attempts: int
    worker: str | None
    deadline: float | None  # epoch seconds after which no new research step starts


class ResearchState(WorkerInput, total=False):
    """The whole state of the research loop."""

    # The question and its conversation.
    original_question: str
    question: str  # current question the step works on
    # Budget and progress.
    prompt_tokens: Annotated[int, operator.add]
    completion_tokens: Annotated[int, operator.add]
    tokens_used: Annotated[int, operator.add]
    step: int
    stalled_steps: int
    halt: str | None  # why research stopped early (e.g. no budget left for a step)
    failures: dict[str, int]  # failed evaluations per check type
    checks: list[str]  # checks chosen for the original question
    # What the planner decided.
    last_action: str | None
    action: Action | None
    action_args: dict[str, Any]
    # Questions and knowledge.
    gaps: list[str]  # open sub-questions (the original stays implicit)
    all_questions: Annotated[list[str], merge_unique]
    evaluations: list[Evaluation]
    # Searching and reading.
    queries: Annotated[list[str], merge_unique]
    candidates: Annotated[dict[str, Candidate], merge_dicts]
    pages: Annotated[dict[str, PageRecord], merge_dicts]
    visited_urls: Annotated[list[str], merge_unique]
    read_urls: Annotated[list[str], merge_unique]
    failed_urls: Annotated[list[str], merge_unique]
    must_read: list[str]  # URLs the user pasted
    diary: Annotated[list[str], operator.add]
    # Replies that orders screened out of fetched content demanded: kept to check the
    # answer against, never shown to a model.
    injected_demands: Annotated[list[str], merge_unique]
    # Answers.
    draft: Answer | None
    answered_step: int  # the step of the latest answer attempt
    # The evidence block the draft's prompt began with: its judges' prompts begin with
    # it too, so a server serves that prefix from its cache.
    answer_evidence: str
    answer: Answer
    usage: Usage
