"""The local document corpus: SQLite FTS5 passages ranked with BM25.

:func:`index_corpus` turns a folder of Markdown, text, HTML, PDF and JSONL files
into passages; :func:`build_benchmark_corpus` does the same for HotpotQA and
MuSiQue evidence paragraphs (one document per title, ``corpus://hotpotqa/<title>``).
:func:`search_corpus` and :func:`read_document` serve the ``local`` search
provider and reader. Passage ``0`` of a document has the document's URL; passage
``n > 0`` has ``<url>#<n>``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from deepsearch.settings import ConfigurationError

INDEX_FILENAME = ".deepsearch-index.sqlite3"
CACHE_DIR = Path("~/.cache/deepsearch/corpora").expanduser()
TEXT_SUFFIXES = {".md", ".markdown", ".txt", ".text", ".rst"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf", ".jsonl"}
MAX_FILE_BYTES = 50_000_000
MAX_PDF_PAGES = 2000
PASSAGE_CHARS = 1000
MAX_PASSAGE_CHARS = 1500
MAX_DOCUMENT_CHARS = 200_000
MAX_K = 100
_TEXT_FIELDS = ("text", "content", "body", "paragraph_text", "contents", "passage")

_SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS sources(path TEXT PRIMARY KEY, signature TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS term_df(term TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents(
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    doc_url TEXT NOT NULL,
    n INTEGER NOT NULL,
    source TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL,
    date TEXT
);
CREATE INDEX IF NOT EXISTS documents_doc ON documents(doc_url, n);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source);
CREATE VIRTUAL TABLE IF NOT EXISTS passages USING fts5(
    title, text, content='documents', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS documents_ai AFTER INSERT ON documents BEGIN
    INSERT INTO passages(rowid, title, text) VALUES (new.id, new.title, new.text);
END;
CREATE TRIGGER IF NOT EXISTS documents_ad AFTER DELETE ON documents BEGIN
    INSERT INTO passages(passages, rowid, title, text)
    VALUES ('delete', old.id, old.title, old.text);
END;
"""

_TOKENIZER = "porter unicode61 remove_diacritics 2"
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
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass
class Document:
    """A document to index: its URL, title, date and text split into passages."""

    url: str
    title: str
    passages: list[str]
    date: str | None = None


@dataclass
class CorpusHit:
    """One matching passage."""

    url: str
    doc_url: str
    title: str
    text: str
    date: str | None
    score: float


@dataclass
class IndexStats:
    """What an indexing run did."""

    db: str
    files: int = 0
    indexed: int = 0
    skipped: int = 0
    removed: int = 0
    documents: int = 0
    passages: int = 0
    errors: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- text -> passages


def split_passages(text: str, size: int = PASSAGE_CHARS) -> list[str]:
    """Split text into passages of about ``size`` characters at paragraph/sentence ends.

    Args:
        text: Plain text.
        size: Target passage length; no passage exceeds :data:`MAX_PASSAGE_CHARS`.

    Returns:
        Non-empty passages in order.
    """
    pieces: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = " ".join(paragraph.split())
        if len(paragraph) <= MAX_PASSAGE_CHARS:
            if paragraph:
                pieces.append(paragraph)
            continue
        for sentence in _SENTENCE_END.split(paragraph):
            while len(sentence) > MAX_PASSAGE_CHARS:
                pieces.append(sentence[:MAX_PASSAGE_CHARS])
                sentence = sentence[MAX_PASSAGE_CHARS:]
            if sentence:
                pieces.append(sentence)
    passages: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current) + 1 + len(piece) > size:
            passages.append(current)
            current = piece
        else:
            current = f"{current} {piece}" if current else piece
    if current:
        passages.append(current)
    return passages


def _front_matter(text: str) -> tuple[str, dict[str, str]]:
    match = re.match(r"\A---\s*\n(.*?)\n---\s*\n", text, re.DOTALL)
    if not match:
        return text, {}
    fields = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip().strip("\"'")
    return text[match.end() :], fields


def _text_document(path: Path, url: str) -> Document:
    raw = path.read_text(encoding="utf-8", errors="replace")
    body, meta = _front_matter(raw)
    heading = re.search(r"^#\s+(.+)$", body, re.MULTILINE)
    title = meta.get("title") or (heading.group(1).strip() if heading else path.stem)
    return Document(url, title, split_passages(body), meta.get("date") or None)


def _html_document(path: Path, url: str) -> Document:
    import trafilatura

    html = path.read_text(encoding="utf-8", errors="replace")
    text = trafilatura.extract(html, include_comments=False, include_tables=True) or ""
    if not text:
        text = re.sub(r"<[^>]+>", " ", html)
    meta = trafilatura.extract_metadata(html)
    title = (meta.title if meta and meta.title else "") or path.stem
    date = meta.date if meta and meta.date else None
    own = meta.url if meta and meta.url else ""
    if own.startswith(("http://", "https://")):
        url = own
    return Document(url, title, split_passages(text), date)


def _pdf_document(path: Path, url: str) -> Document:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    pages = [page.extract_text() or "" for page in reader.pages[:MAX_PDF_PAGES]]
    metadata = reader.metadata
    title = str(metadata.get("/Title") or "") if metadata else ""
    title = title or path.stem
    return Document(url, title, split_passages("\n\n".join(pages)))


_URL_UNSAFE = re.compile(r"[\x00-\x20%?#\"<>\\^`{|}\[\]\x7f]")


def quote_path(text: str, *, keep_slash: bool = True) -> str:
    """Percent-encode what cannot stand in a URL path, keeping Unicode letters readable.

    Args:
        text: A relative path or a title.
        keep_slash: Whether ``/`` separates path segments (else it is encoded).

    Returns:
        The encoded text.
    """
    encoded = _URL_UNSAFE.sub(lambda m: quote(m.group(0), safe=""), text)
    return encoded if keep_slash else encoded.replace("/", "%2F")


def benchmark_doc_url(dataset: str, title: str) -> str:
    """Return the corpus URL of a benchmark paragraph's document.

    Args:
        dataset: ``"hotpotqa"`` or ``"musique"``.
        title: The paragraph's (Wikipedia) title.

    Returns:
        e.g. ``corpus://hotpotqa/Lilu_(mythology)``.
    """
    return f"corpus://{dataset}/{quote_path(title.strip().replace(' ', '_'), keep_slash=False)}"


def benchmark_paragraphs(record: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Extract ``(dataset, title, text)`` evidence paragraphs from a benchmark record.

    HotpotQA records carry ``context: [[title, [sentence, ...]], ...]``; MuSiQue
    records carry ``paragraphs: [{"title", "paragraph_text"}, ...]``. Questions
    and answers are never extracted.

    Args:
        record: One JSONL record.

    Returns:
        The paragraphs (empty for other records).
    """
    found: list[tuple[str, str, str]] = []
    context = record.get("context")
    if isinstance(context, list):
        for item in context:
            if isinstance(item, list) and len(item) == 2 and isinstance(item[1], list):
                text = "".join(s for s in item[1] if isinstance(s, str)).strip()
                if isinstance(item[0], str) and text:
                    found.append(("hotpotqa", item[0], text))
    paragraphs = record.get("paragraphs")
    if isinstance(paragraphs, list):
        for item in paragraphs:
            if isinstance(item, dict):
                name, body = item.get("title"), item.get("paragraph_text")
                if isinstance(name, str) and isinstance(body, str) and body.strip():
                    found.append(("musique", name, body.strip()))
    return found


def _jsonl_documents(path: Path, rel: str) -> Iterator[Document]:
    grouped: dict[str, Document] = {}
    with path.open(encoding="utf-8", errors="replace") as lines:
        for lineno, line in enumerate(lines, 1):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if not isinstance(record, dict):
                continue
            for dataset, title, text in benchmark_paragraphs(record):
                url = benchmark_doc_url(dataset, title)
                doc = grouped.setdefault(url, Document(url, title, []))
                if text not in doc.passages:
                    doc.passages.append(text)
            text = next((record[k] for k in _TEXT_FIELDS if isinstance(record.get(k), str)), "")
            if not text.strip():
                continue
            own = record.get("url") or record.get("link")
            if isinstance(own, str) and own.startswith(("http://", "https://")):
                url = own
            else:
                key = record.get("id")
                suffix = quote(str(key), safe="") if isinstance(key, str | int) else lineno
                url = f"corpus://{quote_path(rel)}/{suffix}"
            raw_title = record.get("title")
            raw_date = record.get("date")
            doc = grouped.setdefault(
                url,
                Document(
                    url,
                    raw_title if isinstance(raw_title, str) else "",
                    [],
                    raw_date if isinstance(raw_date, str) else None,
                ),
            )
            doc.passages.extend(p for p in split_passages(text) if p not in doc.passages)
    yield from grouped.values()


def extract_documents(path: Path, rel: str) -> list[Document]:
    """Extract the documents of one file (one per file, several for JSONL).

    Args:
        path: The file.
        rel: Its path relative to the corpus root (POSIX), used in URLs.

    Returns:
        The documents with their passages.
    """
    suffix = path.suffix.lower()
    url = f"corpus://{quote_path(rel)}"
    if suffix in TEXT_SUFFIXES:
        return [_text_document(path, url)]
    if suffix in HTML_SUFFIXES:
        return [_html_document(path, url)]
    if suffix == ".pdf":
        return [_pdf_document(path, url)]
    if suffix == ".jsonl":
        return list(_jsonl_documents(path, rel))
    return []


# ---------------------------------------------------------------- writing


def _connect(db_path: str | Path) -> sqlite3.Connection:
    _forget(db_path)  # close this process's readers before writing
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(db_path), timeout=30)
    conn.executescript(_SCHEMA)
    return conn


def _add_document(conn: sqlite3.Connection, doc: Document, source: str) -> int:
    existing = conn.execute(
        "SELECT n, text FROM documents WHERE doc_url = ? ORDER BY n", (doc.url,)
    ).fetchall()
    known = {text for _, text in existing}
    next_n = existing[-1][0] + 1 if existing else 0
    added = 0
    for passage in doc.passages:
        if passage in known:
            continue
        known.add(passage)
        url = doc.url if next_n == 0 else f"{doc.url}#{next_n}"
        conn.execute(
            "INSERT OR IGNORE INTO documents(url, doc_url, n, source, title, text, date) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (url, doc.url, next_n, source, doc.title, passage, doc.date),
        )
        next_n += 1
        added += 1
    return added


def _finish(conn: sqlite3.Connection) -> None:
    """Merge the FTS segments and refresh the term statistics queries use."""
    conn.execute("INSERT INTO passages(passages) VALUES ('optimize')")
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING fts5vocab(main, passages, row)"
    )
    with conn:
        conn.execute("DELETE FROM term_df")
        conn.execute("INSERT INTO term_df(term, df) SELECT term, doc FROM temp.vocab")
        count = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('passages', ?)", (count,))
    conn.execute("DROP TABLE temp.vocab")
    # Readers may then open it read-only anywhere (busy if another process reads: stay WAL).
    conn.execute("PRAGMA busy_timeout = 100")
    with contextlib.suppress(sqlite3.OperationalError):
        conn.execute("PRAGMA journal_mode=DELETE")


def finalize_index(db_path: str | Path) -> None:
    """Optimize an index written by other means and refresh its term statistics.

    :func:`index_corpus` and :func:`build_benchmark_corpus` call this themselves.

    Args:
        db_path: The index database.
    """
    conn = _connect(db_path)
    try:
        _finish(conn)
    finally:
        conn.close()
    _forget(db_path)


def _corpus_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        rel_parts = path.relative_to(root).parts
        if any(part.startswith(".") for part in rel_parts):
            continue
        if path.is_file() and path.suffix.lower() in SUFFIXES:
            yield path


def index_corpus(path: str | Path, db_path: str | Path) -> IndexStats:
    """Index a folder (or one file) into the SQLite FTS5 corpus at ``db_path``.

    Re-running is incremental: unchanged files are skipped, changed files
    re-indexed and deleted files removed. Hidden files and folders are ignored.

    Args:
        path: A folder of ``.md``/``.txt``/``.html``/``.pdf``/``.jsonl`` files, or one file.
        db_path: The index database (created if missing).

    Returns:
        Counts of files, skipped/indexed/removed files, documents and passages.
    """
    root = Path(path).expanduser().resolve()
    if not root.exists():
        raise FileNotFoundError(f"no such file or folder: {root}")
    files = [root] if root.is_file() else list(_corpus_files(root))
    base = root.parent if root.is_file() else root
    stats = IndexStats(db=str(db_path), files=len(files))
    conn = _connect(db_path)
    try:
        seen: set[str] = set()
        for file in files:
            rel = file.relative_to(base).as_posix()
            seen.add(rel)
            info = file.stat()
            signature = f"{info.st_size}:{info.st_mtime_ns}"
            row = conn.execute("SELECT signature FROM sources WHERE path = ?", (rel,)).fetchone()
            if row and row[0] == signature:
                stats.skipped += 1
                continue
            if info.st_size > MAX_FILE_BYTES:
                stats.errors.append(f"{rel}: larger than {MAX_FILE_BYTES} bytes, skipped")
                continue
            try:
                documents = extract_documents(file, rel)
            except Exception as exc:  # one unreadable file must not stop the run
                stats.errors.append(f"{rel}: {type(exc).__name__}: {exc}"[:300])
                continue
            with conn:
                conn.execute("DELETE FROM documents WHERE source = ?", (rel,))
                for doc in documents:
                    stats.passages += _add_document(conn, doc, rel)
                stats.documents += len(documents)
                conn.execute(
                    "INSERT OR REPLACE INTO sources(path, signature) VALUES (?, ?)",
                    (rel, signature),
                )
            stats.indexed += 1
        if root.is_dir():
            for (rel,) in conn.execute("SELECT path FROM sources").fetchall():
                if rel not in seen and not rel.startswith("benchmark:"):
                    with conn:
                        conn.execute("DELETE FROM documents WHERE source = ?", (rel,))
                        conn.execute("DELETE FROM sources WHERE path = ?", (rel,))
                    stats.removed += 1
        _finish(conn)
    finally:
        conn.close()
    _forget(db_path)
    return stats


def build_benchmark_corpus(jsonl_paths: Iterable[str | Path], db_path: str | Path) -> IndexStats:
    """Index HotpotQA/MuSiQue evidence paragraphs, one document per title.

    Every paragraph becomes a passage of ``corpus://<dataset>/<title>``
    (deduplicated by title and text). Questions and answers are not indexed.

    Args:
        jsonl_paths: HotpotQA (distractor) and/or MuSiQue JSONL files.
        db_path: The index database (created if missing).

    Returns:
        Counts of files, documents and passages.
    """
    stats = IndexStats(db=str(db_path))
    conn = _connect(db_path)
    try:
        for jsonl in jsonl_paths:
            file = Path(jsonl)
            stats.files += 1
            source = f"benchmark:{file.name}"
            docs = [d for d in _jsonl_documents(file, file.name) if d.url.startswith("corpus://")]
            with conn:
                conn.execute("DELETE FROM documents WHERE source = ?", (source,))
                for doc in docs:
                    stats.passages += _add_document(conn, doc, source)
                conn.execute(
                    "INSERT OR REPLACE INTO sources(path, signature) VALUES (?, ?)",
                    (source, "benchmark"),
                )
            stats.documents += len(docs)
            stats.indexed += 1
        _finish(conn)
    finally:
        conn.close()
    _forget(db_path)
    return stats


# ---------------------------------------------------------------- reading


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
        self._conn.execute(f"CREATE VIRTUAL TABLE temp.qtok USING fts5(x, tokenize='{_TOKENIZER}')")
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


def _forget(db_path: str | Path) -> None:
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


def _writable(folder: Path) -> bool:
    # os.access alone says yes to root even for a read-only (r-x) folder: check the mode too.
    try:
        return os.access(folder, os.W_OK) and bool(folder.stat().st_mode & 0o222)
    except OSError:
        return False


def default_index_path(path: str | Path) -> Path:
    """Return where the index of a corpus folder (or file) lives by default.

    That is ``.deepsearch-index.sqlite3`` inside the folder, or, when the folder
    is not writable and has no index yet, a per-folder file under
    ``~/.cache/deepsearch/corpora``.
    """
    root = Path(path).expanduser().resolve()
    folder = root if root.is_dir() else root.parent
    inside = folder / INDEX_FILENAME
    if inside.exists() or _writable(folder):
        return inside
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    return CACHE_DIR / f"{folder.name or 'root'}-{digest}.sqlite3"


def resolve_corpus_db(corpus: str | None) -> Path:
    """Find the index for ``DEEPSEARCH_CORPUS`` (an index file, or a folder holding one).

    Args:
        corpus: The configured corpus path.

    Returns:
        The index database path.

    Raises:
        ConfigurationError: When nothing is configured or the folder is not indexed yet,
            with the command that fixes it.
    """
    if not corpus:
        raise ConfigurationError(
            "The local search provider needs a corpus: set DEEPSEARCH_CORPUS to a folder "
            "of documents and run `deepsearch index <folder>` (or point it at an index file)."
        )
    path = Path(corpus).expanduser()
    if path.is_file() and path.suffix.lower() not in SUFFIXES:
        return path
    if default_index_path(path).is_file():
        return default_index_path(path)
    if path.exists():
        raise ConfigurationError(
            f"The corpus {path} is not indexed yet: run `deepsearch index {path}` "
            f"(it writes {default_index_path(path)}) and set DEEPSEARCH_CORPUS to the folder "
            "or the index file."
        )
    raise ConfigurationError(f"DEEPSEARCH_CORPUS={corpus} does not exist.")
