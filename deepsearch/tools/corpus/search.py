"""Reading the corpus index: BM25 search over passages, and whole documents by URL."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from deepsearch.tools.corpus.jsonl import benchmark_doc_url
from deepsearch.tools.corpus.text import Document, quote_path

MAX_DOCUMENT_CHARS = 200_000
MAX_K = 100
TOKENIZER = "porter unicode61 remove_diacritics 2"
POSTINGS_BUDGET = 6_000
"""Query terms are used rarest first until their document frequencies sum past this."""

_STOPWORDS = frozenset(
    """
    a about after all also an and any are as at be been before being between both but by can
    could did do does during each for from had has have he her his how i if in into is it
    its me more most my no nor not of on once only or other our out over own same she should
    so some such than that the their them then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would
    you your
    """.split()  # noqa: SIM905
)
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class CorpusHit:
    """One matching passage."""

    url: str
    doc_url: str
    title: str
    text: str
    date: str | None
    score: float


def fts_query(query: str, max_terms: int = 16) -> str:
    """Turn free text into a safe FTS5 query: quoted words joined by OR.

    Quotes, operators (``AND``, ``NEAR``, ``*``, ``:``, ``^``, parentheses) and
    column filters in the input lose their meaning; stopwords are dropped
    unless nothing else is left.

    Args:
        query: Free text.
        max_terms: Most words used.

    Returns:
        An FTS5 MATCH expression, or ``""`` when the text has no words.
    """
    words = [w.lower() for w in _WORD.findall(query)]
    content = [w for w in words if w not in _STOPWORDS] or words
    unique = list(dict.fromkeys(content))[:max_terms]
    return " OR ".join(f'"{w}"' for w in unique)


class CorpusIndex:
    """An open corpus index, safe to share between threads."""

    def __init__(self, db_path: str | Path) -> None:
        """Open the index read-only.

        Raises:
            FileNotFoundError: If ``db_path`` does not exist.
        """
        path = Path(db_path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"no corpus index at {path}")
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, check_same_thread=False
        )
        self._conn.execute(f"CREATE VIRTUAL TABLE temp.qtok USING fts5(x, tokenize='{TOKENIZER}')")
        self._conn.execute("CREATE VIRTUAL TABLE temp.qvocab USING fts5vocab(temp, qtok, instance)")
        self._df_cache: dict[str, int] = {}
        has = self._conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'term_df'"
        ).fetchone()[0]
        self._has_stats = bool(has) and bool(
            self._conn.execute("SELECT 1 FROM term_df LIMIT 1").fetchone()
        )

    def _terms(self, query: str) -> list[str]:
        """Pick the query words to match: rarest first, within the postings budget."""
        words = [w for w in _WORD.findall(query.lower()) if "_" not in w]
        content = list(dict.fromkeys(w for w in words if w not in _STOPWORDS))[:24]
        if not content:
            content = list(dict.fromkeys(words))[:24]
        if not content or not self._has_stats:
            return content[:16]
        self._conn.execute("DELETE FROM temp.qtok")
        self._conn.executemany("INSERT INTO temp.qtok(rowid, x) VALUES (?, ?)", enumerate(content))
        df: dict[int, int] = {}
        for term, row in self._conn.execute("SELECT term, doc FROM temp.qvocab"):
            if term not in self._df_cache:
                found = self._conn.execute("SELECT df FROM term_df WHERE term = ?", (term,))
                value = found.fetchone()
                if len(self._df_cache) > 50_000:
                    self._df_cache.clear()
                self._df_cache[term] = int(value[0]) if value else 0
            df[row] = min(df.get(row, 1 << 62), self._df_cache[term])
        ranked = sorted((df[i], i) for i in df if df[i] > 0)
        chosen: list[int] = []
        total = 0
        for frequency, i in ranked:
            if chosen and (total + frequency > POSTINGS_BUDGET or len(chosen) >= 16):
                break
            chosen.append(i)
            total += frequency
        return [content[i] for i in sorted(chosen)]

    def search(self, query: str, k: int = 10) -> list[CorpusHit]:
        """Return the ``k`` best passages for ``query`` by BM25 (title weighted 3x).

        Words are matched rarest first; very common words are left out once the
        rarer ones cover enough postings, which bounds latency on big corpora.
        """
        sql = (
            "SELECT d.url, d.doc_url, d.title, d.text, d.date, m.s FROM ("
            "  SELECT rowid, bm25(passages, 3.0, 1.0) AS s FROM passages"
            "  WHERE passages MATCH ? ORDER BY s LIMIT ?"
            ") AS m JOIN documents d ON d.id = m.rowid ORDER BY m.s"
        )
        with self._lock:
            terms = self._terms(query)
            if not terms:
                return []
            match = " OR ".join(f'"{t}"' for t in terms)
            rows = self._conn.execute(sql, (match, max(1, min(k, MAX_K)))).fetchall()
        return [CorpusHit(r[0], r[1], r[2], r[3], r[4], -float(r[5])) for r in rows]

    def read(self, url: str) -> Document | None:
        """Return the document behind a document or passage URL (text bounded)."""
        candidates = list(dict.fromkeys(_url_variants(url)))
        with self._lock:
            for doc_url in candidates:
                rows = self._conn.execute(
                    "SELECT n, title, text, date FROM documents WHERE doc_url = ? ORDER BY n",
                    (doc_url,),
                ).fetchall()
                if rows:
                    break
            else:
                return None
        fragment = urlsplit(url).fragment
        focus = int(fragment) if fragment.isdigit() else 0
        passages = _bounded_window([r[2] for r in rows], focus)
        return Document(doc_url, rows[0][1], passages, rows[0][3])

    def count(self) -> int:
        """Return the number of passages."""
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM documents").fetchone()[0])

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


def _url_variants(url: str) -> Iterator[str]:
    base = url.strip().split("#", 1)[0]
    yield base
    yield unquote(base)
    if base.startswith("corpus://"):
        rest = unquote(base[len("corpus://") :])
        yield f"corpus://{quote_path(rest)}"
        dataset, _, title = rest.partition("/")
        if title:
            yield benchmark_doc_url(dataset, title.replace("_", " "))


def _bounded_window(passages: list[str], focus: int) -> list[str]:
    if sum(len(p) for p in passages) <= MAX_DOCUMENT_CHARS:
        return passages
    focus = min(max(focus, 0), len(passages) - 1)
    lo = hi = focus
    size = len(passages[focus])
    while True:
        grew = False
        if hi + 1 < len(passages) and size + len(passages[hi + 1]) <= MAX_DOCUMENT_CHARS:
            hi += 1
            size += len(passages[hi])
            grew = True
        if lo > 0 and size + len(passages[lo - 1]) <= MAX_DOCUMENT_CHARS:
            lo -= 1
            size += len(passages[lo])
            grew = True
        if not grew:
            return passages[lo : hi + 1]


_open: dict[str, CorpusIndex] = {}
_open_lock = threading.Lock()


def open_index(db: str | Path | CorpusIndex) -> CorpusIndex:
    """Return a shared open :class:`CorpusIndex` for ``db`` (a path or an index)."""
    if isinstance(db, CorpusIndex):
        return db
    key = str(Path(db).expanduser().resolve())
    with _open_lock:
        if key not in _open:
            _open[key] = CorpusIndex(key)
        return _open[key]


def forget_index(db_path: str | Path) -> None:
    """Close and drop this process's shared reader of ``db_path`` (before writing it)."""
    key = str(Path(db_path).expanduser().resolve())
    with _open_lock:
        index = _open.pop(key, None)
    if index is not None:
        index.close()


def search_corpus(db: str | Path | CorpusIndex, query: str, k: int = 10) -> list[CorpusHit]:
    """Return the ``k`` passages of the corpus that best match ``query`` (BM25).

    Args:
        db: The index path, or an open :class:`CorpusIndex`.
        query: Free text (operators and quotes are neutralized).
        k: How many passages, at most :data:`MAX_K`.

    Returns:
        Hits, best first.
    """
    return open_index(db).search(query, k)


def read_document(db: str | Path | CorpusIndex, url: str) -> Document | None:
    """Return the full document for a corpus URL (document or passage URL).

    Documents longer than :data:`MAX_DOCUMENT_CHARS` are cut to a window
    around the passage the URL's fragment names.

    Args:
        db: The index path, or an open :class:`CorpusIndex`.
        url: e.g. ``corpus://notes/a.md``, ``corpus://notes/a.md#3`` or a document's own URL.

    Returns:
        The document, or ``None`` if the corpus does not have it.
    """
    return open_index(db).read(url)
