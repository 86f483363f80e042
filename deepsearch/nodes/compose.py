"""Writing an answer from the evidence, shared by ``answer`` and ``beast_mode``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from pydantic import BaseModel, Field

from deepsearch.budget import Spend
from deepsearch.citations import (
    RawReference,
    add_missing_markers,
    inline_ids_to_markers,
    renumber,
    resolve_references,
    strip_footnote_section,
)
from deepsearch.nodes.evidence import EVIDENCE_FIELDS, evidence_fields, evidence_sections
from deepsearch.nodes.room import fit_call
from deepsearch.prompts import answerer
from deepsearch.prompts.fit import Section
from deepsearch.prompts.render import render_evaluations, source_ids
from deepsearch.state import Answer, ResearchState
from deepsearch.tools.toolbox import Toolbox
from deepsearch.tools.tracing import step_metadata

MAX_QUOTE_CHARS = 300
MAX_REFERENCES = 8


class CitedQuote(BaseModel):
    """One footnote as the model writes it."""

    source: str = Field(description="source id, e.g. S2")
    # A quote is one sentence or less: the schema caps it, so a local server's grammar
    # stops a model that would copy whole passages (a cut quote still verifies).
    quote: str = Field(
        description="exact words copied from that source (one sentence or less)",
        json_schema_extra={"maxLength": MAX_QUOTE_CHARS},
    )


class WrittenAnswer(BaseModel):
    """The answerer's reply."""

    answer: str
    references: list[CitedQuote] = Field(
        default_factory=list, json_schema_extra={"maxItems": MAX_REFERENCES}
    )


class Written(NamedTuple):
    """A written answer, whether the model's reply was usable, and the evidence it saw."""

    answer: Answer
    ok: bool
    evidence: str  # the prompt's shared evidence block (prompts.answerer.EVIDENCE)


async def write_answer(
    tools: Toolbox,
    state: ResearchState,
    *,
    role: str,
    system: str,
    question: str,
    mode: str,
    spend: Spend,
    limit: int,
    max_annotations: int | None = None,
    template: str = answerer.USER,
    task: Mapping[str, str] | None = None,
) -> Written | None:
    """Ask the model for a cited answer and verify its references.

    The prompt is fitted into ``limit`` tokens (prompt and reply): the passages least
    relevant to the question are left out first, down to a floor of evidence.
    ``template`` is the role's user prompt: the shared evidence block, then its task
    (whose fields other than the evidence's are filled from ``task``).

    Returns:
        The answer (markers renumbered, unverifiable references dropped), whether the
        model's reply was usable, and the evidence block the prompt began with; None
        when not even the floor fits in ``limit``.
    """
    pages, original = state.get("pages", {}), state["original_question"]
    evaluations = state.get("evaluations", [])
    sections = [
        *evidence_sections(state, question, floor=True),
        Section(
            "evaluations",
            lambda n: (
                render_evaluations(evaluations, max_chars=n) if question == original else "(none)"
            ),
            4_000,
            volatile=True,
        ),
    ]
    prompt = fit_call(
        tools,
        role,
        system,
        template,
        sections,
        limit,
        fixed={**(task or {}), **evidence_fields(state, question)},
        schema=WrittenAnswer,
    )
    if prompt is None:
        return None
    result = await tools.llm.structured(
        role,
        WrittenAnswer,
        prompt.system,
        prompt.user,
        fallback=lambda: WrittenAnswer(answer=""),
        metadata=step_metadata(state),
        images=list(state.get("images", [])) or None,
        max_tokens=prompt.max_tokens,
        limit=limit,
    )
    spend.add(result)
    written = result.value
    raw = [RawReference(r.source, r.quote) for r in written.references]
    verified = resolve_references(raw, pages, source_ids(pages))
    body = strip_footnote_section(written.answer)
    body = inline_ids_to_markers(body, [r.source for r in written.references])
    body = add_missing_markers(body, verified)
    text, refs = renumber(body, verified, max_annotations)
    answer: Answer = {
        "question": question,
        "text": text,
        "references": refs,
        "mode": mode,  # type: ignore[typeddict-item]
    }
    # The block the prompt began with, as it was fitted (``template`` starts with it).
    evidence = answerer.EVIDENCE.format(**{k: prompt.texts[k] for k in EVIDENCE_FIELDS})
    return Written(answer, result.ok and bool(text), evidence)
