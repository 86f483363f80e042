"""reflect: find knowledge gaps and queue at most 2 new, deduplicated sub-questions."""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command
from pydantic import BaseModel, Field

from deepsearch.budget import Spend
from deepsearch.context import Context
from deepsearch.nodes.common import NodeFn, diary_line, run_options, untrusted
from deepsearch.nodes.evidence import evidence_sections
from deepsearch.nodes.room import call_limit, fit_call
from deepsearch.nodes.routing import step_after
from deepsearch.progress import emit
from deepsearch.prompts import answerer, reflector
from deepsearch.prompts.fit import Section
from deepsearch.prompts.render import render_evaluations
from deepsearch.state import ResearchState
from deepsearch.tools.embeddings.local import similarity
from deepsearch.tools.toolbox import Toolbox
from deepsearch.tools.tracing import step_metadata

MAX_NEW_QUESTIONS = 2
MAX_GAPS = 5
NEAR_DUPLICATE = 0.8


class Gaps(BaseModel):
    """The reflector's reply."""

    think: str = ""
    questions: list[str] = Field(default_factory=list, description="at most 2 sub-questions")


def new_questions(proposed: list[str], asked: list[str]) -> list[str]:
    """Keep proposed questions that are not (near) duplicates of ones already asked."""
    kept: list[str] = []
    for q in proposed:
        q = " ".join(q.split())
        if len(q) < 5:
            continue
        if any(similarity(q, other) >= NEAR_DUPLICATE for other in [*asked, *kept]):
            continue
        kept.append(q)
    return kept[:MAX_NEW_QUESTIONS]


def reflector_sections(state: ResearchState) -> list[Section]:
    """The parts of the reflector's prompt that shrink to fit, with their usual sizes."""
    asked, evaluations = "; ".join(state.get("all_questions", [])), state.get("evaluations", [])
    return [
        *evidence_sections(state, state["original_question"], floor=False),
        Section("asked", lambda n: asked[-n:] if n else "", 2_000, 200, True),
        Section(
            "evaluations", lambda n: render_evaluations(evaluations, max_chars=n), 4_000, 0, True
        ),
    ]


def make_reflect(tools: Toolbox) -> NodeFn:
    """Build the ``reflect`` node."""

    async def reflect(
        state: ResearchState, runtime: Runtime[Context]
    ) -> Command[Literal["plan", "beast_mode"]]:
        """Ask what is missing; new sub-questions join the queue. Then route like rank_urls."""
        proposed = list(state.get("action_args", {}).get("questions", []))
        spend = Spend()
        if not proposed:
            limit = call_limit(tools, state)
            prompt = fit_call(
                tools,
                "reflector",
                answerer.EVIDENCE_SYSTEM.format(untrusted=untrusted()),
                reflector.USER,
                reflector_sections(state),
                limit,
                fixed={"original": state["original_question"]},
                schema=Gaps,
            )
            if prompt is None:  # no budget to reflect before the reserve: answer finally
                halt = {"last_action": "reflect", "halt": "budget left only for the final answer"}
                return Command(goto="beast_mode", update=halt)
            result = await tools.llm.structured(
                "reflector",
                Gaps,
                prompt.system,
                prompt.user,
                fallback=Gaps,
                metadata=step_metadata(state),
                max_tokens=prompt.max_tokens,
                limit=limit,
            )
            spend.add(result)
            proposed = result.value.questions
        gaps = list(state.get("gaps", []))
        added = new_questions(proposed, list(state.get("all_questions", [])))
        added = added[: max(0, MAX_GAPS - len(gaps))]
        for q in added:
            emit(state, "reflect", f"New sub-question: {q}")
        if not added:
            emit(state, "reflect", "No new sub-questions.")
        update: dict[str, Any] = {
            "last_action": "reflect",
            "gaps": gaps + added,
            "all_questions": added,
            "stalled_steps": 0 if added else state.get("stalled_steps", 0) + 1,
            "diary": [diary_line(state, f"reflected; new sub-questions: {added or 'none'}")],
            **spend.update(),
        }
        return Command(goto=step_after(state, update, run_options(runtime)), update=update)

    return reflect
