"""The state of the team map-reduce: sub-problems, worker tasks and worker reports.

The team graph keeps the research loop's state (so ``prepare`` and ``finalize`` run
unchanged on it) and adds what the fan-out and the merge need. Workers write their
reports concurrently, so ``reports`` has a reducer.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

from deepsearch.state.research import (
    Answer,
    Knowledge,
    PageRecord,
    ResearchState,
    Usage,
    merge_dicts,
    merge_unique,
)

WorkerStatus = Literal["ok", "partial", "failed"]


class SubProblem(TypedDict):
    """One worker's share of the problem: what to research and what to deliver."""

    worker: str
    question: str
    deliverable: str


class WorkerReport(TypedDict):
    """What one worker brought back (or how it failed)."""

    worker: str
    question: str
    deliverable: str
    status: WorkerStatus
    answer: Answer | None
    knowledge: list[Knowledge]
    pages: dict[str, PageRecord]
    tokens_used: int
    steps: int
    error: str | None
    error_type: str | None


class WorkerTask(TypedDict):
    """The payload ``Send`` gives one worker: its sub-problem and the loop's input."""

    subproblem: SubProblem
    loop_input: dict[str, Any]


class WorkerOutput(TypedDict, total=False):
    """What the research loop returns when it runs as a worker (pages included).

    The annotations repeat :class:`~deepsearch.state.ResearchState`'s so the loop's
    channels stay the same whichever schema declares them first.
    """

    messages: Annotated[list[AnyMessage], add_messages]
    original_question: str
    answer: Answer
    draft: Answer | None
    knowledge: Annotated[list[Knowledge], operator.add]
    pages: Annotated[dict[str, PageRecord], merge_dicts]
    visited_urls: Annotated[list[str], merge_unique]
    read_urls: Annotated[list[str], merge_unique]
    diary: Annotated[list[str], operator.add]
    injected_demands: Annotated[list[str], merge_unique]
    prompt_tokens: Annotated[int, operator.add]
    completion_tokens: Annotated[int, operator.add]
    tokens_used: Annotated[int, operator.add]
    cached_prompt_tokens: Annotated[int, operator.add]
    step: int
    usage: Usage


class TeamState(ResearchState, total=False):
    """The research loop's state plus the team's plan and its workers' reports."""

    subproblems: list[SubProblem]
    worker_budget: int
    reports: Annotated[list[WorkerReport], operator.add]
