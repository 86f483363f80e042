"""read: fetch up to 5 URLs concurrently, keep the passages relevant to the question."""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph.runtime import Runtime

from deepsearch.budget import Spend
from deepsearch.context import Context
from deepsearch.nodes.common import NodeFn, diary_line, host_allowed, ranked_unread, run_options
from deepsearch.progress import emit
from deepsearch.state import Candidate, PageRecord, ResearchState
from deepsearch.tools.base import Page, ProviderError
from deepsearch.tools.passages import select_passages
from deepsearch.tools.toolbox import Toolbox
from deepsearch.tools.urls import normalize_url

MAX_URLS_PER_STEP = 5
READ_DEADLINE_S = 60.0
PAGE_TOKENS = 1500
LINKS_PER_PAGE = 20


def pick_urls(state: ResearchState, ctx: Context, proposed: list[str]) -> list[str]:
    """Pasted URLs first, then the planner's picks that are known candidates, then the ranking."""
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
    order += [c["url"] for c in ranked_unread(state)]
    for url in order:
        if url in done or url in picks or not host_allowed(url, ctx):
            continue
        picks.append(url)
        if len(picks) == MAX_URLS_PER_STEP:
            break
    return picks


def make_read(tools: Toolbox) -> NodeFn:
    """Build the ``read`` node."""

    async def read(state: ResearchState, runtime: Runtime[Context]) -> dict[str, Any]:
        """Read the chosen URLs; failures are recorded, never fatal."""
        ctx = run_options(runtime)
        args = state.get("action_args", {})
        urls = pick_urls(state, ctx, list(args.get("urls", [])))
        question = state.get("question") or state["original_question"]
        reader = tools.reader_for(ctx.search_provider)
        spend = Spend()
        for url in urls:
            emit(state, "read", url)

        async def fetch(url: str) -> Page | Exception:
            try:
                async with asyncio.timeout(READ_DEADLINE_S):
                    return await reader.read(url)
            except (ProviderError, TimeoutError, ValueError) as exc:
                return exc

        results = await asyncio.gather(*(fetch(u) for u in urls))
        pages: dict[str, PageRecord] = {}
        failed: list[str] = []
        links: dict[str, Candidate] = {}
        known: dict[str, Any] = dict(state.get("candidates", {}))
        for url, result in zip(urls, results, strict=True):
            if isinstance(result, Exception):
                failed.append(url)
                emit(state, "read-failed", f"{url}: {result or type(result).__name__}")
                continue
            spend.add_provider(result.tokens)
            passages, tokens = await select_passages(
                question, result.text, tools.relevance, max_tokens=PAGE_TOKENS
            )
            spend.add_provider(tokens)
            if not passages:
                failed.append(url)
                emit(state, "read-failed", f"{url}: no text")
                continue
            title = result.title or known.get(url, {}).get("title", "") or url
            pages[url] = {
                "url": url,
                "title": title[:300],
                "date": result.date or known.get(url, {}).get("date"),
                "passages": [p.shown() for p in passages],
            }
            for link in result.links[:LINKS_PER_PAGE]:
                try:
                    norm = normalize_url(link)
                except ValueError:
                    continue
                if norm not in known and norm not in links:
                    links[norm] = {
                        "url": norm,
                        "title": "",
                        "snippet": f"linked from {url}",
                        "date": None,
                        "hits": 0,
                        "score": 0.0,
                        "weak": True,
                    }
        summary = f"read {len(pages)} of {len(urls)} URLs"
        emit(state, "read-done", summary.capitalize() + ".")
        return {
            "last_action": "read",
            "pages": pages,
            "read_urls": list(pages),
            "failed_urls": failed,
            "candidates": links,
            "must_read": [],
            "stalled_steps": 0 if pages else state.get("stalled_steps", 0) + 1,
            "diary": [diary_line(state, summary + (f"; failed: {failed}" if failed else ""))],
            **spend.update(),
        }

    return read
