"""finalize: cap references, apply a requested JSON schema, add the answer message."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from deepsearch.budget import Spend, usage_of
from deepsearch.citations import renumber
from deepsearch.context import Context
from deepsearch.nodes.common import NodeFn, run_options
from deepsearch.nodes.room import call_limit
from deepsearch.progress import emit
from deepsearch.prompts import formatter
from deepsearch.state import Answer, Reference, ResearchState
from deepsearch.tools.llm import extract_json
from deepsearch.tools.toolbox import Toolbox

# A JSON rewrite needs at least this many reply tokens to be worth trying.
MIN_FORMAT_TOKENS = 128


def cap_references(answer: Answer, limit: int) -> Answer:
    """Keep at most ``limit`` references, renumbering markers and dropping the others."""
    refs: list[Reference | None] = list(answer["references"])
    text, kept = renumber(answer["text"], refs, limit)
    return {**answer, "text": text, "references": kept}


async def as_json(
    tools: Toolbox, schema: dict[str, Any], question: str, text: str, spend: Spend, room: int
) -> str:
    """Rewrite ``text`` as JSON valid against ``schema`` (two tries, then best effort).

    A try that would not fit in ``room`` tokens is not made.
    """
    system = formatter.SYSTEM.format(schema=json.dumps(schema))
    user = formatter.USER.format(question=question, answer=text)
    value: Any = {}
    for _ in range(2):
        cap = min(tools.llm.completion_cap("formatter"), room - spend.total)
        cap -= tools.llm.estimate("formatter", system, user)
        if cap < MIN_FORMAT_TOKENS:
            break
        result = await tools.llm.text("formatter", system, user, max_tokens=cap)
        spend.add(result)
        try:
            value = extract_json(result.value)
            jsonschema.validate(value, schema)
            return json.dumps(value, ensure_ascii=False)
        except (ValueError, jsonschema.ValidationError) as exc:
            user += f"\n\nYour previous reply was invalid: {str(exc)[:500]}. Try again."
    return json.dumps(value, ensure_ascii=False)


def make_finalize(tools: Toolbox) -> NodeFn:
    """Build the ``finalize`` node."""

    async def finalize(state: ResearchState, runtime: Runtime[Context]) -> dict[str, Any]:
        """Shape the run's output."""
        ctx = run_options(runtime)
        answer = state.get("answer") or state.get("draft")
        if answer is None:
            answer = {
                "question": state.get("original_question", ""),
                "text": "",
                "references": [],
                "mode": "failed",
            }
        answer = cap_references(answer, ctx.max_annotations)
        spend = Spend()
        if ctx.response_schema and answer["text"]:
            text = await as_json(
                tools,
                ctx.response_schema,
                state.get("original_question", ""),
                answer["text"],
                spend,
                call_limit(tools, state, final=True),
            )
            answer = {**answer, "text": text}
        update = spend.update()
        totals: dict[str, Any] = state  # type: ignore[assignment]
        usage = usage_of({k: int(totals.get(k, 0)) + update[k] for k in update})
        emit(
            state, "done", f"Done in {state.get('step', 0)} steps, {usage['total_tokens']} tokens."
        )
        return {
            "answer": answer,
            "usage": usage,
            "messages": [AIMessage(content=answer["text"], name="deepsearch")],
            **update,
        }

    return finalize
