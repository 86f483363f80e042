"""Model-free relevance: BM25-style lexical scoring with light normalisation.

Used when no embeddings provider is configured, and as the fallback when a
provider fails. Costs no provider tokens and needs no model weights.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

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


def _combining_class() -> re.Pattern[str]:
    """Build a character class of every combining mark in the Basic Multilingual Plane."""
    ranges: list[str] = []
    start = None
    for code in range(0x10000 + 1):
        is_mark = code <= 0xFFFF and unicodedata.combining(chr(code)) != 0
        if is_mark and start is None:
            start = code
        elif not is_mark and start is not None:
            ranges.append(f"\\u{start:04x}-\\u{code - 1:04x}")
            start = None
    return re.compile("[" + "".join(ranges) + "]")


_COMBINING_RE = _combining_class()

# BM25 parameters and the IDF floor, tuned on the HotpotQA/MuSiQue train splits
# (see benchmarks/bench_evidence.py).
K1 = 1.2
B = 0.5
IDF_FLOOR = 0.25
BIGRAM_WEIGHT = 0.25  # weight of adjacent word pairs next to single words
_THREAD_THRESHOLD = 200_000  # characters: above this, score in a worker thread


def fold(text: str) -> str:
    """Lowercase ``text`` and strip accents (``"Alû"`` becomes ``"alu"``).

    Args:
        text: Any string.

    Returns:
        The folded string.
    """
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    if decomposed.isascii():
        return decomposed
    return _COMBINING_RE.sub("", decomposed)


def stem(word: str) -> str:
    """Strip common English inflections (a light, Porter-like stemmer).

    Args:
        word: A folded, lowercase word.

    Returns:
        The stem; short words and numbers are returned unchanged.
    """
    cached = _STEMS.get(word)
    if cached is not None:
        return cached
    result = word
    if len(word) > 3 and not word.isdigit():
        for suffix, repl, min_len in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= min_len:
                result = word[: len(word) - len(suffix)] + repl
                break
    if len(_STEMS) < 200_000:
        _STEMS[word] = result
    return result


_STEMS: dict[str, str] = {}


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
    stems = _STEMS
    if keep_stopwords:
        return [stems.get(w) or stem(w) for w in words]
    return [
        stems.get(w) or stem(w) for w in words if w not in STOPWORDS and (len(w) > 1 or w.isdigit())
    ]


def _with_bigrams(tokens: list[str]) -> list[str]:
    """Return ``tokens`` plus each adjacent pair ("han vodka"): names and phrases match better."""
    if BIGRAM_WEIGHT <= 0:
        return tokens
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]


class LexicalIndex:
    """Tokenized documents, for BM25-style scoring of several queries.

    Build it once per page (or candidate list) and score the question, and the
    expansions of the question, without tokenizing the documents again. Term
    statistics are counted per query, for the query's terms only, so building
    the index of a big page stays cheap.
    """

    def __init__(self, docs: Sequence[str], *, keep_stopwords: bool = False) -> None:
        """Tokenize ``docs`` (stopwords dropped unless ``keep_stopwords``)."""
        self.keep_stopwords = keep_stopwords
        self.tokens = [tokenize(d, keep_stopwords=keep_stopwords) if d else [] for d in docs]
        self.lengths = [len(t) for t in self.tokens]
        self.n = len(self.tokens)
        self.avgdl = max(sum(self.lengths) / self.n, 1.0) if self.n else 1.0

    def query_terms(self, query: str) -> Counter[str]:
        """Return the query's terms (words and adjacent word pairs) as this index sees them."""
        return Counter(_with_bigrams(tokenize(query, keep_stopwords=self.keep_stopwords)))

    def term_frequencies(self, terms: Iterable[str]) -> list[Counter[str]]:
        """Count ``terms`` (words, and word pairs written ``"a b"``) in every document."""
        words = {t for t in terms if " " not in t}
        pairs = {tuple(t.split(" ", 1)) for t in terms if " " in t}
        firsts = {a for a, _ in pairs}
        out: list[Counter[str]] = []
        for toks in self.tokens:
            tf = Counter([t for t in toks if t in words])
            if pairs:
                for i in range(len(toks) - 1):
                    if toks[i] in firsts and (toks[i], toks[i + 1]) in pairs:
                        tf[f"{toks[i]} {toks[i + 1]}"] += 1
            out.append(tf)
        return out

    def contributions(self, terms: Counter[str]) -> tuple[list[dict[str, float]], float]:
        """Return each document's per-term BM25 contributions, and the largest possible total.

        Args:
            terms: Query terms with their counts.

        Returns:
            One ``{term: contribution}`` per document (matching terms only), and the
            normaliser: the score of a document holding every term often enough.
        """
        tfs = self.term_frequencies(terms)
        df: Counter[str] = Counter()
        for tf in tfs:
            df.update(tf.keys())
        weights = {
            t: _idf(self.n, df[t]) * min(c, 2) * (BIGRAM_WEIGHT if " " in t else 1.0)
            for t, c in terms.items()
        }
        total = sum(weights.values())
        out: list[dict[str, float]] = []
        for tf, length in zip(tfs, self.lengths, strict=True):
            if not tf:
                out.append({})
                continue
            norm = K1 * (1.0 - B + B * length / self.avgdl)
            out.append({t: weights[t] * f / (f + norm) for t, f in tf.items()})
        return out, total

    def scores(self, query: str) -> list[float]:
        """Return one normalised score in [0, 1] per document for ``query``."""
        return self.scores_for(self.query_terms(query))

    def scores_for(self, terms: Counter[str]) -> list[float]:
        """Return one normalised score in [0, 1] per document for already tokenized terms."""
        if not terms or not self.n:
            return [0.0] * self.n
        contributions, total = self.contributions(terms)
        return [min(max(sum(c.values()) / total, 0.0), 1.0) for c in contributions]


def _idf(n: int, df: int) -> float:
    """Smoothed inverse document frequency, floored above 0 so common words still count."""
    return max(math.log(1.0 + (n - df + 0.5) / (df + 0.5)), 0.0) + IDF_FLOOR


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
    # A stopword-only query ("The The") still deserves an answer.
    keep = not tokenize(query)
    return LexicalIndex(docs, keep_stopwords=keep).scores(query)


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
