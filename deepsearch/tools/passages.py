"""Select the passages of a page that matter for a question, within a token budget.

A page is split into sentence-aware chunks, the chunks are scored against the
question (a chunk next to a relevant one scores a bit too), and the best chunks
are kept as contiguous windows, in document order, so any page costs a bounded
number of tokens.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable
from functools import partial

from deepsearch.tools.answer_types import answer_pattern
from deepsearch.tools.base import Relevance
from deepsearch.tools.chunking import (
    CHUNK_CHARS,
    chunk_headings,
    chunk_text,
    headed_chunks,
    heading_lines,
    opening_headings,
    section_ids,
    sentence_ids,
    split_sentences,
)
from deepsearch.tools.embeddings.local import LexicalIndex, lexical_scores, tokenize
from deepsearch.tools.names import heading_name, in_lower_case, name_terms
from deepsearch.tools.windows import HEADING_GAP, Passage, label_delta, merge_windows

__all__ = [
    "CHARS_PER_TOKEN",
    "CHUNK_CHARS",
    "HEADING_GAP",
    "Passage",
    "answer_pattern",
    "chunk_text",
    "headed_chunks",
    "plan",
    "section_ids",
    "select_passages",
    "sentence_ids",
    "split_sentences",
]

CHARS_PER_TOKEN = 4
# Tuned on the HotpotQA/MuSiQue train splits (benchmarks/bench_evidence.py).
NEIGHBOURS_BEFORE = 1  # chunks kept before a chosen chunk
NEIGHBOURS_AFTER = 1  # chunks kept after a chosen chunk
PRF_ROUNDS = 2  # rounds of pseudo-relevance feedback
TITLE_BONUS = 0.5  # a section titled with a name the question gives seeds the feedback
LEAD_BONUS = 0.05  # a section's opening usually says what the section is about
HEADING_BONUS = 0.2  # a section headed by a name the question or a bridge gives is about it
NEIGHBOUR_WEIGHT = 0.3  # a chunk next to a relevant chunk is a bit relevant too
PRF_TOP = 3  # chunks whose names expand the question (multi-hop bridges)
PRF_WEIGHT = 2.0  # weight of the expanded-question score
ANSWER_TYPE_BONUS = 0.1  # a chunk holding the kind of answer asked for (a year, a number)
REMOTE_WEIGHT = 1.0  # weight of a remote scorer's relevance next to lexical coverage
MAX_SENTENCE_CHARS = 600  # the pieces of a split sentence up to this long are kept together
MAX_REMOTE_CHUNKS = 64  # bound what a paid scorer sees per page (lexical prefilter)
MAX_TEXT_CHARS = 2_000_000  # never split more than this much of a page
_THREAD_CHARS = 100_000


async def select_passages(
    question: str, text: str, relevance: Relevance, *, max_tokens: int = 1500
) -> tuple[list[Passage], int]:
    """Keep the passages of ``text`` most relevant to ``question``, within ``max_tokens``.

    Short pages are returned whole. Longer pages are chunked (about a sentence
    each) and scored; names found in the best chunks expand the question
    (multi-hop bridges). A section titled with a name the question gives
    opens higher before that feedback, so the next hop starts from what the
    page says about the question's own subject; a section whose heading the
    best chunks name opens a bit higher too. Chunks are kept best first while
    the budget lasts; what is left goes to the neighbours of the chosen
    chunks. The windows come back merged, in document order, each under its
    section's heading when it does not open with it (the heading counts
    against the budget).

    Args:
        question: What the reader is looking for.
        text: The page's text.
        relevance: The scorer; a remote one (reranker, embeddings) sees at most
            :data:`MAX_REMOTE_CHUNKS` chunks, prefiltered lexically.
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
    large = len(body) > _THREAD_CHARS
    chunks = await asyncio.to_thread(chunk_text, body) if large else chunk_text(body)
    if not chunks:
        return [], 0
    heads = chunk_headings(body, chunks)
    docs = headed_chunks(body, chunks, heads)
    sections = section_ids(body, chunks)
    sentences = sentence_ids(body, chunks)
    labels = heading_lines(heads)
    remote: list[float] | None = None
    tokens = 0
    if relevance.name != "local":
        remote, tokens = await _remote_scores(question, docs, relevance)
    if large:
        chosen, scores = await asyncio.to_thread(
            plan, question, chunks, docs, remote, budget, sections, sentences, labels
        )
    else:
        chosen, scores = plan(question, chunks, docs, remote, budget, sections, sentences, labels)
    return merge_windows(text, chunks, chosen, scores, labels), tokens


async def _remote_scores(
    question: str, docs: list[str], relevance: Relevance
) -> tuple[list[float] | None, int]:
    """Score at most MAX_REMOTE_CHUNKS chunks remotely (the lexically best); None on failure."""
    if len(docs) <= MAX_REMOTE_CHUNKS:
        picked = list(range(len(docs)))
    else:
        lexical = await asyncio.to_thread(lexical_scores, question, docs)
        picked = sorted(sorted(range(len(docs)), key=lambda i: -lexical[i])[:MAX_REMOTE_CHUNKS])
    try:
        remote, tokens = await relevance.score(question, [docs[i] for i in picked])
    except Exception:  # a scorer must never lose the page: lexical scoring alone
        return None, 0
    if len(remote) != len(picked):
        return None, tokens
    scores = [0.0] * len(docs)
    for i, value in zip(picked, remote, strict=True):
        scores[i] = min(max(float(value), 0.0), 1.0)
    return scores, tokens


def _pieces(sentences: list[int], chunks: list[tuple[int, int]]) -> list[list[int]]:
    """For each chunk, the chunks of its sentence (itself alone for a very long sentence)."""
    runs: dict[int, list[int]] = {}
    for i, k in enumerate(sentences):
        runs.setdefault(k, []).append(i)
    out: list[list[int]] = []
    for i, k in enumerate(sentences):
        run = runs[k]
        size = chunks[run[-1]][1] - chunks[run[0]][0]
        out.append(run if size <= MAX_SENTENCE_CHARS else [i])
    return out


def plan(
    question: str,
    chunks: list[tuple[int, int]],
    docs: list[str],
    remote: list[float] | None,
    budget: int,
    sections: list[int] | None = None,
    sentences: list[int] | None = None,
    labels: list[str] | None = None,
) -> tuple[set[int], list[float]]:
    """Choose the chunks to keep (CPU bound; run in a thread for big pages).

    Args:
        question: The question.
        chunks: Chunk spans.
        docs: Scoring texts of the chunks (with headings).
        remote: Remote relevance per chunk, or None for lexical scoring alone.
        budget: Characters to fill at most.
        sections: Section number per chunk (:func:`section_ids`); neighbours
            count and come along only within a section. None: one section.
        sentences: Sentence number per chunk (:func:`sentence_ids`); the pieces
            of a split sentence are kept together. None: no split sentences.
        labels: Heading line per chunk (:func:`heading_lines`); a passage that
            starts at a labelled chunk shows the label, and pays for it. None: no labels.

    Returns:
        The chosen chunk indexes, and each chunk's relevance score.
    """
    index = LexicalIndex(docs)
    terms = index.query_terms(question)
    scores = index.scores_for(terms)
    if remote is not None:
        scores = [s + REMOTE_WEIGHT * r for s, r in zip(scores, remote, strict=True)]
    n = len(scores)
    if sections is None:
        sections = [0] * n
    asked = set(terms)
    expanded: set[int] = set()
    page = "\n".join(docs)  # tells ordinary words ("However") from names in feedback
    headings = opening_headings(docs, sections)
    headed = {sections[i] for i in headings}
    common = partial(in_lower_case, page=page)
    named = set(name_terms([question], set(), common))
    # "Brand (play)" for "the author of Brand": the question's subject seeds the feedback.
    _lift_sections(scores, headings, named, TITLE_BONUS, heading_name)
    anchors = set(terms)
    for _ in range(PRF_ROUNDS):
        top = _top_new(scores, PRF_TOP, expanded)  # iterative: each round, fresh chunks
        expanded.update(top)
        bodies = [docs[i].split("\n", 1)[-1] if sections[i] in headed else docs[i] for i in top]
        anchors.update(name_terms(bodies, set(), common))
        names = name_terms([docs[i] for i in top], asked, common)
        if not names:
            continue
        asked.update(names)
        extra = index.scores_for(names)
        scores = [s + PRF_WEIGHT * x for s, x in zip(scores, extra, strict=True)]
    _lift_sections(scores, headings, anchors, HEADING_BONUS)
    pieces = _pieces(sentences if sentences is not None else list(range(n)), chunks)
    wanted = answer_pattern(question)
    values = [
        scores[i]
        + NEIGHBOUR_WEIGHT * max(_near(scores, sections, i, -1), _near(scores, sections, i, 1))
        + (LEAD_BONUS if i == 0 or sections[i] != sections[i - 1] else 0.0)
        + (ANSWER_TYPE_BONUS if wanted is not None and wanted.search(docs[i]) else 0.0)
        for i in range(n)
    ]
    picks: list[int] = []
    used = 0
    chosen: set[int] = set()
    # The whole budget goes by value: a neighbour's value already counts its
    # neighbour's score, and neighbours kept for their own sake crowd out the
    # relevant chunks of other sections (the next hop of a multi-hop question).
    for i in sorted(range(n), key=lambda i: (-values[i], i)):
        if values[i] <= 0.0 or used >= budget:
            break
        if i in chosen:
            continue
        group = [j for j in pieces[i] if j not in chosen]
        cost = _cost(chunks, labels, group, chosen)
        if used + cost <= budget:
            picks.extend(group)
            chosen.update(group)
            used += cost
    for i in picks:  # budget left: the neighbours of the best chunks first
        for j in range(i - NEIGHBOURS_BEFORE, i + NEIGHBOURS_AFTER + 1):
            if 0 <= j < n and j not in chosen and sections[j] == sections[i]:
                cost = _cost(chunks, labels, [j], chosen)
                if used + cost <= budget:
                    chosen.add(j)
                    used += cost
    if not chosen:  # nothing matched at all: the page's opening
        for j in range(n):
            cost = _cost(chunks, labels, [j], chosen)
            if used + cost > budget:
                break
            chosen.add(j)
            used += cost
    return chosen, scores


def _lift_sections(
    scores: list[float],
    headings: dict[int, str],
    names: set[str],
    bonus: float,
    name_of: Callable[[str], str] | None = None,
) -> None:
    """Add ``bonus`` to the opening chunk of each section whose heading is made of ``names``.

    ``name_of`` picks the part of the heading that must match (the whole heading when None).
    """
    for i, heading in headings.items():
        words = set(tokenize(name_of(heading) if name_of else heading))
        if words and words <= names:
            scores[i] += bonus


def _near(scores: list[float], sections: list[int], i: int, step: int) -> float:
    """Score of chunk ``i + step`` if it lies in the same section as chunk ``i``, else 0."""
    j = i + step
    if 0 <= j < len(scores) and sections[j] == sections[i]:
        return scores[j]
    return 0.0


def _top_new(scores: list[float], k: int, seen: set[int]) -> list[int]:
    """The ``k`` best-scoring chunks (score above 0) not in ``seen``."""
    fresh = (i for i in range(len(scores)) if i not in seen)
    best = heapq.nlargest(k, fresh, key=scores.__getitem__)
    return [i for i in best if scores[i] > 0]


def _cost(
    chunks: list[tuple[int, int]], labels: list[str] | None, group: list[int], chosen: set[int]
) -> int:
    """Characters keeping ``group`` adds (an upper bound).

    Each chunk counts with the gap before it; the section headings shown above
    passages change by :func:`label_delta`.
    """
    spans = sum(chunks[j][1] - (chunks[j - 1][1] if j > 0 else chunks[j][0]) for j in group)
    return spans + label_delta(labels, group, chosen)
