"""plan: choose the next action (search, read, reflect, answer) and its arguments."""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command
from pydantic import BaseModel, Field

from deepsearch.budget import Spend
from deepsearch.context import Context
from deepsearch.nodes.common import NodeFn, diary_line, ranked_unread, run_options, today, untrusted
from deepsearch.progress import emit
from deepsearch.prompts import planner
from deepsearch.prompts.render import (
    render_candidates,
    render_diary,
    render_evaluations,
    render_knowledge,
    render_sources,
)
from deepsearch.state import Action, ResearchState
from deepsearch.tools.toolbox import Toolbox
from deepsearch.tools.tracing import step_metadata

MAX_UNREAD_FOR_SEARCH = 50
MAX_GAPS_FOR_REFLECT = 2


class PlanDecision(BaseModel):
    """The planner's reply."""

    think: str = Field(default="", description="one or two sentences of reasoning")
    action: Action
    queries: list[str] = Field(default_factory=list, description="for search: 1-5 queries")
    urls: list[str] = Field(default_factory=list, description="for read: up to 5 URLs")
    questions: list[str] = Field(default_factory=list, description="for reflect: up to 2")


def current_question(state: ResearchState, step: int) -> str:
    """Rotate through the original question and the open sub-questions, one per step."""
    pool = [state["original_question"], *state.get("gaps", [])]
    return pool[(step - 1) % len(pool)]


def allowed_actions(state: ResearchState, ctx: Context, step: int) -> list[Action]:
    """Apply the loop's rules: what may be done at this step."""
    last = state.get("last_action")
    unread = ranked_unread(state)
    must_read = [u for u in state.get("must_read", []) if u not in state.get("read_urls", [])]
    must_read = [u for u in must_read if u not in state.get("failed_urls", [])]
    if must_read:
        return ["read"]
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


def forced_decision(state: ResearchState, allowed: list[Action]) -> PlanDecision | None:
    """Return the decision when the rules leave no choice the model could improve, else None.

    Reading the URLs the user pasted, or answering when nothing else is allowed, needs
    no arguments from the model: asking it would only cost a call.
    """
    if allowed == ["answer"]:
        return PlanDecision(think="Nothing else is left to do: answer.", action="answer")
    must_read = set(state.get("must_read", [])) - set(state.get("read_urls", []))
    if allowed == ["read"] and must_read - set(state.get("failed_urls", [])):
        return PlanDecision(think="Read the pages the user gave first.", action="read")
    return None


def make_plan(tools: Toolbox) -> NodeFn:
    """Build the ``plan`` node."""

    async def plan(
        state: ResearchState, runtime: Runtime[Context]
    ) -> Command[Literal["search", "read", "reflect", "answer"]]:
        """Choose the next action for the question in work."""
        ctx = run_options(runtime)
        step = state.get("step", 0) + 1
        question = current_question(state, step)
        allowed = allowed_actions(state, ctx, step)
        spend = Spend()
        decision = forced_decision(state, allowed)
        if decision is None:
            lang = (
                f" Write search queries in the language with code '{ctx.search_language_code}'."
                if ctx.search_language_code
                else ""
            )
            system = planner.SYSTEM.format(today=today(), language_hint=lang, untrusted=untrusted())
            user = planner.USER.format(
                original=state["original_question"],
                question=question,
                allowed=", ".join(allowed),
                diary=render_diary(state.get("diary", [])),
                evaluations=render_evaluations(state.get("evaluations", [])),
                knowledge=render_knowledge(state.get("knowledge", []), 8_000),
                candidates=render_candidates(ranked_unread(state)),
                sources=render_sources(state.get("pages", {}), 16_000),
            )
            result = await tools.llm.structured(
                "planner",
                PlanDecision,
                system,
                user,
                fallback=lambda: fallback_decision(state, allowed, question),
                metadata={**step_metadata(state), "step": step},
            )
            spend.add(result)
            decision = result.value
        if decision.action not in allowed:
            decision = fallback_decision(state, allowed, question).model_copy(
                update={"think": decision.think, "queries": decision.queries}
            )
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
