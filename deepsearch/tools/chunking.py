"""Split a page into sentence-aware chunks, and tell which section and sentence each is in.

Chunks are about a sentence long, never straddle a markdown heading, and
carry their heading for scoring; a sentence too long for one chunk is cut into
pieces that share a sentence number.
"""

from __future__ import annotations

import bisect
import re

# Tuned on the HotpotQA/MuSiQue train splits (benchmarks/bench_evidence.py).
CHUNK_CHARS = 150  # target chunk size (about a sentence)
MAX_HEADING_CHARS = 120  # a heading shown above a passage is cut to this

_HEADING_RE = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)
_BOUNDARY_RE = re.compile(r"[.!?。！？]+[\"'”’)\]]*(?=\s)|\n")


def is_heading(line: str) -> bool:
    """Tell whether ``line`` is a markdown heading ("## Early life"), as chunking sees one."""
    return _HEADING_RE.match(line) is not None


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) spans of the sentences and lines of ``text``.

    Spans exclude surrounding whitespace; blank spans are dropped.

    Args:
        text: A page's text.

    Returns:
        Sentence spans in document order.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _BOUNDARY_RE.finditer(text):
        _add_span(text, pos, m.end(), spans)
        pos = m.end()
    _add_span(text, pos, len(text), spans)
    return spans


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def chunk_text(text: str, chunk_chars: int | None = None) -> list[tuple[int, int]]:
    """Group sentences into chunks of about ``chunk_chars`` characters.

    Chunks end at paragraph breaks once half full, and never split a sentence
    unless the sentence alone is longer than twice the target size.

    Args:
        text: A page's text.
        chunk_chars: Target chunk size in characters (default :data:`CHUNK_CHARS`).

    Returns:
        Chunk spans (start, end) in document order.
    """
    chunk_chars = chunk_chars or CHUNK_CHARS
    chunks: list[tuple[int, int]] = []
    cur: tuple[int, int] | None = None
    for s, e in split_sentences(text):
        if e - s > 2 * chunk_chars:
            if cur:
                chunks.append(cur)
                cur = None
            chunks.extend(_split_long(text, s, e, chunk_chars))
            continue
        if cur is None:
            cur = (s, e)
            continue
        size = cur[1] - cur[0]
        paragraph_break = "\n" in text[cur[1] : s]
        heading = text[s] == "#" and _HEADING_RE.match(text, s) is not None
        if (
            heading
            or size + (e - s) > chunk_chars
            or (paragraph_break and size >= chunk_chars // 2)
        ):
            chunks.append(cur)
            cur = (s, e)
        else:
            cur = (cur[0], e)
    if cur:
        chunks.append(cur)
    return chunks


def _split_long(text: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    while end - start > size:
        cut = text.rfind(" ", start + size // 2, start + size)
        if cut <= start:
            cut = start + size
        out.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        out.append((start, end))
    return out


Heads = list[tuple[str, str] | None]  # per chunk: (heading line, heading text), or None


def chunk_headings(text: str, chunks: list[tuple[int, int]]) -> Heads:
    """Return, for each chunk, the markdown heading of the section it sits in.

    A chunk that opens with its own heading, or that comes before any heading,
    gets None.

    Args:
        text: The page text.
        chunks: Chunk spans.

    Returns:
        One ``(line, text)`` pair (``("## Early life", "Early life")``) or None per chunk.
    """
    headings = [(m.start(), m.group(0).strip(), m.group(1)) for m in _HEADING_RE.finditer(text)]
    starts = [h[0] for h in headings]
    out: Heads = []
    for s, _ in chunks:
        k = bisect.bisect_right(starts, s) - 1
        out.append(headings[k][1:] if k >= 0 and text[s] != "#" else None)
    return out


def headed_chunks(
    text: str, chunks: list[tuple[int, int]], heads: Heads | None = None
) -> list[str]:
    """Return each chunk's text prefixed with the markdown heading it sits under.

    A chunk deep inside a section is about that section's subject even when it
    never names it; the heading lets the scorer see that.

    Args:
        text: The page text.
        chunks: Chunk spans.
        heads: :func:`chunk_headings` of the same text and chunks, if already known.

    Returns:
        One scoring text per chunk.
    """
    if heads is None:
        heads = chunk_headings(text, chunks)
    return [
        f"{head[1]}\n{text[s:e]}" if head else text[s:e]
        for (s, e), head in zip(chunks, heads, strict=True)
    ]


def heading_lines(heads: Heads) -> list[str]:
    """Return, for each chunk, the markdown heading line of its section ("" if none).

    A chunk that opens with its own heading gets "": a passage starting there
    already shows it.

    Args:
        heads: :func:`chunk_headings` of the page's text and chunks.

    Returns:
        One heading line (``"## Early life"``) or ``""`` per chunk.
    """
    return [head[0][:MAX_HEADING_CHARS] if head else "" for head in heads]


def opening_headings(docs: list[str], sections: list[int]) -> dict[int, str]:
    """Return the heading text of each section, keyed by the section's first chunk.

    Args:
        docs: Chunk texts, as :func:`headed_chunks` returns them.
        sections: Section number per chunk (:func:`section_ids`).

    Returns:
        ``{chunk index: heading}`` for the sections that open with a heading.
    """
    out: dict[int, str] = {}
    for i, doc in enumerate(docs):
        if i and sections[i] == sections[i - 1]:
            continue
        m = _HEADING_RE.match(doc)
        if m:
            out[i] = m.group(1)
    return out


def section_ids(text: str, chunks: list[tuple[int, int]]) -> list[int]:
    """Return, for each chunk, the number of the markdown section it belongs to.

    A section starts at each heading (chunks never straddle one); a page
    without headings is one section.

    Args:
        text: The page text.
        chunks: Chunk spans.

    Returns:
        One section number per chunk, non-decreasing from 0.
    """
    ids: list[int] = []
    current = 0
    for i, (s, _) in enumerate(chunks):
        if i and text[s] == "#" and _HEADING_RE.match(text, s):
            current += 1
        ids.append(current)
    return ids


def sentence_ids(text: str, chunks: list[tuple[int, int]]) -> list[int]:
    """Return, for each chunk, the number of the sentence it starts in.

    A sentence too long for one chunk is cut into pieces (:func:`chunk_text`);
    the pieces share a number, so a reader gets the whole sentence or none.

    Args:
        text: The page text.
        chunks: Chunk spans, as :func:`chunk_text` returns them.

    Returns:
        One number per chunk, non-decreasing from 0.
    """
    ids: list[int] = []
    current = 0
    for i, (s, _) in enumerate(chunks):
        if i and not _continues_sentence(text, chunks[i - 1][1], s):
            current += 1
        ids.append(current)
    return ids


def _continues_sentence(text: str, prev_end: int, start: int) -> bool:
    """Whether a chunk starting at ``start`` goes on with the sentence before ``prev_end``."""
    if "\n" in text[prev_end:start]:
        return False
    boundary = _BOUNDARY_RE.search(text, max(prev_end - 4, 0), min(prev_end + 1, len(text)))
    return boundary is None
