"""Per-run options: the graph's ``context_schema``.

Explicit per-run values always win; effort presets fill what is left unset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ReasoningEffort = Literal["low", "medium", "high"]

EFFORT_PRESETS: dict[str, tuple[int, int]] = {
    "low": (100_000, 1),
    "medium": (500_000, 2),
    "high": (1_000_000, 4),
}


@dataclass(kw_only=True)
class Context:
    """Options of one DeepSearch run (what a request or the CLI may set)."""

    reasoning_effort: ReasoningEffort = "medium"
    budget_tokens: int | None = None
    max_attempts: int | None = None
    max_completion_tokens: int | None = None
    team_size: int = 1
    no_direct_answer: bool = False
    boost_hostnames: list[str] = field(default_factory=list)
    bad_hostnames: list[str] = field(default_factory=list)
    only_hostnames: list[str] = field(default_factory=list)
    search_provider: str | None = None
    search_language_code: str | None = None
    language_code: str | None = None
    max_returned_urls: int = 100
    max_annotations: int = 10
    max_steps: int = 40
    # Wall-clock seconds of research; then the run answers from what it has (beast mode).
    max_seconds: float | None = None
    response_schema: dict[str, Any] | None = None  # JSON schema the final answer must follow

    def resolved_budget(self) -> int:
        """Return the token budget: max_completion_tokens, else budget_tokens, else the preset."""
        if self.max_completion_tokens:
            return self.max_completion_tokens
        if self.budget_tokens:
            return self.budget_tokens
        return EFFORT_PRESETS[self.reasoning_effort][0]

    def resolved_attempts(self) -> int:
        """Return how many failed evaluations per check are allowed before beast mode."""
        if self.max_completion_tokens:
            return 1
        if self.max_attempts:
            return self.max_attempts
        return EFFORT_PRESETS[self.reasoning_effort][1]
