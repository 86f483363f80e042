"""DeepSearch: a LangGraph agent that searches, reads and reasons until it can prove its answer."""

from __future__ import annotations

from typing import Any

from deepsearch.api import DeepSearchResult, aask, ask, astream_run, build_graph
from deepsearch.context import Context

__all__ = ["Context", "DeepSearchResult", "aask", "ask", "astream_run", "build_graph", "graph"]


def __getattr__(name: str) -> Any:
    if name == "graph":  # built on first use, so importing the package stays cheap
        from deepsearch.agent import graph

        return graph
    raise AttributeError(name)
