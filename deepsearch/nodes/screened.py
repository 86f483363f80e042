"""Note fetched content that carried orders to the assistant, without repeating them.

The tools layer removes such sentences before a node sees the text; the nodes only
tell the user (think stream, diary) that it happened, and keep the replies those
orders demanded in the run's state — never in a prompt — so the final answer can be
checked against them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from deepsearch.nodes.answer_check import problem_in_run
from deepsearch.nodes.common import diary_line
from deepsearch.progress import emit
from deepsearch.prompts.render import safe_url
from deepsearch.state import Knowledge
from deepsearch.tools.screening import screen_text

MAX_DEMANDS = 50
Report = TypeVar("Report", bound=Mapping[str, Any])  # a team worker's report
NOTES = {
    "page": "a page carried instructions to the assistant; they were removed",
    "result": "a search result carried instructions to the assistant; they were removed",
    "file": "an attached file carried instructions to the assistant; they were removed",
    "report": "a team member's report carried instructions to the assistant; they were removed",
}


@dataclass
class ScreeningNotes:
    """Collects what one node's fetched content had removed, for its state update."""

    state: Mapping[str, Any]
    diary: list[str] = field(default_factory=list)
    demands: list[str] = field(default_factory=list)
    _seen: set[tuple[str, str]] = field(default_factory=set)

    def add(self, what: str, removed: int, demands: Sequence[str], where: str = "") -> None:
        """Record that ``removed`` sentences were cut from a ``what`` (page, result, file)."""
        if not removed or (what, where) in self._seen:
            return
        self._seen.add((what, where))
        note = NOTES[what]
        emit(self.state, "screened", f"{where}: {note}." if where else note[0].upper() + note[1:])
        # The diary reaches the planner's prompt: a hostile URL must not leave its line.
        self.diary.append(diary_line(self.state, f"{note} ({safe_url(where)})" if where else note))
        known = set(self.state.get("injected_demands", [])) | set(self.demands)
        self.demands += [d for d in demands if d not in known]

    def update(self) -> dict[str, Any]:
        """Return the state update for the demands found (nothing when none were)."""
        if not self.demands:
            return {}
        return {"injected_demands": self.demands[:MAX_DEMANDS]}


def screen_knowledge(items: Sequence[Knowledge], notes: ScreeningNotes) -> list[Knowledge] | None:
    """Screen knowledge given as input (attached files, seeded facts); None if nothing changed.

    Chat turns are the user's own conversation and stay as they are.
    """
    out: list[Knowledge] = []
    changed = False
    for item in items:
        if item["kind"] == "chat":
            out.append(item)
            continue
        screened = screen_text(item["answer"])
        if screened.removed:
            changed = True
            what = "file" if item["kind"] == "file" else "page"
            notes.add(what, screened.removed, screened.demands)
        out.append({**item, "answer": screened.text})
    return out if changed else None


def vet_report(
    report: Report, state: Mapping[str, Any], notes: ScreeningNotes, *, check: bool = True
) -> Report:
    """Screen a team member's report, and drop its answer when that answer does not hold up.

    A worker stopped by its budget share hands in an unchecked draft; a worker whose
    model obeyed a page could hand in the demanded reply. Its pages still go to the merge.
    """
    answer = report["answer"]
    knowledge = [
        {**k, "answer": screened.text} if (screened := screen_text(k["answer"])).removed else k
        for k in report["knowledge"]
    ]
    removed = sum(k is not o for k, o in zip(knowledge, report["knowledge"], strict=True))
    if answer is not None:
        screened = screen_text(answer["text"])
        removed += screened.removed
        answer = {**answer, "text": screened.text} if screened.removed else answer
    notes.add("report", removed, (), report["worker"])
    vetted = {**report, "knowledge": knowledge, "answer": answer}
    if answer is None or not check:
        return cast(Report, vetted)
    view = {**state, "pages": report["pages"]}
    problem = problem_in_run(answer, view, question=report["question"])
    if problem is not None:
        status = "partial" if report["pages"] else "failed"
        vetted.update(answer=None, status=status, error=f"its answer {problem}")
    return cast(Report, vetted)
