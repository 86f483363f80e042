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
_QUOTE_MARKS = str.maketrans(
    dict.fromkeys("\"\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u00ab\u00bb", "'")
)


@dataclass
class RawReference:
    """A reference as the model wrote it: a source id or URL, and a quote."""

    source: str
    quote: str


def normalize(text: str) -> str:
    """Fold case, unicode forms, markup and whitespace so quotes compare as readers see them."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _MARKUP.sub(" ", text)
    # Quotation marks of every kind read alike: models swap "..." for '...' when quoting.
    text = text.translate(_QUOTE_MARKS)
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
        out.append(_verify(ref.quote, source_url(ref.source, pages, ids), pages))
    return out


_SOURCE_ID = re.compile(r"^\W*(?:s|source|src)?\W*(\d+)\W*$", re.IGNORECASE)


def source_url(source: str, pages: Mapping[str, PageRecord], ids: Mapping[str, str]) -> str:
    """Return the URL a reference's source names: its id, its URL, or its page title.

    Models write the id as given (``S2``) or loosely (``[S2]``, ``s2``, ``Source 2``,
    ``2``), or name the page by its URL or its title instead; an unknown name comes
    back as it is (its quote is then looked for on every page).
    """
    name = source.strip()
    m = _SOURCE_ID.match(name)
    if m and f"S{m.group(1)}" in ids:
        return ids[f"S{m.group(1)}"]
    if name in pages:
        return name
    bare = name.rstrip("/").lower()
    for url in pages:
        if url.rstrip("/").lower() == bare:
            return url
    folded = normalize(name)
    titled = [url for url, page in pages.items() if normalize(page.get("title") or "") == folded]
    return titled[0] if len(titled) == 1 else name


def _verify(quote: str, url: str, pages: Mapping[str, PageRecord]) -> Reference | None:
    page = pages.get(url)
    if page is not None and quote_occurs(quote, page["passages"]):
        return _reference(page, quote.strip())
    for other in pages.values():  # the quote is real but the model named the wrong source
        if quote_occurs(quote, other["passages"]):
            return _reference(other, quote.strip())
    if page is not None:  # a paraphrase: the closest real sentence of the page it named
        repaired = closest_sentence(quote, page["passages"])
        if repaired:
            return _reference(page, repaired)
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


_INLINE_IDS = re.compile(r"\s?[\[(]\s*(S\d+(?:\s*[,;]\s*S\d+)*)\s*[\])]")


def inline_ids_to_markers(text: str, sources: Sequence[str]) -> str:
    """Turn source ids written inline (``[S4]``, ``(S2, S3)``) into footnote markers.

    A model may cite the way the sources are labelled instead of with ``[^n]``; each id
    becomes the marker of the first reference (1-based, in ``sources`` order) that
    names that source, and an id no reference names is dropped.
    """
    first: dict[str, int] = {}
    for n, source in enumerate(sources, start=1):
        m = _SOURCE_ID.match(source)
        if m:
            first.setdefault(f"S{m.group(1)}", n)

    def replace(match: re.Match[str]) -> str:
        ids = re.split(r"\s*[,;]\s*", match.group(1))
        marks = "".join(f"[^{first[i]}]" for i in ids if i in first)
        return f" {marks}" if marks else ""

    return _INLINE_IDS.sub(replace, text)


def add_missing_markers(text: str, refs: Sequence[Reference | None]) -> str:
    """Cite the verified references of an answer that has no footnote markers at all.

    A model may give good references yet forget the ``[^n]`` markers; each verified
    reference is then cited after the answer's sentence sharing most words with its
    quote (the last sentence when none shares any).
    """
    if MARKER.search(text) or not any(refs):
        return text
    text = text.rstrip()
    breaks = list(_SENTENCE.finditer(text))
    ends = [m.start() for m in breaks] + [len(text)]
    starts = [0] + [m.end() for m in breaks]
    spans = [(a, b) for a, b in zip(starts, ends, strict=True) if text[a:b].strip()]
    if not spans:
        return text
    marks: dict[int, str] = {}
    for n, ref in enumerate(refs, start=1):
        if ref is None:
            continue
        quote = _words(ref["exactQuote"])
        overlap = [len(quote & _words(text[a:b])) for a, b in spans]
        best = max(range(len(spans)), key=lambda i: (overlap[i], i))
        end = spans[best if overlap[best] else len(spans) - 1][1]
        marks[end] = marks.get(end, "") + f"[^{n}]"
    for end in sorted(marks, reverse=True):
        text = text[:end] + marks[end] + text[end:]
    return text


def strip_footnote_section(text: str) -> str:
    """Drop a trailing footnote-definition section the model may have written itself."""
    return re.sub(r"(?m)^\[\^\d+\]:.*$", "", text).strip()
