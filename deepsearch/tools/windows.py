"""Windows of a page: chosen chunks merged into passages, each under its section heading.

A passage deep in a section shows the section's markdown heading above it, so
"It is the county seat" still says what "it" is; the heading is paid for from
the page's token budget like the passage itself.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HEADING_GAP", "Passage", "label_delta", "merge_windows"]

HEADING_GAP = "\n…\n"  # between a passage's section heading and the passage


@dataclass
class Passage:
    """A contiguous span of a page: ``text == page_text[start:end]``.

    ``heading`` is the markdown heading line of the section the passage sits in
    when the passage does not open with it ("" otherwise): without it, "It is
    the county seat" deep in a section does not say what "it" is.
    """

    text: str
    start: int
    end: int
    score: float
    heading: str = ""

    def shown(self) -> str:
        """Return the passage as a reader sees it: its section heading, a gap, the text."""
        return f"{self.heading}{HEADING_GAP}{self.text}" if self.heading else self.text


def label_delta(labels: list[str] | None, group: list[int], chosen: set[int]) -> int:
    """Characters the headings shown above passages change by if ``group`` is added.

    A chunk that starts a passage shows its section's heading; one that joins
    the passage after it takes over as its start, so that passage's heading is
    no longer paid for (it is the same section's, or none when the chunk opens
    with the heading itself).
    """
    if labels is None:
        return 0
    delta = 0
    added: set[int] = set()  # in ascending order, so only a chunk before j can be here
    for j in sorted(group):
        if j - 1 not in chosen and j - 1 not in added and labels[j]:
            delta += len(labels[j]) + len(HEADING_GAP)
        if j + 1 in chosen and labels[j + 1]:
            delta -= len(labels[j + 1]) + len(HEADING_GAP)
        added.add(j)
    return delta


def merge_windows(
    text: str,
    chunks: list[tuple[int, int]],
    chosen: set[int],
    scores: list[float],
    labels: list[str],
) -> list[Passage]:
    """Merge the chosen chunks into passages, in document order.

    Args:
        text: The page text.
        chunks: Chunk spans.
        chosen: Indexes of the chunks to keep.
        scores: Relevance per chunk (a passage scores as its best chunk).
        labels: Heading line per chunk (:func:`~deepsearch.tools.chunking.heading_lines`).

    Returns:
        One passage per run of adjacent chosen chunks.
    """
    passages: list[Passage] = []
    run: list[int] = []
    for i in sorted(chosen):
        if run and i != run[-1] + 1:
            passages.append(_passage(text, chunks, run, scores, labels))
            run = []
        run.append(i)
    if run:
        passages.append(_passage(text, chunks, run, scores, labels))
    return passages


def _passage(
    text: str,
    chunks: list[tuple[int, int]],
    run: list[int],
    scores: list[float],
    labels: list[str],
) -> Passage:
    start, end = chunks[run[0]][0], chunks[run[-1]][1]
    score = max(scores[i] for i in run)
    return Passage(text[start:end], start, end, score, labels[run[0]])
