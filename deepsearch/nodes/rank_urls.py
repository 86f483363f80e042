"""rank_urls: score the candidate URLs for the question in work (awaited, same step)."""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from deepsearch.budget import Spend, affordable
from deepsearch.context import Context
from deepsearch.nodes.common import NodeFn, run_options
from deepsearch.nodes.routing import step_after
from deepsearch.state import ResearchState
from deepsearch.tools.base import bills_tokens
from deepsearch.tools.embeddings.local import LexicalRelevance
from deepsearch.tools.ranking import rank_candidates
from deepsearch.tools.toolbox import Toolbox


def make_rank_urls(tools: Toolbox) -> NodeFn:
    """Build the ``rank_urls`` node."""

    async def rank_urls(
        state: ResearchState, runtime: Runtime[Context]
    ) -> Command[Literal["plan", "beast_mode"]]:
        """Score unread candidates by relevance, frequency, freshness and hostname controls.

        Then route: plan the next step, or finish in beast mode when a stop rule holds.
        """
        ctx = run_options(runtime)
        exclude = set(state.get("read_urls", [])) | set(state.get("failed_urls", []))
        question = state.get("question") or state["original_question"]
        if question != state["original_question"]:
            question = f"{question} ({state['original_question']})"
        scorer = tools.relevance
        if not affordable(state, "rank", 1, bills=bills_tokens(scorer)):
            scorer = LexicalRelevance()  # the paid scorer no longer fits: rank lexically, free
        ranked, tokens = await rank_candidates(
            question,
            state.get("candidates", {}),
            scorer,
            boost_hostnames=ctx.boost_hostnames,
            bad_hostnames=ctx.bad_hostnames,
            only_hostnames=ctx.only_hostnames,
            exclude=exclude,
        )
        spend = Spend()
        spend.add_provider(tokens)
        kept = {c["url"] for c in ranked}
        # Candidates the ranking left out (bad hosts, hosts outside only_hostnames) are
        # never read: a negative score keeps them out of the unread list.
        scores: dict[str, Any] = {
            url: {**c, "score": -1.0}
            for url, c in state.get("candidates", {}).items()
            if url not in kept and url not in exclude
        }
        scores.update({c["url"]: c for c in ranked})
        update = {"candidates": scores, "unit_costs": {"rank": tokens}, **spend.update()}
        return Command(goto=step_after(state, update, ctx), update=update)

    return rank_urls
