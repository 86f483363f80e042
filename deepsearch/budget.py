"""Token accounting: what a step spent, what is left, and when the budget says stop.

The budget is a cap on everything a run spends (every LLM call, provider costs).
Research may spend up to the final reserve: 15% of the budget, and never less than
what the smallest useful final answer costs. The final answer (beast mode) may spend
all that is left. Every call is fitted to the room it has before it is made
(``deepsearch.prompts.fit``), so the run ends within the budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deepsearch.state import Usage
from deepsearch.tools.llm import LLMResult

# Beast mode starts when this share of the budget is spent; the rest is its reserve.
FINAL_RESERVE_AT = 0.85
# The smallest useful final answer: its instructions, the question, a floor of
# evidence (~600 tokens) and a short reply. The reserve never goes below it.
FINAL_ANSWER_MIN_TOKENS = 2_000
# A run with no new knowledge or URLs for this many steps has stalled.
STALL_LIMIT = 3


@dataclass
class Spend:
    """Tokens one node spent, turned into a state update."""

    prompt: int = 0
    completion: int = 0
    provider: int = 0
    cached: int = 0  # prompt tokens the server served from its prompt cache

    def add(self, result: LLMResult[Any]) -> None:
        """Count one LLM call."""
        self.prompt += result.prompt_tokens
        self.completion += result.completion_tokens
        self.cached += result.cached_tokens

    def add_provider(self, tokens: int) -> None:
        """Count provider-reported costs (search, reader, embeddings)."""
        self.provider += tokens

    @property
    def total(self) -> int:
        """Return all tokens spent."""
        return self.prompt + self.completion + self.provider

    def update(self) -> dict[str, int]:
        """Return the state update that adds this spend to the run's counters."""
        return {
            "prompt_tokens": self.prompt + self.provider,
            "completion_tokens": self.completion,
            "tokens_used": self.total,
            "cached_prompt_tokens": self.cached,
        }


def final_reserve(budget: int) -> int:
    """Return the tokens kept back for the final answer out of ``budget``."""
    return min(budget, max(int((1 - FINAL_RESERVE_AT) * budget), FINAL_ANSWER_MIN_TOKENS))


def tokens_left(state: Mapping[str, Any], spent: int = 0, *, final: bool = False) -> int:
    """Return the tokens the next call may spend.

    Args:
        state: The run's state (its budget and what it spent).
        spent: What the current node spent already (not yet in the state).
        final: True for the final answer, which may use the reserve too.
    """
    budget = state.get("budget_tokens") or 0
    left = budget - state.get("tokens_used", 0) - spent
    return left if final else left - final_reserve(budget)


def affordable(state: Mapping[str, Any], unit: str, wanted: int, *, bills: bool) -> int:
    """Return how many of ``wanted`` provider calls (queries, pages) research can still pay for.

    Each is priced at the most one has cost so far in the run (``unit_costs``). A
    provider that bills (``bills``) but has no price yet makes one call first, to learn
    it; one that bills nothing is not limited.
    """
    if not bills or wanted <= 0:
        return wanted
    price = state.get("unit_costs", {}).get(unit)
    if price is None:
        return 1 if tokens_left(state) > 0 else 0
    if price <= 0:
        return wanted
    return max(0, min(wanted, tokens_left(state) // price))


def reserve_reached(state: Mapping[str, Any]) -> bool:
    """Tell whether research has spent up to the final reserve."""
    return tokens_left(state) <= 0


def usage_of(state: Mapping[str, Any]) -> Usage:
    """Return the OpenAI-style usage of a run, with the prompt tokens served from cache."""
    return {
        "prompt_tokens": state.get("prompt_tokens", 0),
        "completion_tokens": state.get("completion_tokens", 0),
        "total_tokens": state.get("tokens_used", 0),
        "prompt_tokens_details": {"cached_tokens": state.get("cached_prompt_tokens", 0)},
    }


def cached_tokens_of(usage: Mapping[str, Any]) -> int:
    """Return the prompt tokens of a usage record that were served from the server's cache."""
    details = usage.get("prompt_tokens_details")
    return int(details.get("cached_tokens", 0)) if isinstance(details, Mapping) else 0


def cached_share(usage: Mapping[str, Any]) -> float:
    """Return the share of a run's prompt tokens the model's server served from its cache."""
    prompt = usage.get("prompt_tokens", 0)
    return cached_tokens_of(usage) / prompt if prompt else 0.0
