"""Routing: before every step, the budget, the attempts and progress decide where to go."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Literal

from deepsearch.budget import STALL_LIMIT, reserve_reached
from deepsearch.context import Context
from deepsearch.nodes.common import worth_reading


def stalled(state: Mapping[str, Any]) -> bool:
    """Tell whether the run has stalled: no progress for a while AND nothing worth reading.

    Repeat-only searches and dead links alone never end a run that still has good
    pages unread.
    """
    return state.get("stalled_steps", 0) >= STALL_LIMIT and not worth_reading(state)


def stop_reason(state: Mapping[str, Any], ctx: Context) -> str | None:
    """Say why the loop must stop researching now, or ``None`` to go on."""
    if reserve_reached(state):
        return "budget reserve reached"
    if state.get("halt"):
        return str(state["halt"])
    attempts = state.get("max_attempts") or ctx.resolved_attempts()
    failures = state.get("failures", {})
    if failures and max(failures.values()) >= attempts:
        return "answer attempts exhausted"
    if stalled(state):
        return "no progress for several steps and nothing left worth reading"
    if state.get("step", 0) >= ctx.max_steps:
        return "step limit reached"
    deadline = state.get("deadline")
    if deadline and time.time() >= deadline:
        return "time limit reached"
    return None


def next_step(state: Mapping[str, Any], ctx: Context) -> Literal["plan", "beast_mode"]:
    """Go on planning, or finish in beast mode when a stop reason holds."""
    return "beast_mode" if stop_reason(state, ctx) else "plan"


def step_after(
    state: Mapping[str, Any], update: Mapping[str, Any], ctx: Context
) -> Literal["plan", "beast_mode"]:
    """Route as :func:`next_step` would on the state that ``update`` leads to.

    Action nodes route themselves with ``Command(goto=...)``: a conditional edge
    would make LangGraph copy every channel of the state to read it fresh (the
    largest per-step cost of routing). Only ``tokens_used`` accumulates among the
    keys the stop rules read; the others are replaced by the update.
    """
    spent = update.get("tokens_used", 0)
    probe = {**state, **update, "tokens_used": state.get("tokens_used", 0) + spent}
    return next_step(probe, ctx)
