"""Writing an answer from the evidence, shared by ``answer`` and ``beast_mode``."""

from __future__ import annotations

from pydantic import BaseModel, Field

from deepsearch.budget import Spend
from deepsearch.citations import RawReference, renumber, resolve_references, strip_footnote_section
from deepsearch.context import Context
from deepsearch.nodes.common import untrusted
from deepsearch.nodes.room import fit_call
from deepsearch.prompts import answerer
from deepsearch.prompts.fit import Section
from deepsearch.prompts.render import (
    language_rule,
    render_evaluations,
    render_knowledge,
    render_sources,
    source_ids,
)
from deepsearch.state import Answer, ResearchState
from deepsearch.tools.toolbox import Toolbox
from deepsearch.tools.tracing import step_metadata

# The evidence an answer's prompt keeps however tight the budget (~600 tokens).
EVIDENCE_FLOOR_CHARS = 2_400


class CitedQuote(BaseModel):
    """One footnote as the model writes it."""

    source: str = Field(description="source id, e.g. S2")
    quote: str = Field(description="exact words copied from that source")


class WrittenAnswer(BaseModel):
    """The answerer's reply."""

    answer: str
    references: list[CitedQuote] = Field(default_factory=list)


def answerer_system(state: ResearchState, ctx: Context) -> str:
    """Return the system prompt of a written answer (the answerer's, and beast mode's).

    An answer from the model's own knowledge is allowed only at the first step, unless
    the run forbids it.
    """
    direct_ok = not ctx.no_direct_answer and state.get("step", 0) <= 1
    return answerer.SYSTEM.format(
        language=language_rule(ctx.language_code),
        direct_rule=answerer.DIRECT_RULE_ALLOWED if direct_ok else answerer.DIRECT_RULE_FORBIDDEN,
        untrusted=untrusted(),
    )


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
    closing: str = "",
) -> tuple[Answer, bool] | None:
    """Ask the model for a cited answer and verify its references.

    The prompt is fitted into ``limit`` tokens (prompt and reply): the passages least
    relevant to the question are left out first, down to a floor of evidence.
    ``closing`` ends the prompt (beast mode's instructions), after everything a
    previous answer's prompt shared.

    Returns:
        The answer (markers renumbered, unverifiable references dropped) and whether
        the model's reply was usable; None when not even the floor fits in ``limit``.
    """
    pages = state.get("pages", {})
    original = state["original_question"]
    knowledge, evaluations = state.get("knowledge", []), state.get("evaluations", [])
    sections = [
        Section(
            "sources",
            lambda n: render_sources(pages, n, question=question),
            40_000,
            EVIDENCE_FLOOR_CHARS if pages else 0,
        ),
        Section("knowledge", lambda n: render_knowledge(knowledge, n), 12_000),
        Section(
            "evaluations",
            lambda n: (
                render_evaluations(evaluations, max_chars=n) if question == original else "(none)"
            ),
            4_000,
            volatile=True,
        ),
    ]
    # Every written answer keeps room for beast mode's closing, so the final answer's
    # prompt has the same room for its evidence, and the same text up to its closing.
    closing_room = 0 if closing else tools.llm.counter(role).count(answerer.BEAST_CLOSING)
    prompt = fit_call(
        tools,
        role,
        system,
        answerer.USER,
        sections,
        limit,
        fixed={
            "question": question,
            "original_line": ""
            if question == original
            else f"(Part of the bigger question: {original})",
            "closing": closing,
        },
        schema=WrittenAnswer,
        reserve=closing_room,
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
    text, refs = renumber(strip_footnote_section(written.answer), verified, max_annotations)
    answer: Answer = {
        "question": question,
        "text": text,
        "references": refs,
        "mode": mode,  # type: ignore[typeddict-item]
    }
    return answer, result.ok and bool(text)
