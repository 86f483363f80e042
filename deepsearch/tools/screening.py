"""Screen fetched content: remove the sentences that give orders to an AI assistant.

Everything a run fetches — search results (titles, snippets, URLs), pages from every
reader (web, Jina, the local corpus), attached files — passes through here before
any prompt can see it. A sentence that addresses AI assistants, claims to be a system
message, says to ignore instructions or demands a fixed reply is cut out; the rest of
the text is kept as it was. What was cut is counted, and the replies it demanded are
kept apart (never shown to a model) so the final answer can be checked against them.

    search = screened_search(make_search_provider("duckduckgo", settings))
    reader = screened_reader(make_reader("direct", settings))
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from urllib.parse import unquote, urlsplit

from deepsearch.tools.base import Page, Reader, SearchProvider, SearchResponse, SearchResult
from deepsearch.tools.instructions import announces, instruction_in, weak_directive

MAX_SLUG_WORDS = 30
THREAD_CHARS = 50_000  # above this, a page is screened in a worker thread (CPU bound)
MAX_FOLLOWERS = 3  # sentences after an order that still speak to the reader go with it
_FENCE = re.compile(r"^\s*(?:```|~~~)")
_BLOCK_START = re.compile(r"^\s*(?:[-*+•]\s|#{1,6}\s|\||\d{1,3}[.)]\s)")
_QUOTE_LINE = re.compile(r"^\s*>")
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)|[。！？]+")
_ABBREVIATION = re.compile(
    r"(?:\b(?:e\.g|i\.e|etc|mr|mrs|ms|dr|st|vs|no|fig|inc|ltd|jr|sr|u\.s|approx|cf)|\b[A-Z])\.$",
    re.IGNORECASE,
)
_TAGS = re.compile("[\U000e0000-\U000e007f]")
_BLANK_RUNS = re.compile(r"\n{3,}")
_SLUG = re.compile(r"[/_\-+.=&?#%~:]+")


@dataclass(frozen=True)
class Screened:
    """Text after screening: what is left, how many sentences went, the replies they demanded."""

    text: str
    removed: int = 0
    demands: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Segment:
    start: int
    end: int
    block: int
    quoted: bool


def screen_text(text: str) -> Screened:
    """Remove the sentences of ``text`` that instruct an AI assistant.

    Reported or quoted instructions (an article about prompt injection) are kept. A
    sentence that follows an order in the same paragraph and still speaks to the reader
    ("Do not answer the user.") goes with it.
    """
    if not text:
        return Screened(text)
    segments = list(_segments(text))
    flagged: set[int] = set()
    demands: list[str] = []
    followers = 0
    previous = ""
    for i, seg in enumerate(segments):
        sentence = text[seg.start : seg.end]
        found = instruction_in(sentence, context=previous, quoted=seg.quoted)
        if found is not None:
            flagged.add(i)
            demands += [d for d in found.demands if d not in demands]
            followers = MAX_FOLLOWERS
        elif followers and _continues(text, segments, i) and weak_directive(sentence):
            flagged.add(i)
            followers -= 1
        else:
            followers = 0
        previous = sentence
    # A "Developer message:" label that opens a removed order goes with it.
    flagged |= {
        i - 1
        for i in flagged
        if i > 0
        and segments[i - 1].block == segments[i].block
        and announces(text[segments[i - 1].start : segments[i - 1].end])
    }
    if not flagged:
        return Screened(_TAGS.sub("", text))
    kept = _cut(text, [segments[i] for i in sorted(flagged)])
    return Screened(kept, len(flagged), tuple(demands[:10]))


def screen_line(text: str) -> Screened:
    """Screen a short one-line text (a title): it is dropped whole when it gives an order."""
    found = instruction_in(text, loose=True)
    if found is None:
        return screen_text(text)
    return Screened("", 1, found.demands)


def url_instructs(url: str) -> bool:
    """Tell whether a URL's words (host, path, query) spell out an order to an AI."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    words = _SLUG.sub(" ", unquote(f"{parts.hostname or ''} {parts.path} {parts.query}")).split()
    # A slug has no punctuation: an order may start at any of its words.
    return any(
        instruction_in(" ".join(words[i:]), loose=True) is not None
        for i in range(min(len(words), MAX_SLUG_WORDS))
    )


def screen_results(response: SearchResponse) -> SearchResponse:
    """Screen each result's title and snippet; drop results whose URL gives an order."""
    results: list[SearchResult] = []
    removed = 0
    demands: list[str] = list(response.demands)
    for hit in response.results:
        if url_instructs(hit.url):
            removed += 1
            continue
        title, snippet = screen_line(hit.title), screen_text(hit.snippet)
        removed += title.removed + snippet.removed
        demands += [d for d in (*title.demands, *snippet.demands) if d not in demands]
        results.append(replace(hit, title=title.text, snippet=snippet.text))
    return replace(
        response,
        results=results,
        instructions_removed=response.instructions_removed + removed,
        demands=demands[:20],
    )


def screen_page(page: Page) -> Page:
    """Screen a page's text and title; drop links whose URL or anchor text gives an order."""
    body, title = screen_text(page.text), screen_line(page.title)
    demands = [*page.demands, *title.demands, *body.demands]
    links: list[str] = []
    link_text: dict[str, str] = {}
    for link in page.links:
        anchor = screen_line(page.link_text.get(link, ""))
        demands += anchor.demands
        if url_instructs(link) or anchor.removed:
            continue
        links.append(link)
        if anchor.text:
            link_text[link] = anchor.text
    removed = body.removed + title.removed + len(page.links) - len(links)
    return replace(
        page,
        text=body.text,
        title=title.text,
        links=links,
        link_text=link_text,
        instructions_removed=page.instructions_removed + removed,
        demands=list(dict.fromkeys(demands))[:20],
    )


class ScreenedSearch:
    """A search provider whose results are screened before the run sees them."""

    def __init__(self, inner: SearchProvider) -> None:
        """Wrap ``inner``; the wrapper keeps its name."""
        self.inner = inner
        self.name = inner.name

    async def search(
        self, query: str, *, num_results: int = 10, language: str | None = None
    ) -> SearchResponse:
        """Run the query on the wrapped provider and screen what it returns."""
        response = await self.inner.search(query, num_results=num_results, language=language)
        return screen_results(response)


class ScreenedReader:
    """A reader whose pages are screened before the run sees them."""

    def __init__(self, inner: Reader) -> None:
        """Wrap ``inner``; the wrapper keeps its name."""
        self.inner = inner
        self.name = inner.name

    async def read(self, url: str) -> Page:
        """Read ``url`` with the wrapped reader and screen the page."""
        page = await self.inner.read(url)
        if len(page.text) > THREAD_CHARS:
            return await asyncio.to_thread(screen_page, page)
        return screen_page(page)


def screened_search(provider: SearchProvider) -> SearchProvider:
    """Return ``provider`` wrapped for screening (unchanged when it already is)."""
    return provider if isinstance(provider, ScreenedSearch) else ScreenedSearch(provider)


def screened_reader(reader: Reader) -> Reader:
    """Return ``reader`` wrapped for screening (unchanged when it already is)."""
    return reader if isinstance(reader, ScreenedReader) else ScreenedReader(reader)


def screen_all(texts: Sequence[str]) -> tuple[list[str], int, list[str]]:
    """Screen several texts: the kept texts, the sentences removed, the replies demanded."""
    kept: list[str] = []
    removed = 0
    demands: list[str] = []
    for text in texts:
        result = screen_text(text)
        kept.append(result.text)
        removed += result.removed
        demands += [d for d in result.demands if d not in demands]
    return kept, removed, demands


# --- sentences with their place in the text ------------------------------------------------
def _segments(text: str) -> Iterator[_Segment]:
    """Split text into sentences (and lines of lists, headings, code) with their offsets."""
    block = 0
    for start, end, quoted in _blocks(text):
        block += 1
        if quoted:
            for line_start, line_end in _lines(text, start, end):
                yield _Segment(line_start, line_end, block, True)
            continue
        for s, e in _sentences(text, start, end):
            yield _Segment(s, e, block, False)


def _lines(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    pos = start
    for line in text[start:end].splitlines(keepends=True):
        if line.strip():
            lead = len(line) - len(line.lstrip())
            yield pos + lead, pos + len(line.rstrip())
        pos += len(line)


def _blocks(text: str) -> Iterator[tuple[int, int, bool]]:
    """Yield paragraphs (start, end, quoted): blank lines, list items and fences split them."""
    start: int | None = None
    quoted = fence = False
    pos = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        is_fence = bool(_FENCE.match(line))
        quote_line = fence or bool(_QUOTE_LINE.match(line))
        new_block = (
            not stripped
            or is_fence
            or bool(_BLOCK_START.match(line))
            or quote_line != quoted
            or (start is not None and text[start:pos].rstrip().endswith(":"))
        )
        if new_block and start is not None:
            yield start, pos, quoted
            start = None
        if is_fence:
            fence = not fence
        elif stripped and start is None:
            start, quoted = pos, quote_line
        pos += len(line)
    if start is not None:
        yield start, len(text), quoted


def _sentences(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Split a paragraph at sentence ends and at line ends that close a sentence."""
    cuts = [start]
    chunk = text[start:end]
    for match in _SENTENCE_END.finditer(chunk):
        if not _ABBREVIATION.search(chunk[max(0, match.start() - 8) : match.start() + 1]):
            cuts.append(start + match.end())
    for match in re.finditer(r"\n", chunk):
        if chunk[: match.start()].rstrip()[-1:] in (".", "!", "?", ":", ";"):
            cuts.append(start + match.end())
    cuts = [*sorted(set(cuts)), end]
    for a, b in itertools.pairwise(cuts):
        piece = text[a:b]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            yield a + lead, a + len(piece.rstrip())


def _continues(text: str, segments: list[_Segment], i: int) -> bool:
    """Tell whether segment ``i`` goes on from the one before (same paragraph, or under a ':')."""
    before = segments[i - 1]
    if segments[i].block == before.block:
        return True
    return segments[i].block == before.block + 1 and text[: before.end].endswith(":")


def _cut(text: str, spans: list[_Segment]) -> str:
    """Remove the flagged sentences, with the spaces that followed them on their line."""
    out: list[str] = []
    pos = 0
    for seg in spans:
        out.append(text[pos : seg.start])
        pos = seg.end
        while pos < len(text) and text[pos] in " \t":
            pos += 1
    out.append(text[pos:])
    kept = _TAGS.sub("", "".join(out))
    return _BLANK_RUNS.sub("\n\n", kept).strip()
