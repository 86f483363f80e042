"""DeepSearch: a LangGraph agent that searches, reads and reasons until it can prove its answer."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deepsearch.api import DeepSearchResult, aask, ask, astream_run, build_graph
    from deepsearch.context import Context

__all__ = ["Context", "DeepSearchResult", "aask", "ask", "astream_run", "build_graph", "graph"]

# Imported on first use, so `import deepsearch` (and the CLI's start-up) stays cheap.
_LAZY = {
    "Context": "deepsearch.context",
    "DeepSearchResult": "deepsearch.api",
    "aask": "deepsearch.api",
    "ask": "deepsearch.api",
    "astream_run": "deepsearch.api",
    "build_graph": "deepsearch.api",
    "graph": "deepsearch.agent",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'deepsearch' has no attribute {name!r}")
    return getattr(import_module(module), name)
