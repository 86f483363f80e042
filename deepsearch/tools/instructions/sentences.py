"""Split text into sentences (and lines of lists, headings, code) with their offsets.

Screening removes whole sentences from the original text, so each sentence keeps its
span. Paragraphs group sentences (an order's neighbours in the same paragraph may go
with it); code blocks and block quotes are marked as quoted; a sentence wrapped over
several lines (PDF text) stays one sentence.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

_FENCE = re.compile(r"^\s*(?:```|~~~)")
_BLOCK_START = re.compile(r"^\s*(?:[-*+•]\s|#{1,6}\s|\||\d{1,3}[.)]\s)")
_QUOTE_LINE = re.compile(r"^\s*>")
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)|[。！？]+")
_ABBREVIATION = re.compile(
    r"(?:\b(?:e\.g|i\.e|etc|mr|mrs|ms|dr|st|vs|no|fig|inc|ltd|jr|sr|u\.s|approx|cf)|\b[A-Z])\.$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Segment:
    """A sentence: its span in the text, its paragraph, and whether it is quoted."""

    start: int
    end: int
    block: int
    quoted: bool


def split_sentences(text: str) -> Iterator[Segment]:
    """Split text into sentences (and lines of lists, headings, code) with their offsets."""
    block = 0
    for start, end, quoted in _blocks(text):
        block += 1
        if quoted:
            for line_start, line_end in _lines(text, start, end):
                yield Segment(line_start, line_end, block, True)
            continue
        for s, e in _sentences(text, start, end):
            yield Segment(s, e, block, False)


def _lines(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    pos = start
    for line in text[start:end].splitlines(keepends=True):
        if line.strip():
            lead = len(line) - len(line.lstrip())
            yield pos + lead, pos + len(line.rstrip())
        pos += len(line)


def _blocks(text: str) -> Iterator[tuple[int, int, bool]]:
    """Yield paragraphs (start, end, quoted): blank lines, list items and fences split them."""
    start: int | None = None
    quoted = fence = False
    pos = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        is_fence = bool(_FENCE.match(line))
        quote_line = fence or bool(_QUOTE_LINE.match(line))
        new_block = (
            not stripped
            or is_fence
            or bool(_BLOCK_START.match(line))
            or quote_line != quoted
            or (start is not None and text[start:pos].rstrip().endswith(":"))
        )
        if new_block and start is not None:
            yield start, pos, quoted
            start = None
        if is_fence:
            fence = not fence
        elif stripped and start is None:
            start, quoted = pos, quote_line
        pos += len(line)
    if start is not None:
        yield start, len(text), quoted


def _sentences(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Split a paragraph at sentence ends and at line ends that close a sentence."""
    cuts = [start]
    chunk = text[start:end]
    for match in _SENTENCE_END.finditer(chunk):
        if not _ABBREVIATION.search(chunk[max(0, match.start() - 8) : match.start() + 1]):
            cuts.append(start + match.end())
    for match in re.finditer(r"\n", chunk):
        if chunk[: match.start()].rstrip()[-1:] in (".", "!", "?", ":", ";"):
            cuts.append(start + match.end())
    cuts = [*sorted(set(cuts)), end]
    for a, b in itertools.pairwise(cuts):
        piece = text[a:b]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            yield a + lead, a + len(piece.rstrip())
