"""How much the next LLM call may spend, and its prompt fitted to that.

A call may spend what the budget leaves (research stops at the final reserve; the
final answer may use it), within the model's context window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from deepsearch.budget import tokens_left
from deepsearch.prompts.fit import FittedPrompt, Section, fit_prompt
from deepsearch.tools.toolbox import Toolbox


def call_limit(
    tools: Toolbox, state: Mapping[str, Any], spent: int = 0, *, final: bool = False
) -> int:
    """Return the tokens (prompt and reply) the next call may spend."""
    left = tokens_left(state, spent, final=final)
    window = tools.llm.context_window
    return min(left, window) if window else left


def fit_call(
    tools: Toolbox,
    role: str,
    system: str,
    template: str,
    sections: Sequence[Section],
    limit: int,
    *,
    fixed: dict[str, str] | None = None,
    schema: type[BaseModel] | None = None,
) -> FittedPrompt | None:
    """Fit a call's prompt and reply cap into ``limit`` tokens (None: it cannot be afforded)."""
    return fit_prompt(
        system,
        template,
        sections,
        counter=tools.llm.counter(role),
        limit=limit,
        cap=tools.llm.completion_cap(role),
        overhead=tools.llm.estimate(role, "", "", schema),
        fixed=fixed,
    )
