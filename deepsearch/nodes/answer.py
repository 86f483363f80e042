"""answer: write a cited answer; a sub-question's answer becomes knowledge."""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from deepsearch.budget import Spend
from deepsearch.context import Context
from deepsearch.nodes.common import NodeFn, diary_line, run_options, untrusted
from deepsearch.nodes.compose import write_answer
from deepsearch.nodes.routing import next_step
from deepsearch.progress import emit
from deepsearch.prompts import answerer
from deepsearch.prompts.render import language_rule
from deepsearch.state import Knowledge, ResearchState
from deepsearch.tools.toolbox import Toolbox


def make_answer(tools: Toolbox) -> NodeFn:
    """Build the ``answer`` node."""

    async def answer(
        state: ResearchState, runtime: Runtime[Context]
    ) -> Command[Literal["evaluate", "plan", "beast_mode"]]:
        """Answer the question in work from the gathered evidence."""
        ctx = run_options(runtime)
        question = state.get("question") or state["original_question"]
        is_original = question == state["original_question"]
        direct_ok = not ctx.no_direct_answer and state.get("step", 0) <= 1
        system = answerer.SYSTEM.format(
            language=language_rule(ctx.language_code),
            direct_rule=answerer.DIRECT_RULE_ALLOWED
            if direct_ok
            else answerer.DIRECT_RULE_FORBIDDEN,
            untrusted=untrusted(),
        )
        spend = Spend()
        mode = "direct" if not state.get("pages") else "researched"
        draft, _ok = await write_answer(
            tools,
            state,
            role="answerer",
            system=system,
            question=question,
            mode=mode,
            spend=spend,
        )
        emit(state, "answer", draft["text"][:500] or "(empty answer)", question=question)
        update: dict[str, Any] = {"last_action": "answer", **spend.update()}
        if is_original:
            update["draft"] = draft
            update["diary"] = [diary_line(state, "answered the original question")]
            return Command(goto="evaluate", update=update)
        gaps = [q for q in state.get("gaps", []) if q != question]
        update["gaps"] = gaps
        if draft["text"]:
            item: Knowledge = {
                "question": question,
                "answer": draft["text"],
                "kind": "qa",
                "references": draft["references"],
                "date": None,
            }
            update["knowledge"] = [item]
        update["diary"] = [diary_line(state, f"answered sub-question {question!r}")]
        update["stalled_steps"] = 0 if draft["text"] else state.get("stalled_steps", 0) + 1
        return Command(
            goto=next_step({**state, **update, "tokens_used": _used(state, spend)}, ctx),
            update=update,
        )

    return answer


def _used(state: ResearchState, spend: Spend) -> int:
    return state.get("tokens_used", 0) + spend.total
