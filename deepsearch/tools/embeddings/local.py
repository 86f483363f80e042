"""Model-free relevance: BM25-style lexical scoring with light normalisation.

Used when no embeddings provider is configured, and as the fallback when a
provider fails. Costs no provider tokens and needs no model weights.
"""

from __future__ import annotations

import asyncio
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

_STOPWORDS_TEXT = """
    a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in into is
    it its itself just let me more most my myself no nor not now of off on once only or other our
    ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom whose why will with would you your yours yourself
    yourselves s t d ll m re ve don didn doesn isn wasn weren won wouldn shouldn couldn
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())

_TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)

# BM25 parameters and the IDF floor, tuned on the HotpotQA/MuSiQue train splits
# (see benchmarks/bench_evidence.py).
K1 = 1.2
B = 0.5
IDF_FLOOR = 0.25
_THREAD_THRESHOLD = 200_000  # characters: above this, score in a worker thread


def fold(text: str) -> str:
    """Lowercase ``text`` and strip accents (``"Alû"`` becomes ``"alu"``).

    Args:
        text: Any string.

    Returns:
        The folded string.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """Strip common English inflections (a light, Porter-like stemmer).

    Args:
        word: A folded, lowercase word.

    Returns:
        The stem; short words and numbers are returned unchanged.
    """
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, repl, min_len in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= min_len:
            return word[: len(word) - len(suffix)] + repl
    return word


_SUFFIXES: tuple[tuple[str, str, int], ...] = (
    ("ational", "ate", 3),
    ("ization", "ize", 3),
    ("fulness", "ful", 3),
    ("iveness", "ive", 3),
    ("ousness", "ous", 3),
    ("ements", "", 4),
    ("ement", "", 4),
    ("ments", "", 4),
    ("ment", "", 4),
    ("ities", "", 4),
    ("ity", "", 4),
    ("ings", "", 4),
    ("ing", "", 4),
    ("ies", "y", 3),
    ("ied", "y", 3),
    ("sses", "ss", 2),
    ("ed", "", 4),
    ("ers", "er", 3),
    ("ous", "", 4),
    ("ss", "ss", 2),
    ("us", "us", 2),
    ("is", "is", 2),
    ("s", "", 3),
)


def tokenize(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """Split ``text`` into folded, stemmed word tokens.

    Args:
        text: Any string.
        keep_stopwords: Keep stopwords (useful for very short texts).

    Returns:
        The tokens in order; single letters and stopwords are dropped.
    """
    words = _TOKEN_RE.findall(fold(text))
    out: list[str] = []
    for w in words:
        if not keep_stopwords and (w in STOPWORDS or (len(w) == 1 and not w.isdigit())):
            continue
        out.append(stem(w))
    return out


def lexical_scores(query: str, docs: Sequence[str]) -> list[float]:
    """Score each document against ``query`` with a normalised BM25 (sync, model-free).

    The score is the IDF-weighted share of the query terms a document contains,
    each term's contribution saturating with its frequency as in BM25, so it
    lies in [0, 1]: 1 means every query term occurs often enough.

    Args:
        query: The question or query.
        docs: The documents to score.

    Returns:
        One score in [0, 1] per document (all 0 for an empty query).
    """
    if not docs:
        return []
    q_terms = Counter(tokenize(query))
    keep = not q_terms  # a stopword-only query ("The The") still deserves an answer
    if keep:
        q_terms = Counter(tokenize(query, keep_stopwords=True))
    if not q_terms:
        return [0.0] * len(docs)
    doc_tfs: list[Counter[str]] = []
    lengths: list[int] = []
    df: Counter[str] = Counter()
    for doc in docs:
        toks = [t for t in tokenize(doc, keep_stopwords=keep) if t in q_terms] if doc else []
        # Length counts every token; only query terms need counting.
        length = len(_TOKEN_RE.findall(doc)) if doc else 0
        tf = Counter(toks)
        doc_tfs.append(tf)
        lengths.append(length)
        df.update(tf.keys())
    n = len(docs)
    avgdl = max(sum(lengths) / n, 1.0)
    idf = {
        t: max(math.log(1.0 + (n - df[t] + 0.5) / (df[t] + 0.5)), 0.0) + IDF_FLOOR for t in q_terms
    }
    total = sum(idf[t] * min(c, 2) for t, c in q_terms.items())
    scores: list[float] = []
    for tf, length in zip(doc_tfs, lengths, strict=True):
        if not tf:
            scores.append(0.0)
            continue
        norm = K1 * (1.0 - B + B * length / avgdl)
        s = 0.0
        for t, f in tf.items():
            s += idf[t] * min(q_terms[t], 2) * (f * (K1 + 1.0) / (f + norm)) / (K1 + 1.0)
        scores.append(min(max(s / total, 0.0), 1.0))
    return scores


def similarity(a: str, b: str) -> float:
    """Tell how similar two short texts (queries, questions) are, in [0, 1].

    Blends the Jaccard overlap of normalised word tokens with that of character
    trigrams, so reordered words and small spelling changes still match.

    Args:
        a: A short text.
        b: Another short text.

    Returns:
        1.0 for texts equal after normalisation, 0.0 for unrelated ones.
    """
    ta, tb = set(tokenize(a)), set(tokenize(b))
    if not ta or not tb:
        ta, tb = set(tokenize(a, keep_stopwords=True)), set(tokenize(b, keep_stopwords=True))
    if not ta and not tb:
        return 1.0 if fold(a).strip() == fold(b).strip() else 0.0
    words = len(ta & tb) / len(ta | tb) if ta | tb else 0.0
    ga, gb = _trigrams(" ".join(sorted(ta))), _trigrams(" ".join(sorted(tb)))
    grams = len(ga & gb) / len(ga | gb) if ga | gb else 0.0
    return 0.6 * words + 0.4 * grams


def _trigrams(text: str) -> set[str]:
    padded = f"  {text} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class LexicalRelevance:
    """A :class:`~deepsearch.tools.base.Relevance` scorer without a model (BM25-style)."""

    name = "local"

    async def score(self, query: str, documents: list[str]) -> tuple[list[float], int]:
        """Score ``documents`` against ``query``; costs 0 provider tokens.

        Args:
            query: The question or query.
            documents: The texts to score.

        Returns:
            One score in [0, 1] per document, and 0 tokens.
        """
        if sum(len(d) for d in documents) > _THREAD_THRESHOLD:
            return await asyncio.to_thread(lexical_scores, query, documents), 0
        return lexical_scores(query, documents), 0
