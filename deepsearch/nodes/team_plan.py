"""team_plan: split the question into N orthogonal sub-problems and share out the budget.

One search for the original question shows what the problem involves; the
team-planner then writes exactly ``team_size`` sub-problems, each with a deliverable.
Whatever the model gets wrong (too few, duplicates, an unusable reply) is repaired
here, so the team always has exactly N distinct sub-problems.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from deepsearch.budget import Spend
from deepsearch.context import Context
from deepsearch.nodes.common import NodeFn, diary_line, run_options, today, untrusted
from deepsearch.nodes.room import call_limit
from deepsearch.nodes.screened import ScreeningNotes
from deepsearch.progress import emit
from deepsearch.prompts import team
from deepsearch.prompts.render import defuse, render_knowledge
from deepsearch.state import Candidate, Knowledge
from deepsearch.state.team import SubProblem, TeamState, WorkerTask
from deepsearch.tools.base import ProviderError, SearchResult
from deepsearch.tools.embeddings.local import similarity
from deepsearch.tools.toolbox import Toolbox
from deepsearch.tools.urls import normalize_url

MAX_TEAM_SIZE = 10
# Share of the whole budget kept back for the merge (and for workers' last-step overshoot).
MERGE_RESERVE = 0.15
# The smallest share worth giving a worker: a plan, a read and a short answer.
MIN_WORKER_TOKENS = 5_000
FIRST_SEARCH_RESULTS = 10
NEAR_DUPLICATE = 0.85

# Used when the planner gives fewer distinct sub-problems than the team has workers.
FALLBACK_ANGLES: list[tuple[str, str]] = [
    (
        "What are the key facts and definitions needed to answer: {q}",
        "The essential facts, names and definitions, each with a source.",
    ),
    (
        "What specific figures, dates or names answer: {q}",
        "The exact figures, dates or names, each with a source.",
    ),
    (
        "What are the most recent developments relevant to: {q}",
        "The latest dated facts that could change the answer, with sources.",
    ),
    (
        "Where do sources disagree, or what caveats apply, regarding: {q}",
        "The disagreements and caveats, with the sources on each side.",
    ),
    (
        "What comparable cases or context put the answer in perspective: {q}",
        "Two or three comparisons or context facts, with sources.",
    ),
]


class SubProblemDraft(BaseModel):
    """One sub-problem as the team-planner writes it."""

    question: str = Field(description="a self-contained research question")
    deliverable: str = Field(default="", description="the concrete facts to return")


class TeamPlan(BaseModel):
    """The team-planner's reply."""

    think: str = Field(default="", description="one or two sentences on how to split")
    subproblems: list[SubProblemDraft] = Field(default_factory=list)


def team_size_of(ctx: Context, budget: int | None = None) -> int:
    """Return the number of workers for a run: what it asks for, within 1..MAX_TEAM_SIZE.

    With ``budget``, the team shrinks so each worker's share can pay for some research
    besides its final reserve (:data:`MIN_WORKER_TOKENS`): a budget too small for a
    team is researched by one researcher rather than by workers who can do nothing.
    """
    size = max(1, min(MAX_TEAM_SIZE, int(ctx.team_size or 1)))
    if budget is not None:
        size = min(size, max(1, worker_share(budget, 0, 1) // MIN_WORKER_TOKENS))
    return size


def worker_share(budget: int, spent: int, team_size: int) -> int:
    """Split what is left of the budget, after the merge reserve, evenly among the workers."""
    available = budget - spent - int(MERGE_RESERVE * budget)
    return max(1, available // team_size)


def _distinct(pool: list[tuple[str, str]], limit: int) -> list[tuple[str, str]]:
    """Keep the first ``limit`` (question, deliverable) pairs whose questions differ."""
    kept: list[tuple[str, str]] = []
    for text, deliverable in pool:
        text = " ".join(text.split())
        if not text or any(similarity(text, other) >= NEAR_DUPLICATE for other, _ in kept):
            continue
        kept.append((text, " ".join(deliverable.split()) or "A direct answer with sources."))
        if len(kept) == limit:
            break
    return kept


def distinct_subproblems(
    drafts: list[SubProblemDraft], question: str, team_size: int
) -> list[SubProblem]:
    """Keep the first ``team_size`` distinct drafts, fill up with fallback angles, name workers."""
    pool = [(d.question, d.deliverable) for d in drafts]
    pool += [(q.format(q=question), d) for q, d in FALLBACK_ANGLES]
    pool += [(f"Part {i} of the problem: {question}", "") for i in range(1, team_size + 1)]
    return [
        {"worker": f"worker-{i}", "question": q, "deliverable": d}
        for i, (q, d) in enumerate(_distinct(pool, team_size), start=1)
    ]


async def ask_team_planner(
    tools: Toolbox, system: str, user: str, team_size: int, spend: Spend, room: int
) -> list[SubProblemDraft]:
    """Ask for the sub-problems; when too few distinct ones come back, ask once more.

    No call is made that would not fit in ``room`` tokens: the fallback angles fill in.
    """
    drafts: list[SubProblemDraft] = []
    cap = tools.llm.completion_cap("team-planner")
    for _ in range(2):
        cost = tools.llm.estimate("team-planner", system, user, TeamPlan) + cap
        if cost > room - spend.total:
            break
        result = await tools.llm.structured(
            "team-planner", TeamPlan, system, user, fallback=TeamPlan, limit=room - spend.total
        )
        spend.add(result)
        drafts += result.value.subproblems
        found = _distinct([(d.question, d.deliverable) for d in drafts], team_size)
        if len(found) == team_size:
            break
        user += (
            f"\n\nYour reply had {len(found)} distinct sub-problems: "
            f"{[q for q, _ in found]}. Write exactly {team_size} distinct, non-overlapping ones."
        )
    return drafts


def render_results(results: list[SearchResult]) -> str:
    """Render the first search's hits for the team-planner."""
    lines = [
        f"- {r.url} | {defuse(r.title)[:120]} | {defuse(r.snippet)[:300]}"
        for r in results[:FIRST_SEARCH_RESULTS]
    ]
    return "\n".join(lines) if lines else "(no results)"


def _candidates(results: list[SearchResult]) -> dict[str, Candidate]:
    out: dict[str, Candidate] = {}
    for hit in results:
        try:
            url = normalize_url(hit.url)
        except ValueError:
            continue
        out.setdefault(
            url,
            {
                "url": url,
                "title": hit.title[:300],
                "snippet": hit.snippet[:600],
                "date": hit.date,
                "hits": 1,
                "score": 0.0,
                "weak": False,
            },
        )
    return out


def worker_task(state: TeamState, sub: SubProblem, ctx: Context) -> WorkerTask:
    """Build what one worker starts from: its sub-problem, the team's context, its budget."""
    brief: Knowledge = {
        "question": "What is this research for, and what must it deliver?",
        "answer": (
            f"This is one part of a team's work on: {state['original_question']}\n"
            f"Research only this part. Deliverable: {sub['deliverable']}"
        ),
        "kind": "side-info",
        "references": [],
        "date": None,
    }
    loop_input: dict[str, Any] = {
        "question": sub["question"],
        "knowledge": [brief, *state.get("knowledge", [])],
        "budget_tokens": state.get("worker_budget") or 1,
        "max_attempts": ctx.resolved_attempts(),
        "deadline": state.get("deadline"),  # the team's clock, not a fresh one per worker
        "worker": sub["worker"],
    }
    if state.get("images"):
        loop_input["images"] = list(state.get("images", []))
    return {"subproblem": sub, "loop_input": loop_input}


def make_team_plan(tools: Toolbox) -> NodeFn:
    """Build the ``team_plan`` node."""

    async def team_plan(state: TeamState, runtime: Runtime[Context]) -> dict[str, Any]:
        """Search once, then have the team-planner write exactly N sub-problems."""
        ctx = run_options(runtime)
        size = team_size_of(ctx, state.get("budget_tokens"))
        if size < team_size_of(ctx):
            note = f"The budget pays for {size} researchers, not {team_size_of(ctx)}."
            emit(state, "team-size", note, team_size=size)
        question = state["original_question"]
        spend = Spend()
        provider = tools.search(ctx.search_provider)
        emit(state, "query", question, provider=provider.name)
        results: list[SearchResult] = []
        notes = ScreeningNotes(state)
        try:
            response = await provider.search(
                question, num_results=FIRST_SEARCH_RESULTS, language=ctx.search_language_code
            )
            results = response.results
            spend.add_provider(response.tokens)
            notes.add("result", response.instructions_removed, response.demands)
        except ProviderError as exc:
            emit(state, "error", f"Search failed for {question!r}: {exc}")
        lang = (
            f" Write sub-problems in the language with code '{ctx.search_language_code}'."
            if ctx.search_language_code
            else ""
        )
        drafts = await ask_team_planner(
            tools,
            team.PLANNER_SYSTEM.format(
                team_size=size, today=today(), language_hint=lang, untrusted=untrusted()
            ),
            team.PLANNER_USER.format(
                question=question,
                team_size=size,
                knowledge=render_knowledge(state.get("knowledge", []), 6_000),
                results=render_results(results),
            ),
            size,
            spend,
            call_limit(tools, state),
        )
        subproblems = distinct_subproblems(drafts, question, size)
        share = worker_share(
            state.get("budget_tokens", 0), state.get("tokens_used", 0) + spend.total, size
        )
        planned: TeamState = {**state, "tokens_used": state.get("tokens_used", 0) + spend.total}
        emit(
            planned,
            "team-plan",
            f"Split into {size} sub-problems, {share} tokens each.",
            team_size=size,
            worker_budget=share,
        )
        for sub in subproblems:
            emit(
                planned,
                "team-task",
                f"{sub['worker']}: {sub['question']} — deliverable: {sub['deliverable']}",
                assignee=sub["worker"],
            )
        candidates = _candidates(results)
        return {
            "subproblems": subproblems,
            "worker_budget": share,
            "queries": [question],
            "candidates": candidates,
            "visited_urls": list(candidates),
            "diary": [
                *notes.diary,
                diary_line(state, f"team plan: {[s['question'] for s in subproblems]}"),
            ],
            **notes.update(),
            **spend.update(),
        }

    return team_plan
