"""Files as documents: Markdown and text, HTML, PDF and JSONL."""

from __future__ import annotations

import re
from pathlib import Path

from deepsearch.tools.corpus.jsonl import jsonl_documents
from deepsearch.tools.corpus.text import Document, quote_path, split_passages

TEXT_SUFFIXES = {".md", ".markdown", ".txt", ".text", ".rst"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf", ".jsonl"}
MAX_FILE_BYTES = 50_000_000
MAX_PDF_PAGES = 2000


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
        return list(jsonl_documents(path, rel))
    return []
