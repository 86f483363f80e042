"""plan: choose the next action (search, read, reflect, answer) and its arguments."""

from __future__ import annotations

import copy
import re
from functools import lru_cache
from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command
from pydantic import BaseModel, ConfigDict, Field, field_validator

from deepsearch.budget import STALL_LIMIT, Spend
from deepsearch.context import Context
from deepsearch.nodes.common import (
    NodeFn,
    diary_line,
    run_options,
    today,
    untrusted,
    worth_reading,
)
from deepsearch.nodes.evidence import evidence_sections
from deepsearch.nodes.room import call_limit, fit_call
from deepsearch.nodes.search import fresh_queries
from deepsearch.progress import emit
from deepsearch.prompts import answerer, planner
from deepsearch.prompts.fit import Section
from deepsearch.prompts.render import render_candidates, render_diary, render_evaluations
from deepsearch.state import Action, ResearchState
from deepsearch.tools.embeddings.local import tokenize
from deepsearch.tools.toolbox import Toolbox
from deepsearch.tools.tracing import step_metadata

MAX_UNREAD_FOR_SEARCH = 50
# A sentence holding this share of the question's content words is strong enough
# evidence to attempt an answer right after reading, without asking the planner.
STRONG_EVIDENCE = 0.6
MAX_GAPS_FOR_REFLECT = 2
# Research steps after which the loop attempts an answer itself (it is evaluated) when
# pages were read and the planner has not chosen to answer: a weak planner may search on
# and on; a run at ``low`` effort should answer in minutes, not after its whole budget.
ANSWER_EVERY: dict[str, int] = {"low": 4, "medium": 8, "high": 16}


# What weak models write for an action, by meaning (case, spacing and suffixes such as
# "searching" or "read_urls" are handled for every enum by the reply repair).
ACTION_SYNONYMS: dict[str, Action] = {
    **dict.fromkeys(("query", "web_search", "websearch", "lookup", "look_up", "google"), "search"),
    **dict.fromkeys(("find", "visit", "open", "browse", "fetch", "click", "scrape"), "read"),
    **dict.fromkeys(("read_url", "open_url", "visit_url", "crawl"), "read"),
    **dict.fromkeys(("think", "reflection", "analyze", "analyse", "plan", "gaps"), "reflect"),
    **dict.fromkeys(("final_answer", "respond", "reply", "finish", "done"), "answer"),
    **dict.fromkeys(("submit", "final", "conclude", "answer_question"), "answer"),
}


class PlanDecision(BaseModel):
    """The planner's reply."""

    think: str = Field(default="", description="one or two sentences of reasoning")
    action: Action
    queries: list[str] = Field(default_factory=list, description="for search: 1-5 queries")
    urls: list[str] = Field(default_factory=list, description="for read: up to 5 URLs")
    questions: list[str] = Field(default_factory=list, description="for reflect: up to 2")

    @field_validator("action", mode="before")
    @classmethod
    def _action_meant(cls, value: Any) -> Any:
        """Map an action a model invented (``query``, ``visit``) to the one it means."""
        if isinstance(value, str):
            return ACTION_SYNONYMS.get(re.sub(r"[^a-z]+", "_", value.lower()).strip("_"), value)
        return value


# What each action needs besides its name, as the JSON schema the model is shown.
_TEXTS = {"type": "array", "items": {"type": "string", "maxLength": 150}}
ACTION_ARGUMENTS: dict[str, tuple[dict[str, Any], list[str]]] = {
    "search": ({"queries": {**_TEXTS, "minItems": 1, "maxItems": 5}}, ["queries"]),
    "read": ({"urls": {**_TEXTS, "items": {"type": "string"}, "maxItems": 5}}, []),
    "reflect": ({"questions": {**_TEXTS, "minItems": 1, "maxItems": 2}}, ["questions"]),
    "answer": ({}, []),
}


def decision_json_schema(allowed: tuple[Action, ...]) -> dict[str, Any]:
    """Return the JSON schema of a decision among ``allowed``: one object shape per action.

    Each shape names its action and only the arguments that action takes, so a model
    (and the grammar a local server builds from the schema) writes nothing else.
    """
    shapes = []
    for action in allowed:
        args, required = ACTION_ARGUMENTS[action]
        think = {"type": "string", "maxLength": 300, "description": "one or two sentences"}
        shapes.append(
            {
                "type": "object",
                "properties": {"think": think, "action": {"const": action}, **args},
                "required": ["action", *required],
            }
        )
    return shapes[0] if len(shapes) == 1 else {"anyOf": shapes}


@lru_cache(maxsize=32)
def decision_schema(allowed: tuple[Action, ...]) -> type[PlanDecision]:
    """Return :class:`PlanDecision` whose schema offers only the ``allowed`` actions.

    The schema the model is shown (and the grammar a local server builds from it) then
    offers only what the loop's rules allow at this step, each with its own arguments;
    a reply is still read as a :class:`PlanDecision` (another action is replaced by the
    node without asking again).
    """
    shown = decision_json_schema(allowed)

    def show(schema: dict[str, Any]) -> None:
        schema.clear()
        schema.update(copy.deepcopy(shown))

    class StepDecision(PlanDecision):
        model_config = ConfigDict(json_schema_extra=show)

    return StepDecision


def current_question(state: ResearchState, step: int) -> str:
    """Rotate through the original question and the open sub-questions, one per step."""
    pool = [state["original_question"], *state.get("gaps", [])]
    return pool[(step - 1) % len(pool)]


def allowed_actions(state: ResearchState, ctx: Context, step: int) -> list[Action]:
    """Apply the loop's rules: what may be done at this step."""
    last = state.get("last_action")
    unread = worth_reading(state)
    must_read = [u for u in state.get("must_read", []) if u not in state.get("read_urls", [])]
    must_read = [u for u in must_read if u not in state.get("failed_urls", [])]
    if must_read:
        return ["read"]
    if state.get("stalled_steps", 0) >= STALL_LIMIT and worth_reading(state):
        return ["read"]  # stalling with good pages unread: read them rather than stop
    allowed: list[Action] = []
    if last != "search" and len(unread) < MAX_UNREAD_FOR_SEARCH:
        allowed.append("search")
    if unread and last != "read":
        allowed.append("read")
    if last != "reflect" and step > 1 and len(state.get("gaps", [])) <= MAX_GAPS_FOR_REFLECT:
        allowed.append("reflect")
    direct_ok = step > 1 or not ctx.no_direct_answer
    if last not in ("search", "answer") and direct_ok:
        allowed.append("answer")
    if not allowed:  # nothing fits the rules: research more if possible, else answer
        allowed = ["read"] if unread else (["search"] if last != "search" else ["answer"])
    return allowed


def fallback_decision(state: ResearchState, allowed: list[Action], question: str) -> PlanDecision:
    """A safe action when the planner's reply is unusable."""
    preference: tuple[Action, ...] = ("read", "search", "answer", "reflect")
    for action in preference:
        if action in allowed:
            if action == "search":
                return PlanDecision(action="search", queries=[question])
            return PlanDecision(action=action)
    return PlanDecision(action=allowed[0])


def evidence_strength(state: ResearchState, question: str) -> float:
    """Return how much of the question the best sentence read covers, in [0, 1].

    The share of the question's content words (stemmed, stopwords aside) that one
    sentence of one passage holds: free to compute, and high only when a sentence
    speaks of everything the question names.
    """
    wanted = set(tokenize(question))
    if not wanted:
        return 0.0
    best = 0.0
    for page in state.get("pages", {}).values():
        for passage in page["passages"]:
            for sentence in _SENTENCE.split(passage):
                best = max(best, len(wanted & set(tokenize(sentence))) / len(wanted))
    return best


_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def due_for_an_answer(state: ResearchState, ctx: Context | None, step: int) -> bool:
    """Tell whether research ran its effort's steps since the last answer, with pages read."""
    every = ANSWER_EVERY.get(ctx.reasoning_effort if ctx else "medium", ANSWER_EVERY["medium"])
    return bool(state.get("pages")) and step - state.get("answered_step", 0) > every


def forced_decision(
    state: ResearchState,
    allowed: list[Action],
    question: str = "",
    ctx: Context | None = None,
    step: int = 0,
) -> PlanDecision | None:
    """Return the decision when the rules leave no choice the model could improve, else None.

    Reading the URLs the user pasted, reading right after a search, or answering when
    nothing else is allowed, needs no arguments from the model: asking it would only
    cost a call. Answering is also forced when the pages just read cover the question,
    or when research ran its effort's steps without an answer (:data:`ANSWER_EVERY`).
    """
    if allowed == ["answer"]:
        return PlanDecision(think="Nothing else is left to do: answer.", action="answer")
    must_read = set(state.get("must_read", [])) - set(state.get("read_urls", []))
    if allowed == ["read"] and must_read - set(state.get("failed_urls", [])):
        return PlanDecision(think="Read the pages the user gave first.", action="read")
    if allowed == ["read"] and state.get("stalled_steps", 0) >= STALL_LIMIT:
        note = "No progress lately: read the best unread results."
        return PlanDecision(think=note, action="read")
    if (
        state.get("last_action") == "read"
        and "answer" in allowed
        and evidence_strength(state, question) >= STRONG_EVIDENCE
    ):
        # The pages just read match the question closely: attempt the answer (it is
        # evaluated) instead of waiting for the model to notice.
        return PlanDecision(think="The pages read answer it closely: answer.", action="answer")
    if "answer" in allowed and due_for_an_answer(state, ctx, step):
        note = "Enough steps of research for this effort: answer from what was read."
        return PlanDecision(think=note, action="answer")
    if state.get("last_action") == "search" and "read" in allowed:
        # Right after a search the rules leave read or reflect, and reflecting on results
        # unread is never the better step: read the best of them (the ranking picks).
        return PlanDecision(think="Read the best of the new results.", action="read")
    return None


def instead_of_repeats(state: ResearchState, decision: PlanDecision, question: str) -> PlanDecision:
    """Turn a search whose queries were all run before into a read of the best unread results.

    A repeat-only search would find nothing new and waste the step; when nothing is
    left worth reading, the search goes ahead (and counts as a stalled step).
    """
    if decision.action != "search":
        return decision
    proposed = [q for q in decision.queries if q.strip()] or [question]
    if fresh_queries(proposed, list(state.get("queries", []))) or not worth_reading(state):
        return decision
    return PlanDecision(
        think="The planned searches were all run before: read the best unread results instead.",
        action="read",
    )


def planner_sections(state: ResearchState, question: str) -> list[Section]:
    """The parts of the planner's prompt that shrink to fit, with their usual sizes.

    The evidence comes first, rendered as the answer's prompt renders it (a shared,
    cached prefix); then the step's own state.
    """
    unread, diary = worth_reading(state), state.get("diary", [])
    evaluations = state.get("evaluations", [])
    return [
        *evidence_sections(state, question, floor=False),
        Section("candidates", lambda n: render_candidates(unread, max_chars=n), 4_000, 300, True),
        Section("diary", lambda n: render_diary(diary, max_chars=n), 3_000, 200, True),
        Section(
            "evaluations", lambda n: render_evaluations(evaluations, max_chars=n), 4_000, 0, True
        ),
    ]


def out_of_budget(state: ResearchState, step: int) -> Command[Any]:
    """Go to beast mode: not even a fitted planner call is affordable before the reserve."""
    note = "No budget left for another research step: answering from what is known."
    emit({**state, "step": step}, "plan", note, action="beast_mode")
    return Command(goto="beast_mode", update={"halt": "budget left only for the final answer"})


def make_plan(tools: Toolbox) -> NodeFn:
    """Build the ``plan`` node."""

    async def plan(
        state: ResearchState, runtime: Runtime[Context]
    ) -> Command[Literal["search", "read", "reflect", "answer", "beast_mode"]]:
        """Choose the next action for the question in work (beast mode when none is affordable)."""
        ctx = run_options(runtime)
        step = state.get("step", 0) + 1
        question = current_question(state, step)
        allowed = allowed_actions(state, ctx, step)
        spend = Spend()
        decision = forced_decision(state, allowed, question, ctx, step)
        if decision is None:
            lang = (
                f" Write search queries in the language with code '{ctx.search_language_code}'."
                if ctx.search_language_code
                else ""
            )
            system = answerer.EVIDENCE_SYSTEM.format(untrusted=untrusted())
            limit = call_limit(tools, state)
            schema = decision_schema(tuple(allowed))
            prompt = fit_call(
                tools,
                "planner",
                system,
                planner.USER,
                planner_sections(state, question),
                limit,
                fixed={
                    "original": state["original_question"],
                    "question": question,
                    "today": today(),
                    "language_hint": lang,
                    "allowed": ", ".join(allowed),
                },
                schema=schema,
            )
            if prompt is None:
                return out_of_budget(state, step)
            result = await tools.llm.structured(
                "planner",
                schema,
                prompt.system,
                prompt.user,
                fallback=lambda: fallback_decision(state, allowed, question),
                metadata={**step_metadata(state), "step": step},
                max_tokens=prompt.max_tokens,
                limit=limit,
            )
            spend.add(result)
            decision = result.value
        if decision.action not in allowed:
            decision = fallback_decision(state, allowed, question).model_copy(
                update={"think": decision.think, "queries": decision.queries}
            )
        decision = instead_of_repeats(state, decision, question)
        args: dict[str, Any] = {"question": question}
        if decision.action == "search":
            args["queries"] = [q for q in decision.queries if q.strip()][:5] or [question]
        elif decision.action == "read":
            args["urls"] = decision.urls[:5]
        elif decision.action == "reflect":
            args["questions"] = decision.questions[:2]
        note = decision.think.strip() or f"Next: {decision.action}."
        progress_state = {**state, "step": step}
        emit(progress_state, "plan", note, action=decision.action, question=question)
        return Command(
            goto=decision.action,
            update={
                "step": step,
                "question": question,
                "action": decision.action,
                "action_args": args,
                "diary": [diary_line(progress_state, f"{decision.action} — {note}")],
                **spend.update(),
            },
        )

    return plan
