"""beast_mode: the budget or the attempts are spent; answer once from everything known."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from deepsearch.budget import Spend
from deepsearch.context import Context
from deepsearch.nodes.common import NodeFn, diary_line, run_options, untrusted
from deepsearch.nodes.compose import write_answer
from deepsearch.nodes.routing import stop_reason
from deepsearch.progress import emit
from deepsearch.prompts import answerer
from deepsearch.prompts.render import language_rule
from deepsearch.state import Answer, ResearchState
from deepsearch.tools.llm import LLMUnavailable
from deepsearch.tools.toolbox import Toolbox

NO_ANSWER = "I could not find enough evidence to answer this question within the research budget."


def best_previous(state: ResearchState) -> Answer | None:
    """Return the latest non-empty draft, to fall back on when beast mode's reply is unusable."""
    draft = state.get("draft")
    return draft if draft and draft["text"] else None


def make_beast_mode(tools: Toolbox) -> NodeFn:
    """Build the ``beast_mode`` node."""

    async def beast_mode(state: ResearchState, runtime: Runtime[Context]) -> dict[str, Any]:
        """Write the best-effort final answer from all gathered evidence."""
        ctx = run_options(runtime)
        reason = stop_reason(state, ctx) or "research ended"
        emit(state, "beast", f"Beast mode ({reason}): answering from everything gathered.")
        spend = Spend()
        system = answerer.BEAST_SYSTEM.format(
            language=language_rule(ctx.language_code), untrusted=untrusted()
        )
        try:
            answer, ok = await write_answer(
                tools,
                state,
                role="beast",
                system=system,
                question=state["original_question"],
                mode="beast",
                spend=spend,
            )
        except LLMUnavailable as exc:
            previous = best_previous(state)
            if previous is None:
                raise  # nothing to hand over: the run fails (and can be resumed)
            emit(state, "warning", f"The model is unreachable ({exc}); giving the last draft.")
            answer, ok = {**previous, "mode": "beast"}, True
        if not ok:
            previous = best_previous(state)
            answer = (
                {**previous, "mode": "beast"}
                if previous
                else {
                    "question": state["original_question"],
                    "text": NO_ANSWER,
                    "references": [],
                    "mode": "failed",
                }
            )
        emit(state, "answer", answer["text"][:500])
        return {
            "answer": answer,
            "diary": [diary_line(state, f"beast mode answer ({reason})")],
            **spend.update(),
        }

    return beast_mode
