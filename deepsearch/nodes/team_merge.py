"""team_merge: the reduce step, one answer to the original question from the workers' parts.

The merger sees every worker's answer with its evidence as quotes of shared source
ids (S1, S2, ... over the union of the pages the workers read), so footnotes from
different workers cannot collide. Its references are verified against those pages
and renumbered like any answer's. When the merger's reply is unusable, or too little
budget is left to call it, the workers' answers are stitched together instead, their
footnotes offset and deduplicated. Failed workers are named in the answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from langgraph.runtime import Runtime
from pydantic import ValidationError

from deepsearch.budget import Spend
from deepsearch.citations import (
    MARKER,
    RawReference,
    renumber,
    resolve_references,
    strip_footnote_section,
)
from deepsearch.context import Context
from deepsearch.nodes.answer_check import best_effort_answer, problem_in_run
from deepsearch.nodes.common import NodeFn, diary_line, run_options, untrusted
from deepsearch.nodes.compose import WrittenAnswer
from deepsearch.nodes.room import call_limit, fit_call
from deepsearch.nodes.screened import ScreeningNotes, vet_report
from deepsearch.progress import emit
from deepsearch.prompts import team
from deepsearch.prompts.fit import Section
from deepsearch.prompts.render import defuse, language_rule, render_sources, source_ids
from deepsearch.state import Answer, PageRecord, Reference
from deepsearch.state.team import TeamState, WorkerReport
from deepsearch.tools.llm import LLMUnavailable, extract_json
from deepsearch.tools.toolbox import Toolbox

NO_TEAM_ANSWER = "The research team could not establish an answer."
_FINDING_TAG = re.compile(r"</?\s*finding[^>]*>", re.IGNORECASE)


def usable(reports: Sequence[WorkerReport]) -> list[WorkerReport]:
    """Return the reports that carry an answer, in worker order."""
    done = [r for r in reports if r["answer"] and r["status"] != "failed"]
    return sorted(done, key=lambda r: _worker_number(r["worker"]))


def _worker_number(name: str) -> int:
    digits = re.findall(r"\d+", name)
    return int(digits[-1]) if digits else 0


def union_pages(reports: Sequence[WorkerReport]) -> dict[str, PageRecord]:
    """Join the pages all workers read; a page read twice keeps both sets of passages.

    Pages that workers' answers cite come first, so they survive prompt truncation.
    """
    cited = [
        ref["url"] for r in usable(reports) if r["answer"] for ref in r["answer"]["references"]
    ]
    pages: dict[str, PageRecord] = {}
    for report in sorted(reports, key=lambda r: _worker_number(r["worker"])):
        for url, page in report["pages"].items():
            if url in pages:
                known = pages[url]["passages"]
                known.extend(p for p in page["passages"] if p not in known)
            else:
                pages[url] = {**page, "passages": list(page["passages"])}
    first = [u for u in dict.fromkeys(cited) if u in pages]
    return {u: pages[u] for u in [*first, *(u for u in pages if u not in first)]}


def render_findings(reports: Sequence[WorkerReport], ids: Mapping[str, str], max_chars: int) -> str:
    """Render each worker's answer with its footnotes turned into shared source ids."""
    id_of = {url: sid for sid, url in ids.items()}
    blocks: list[str] = []
    room = max(400, max_chars // max(1, len(reports)))
    for report in reports:
        answer = report["answer"]
        refs: list[Reference] = answer["references"] if answer else []
        if answer:
            text = _with_source_ids(answer["text"], refs, id_of)
        else:  # stopped early: its sources still count
            read = ", ".join(id_of[u] for u in report["pages"] if u in id_of)
            text = f"(none: {report['error'] or 'no answer'}; sources it read: {read or 'none'})"
        evidence = "\n".join(
            f'- {id_of.get(ref["url"], ref["url"])}: "{ref["exactQuote"]}"' for ref in refs
        )
        learned = "\n".join(
            f"- Q: {k['question'][:200]} A: {k['answer'][:400]}" for k in report["knowledge"][:3]
        )
        body = (
            f"Sub-problem: {report['question']}\nDeliverable: {report['deliverable']}\n"
            f"Answer: {text}\nEvidence:\n{evidence or '(none)'}"
            + (f"\nAlso learned:\n{learned}" if learned else "")
        )
        body = _FINDING_TAG.sub("", defuse(body))[:room]
        blocks.append(
            f'<finding worker="{report["worker"]}" status="{report["status"]}">\n{body}\n</finding>'
        )
    return "\n".join(blocks) if blocks else "(no findings)"


def _with_source_ids(text: str, refs: Sequence[Reference], id_of: Mapping[str, str]) -> str:
    """Replace footnote markers with the shared source ids of their references."""

    def to_id(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return f"[{id_of.get(refs[n - 1]['url'], '?')}]" if 0 < n <= len(refs) else ""

    return MARKER.sub(to_id, text)


def _offset_markers(text: str, offset: int) -> str:
    """Shift every footnote marker by ``offset``."""
    return MARKER.sub(lambda m: f"[^{int(m.group(1)) + offset}]", text)


def missing_parts(reports: Sequence[WorkerReport]) -> list[str]:
    """Describe the sub-problems that failed or ended with only a best-effort answer."""
    lines = []
    for r in sorted(reports, key=lambda r: _worker_number(r["worker"])):
        if r["status"] == "failed":
            why = r["error"] or "no answer found within its budget"
            lines.append(f"- {r['question']} (research failed: {why})")
        elif r["status"] == "partial":
            lines.append(f"- {r['question']} (incomplete: {r['error'] or 'best-effort answer'})")
    return lines


def stitch(question: str, reports: Sequence[WorkerReport]) -> Answer:
    """Join the workers' answers without a model: footnotes offset, then deduplicated."""
    parts: list[str] = []
    refs: list[Reference | None] = []
    done = usable(reports)
    for report in done:
        answer = report["answer"]
        assert answer is not None
        text = _offset_markers(answer["text"], len(refs))
        parts.append(f"**{report['question']}**\n{text}" if len(done) > 1 else text)
        refs.extend(answer["references"])
    text, final = renumber("\n\n".join(parts), refs)
    return {"question": question, "text": text, "references": final, "mode": "merged"}


def with_missing_note(
    answer: Answer, reports: Sequence[WorkerReport], *, merged_sources: bool = False
) -> Answer:
    """Say which sub-problems the answer could not cover.

    With ``merged_sources``, the merger saw the sources of workers that stopped without
    an answer, so only workers that brought back nothing at all are named.
    """
    failed = [
        r["question"]
        for r in reports
        if r["status"] == "failed" or not (r["answer"] or (merged_sources and r["pages"]))
    ]
    if not failed:
        return answer
    note = "Not established (that research failed or ran out of budget): " + "; ".join(failed)
    return {**answer, "text": f"{answer['text']}\n\n{note}".strip()}


def parse_merged(reply: str) -> WrittenAnswer | None:
    """Read the merger's JSON reply; ``None`` when it is unusable."""
    try:
        return WrittenAnswer.model_validate(extract_json(reply))
    except (ValueError, ValidationError):
        return None


def make_team_merge(tools: Toolbox) -> NodeFn:
    """Build the ``team_merge`` node."""

    async def merge_with_model(
        state: TeamState, ctx: Context, reports: list[WorkerReport], spend: Spend
    ) -> Answer | None:
        pages = union_pages(state.get("reports", []))
        ids = source_ids(pages)
        system = team.MERGER_SYSTEM.format(
            language=language_rule(ctx.language_code), untrusted=untrusted()
        )
        with_sources = sorted(
            [r for r in state.get("reports", []) if r["answer"] or r["pages"]],
            key=lambda r: _worker_number(r["worker"]),
        )
        question = state["original_question"]
        missing = missing_parts(state.get("reports", []))
        prompt = fit_call(
            tools,
            "merger",
            system,
            team.MERGER_USER,
            [
                Section("findings", lambda n: render_findings(with_sources, ids, n), 30_000, 800),
                Section("sources", lambda n: render_sources(pages, n, question=question), 30_000),
            ],
            call_limit(tools, state, final=True),
            fixed={"question": question, "missing": "\n".join(missing) or "(nothing)"},
        )
        if prompt is None:
            left = state.get("budget_tokens", 0) - state.get("tokens_used", 0)
            emit(state, "merge", f"Only {left} tokens left: merging without the model.")
            return None
        try:
            result = await tools.llm.text(
                "merger", prompt.system, prompt.user, max_tokens=prompt.max_tokens
            )
        except LLMUnavailable as exc:
            emit(state, "error", f"Merge call failed ({exc}); stitching the parts.")
            return None
        spend.add(result)
        written = parse_merged(result.value)
        if written is None or not written.answer.strip():
            emit(state, "merge", "The merger's reply was unusable; stitching the parts.")
            return None
        raw = [RawReference(r.source, r.quote) for r in written.references]
        verified = resolve_references(raw, pages, ids)
        text, refs = renumber(strip_footnote_section(written.answer), verified)
        had_refs = any(r["answer"] and r["answer"]["references"] for r in reports)
        if not text or (had_refs and not refs):
            emit(state, "merge", "The merged answer lost its evidence; stitching the parts.")
            return None
        return {
            "question": state["original_question"],
            "text": text,
            "references": refs,
            "mode": "merged",
        }

    async def team_merge(state: TeamState, runtime: Runtime[Context]) -> dict[str, Any]:
        """Merge the workers' answers into one cited answer to the original question."""
        ctx = run_options(runtime)
        steps = sum(r["steps"] for r in state.get("reports", []))
        notes = ScreeningNotes({**state, "step": steps})
        # Reports are screened and their answers checked before the merger sees them.
        all_reports = [
            vet_report(r, state, notes, check=tools.check_answers) for r in state.get("reports", [])
        ]
        reports = usable(all_reports)
        question = state["original_question"]
        progress: TeamState = {**state, "step": steps, "reports": all_reports}
        emit(
            progress,
            "merge",
            f"Merging {len(reports)} of {len(all_reports)} workers' answers.",
        )
        spend = Spend()
        answer: Answer | None = None
        by_model = False
        if reports or any(r["pages"] for r in all_reports):
            answer = await merge_with_model(progress, ctx, reports, spend)
            by_model = answer is not None
            if answer is None and reports:
                answer = stitch(question, reports)
        if answer is None:
            _raise_if_llm_down(all_reports)
            answer = {
                "question": question,
                "text": NO_TEAM_ANSWER,
                "references": [],
                "mode": "failed",
            }
        if tools.check_answers and answer["mode"] != "failed":
            answer = _held(progress, answer, reports)
        answer = with_missing_note(answer, all_reports, merged_sources=by_model)
        emit(progress, "answer", answer["text"][:500])
        return {
            "answer": answer,
            "step": steps,
            "diary": [
                *notes.diary,
                diary_line(
                    progress, f"merged {len(reports)} of {len(all_reports)} workers' answers"
                ),
            ],
            **notes.update(),
            **spend.update(),
        }

    return team_merge


def _held(state: TeamState, merged: Answer, reports: Sequence[WorkerReport]) -> Answer:
    """Keep the merged answer if it holds up; else the stitched parts, else quoted passages."""
    pages = union_pages(state.get("reports", []))
    view = {**state, "pages": pages}
    if problem_in_run(merged, view) is None:
        return merged
    emit(state, "warning", "The merged answer did not hold up; answering from the parts.")
    stitched = stitch(merged["question"], reports) if reports else None
    whole = stitched is not None and all(r["status"] == "ok" for r in reports)
    if whole and stitched and problem_in_run(stitched, view) is None:
        return stitched
    fallback = best_effort_answer(merged["question"], pages, state.get("injected_demands", []))
    if fallback is None and stitched and problem_in_run(stitched, view) is None:
        return stitched
    return fallback or {**merged, "text": NO_TEAM_ANSWER, "references": [], "mode": "failed"}


def _raise_if_llm_down(reports: Sequence[WorkerReport]) -> None:
    """Fail the run honestly when every worker failed because the LLM was unreachable."""
    if reports and all(r["error_type"] == LLMUnavailable.__name__ for r in reports):
        raise LLMUnavailable(reports[0]["error"] or "the LLM is unreachable")
