"""Footnotes that prove the answer: every quote must occur in the text read from its URL.

The model cites ``[^n]`` with references[n-1] = (source id, quote). Here the ids are
resolved to URLs, each quote is checked against the passages actually read from
that URL (up to whitespace, case and markup), repaired to the closest real sentence
when it is a paraphrase, moved to the page that really holds it, or dropped; then
markers are renumbered 1..k in order of first use so marker n points to footnote n.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from deepsearch.state import PageRecord, Reference

MARKER = re.compile(r"\[\^(\d+)\]")
_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?。])\s+|\n+")
_MARKUP = re.compile(r"[*_`#>\[\]|]+")


@dataclass
class RawReference:
    """A reference as the model wrote it: a source id or URL, and a quote."""

    source: str
    quote: str


def normalize(text: str) -> str:
    """Fold case, unicode forms, markup and whitespace so quotes compare as readers see them."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _MARKUP.sub(" ", text)
    text = text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(text.split())


def quote_occurs(quote: str, passages: Sequence[str]) -> bool:
    """Tell whether ``quote`` occurs in any passage, up to whitespace, case and markup."""
    q = normalize(quote)
    return bool(q) and any(q in normalize(p) for p in passages)


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2}


def closest_sentence(quote: str, passages: Sequence[str], threshold: float = 0.6) -> str | None:
    """Return the real sentence that best matches a paraphrased quote, if close enough."""
    target = _words(quote)
    if not target:
        return None
    best, best_score = None, 0.0
    for passage in passages:
        for sentence in _SENTENCE.split(passage):
            sentence = sentence.strip()
            if len(sentence) < 8:
                continue
            words = _words(sentence)
            if not words:
                continue
            score = len(target & words) / len(target)
            if score > best_score:
                best, best_score = sentence, score
    if best is not None and best_score >= threshold:
        return best[:500]
    return None


def resolve_references(
    raw: Sequence[RawReference],
    pages: Mapping[str, PageRecord],
    ids: Mapping[str, str],
) -> list[Reference | None]:
    """Turn raw references into verified ones (``None`` where nothing real backs the quote)."""
    out: list[Reference | None] = []
    for ref in raw:
        url = ids.get(ref.source.strip().strip("[]"), ref.source.strip())
        out.append(_verify(ref.quote, url, pages))
    return out


def _verify(quote: str, url: str, pages: Mapping[str, PageRecord]) -> Reference | None:
    page = pages.get(url)
    if page is not None:
        if quote_occurs(quote, page["passages"]):
            return _reference(page, quote.strip())
        repaired = closest_sentence(quote, page["passages"])
        if repaired:
            return _reference(page, repaired)
    for other in pages.values():  # the quote is real but the model named the wrong source
        if quote_occurs(quote, other["passages"]):
            return _reference(other, quote.strip())
    return None


def _reference(page: PageRecord, quote: str) -> Reference:
    return {
        "url": page["url"],
        "title": page.get("title") or page["url"],
        "exactQuote": quote,
        "dateTime": page.get("date"),
    }


def renumber(
    text: str, refs: Sequence[Reference | None], limit: int | None = None
) -> tuple[str, list[Reference]]:
    """Renumber markers 1..k in order of first use, merging duplicates and dropping dead ones.

    A marker whose reference is missing or unverified is removed from the text;
    references never cited by a marker are dropped; at most ``limit`` are kept.
    """
    final: list[Reference] = []
    index_of: dict[tuple[str, str], int] = {}

    def replace(match: re.Match[str]) -> str:
        n = int(match.group(1))
        ref = refs[n - 1] if 0 < n <= len(refs) else None
        if ref is None:
            return ""
        key = (ref["url"], ref["exactQuote"])
        if key not in index_of:
            if limit is not None and len(final) >= limit:
                return ""
            final.append(ref)
            index_of[key] = len(final)
        return f"[^{index_of[key]}]"

    new_text = MARKER.sub(replace, text)
    new_text = re.sub(r"(\[\^\d+\])(?:\1)+", r"\1", new_text)  # [^1][^1] -> [^1]
    return new_text.strip(), final


def strip_footnote_section(text: str) -> str:
    """Drop a trailing footnote-definition section the model may have written itself."""
    return re.sub(r"(?m)^\[\^\d+\]:.*$", "", text).strip()
