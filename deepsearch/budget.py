"""Token accounting: what a step spent, and when the budget says stop."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deepsearch.tools.llm import LLMResult

# Beast mode starts when this share of the budget is spent; the rest is its reserve.
FINAL_RESERVE_AT = 0.85
# A run with no new knowledge or URLs for this many steps has stalled.
STALL_LIMIT = 3


@dataclass
class Spend:
    """Tokens one node spent, turned into a state update."""

    prompt: int = 0
    completion: int = 0
    provider: int = 0

    def add(self, result: LLMResult[Any]) -> None:
        """Count one LLM call."""
        self.prompt += result.prompt_tokens
        self.completion += result.completion_tokens

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
        }


def reserve_reached(state: Mapping[str, Any]) -> bool:
    """Tell whether the run has spent up to its final reserve."""
    budget = state.get("budget_tokens") or 0
    return state.get("tokens_used", 0) >= FINAL_RESERVE_AT * budget


def usage_of(state: Mapping[str, Any]) -> dict[str, int]:
    """Return the OpenAI-style usage of a run."""
    return {
        "prompt_tokens": state.get("prompt_tokens", 0),
        "completion_tokens": state.get("completion_tokens", 0),
        "total_tokens": state.get("tokens_used", 0),
    }
