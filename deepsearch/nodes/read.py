"""read: fetch up to 5 URLs concurrently, keep the passages relevant to the question."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from deepsearch.context import Context
from deepsearch.nodes.common import NodeFn, diary_line, run_options
from deepsearch.nodes.reading import pages_affordable, pick_urls, read_urls
from deepsearch.progress import emit
from deepsearch.state import ResearchState
from deepsearch.tools.toolbox import Toolbox


def make_read(tools: Toolbox) -> NodeFn:
    """Build the ``read`` node."""

    async def read(state: ResearchState, runtime: Runtime[Context]) -> dict[str, Any]:
        """Read the chosen URLs; failures are recorded, never fatal.

        A step that read something resets the stall count. Dead links and failed
        fetches never count toward stalling: the next step reads further down the
        ranking. Only a step with nothing left to read counts as stalled.
        """
        ctx = run_options(runtime)
        args = state.get("action_args", {})
        urls = pick_urls(state, ctx, list(args.get("urls", [])))
        if urls and not pages_affordable(tools, state, ctx, len(urls)):
            line = diary_line(state, "read skipped: no budget for another page")
            return {
                "last_action": "read",
                "halt": "budget left only for the final answer",
                "diary": [line],
            }
        question = state.get("question") or state["original_question"]
        reading = await read_urls(tools, state, ctx, urls, question)
        summary = f"read {len(reading.pages)} of {len(urls)} URLs"
        emit(state, "read-done", summary.capitalize() + ".")
        stalled = state.get("stalled_steps", 0)
        if reading.pages:
            stalled = 0
        elif not urls:
            stalled += 1
        failed = reading.failed
        return {
            "last_action": "read",
            "must_read": [],
            "stalled_steps": stalled,
            "diary": [
                *reading.notes.diary,
                diary_line(state, summary + (f"; failed: {failed}" if failed else "")),
            ],
            **reading.update(),
        }

    return read
