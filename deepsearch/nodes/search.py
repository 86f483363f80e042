"""search: run the planner's queries concurrently and keep every hit as a candidate URL."""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph.runtime import Runtime

from deepsearch.budget import Spend, affordable
from deepsearch.context import Context
from deepsearch.nodes.common import NodeFn, diary_line, run_options
from deepsearch.nodes.screened import ScreeningNotes
from deepsearch.progress import emit
from deepsearch.state import Candidate, ResearchState
from deepsearch.tools.base import ProviderError, SearchResponse, bills_tokens
from deepsearch.tools.embeddings.local import similarity
from deepsearch.tools.toolbox import Toolbox
from deepsearch.tools.urls import normalize_url

MAX_QUERIES = 5
NEAR_DUPLICATE = 0.85
RESULTS_PER_QUERY = 10
MAX_QUERY_CHARS = 300
# Reciprocal-rank prior: a result at 0-based position i of a query's results adds
# 1 / (ENGINE_RANK_K + i + 1) to the URL's ``engine`` score, so the engine's own
# full-text order survives our re-ranking on a title and a one-line snippet.
ENGINE_RANK_K = 5


def engine_prior(position: int) -> float:
    """Return the reciprocal-rank weight of a result at 0-based ``position``."""
    return 1.0 / (ENGINE_RANK_K + position + 1)


def bounded_query(query: str) -> str:
    """Normalise whitespace and cut a query at a word boundary within MAX_QUERY_CHARS.

    A long question used as a query (the fallback) would otherwise go to the provider
    whole; engines take a few words, not pages.
    """
    q = " ".join(query.split())
    if len(q) <= MAX_QUERY_CHARS:
        return q
    cut = q[:MAX_QUERY_CHARS]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut


def fresh_queries(proposed: list[str], done: list[str]) -> list[str]:
    """Drop exact and near-duplicate queries (against earlier ones and each other)."""
    kept: list[str] = []
    seen = [q.lower() for q in done]
    for query in proposed:
        q = bounded_query(query)
        if not q or q.lower() in seen:
            continue
        if any(similarity(q, other) >= NEAR_DUPLICATE for other in [*done, *kept]):
            continue
        kept.append(q)
        seen.append(q.lower())
    return kept[:MAX_QUERIES]


def make_search(tools: Toolbox) -> NodeFn:
    """Build the ``search`` node."""

    async def search(state: ResearchState, runtime: Runtime[Context]) -> dict[str, Any]:
        """Search for the planner's queries; results become candidate URLs."""
        ctx = run_options(runtime)
        args = state.get("action_args", {})
        queries = fresh_queries(list(args.get("queries", [])), list(state.get("queries", [])))
        spend = Spend()
        if not queries:
            emit(state, "search", "All proposed queries were run before; skipping.")
            return {
                "last_action": "search",
                "stalled_steps": state.get("stalled_steps", 0) + 1,
                "diary": [diary_line(state, "search skipped: only repeated queries")],
            }
        provider = tools.search(ctx.search_provider)
        paid = affordable(state, "search", len(queries), bills=bills_tokens(provider))
        if paid < len(queries):
            emit(state, "search", f"The budget pays for {paid} of {len(queries)} queries.")
            queries = queries[:paid]
        if not queries:
            return {
                "last_action": "search",
                "halt": "budget left only for the final answer",
                "diary": [diary_line(state, "search skipped: no budget for a query")],
            }
        for q in queries:
            emit(state, "query", q, provider=provider.name)

        async def run(q: str) -> SearchResponse | ProviderError:
            try:
                return await provider.search(
                    q, num_results=RESULTS_PER_QUERY, language=ctx.search_language_code
                )
            except ProviderError as exc:
                return exc

        responses = await asyncio.gather(*(run(q) for q in queries))
        ok = [r for r in responses if not isinstance(r, ProviderError)]
        known: dict[str, Candidate] = state.get("candidates", {})
        updated: dict[str, Candidate] = {}
        failures: list[str] = []
        notes = ScreeningNotes(state)
        for q, resp in zip(queries, responses, strict=True):
            if isinstance(resp, ProviderError):
                failures.append(f"{q!r}: {resp}")
                emit(state, "error", f"Search failed for {q!r}: {resp}")
                continue
            spend.add_provider(resp.tokens)
            notes.add("result", resp.instructions_removed, resp.demands)
            for position, hit in enumerate(resp.results):
                try:
                    url = normalize_url(hit.url)
                except ValueError:
                    continue
                prior = engine_prior(position)
                old = updated.get(url) or known.get(url)
                if old is not None:
                    found: Candidate = {**old, "hits": old["hits"] + 1, "weak": False}
                    found["engine"] = old.get("engine", 0.0) + prior
                    if old.get("weak"):  # a link seen again as a search result: its evidence
                        found["title"] = hit.title[:300] or old["title"]
                        found["snippet"] = hit.snippet[:600]
                    updated[url] = found
                    continue
                updated[url] = {
                    "url": url,
                    "title": hit.title[:300],
                    "snippet": hit.snippet[:600],
                    "date": hit.date,
                    "hits": 1,
                    "score": 0.0,
                    "weak": False,
                    "engine": prior,
                }
        new_urls = [u for u in updated if u not in known]
        emit(state, "search-done", f"Found {len(new_urls)} new URLs.", new_urls=len(new_urls))
        summary = f"searched {queries} -> {len(new_urls)} new URLs"
        if failures:
            summary += f"; {len(failures)} queries failed"
        return {
            "last_action": "search",
            "queries": queries,
            "candidates": updated,
            "visited_urls": new_urls,
            "stalled_steps": 0 if new_urls else state.get("stalled_steps", 0) + 1,
            "diary": [*notes.diary, diary_line(state, summary)],
            "unit_costs": {"search": max((r.tokens for r in ok), default=0)},
            **notes.update(),
            **spend.update(),
        }

    return search
