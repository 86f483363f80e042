"""Writing the corpus index: folders and benchmark files into SQLite FTS5 passages."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from deepsearch.tools.corpus.documents import MAX_FILE_BYTES, SUFFIXES, extract_documents
from deepsearch.tools.corpus.jsonl import jsonl_documents
from deepsearch.tools.corpus.search import TOKENIZER, forget_index
from deepsearch.tools.corpus.text import Document

_SCHEMA = f"""
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
    tokenize='{TOKENIZER}'
);
CREATE TRIGGER IF NOT EXISTS documents_ai AFTER INSERT ON documents BEGIN
    INSERT INTO passages(rowid, title, text) VALUES (new.id, new.title, new.text);
END;
CREATE TRIGGER IF NOT EXISTS documents_ad AFTER DELETE ON documents BEGIN
    INSERT INTO passages(passages, rowid, title, text)
    VALUES ('delete', old.id, old.title, old.text);
END;
"""


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


def _connect(db_path: str | Path) -> sqlite3.Connection:
    forget_index(db_path)  # close this process's readers before writing
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
    forget_index(db_path)


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
    forget_index(db_path)
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
            docs = [d for d in jsonl_documents(file, file.name) if d.url.startswith("corpus://")]
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
    forget_index(db_path)
    return stats
