"""JSONL files as documents: benchmark evidence paragraphs and records with a text field.

HotpotQA and MuSiQue paragraphs become one document per title
(``corpus://hotpotqa/<title>``); other records become documents of their own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from deepsearch.tools.corpus.text import Document, quote_path, split_passages

_TEXT_FIELDS = ("text", "content", "body", "paragraph_text", "contents", "passage")


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


def jsonl_documents(path: Path, rel: str) -> Iterator[Document]:
    """Yield the documents of a JSONL file, merging records that share a URL.

    Args:
        path: The file.
        rel: Its path relative to the corpus root, used in URLs.

    Yields:
        Benchmark paragraph documents and record documents, in first-seen order.
    """
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
