"""The evidence block research prompts start with: the sources read and what is known.

The planner, the reflector, the answerer and beast mode (and the judges, on a server
that caches prompt prefixes) begin their prompts with the same system prompt and this
block (``prompts.answerer.EVIDENCE``), rendered the same way for the same state, and
write their own task after it. While they fit, pages are rendered in reading order, so
the block only grows at its end between steps:
servers that cache prompt prefixes (llama.cpp, vLLM, OpenAI) read each page once per
run, not once per call.
"""

from __future__ import annotations

from deepsearch.prompts.fit import Section
from deepsearch.prompts.render import render_knowledge, render_sources
from deepsearch.state import ResearchState

SOURCES_CHARS = 40_000  # the sources' usual size (they shrink to fit a tight call)
KNOWLEDGE_CHARS = 12_000
# The evidence an answer's prompt keeps however tight the budget (~600 tokens).
EVIDENCE_FLOOR_CHARS = 2_400
EVIDENCE_FIELDS = ("sources", "knowledge")  # the block's sections, in its order


def evidence_sections(state: ResearchState, question: str, *, floor: bool) -> list[Section]:
    """Return the block's shrinkable sections (``floor``: keep some sources however tight)."""
    pages, knowledge = state.get("pages", {}), state.get("knowledge", [])
    keep = EVIDENCE_FLOOR_CHARS if floor and pages else 0
    return [
        Section(
            "sources", lambda n: render_sources(pages, n, question=question), SOURCES_CHARS, keep
        ),
        Section("knowledge", lambda n: render_knowledge(knowledge, n), KNOWLEDGE_CHARS),
    ]


def evidence_fields(state: ResearchState, question: str) -> dict[str, str]:
    """Return an answer task's question fields: the question and, for a sub-question, the whole."""
    original = state["original_question"]
    line = "" if question == original else f"(Part of the bigger question: {original})"
    return {"question": question, "original_line": line}
