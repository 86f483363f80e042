"""The local document corpus: SQLite FTS5 passages ranked with BM25.

:func:`index_corpus` turns a folder of Markdown, text, HTML, PDF and JSONL files
into passages; :func:`build_benchmark_corpus` does the same for HotpotQA and
MuSiQue evidence paragraphs (one document per title, ``corpus://hotpotqa/<title>``).
:func:`search_corpus` and :func:`read_document` serve the ``local`` search
provider and reader. Passage ``0`` of a document has the document's URL; passage
``n > 0`` has ``<url>#<n>``.

The package: :mod:`.text` (documents, passages), :mod:`.documents` and
:mod:`.jsonl` (files to documents), :mod:`.build` (writing the index),
:mod:`.search` (reading it) and :mod:`.paths` (where an index lives).
"""

from __future__ import annotations

from deepsearch.tools.corpus.build import (
    IndexStats,
    build_benchmark_corpus,
    finalize_index,
    index_corpus,
)
from deepsearch.tools.corpus.documents import SUFFIXES, extract_documents
from deepsearch.tools.corpus.jsonl import benchmark_doc_url, benchmark_paragraphs
from deepsearch.tools.corpus.paths import INDEX_FILENAME, default_index_path, resolve_corpus_db
from deepsearch.tools.corpus.search import (
    MAX_DOCUMENT_CHARS,
    MAX_K,
    CorpusHit,
    CorpusIndex,
    fts_query,
    open_index,
    read_document,
    search_corpus,
)
from deepsearch.tools.corpus.text import Document, quote_path, split_passages

__all__ = [
    "INDEX_FILENAME",
    "MAX_DOCUMENT_CHARS",
    "MAX_K",
    "SUFFIXES",
    "CorpusHit",
    "CorpusIndex",
    "Document",
    "IndexStats",
    "benchmark_doc_url",
    "benchmark_paragraphs",
    "build_benchmark_corpus",
    "default_index_path",
    "extract_documents",
    "finalize_index",
    "fts_query",
    "index_corpus",
    "open_index",
    "quote_path",
    "read_document",
    "resolve_corpus_db",
    "search_corpus",
    "split_passages",
]
