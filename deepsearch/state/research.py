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
from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict  # pydantic needs it for JSON schemas on Python < 3.12

# Schemas built from a TypedDict so marked take the docstring under each field as its
# description: Studio's forms and MCP tools built on the graph show them.
DESCRIBED = ConfigDict(use_attribute_docstrings=True)

Action = Literal["search", "read", "reflect", "answer"]
CheckType = Literal["definitive", "freshness", "plurality", "completeness", "strict"]


@with_config(DESCRIBED)
class Reference(TypedDict):
    """A footnote: a quote that occurs in the text read from ``url``."""

    url: str
    """The page the quote was read from."""
    title: str
    """The page's title."""
    exactQuote: str
    """Words copied from the page that back the claim."""
    dateTime: str | None
    """The page's date, when known."""


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


@with_config(DESCRIBED)
class PromptTokensDetails(TypedDict):
    """What OpenAI's usage says about prompt tokens."""

    cached_tokens: int
    """Prompt tokens the model's server served from its prompt cache."""


@with_config(DESCRIBED)
class Usage(TypedDict, total=False):
    """Token usage of a run, in OpenAI's shape."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: PromptTokensDetails


@with_config(DESCRIBED)
class Answer(TypedDict):
    """An answer with its references (a draft, or the final one)."""

    question: str
    """The question answered."""
    text: str
    """The answer in Markdown; a [^n] marker cites references[n-1]."""
    references: list[Reference]
    """The footnotes, in marker order."""
    mode: Literal["direct", "researched", "beast", "merged", "failed"]
    """How it came about: model knowledge (direct), research that passed the checks
    (researched), a best effort when budget or attempts ran out (beast), a team's
    merged answer (merged), or no answer (failed)."""


def merge_dicts(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """Reducer: merge two mappings, the right side winning."""
    if not left:
        return dict(right)
    return {**left, **right}


def merge_max(left: dict[str, int], right: dict[str, int]) -> dict[str, int]:
    """Reducer: keep the larger value of each key."""
    return {**left, **{k: max(v, left.get(k, 0)) for k, v in right.items()}}


def merge_unique(left: list[str], right: list[str]) -> list[str]:
    """Reducer: append the right items not already present, keeping order."""
    seen = set(left)
    return left + [x for x in right if not (x in seen or seen.add(x))]  # type: ignore[func-returns-value]


@with_config(DESCRIBED)
class InputState(TypedDict, total=False):
    """What a run is started with: a question, or a conversation that ends with one.

    ``knowledge`` seeds the run (e.g. text of attached files); ``images`` are data URIs
    shown to the answering model. Options (effort, budget, hostnames, ...) are the
    run's context, not its input.
    """

    messages: Annotated[list[AnyMessage], add_messages]
    """A conversation whose last user message is the question (earlier turns are
    context). Give this or question."""
    question: str
    """The question to research and answer, self-contained. Give this or messages."""
    knowledge: Annotated[list[Knowledge], operator.add]
    """Facts to start from, e.g. the text of attached files."""
    images: list[str]
    """Images the answering model sees, as data URIs (PNG, JPEG or WebP)."""


@with_config(DESCRIBED)
class OutputState(TypedDict, total=False):
    """What a run ends with: the answer, the sources that prove it, and its cost."""

    messages: Annotated[list[AnyMessage], add_messages]
    """The conversation, ending with the answer as an AI message."""
    original_question: str
    """The question that was researched."""
    answer: Answer
    """The final answer: Markdown text with [^n] footnote markers, its references
    (url, title, exactQuote, dateTime) in marker order, and how it came about."""
    visited_urls: Annotated[list[str], merge_unique]
    """Every URL the research came across."""
    read_urls: Annotated[list[str], merge_unique]
    """The URLs whose pages were read."""
    usage: Usage
    """Tokens spent by the whole run."""
    step: int
    """Research steps taken."""
    diary: Annotated[list[str], operator.add]
    """One line per step: what the research did."""


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
    cached_prompt_tokens: Annotated[int, operator.add]  # served from the server's cache
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
    # The most provider tokens one query ("search") or one page ("read") has cost so far.
    unit_costs: Annotated[dict[str, int], merge_max]
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
    # The evidence block the draft's prompt began with: on a server that caches prompt
    # prefixes its judges' prompts begin with it too (nodes.evaluate.judges_evidence).
    answer_evidence: str
    answer: Answer
    usage: Usage
