"""Progress for humans, through LangGraph's custom stream.

Every event is a small dict: ``{"type": "progress", "kind", "text", "step", "worker", ...}``.
The server turns events into the ``<think>`` stream, the CLI into a live view, and
Studio shows them as they come.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langgraph.config import get_stream_writer


def emit(state: Mapping[str, Any], kind: str, text: str, **data: Any) -> None:
    """Send one progress event for the run that ``state`` belongs to (no-op outside a run)."""
    try:
        writer = get_stream_writer()
    except RuntimeError:  # called outside a graph run
        return
    event = {
        "type": "progress",
        "kind": kind,
        "text": text,
        "step": state.get("step", 0),
        "worker": state.get("worker"),
        "tokens_used": state.get("tokens_used", 0),
        "budget_tokens": state.get("budget_tokens", 0),
        **data,
    }
    writer(event)
