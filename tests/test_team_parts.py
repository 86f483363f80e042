"""The team's pure parts: sub-problem repair, budget shares, page union and stitching."""

from __future__ import annotations

from deepsearch.nodes.team_merge import missing_parts, stitch, union_pages, with_missing_note
from deepsearch.nodes.team_plan import (
    MERGE_RESERVE,
    SubProblemDraft,
    distinct_subproblems,
    worker_share,
)
from deepsearch.state import Reference
from deepsearch.state.team import WorkerReport

EIFFEL = "https://example.org/eiffel"
BEN = "https://example.org/ben"


def ref(url: str, quote: str) -> Reference:
    return {"url": url, "title": url, "exactQuote": quote, "dateTime": None}


def report(n: int, text: str, refs: list[Reference], pages: dict[str, list[str]]) -> WorkerReport:
    return {
        "worker": f"worker-{n}",
        "question": f"Question {n}?",
        "deliverable": "facts",
        "status": "ok" if text else "failed",
        "answer": {"question": "q", "text": text, "references": refs, "mode": "researched"}
        if text
        else None,
        "knowledge": [],
        "pages": {
            u: {"url": u, "title": u, "date": None, "passages": ps} for u, ps in pages.items()
        },
        "tokens_used": 100,
        "steps": 2,
        "error": None if text else "RuntimeError: down",
        "error_type": None if text else "RuntimeError",
    }


def test_subproblems_are_exactly_n_distinct_and_named() -> None:
    drafts = [
        SubProblemDraft(question="When was Big Ben completed?", deliverable="year"),
        SubProblemDraft(question="When was  Big Ben completed?"),  # a duplicate
        SubProblemDraft(question=""),
        SubProblemDraft(question="Who designed Big Ben?", deliverable="architect"),
    ]
    subs = distinct_subproblems(drafts, "Tell me about Big Ben.", 4)
    assert [s["worker"] for s in subs] == ["worker-1", "worker-2", "worker-3", "worker-4"]
    assert subs[0] == {
        "worker": "worker-1",
        "question": "When was Big Ben completed?",
        "deliverable": "year",
    }
    assert subs[1]["question"] == "Who designed Big Ben?"
    assert len({s["question"] for s in subs}) == 4
    assert all(s["deliverable"] for s in subs)
    assert len(distinct_subproblems(drafts, "Tell me about Big Ben.", 2)) == 2
    assert len(distinct_subproblems([], "Tell me about Big Ben.", 10)) == 10


def test_worker_shares_leave_the_merge_reserve() -> None:
    share = worker_share(100_000, 1_000, 4)
    assert share == (100_000 - 1_000 - int(MERGE_RESERVE * 100_000)) // 4
    assert 4 * share + 1_000 <= 0.85 * 100_000
    assert worker_share(1_000, 5_000, 3) == 1  # never 0: 0 would mean "use the default"


def test_stitching_offsets_and_deduplicates_footnotes() -> None:
    shared = ref(EIFFEL, "The tower was completed in 1889.")
    reports = [
        report(
            1, "Completed in 1889 [^1].", [shared], {EIFFEL: ["The tower was completed in 1889."]}
        ),
        report(
            2,
            "Big Ben dates from 1859 [^1]; the tower is older [^2].",
            [ref(BEN, "Big Ben was completed in 1859."), shared],
            {BEN: ["Big Ben was completed in 1859."]},
        ),
        report(3, "", [], {}),
    ]
    answer = stitch("q", reports)
    assert answer["text"] == (
        "**Question 1?**\nCompleted in 1889 [^1].\n\n"
        "**Question 2?**\nBig Ben dates from 1859 [^2]; the tower is older [^1]."
    )
    assert answer["references"] == [shared, ref(BEN, "Big Ben was completed in 1859.")]
    noted = with_missing_note(answer, reports)
    assert noted["text"].endswith(
        "Not established (that research failed or ran out of budget): Question 3?"
    )
    assert missing_parts(reports) == ["- Question 3? (research failed: RuntimeError: down)"]


def test_union_of_pages_keeps_every_passage_and_puts_cited_pages_first() -> None:
    reports = [
        report(1, "", [], {BEN: ["a"], EIFFEL: ["x"]}),
        report(2, "Tower [^1].", [ref(EIFFEL, "y")], {EIFFEL: ["y", "x"]}),
    ]
    pages = union_pages(reports)
    assert list(pages) == [EIFFEL, BEN]
    assert pages[EIFFEL]["passages"] == ["x", "y"]
    assert reports[0]["pages"][EIFFEL]["passages"] == ["x"]  # inputs are not mutated
