"""finalize: cap references and URLs, add the answer message, report usage."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from deepsearch.budget import usage_of
from deepsearch.citations import renumber
from deepsearch.context import Context
from deepsearch.nodes.common import run_options
from deepsearch.progress import emit
from deepsearch.state import Answer, Reference, ResearchState


def cap_references(answer: Answer, limit: int) -> Answer:
    """Keep at most ``limit`` references, renumbering markers and dropping the others."""
    refs: list[Reference | None] = list(answer["references"])
    text, kept = renumber(answer["text"], refs, limit)
    return {**answer, "text": text, "references": kept}


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
    usage = usage_of(state)
    emit(state, "done", f"Done in {state.get('step', 0)} steps, {usage['total_tokens']} tokens.")
    return {
        "answer": answer,
        "usage": usage,
        "messages": [AIMessage(content=answer["text"], name="deepsearch")],
    }
