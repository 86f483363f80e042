"""Reading pages: fetch concurrently, keep the passages relevant to the question.

Shared by the ``read`` node and by ``answer``, which reads the pages whose snippets
an answer rests on before writing it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from deepsearch.budget import Spend, affordable
from deepsearch.context import Context
from deepsearch.nodes.common import host_allowed, worth_reading
from deepsearch.nodes.screened import ScreeningNotes
from deepsearch.progress import emit
from deepsearch.state import Candidate, PageRecord
from deepsearch.tools.base import Page, ProviderError, bills_tokens
from deepsearch.tools.passages import select_passages
from deepsearch.tools.toolbox import Toolbox
from deepsearch.tools.urls import normalize_url

MAX_URLS_PER_STEP = 5
READ_DEADLINE_S = 60.0
PAGE_TOKENS = 1500
LINKS_PER_PAGE = 20
MAX_ANCHOR_CHARS = 200


@dataclass
class Reading:
    """What reading some URLs produced: pages, failures, new link candidates, cost."""

    pages: dict[str, PageRecord] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    links: dict[str, Candidate] = field(default_factory=dict)
    spend: Spend = field(default_factory=Spend)
    page_cost: int = 0  # the most provider tokens one page cost
    notes: ScreeningNotes = field(default_factory=lambda: ScreeningNotes({}))

    def update(self) -> dict[str, Any]:
        """Return the state update that records this reading (diary notes aside)."""
        return {
            "pages": self.pages,
            "read_urls": list(self.pages),
            "failed_urls": self.failed,
            "candidates": self.links,
            **self.notes.update(),
            **self.spend.update(),
        }


def pick_urls(
    state: Mapping[str, Any], ctx: Context, proposed: list[str], limit: int = MAX_URLS_PER_STEP
) -> list[str]:
    """Pasted URLs first, then the planner's picks that are known candidates, then the ranking.

    From the ranking, only candidates worth reading are taken: a navigation link is
    read when the planner names it, never to fill up a step.
    """
    done = set(state.get("read_urls", [])) | set(state.get("failed_urls", []))
    known = state.get("candidates", {})
    picks: list[str] = []
    order = [*state.get("must_read", [])]
    for url in proposed:
        try:
            norm = normalize_url(url)
        except ValueError:
            continue
        if norm in known:  # never read a URL the model made up
            order.append(norm)
    order += [c["url"] for c in worth_reading(state)]
    for url in order:
        if url in done or url in picks or not host_allowed(url, ctx):
            continue
        picks.append(url)
        if len(picks) == limit:
            break
    return picks


def link_candidates(page: Page, known: Mapping[str, Any]) -> dict[str, Candidate]:
    """Turn a page's links into weak candidates, described by their own anchor text only.

    A link must not borrow the relevance of the page it was found on: its title is
    the anchor text, its snippet empty, so navigation links ("Home", "Archive") score
    on what they say, not on where they were.
    """
    links: dict[str, Candidate] = {}
    for link in page.links[:LINKS_PER_PAGE]:
        try:
            norm = normalize_url(link)
        except ValueError:
            continue
        if norm in known or norm in links:
            continue
        links[norm] = {
            "url": norm,
            "title": " ".join(page.link_text.get(link, "").split())[:MAX_ANCHOR_CHARS],
            "snippet": "",
            "date": None,
            "hits": 0,
            "score": 0.0,
            "weak": True,
        }
    return links


def pages_affordable(tools: Toolbox, state: Mapping[str, Any], ctx: Context, wanted: int) -> int:
    """Return how many of ``wanted`` pages research can still pay for (reading and scoring)."""
    reader = tools.reader_for(ctx.search_provider)
    bills = bills_tokens(reader) or bills_tokens(tools.relevance)
    return affordable(state, "read", wanted, bills=bills)


async def read_urls(
    tools: Toolbox,
    state: Mapping[str, Any],
    ctx: Context,
    urls: list[str],
    question: str,
) -> Reading:
    """Read ``urls`` concurrently; failures are recorded, never fatal.

    Only as many pages are read as research can still pay for, at the most a page
    has cost so far (a reader that bills tokens, such as Jina Reader).
    """
    reader = tools.reader_for(ctx.search_provider)
    urls = urls[: pages_affordable(tools, state, ctx, len(urls))]
    reading = Reading(notes=ScreeningNotes(state))
    for url in urls:
        emit(state, "read", url)

    async def fetch(url: str) -> Page | Exception:
        try:
            async with asyncio.timeout(READ_DEADLINE_S):
                return await reader.read(url)
        except (ProviderError, TimeoutError, ValueError) as exc:
            return exc

    results = await asyncio.gather(*(fetch(u) for u in urls))
    known: dict[str, Any] = dict(state.get("candidates", {}))
    for url, result in zip(urls, results, strict=True):
        if isinstance(result, Exception):
            reading.failed.append(url)
            emit(state, "read-failed", f"{url}: {result or type(result).__name__}")
            continue
        reading.spend.add_provider(result.tokens)
        reading.notes.add("page", result.instructions_removed, result.demands, url)
        passages, tokens = await select_passages(
            question, result.text, tools.relevance, max_tokens=PAGE_TOKENS
        )
        reading.spend.add_provider(tokens)
        reading.page_cost = max(reading.page_cost, result.tokens + tokens)
        if not passages:
            reading.failed.append(url)
            emit(state, "read-failed", f"{url}: no text")
            continue
        title = result.title or known.get(url, {}).get("title", "") or url
        reading.pages[url] = {
            "url": url,
            "title": title[:300],
            "date": result.date or known.get(url, {}).get("date"),
            "passages": [p.shown() for p in passages],
        }
        for link, cand in link_candidates(result, {**known, **reading.links}).items():
            reading.links[link] = cand
    return reading
