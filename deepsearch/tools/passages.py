"""Select the passages of a page that matter for a question, within a token budget.

A page is split into sentence-aware chunks, the chunks are scored against the
question, and the best chunks are kept with their neighbours as contiguous
windows, in document order, so any page costs a bounded number of tokens.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from deepsearch.tools.base import Relevance
from deepsearch.tools.embeddings.local import lexical_scores

CHARS_PER_TOKEN = 4
# Tuned on the HotpotQA/MuSiQue train splits (benchmarks/bench_evidence.py).
CHUNK_CHARS = 400  # target chunk size
NEIGHBOURS_BEFORE = 1  # chunks kept before a chosen chunk
NEIGHBOURS_AFTER = 1  # chunks kept after a chosen chunk
LEAD_BONUS = 0.05  # a page's opening usually says what the page is about
NEIGHBOUR_WEIGHT = 0.3  # a chunk next to a relevant chunk is a bit relevant too
MAX_REMOTE_CHUNKS = 64  # bound what a paid scorer sees per page (lexical prefilter)
MAX_TEXT_CHARS = 2_000_000  # never split more than this much of a page
_THREAD_CHARS = 100_000

_BOUNDARY_RE = re.compile(r"[.!?。！？]+[\"'”’)\]]*(?=\s)|\n")


@dataclass
class Passage:
    """A contiguous span of a page: ``text == page_text[start:end]``."""

    text: str
    start: int
    end: int
    score: float


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


def chunk_text(text: str, chunk_chars: int = CHUNK_CHARS) -> list[tuple[int, int]]:
    """Group sentences into chunks of about ``chunk_chars`` characters.

    Chunks end at paragraph breaks once half full, and never split a sentence
    unless the sentence alone is longer than twice the target size.

    Args:
        text: A page's text.
        chunk_chars: Target chunk size in characters.

    Returns:
        Chunk spans (start, end) in document order.
    """
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
        paragraph_break = "\n\n" in text[cur[1] : s] or "\n" in text[cur[1] : s]
        if size + (e - s) > chunk_chars or (paragraph_break and size >= chunk_chars // 2):
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


async def select_passages(
    question: str, text: str, relevance: Relevance, *, max_tokens: int = 1500
) -> tuple[list[Passage], int]:
    """Keep the passages of ``text`` most relevant to ``question``, within ``max_tokens``.

    Short pages are returned whole. Longer pages are chunked; each chosen chunk
    brings its neighbours, and the windows come back merged, in document order.

    Args:
        question: What the reader is looking for.
        text: The page's text.
        relevance: The scorer (lexical, reranker or embeddings).
        max_tokens: Budget for all passages together (estimated at 4 characters a token).

    Returns:
        The passages, and the provider tokens the scoring spent.
    """
    budget = max(max_tokens, 1) * CHARS_PER_TOKEN
    if not text or not text.strip():
        return [], 0
    stripped = text.strip()
    if len(stripped) <= budget:
        start = len(text) - len(text.lstrip())
        return [Passage(stripped, start, start + len(stripped), 1.0)], 0
    body = text[:MAX_TEXT_CHARS]
    if len(body) > _THREAD_CHARS:
        chunks = await asyncio.to_thread(chunk_text, body)
    else:
        chunks = chunk_text(body)
    if not chunks:
        return [], 0
    docs = [body[s:e] for s, e in chunks]
    scores, tokens = await _score_chunks(question, docs, relevance)
    chosen = _choose(chunks, _smooth(scores), budget)
    return _merge(text, chunks, chosen, scores), tokens


async def _score_chunks(
    question: str, docs: list[str], relevance: Relevance
) -> tuple[list[float], int]:
    if relevance.name == "local" or len(docs) <= MAX_REMOTE_CHUNKS:
        try:
            scores, tokens = await relevance.score(question, docs)
        except Exception:  # a scorer must never lose the page: fall back to lexical
            scores, tokens = await _lexical(question, docs), 0
        if len(scores) != len(docs):
            scores, tokens = await _lexical(question, docs), tokens
        return [float(s) for s in scores], tokens
    lexical = await _lexical(question, docs)
    top = sorted(range(len(docs)), key=lambda i: -lexical[i])[:MAX_REMOTE_CHUNKS]
    top.sort()
    try:
        remote, tokens = await relevance.score(question, [docs[i] for i in top])
    except Exception:
        return lexical, 0
    if len(remote) != len(top):
        return lexical, tokens
    scores = [0.5 * s for s in lexical]
    for i, s in zip(top, remote, strict=True):
        scores[i] = 0.5 + 0.5 * float(s)
    return scores, tokens


async def _lexical(question: str, docs: list[str]) -> list[float]:
    if sum(len(d) for d in docs) > _THREAD_CHARS:
        return await asyncio.to_thread(lexical_scores, question, docs)
    return lexical_scores(question, docs)


def _smooth(scores: list[float]) -> list[float]:
    out = []
    for i, s in enumerate(scores):
        prev = scores[i - 1] if i > 0 else 0.0
        nxt = scores[i + 1] if i + 1 < len(scores) else 0.0
        out.append(s + NEIGHBOUR_WEIGHT * max(prev, nxt) + (LEAD_BONUS if i == 0 else 0.0))
    return out


def _choose(chunks: list[tuple[int, int]], scores: list[float], budget: int) -> set[int]:
    chosen: set[int] = set()
    used = 0
    order = sorted(range(len(chunks)), key=lambda i: (-scores[i], i))
    for i in order:
        if scores[i] <= 0.0 and chosen:
            break
        window = range(max(i - NEIGHBOURS_BEFORE, 0), min(i + NEIGHBOURS_AFTER + 1, len(chunks)))
        new = [j for j in window if j not in chosen]
        cost = sum(_cost(chunks, j) for j in new)
        if new and used + cost <= budget:
            chosen.update(new)
            used += cost
        elif i not in chosen:
            cost = _cost(chunks, i)
            if used + cost <= budget:
                chosen.add(i)
                used += cost
        if used >= budget:
            break
    return chosen


def _cost(chunks: list[tuple[int, int]], j: int) -> int:
    """Characters chunk ``j`` adds, counting the gap before it (an upper bound)."""
    return chunks[j][1] - (chunks[j - 1][1] if j > 0 else chunks[j][0])


def _merge(
    text: str, chunks: list[tuple[int, int]], chosen: set[int], scores: list[float]
) -> list[Passage]:
    passages: list[Passage] = []
    run: list[int] = []
    for i in sorted(chosen):
        if run and i != run[-1] + 1:
            passages.append(_passage(text, chunks, run, scores))
            run = []
        run.append(i)
    if run:
        passages.append(_passage(text, chunks, run, scores))
    return passages


def _passage(
    text: str, chunks: list[tuple[int, int]], run: list[int], scores: list[float]
) -> Passage:
    start, end = chunks[run[0]][0], chunks[run[-1]][1]
    return Passage(text[start:end], start, end, max(scores[i] for i in run))
