"""beast_mode: the budget or the attempts are spent; answer once from everything known."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from deepsearch.budget import Spend
from deepsearch.context import Context
from deepsearch.nodes.answer_check import best_effort_answer, problem_in_run
from deepsearch.nodes.common import NodeFn, diary_line, run_options, untrusted
from deepsearch.nodes.compose import write_answer
from deepsearch.nodes.room import call_limit
from deepsearch.nodes.routing import stop_reason
from deepsearch.progress import emit
from deepsearch.prompts import answerer
from deepsearch.prompts.render import language_rule
from deepsearch.state import Answer, ResearchState
from deepsearch.tools.llm import LLMUnavailable
from deepsearch.tools.toolbox import Toolbox

NO_ANSWER = "I could not find enough evidence to answer this question within the research budget."
NO_BUDGET = (
    "The token budget of this run is too small to research or write an answer: "
    "raise budget_tokens (a short answer needs about 2,000 tokens)."
)
# Tokens held back from the final answer for the call that rewrites it as JSON.
FORMAT_RESERVE_TOKENS = 1_500


def best_previous(state: ResearchState) -> Answer | None:
    """Return the latest non-empty draft, to fall back on when beast mode's reply is unusable."""
    draft = state.get("draft")
    return draft if draft and draft["text"] else None


def _unaffordable(state: ResearchState) -> Answer:
    """The well-formed answer of a run whose budget cannot pay for the model to write one."""
    return {
        "question": state["original_question"],
        "text": NO_BUDGET,
        "references": [],
        "mode": "failed",
    }


def hold_up(
    state: ResearchState, candidates: list[Answer | None], *, check: bool = True
) -> Answer | None:
    """Return the first candidate fit to be the final answer, as a best-effort (beast) answer.

    With ``check``, a candidate that followed instructions from fetched content (see
    :mod:`~deepsearch.nodes.answer_check`) is passed over for one quoted from the
    verified passages (which costs no tokens); None when nothing holds up.
    """
    for candidate in candidates:
        if candidate is None or not candidate["text"]:
            continue
        problem = problem_in_run(candidate, state) if check else None
        if problem is None:
            return {**candidate, "mode": "beast"}
        emit(state, "warning", f"The answer was not used: it {problem}.")
    if not check:
        return None
    question = state["original_question"]
    return best_effort_answer(question, state.get("pages", {}), state.get("injected_demands", []))


def make_beast_mode(tools: Toolbox) -> NodeFn:
    """Build the ``beast_mode`` node."""

    async def beast_mode(state: ResearchState, runtime: Runtime[Context]) -> dict[str, Any]:
        """Write the best-effort final answer from all gathered evidence."""
        ctx = run_options(runtime)
        reason = stop_reason(state, ctx) or state.get("halt") or "research ended"
        emit(state, "beast", f"Beast mode ({reason}): answering from everything gathered.")
        spend = Spend()
        system = answerer.EVIDENCE_SYSTEM.format(untrusted=untrusted())
        # A requested JSON format is written by one more call after this one: keep its room.
        held = FORMAT_RESERVE_TOKENS if ctx.response_schema else 0
        try:
            written = await write_answer(
                tools,
                state,
                role="beast",
                system=system,
                question=state["original_question"],
                mode="beast",
                spend=spend,
                limit=call_limit(tools, state, held, final=True),
                template=answerer.BEAST_USER,
                task={"language": language_rule(ctx.language_code)},
            )
        except LLMUnavailable as exc:
            kept = hold_up(state, [best_previous(state)], check=tools.check_answers)
            if kept is None:
                raise  # nothing to hand over: the run fails (and can be resumed)
            emit(state, "warning", f"The model is unreachable ({exc}); giving the last draft.")
            answer = kept
        else:
            if written is None:
                emit(state, "warning", "The budget cannot pay for another written answer.")
                kept = hold_up(state, [best_previous(state)], check=tools.check_answers)
                answer = kept or _unaffordable(state)
            else:
                answer, ok = written.answer, written.ok
                candidates = [answer if ok else None, best_previous(state)]
                answer = hold_up(state, candidates, check=tools.check_answers) or {
                    "question": state["original_question"],
                    "text": NO_ANSWER,
                    "references": [],
                    "mode": "failed",
                }
        emit(state, "answer", answer["text"][:500])
        return {
            "answer": answer,
            "diary": [diary_line(state, f"beast mode answer ({reason})")],
            **spend.update(),
        }

    return beast_mode
