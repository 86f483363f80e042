"""Writing an answer from the evidence, shared by ``answer`` and ``beast_mode``."""

from __future__ import annotations

from pydantic import BaseModel, Field

from deepsearch.budget import Spend
from deepsearch.citations import RawReference, renumber, resolve_references, strip_footnote_section
from deepsearch.prompts import answerer
from deepsearch.prompts.render import (
    render_evaluations,
    render_knowledge,
    render_sources,
    source_ids,
)
from deepsearch.state import Answer, ResearchState
from deepsearch.tools.toolbox import Toolbox
from deepsearch.tools.tracing import step_metadata


class CitedQuote(BaseModel):
    """One footnote as the model writes it."""

    source: str = Field(description="source id, e.g. S2")
    quote: str = Field(description="exact words copied from that source")


class WrittenAnswer(BaseModel):
    """The answerer's reply."""

    answer: str
    references: list[CitedQuote] = Field(default_factory=list)


async def write_answer(
    tools: Toolbox,
    state: ResearchState,
    *,
    role: str,
    system: str,
    question: str,
    mode: str,
    spend: Spend,
    max_annotations: int | None = None,
) -> tuple[Answer, bool]:
    """Ask the model for a cited answer and verify its references.

    Returns the answer (markers renumbered, unverifiable references dropped) and
    whether the model's reply was usable.
    """
    pages = state.get("pages", {})
    original = state["original_question"]
    user = answerer.USER.format(
        question=question,
        original_line="" if question == original else f"(Part of the bigger question: {original})",
        evaluations=render_evaluations(state.get("evaluations", []))
        if question == original
        else "(none)",
        knowledge=render_knowledge(state.get("knowledge", [])),
        sources=render_sources(pages),
    )
    result = await tools.llm.structured(
        role,
        WrittenAnswer,
        system,
        user,
        fallback=lambda: WrittenAnswer(answer=""),
        metadata=step_metadata(state),
        images=list(state.get("images", [])) or None,
    )
    spend.add(result)
    written = result.value
    raw = [RawReference(r.source, r.quote) for r in written.references]
    verified = resolve_references(raw, pages, source_ids(pages))
    text, refs = renumber(strip_footnote_section(written.answer), verified, max_annotations)
    answer: Answer = {
        "question": question,
        "text": text,
        "references": refs,
        "mode": mode,  # type: ignore[typeddict-item]
    }
    return answer, result.ok and bool(text)
