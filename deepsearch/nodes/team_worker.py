"""Run the research loop as a subgraph: one worker of a team.

The loop is invoked from inside a node, and its progress events are forwarded to
the parent's custom stream: LangGraph does not pass a subgraph's custom events to a
parent streamed without ``subgraphs=True``, and callers such as ``astream_run``
stream that way. A worker never raises: a failure becomes a report the merge reads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from langgraph.config import get_stream_writer
from langgraph.errors import GraphBubbleUp
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from deepsearch.budget import reserve_reached
from deepsearch.context import Context
from deepsearch.nodes.common import NodeFn, run_options
from deepsearch.progress import emit
from deepsearch.state.team import WorkerReport, WorkerStatus, WorkerTask


async def run_loop(
    loop: CompiledStateGraph[Any, Any, Any, Any],
    loop_input: Mapping[str, Any],
    context: Any,
    final: dict[str, Any],
    token_cap: int | None = None,
) -> bool:
    """Run ``loop``, forwarding its progress events; ``final`` gets its latest values.

    ``final`` is filled as the run goes, so a caller still has the state reached
    before a failure. With ``token_cap`` (a worker's budget share), a loop without an
    answer yet is stopped between steps, and True is returned, once it reaches the
    share's final reserve (where it would start beast mode) or once its costliest step
    so far would no longer fit in the share.
    """
    write = get_stream_writer()
    costliest_step = 0
    # On a resumed checkpointed run, LangGraph resumes the loop at its failed step.
    stream: Any = loop.astream(dict(loop_input), context=context, stream_mode=["custom", "values"])
    async for mode, chunk in stream:
        if mode == "custom":
            write(chunk)
            continue
        used_before = final.get("tokens_used", 0)
        final.clear()
        final.update(chunk)
        used = final.get("tokens_used", 0)
        costliest_step = max(costliest_step, used - used_before)
        halted = bool(final.get("halt"))  # the loop found no room for another step
        if (
            token_cap
            and not final.get("answer")
            and (halted or _share_spent(used, costliest_step, token_cap))
        ):
            await stream.aclose()
            return True
    return False


def _share_spent(used: int, costliest_step: int, share: int) -> bool:
    """Tell whether a worker reached its final reserve, or its next step may not fit."""
    spent = reserve_reached({"budget_tokens": share, "tokens_used": used})
    return spent or used + costliest_step > share


def _status(final: Mapping[str, Any], error: str | None) -> WorkerStatus:
    answer = final.get("answer") or final.get("draft")
    if not answer or not answer.get("text") or answer.get("mode") == "failed":
        return "partial" if final.get("pages") else "failed"
    if error or not final.get("answer") or answer.get("mode") == "beast":
        return "partial"
    return "ok"


def make_worker(loop: CompiledStateGraph[Any, Any, Any, Any]) -> NodeFn:
    """Build the ``worker`` node: one team member researching its own sub-problem."""

    async def worker(task: WorkerTask, runtime: Runtime[Context]) -> dict[str, Any]:
        """Research one sub-problem with its share of the budget; report, never raise."""
        sub = task["subproblem"]
        # A requested JSON answer format applies to the merged answer, not to the parts.
        context = dataclasses.replace(run_options(runtime), response_schema=None)
        final: dict[str, Any] = {}
        share = int(task["loop_input"].get("budget_tokens") or 0)
        error: str | None = None
        error_type: str | None = None
        try:
            # A worker stops where the loop would start beast mode for lack of budget: one
            # merge over every worker's sources costs less than N beast-mode answers.
            if await run_loop(loop, task["loop_input"], context, final, token_cap=share):
                error = "its budget share ran out before an answer; its sources go to the merge"
                emit({**final, "worker": sub["worker"]}, "stopped", f"{sub['worker']}: {error}.")
        except GraphBubbleUp:  # interrupts and the like belong to the graph, not to us
            raise
        except Exception as exc:  # a failing worker must not sink the team
            error, error_type = f"{type(exc).__name__}: {exc}"[:500], type(exc).__name__
            emit({**final, "worker": sub["worker"]}, "error", f"{sub['worker']} failed: {error}")
        answer = final.get("answer") or final.get("draft")  # an unchecked draft beats nothing
        report: WorkerReport = {
            "worker": sub["worker"],
            "question": sub["question"],
            "deliverable": sub["deliverable"],
            "status": _status(final, error),
            "answer": answer if answer and answer.get("text") else None,
            "knowledge": [k for k in final.get("knowledge", []) if k["kind"] == "qa"],
            "pages": dict(final.get("pages", {})),
            "tokens_used": final.get("tokens_used", 0),
            "steps": final.get("step", 0),
            "error": error,
            "error_type": error_type,
        }
        return {
            "reports": [report],
            "visited_urls": list(final.get("visited_urls", [])),
            "read_urls": list(final.get("read_urls", [])),
            "diary": list(final.get("diary", [])),
            "injected_demands": list(final.get("injected_demands", [])),
            "prompt_tokens": final.get("prompt_tokens", 0),
            "completion_tokens": final.get("completion_tokens", 0),
            "tokens_used": final.get("tokens_used", 0),
            "cached_prompt_tokens": final.get("cached_prompt_tokens", 0),
        }

    return worker
