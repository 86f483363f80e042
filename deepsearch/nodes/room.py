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

# The share of the context window kept free of estimated prompt tokens: token counts
# are estimated before a call (and a local server's chat template adds its own), so
# a prompt fitted to the whole window could still overflow it.
CONTEXT_MARGIN = 0.1


async def learn_context_window(tools: Toolbox) -> None:
    """Ask the model's server for its context window, before a run fits its first prompt.

    Nothing is asked when no model is configured (the first call reports that); the
    answer is cached per endpoint, so later runs pay nothing.
    """
    if tools.llm_override is None and not tools.settings.llm_configured():
        return
    await tools.llm.learn_context_window()


def call_limit(
    tools: Toolbox, state: Mapping[str, Any], spent: int = 0, *, final: bool = False
) -> int:
    """Return the tokens (prompt and reply) the next call may spend.

    That is what the budget leaves, within the model's context window less a margin
    for the estimate's error (:data:`CONTEXT_MARGIN`).
    """
    left = tokens_left(state, spent, final=final)
    window = tools.llm.context_window
    return min(left, usable_window(window)) if window else left


def usable_window(window: int) -> int:
    """Return the tokens of a context window a fitted call may plan to fill."""
    return window - max(64, int(window * CONTEXT_MARGIN))


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
    reserve: int = 0,
) -> FittedPrompt | None:
    """Fit a call's prompt and reply cap into ``limit`` tokens (None: it cannot be afforded).

    ``reserve`` tokens are kept free as if the prompt held them.
    """
    return fit_prompt(
        system,
        template,
        sections,
        counter=tools.llm.counter(role),
        limit=limit,
        cap=tools.llm.completion_cap(role),
        overhead=tools.llm.estimate(role, "", "", schema) + reserve,
        fixed=fixed,
    )
